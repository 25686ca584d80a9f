// The TaskStore contract on every selected backend (see
// task_store_fixture.h). The ListTasks filter (AIP-160), checked against the
// in-memory evaluator.

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "storage/filter/filter.h"
#include "storage/filter/matches.h"
#include "storage/task_store.h"
#include "tasks/v1/tasks.pb.h"
#include "tests/storage/task_store_fixture.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/store_backends.h"
#include "tests/testing/task_builders.h"

namespace tasks::storage {
namespace {

using ::google::protobuf::Timestamp;
using ::tasks::testing::IsOkAndHolds;
using ::tasks::testing::ReasonIs;
using ::tasks::testing::StatusIs;
using ::tasks::testing::TaskBuilder;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Code = ::absl::StatusCode;

// A task's create_time as an RFC 3339 literal of the filter language.
std::string TimeLiteral(const google::protobuf::Timestamp& time) {
  return absl::StrCat(
      "\"",
      absl::FormatTime(
          absl::RFC3339_full,
          absl::FromUnixMicros(time.seconds() * 1000000 + time.nanos() / 1000),
          absl::UTCTimeZone()),
      "\"");
}

std::vector<int64_t> SortedIds(std::vector<int64_t> ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}

TEST_P(TaskStoreTest, ListTasksFilterReturnsExactlyWhatTheEvaluatorMatches) {
  std::vector<int64_t> projects;
  for (const char* name : {"Red", "Green", "Blue"}) {
    ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject(name));
    projects.push_back(project.id());
  }
  const char* const kWords[] = {"draft", "venue", "Draft", "final plan",
                                "caf\xc3\xa9"};
  const char* const kOwners[] = {"\"ana\"", "\"bob\"", "\"Ana\"", "\"li\"",
                                 "null",    "7",       "true"};
  const char* const kNumbers[] = {"1200",     "-2.5",   "0",     "1e21",
                                  "\"1200\"", "1200.5", "false", "[1200]"};
  for (int i = 0; i < 48; ++i) {
    TaskBuilder task(absl::StrCat("Task ", i, " ", kWords[i % 5]));
    if (i % 7 != 6) task.InProject(projects[i % 3]);
    task.WithDescription(absl::StrCat("about the ", kWords[(i / 2) % 5]));
    task.WithStatus(static_cast<v1::Task::Status>(i % 3 + 1));
    task.WithPriority(static_cast<v1::Task::Priority>((i / 3) % 3 + 1));
    std::string metadata = "{";
    if (i % 4 != 3)
      absl::StrAppend(&metadata, "\"owner\": ", kOwners[i % 7], ",");
    if (i % 5 != 4)
      absl::StrAppend(&metadata, "\"budget\": ", kNumbers[i % 8], ",");
    if (i % 3 == 0) {
      absl::StrAppend(&metadata, "\"review\": {\"by\": ", kOwners[(i / 3) % 7],
                      ", \"score\": ", i % 6, "},");
    }
    if (i % 6 == 1) absl::StrAppend(&metadata, "\"review\": \"later\",");
    absl::StrAppend(&metadata, "\"done\": ", i % 2 == 0 ? "true" : "false",
                    "}");
    task.WithMetadataJson(metadata);
    ASSERT_OK(CreateTask(task));
  }
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Task> all, ListAllTasks());
  ASSERT_EQ(all.size(), 48u);

