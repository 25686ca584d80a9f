// The TaskStore contract, checked on every backend the binary is built for
// (TASKS_TEST_STORE_BACKENDS): in-memory SQLite and a real PostgreSQL server.
// Each test gets a fresh, empty database; tests that need several
// connections or a reopenable database use a SQLite file instead of
// `:memory:`.

#include "storage/task_store.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/metadata_limits.h"
#include "common/error_reason.h"
#include "common/status_macros.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "storage/filter/filter.h"
#include "storage/filter/matches.h"
#include "storage/soci_task_store.h"
#include "tasks/v1/tasks.pb.h"
#include "tests/testing/proto_matchers.h"
#include "tests/testing/raw_sql.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/store_backends.h"
#include "tests/testing/task_builders.h"

namespace tasks::storage {
namespace {

using ::google::protobuf::Timestamp;
using ::google::protobuf::util::TimeUtil;
using ::tasks::testing::CreateRequest;
using ::tasks::testing::EqualsProto;
using ::tasks::testing::FreshStoreDatabase;
using ::tasks::testing::IsOkAndHolds;
using ::tasks::testing::JsonOfBytes;
using ::tasks::testing::MaskOf;
using ::tasks::testing::NullList;
using ::tasks::testing::ProjectNamed;
using ::tasks::testing::QueryRawSql;
using ::tasks::testing::ReasonIs;
using ::tasks::testing::StatusIs;
using ::tasks::testing::StoreBackend;
using ::tasks::testing::StoreLocation;
using ::tasks::testing::TaskBuilder;
using ::tasks::testing::ValueFromJson;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;
using Code = ::absl::StatusCode;

// Calls that may reach every row.
const AccessScope kEveryRow = AccessScope::All();

const bool kEnvironmentRegistered =
    ::tasks::testing::RegisterStoreBackendEnvironment();

// The order_by values ListTasks accepts.
const char* const kOrderBys[] = {"", "create_time", "create_time desc",
                                 "priority desc", "title"};

std::vector<int64_t> Ids(const std::vector<v1::Task>& tasks) {
  std::vector<int64_t> ids;
  for (const v1::Task& task : tasks) ids.push_back(task.id());
  return ids;
}

std::vector<std::string> Titles(const std::vector<v1::Task>& tasks) {
  std::vector<std::string> titles;
  for (const v1::Task& task : tasks) titles.push_back(task.title());
  return titles;
}

// True when `a` may come before `b` in a listing ordered by `order_by`.
bool InOrder(const v1::Task& a, const v1::Task& b, absl::string_view order_by) {
  if (order_by == "create_time") return a.create_time() <= b.create_time();
  if (order_by == "create_time desc") {
    return b.create_time() <= a.create_time();
  }
  if (order_by == "priority desc") return a.priority() >= b.priority();
  if (order_by == "title") return a.title() <= b.title();
  return a.id() < b.id();
}

// An idempotency scope without a replay check.
Idempotency ScopeNamed(const std::string& name) {
  Idempotency idempotency;
  idempotency.scope = name;
  return idempotency;
}

v1::ListTasksRequest TasksInProject(int64_t project_id) {
  v1::ListTasksRequest request;
  request.set_project_id(project_id);
  return request;
}

v1::ListTasksRequest TasksWithMetadata(absl::string_view key,
                                       absl::string_view value_json) {
  v1::ListTasksRequest request;
  request.set_metadata_key(std::string(key));
  *request.mutable_metadata_value() = ValueFromJson(value_json);
  return request;
}

// Collects failures from worker threads, for one assertion at the end.
class ErrorLog {
 public:
  void Add(std::string error) {
    absl::MutexLock lock(&mutex_);
    errors_.push_back(std::move(error));
  }

  std::vector<std::string> errors() {
    absl::MutexLock lock(&mutex_);
    return errors_;
  }

 private:
  absl::Mutex mutex_;
  std::vector<std::string> errors_ ABSL_GUARDED_BY(mutex_);
};

// Runs `body(thread_index)` on `threads` threads at once and joins them.
void RunThreads(int threads, const std::function<void(int)>& body) {
  std::vector<std::thread> workers;
  for (int i = 0; i < threads; ++i) workers.emplace_back(body, i);
  for (std::thread& worker : workers) worker.join();
}

class TaskStoreTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(store_, OpenFreshStore(StoreLocation::kPrivate));
  }

  void TearDown() override {
    store_.reset();
    ::tasks::testing::ReleaseFreshStoreDatabases();
  }

  StoreBackend backend() const { return GetParam(); }

  // The test's store, on a private fresh database (`:memory:` on SQLite).
  TaskStore& store() { return *store_; }

  // A new store on a new, empty database.
  absl::StatusOr<TaskStorePtr> OpenFreshStore(
      StoreLocation location, const SociTaskStoreOptions& options = {}) {
    ASSIGN_OR_RETURN(std::string connection,
                     FreshStoreDatabase(backend(), location));
    return OpenSociTaskStore(connection, options);
  }

  // Every task matching `request`, page by page.
  static absl::StatusOr<std::vector<v1::Task>> ListAllTasks(
      TaskStore& store, v1::ListTasksRequest request, int page_size = 1000) {
    std::vector<v1::Task> tasks;
    request.set_page_size(page_size);
    for (int page = 0; page < 10000; ++page) {
      ASSIGN_OR_RETURN(v1::ListTasksResponse response,
                       store.ListTasks(request));
      tasks.insert(tasks.end(), response.tasks().begin(),
                   response.tasks().end());
      if (response.next_page_token().empty()) return tasks;
      request.set_page_token(response.next_page_token());
    }
    return absl::InternalError("ListTasks never reached its last page");
  }

  absl::StatusOr<std::vector<v1::Task>> ListAllTasks(
      const v1::ListTasksRequest& request = {}) {
    return ListAllTasks(store(), request);
  }

  // Titles of every task matching `request`, in listing order.
  absl::StatusOr<std::vector<std::string>> ListTitles(
      const v1::ListTasksRequest& request = {}) {
    ASSIGN_OR_RETURN(std::vector<v1::Task> tasks, ListAllTasks(request));
    return Titles(tasks);
  }

  absl::StatusOr<v1::Task> CreateTask(const v1::Task& task) {
    return store().CreateTask(task, "");
  }

  absl::StatusOr<v1::Project> CreateProject(absl::string_view name) {
    return store().CreateProject(ProjectNamed(name));
  }

 private:
  TaskStorePtr store_;
};

// ---------------------------------------------------------------------------
// Projects

TEST_P(TaskStoreTest, CreateProjectAssignsIdAndTimes) {
  ASSERT_OK_AND_ASSIGN(v1::Project project,
                       store().CreateProject(ProjectNamed("Home", "chores")));
  EXPECT_GT(project.id(), 0);
  EXPECT_EQ(project.name(), "Home");
  EXPECT_EQ(project.description(), "chores");
  EXPECT_GT(project.create_time().seconds(), 0);
  EXPECT_GE(project.update_time(), project.create_time());
}

TEST_P(TaskStoreTest, GetProjectReturnsTheCreatedProject) {
  ASSERT_OK_AND_ASSIGN(v1::Project project,
                       store().CreateProject(ProjectNamed("Home", "chores")));
  EXPECT_THAT(store().GetProject(project.id()),
              IsOkAndHolds(EqualsProto(project)));
}

TEST_P(TaskStoreTest, GetProjectWithUnknownIdIsNotFound) {
  EXPECT_THAT(store().GetProject(424242),
              AllOf(StatusIs(Code::kNotFound, HasSubstr("424242")),
                    ReasonIs(reason::kProjectNotFound)));
}

TEST_P(TaskStoreTest, UpdateProjectChangesOnlyMaskedFieldsAndUpdateTime) {
  ASSERT_OK_AND_ASSIGN(v1::Project project,
                       store().CreateProject(ProjectNamed("Home", "chores")));
  absl::SleepFor(absl::Milliseconds(5));
  v1::Project change = ProjectNamed("House", "ignored");
  change.set_id(project.id());

  ASSERT_OK_AND_ASSIGN(v1::Project updated,
                       store().UpdateProject(change, MaskOf({"name"})));

  EXPECT_EQ(updated.name(), "House");
  EXPECT_EQ(updated.description(), "chores");
  EXPECT_EQ(updated.create_time(), project.create_time());
  EXPECT_GT(updated.update_time(), project.update_time());
  EXPECT_THAT(store().GetProject(project.id()),
              IsOkAndHolds(EqualsProto(updated)));
}

TEST_P(TaskStoreTest, UpdateProjectWithUnknownIdIsNotFound) {
  v1::Project change = ProjectNamed("House");
  change.set_id(424242);
  EXPECT_THAT(
      store().UpdateProject(change, MaskOf({"name"})),
      AllOf(StatusIs(Code::kNotFound), ReasonIs(reason::kProjectNotFound)));
}

TEST_P(TaskStoreTest, DeleteProjectWithoutTasksRemovesIt) {
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Empty"));
  ASSERT_OK(store().DeleteProject(project.id(), /*cascade=*/false));
  EXPECT_THAT(store().GetProject(project.id()), StatusIs(Code::kNotFound));
}

TEST_P(TaskStoreTest, DeleteProjectWithUnknownIdIsNotFound) {
  for (bool cascade : {false, true}) {
    SCOPED_TRACE(absl::StrCat("cascade=", cascade));
    EXPECT_THAT(
        store().DeleteProject(424242, cascade),
        AllOf(StatusIs(Code::kNotFound), ReasonIs(reason::kProjectNotFound)));
  }
}

TEST_P(TaskStoreTest,
       DeleteProjectWithTasksWithoutCascadeIsFailedPreconditionAndKeepsAll) {
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Busy"));
  ASSERT_OK_AND_ASSIGN(
      v1::Task task, CreateTask(TaskBuilder("Chore").InProject(project.id())));

  EXPECT_THAT(store().DeleteProject(project.id(), /*cascade=*/false),
              AllOf(StatusIs(Code::kFailedPrecondition),
                    ReasonIs(reason::kProjectHasTasks)));

  EXPECT_THAT(store().GetProject(project.id()),
              IsOkAndHolds(EqualsProto(project)));
  EXPECT_THAT(store().GetTask(task.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(task)));
}

TEST_P(TaskStoreTest, DeleteProjectWithCascadeDeletesItsTasksOnly) {
  ASSERT_OK_AND_ASSIGN(v1::Project doomed, CreateProject("Doomed"));
  ASSERT_OK_AND_ASSIGN(v1::Project kept, CreateProject("Kept"));
  ASSERT_OK_AND_ASSIGN(
      v1::Task doomed1,
      CreateTask(TaskBuilder("Task 1").InProject(doomed.id())));
  ASSERT_OK_AND_ASSIGN(
      v1::Task doomed2,
      CreateTask(TaskBuilder("Task 2").InProject(doomed.id())));
  ASSERT_OK_AND_ASSIGN(v1::Task other,
                       CreateTask(TaskBuilder("Task 1").InProject(kept.id())));
  ASSERT_OK_AND_ASSIGN(v1::Task loose, CreateTask(TaskBuilder("Loose")));

  ASSERT_OK(store().DeleteProject(doomed.id(), /*cascade=*/true));

  EXPECT_THAT(store().GetProject(doomed.id()), StatusIs(Code::kNotFound));
  EXPECT_THAT(store().GetTask(doomed1.id(), kEveryRow),
              StatusIs(Code::kNotFound));
  EXPECT_THAT(store().GetTask(doomed2.id(), kEveryRow),
              StatusIs(Code::kNotFound));
  EXPECT_THAT(store().GetProject(kept.id()), IsOkAndHolds(EqualsProto(kept)));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Task> left, ListAllTasks());
  EXPECT_THAT(Ids(left), UnorderedElementsAre(other.id(), loose.id()));
}

TEST_P(TaskStoreTest, ListProjectsPagesInIdOrderWithInsertsBetweenPages) {
  std::vector<int64_t> created;
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK_AND_ASSIGN(v1::Project project,
                         CreateProject(absl::StrCat("Project ", i)));
    created.push_back(project.id());
  }
  std::vector<int64_t> seen;
  std::string token;
  for (int page = 0; page < 20; ++page) {
    ASSERT_OK_AND_ASSIGN(v1::ListProjectsResponse response,
                         store().ListProjects(2, token));
    EXPECT_LE(response.projects_size(), 2);
    for (const v1::Project& project : response.projects()) {
      seen.push_back(project.id());
    }
    if (page < 2) {
      ASSERT_OK_AND_ASSIGN(v1::Project project,
                           CreateProject(absl::StrCat("Later ", page)));
      created.push_back(project.id());
    }
    token = response.next_page_token();
    if (token.empty()) break;
  }
  EXPECT_TRUE(token.empty()) << "never reached the last page";
  // Ids grow, so projects created between pages come after the cursor.
  EXPECT_THAT(seen, ElementsAreArray(created));
}

