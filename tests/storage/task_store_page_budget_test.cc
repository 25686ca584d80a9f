// The TaskStore contract on every selected backend (see
// task_store_fixture.h). The page byte budget of ListTasks and ListProjects.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/soci_task_store.h"
#include "storage/task_store.h"
#include "tasks/v1/tasks.pb.h"
#include "tests/storage/task_store_fixture.h"
#include "tests/testing/raw_sql.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/store_backends.h"
#include "tests/testing/task_builders.h"

namespace tasks::storage {
namespace {

using ::tasks::testing::FreshStoreDatabase;
using ::tasks::testing::ProjectNamed;
using ::tasks::testing::QueryRawSql;
using ::tasks::testing::StoreLocation;
using ::tasks::testing::TaskBuilder;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::SizeIs;

// 10,000 four-byte characters: the longest description, 40,000 bytes.
std::string LongestDescription() {
  std::string text;
  for (int i = 0; i < 10000; ++i) text += "\xF0\x9F\x98\x80";
  return text;
}

// The page sizes kListPageByteBudget gives rows of `row_bytes` stored bytes
// (page_size 1000): a row joins a page while the page's bytes stay within the
// budget, and the first row of a page always does.
std::vector<int> BudgetedPageSizes(const std::vector<size_t>& row_bytes) {
  std::vector<int> pages;
  size_t used = 0;
  for (size_t bytes : row_bytes) {
    if (pages.empty() || used + bytes > kListPageByteBudget) {
      pages.push_back(0);
      used = 0;
    }
    ++pages.back();
    used += bytes;
  }
  return pages;
}

TEST_P(TaskStoreTest, ListTasksPageStopsAtByteBudgetAndTokenContinuesAfterIt) {
  ASSERT_OK_AND_ASSIGN(std::string connection,
                       FreshStoreDatabase(backend(), StoreLocation::kShared));
  ASSERT_OK_AND_ASSIGN(TaskStorePtr store, OpenSociTaskStore(connection));
  const std::string description = LongestDescription();
  // Stored bytes in id order: each task 40,000 + title + "{}", and between
  // them a row larger than the whole budget, as stored before the caps.
  std::vector<size_t> row_bytes;
  auto create = [&](int i) -> absl::Status {
    // Titles against id order, priorities in runs, for the other orders.
    std::string title = absl::StrCat("row-", 99 - i);
    RETURN_IF_ERROR(
        store
            ->CreateTask(
                TaskBuilder(title)
                    .WithDescription(description)
                    .WithPriority(static_cast<v1::Task::Priority>(1 + i % 3)),
                "")
            .status());
    row_bytes.push_back(title.size() + description.size() + 2);
    return absl::OkStatus();
  };
  for (int i = 0; i < 10; ++i) ASSERT_OK(create(i));
  const std::string big(kListPageByteBudget + 40000, 'b');
  ASSERT_OK(QueryRawSql(
      backend(), connection,
      absl::StrCat("INSERT INTO tasks (title, metadata) VALUES ('row-big', "
                   "'{\"big\":\"",
                   big, "\"}')")));
  row_bytes.push_back(7 + big.size() + 10);
  for (int i = 10; i < 20; ++i) ASSERT_OK(create(i));

  for (const char* order_by : kOrderBys) {
    SCOPED_TRACE(order_by);
    v1::ListTasksRequest request;
    request.set_order_by(order_by);
    // One task per page: the budget plays no part.
    ASSERT_OK_AND_ASSIGN(std::vector<v1::Task> expected,
                         ListAllTasks(*store, request, 1));
    ASSERT_THAT(expected, SizeIs(21));
    std::vector<v1::Task> seen;
    std::vector<int> page_sizes;
    request.set_page_size(1000);
    for (int page = 0; page < 100; ++page) {
      ASSERT_OK_AND_ASSIGN(v1::ListTasksResponse response,
                           store->ListTasks(request));
      page_sizes.push_back(response.tasks_size());
      seen.insert(seen.end(), response.tasks().begin(), response.tasks().end());
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    // Nothing lost or repeated, in the order's sequence.
    EXPECT_THAT(Ids(seen), ElementsAreArray(Ids(expected)));
    if (absl::string_view(order_by).empty()) {
      EXPECT_THAT(page_sizes, ElementsAreArray(BudgetedPageSizes(row_bytes)));
      EXPECT_THAT(page_sizes, ElementsAre(6, 4, 1, 6, 4));
    }
  }
}

TEST_P(TaskStoreTest,
       ListProjectsPageStopsAtByteBudgetAndTokenContinuesAfterIt) {
  const std::string description = LongestDescription();
  std::vector<int64_t> created;
  std::vector<size_t> row_bytes;
  for (int i = 0; i < 14; ++i) {
    v1::Project project = ProjectNamed(absl::StrCat("p-", i));
    project.set_description(description);
    ASSERT_OK_AND_ASSIGN(v1::Project stored, store().CreateProject(project));
    created.push_back(stored.id());
    row_bytes.push_back(project.name().size() + description.size());
  }
  std::vector<int64_t> seen;
  std::vector<int> page_sizes;
  std::string token;
  for (int page = 0; page < 100; ++page) {
    ASSERT_OK_AND_ASSIGN(v1::ListProjectsResponse response,
                         store().ListProjects(1000, token));
    page_sizes.push_back(response.projects_size());
    for (const v1::Project& project : response.projects()) {
      seen.push_back(project.id());
    }
    token = response.next_page_token();
    if (token.empty()) break;
  }
  EXPECT_THAT(seen, ElementsAreArray(created));
  EXPECT_THAT(page_sizes, ElementsAreArray(BudgetedPageSizes(row_bytes)));
  EXPECT_THAT(page_sizes, ElementsAre(6, 6, 2));
}

}  // namespace
}  // namespace tasks::storage