  std::vector<std::string> filters = {
      "",
      "id > 10 AND id <= 20",
      "id != 5",
      absl::StrCat("project_id = ", projects[0]),
      absl::StrCat("project_id != ", projects[0]),
      absl::StrCat("NOT project_id > ", projects[0]),
      absl::StrCat("(project_id = ", projects[1],
                   " OR project_id = ", projects[2], ") AND NOT title:draft"),
      "status = PENDING",
      "status >= IN_PROGRESS",
      "priority >= HIGH",
      "priority < HIGH AND status != COMPLETED",
      "status = PENDING AND priority >= HIGH AND metadata.owner = \"ana\"",
      "title:draft",
      "title:Draft OR description:draft",
      "-title:\"final plan\"",
      "title > \"Task 3\"",
      "title <= \"Task 2\"",
      "title = \"Task 4 caf\xc3\xa9\"",
      "title:\"caf\xc3\xa9\"",
      "description:venue",
      absl::StrCat("create_time > ", TimeLiteral(all[20].create_time())),
      absl::StrCat("create_time <= ", TimeLiteral(all[10].create_time()),
                   " OR update_time >= ", TimeLiteral(all[40].update_time())),
      absl::StrCat("create_time = ", TimeLiteral(all[7].create_time())),
      "create_time < \"2000-01-01T00:00:00Z\"",
      "metadata.owner = ana",
      "metadata.owner != ana",
      "metadata.owner > \"Zed\"",
      "metadata.owner < \"b\"",
      "metadata.owner = null",
      "metadata.owner != null",
      "metadata.owner = 7",
      "metadata.owner = \"7\"",
      "metadata.owner = true",
      "metadata.owner:*",
      "NOT metadata.owner:*",
      "metadata.budget = 1200",
      "metadata.budget = \"1200\"",
      "metadata.budget >= 1200",
      "metadata.budget < 0",
      "metadata.budget > 1e20",
      "metadata.budget <= -2.5",
      "metadata.budget = false",
      "metadata.budget != 0",
      "metadata.budget:*",
      "metadata.review.by = li",
      "metadata.review.by:*",
      "metadata.review.score >= 3",
      "metadata.review = later",
      "metadata.review:*",
      "metadata.review.by.x:*",
      "metadata.done = true",
      "metadata.done != false",
      "metadata.missing = null",
      "metadata.missing != 1",
      "NOT (metadata.done = true OR priority = LOW)",
      "metadata.done = true AND status = PENDING OR priority = LOW",
      "-(-status = PENDING)",
      "NOT NOT metadata.budget > 100",
      "(title:Task AND (metadata.owner = bob OR metadata.budget = 0)) OR id = "
      "1",
  };
  int agreeing = 0;
  int matched = 0;
  for (size_t f = 0; f < filters.size(); ++f) {
    SCOPED_TRACE(filters[f]);
    ASSERT_OK_AND_ASSIGN(storage::filter::Node parsed,
                         storage::filter::ParseFilter(filters[f]));
    std::vector<int64_t> expected;
    for (const v1::Task& task : all) {
      if (storage::filter::Matches(parsed, task)) expected.push_back(task.id());
    }
    // Every order, pages of 5: the filter with order_by and page tokens.
    const char* order_by = kOrderBys[f % 5];
    v1::ListTasksRequest request;
    request.set_filter(filters[f]);
    request.set_order_by(order_by);
    ASSERT_OK_AND_ASSIGN(std::vector<v1::Task> listed,
                         ListAllTasks(store(), request, 5));
    for (size_t i = 1; i < listed.size(); ++i) {
      EXPECT_TRUE(InOrder(listed[i - 1], listed[i], order_by));
    }
    EXPECT_EQ(SortedIds(Ids(listed)), expected);
    if (SortedIds(Ids(listed)) == expected) ++agreeing;
    matched += static_cast<int>(expected.size());
  }
  std::cout << "FIGURE filters agreeing with the in-memory evaluator on "
            << ::tasks::testing::StoreBackendName(backend()) << ": " << agreeing
            << " of " << filters.size() << " over " << all.size() << " tasks ("
            << matched << " matches)\n";
}

TEST_P(TaskStoreTest, ListTasksFilterAndsWithTypedFiltersAndAccessScope) {
  ASSERT_OK_AND_ASSIGN(v1::Project mine, CreateProject("Mine"));
  ASSERT_OK_AND_ASSIGN(v1::Project theirs, CreateProject("Theirs"));
  ASSERT_OK(CreateTask(TaskBuilder("Mine high")
                           .InProject(mine.id())
                           .WithPriority(v1::Task::HIGH)));
  ASSERT_OK(CreateTask(TaskBuilder("Mine low")
                           .InProject(mine.id())
                           .WithPriority(v1::Task::LOW)));
  ASSERT_OK(CreateTask(TaskBuilder("Theirs high")
                           .InProject(theirs.id())
                           .WithPriority(v1::Task::HIGH)));

  v1::ListTasksRequest request;
  request.set_filter(
      absl::StrCat("priority = HIGH OR project_id = ", theirs.id()));
  request.set_page_size(10);
  ASSERT_OK_AND_ASSIGN(
      v1::ListTasksResponse scoped,
      store().ListTasks(request, AccessScope::Projects({mine.id()})));
  EXPECT_THAT(Titles({scoped.tasks().begin(), scoped.tasks().end()}),
              ElementsAre("Mine high"));

  request.set_status(v1::Task::PENDING);
  request.set_project_id(theirs.id());
  EXPECT_THAT(ListTitles(request), IsOkAndHolds(ElementsAre("Theirs high")));
}

TEST_P(TaskStoreTest, ListTasksPageTokenOfOneFilterIsRefusedForAnother) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(CreateTask(TaskBuilder(absl::StrCat("Task ", i))));
  }
  v1::ListTasksRequest request;
  request.set_filter("title:Task");
  request.set_page_size(1);
  ASSERT_OK_AND_ASSIGN(v1::ListTasksResponse first, store().ListTasks(request));
  ASSERT_FALSE(first.next_page_token().empty());
  request.set_page_token(first.next_page_token());
  EXPECT_OK(store().ListTasks(request));
  request.set_filter("title:Tas");
  EXPECT_THAT(store().ListTasks(request),
              AllOf(StatusIs(Code::kInvalidArgument),
                    ReasonIs(reason::kInvalidPageToken)));
}

TEST_P(TaskStoreTest, ListTasksWithMalformedFilterIsInvalidArgumentOnFilter) {
  v1::ListTasksRequest request;
  request.set_filter("status = DONE");
  absl::StatusOr<v1::ListTasksResponse> response = store().ListTasks(request);
  EXPECT_THAT(response,
              StatusIs(Code::kInvalidArgument, HasSubstr("at position 10")));
  EXPECT_EQ(ErrorField(response.status()), "filter");
}

}  // namespace
}  // namespace tasks::storage