TEST_P(TaskStoreTest, ListProjectsWithTamperedTokenIsInvalidArgument) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(CreateProject(absl::StrCat("Project ", i)));
  }
  ASSERT_OK_AND_ASSIGN(v1::ListProjectsResponse first,
                       store().ListProjects(1, ""));
  const std::string& token = first.next_page_token();
  ASSERT_FALSE(token.empty());
  ASSERT_OK(store().ListProjects(1, token));

  std::string flipped = token;
  flipped[flipped.size() / 2] ^= 0x01;
  for (const std::string& bad :
       {flipped, token.substr(0, token.size() / 2), token + "A",
        std::string("1"), std::string("not a token")}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(store().ListProjects(1, bad),
                AllOf(StatusIs(Code::kInvalidArgument),
                      ReasonIs(reason::kInvalidPageToken)));
  }
}

// ---------------------------------------------------------------------------
// The page byte budget

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

// ---------------------------------------------------------------------------
// Tasks: create, read, update, delete

TEST_P(TaskStoreTest, CreateTaskAppliesSchemaDefaults) {
  ASSERT_OK_AND_ASSIGN(v1::Task task, CreateTask(TaskBuilder("Minimal")));
  EXPECT_GT(task.id(), 0);
  EXPECT_EQ(task.title(), "Minimal");
  EXPECT_EQ(task.status(), v1::Task::PENDING);
  EXPECT_EQ(task.priority(), v1::Task::MEDIUM);
  EXPECT_FALSE(task.has_project_id());
  EXPECT_EQ(task.description(), "");
  EXPECT_EQ(task.metadata().fields_size(), 0);
  EXPECT_GT(task.create_time().seconds(), 0);
  EXPECT_GE(task.update_time(), task.create_time());
  EXPECT_FALSE(task.etag().empty());
  EXPECT_THAT(store().GetTask(task.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(task)));
}

TEST_P(TaskStoreTest, CreateTaskKeepsEveryGivenField) {
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Work"));
  v1::Task draft = TaskBuilder("Report")
                       .InProject(project.id())
                       .WithDescription("quarterly")
                       .WithStatus(v1::Task::IN_PROGRESS)
                       .WithPriority(v1::Task::HIGH)
                       .WithMetadataJson(R"({"estimate_hours": 4})");
  ASSERT_OK_AND_ASSIGN(v1::Task task, CreateTask(draft));
  EXPECT_EQ(task.project_id(), project.id());
  EXPECT_EQ(task.title(), "Report");
  EXPECT_EQ(task.description(), "quarterly");
  EXPECT_EQ(task.status(), v1::Task::IN_PROGRESS);
  EXPECT_EQ(task.priority(), v1::Task::HIGH);
  EXPECT_THAT(task.metadata(), EqualsProto(draft.metadata()));
  EXPECT_THAT(store().GetTask(task.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(task)));
}

TEST_P(TaskStoreTest, CreateTaskAssignsItsOwnIdTimesAndEtag) {
  Timestamp long_ago;
  long_ago.set_seconds(1000);
  v1::Task draft = TaskBuilder("Fresh").WithId(777777).WithEtag("forged");
  *draft.mutable_create_time() = long_ago;
  *draft.mutable_update_time() = long_ago;

  ASSERT_OK_AND_ASSIGN(v1::Task task, CreateTask(draft));

  EXPECT_NE(task.id(), 777777);
  EXPECT_NE(task.etag(), "forged");
  EXPECT_GT(task.create_time(), long_ago);
  EXPECT_GT(task.update_time(), long_ago);
  EXPECT_THAT(store().GetTask(777777, kEveryRow), StatusIs(Code::kNotFound));
}

TEST_P(TaskStoreTest, GetTaskWithUnknownIdIsNotFound) {
  EXPECT_THAT(store().GetTask(424242, kEveryRow),
              AllOf(StatusIs(Code::kNotFound, HasSubstr("424242")),
                    ReasonIs(reason::kTaskNotFound)));
}

TEST_P(TaskStoreTest, ExtremeIdsAreNotFound) {
  ASSERT_OK(CreateTask(TaskBuilder("t")));
  ASSERT_OK(CreateProject("p"));
  for (int64_t id :
       {int64_t{0}, int64_t{-1}, std::numeric_limits<int64_t>::min(),
        std::numeric_limits<int64_t>::max()}) {
    SCOPED_TRACE(id);
    EXPECT_THAT(store().GetTask(id, kEveryRow), StatusIs(Code::kNotFound));
    EXPECT_THAT(store().DeleteTask(id, kEveryRow), StatusIs(Code::kNotFound));
    EXPECT_THAT(store().UpdateTask(TaskBuilder("x").WithId(id),
                                   MaskOf({"title"}), kEveryRow),
                StatusIs(Code::kNotFound));
    EXPECT_THAT(store().GetProject(id), StatusIs(Code::kNotFound));
    EXPECT_THAT(store().DeleteProject(id, /*cascade=*/true),
                StatusIs(Code::kNotFound));
  }
  EXPECT_THAT(ListTitles(), IsOkAndHolds(ElementsAre("t")));
}

TEST_P(TaskStoreTest, UpdateTaskChangesTitleAndStatusAndEtag) {
  ASSERT_OK_AND_ASSIGN(v1::Task task, CreateTask(TaskBuilder("Original")));
  v1::Task change =
      TaskBuilder("Updated").WithId(task.id()).WithStatus(v1::Task::COMPLETED);

  ASSERT_OK_AND_ASSIGN(
      v1::Task updated,
      store().UpdateTask(change, MaskOf({"title", "status"}), kEveryRow));

  EXPECT_EQ(updated.id(), task.id());
  EXPECT_EQ(updated.title(), "Updated");
  EXPECT_EQ(updated.status(), v1::Task::COMPLETED);
  EXPECT_NE(updated.etag(), task.etag());
  EXPECT_THAT(store().GetTask(task.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(updated)));
}

TEST_P(TaskStoreTest, UpdateTaskTouchesOnlyMaskedFields) {
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Work"));
  ASSERT_OK_AND_ASSIGN(v1::Project other, CreateProject("Other"));
  ASSERT_OK_AND_ASSIGN(v1::Task task,
                       CreateTask(TaskBuilder("Title")
                                      .InProject(project.id())
                                      .WithDescription("description")
                                      .WithStatus(v1::Task::PENDING)
                                      .WithPriority(v1::Task::LOW)
                                      .WithMetadataJson(R"({"a": 1})")));
  v1::Task change = TaskBuilder("Other title")
                        .WithId(task.id())
                        .InProject(other.id())
                        .WithDescription("other description")
                        .WithStatus(v1::Task::COMPLETED)
                        .WithPriority(v1::Task::HIGH)
                        .WithMetadataJson(R"({"b": 2})");

  ASSERT_OK_AND_ASSIGN(
      v1::Task updated,
      store().UpdateTask(change, MaskOf({"priority"}), kEveryRow));

  v1::Task expected = task;
  expected.set_priority(v1::Task::HIGH);
  *expected.mutable_update_time() = updated.update_time();
  expected.set_etag(updated.etag());
  EXPECT_THAT(updated, EqualsProto(expected));
  EXPECT_THAT(store().GetTask(task.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(expected)));
}

TEST_P(TaskStoreTest, UpdateTaskMovesTaskBetweenProjectsAndOutOfAny) {
  ASSERT_OK_AND_ASSIGN(v1::Project first, CreateProject("First"));
  ASSERT_OK_AND_ASSIGN(v1::Project second, CreateProject("Second"));
  ASSERT_OK_AND_ASSIGN(v1::Task task,
                       CreateTask(TaskBuilder("Mover").InProject(first.id())));

  ASSERT_OK_AND_ASSIGN(
      v1::Task moved,
      store().UpdateTask(
          TaskBuilder("Mover").WithId(task.id()).InProject(second.id()),
          MaskOf({"project_id"}), kEveryRow));
  EXPECT_EQ(moved.project_id(), second.id());

  // project_id in the mask but absent from the task: no project.
  ASSERT_OK_AND_ASSIGN(
      v1::Task loose, store().UpdateTask(TaskBuilder("Mover").WithId(task.id()),
                                         MaskOf({"project_id"}), kEveryRow));
  EXPECT_FALSE(loose.has_project_id());
  EXPECT_THAT(store().GetTask(task.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(loose)));
}

TEST_P(TaskStoreTest, UpdateTaskReplacesMetadataWhole) {
  ASSERT_OK_AND_ASSIGN(
      v1::Task task,
      CreateTask(TaskBuilder("Meta").WithMetadataJson(R"({"a": 1, "b": 2})")));
  v1::Task change =
      TaskBuilder("Meta").WithId(task.id()).WithMetadataJson(R"({"c": [3]})");

  ASSERT_OK_AND_ASSIGN(
      v1::Task updated,
      store().UpdateTask(change, MaskOf({"metadata"}), kEveryRow));

  EXPECT_THAT(updated.metadata(), EqualsProto(change.metadata()));
  EXPECT_THAT(store().GetTask(task.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(updated)));
}

TEST_P(TaskStoreTest, UpdateTaskWithMatchingEtagSucceedsAndChangesEtag) {
  ASSERT_OK_AND_ASSIGN(v1::Task task, CreateTask(TaskBuilder("Guarded")));
  v1::Task change = TaskBuilder("Guarded")
                        .WithId(task.id())
                        .WithStatus(v1::Task::IN_PROGRESS)
                        .WithEtag(task.etag());

  ASSERT_OK_AND_ASSIGN(
      v1::Task updated,
      store().UpdateTask(change, MaskOf({"status"}), kEveryRow));

  EXPECT_EQ(updated.status(), v1::Task::IN_PROGRESS);
  EXPECT_NE(updated.etag(), task.etag());
  EXPECT_FALSE(updated.etag().empty());
}

TEST_P(TaskStoreTest, UpdateTaskWithStaleEtagIsAbortedAndRowUnchanged) {
  ASSERT_OK_AND_ASSIGN(v1::Task task, CreateTask(TaskBuilder("Guarded")));
  ASSERT_OK_AND_ASSIGN(
      v1::Task current,
      store().UpdateTask(
          TaskBuilder("Guarded").WithId(task.id()).WithPriority(v1::Task::HIGH),
          MaskOf({"priority"}), kEveryRow));
  ASSERT_NE(current.etag(), task.etag());

  v1::Task stale = TaskBuilder("Clobbered")
                       .WithId(task.id())
                       .WithStatus(v1::Task::COMPLETED)
                       .WithEtag(task.etag());
  EXPECT_THAT(store().UpdateTask(stale, MaskOf({"title", "status"}), kEveryRow),
              AllOf(StatusIs(Code::kAborted), ReasonIs(reason::kEtagMismatch)));

  EXPECT_THAT(store().GetTask(task.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(current)));
}

TEST_P(TaskStoreTest, UpdateTaskWithUnknownIdIsNotFound) {
  EXPECT_THAT(
      store().UpdateTask(TaskBuilder("Ghost").WithId(424242), MaskOf({"title"}),
                         kEveryRow),
      AllOf(StatusIs(Code::kNotFound), ReasonIs(reason::kTaskNotFound)));
}

TEST_P(TaskStoreTest, UpdateTaskToTitleTakenInProjectIsAlreadyExists) {
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Work"));
  ASSERT_OK(CreateTask(TaskBuilder("Taken").InProject(project.id())));
  ASSERT_OK_AND_ASSIGN(v1::Task task,
                       CreateTask(TaskBuilder("Free").InProject(project.id())));

  EXPECT_THAT(
      store().UpdateTask(TaskBuilder("Taken").WithId(task.id()),
                         MaskOf({"title"}), kEveryRow),
      AllOf(StatusIs(Code::kAlreadyExists), ReasonIs(reason::kTitleTaken)));
  EXPECT_THAT(store().GetTask(task.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(task)));
}

