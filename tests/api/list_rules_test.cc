#include "api/list_rules.h"

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace tasks::api {
namespace {

using ::tasks::testing::IsOkAndHolds;
using ::tasks::testing::StatusIs;
using ::testing::Eq;

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;

TEST(ResolvePageSizeTest, ZeroIsTheDefaultLargeIsCappedNegativeIsInvalid) {
  EXPECT_THAT(ResolvePageSize(0), IsOkAndHolds(kDefaultPageSize));
  EXPECT_THAT(ResolvePageSize(1), IsOkAndHolds(1));
  EXPECT_THAT(ResolvePageSize(kMaxPageSize), IsOkAndHolds(kMaxPageSize));
  EXPECT_THAT(ResolvePageSize(kMaxPageSize + 1), IsOkAndHolds(kMaxPageSize));
  EXPECT_THAT(ResolvePageSize(INT32_MAX), IsOkAndHolds(kMaxPageSize));
  EXPECT_THAT(ResolvePageSize(-1),
              StatusIs(kInvalid, Eq("page_size: must not be negative")));
  EXPECT_THAT(ResolvePageSize(INT32_MIN), StatusIs(kInvalid));
}

TEST(ClampPageSizeTest, AgreesWithResolvePageSizeAndTakesNegativeAsDefault) {
  for (int size : {0, 1, 49, 50, 51, 999, 1000, 1001, INT32_MAX}) {
    EXPECT_THAT(ResolvePageSize(size), IsOkAndHolds(ClampPageSize(size)))
        << size;
  }
  EXPECT_EQ(ClampPageSize(-1), kDefaultPageSize);
  EXPECT_EQ(ClampPageSize(INT32_MIN), kDefaultPageSize);
}

TEST(TaskListOrdersTest, DefaultFirstThenTheSpellingsTasksProtoPromises) {
  std::vector<std::string> spellings;
  for (const TaskListOrder& order : TaskListOrders()) {
    spellings.emplace_back(order.order_by);
  }
  EXPECT_THAT(spellings,
              ::testing::ElementsAre("", "create_time", "create_time desc",
                                     "priority desc", "title", "due_time",
                                     "due_time desc"));
  const TaskListOrder& id_order = TaskListOrders()[0];
  EXPECT_TRUE(id_order.field.empty());
  EXPECT_FALSE(id_order.descending);
}

TEST(TaskListOrdersTest, EachSpellingIsItsFieldAndDirection) {
  std::set<std::string> seen;
  for (const TaskListOrder& order : TaskListOrders()) {
    EXPECT_TRUE(seen.insert(std::string(order.order_by)).second)
        << "\"" << order.order_by << "\" twice";
    if (order.field.empty()) continue;
    const std::string spelled = order.descending
                                    ? std::string(order.field) + " desc"
                                    : std::string(order.field);
    EXPECT_EQ(order.order_by, spelled);
  }
}

TEST(ParseTaskListOrderTest, FindsEveryListedOrderByItsIndex) {
  for (size_t i = 0; i < TaskListOrders().size(); ++i) {
    EXPECT_THAT(ParseTaskListOrder(TaskListOrders()[i].order_by),
                IsOkAndHolds(static_cast<int>(i)));
  }
}

// tasks.proto promises these spellings exactly; a page token binds the
// order as spelled, and the listed orders are the only ones clients see
// documented.
TEST(ParseTaskListOrderTest, OtherSpellingsAreInvalid) {
  for (const char* order_by :
       {"Title", "TITLE", "title asc", " title", "title ", "create_time  desc",
        "create_time DESC", "priority", "title desc", "id", "rowid",
        "create_time asc desc", "title; DROP TABLE tasks", "1"}) {
    EXPECT_THAT(ParseTaskListOrder(order_by), StatusIs(kInvalid))
        << "\"" << order_by << "\"";
  }
}

TEST(ParseTaskListOrderTest, MessageQuotesTheValueAndListsTheOrders) {
  EXPECT_THAT(ParseTaskListOrder("titel"),
              StatusIs(kInvalid, Eq("order_by: unknown ordering \"titel\"; use "
                                    "\"create_time\", \"create_time desc\", "
                                    "\"priority desc\", \"title\", "
                                    "\"due_time\" or \"due_time desc\"")));
}

}  // namespace
}  // namespace tasks::api
