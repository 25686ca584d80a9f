// The TaskStore contract on every selected backend (see
// task_store_fixture.h). Request ids: replays, reuse and idempotency scopes.

#include <iostream>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/task_store.h"
#include "tasks/v1/tasks.pb.h"
#include "tests/storage/task_store_fixture.h"
#include "tests/testing/proto_matchers.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/store_backends.h"
#include "tests/testing/task_builders.h"

namespace tasks::storage {
namespace {

using ::tasks::testing::CreateRequest;
using ::tasks::testing::EqualsProto;
using ::tasks::testing::IsOkAndHolds;
using ::tasks::testing::MaskOf;
using ::tasks::testing::ReasonIs;
using ::tasks::testing::StatusIs;
using ::tasks::testing::StoreLocation;
using ::tasks::testing::TaskBuilder;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;
using Code = ::absl::StatusCode;

TEST_P(TaskStoreTest, BatchReusingARequestIdForAnotherTaskIsRefusedWhole) {
  ASSERT_OK_AND_ASSIGN(v1::Task earlier,
                       store().CreateTask(TaskBuilder("earlier"), "req-old"));
  // Against an earlier create, and within the batch itself.
  v1::BatchCreateTasksRequest request;
  *request.add_requests() = CreateRequest(TaskBuilder("first"), "req-1");
  *request.add_requests() =
      CreateRequest(TaskBuilder("not earlier"), "req-old");
  absl::StatusOr<v1::BatchCreateTasksResponse> refused =
      store().BatchCreateTasks(request);
  std::cout << "FIGURE batch reusing an earlier request_id: "
            << refused.status() << "\n";
  EXPECT_THAT(refused,
              AllOf(StatusIs(Code::kAlreadyExists, HasSubstr("requests[1]")),
                    ReasonIs(reason::kRequestIdReused)));
  request.mutable_requests(1)->set_request_id("req-2");
  *request.add_requests() = CreateRequest(TaskBuilder("second"), "req-1");
  EXPECT_THAT(store().BatchCreateTasks(request),
              AllOf(StatusIs(Code::kAlreadyExists, HasSubstr("requests[2]")),
                    ReasonIs(reason::kRequestIdReused)));
  EXPECT_THAT(ListTitles(), IsOkAndHolds(ElementsAre("earlier")));
}

TEST_P(TaskStoreTest, SameRequestIdInTwoScopesCreatesTwoTasks) {
  ASSERT_OK_AND_ASSIGN(
      v1::Task red,
      store().CreateTask(TaskBuilder("red's"), "req-42", ScopeNamed("red")));
  ASSERT_OK_AND_ASSIGN(
      v1::Task blue,
      store().CreateTask(TaskBuilder("blue's"), "req-42", ScopeNamed("blue")));
  std::cout << "FIGURE request_id req-42 in scopes red and blue: tasks "
            << red.id() << " and " << blue.id() << "\n";
  EXPECT_NE(blue.id(), red.id());
  EXPECT_EQ(blue.title(), "blue's");
  // Each scope replays its own task; the shared scope "" is one more.
  EXPECT_THAT(
      store().CreateTask(TaskBuilder("red's"), "req-42", ScopeNamed("red")),
      IsOkAndHolds(EqualsProto(red)));
  EXPECT_THAT(
      store().CreateTask(TaskBuilder("blue's"), "req-42", ScopeNamed("blue")),
      IsOkAndHolds(EqualsProto(blue)));
  ASSERT_OK(store().CreateTask(TaskBuilder("shared"), "req-42"));
  EXPECT_THAT(ListTitles(),
              IsOkAndHolds(ElementsAre("red's", "blue's", "shared")));
}

TEST_P(TaskStoreTest, BatchRequestIdsAreScopedToo) {
  ASSERT_OK_AND_ASSIGN(
      v1::Task red,
      store().CreateTask(TaskBuilder("red's"), "req-1", ScopeNamed("red")));
  v1::BatchCreateTasksRequest request;
  *request.add_requests() = CreateRequest(TaskBuilder("blue's"), "req-1");
  *request.add_requests() = CreateRequest(TaskBuilder("blue's"), "req-1");
  ASSERT_OK_AND_ASSIGN(v1::BatchCreateTasksResponse response,
                       store().BatchCreateTasks(request, ScopeNamed("blue")));
  ASSERT_EQ(response.tasks_size(), 2);
  EXPECT_NE(response.tasks(0).id(), red.id());
  EXPECT_EQ(response.tasks(0).title(), "blue's");
  EXPECT_THAT(response.tasks(1), EqualsProto(response.tasks(0)));
  // Replayed whole in its scope; another task under the key is refused.
  EXPECT_THAT(store().BatchCreateTasks(request, ScopeNamed("blue")),
              IsOkAndHolds(EqualsProto(response)));
  *request.mutable_requests(1) = CreateRequest(TaskBuilder("red's"), "req-1");
  EXPECT_THAT(store().BatchCreateTasks(request, ScopeNamed("blue")),
              AllOf(StatusIs(Code::kAlreadyExists, HasSubstr("requests[1]")),
                    ReasonIs(reason::kRequestIdReused)));
  EXPECT_THAT(ListTitles(), IsOkAndHolds(ElementsAre("red's", "blue's")));
}

TEST_P(TaskStoreTest, ReplayOfTaskOutsideTheAccessScopeIsNotFound) {
  ASSERT_OK_AND_ASSIGN(v1::Project mine, CreateProject("mine"));
  ASSERT_OK_AND_ASSIGN(v1::Project other, CreateProject("other"));
  Idempotency idempotency = ScopeNamed("blue");
  idempotency.access = AccessScope::Projects({mine.id()});
  const v1::Task draft = TaskBuilder("t").InProject(mine.id());
  ASSERT_OK_AND_ASSIGN(v1::Task first,
                       store().CreateTask(draft, "req-1", idempotency));
  // Moved out of the scope: as if it did not exist, its id and project
  // unnamed.
  ASSERT_OK(store().UpdateTask(
      TaskBuilder("t").WithId(first.id()).InProject(other.id()),
      MaskOf({"project_id"}), kEveryRow));
  absl::StatusOr<v1::Task> hidden =
      store().CreateTask(draft, "req-1", idempotency);
  std::cout << "FIGURE replay of a task moved out of the access scope: "
            << hidden.status() << "\n";
  EXPECT_THAT(hidden, AllOf(StatusIs(Code::kNotFound),
                            ReasonIs(reason::kTaskNotFound)));
  EXPECT_THAT(hidden.status().message(),
              AllOf(Not(HasSubstr(absl::StrCat(first.id()))),
                    Not(HasSubstr("project"))));

  // In a batch the refusal undoes the other creates.
  v1::BatchCreateTasksRequest request;
  *request.add_requests() = CreateRequest(TaskBuilder("new"), "");
  *request.add_requests() = CreateRequest(draft, "req-1");
  EXPECT_THAT(store().BatchCreateTasks(request, idempotency),
              StatusIs(Code::kNotFound, HasSubstr("requests[1]")));
  EXPECT_THAT(ListTitles(), IsOkAndHolds(ElementsAre("t")));

  // Within a scope that reaches it, the replay returns it as it is now.
  idempotency.access = AccessScope::Projects({mine.id(), other.id()});
  ASSERT_OK_AND_ASSIGN(v1::Task replayed,
                       store().CreateTask(draft, "req-1", idempotency));
  EXPECT_EQ(replayed.id(), first.id());
  EXPECT_EQ(replayed.project_id(), other.id());
  // Another task under the key is REQUEST_ID_REUSED wherever the first is.
  idempotency.access = AccessScope::Projects({mine.id()});
  EXPECT_THAT(store().CreateTask(TaskBuilder("u").InProject(mine.id()), "req-1",
                                 idempotency),
              ReasonIs(reason::kRequestIdReused));
}

TEST_P(TaskStoreTest, RepeatedRequestIdReturnsFirstTaskAndCreatesNoSecond) {
  const v1::Task draft = TaskBuilder("Once")
                             .WithStatus(v1::Task::IN_PROGRESS)
                             .WithMetadataJson(R"({"b": [1, 2], "a": "x"})");
  ASSERT_OK_AND_ASSIGN(v1::Task first, store().CreateTask(draft, "req-1"));
  EXPECT_THAT(store().CreateTask(draft, "req-1"),
              IsOkAndHolds(EqualsProto(first)));
  EXPECT_THAT(ListTitles(), IsOkAndHolds(ElementsAre("Once")));
}

TEST_P(TaskStoreTest, ReplayMatchesWhateverOrderItsMetadataWasBuiltIn) {
  v1::Task forward = TaskBuilder("Keys");
  v1::Task backward = forward;
  auto& forward_fields = *forward.mutable_metadata()->mutable_fields();
  auto& backward_fields = *backward.mutable_metadata()->mutable_fields();
  for (int i = 0; i < 50; ++i) {
    forward_fields[absl::StrCat("key ", i)].set_number_value(i);
    backward_fields[absl::StrCat("key ", 49 - i)].set_number_value(49 - i);
  }
  ASSERT_OK_AND_ASSIGN(v1::Task first, store().CreateTask(forward, "req-1"));
  EXPECT_THAT(store().CreateTask(backward, "req-1"),
              IsOkAndHolds(EqualsProto(first)));
}

// A client library that fills in the defaults, or sends nanoseconds the
// store cuts, retries the same request: it makes the same row.
TEST_P(TaskStoreTest, ReplayMatchesDefaultsSpelledOutAndTheStoredMicrosecond) {
  v1::Task bare = TaskBuilder("Defaults");
  bare.mutable_due_time()->set_seconds(1900000000);
  bare.mutable_due_time()->set_nanos(1500);
  v1::Task spelled = TaskBuilder("Defaults")
                         .WithStatus(v1::Task::PENDING)
                         .WithPriority(v1::Task::MEDIUM);
  spelled.mutable_metadata();
  spelled.mutable_due_time()->set_seconds(1900000000);
  spelled.mutable_due_time()->set_nanos(1999);
  ASSERT_OK_AND_ASSIGN(v1::Task first, store().CreateTask(bare, "req-1"));
  EXPECT_THAT(store().CreateTask(spelled, "req-1"),
              IsOkAndHolds(EqualsProto(first)));
  ASSERT_OK_AND_ASSIGN(v1::Task second, store().CreateTask(spelled, "req-2"));
  EXPECT_THAT(store().CreateTask(bare, "req-2"),
              IsOkAndHolds(EqualsProto(second)));
  // Not the same row: another status, or another microsecond.
  v1::Task other = bare;
  other.set_status(v1::Task::IN_PROGRESS);
  EXPECT_THAT(store().CreateTask(other, "req-1"),
              ReasonIs(reason::kRequestIdReused));
  other = bare;
  other.mutable_due_time()->set_nanos(2000);
  EXPECT_THAT(store().CreateTask(other, "req-1"),
              ReasonIs(reason::kRequestIdReused));
}

TEST_P(TaskStoreTest, RequestIdSentWithAnotherTaskIsAlreadyExistsNamingIt) {
  // AIP-155: a request_id stands for one request; sent with another, it is
  // refused rather than answered with the first request's task.
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("p"));
  const v1::Task draft = TaskBuilder("Once")
                             .InProject(project.id())
                             .WithMetadataJson(R"({"k": 1})");
  ASSERT_OK(store().CreateTask(draft, "req-1"));
  std::vector<v1::Task> others(5, draft);
  others[0].set_title("Twice");
  others[1].clear_project_id();
  others[2].set_description("more");
  others[3].set_priority(v1::Task::HIGH);
  (*others[4].mutable_metadata()->mutable_fields())["k"].set_number_value(2);
  for (const v1::Task& other : others) {
    SCOPED_TRACE(other.ShortDebugString());
    absl::StatusOr<v1::Task> refused = store().CreateTask(other, "req-1");
    std::cout << "FIGURE request_id reused with another task: "
              << refused.status() << "\n";
    EXPECT_THAT(refused, AllOf(StatusIs(Code::kAlreadyExists,
                                        HasSubstr("request_id \"req-1\"")),
                               ReasonIs(reason::kRequestIdReused)));
  }
  EXPECT_THAT(ListTitles(), IsOkAndHolds(ElementsAre("Once")));
}

TEST_P(TaskStoreTest, DistinctOrEmptyRequestIdsCreateDistinctTasks) {
  ASSERT_OK(store().CreateTask(TaskBuilder("a"), "req-a"));
  ASSERT_OK(store().CreateTask(TaskBuilder("b"), "req-b"));
  ASSERT_OK(store().CreateTask(TaskBuilder("c"), ""));
  ASSERT_OK(store().CreateTask(TaskBuilder("d"), ""));
  EXPECT_THAT(ListTitles(), IsOkAndHolds(ElementsAre("a", "b", "c", "d")));
}

TEST_P(TaskStoreTest,
       ConcurrentCreatesOfOneRequestIdWithOtherTasksHaveOneWinner) {
  ASSERT_OK_AND_ASSIGN(TaskStorePtr store,
                       OpenFreshStore(StoreLocation::kShared));
  constexpr int kThreads = 8;
  std::vector<absl::StatusOr<v1::Task>> results(kThreads);
  RunThreads(kThreads, [&](int i) {
    results[i] = store->CreateTask(TaskBuilder(absl::StrCat("task ", i)),
                                   "same-request", ScopeNamed("blue"));
  });
  int winners = 0;
  for (const absl::StatusOr<v1::Task>& result : results) {
    if (result.ok()) {
      ++winners;
    } else {
      EXPECT_THAT(result, ReasonIs(reason::kRequestIdReused));
    }
  }
  EXPECT_EQ(winners, 1);
  EXPECT_THAT(ListAllTasks(*store, v1::ListTasksRequest()),
              IsOkAndHolds(SizeIs(1)));
}

TEST_P(TaskStoreTest, ConcurrentCreatesWithOneRequestIdCreateOneTask) {
  ASSERT_OK_AND_ASSIGN(TaskStorePtr store,
                       OpenFreshStore(StoreLocation::kShared));
  constexpr int kThreads = 8;
  std::vector<absl::StatusOr<v1::Task>> results(kThreads);
  RunThreads(kThreads, [&](int i) {
    results[i] = store->CreateTask(TaskBuilder("Once"), "same-request");
  });
  for (const absl::StatusOr<v1::Task>& result : results) {
    ASSERT_OK(result);
    EXPECT_EQ(result->id(), results[0]->id());
  }
  EXPECT_THAT(ListAllTasks(*store, v1::ListTasksRequest()),
              IsOkAndHolds(SizeIs(1)));
}

}  // namespace
}  // namespace tasks::storage