TEST_P(TaskStoreTest, UpdateTaskToMissingProjectIsFailedPrecondition) {
  ASSERT_OK_AND_ASSIGN(v1::Task task, CreateTask(TaskBuilder("Loose")));
  EXPECT_THAT(store().UpdateTask(
                  TaskBuilder("Loose").WithId(task.id()).InProject(987654),
                  MaskOf({"project_id"}), kEveryRow),
              AllOf(StatusIs(Code::kFailedPrecondition, HasSubstr("987654")),
                    ReasonIs(reason::kProjectMissing)));
  EXPECT_THAT(store().GetTask(task.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(task)));
}

TEST_P(TaskStoreTest, DeleteTaskRemovesItAndSecondDeleteIsNotFound) {
  ASSERT_OK_AND_ASSIGN(v1::Task task, CreateTask(TaskBuilder("To delete")));
  ASSERT_OK_AND_ASSIGN(v1::Task kept, CreateTask(TaskBuilder("To keep")));

  ASSERT_OK(store().DeleteTask(task.id(), kEveryRow));

  EXPECT_THAT(store().GetTask(task.id(), kEveryRow), StatusIs(Code::kNotFound));
  EXPECT_THAT(
      store().DeleteTask(task.id(), kEveryRow),
      AllOf(StatusIs(Code::kNotFound), ReasonIs(reason::kTaskNotFound)));
  EXPECT_THAT(store().GetTask(kept.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(kept)));
}

TEST_P(TaskStoreTest, DeleteTaskWithUnknownIdIsNotFound) {
  EXPECT_THAT(
      store().DeleteTask(424242, kEveryRow),
      AllOf(StatusIs(Code::kNotFound), ReasonIs(reason::kTaskNotFound)));
}

// ---------------------------------------------------------------------------
// Access scopes: a task outside the caller's projects is out of reach in the
// statement itself, and answered exactly like a task that does not exist.

class ScopedTaskStoreTest : public TaskStoreTest {
 protected:
  void SetUp() override {
    TaskStoreTest::SetUp();
    ASSERT_OK_AND_ASSIGN(mine_, CreateProject("Mine"));
    ASSERT_OK_AND_ASSIGN(theirs_, CreateProject("Theirs"));
    ASSERT_OK_AND_ASSIGN(also_mine_, CreateProject("Also mine"));
    ASSERT_OK_AND_ASSIGN(my_task_,
                         CreateTask(TaskBuilder("mine").InProject(mine_.id())));
    ASSERT_OK_AND_ASSIGN(
        their_task_, CreateTask(TaskBuilder("theirs").InProject(theirs_.id())));
    ASSERT_OK_AND_ASSIGN(loose_task_, CreateTask(TaskBuilder("loose")));
    mine_only_ = AccessScope::Projects({also_mine_.id(), mine_.id()});
  }

  // What a call on a missing task answers, for comparison.
  static auto NotFoundLikeMissing(int64_t id) {
    return AllOf(
        StatusIs(Code::kNotFound, absl::StrCat("task ", id, " not found")),
        ReasonIs(reason::kTaskNotFound));
  }

  // The tasks the scope must not reach, and a missing id.
  std::vector<int64_t> OutOfReach() const {
    return {their_task_.id(), loose_task_.id(), 424242};
  }

  v1::Project mine_, theirs_, also_mine_;
  v1::Task my_task_, their_task_, loose_task_;
  AccessScope mine_only_;
};

TEST_P(ScopedTaskStoreTest, GetTaskReachesOnlyTasksOfTheScope) {
  EXPECT_THAT(store().GetTask(my_task_.id(), mine_only_),
              IsOkAndHolds(EqualsProto(my_task_)));
  for (int64_t id : OutOfReach()) {
    SCOPED_TRACE(id);
    EXPECT_THAT(store().GetTask(id, mine_only_), NotFoundLikeMissing(id));
  }
  EXPECT_THAT(
      store().GetTask(their_task_.id(), AccessScope::Projects({theirs_.id()})),
      IsOkAndHolds(EqualsProto(their_task_)));
  EXPECT_THAT(store().GetTask(my_task_.id(), AccessScope::Projects({})),
              NotFoundLikeMissing(my_task_.id()));
}

TEST_P(ScopedTaskStoreTest, UpdateTaskChangesOnlyTasksOfTheScope) {
  ASSERT_OK_AND_ASSIGN(
      v1::Task updated,
      store().UpdateTask(TaskBuilder("mine, changed").WithId(my_task_.id()),
                         MaskOf({"title"}), mine_only_));
  EXPECT_EQ(updated.title(), "mine, changed");

  for (int64_t id : OutOfReach()) {
    SCOPED_TRACE(id);
    v1::Task change = TaskBuilder("hijacked").WithId(id);
    EXPECT_THAT(store().UpdateTask(change, MaskOf({"title"}), mine_only_),
                NotFoundLikeMissing(id));
    // Neither a current etag, a stale one, nor an empty mask tells that the
    // task exists.
    for (const std::string& etag :
         {their_task_.etag(), loose_task_.etag(), std::string("\"999\"")}) {
      change.set_etag(etag);
      EXPECT_THAT(store().UpdateTask(change, MaskOf({"title"}), mine_only_),
                  NotFoundLikeMissing(id));
      EXPECT_THAT(store().UpdateTask(change, MaskOf({}), mine_only_),
                  NotFoundLikeMissing(id));
    }
  }
  EXPECT_THAT(store().GetTask(their_task_.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(their_task_)));
  EXPECT_THAT(store().GetTask(loose_task_.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(loose_task_)));
}

TEST_P(ScopedTaskStoreTest, UpdateTaskMovesTasksOnlyWithinTheScope) {
  ASSERT_OK_AND_ASSIGN(
      v1::Task moved,
      store().UpdateTask(
          TaskBuilder("").WithId(my_task_.id()).InProject(also_mine_.id()),
          MaskOf({"project_id"}), mine_only_));
  EXPECT_EQ(moved.project_id(), also_mine_.id());

  EXPECT_THAT(store().UpdateTask(
                  TaskBuilder("").WithId(my_task_.id()).InProject(theirs_.id()),
                  MaskOf({"project_id"}), mine_only_),
              AllOf(StatusIs(Code::kPermissionDenied),
                    ReasonIs(reason::kPermissionDenied)));
  // Out of every project: not within a restricted scope either.
  EXPECT_THAT(store().UpdateTask(TaskBuilder("").WithId(my_task_.id()),
                                 MaskOf({"project_id"}), mine_only_),
              StatusIs(Code::kPermissionDenied));
  EXPECT_THAT(store().GetTask(my_task_.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(moved)));
}

TEST_P(ScopedTaskStoreTest, DeleteTaskDeletesOnlyTasksOfTheScope) {
  for (int64_t id : OutOfReach()) {
    SCOPED_TRACE(id);
    EXPECT_THAT(store().DeleteTask(id, mine_only_), NotFoundLikeMissing(id));
  }
  EXPECT_THAT(store().GetTask(their_task_.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(their_task_)));
  EXPECT_THAT(store().GetTask(loose_task_.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(loose_task_)));
  ASSERT_OK(store().DeleteTask(my_task_.id(), mine_only_));
  EXPECT_THAT(store().GetTask(my_task_.id(), kEveryRow),
              StatusIs(Code::kNotFound));
}

// The old DeleteTask race, as the store now sees it: the caller was allowed
// the task in its project, then somebody with both projects moved it away
// before the delete. The delete is pinned to the caller's projects, so it
// finds nothing; so does an update carrying the etag read before the move.
TEST_P(ScopedTaskStoreTest, TaskMovedOutOfTheScopeIsNeitherDeletedNorUpdated) {
  ASSERT_OK_AND_ASSIGN(v1::Task seen,
                       store().GetTask(my_task_.id(), mine_only_));
  ASSERT_OK_AND_ASSIGN(
      v1::Task moved,
      store().UpdateTask(
          TaskBuilder("").WithId(seen.id()).InProject(theirs_.id()),
          MaskOf({"project_id"}), kEveryRow));

  const absl::Status deleted = store().DeleteTask(seen.id(), mine_only_);
  EXPECT_THAT(deleted, NotFoundLikeMissing(seen.id()));
  v1::Task change = TaskBuilder("changed").WithId(seen.id());
  EXPECT_THAT(store().UpdateTask(change, MaskOf({"title"}), mine_only_),
              NotFoundLikeMissing(seen.id()));
  change.set_etag(seen.etag());
  EXPECT_THAT(store().UpdateTask(change, MaskOf({"title"}), mine_only_),
              NotFoundLikeMissing(seen.id()));
  const absl::StatusOr<v1::Task> kept = store().GetTask(seen.id(), kEveryRow);
  EXPECT_THAT(kept, IsOkAndHolds(EqualsProto(moved)));
  std::cerr << "delete pinned to project " << mine_.id()
            << " of a task moved to " << theirs_.id() << ": " << deleted
            << "; the task " << (kept.ok() ? "still exists" : "is gone")
            << "\n";
}

// ---------------------------------------------------------------------------
// Relationships and filters

TEST_P(TaskStoreTest, TaskReferencesItsProject) {
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Test Project"));
  ASSERT_OK_AND_ASSIGN(
      v1::Task task,
      CreateTask(TaskBuilder("Project Task").InProject(project.id())));
  ASSERT_TRUE(task.has_project_id());
  EXPECT_EQ(task.project_id(), project.id());
  ASSERT_OK_AND_ASSIGN(v1::Task read, store().GetTask(task.id(), kEveryRow));
  EXPECT_THAT(store().GetProject(read.project_id()),
              IsOkAndHolds(EqualsProto(project)));
}

TEST_P(TaskStoreTest, ProjectListsExactlyItsTasks) {
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Multi-Task"));
  ASSERT_OK_AND_ASSIGN(v1::Project other, CreateProject("Other"));
  ASSERT_OK(CreateTask(TaskBuilder("Task 1").InProject(project.id())));
  ASSERT_OK(CreateTask(TaskBuilder("Task 2").InProject(project.id())));
  ASSERT_OK(CreateTask(TaskBuilder("Task 3").InProject(other.id())));
  ASSERT_OK(CreateTask(TaskBuilder("Task 4")));

  EXPECT_THAT(ListTitles(TasksInProject(project.id())),
              IsOkAndHolds(UnorderedElementsAre("Task 1", "Task 2")));
  EXPECT_THAT(ListTitles(TasksInProject(424242)), IsOkAndHolds(IsEmpty()));
}

TEST_P(TaskStoreTest, ListTasksWithoutFiltersReturnsAllInCreationOrder) {
  std::vector<int64_t> created;
  for (const char* title : {"c", "a", "b"}) {
    ASSERT_OK_AND_ASSIGN(v1::Task task, CreateTask(TaskBuilder(title)));
    created.push_back(task.id());
  }
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Task> tasks, ListAllTasks());
  EXPECT_THAT(Ids(tasks), ElementsAreArray(created));
}

TEST_P(TaskStoreTest, ListTasksFiltersByStatus) {
  ASSERT_OK(CreateTask(TaskBuilder("Task 1").WithStatus(v1::Task::PENDING)));
  ASSERT_OK(CreateTask(TaskBuilder("Task 2").WithStatus(v1::Task::COMPLETED)));
  ASSERT_OK(CreateTask(TaskBuilder("Task 3")));
  ASSERT_OK(
      CreateTask(TaskBuilder("Task 4").WithStatus(v1::Task::IN_PROGRESS)));

  v1::ListTasksRequest pending;
  pending.set_status(v1::Task::PENDING);
  EXPECT_THAT(ListTitles(pending),
              IsOkAndHolds(ElementsAre("Task 1", "Task 3")));
  v1::ListTasksRequest completed;
  completed.set_status(v1::Task::COMPLETED);
  EXPECT_THAT(ListTitles(completed), IsOkAndHolds(ElementsAre("Task 2")));
}

TEST_P(TaskStoreTest, ListTasksFiltersByPriority) {
  ASSERT_OK(CreateTask(TaskBuilder("Low").WithPriority(v1::Task::LOW)));
  ASSERT_OK(CreateTask(TaskBuilder("High 1").WithPriority(v1::Task::HIGH)));
  ASSERT_OK(CreateTask(TaskBuilder("Default")));
  ASSERT_OK(CreateTask(TaskBuilder("High 2").WithPriority(v1::Task::HIGH)));

  v1::ListTasksRequest high;
  high.set_priority(v1::Task::HIGH);
  EXPECT_THAT(ListTitles(high), IsOkAndHolds(ElementsAre("High 1", "High 2")));
  v1::ListTasksRequest medium;
  medium.set_priority(v1::Task::MEDIUM);
  EXPECT_THAT(ListTitles(medium), IsOkAndHolds(ElementsAre("Default")));
}

