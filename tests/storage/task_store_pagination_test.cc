// The TaskStore contract on every selected backend (see
// task_store_fixture.h). Pagination: orders, page tokens and their checks.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tasks/v1/tasks.pb.h"
#include "tests/storage/task_store_fixture.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/task_builders.h"

namespace tasks::storage {
namespace {

using ::tasks::testing::IsOkAndHolds;
using ::tasks::testing::ReasonIs;
using ::tasks::testing::StatusIs;
using ::tasks::testing::TaskBuilder;
using ::tasks::testing::ValueFromJson;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::SizeIs;
using Code = ::absl::StatusCode;

TEST_P(TaskStoreTest, PagesWithInsertsBetweenLoseAndRepeatNothingInEveryOrder) {
  const std::vector<std::string> kTitles = {"kiwi",   "apple",  "mango",
                                            "banana", "cherry", "fig",
                                            "grape",  "lemon",  "date"};
  const v1::Task::Priority kPriorities[] = {v1::Task::LOW, v1::Task::HIGH,
                                            v1::Task::MEDIUM};
  for (const char* order_by : kOrderBys) {
    SCOPED_TRACE(absl::StrCat("order_by=\"", order_by, "\""));
    ASSERT_OK_AND_ASSIGN(v1::Project project,
                         CreateProject(absl::StrCat("order ", order_by)));
    std::set<int64_t> originals;
    for (size_t i = 0; i < kTitles.size(); ++i) {
      ASSERT_OK_AND_ASSIGN(v1::Task task,
                           CreateTask(TaskBuilder(kTitles[i])
                                          .InProject(project.id())
                                          .WithPriority(kPriorities[i % 3])));
      originals.insert(task.id());
    }

    v1::ListTasksRequest request = TasksInProject(project.id());
    request.set_order_by(order_by);
    request.set_page_size(2);
    std::vector<v1::Task> seen;
    for (int page = 0; page < 50; ++page) {
      ASSERT_OK_AND_ASSIGN(v1::ListTasksResponse response,
                           store().ListTasks(request));
      EXPECT_LE(response.tasks_size(), 2);
      seen.insert(seen.end(), response.tasks().begin(), response.tasks().end());
      // One task sorting early and one late, in every order.
      ASSERT_OK(CreateTask(
          TaskBuilder(absl::StrCat(page % 2 ? "zz" : "aa", " new ", page))
              .InProject(project.id())
              .WithPriority(kPriorities[page % 3])));
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }

    std::vector<int64_t> ids = Ids(seen);
    std::set<int64_t> unique(ids.begin(), ids.end());
    EXPECT_EQ(unique.size(), ids.size()) << "a task was listed twice";
    for (int64_t id : originals) {
      EXPECT_EQ(unique.count(id), 1u) << "task " << id << " was never listed";
    }
    for (size_t i = 1; i < seen.size(); ++i) {
      EXPECT_TRUE(InOrder(seen[i - 1], seen[i], order_by))
          << seen[i - 1].ShortDebugString() << "\nlisted before\n"
          << seen[i].ShortDebugString();
    }
  }
}

TEST_P(TaskStoreTest, EveryOrderSortsAllTasksOnOnePage) {
  ASSERT_OK(CreateTask(TaskBuilder("b").WithPriority(v1::Task::LOW)));
  ASSERT_OK(CreateTask(TaskBuilder("c").WithPriority(v1::Task::HIGH)));
  ASSERT_OK(CreateTask(TaskBuilder("a").WithPriority(v1::Task::MEDIUM)));
  const std::map<std::string, std::vector<std::string>> kExpected = {
      {"", {"b", "c", "a"}},
      {"create_time", {"b", "c", "a"}},
      {"create_time desc", {"a", "c", "b"}},
      {"priority desc", {"c", "a", "b"}},
      {"title", {"a", "b", "c"}},
  };
  for (const auto& [order_by, titles] : kExpected) {
    SCOPED_TRACE(order_by);
    v1::ListTasksRequest request;
    request.set_order_by(order_by);
    EXPECT_THAT(ListTitles(request), IsOkAndHolds(ElementsAreArray(titles)));
  }
}

TEST_P(TaskStoreTest, LastPageHasNoNextPageToken) {
  for (const char* title : {"a", "b", "c"}) {
    ASSERT_OK(CreateTask(TaskBuilder(title)));
  }
  v1::ListTasksRequest request;
  request.set_page_size(2);
  ASSERT_OK_AND_ASSIGN(v1::ListTasksResponse first, store().ListTasks(request));
  EXPECT_THAT(first.tasks(), SizeIs(2));
  ASSERT_FALSE(first.next_page_token().empty());

  request.set_page_token(first.next_page_token());
  ASSERT_OK_AND_ASSIGN(v1::ListTasksResponse last, store().ListTasks(request));
  EXPECT_THAT(last.tasks(), SizeIs(1));
  EXPECT_EQ(last.next_page_token(), "");
}

TEST_P(TaskStoreTest, PageTokenAcceptsAnotherPageSize) {
  for (const char* title : {"a", "b", "c", "d"}) {
    ASSERT_OK(CreateTask(TaskBuilder(title)));
  }
  v1::ListTasksRequest request;
  request.set_page_size(1);
  ASSERT_OK_AND_ASSIGN(v1::ListTasksResponse first, store().ListTasks(request));
  request.set_page_size(10);
  request.set_page_token(first.next_page_token());
  ASSERT_OK_AND_ASSIGN(v1::ListTasksResponse rest, store().ListTasks(request));
  EXPECT_THAT(Titles({rest.tasks().begin(), rest.tasks().end()}),
              ElementsAre("b", "c", "d"));
}

TEST_P(TaskStoreTest, TamperedPageTokenIsInvalidArgument) {
  for (const char* title : {"a", "b", "c"}) {
    ASSERT_OK(CreateTask(TaskBuilder(title)));
  }
  v1::ListTasksRequest request;
  request.set_page_size(1);
  ASSERT_OK_AND_ASSIGN(v1::ListTasksResponse first, store().ListTasks(request));
  const std::string token = first.next_page_token();
  ASSERT_FALSE(token.empty());

  // Flipping the top bit of a base64 digit always changes a payload bit.
  auto flip = [](std::string text, size_t at) {
    static const std::string kDigits =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t digit = kDigits.find(text[at]);
    text[at] =
        digit == std::string::npos ? text[at] ^ 0x01 : kDigits[digit ^ 32];
    return text;
  };
  const std::vector<std::string> kBad = {
      flip(token, 0),
      flip(token, token.size() / 2),
      token.substr(0, token.size() / 2),
      token.substr(0, token.size() - 1),
      token + token,
      "1",
      "AAAAAAAAAAAAAAAAAAAAAAAA",
      "eyJsYXN0X2lkIjogMX0=",  // base64 of {"last_id": 1}
      "not a page token!",
  };
  for (const std::string& bad : kBad) {
    SCOPED_TRACE(bad);
    request.set_page_token(bad);
    EXPECT_THAT(store().ListTasks(request),
                AllOf(StatusIs(Code::kInvalidArgument),
                      ReasonIs(reason::kInvalidPageToken)));
  }
}

TEST_P(TaskStoreTest, PageTokenReusedWithOtherFiltersIsInvalidArgument) {
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Work"));
  for (const char* title : {"a", "b", "c"}) {
    ASSERT_OK(CreateTask(TaskBuilder(title)
                             .InProject(project.id())
                             .WithMetadataJson(R"({"k": "v"})")));
  }
  v1::ListTasksRequest request;
  request.set_page_size(1);
  request.set_status(v1::Task::PENDING);
  ASSERT_OK_AND_ASSIGN(v1::ListTasksResponse first, store().ListTasks(request));
  request.set_page_token(first.next_page_token());
  ASSERT_FALSE(request.page_token().empty());
  ASSERT_OK(store().ListTasks(request));

  std::vector<std::pair<std::string, v1::ListTasksRequest>> changed;
  changed.emplace_back("other status", request);
  changed.back().second.set_status(v1::Task::COMPLETED);
  changed.emplace_back("no status", request);
  changed.back().second.clear_status();
  changed.emplace_back("priority", request);
  changed.back().second.set_priority(v1::Task::MEDIUM);
  changed.emplace_back("project", request);
  changed.back().second.set_project_id(project.id());
  changed.emplace_back("order_by", request);
  changed.back().second.set_order_by("title");
  changed.emplace_back("metadata", request);
  changed.back().second.set_metadata_key("k");
  *changed.back().second.mutable_metadata_value() = ValueFromJson(R"("v")");
  for (const auto& [what, other] : changed) {
    SCOPED_TRACE(what);
    EXPECT_THAT(store().ListTasks(other),
                AllOf(StatusIs(Code::kInvalidArgument),
                      ReasonIs(reason::kInvalidPageToken)));
  }
}

TEST_P(TaskStoreTest, ProjectPageTokenIsInvalidForTasks) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(CreateProject(absl::StrCat("Project ", i)));
    ASSERT_OK(CreateTask(TaskBuilder(absl::StrCat("Task ", i))));
  }
  ASSERT_OK_AND_ASSIGN(v1::ListProjectsResponse projects,
                       store().ListProjects(1, ""));
  ASSERT_FALSE(projects.next_page_token().empty());
  v1::ListTasksRequest request;
  request.set_page_size(1);
  request.set_page_token(projects.next_page_token());
  EXPECT_THAT(store().ListTasks(request),
              AllOf(StatusIs(Code::kInvalidArgument),
                    ReasonIs(reason::kInvalidPageToken)));
}

TEST_P(TaskStoreTest, UnknownOrderByIsInvalidArgument) {
  ASSERT_OK(CreateTask(TaskBuilder("a")));
  for (const char* order_by :
       {"priority", "title desc", "id", "create_time asc desc", "rowid",
        "title; DROP TABLE tasks", "1"}) {
    SCOPED_TRACE(order_by);
    v1::ListTasksRequest request;
    request.set_order_by(order_by);
    EXPECT_THAT(store().ListTasks(request), StatusIs(Code::kInvalidArgument));
  }
  EXPECT_THAT(ListTitles(), IsOkAndHolds(ElementsAre("a")));
}

}  // namespace
}  // namespace tasks::storage