TEST_P(TaskStoreTest, ListTasksCombinesProjectStatusAndPriorityFilters) {
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Work"));
  ASSERT_OK_AND_ASSIGN(v1::Project other, CreateProject("Other"));
  const int64_t id = project.id();
  ASSERT_OK(CreateTask(TaskBuilder("Match")
                           .InProject(id)
                           .WithStatus(v1::Task::IN_PROGRESS)
                           .WithPriority(v1::Task::HIGH)));
  ASSERT_OK(CreateTask(TaskBuilder("Wrong priority")
                           .InProject(id)
                           .WithStatus(v1::Task::IN_PROGRESS)
                           .WithPriority(v1::Task::LOW)));
  ASSERT_OK(CreateTask(TaskBuilder("Wrong status")
                           .InProject(id)
                           .WithStatus(v1::Task::PENDING)
                           .WithPriority(v1::Task::HIGH)));
  ASSERT_OK(CreateTask(TaskBuilder("Wrong project")
                           .InProject(other.id())
                           .WithStatus(v1::Task::IN_PROGRESS)
                           .WithPriority(v1::Task::HIGH)));

  v1::ListTasksRequest request = TasksInProject(id);
  request.set_status(v1::Task::IN_PROGRESS);
  request.set_priority(v1::Task::HIGH);
  EXPECT_THAT(ListTitles(request), IsOkAndHolds(ElementsAre("Match")));
}

// ---------------------------------------------------------------------------
// ListTasks filter (AIP-160)

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

// ---------------------------------------------------------------------------
// Integrity rules

TEST_P(TaskStoreTest, DuplicateTitleInSameProjectIsAlreadyExistsNamingIt) {
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Constraint Test"));
  ASSERT_OK(CreateTask(TaskBuilder("Unique Title").InProject(project.id())));

  EXPECT_THAT(CreateTask(TaskBuilder("Unique Title").InProject(project.id())),
              AllOf(StatusIs(Code::kAlreadyExists,
                             AllOf(HasSubstr("\"Unique Title\""),
                                   HasSubstr("tasks_project_title_key"))),
                    ReasonIs(reason::kTitleTaken)));

  EXPECT_THAT(ListTitles(TasksInProject(project.id())),
              IsOkAndHolds(ElementsAre("Unique Title")));
}

TEST_P(TaskStoreTest, SameTitleInDifferentProjectsIsAllowed) {
  ASSERT_OK_AND_ASSIGN(v1::Project first, CreateProject("First"));
  ASSERT_OK_AND_ASSIGN(v1::Project second, CreateProject("Second"));
  EXPECT_OK(CreateTask(TaskBuilder("Same Title").InProject(first.id())));
  EXPECT_OK(CreateTask(TaskBuilder("Same Title").InProject(second.id())));
}

// NULL project ids are distinct in a UNIQUE constraint on both backends.
TEST_P(TaskStoreTest, TasksWithoutProjectMayShareATitle) {
  ASSERT_OK(CreateTask(TaskBuilder("Inbox item")));
  EXPECT_OK(CreateTask(TaskBuilder("Inbox item")));
  EXPECT_THAT(ListTitles(),
              IsOkAndHolds(ElementsAre("Inbox item", "Inbox item")));
}

TEST_P(TaskStoreTest, TitlesWithLikeWildcardsDoNotCollide) {
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Wildcards"));
  for (const char* title : {"a", "_", "%", "a%", "ab", "a_"}) {
    EXPECT_OK(CreateTask(TaskBuilder(title).InProject(project.id()))) << title;
  }
}

TEST_P(TaskStoreTest, TaskInMissingProjectIsFailedPreconditionNamingTheId) {
  EXPECT_THAT(CreateTask(TaskBuilder("Orphan Task").InProject(987654)),
              AllOf(StatusIs(Code::kFailedPrecondition, HasSubstr("987654")),
                    ReasonIs(reason::kProjectMissing)));
  EXPECT_THAT(ListAllTasks(), IsOkAndHolds(IsEmpty()));
}

TEST_P(TaskStoreTest, UnknownEnumValuesAreInvalidArgumentAndNothingStored) {
  v1::Task bad_status = TaskBuilder("Bad status");
  bad_status.set_status(static_cast<v1::Task::Status>(42));
  v1::Task bad_priority = TaskBuilder("Bad priority");
  bad_priority.set_priority(static_cast<v1::Task::Priority>(-1));

  EXPECT_THAT(CreateTask(bad_status), StatusIs(Code::kInvalidArgument));
  EXPECT_THAT(CreateTask(bad_priority), StatusIs(Code::kInvalidArgument));
  EXPECT_THAT(ListAllTasks(), IsOkAndHolds(IsEmpty()));
}

TEST_P(TaskStoreTest, InvalidUtf8IsInvalidArgumentAndNothingStored) {
  // PostgreSQL refuses invalid UTF-8 and SQLite stores it: the store refuses
  // it first so both backends agree.
  const std::string kBad = "bad \xff\xfe";
  v1::Task in_metadata = TaskBuilder("t");
  (*in_metadata.mutable_metadata()->mutable_fields())["k"].set_string_value(
      kBad);
  for (const v1::Task& bad :
       {TaskBuilder(kBad).Build(),
        TaskBuilder("t").WithDescription(kBad).Build(), in_metadata}) {
    SCOPED_TRACE(bad.ShortDebugString());
    EXPECT_THAT(CreateTask(bad), StatusIs(Code::kInvalidArgument));
  }
  EXPECT_THAT(store().CreateProject(ProjectNamed(kBad)),
              StatusIs(Code::kInvalidArgument));
  EXPECT_THAT(ListAllTasks(), IsOkAndHolds(IsEmpty()));
}

// The schema itself enforces the rules, so a program writing SQL by hand
// cannot break them either.
TEST_P(TaskStoreTest, SchemaRefusesNullTitleAndOutOfDomainValuesFromRawSql) {
  ASSERT_OK_AND_ASSIGN(std::string connection,
                       FreshStoreDatabase(backend(), StoreLocation::kShared));
  ASSERT_OK_AND_ASSIGN(TaskStorePtr store, OpenSociTaskStore(connection));
  ASSERT_OK_AND_ASSIGN(v1::Project project,
                       store->CreateProject(ProjectNamed("p")));
  ASSERT_OK_AND_ASSIGN(
      v1::Task task,
      store->CreateTask(TaskBuilder("taken").InProject(project.id()), ""));

  const std::string kRefused[] = {
      "INSERT INTO tasks (title) VALUES (NULL)",
      "INSERT INTO tasks (title, status) VALUES ('bad status', 4)",
      "INSERT INTO tasks (title, priority) VALUES ('bad priority', 0)",
      "INSERT INTO tasks (title, metadata) VALUES ('bad metadata', '[1]')",
      absl::StrCat("INSERT INTO tasks (project_id, title) VALUES (",
                   project.id(), ", 'taken')"),
  };
  for (const std::string& sql : kRefused) {
    SCOPED_TRACE(sql);
    EXPECT_THAT(QueryRawSql(backend(), connection, sql),
                StatusIs(Code::kInternal));
  }
  EXPECT_THAT(ListAllTasks(*store, v1::ListTasksRequest()),
              IsOkAndHolds(ElementsAre(EqualsProto(task))));
}

// Metadata the schema accepts but no Struct can hold (a number beyond a
// double's range) is reported as the store's fault, not passed on.
TEST_P(TaskStoreTest, StoredMetadataNoStructCanHoldReadsAsInternal) {
  ASSERT_OK_AND_ASSIGN(std::string connection,
                       FreshStoreDatabase(backend(), StoreLocation::kShared));
  ASSERT_OK_AND_ASSIGN(TaskStorePtr store, OpenSociTaskStore(connection));
  ASSERT_OK(QueryRawSql(
      backend(), connection,
      R"(INSERT INTO tasks (title, metadata) VALUES ('raw', '{"n":1e400}'))"));
  EXPECT_THAT(ListAllTasks(*store, v1::ListTasksRequest()),
              StatusIs(Code::kInternal));
}

TEST_P(TaskStoreTest, SchemaDefaultsApplyToRawSqlInsert) {
  ASSERT_OK_AND_ASSIGN(std::string connection,
                       FreshStoreDatabase(backend(), StoreLocation::kShared));
  ASSERT_OK_AND_ASSIGN(TaskStorePtr store, OpenSociTaskStore(connection));
  const absl::Time before = absl::Now();
  ASSERT_OK(QueryRawSql(backend(), connection,
                        "INSERT INTO tasks (title) VALUES ('raw')"));
  const absl::Time after = absl::Now();

  ASSERT_OK_AND_ASSIGN(std::vector<v1::Task> tasks,
                       ListAllTasks(*store, v1::ListTasksRequest()));
  ASSERT_THAT(tasks, SizeIs(1));
  const v1::Task& task = tasks[0];
  EXPECT_EQ(task.title(), "raw");
  EXPECT_EQ(task.status(), v1::Task::PENDING);
  EXPECT_EQ(task.priority(), v1::Task::MEDIUM);
  EXPECT_EQ(task.metadata().fields_size(), 0);
  EXPECT_FALSE(task.has_project_id());
  const absl::Time created = absl::FromUnixMicros(
      TimeUtil::TimestampToMicroseconds(task.create_time()));
  EXPECT_GE(created, before - absl::Seconds(1)) << task.create_time();
  EXPECT_LE(created, after + absl::Seconds(1)) << task.create_time();
  // A task written past the store is still updatable with its etag.
  EXPECT_OK(store->UpdateTask(TaskBuilder("raw")
                                  .WithId(task.id())
                                  .WithStatus(v1::Task::COMPLETED)
                                  .WithEtag(task.etag()),
                              MaskOf({"status"}), kEveryRow));
}

// ---------------------------------------------------------------------------
// Metadata

TEST_P(TaskStoreTest, MetadataRoundTripsNestedListsNumbersStringsBoolsAndNull) {
  const char* const kJson = R"({
    "tags": ["urgent", "review", ["nested", {"deep": [1, 2.5, null]}]],
    "estimate_hours": 4,
    "ratio": 0.1,
    "negative": -123456789.125,
    "tiny": 1e-7,
    "huge": 1e300,
    "name": "x \"quoted\" \\ back",
    "done": true,
    "blocked": false,
    "nothing": null,
    "empty_list": [],
    "empty_object": {},
    "object": {"a": {"b": {"c": "d"}}}
  })";
  v1::Task draft = TaskBuilder("With metadata").WithMetadataJson(kJson);

  ASSERT_OK_AND_ASSIGN(v1::Task task, CreateTask(draft));

  EXPECT_THAT(task.metadata(), EqualsProto(draft.metadata()));
  ASSERT_OK_AND_ASSIGN(v1::Task read, store().GetTask(task.id(), kEveryRow));
  EXPECT_THAT(read.metadata(), EqualsProto(draft.metadata()));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Task> listed, ListAllTasks());
  ASSERT_THAT(listed, SizeIs(1));
  EXPECT_THAT(listed[0].metadata(), EqualsProto(draft.metadata()));
}

// {"a": {"a": ... 1}} with `depth` objects, and {"l": [[... 1]]} with `depth`
// lists. Built directly: protobuf's JSON parser stops at 100 levels.
google::protobuf::Struct NestedObjects(int depth) {
  google::protobuf::Value value;
  value.set_number_value(1);
  for (int i = 1; i < depth; ++i) {
    google::protobuf::Value outer;
    (*outer.mutable_struct_value()->mutable_fields())["a"] = value;
    value = outer;
  }
  google::protobuf::Struct root;
  (*root.mutable_fields())["a"] = value;
  return root;
}

google::protobuf::Struct NestedLists(int depth) {
  google::protobuf::Value value;
  value.set_number_value(1);
  for (int i = 0; i < depth; ++i) {
    google::protobuf::Value outer;
    *outer.mutable_list_value()->add_values() = value;
    value = outer;
  }
  google::protobuf::Struct root;
  (*root.mutable_fields())["l"] = value;
  return root;
}

// Deep metadata, and metadata over the size cap, is either refused up front
// or stored and read back exactly, never stored unreadable.
TEST_P(TaskStoreTest, DeepAndHugeMetadataRoundTripsOrIsRefusedWhole) {
  const std::string huge(100000, 'k');
  google::protobuf::Struct huge_entry;
  (*huge_entry.mutable_fields())[huge].set_string_value(huge);
  const std::vector<std::pair<std::string, google::protobuf::Struct>> kCases = {
      {"100 nested objects", NestedObjects(100)},
      {"100 nested lists", NestedLists(100)},
      {"100 kB key and value", huge_entry},
  };
  for (const auto& [name, metadata] : kCases) {
    SCOPED_TRACE(name);
    v1::Task draft = TaskBuilder(name);
    *draft.mutable_metadata() = metadata;
    absl::StatusOr<v1::Task> created = CreateTask(draft);
    if (created.ok()) {
      EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
          created->metadata(), metadata));
      absl::StatusOr<v1::Task> read = store().GetTask(created->id(), kEveryRow);
      ASSERT_OK(read);
      EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
          read->metadata(), metadata));
    } else {
      EXPECT_THAT(created, StatusIs(Code::kInvalidArgument));
      EXPECT_THAT(ListTitles(), IsOkAndHolds(Not(Contains(name))));
    }
  }
  EXPECT_OK(ListAllTasks());
}

// Matches an INVALID_ARGUMENT status naming `field` (a BadRequest field
// violation at the API) with reason INVALID_ARGUMENT.
MATCHER_P(IsInvalidField, field, "") {
  const absl::Status& status =
      ::tasks::testing::internal_status::GetStatus(arg);
  *result_listener << status;
  return status.code() == Code::kInvalidArgument &&
         ErrorField(status) == std::string(field) &&
         ErrorReason(status) == std::string(reason::kInvalidArgument);
}

TEST_P(TaskStoreTest, MetadataAtTheCapsIsStoredAndBeyondIsInvalidArgument) {
  // Every value counts, nested ones included: "a", "b" and the nulls.
  google::protobuf::Struct nested;
  *(*nested.mutable_fields())["a"].mutable_struct_value() =
      NullList(kMaxMetadataValues - 2, "b");
  const std::vector<std::pair<std::string, google::protobuf::Struct>> kAtCap = {
      {"1,000 values", NullList(kMaxMetadataValues - 1)},
      {"1,000 nested values", nested},
      {"16 KiB of JSON", JsonOfBytes(kMaxMetadataJsonBytes)},
  };
  for (const auto& [name, metadata] : kAtCap) {
    SCOPED_TRACE(name);
    v1::Task draft = TaskBuilder(name);
    *draft.mutable_metadata() = metadata;
    ASSERT_OK_AND_ASSIGN(v1::Task created, CreateTask(draft));
    EXPECT_THAT(created.metadata(), EqualsProto(metadata));
  }

  (*nested.mutable_fields())["c"].set_bool_value(true);
  const std::vector<std::pair<std::string, google::protobuf::Struct>> kOver = {
      {"1,001 values", NullList(kMaxMetadataValues)},
      {"1,001 nested values", nested},
      {"200,000 values", NullList(200000)},
      {"16 KiB + 1 of JSON", JsonOfBytes(kMaxMetadataJsonBytes + 1)},
      {"1 MB of JSON", JsonOfBytes(1000000)},
  };
  ASSERT_OK_AND_ASSIGN(v1::Task kept, CreateTask(TaskBuilder("kept")));
  for (const auto& [name, metadata] : kOver) {
    SCOPED_TRACE(name);
    v1::Task draft = TaskBuilder(name);
    *draft.mutable_metadata() = metadata;
    EXPECT_THAT(CreateTask(draft), IsInvalidField("task.metadata"));

    v1::Task change = TaskBuilder("kept").WithId(kept.id());
    *change.mutable_metadata() = metadata;
    EXPECT_THAT(store().UpdateTask(change, MaskOf({"metadata"}), kEveryRow),
                IsInvalidField("task.metadata"));

    v1::BatchCreateTasksRequest batch;
    *batch.add_requests() = CreateRequest(TaskBuilder("batch ok"), "");
    *batch.add_requests() = CreateRequest(draft, "");
    EXPECT_THAT(store().BatchCreateTasks(batch),
                IsInvalidField("requests[1].task.metadata"));
  }
  EXPECT_THAT(store().GetTask(kept.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(kept)));
  EXPECT_THAT(ListAllTasks(), IsOkAndHolds(SizeIs(kAtCap.size() + 1)));
}

TEST_P(TaskStoreTest, NonFiniteMetadataNumberIsInvalidArgument) {
  // JSON has no NaN or infinity.
  for (double number : {std::numeric_limits<double>::quiet_NaN(),
                        std::numeric_limits<double>::infinity()}) {
    SCOPED_TRACE(number);
    v1::Task task = TaskBuilder("t");
    (*task.mutable_metadata()->mutable_fields())["n"].set_number_value(number);
    EXPECT_THAT(CreateTask(task), StatusIs(Code::kInvalidArgument));
  }
  EXPECT_THAT(ListAllTasks(), IsOkAndHolds(IsEmpty()));
}

TEST_P(TaskStoreTest, MetadataFilterMatchesStringValueOnly) {
  ASSERT_OK(
      CreateTask(TaskBuilder("prod").WithMetadataJson(R"({"env": "prod"})")));
  ASSERT_OK(
      CreateTask(TaskBuilder("dev").WithMetadataJson(R"({"env": "dev"})")));
  ASSERT_OK(CreateTask(
      TaskBuilder("other key").WithMetadataJson(R"({"other": "prod"})")));
  ASSERT_OK(CreateTask(
      TaskBuilder("nested").WithMetadataJson(R"({"x": {"env": "prod"}})")));
  ASSERT_OK(CreateTask(TaskBuilder("none")));

  EXPECT_THAT(ListTitles(TasksWithMetadata("env", R"("prod")")),
              IsOkAndHolds(ElementsAre("prod")));
}

TEST_P(TaskStoreTest, MetadataFilterMatchesNumberNotItsString) {
  ASSERT_OK(
      CreateTask(TaskBuilder("three").WithMetadataJson(R"({"points": 3})")));
  ASSERT_OK(
      CreateTask(TaskBuilder("five").WithMetadataJson(R"({"points": 5})")));
  ASSERT_OK(CreateTask(
      TaskBuilder("string three").WithMetadataJson(R"({"points": "3"})")));
  ASSERT_OK(
      CreateTask(TaskBuilder("half").WithMetadataJson(R"({"points": 2.5})")));

  EXPECT_THAT(ListTitles(TasksWithMetadata("points", "3")),
              IsOkAndHolds(ElementsAre("three")));
  EXPECT_THAT(ListTitles(TasksWithMetadata("points", "2.5")),
              IsOkAndHolds(ElementsAre("half")));
  EXPECT_THAT(ListTitles(TasksWithMetadata("points", R"("3")")),
              IsOkAndHolds(ElementsAre("string three")));
}

TEST_P(TaskStoreTest, MetadataFilterMatchesBooleanNotNumberOrString) {
  ASSERT_OK(
      CreateTask(TaskBuilder("true").WithMetadataJson(R"({"done": true})")));
  ASSERT_OK(
      CreateTask(TaskBuilder("false").WithMetadataJson(R"({"done": false})")));
  ASSERT_OK(CreateTask(TaskBuilder("one").WithMetadataJson(R"({"done": 1})")));
  ASSERT_OK(CreateTask(TaskBuilder("zero").WithMetadataJson(R"({"done": 0})")));
  ASSERT_OK(CreateTask(
      TaskBuilder("string").WithMetadataJson(R"({"done": "true"})")));

  EXPECT_THAT(ListTitles(TasksWithMetadata("done", "true")),
              IsOkAndHolds(ElementsAre("true")));
  EXPECT_THAT(ListTitles(TasksWithMetadata("done", "false")),
              IsOkAndHolds(ElementsAre("false")));
  EXPECT_THAT(ListTitles(TasksWithMetadata("done", "1")),
              IsOkAndHolds(ElementsAre("one")));
}

TEST_P(TaskStoreTest, MetadataFilterMatchesListObjectAndNullValuesExactly) {
  ASSERT_OK(
      CreateTask(TaskBuilder("list").WithMetadataJson(R"({"v": ["a", "b"]})")));
  ASSERT_OK(CreateTask(
      TaskBuilder("reversed list").WithMetadataJson(R"({"v": ["b", "a"]})")));
  ASSERT_OK(CreateTask(
      TaskBuilder("object").WithMetadataJson(R"({"v": {"x": 1, "y": [2]}})")));
  ASSERT_OK(CreateTask(
      TaskBuilder("bigger object")
          .WithMetadataJson(R"({"v": {"x": 1, "y": [2], "z": 3}})")));
  ASSERT_OK(CreateTask(TaskBuilder("null").WithMetadataJson(R"({"v": null})")));
  ASSERT_OK(CreateTask(TaskBuilder("absent")));

  EXPECT_THAT(ListTitles(TasksWithMetadata("v", R"(["a", "b"])")),
              IsOkAndHolds(ElementsAre("list")));
  // Objects are equal whatever their key order.
  EXPECT_THAT(ListTitles(TasksWithMetadata("v", R"({"y": [2], "x": 1})")),
              IsOkAndHolds(ElementsAre("object")));
  EXPECT_THAT(ListTitles(TasksWithMetadata("v", "null")),
              IsOkAndHolds(ElementsAre("null")));
}

TEST_P(TaskStoreTest, MetadataFilterOnAbsentKeyMatchesNothing) {
  ASSERT_OK(CreateTask(TaskBuilder("with").WithMetadataJson(R"({"k": "v"})")));
  ASSERT_OK(CreateTask(TaskBuilder("without")));

  EXPECT_THAT(ListTitles(TasksWithMetadata("missing", R"("v")")),
              IsOkAndHolds(IsEmpty()));
}

TEST_P(TaskStoreTest, MetadataFilterTreatsWildcardsLiterally) {
  ASSERT_OK(
      CreateTask(TaskBuilder("percent").WithMetadataJson(R"({"k": "%"})")));
  ASSERT_OK(
      CreateTask(TaskBuilder("underscore").WithMetadataJson(R"({"k": "_"})")));
  ASSERT_OK(
      CreateTask(TaskBuilder("letter").WithMetadataJson(R"({"k": "a"})")));

  EXPECT_THAT(ListTitles(TasksWithMetadata("k", R"("%")")),
              IsOkAndHolds(ElementsAre("percent")));
  EXPECT_THAT(ListTitles(TasksWithMetadata("k", R"("_")")),
              IsOkAndHolds(ElementsAre("underscore")));
}

TEST_P(TaskStoreTest, MetadataFilterKeyWithQuoteOrBackslashIsInvalidArgument) {
  ASSERT_OK(CreateTask(TaskBuilder("task").WithMetadataJson(R"({"k": "v"})")));
  for (const char* key : {"k\"", "k\\", "\") OR 1=1 --"}) {
    SCOPED_TRACE(key);
    EXPECT_THAT(store().ListTasks(TasksWithMetadata(key, R"("v")")),
                StatusIs(Code::kInvalidArgument));
  }
}

// ---------------------------------------------------------------------------
// Pagination

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

// ---------------------------------------------------------------------------
// Batch create and request ids

TEST_P(TaskStoreTest, BatchCreateTasksCreatesAllInRequestOrder) {
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Batch"));
  v1::BatchCreateTasksRequest request;
  for (const char* title : {"one", "two", "three"}) {
    *request.add_requests() =
        CreateRequest(TaskBuilder(title).InProject(project.id()));
  }

  ASSERT_OK_AND_ASSIGN(v1::BatchCreateTasksResponse response,
                       store().BatchCreateTasks(request));

  std::vector<v1::Task> created(response.tasks().begin(),
                                response.tasks().end());
  EXPECT_THAT(Titles(created), ElementsAre("one", "two", "three"));
  for (const v1::Task& task : created) {
    EXPECT_EQ(task.status(), v1::Task::PENDING);
    EXPECT_THAT(store().GetTask(task.id(), kEveryRow),
                IsOkAndHolds(EqualsProto(task)));
  }
}

// Each case fails at request index 2 of a 4-task batch.
struct FailingBatchCase {
  std::string name;
  v1::Task failing;  // request 2; requests 0, 1, 3 are valid
  Code code;
  std::string reason;
};

TEST_P(TaskStoreTest, BatchCreateFailingMidwayStoresNothing) {
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Batch"));
  ASSERT_OK_AND_ASSIGN(
      v1::Task existing,
      CreateTask(TaskBuilder("existing").InProject(project.id())));
  const int64_t id = project.id();
  const std::vector<FailingBatchCase> kCases = {
      {"duplicate of request 0", TaskBuilder("first").InProject(id),
       Code::kAlreadyExists, reason::kTitleTaken},
      {"duplicate of a stored task", TaskBuilder("existing").InProject(id),
       Code::kAlreadyExists, reason::kTitleTaken},
      {"missing project", TaskBuilder("orphan").InProject(987654),
       Code::kFailedPrecondition, reason::kProjectMissing},
      {"NUL byte", TaskBuilder(std::string("nul\0byte", 8)).InProject(id),
       Code::kInvalidArgument, reason::kInvalidArgument},
  };
  for (const FailingBatchCase& test_case : kCases) {
    SCOPED_TRACE(test_case.name);
    v1::BatchCreateTasksRequest request;
    *request.add_requests() = CreateRequest(TaskBuilder("first").InProject(id));
    *request.add_requests() =
        CreateRequest(TaskBuilder("second").InProject(id));
    *request.add_requests() = CreateRequest(test_case.failing);
    *request.add_requests() =
        CreateRequest(TaskBuilder("fourth").InProject(id));

    EXPECT_THAT(store().BatchCreateTasks(request),
                AllOf(StatusIs(test_case.code, HasSubstr("requests[2]")),
                      ReasonIs(test_case.reason)));

    EXPECT_THAT(ListAllTasks(),
                IsOkAndHolds(ElementsAre(EqualsProto(existing))));
  }
}

// Batches longer than one database round trip's worth of inserts (the
// PostgreSQL store sends them a few dozen at a time).
TEST_P(TaskStoreTest, LongBatchCreatesAllInOrderWithMixedDefaults) {
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Long"));
  v1::BatchCreateTasksRequest request;
  std::vector<std::string> titles;
  for (int i = 0; i < 150; ++i) {
    TaskBuilder task(absl::StrCat("task ", i));
    task.InProject(project.id());
    if (i % 3 == 0) task.WithStatus(v1::Task::COMPLETED);
    if (i % 5 == 0) task.WithPriority(v1::Task::HIGH);
    titles.push_back(absl::StrCat("task ", i));
    *request.add_requests() = CreateRequest(task);
  }
  ASSERT_OK_AND_ASSIGN(v1::BatchCreateTasksResponse response,
                       store().BatchCreateTasks(request));
  std::vector<v1::Task> created(response.tasks().begin(),
                                response.tasks().end());
  EXPECT_THAT(Titles(created), ElementsAreArray(titles));
  for (int i = 0; i < 150; ++i) {
    EXPECT_EQ(created[i].status(),
              i % 3 == 0 ? v1::Task::COMPLETED : v1::Task::PENDING);
    EXPECT_EQ(created[i].priority(),
              i % 5 == 0 ? v1::Task::HIGH : v1::Task::MEDIUM);
  }
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Task> listed, ListAllTasks());
  ASSERT_EQ(listed.size(), created.size());
  for (size_t i = 0; i < listed.size(); ++i) {
    EXPECT_THAT(listed[i], EqualsProto(created[i]));
  }
}

TEST_P(TaskStoreTest, LongBatchFailingLateNamesTheRequestAndStoresNothing) {
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Long"));
  v1::BatchCreateTasksRequest request;
  for (int i = 0; i < 150; ++i) {
    // Request 130 repeats the title of request 3.
    *request.add_requests() =
        CreateRequest(TaskBuilder(absl::StrCat("task ", i == 130 ? 3 : i))
                          .InProject(project.id()));
  }
  EXPECT_THAT(store().BatchCreateTasks(request),
              AllOf(StatusIs(Code::kAlreadyExists, HasSubstr("requests[130]")),
                    ReasonIs(reason::kTitleTaken)));
  EXPECT_THAT(ListAllTasks(), IsOkAndHolds(IsEmpty()));
  // The connection serves the next batch.
  request.mutable_requests(130)->mutable_task()->set_title("task 130");
  EXPECT_OK(store().BatchCreateTasks(request));
}

// The failing request comes before the first use of another kind of insert
// (status and priority set): that kind must work afterwards.
TEST_P(TaskStoreTest, BatchFailingBeforeANewKindOfInsertLeavesThatKindUsable) {
  v1::BatchCreateTasksRequest request;
  *request.add_requests() =
      CreateRequest(TaskBuilder("orphan").InProject(987654));
  *request.add_requests() = CreateRequest(TaskBuilder("set")
                                              .WithStatus(v1::Task::COMPLETED)
                                              .WithPriority(v1::Task::HIGH));
  EXPECT_THAT(
      store().BatchCreateTasks(request),
      AllOf(StatusIs(Code::kFailedPrecondition, HasSubstr("requests[0]")),
            ReasonIs(reason::kProjectMissing)));

  EXPECT_OK(store().CreateTask(TaskBuilder("single")
                                   .WithStatus(v1::Task::COMPLETED)
                                   .WithPriority(v1::Task::HIGH),
                               ""));
  request.mutable_requests(0)->mutable_task()->clear_project_id();
  EXPECT_OK(store().BatchCreateTasks(request));
  EXPECT_THAT(ListTitles(),
              IsOkAndHolds(UnorderedElementsAre("single", "orphan", "set")));
}

TEST_P(TaskStoreTest, BatchRepeatingARequestIdReturnsTheFirstTaskForBoth) {
  ASSERT_OK_AND_ASSIGN(v1::Task earlier,
                       store().CreateTask(TaskBuilder("earlier"), "req-old"));
  v1::BatchCreateTasksRequest request;
  *request.add_requests() = CreateRequest(TaskBuilder("first"), "req-1");
  *request.add_requests() = CreateRequest(TaskBuilder("other"), "");
  *request.add_requests() = CreateRequest(TaskBuilder("first"), "req-1");
  *request.add_requests() = CreateRequest(TaskBuilder("earlier"), "req-old");
  ASSERT_OK_AND_ASSIGN(v1::BatchCreateTasksResponse response,
                       store().BatchCreateTasks(request));
  ASSERT_EQ(response.tasks_size(), 4);
  EXPECT_EQ(response.tasks(0).title(), "first");
  EXPECT_EQ(response.tasks(1).title(), "other");
  EXPECT_THAT(response.tasks(2), EqualsProto(response.tasks(0)));
  EXPECT_THAT(response.tasks(3), EqualsProto(earlier));
  EXPECT_THAT(ListTitles(),
              IsOkAndHolds(UnorderedElementsAre("earlier", "first", "other")));
}

TEST_P(TaskStoreTest, FailedTransactionsLeaveTheStoreUsable) {
  for (StoreLocation location :
       {StoreLocation::kPrivate, StoreLocation::kShared}) {
    SCOPED_TRACE(location == StoreLocation::kPrivate ? "private" : "shared");
    SociTaskStoreOptions options;
    options.pool_size = 2;
    ASSERT_OK_AND_ASSIGN(TaskStorePtr store, OpenFreshStore(location, options));
    ASSERT_OK_AND_ASSIGN(v1::Project project,
                         store->CreateProject(ProjectNamed("p")));
    const int64_t id = project.id();
    ASSERT_OK(store->CreateTask(TaskBuilder("taken").InProject(id), ""));
    // More rounds than pooled connections: every connection fails a
    // transaction midway and must then serve the next call.
    for (int round = 0; round < 6; ++round) {
      v1::BatchCreateTasksRequest request;
      *request.add_requests() =
          CreateRequest(TaskBuilder(absl::StrCat("new ", round)).InProject(id));
      *request.add_requests() =
          CreateRequest(TaskBuilder("taken").InProject(id));
      EXPECT_THAT(store->BatchCreateTasks(request),
                  StatusIs(Code::kAlreadyExists));
      EXPECT_THAT(store->CreateTask(TaskBuilder("taken").InProject(id), ""),
                  StatusIs(Code::kAlreadyExists));

      EXPECT_OK(store->CreateTask(
          TaskBuilder(absl::StrCat("ok ", round)).InProject(id), ""));
      EXPECT_OK(store->CheckHealth());
    }
    ASSERT_OK_AND_ASSIGN(std::vector<v1::Task> tasks,
                         ListAllTasks(*store, TasksInProject(id)));
    EXPECT_THAT(Titles(tasks), ElementsAre("taken", "ok 0", "ok 1", "ok 2",
                                           "ok 3", "ok 4", "ok 5"));
  }
}

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

// ---------------------------------------------------------------------------
// Hostile strings

TEST_P(TaskStoreTest, NulByteInAnyStringIsInvalidArgumentAndNothingStored) {
  const std::string kNul("before\0after", 12);
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Clean"));
  ASSERT_OK_AND_ASSIGN(
      v1::Task task, CreateTask(TaskBuilder("Clean").InProject(project.id())));

  std::vector<std::pair<std::string, v1::Task>> bad_tasks = {
      {"title", TaskBuilder(kNul)},
      {"description", TaskBuilder("t").WithDescription(kNul)},
  };
  v1::Task bad_value = TaskBuilder("t");
  (*bad_value.mutable_metadata()->mutable_fields())["k"].set_string_value(kNul);
  bad_tasks.emplace_back("metadata value", bad_value);
  v1::Task bad_key = TaskBuilder("t");
  (*bad_key.mutable_metadata()->mutable_fields())[kNul].set_bool_value(true);
  bad_tasks.emplace_back("metadata key", bad_key);
  for (const auto& [field, bad] : bad_tasks) {
    SCOPED_TRACE(field);
    EXPECT_THAT(CreateTask(bad), StatusIs(Code::kInvalidArgument));
    v1::Task change = bad;
    change.set_id(task.id());
    EXPECT_THAT(
        store().UpdateTask(change, MaskOf({"title", "description", "metadata"}),
                           kEveryRow),
        StatusIs(Code::kInvalidArgument));
  }
  EXPECT_THAT(store().CreateTask(TaskBuilder("t"), kNul),
              StatusIs(Code::kInvalidArgument));

  EXPECT_THAT(store().CreateProject(ProjectNamed(kNul)),
              StatusIs(Code::kInvalidArgument));
  EXPECT_THAT(store().CreateProject(ProjectNamed("p", kNul)),
              StatusIs(Code::kInvalidArgument));
  v1::Project bad_project = ProjectNamed(kNul, kNul);
  bad_project.set_id(project.id());
  EXPECT_THAT(
      store().UpdateProject(bad_project, MaskOf({"name", "description"})),
      StatusIs(Code::kInvalidArgument));

  EXPECT_THAT(ListAllTasks(), IsOkAndHolds(ElementsAre(EqualsProto(task))));
  EXPECT_THAT(store().GetProject(project.id()),
              IsOkAndHolds(EqualsProto(project)));
  ASSERT_OK_AND_ASSIGN(v1::ListProjectsResponse projects,
                       store().ListProjects(100, ""));
  EXPECT_THAT(projects.projects(), SizeIs(1));
}

TEST_P(TaskStoreTest, NulByteInMetadataFilterIsInvalidArgument) {
  ASSERT_OK(CreateTask(TaskBuilder("t").WithMetadataJson(R"({"k": "v"})")));
  const std::string kNul("k\0x", 3);
  EXPECT_THAT(store().ListTasks(TasksWithMetadata(kNul, R"("v")")),
              StatusIs(Code::kInvalidArgument));
  v1::ListTasksRequest request = TasksWithMetadata("k", R"("")");
  request.mutable_metadata_value()->set_string_value(std::string("v\0x", 3));
  EXPECT_THAT(store().ListTasks(request), StatusIs(Code::kInvalidArgument));
}

TEST_P(TaskStoreTest, HostileStringsAreStoredAndReturnedVerbatim) {
  const std::vector<std::string> kStrings = {
      "'; DROP TABLE tasks; --",
      "Robert'); DROP TABLE projects;--",
      "\" OR 1=1 --",
      "%",
      "_",
      "100% done_now",
      "\\",
      "\\'\\\"",
      "$1 :name ? @p",
      "{\"json\": [1, 2]}",
      "🚀 emoji ✅ 👩‍💻",
      "שלום עולם",
      "مرحبا بالعالم",
      "\u202Eevil\u202C",
      "e\u0301 combining",
      "tab\tnewline\ncarriage\r",
      "  leading and trailing  ",
  };
  for (const std::string& text : kStrings) {
    SCOPED_TRACE(text);
    ASSERT_OK_AND_ASSIGN(v1::Project project,
                         store().CreateProject(ProjectNamed(text, text)));
    v1::Task draft =
        TaskBuilder(text).InProject(project.id()).WithDescription(text);
    (*draft.mutable_metadata()->mutable_fields())[text].set_string_value(text);
    ASSERT_OK_AND_ASSIGN(v1::Task task, CreateTask(draft));

    EXPECT_EQ(project.name(), text);
    EXPECT_EQ(project.description(), text);
    EXPECT_EQ(task.title(), text);
    EXPECT_EQ(task.description(), text);
    EXPECT_THAT(task.metadata(), EqualsProto(draft.metadata()));
    EXPECT_THAT(store().GetProject(project.id()),
                IsOkAndHolds(EqualsProto(project)));
    EXPECT_THAT(store().GetTask(task.id(), kEveryRow),
                IsOkAndHolds(EqualsProto(task)));
    EXPECT_THAT(ListAllTasks(TasksInProject(project.id())),
                IsOkAndHolds(ElementsAre(EqualsProto(task))));
    v1::ListTasksRequest by_value = TasksWithMetadata("", "null");
    by_value.set_metadata_key(text);
    by_value.mutable_metadata_value()->set_string_value(text);
    if (text.find_first_of("\"\\") == std::string::npos) {
      EXPECT_THAT(ListAllTasks(by_value),
                  IsOkAndHolds(ElementsAre(EqualsProto(task))));
    }
  }
  EXPECT_THAT(ListAllTasks(), IsOkAndHolds(SizeIs(kStrings.size())));
}

// ---------------------------------------------------------------------------
// Times

TEST_P(TaskStoreTest, TimesRoundTripToTheMicrosecondInUtc) {
  // Asserted against the wall clock, the UTC instants must be right whatever
  // the process's and server's time zone (the BUILD file sets one far from
  // UTC).
  const absl::Time before = absl::Now();
  ASSERT_OK_AND_ASSIGN(v1::Task task, CreateTask(TaskBuilder("Timed")));
  const absl::Time after = absl::Now();

  const absl::Time created = absl::FromUnixMicros(
      TimeUtil::TimestampToMicroseconds(task.create_time()));
  EXPECT_GE(created, before - absl::Seconds(1)) << task.create_time();
  EXPECT_LE(created, after + absl::Seconds(1)) << task.create_time();
  EXPECT_EQ(task.create_time().nanos() % 1000, 0);
  EXPECT_EQ(task.update_time().nanos() % 1000, 0);

  ASSERT_OK_AND_ASSIGN(v1::Task read, store().GetTask(task.id(), kEveryRow));
  EXPECT_EQ(read.create_time(), task.create_time());
  EXPECT_EQ(read.update_time(), task.update_time());
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Task> listed, ListAllTasks());
  ASSERT_THAT(listed, SizeIs(1));
  EXPECT_EQ(listed[0].create_time(), task.create_time());

  absl::SleepFor(absl::Milliseconds(5));
  ASSERT_OK_AND_ASSIGN(
      v1::Task updated,
      store().UpdateTask(TaskBuilder("Timed again").WithId(task.id()),
                         MaskOf({"title"}), kEveryRow));
  EXPECT_EQ(updated.create_time(), task.create_time());
  EXPECT_GT(updated.update_time(), task.update_time());
  EXPECT_LE(updated.update_time(),
            TimeUtil::MicrosecondsToTimestamp(
                absl::ToUnixMicros(absl::Now() + absl::Seconds(1))));
  EXPECT_EQ(updated.update_time().nanos() % 1000, 0);
  EXPECT_THAT(store().GetTask(task.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(updated)));
}

TEST_P(TaskStoreTest, CreateTimeOrderFollowsCreationAcrossManyTasks) {
  std::vector<int64_t> created;
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK_AND_ASSIGN(v1::Task task,
                         CreateTask(TaskBuilder(absl::StrCat("t", i))));
    created.push_back(task.id());
  }
  v1::ListTasksRequest request;
  request.set_order_by("create_time");
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Task> ascending,
                       ListAllTasks(store(), request, 3));
  EXPECT_THAT(Ids(ascending), ElementsAreArray(created));
  request.set_order_by("create_time desc");
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Task> descending,
                       ListAllTasks(store(), request, 3));
  std::reverse(created.begin(), created.end());
  EXPECT_THAT(Ids(descending), ElementsAreArray(created));
}

// ---------------------------------------------------------------------------
// Connections and concurrency

TEST_P(TaskStoreTest, ThreadsUsingOneStoreSeeTheSameData) {
  // On `:memory:` every connection would be its own empty database: the
  // store must serve all threads from its single connection. The threads
  // overlap constantly, so a second connection would be opened and fail.
  constexpr int kThreads = 4;
  constexpr int kTasksPerThread = 50;
  absl::Mutex mutex;
  std::vector<int64_t> created;  // by any thread
  ErrorLog errors;

  RunThreads(kThreads, [&](int thread) {
    for (int i = 0; i < kTasksPerThread; ++i) {
      absl::StatusOr<v1::Task> task =
          CreateTask(TaskBuilder(absl::StrCat(thread, "/", i)));
      if (!task.ok()) {
        errors.Add(absl::StrCat("create: ", task.status().ToString()));
        continue;
      }
      int64_t latest;
      {
        absl::MutexLock lock(&mutex);
        created.push_back(task->id());
        latest = created[created.size() / 2];
      }
      // A task that is most likely another thread's.
      absl::Status status = store().GetTask(latest, kEveryRow).status();
      if (!status.ok()) {
        errors.Add(absl::StrCat("get ", latest, ": ", status.ToString()));
      }
      if (i % 10 == 0) {
        status = store().ListTasks(v1::ListTasksRequest()).status();
        if (!status.ok()) errors.Add(absl::StrCat("list: ", status.ToString()));
      }
    }
  });

  EXPECT_THAT(errors.errors(), IsEmpty());
  EXPECT_THAT(ListAllTasks(), IsOkAndHolds(SizeIs(kThreads * kTasksPerThread)));
}

TEST_P(TaskStoreTest, ConcurrentWritersAllSucceed) {
  // On a SQLite file several pooled connections compete for the one write
  // lock: no "database is locked" may reach the caller.
  SociTaskStoreOptions options;
  options.pool_size = 4;
  ASSERT_OK_AND_ASSIGN(TaskStorePtr store,
                       OpenFreshStore(StoreLocation::kShared, options));
  ASSERT_OK_AND_ASSIGN(v1::Project project,
                       store->CreateProject(ProjectNamed("Busy")));
  constexpr int kThreads = 8;
  constexpr int kTasksPerThread = 40;
  ErrorLog errors;

  RunThreads(kThreads, [&](int thread) {
    for (int i = 0; i < kTasksPerThread; ++i) {
      absl::StatusOr<v1::Task> task = store->CreateTask(
          TaskBuilder(absl::StrCat("thread ", thread, " task ", i))
              .InProject(project.id()),
          "");
      if (!task.ok()) {
        errors.Add(absl::StrCat("create: ", task.status().ToString()));
        continue;
      }
      if (i % 4 == 0) {
        absl::Status status =
            store
                ->UpdateTask(TaskBuilder(task->title())
                                 .WithId(task->id())
                                 .WithStatus(v1::Task::COMPLETED),
                             MaskOf({"status"}), kEveryRow)
                .status();
        if (!status.ok())
          errors.Add(absl::StrCat("update: ", status.ToString()));
      }
      if (i % 8 == 0) {
        absl::Status status =
            store->ListTasks(TasksInProject(project.id())).status();
        if (!status.ok()) errors.Add(absl::StrCat("list: ", status.ToString()));
      }
    }
  });

  EXPECT_THAT(errors.errors(), IsEmpty());
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Task> tasks,
                       ListAllTasks(*store, TasksInProject(project.id())));
  EXPECT_THAT(tasks, SizeIs(kThreads * kTasksPerThread));
  std::vector<int64_t> ids = Ids(tasks);
  EXPECT_EQ(std::set<int64_t>(ids.begin(), ids.end()).size(), ids.size());
}

TEST_P(TaskStoreTest, TwoStoresOnOneDatabaseWriteConcurrently) {
  // Two processes (or replicas) on one database: their writes interleave
  // without "database is locked" and each sees the other's.
  ASSERT_OK_AND_ASSIGN(std::string connection,
                       FreshStoreDatabase(backend(), StoreLocation::kShared));
  ASSERT_OK_AND_ASSIGN(TaskStorePtr first, OpenSociTaskStore(connection));
  ASSERT_OK_AND_ASSIGN(TaskStorePtr second, OpenSociTaskStore(connection));
  TaskStore* stores[] = {first.get(), second.get()};
  constexpr int kThreads = 6;
  constexpr int kTasksPerThread = 25;
  ErrorLog errors;

  RunThreads(kThreads, [&](int thread) {
    TaskStore& store = *stores[thread % 2];
    for (int i = 0; i < kTasksPerThread; ++i) {
      absl::Status status =
          store.CreateTask(TaskBuilder(absl::StrCat(thread, "/", i)), "")
              .status();
      if (!status.ok()) errors.Add(status.ToString());
    }
  });

  EXPECT_THAT(errors.errors(), IsEmpty());
  for (TaskStore* store : stores) {
    EXPECT_THAT(ListAllTasks(*store, v1::ListTasksRequest()),
                IsOkAndHolds(SizeIs(kThreads * kTasksPerThread)));
  }
  if (backend() == StoreBackend::kSqlite) {
    EXPECT_THAT(QueryRawSql(backend(), connection, "PRAGMA journal_mode"),
                IsOkAndHolds("wal"));
    EXPECT_THAT(QueryRawSql(backend(), connection, "PRAGMA integrity_check"),
                IsOkAndHolds("ok"));
  } else {
    EXPECT_THAT(
        QueryRawSql(backend(), connection, "SELECT count(*) FROM tasks"),
        IsOkAndHolds(absl::StrCat(kThreads * kTasksPerThread)));
  }
}

TEST_P(TaskStoreTest, ForeignKeysAreEnforcedOnEveryPooledConnection) {
  // SQLite turns foreign keys off on every new connection; each pooled one
  // must have them on, or cascades and FK checks silently stop.
  SociTaskStoreOptions options;
  options.pool_size = 4;
  ASSERT_OK_AND_ASSIGN(TaskStorePtr store,
                       OpenFreshStore(StoreLocation::kShared, options));
  constexpr int kThreads = 8;
  constexpr int kRounds = 10;
  ErrorLog errors;
  auto expect = [&](const absl::Status& status, Code code,
                    absl::string_view what) {
    if (status.code() != code) {
      errors.Add(absl::StrCat(what, ": ", status.ToString()));
    }
  };

  RunThreads(kThreads, [&](int thread) {
    for (int round = 0; round < kRounds; ++round) {
      const std::string name = absl::StrCat("p ", thread, " ", round);
      absl::StatusOr<v1::Project> project =
          store->CreateProject(ProjectNamed(name));
      if (!project.ok()) {
        errors.Add(
            absl::StrCat("create project: ", project.status().ToString()));
        continue;
      }
      absl::StatusOr<v1::Task> task =
          store->CreateTask(TaskBuilder(name).InProject(project->id()), "");
      expect(task.status(), Code::kOk, "create task");
      expect(
          store
              ->CreateTask(
                  TaskBuilder(name).InProject(1000000000 + project->id()), "")
              .status(),
          Code::kFailedPrecondition, "task in missing project");
      expect(store->DeleteProject(project->id(), /*cascade=*/false),
             Code::kFailedPrecondition, "delete project with tasks");
      expect(store->DeleteProject(project->id(), /*cascade=*/true), Code::kOk,
             "cascade delete");
      if (task.ok()) {
        expect(store->GetTask(task->id(), kEveryRow).status(), Code::kNotFound,
               "task after cascade");
      }
    }
  });

  EXPECT_THAT(errors.errors(), IsEmpty());
  EXPECT_THAT(ListAllTasks(*store, v1::ListTasksRequest()),
              IsOkAndHolds(IsEmpty()));
}

TEST_P(TaskStoreTest, ConcurrentCreatesOfOneTitleHaveExactlyOneWinner) {
  ASSERT_OK_AND_ASSIGN(TaskStorePtr store,
                       OpenFreshStore(StoreLocation::kShared));
  ASSERT_OK_AND_ASSIGN(v1::Project project,
                       store->CreateProject(ProjectNamed("Race")));
  constexpr int kThreads = 8;
  std::vector<absl::Status> results(kThreads);
  RunThreads(kThreads, [&](int i) {
    results[i] =
        store->CreateTask(TaskBuilder("Contested").InProject(project.id()), "")
            .status();
  });
  int winners = 0;
  for (const absl::Status& status : results) {
    if (status.ok()) {
      ++winners;
    } else {
      EXPECT_THAT(status, StatusIs(Code::kAlreadyExists));
    }
  }
  EXPECT_EQ(winners, 1);
}

TEST_P(TaskStoreTest, ConcurrentUpdatesFromOneEtagHaveExactlyOneWinner) {
  ASSERT_OK_AND_ASSIGN(TaskStorePtr store,
                       OpenFreshStore(StoreLocation::kShared));
  ASSERT_OK_AND_ASSIGN(v1::Task task,
                       store->CreateTask(TaskBuilder("Contested"), ""));
  constexpr int kThreads = 8;
  std::vector<absl::StatusOr<v1::Task>> results(kThreads);
  RunThreads(kThreads, [&](int i) {
    results[i] = store->UpdateTask(TaskBuilder(absl::StrCat("winner ", i))
                                       .WithId(task.id())
                                       .WithEtag(task.etag()),
                                   MaskOf({"title"}), kEveryRow);
  });
  std::string winner;
  for (const absl::StatusOr<v1::Task>& result : results) {
    if (result.ok()) {
      EXPECT_EQ(winner, "") << "second winner " << result->title();
      winner = result->title();
    } else {
      EXPECT_THAT(result, StatusIs(Code::kAborted));
    }
  }
  EXPECT_NE(winner, "");
  ASSERT_OK_AND_ASSIGN(v1::Task stored, store->GetTask(task.id(), kEveryRow));
  EXPECT_EQ(stored.title(), winner);
}

TEST_P(TaskStoreTest, StoresOpenedAtOnceOnOneFreshDatabaseAllWork) {
  // Replicas starting together all run the migrations.
  ASSERT_OK_AND_ASSIGN(std::string connection,
                       FreshStoreDatabase(backend(), StoreLocation::kShared));
  constexpr int kStores = 4;
  std::vector<absl::StatusOr<TaskStorePtr>> stores(kStores);
  RunThreads(kStores,
             [&](int i) { stores[i] = OpenSociTaskStore(connection, {}); });
  for (int i = 0; i < kStores; ++i) {
    ASSERT_OK(stores[i]);
    EXPECT_OK((*stores[i])->CreateTask(TaskBuilder(absl::StrCat("t", i)), ""));
  }
  for (int i = 0; i < kStores; ++i) {
    EXPECT_THAT(ListAllTasks(**stores[i], v1::ListTasksRequest()),
                IsOkAndHolds(SizeIs(kStores)));
  }
}

TEST_P(TaskStoreTest, ReopeningStoreKeepsDataAndSchema) {
  ASSERT_OK_AND_ASSIGN(std::string connection,
                       FreshStoreDatabase(backend(), StoreLocation::kShared));
  v1::Project project;
  v1::Task task;
  {
    ASSERT_OK_AND_ASSIGN(TaskStorePtr store, OpenSociTaskStore(connection));
    ASSERT_OK_AND_ASSIGN(project, store->CreateProject(ProjectNamed("Kept")));
    ASSERT_OK_AND_ASSIGN(
        task, store->CreateTask(TaskBuilder("Kept")
                                    .InProject(project.id())
                                    .WithMetadataJson(R"({"k": [1, "v"]})"),
                                "req-kept"));
  }
  for (int reopen = 0; reopen < 2; ++reopen) {
    SCOPED_TRACE(absl::StrCat("reopen ", reopen));
    ASSERT_OK_AND_ASSIGN(TaskStorePtr store, OpenSociTaskStore(connection));
    EXPECT_THAT(store->GetProject(project.id()),
                IsOkAndHolds(EqualsProto(project)));
    EXPECT_THAT(store->GetTask(task.id(), kEveryRow),
                IsOkAndHolds(EqualsProto(task)));
    // Constraints, defaults and request ids survive too.
    EXPECT_THAT(
        store->CreateTask(TaskBuilder("Kept").InProject(project.id()), ""),
        StatusIs(Code::kAlreadyExists));
    EXPECT_THAT(store->CreateTask(TaskBuilder("x").InProject(987654), ""),
                StatusIs(Code::kFailedPrecondition));
    EXPECT_THAT(store->CreateTask(TaskBuilder("Kept")
                                      .InProject(project.id())
                                      .WithMetadataJson(R"({"k": [1, "v"]})"),
                                  "req-kept"),
                IsOkAndHolds(EqualsProto(task)));
    ASSERT_OK_AND_ASSIGN(
        v1::Task added,
        store->CreateTask(TaskBuilder(absl::StrCat("Added ", reopen)), ""));
    EXPECT_GT(added.id(), task.id());
    EXPECT_EQ(added.status(), v1::Task::PENDING);
  }
}

// Statements that take a current database back to schema version 2, as an
// older build left it: request_id unique in the whole table, no scope and no
// fingerprint.
std::vector<std::string> DowngradeToVersion2(StoreBackend backend) {
  if (backend == StoreBackend::kPostgres) {
    return {
        "ALTER TABLE tasks DROP CONSTRAINT tasks_scope_request_id_key, "
        "DROP COLUMN idempotency_scope, DROP COLUMN request_fingerprint, "
        "ADD CONSTRAINT tasks_request_id_key UNIQUE (request_id)",
        "DELETE FROM schema_migrations WHERE version = 3"};
  }
  // SQLite drops no column of a UNIQUE constraint: the table is rebuilt as
  // version 1 made it (its CHECKs left out), with its indexes and a trigger.
  return {
      "CREATE TABLE tasks_v2 (id INTEGER PRIMARY KEY AUTOINCREMENT, "
      "project_id INTEGER NULL REFERENCES projects (id) ON DELETE CASCADE, "
      "title TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', "
      "status INTEGER NOT NULL DEFAULT 1, priority INTEGER NOT NULL DEFAULT 2, "
      "metadata TEXT NOT NULL DEFAULT '{}', "
      "create_time INTEGER NOT NULL DEFAULT 0, "
      "update_time INTEGER NOT NULL DEFAULT 0, "
      "revision INTEGER NOT NULL DEFAULT 1, "
      "request_id TEXT NULL CONSTRAINT tasks_request_id_key UNIQUE, "
      "CONSTRAINT tasks_project_title_key UNIQUE (project_id, title)) STRICT",
      "DROP TABLE tasks",
      "ALTER TABLE tasks_v2 RENAME TO tasks",
      "CREATE INDEX tasks_project_idx ON tasks (project_id, id)",
      "CREATE INDEX tasks_create_time_idx ON tasks (create_time, id)",
      "CREATE INDEX tasks_priority_idx ON tasks (priority, id)",
      "CREATE INDEX tasks_title_idx ON tasks (title, id)",
      "CREATE TRIGGER tasks_title_not_empty_insert BEFORE INSERT ON tasks "
      "WHEN length(NEW.title) = 0 BEGIN SELECT RAISE(ABORT, "
      "'CHECK constraint failed: tasks_title_not_empty'); END",
      "DELETE FROM schema_migrations WHERE version = 3"};
}

TEST_P(TaskStoreTest, MigrationKeepsTasksAndReplaysTheirRequestIds) {
  ASSERT_OK_AND_ASSIGN(std::string connection,
                       FreshStoreDatabase(backend(), StoreLocation::kShared));
  v1::Project project;
  {
    ASSERT_OK_AND_ASSIGN(TaskStorePtr store, OpenSociTaskStore(connection));
    ASSERT_OK_AND_ASSIGN(project, store->CreateProject(ProjectNamed("Old")));
  }
  for (const std::string& sql : DowngradeToVersion2(backend())) {
    ASSERT_OK(QueryRawSql(backend(), connection, sql));
  }
  // Rows as the older build wrote them, and a deleted one whose id must not
  // come back.
  for (const std::string& sql : std::vector<std::string>{
           absl::StrCat("INSERT INTO tasks (project_id, title, metadata, "
                        "request_id, create_time, update_time) VALUES (",
                        project.id(),
                        ", 'kept', '{\"k\":1}', 'req-kept', 5000000, 5000000)"),
           "INSERT INTO tasks (title, create_time, update_time) "
           "VALUES ('plain', 6000000, 6000000)",
           "INSERT INTO tasks (title, request_id) VALUES ('gone', 'req-gone')",
           "DELETE FROM tasks WHERE title = 'gone'"}) {
    ASSERT_OK(QueryRawSql(backend(), connection, sql));
  }
  ASSERT_OK_AND_ASSIGN(
      std::string gone_id,
      QueryRawSql(backend(), connection, "SELECT max(id) + 1 FROM tasks"));

  ASSERT_OK_AND_ASSIGN(TaskStorePtr store, OpenSociTaskStore(connection));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Task> tasks,
                       ListAllTasks(*store, v1::ListTasksRequest()));
  ASSERT_THAT(Titles(tasks), ElementsAre("kept", "plain"));
  EXPECT_EQ(tasks[0].project_id(), project.id());
  EXPECT_EQ(tasks[0].create_time().seconds(), 5);
  ASSERT_OK_AND_ASSIGN(v1::Task added,
                       store->CreateTask(TaskBuilder("added"), "req-gone"));
  std::cout << "FIGURE after the migration: " << tasks.size()
            << " tasks kept; the first new task got id " << added.id()
            << " (the deleted one had " << gone_id << ")\n";
  EXPECT_GT(added.id(), std::stoll(gone_id));
  // The old key replays in the shared scope; in another it is a new key.
  const v1::Task retry = TaskBuilder("kept")
                             .InProject(project.id())
                             .WithMetadataJson(R"({"k": 1})");
  EXPECT_THAT(store->CreateTask(retry, "req-kept"),
              IsOkAndHolds(EqualsProto(tasks[0])));
  ASSERT_OK_AND_ASSIGN(
      v1::Task scoped,
      store->CreateTask(TaskBuilder("scoped"), "req-kept", ScopeNamed("blue")));
  EXPECT_NE(scoped.id(), tasks[0].id());

  EXPECT_THAT(QueryRawSql(backend(), connection,
                          "SELECT max(version) FROM schema_migrations"),
              IsOkAndHolds("3"));
  EXPECT_THAT(QueryRawSql(backend(), connection,
                          "INSERT INTO tasks (title) VALUES ('')"),
              StatusIs(Code::kInternal, HasSubstr("tasks_title_not_empty")));
  const std::string indexes =
      backend() == StoreBackend::kSqlite
          ? "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND "
            "tbl_name = 'tasks' AND name LIKE 'tasks!_%!_idx' ESCAPE '!'"
          : "SELECT count(*) FROM pg_indexes WHERE tablename = 'tasks' AND "
            "indexname LIKE 'tasks!_%!_idx' ESCAPE '!'";
  EXPECT_THAT(QueryRawSql(backend(), connection, indexes), IsOkAndHolds("4"));
  if (backend() == StoreBackend::kSqlite) {
    EXPECT_THAT(QueryRawSql(backend(), connection, "PRAGMA integrity_check"),
                IsOkAndHolds("ok"));
    EXPECT_THAT(QueryRawSql(backend(), connection, "PRAGMA foreign_key_check"),
                IsOkAndHolds(""));
  }
}

TEST_P(TaskStoreTest, CheckHealthIsOk) { EXPECT_OK(store().CheckHealth()); }

TEST_P(TaskStoreTest, OpeningUnreachableDatabaseIsUnavailable) {
  const std::string connection =
      backend() == StoreBackend::kSqlite
          ? "/nonexistent-directory/for/sure/tasks.db"
          : "postgresql://postgres@127.0.0.1:1/tasks?connect_timeout=2";
  EXPECT_THAT(OpenSociTaskStore(connection), StatusIs(Code::kUnavailable));
}

INSTANTIATE_TEST_SUITE_P(
    Backends, TaskStoreTest,
    ::testing::ValuesIn(::tasks::testing::SelectedStoreBackends()),
    [](const ::testing::TestParamInfo<StoreBackend>& info) {
      return ::tasks::testing::StoreBackendName(info.param);
    });
INSTANTIATE_TEST_SUITE_P(
    Backends, ScopedTaskStoreTest,
    ::testing::ValuesIn(::tasks::testing::SelectedStoreBackends()),
    [](const ::testing::TestParamInfo<StoreBackend>& info) {
      return ::tasks::testing::StoreBackendName(info.param);
    });

}  // namespace
}  // namespace tasks::storage
