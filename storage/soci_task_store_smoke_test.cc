// A quick check of the SOCI store on each backend it opens: SQLite
// :memory:, a SQLite file and PostgreSQL (a throwaway server). The full
// storage suite lives in tests/storage/.

#include <libpq-fe.h>
#include <sqlite3.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "common/call_deadline.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "storage/soci_task_store.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/task_builders.h"

namespace tasks::storage {
namespace {

using ::tasks::testing::MaskOf;
using ::tasks::testing::ProjectNamed;
using ::tasks::testing::ReasonIs;
using ::tasks::testing::StatusIs;
using ::tasks::testing::StructFromJson;
using ::tasks::testing::TaskBuilder;
using ::tasks::testing::ValueFromJson;
using ::testing::HasSubstr;

enum class Backend { kMemory, kFile, kPostgres };

testing::PostgresServer* Postgres() {
  static testing::PostgresServer* server = [] {
    absl::StatusOr<std::unique_ptr<testing::PostgresServer>> started =
        testing::PostgresServer::Start();
    if (!started.ok()) {
      ADD_FAILURE() << "no PostgreSQL server: " << started.status();
      return static_cast<testing::PostgresServer*>(nullptr);
    }
    return started->release();
  }();
  return server;
}

// Runs `sql` on the database past the store: OK, or the database's message.
absl::Status RawExec(Backend backend, const std::string& connection,
                     const std::string& sql) {
  if (backend == Backend::kFile) {
    sqlite3* db = nullptr;
    sqlite3_open(connection.c_str(), &db);
    char* message = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
    absl::Status status = rc == SQLITE_OK
                              ? absl::OkStatus()
                              : absl::UnknownError(message ? message : "");
    sqlite3_free(message);
    sqlite3_close(db);
    return status;
  }
  PGconn* db = PQconnectdb(connection.c_str());
  PGresult* result = PQexec(db, sql.c_str());
  absl::Status status = PQresultStatus(result) == PGRES_COMMAND_OK ||
                                PQresultStatus(result) == PGRES_TUPLES_OK
                            ? absl::OkStatus()
                            : absl::UnknownError(PQerrorMessage(db));
  PQclear(result);
  PQfinish(db);
  return status;
}

class SmokeTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    switch (GetParam()) {
      case Backend::kMemory:
        connection_ = ":memory:";
        break;
      case Backend::kFile:
        connection_ = absl::StrCat(
            ::testing::TempDir(), "smoke ",
            absl::StrReplaceAll(
                ::testing::UnitTest::GetInstance()->current_test_info()->name(),
                {{"/", "_"}}),
            ".db");
        std::remove(connection_.c_str());
        break;
      case Backend::kPostgres: {
        testing::PostgresServer* server = Postgres();
        ASSERT_NE(server, nullptr);
        absl::StatusOr<std::string> db = server->CreateFreshDatabase();
        ASSERT_TRUE(db.ok()) << db.status();
        connection_ = *db;
        break;
      }
    }
    absl::StatusOr<TaskStorePtr> store = OpenSociTaskStore(connection_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  v1::Task MustCreate(const v1::Task& task, absl::string_view request_id = "") {
    absl::StatusOr<v1::Task> created = store_->CreateTask(task, request_id);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.value_or(v1::Task());
  }

  std::string connection_;
  TaskStorePtr store_;
};

TEST_P(SmokeTest, CreateAppliesDefaultsAndRoundTripsMetadataAndTimes) {
  v1::Task created = MustCreate(TaskBuilder("write").WithMetadataJson(
      R"({"a": [1, 2.5, "x", null, true, {"b": {}}], "s": "it's; DROP TABLE tasks; --", "n": -1e300})"));
  EXPECT_GT(created.id(), 0);
  EXPECT_EQ(created.status(), v1::Task::PENDING);
  EXPECT_EQ(created.priority(), v1::Task::MEDIUM);
  EXPECT_EQ(created.etag(), "\"1\"");
  EXPECT_GT(created.create_time().seconds(), 1600000000);
  EXPECT_EQ(created.create_time().nanos() % 1000, 0);
  absl::StatusOr<v1::Task> got =
      store_->GetTask(created.id(), AccessScope::All());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*got, created))
      << got->DebugString() << "\nvs\n"
      << created.DebugString();
  EXPECT_FALSE(got->has_project_id());
}

TEST_P(SmokeTest, ConstraintsBecomeStatusesNamingTheField) {
  absl::StatusOr<v1::Project> project =
      store_->CreateProject(ProjectNamed("p"));
  ASSERT_TRUE(project.ok()) << project.status();
  MustCreate(TaskBuilder("t").InProject(project->id()));
  absl::StatusOr<v1::Task> duplicate =
      store_->CreateTask(TaskBuilder("t").InProject(project->id()), "");
  EXPECT_THAT(duplicate, StatusIs(absl::StatusCode::kAlreadyExists,
                                  HasSubstr("tasks_project_title_key")));
  EXPECT_THAT(duplicate, ReasonIs(reason::kTitleTaken));
  absl::StatusOr<v1::Task> orphan =
      store_->CreateTask(TaskBuilder("t").InProject(424242), "");
  EXPECT_THAT(orphan, StatusIs(absl::StatusCode::kFailedPrecondition,
                               HasSubstr("424242")));
  EXPECT_THAT(orphan, ReasonIs(reason::kProjectMissing));
  absl::StatusOr<v1::Task> untitled = store_->CreateTask(TaskBuilder(""), "");
  EXPECT_THAT(untitled, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(ErrorField(untitled.status()), "task.title");
  absl::StatusOr<v1::Task> bad_status = store_->CreateTask(
      TaskBuilder("s").WithStatus(static_cast<v1::Task::Status>(7)), "");
  EXPECT_EQ(ErrorField(bad_status.status()), "task.status");
  absl::StatusOr<v1::Task> nul =
      store_->CreateTask(TaskBuilder(std::string("a\0b", 3)), "");
  EXPECT_EQ(ErrorField(nul.status()), "task.title");
  // The failures left the store usable.
  MustCreate(TaskBuilder("after failures"));
}

TEST_P(SmokeTest, MetadataFilterMatchesJsonValuesOfEscapedKeys) {
  const std::string key = "tab\t\u202e";
  v1::Task task = MustCreate(TaskBuilder("m").WithMetadataJson(absl::StrCat(
      R"({")", key, R"(": {"z": [1, true], "a": null}, "n": 1, "b": true})")));
  MustCreate(TaskBuilder("other").WithMetadataJson(R"({"n": "1", "b": 1})"));
  struct Case {
    std::string key;
    std::string value;
    int matches;
  };
  for (const Case& c : std::vector<Case>{
           {std::string("tab\t\u202e"), R"({"a": null, "z": [1, true]})", 1},
           {"n", "1", 1},
           {"n", "1.0", 1},
           {"n", R"("1")", 1},
           {"b", "true", 1},
           {"b", "1", 1},
           {"b", "false", 0},
           {"missing", "null", 0}}) {
    v1::ListTasksRequest request;
    request.set_metadata_key(
        testing::StructFromJson(absl::StrCat(R"({")", c.key, R"(": 0})"))
            .fields()
            .begin()
            ->first);
    *request.mutable_metadata_value() = ValueFromJson(c.value);
    absl::StatusOr<v1::ListTasksResponse> listed = store_->ListTasks(request);
    ASSERT_TRUE(listed.ok()) << listed.status();
    EXPECT_EQ(listed->tasks_size(), c.matches) << c.key << " = " << c.value;
  }
  (void)task;
}

TEST_P(SmokeTest, UpdateChecksEtagAndMask) {
  v1::Task task = MustCreate(TaskBuilder("u"));
  v1::Task change = TaskBuilder("u2").WithId(task.id()).WithEtag(task.etag());
  absl::StatusOr<v1::Task> updated =
      store_->UpdateTask(change, MaskOf({"title"}), AccessScope::All());
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->title(), "u2");
  EXPECT_EQ(updated->etag(), "\"2\"");
  EXPECT_THAT(store_->UpdateTask(change, MaskOf({"title"}), AccessScope::All()),
              ReasonIs(reason::kEtagMismatch));
  EXPECT_THAT(store_->UpdateTask(change, MaskOf({"id"}), AccessScope::All()),
              ReasonIs(reason::kInvalidFieldMask));
  v1::Task missing = TaskBuilder("x").WithId(999999);
  EXPECT_THAT(
      store_->UpdateTask(missing, MaskOf({"title"}), AccessScope::All()),
      ReasonIs(reason::kTaskNotFound));
}

TEST_P(SmokeTest, PagesVisitEveryTaskOnceInEachOrder) {
  for (int i = 0; i < 23; ++i) {
    MustCreate(TaskBuilder(absl::StrCat("task ", (i * 7) % 23))
                   .WithPriority(static_cast<v1::Task::Priority>(1 + i % 3))
                   .WithMetadataJson(i % 2 ? R"({"k": "odd"})" : "{}"));
  }
  for (const char* order :
       {"", "create_time", "create_time desc", "priority desc", "title"}) {
    v1::ListTasksRequest request;
    request.set_order_by(order);
    request.set_page_size(5);
    std::vector<int64_t> seen;
    std::string previous_title;
    do {
      absl::StatusOr<v1::ListTasksResponse> page = store_->ListTasks(request);
      ASSERT_TRUE(page.ok()) << order << ": " << page.status();
      for (const v1::Task& task : page->tasks()) {
        seen.push_back(task.id());
        if (std::string(order) == "title") {
          EXPECT_LT(previous_title, task.title());
          previous_title = task.title();
        }
      }
      request.set_page_token(page->next_page_token());
    } while (!request.page_token().empty());
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen.size(), 23u) << order;
    EXPECT_EQ(std::unique(seen.begin(), seen.end()), seen.end()) << order;
  }
  v1::ListTasksRequest filtered;
  filtered.set_metadata_key("k");
  *filtered.mutable_metadata_value() = ValueFromJson(R"("odd")");
  absl::StatusOr<v1::ListTasksResponse> odd = store_->ListTasks(filtered);
  ASSERT_TRUE(odd.ok()) << odd.status();
  EXPECT_EQ(odd->tasks_size(), 11);

  v1::ListTasksRequest first;
  first.set_page_size(2);
  absl::StatusOr<v1::ListTasksResponse> page = store_->ListTasks(first);
  ASSERT_TRUE(page.ok());
  std::string token = page->next_page_token();
  token[token.size() / 2] = token[token.size() / 2] == 'A' ? 'B' : 'A';
  first.set_page_token(token);
  EXPECT_THAT(store_->ListTasks(first), ReasonIs(reason::kInvalidPageToken));
  first.set_page_token(page->next_page_token());
  first.set_order_by("title");
  EXPECT_THAT(store_->ListTasks(first), ReasonIs(reason::kInvalidPageToken));
}

TEST_P(SmokeTest, ScopedListsShowOnlyAllowedProjects) {
  std::vector<int64_t> projects;
  for (int p = 0; p < 3; ++p) {
    absl::StatusOr<v1::Project> project =
        store_->CreateProject(ProjectNamed(absl::StrCat("p", p)));
    ASSERT_TRUE(project.ok());
    projects.push_back(project->id());
    for (int t = 0; t < 4; ++t) {
      MustCreate(TaskBuilder(absl::StrCat("t", t)).InProject(project->id()));
    }
  }
  MustCreate(TaskBuilder("no project"));
  AccessScope scope;
  scope.allowed_project_ids = {projects[2], projects[0], projects[2]};
  v1::ListTasksRequest request;
  request.set_page_size(3);
  std::vector<int64_t> seen_projects;
  do {
    absl::StatusOr<v1::ListTasksResponse> page =
        store_->ListTasks(request, scope);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const v1::Task& task : page->tasks()) {
      seen_projects.push_back(task.project_id());
    }
    if (!page->next_page_token().empty()) {
      // Another scope cannot continue this list.
      v1::ListTasksRequest other = request;
      other.set_page_token(page->next_page_token());
      EXPECT_THAT(store_->ListTasks(other),
                  ReasonIs(reason::kInvalidPageToken));
    }
    request.set_page_token(page->next_page_token());
  } while (!request.page_token().empty());
  EXPECT_THAT(seen_projects,
              ::testing::UnorderedElementsAre(
                  projects[0], projects[0], projects[0], projects[0],
                  projects[2], projects[2], projects[2], projects[2]));
  absl::StatusOr<v1::ListProjectsResponse> listed =
      store_->ListProjects(10, "", scope);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->projects_size(), 2);
  EXPECT_EQ(listed->projects(0).id(), projects[0]);
  AccessScope nothing;
  nothing.allowed_project_ids.emplace();
  absl::StatusOr<v1::ListTasksResponse> none =
      store_->ListTasks(v1::ListTasksRequest(), nothing);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->tasks_size(), 0);
}

TEST_P(SmokeTest, BatchIsAllOrNothingAndRequestIdReplays) {
  v1::Task first = MustCreate(TaskBuilder("once"), "req-1");
  v1::Task again = MustCreate(TaskBuilder("once"), "req-1");
  EXPECT_EQ(first.id(), again.id());
  EXPECT_THAT(store_->CreateTask(TaskBuilder("other title"), "req-1"),
              ReasonIs(reason::kRequestIdReused));

  v1::BatchCreateTasksRequest batch;
  *batch.add_requests() = testing::CreateRequest(TaskBuilder("b0"));
  *batch.add_requests() =
      testing::CreateRequest(TaskBuilder("b1").InProject(77));
  absl::StatusOr<v1::BatchCreateTasksResponse> failed =
      store_->BatchCreateTasks(batch);
  EXPECT_THAT(failed, StatusIs(absl::StatusCode::kFailedPrecondition,
                               HasSubstr("requests[1]")));
  EXPECT_EQ(ErrorField(failed.status()), "requests[1].task.project_id");
  v1::ListTasksRequest all;
  absl::StatusOr<v1::ListTasksResponse> listed = store_->ListTasks(all);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->tasks_size(), 1);  // b0 rolled back
  batch.mutable_requests(1)->mutable_task()->clear_project_id();
  absl::StatusOr<v1::BatchCreateTasksResponse> created =
      store_->BatchCreateTasks(batch);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->tasks_size(), 2);
}

TEST_P(SmokeTest, DeleteProjectNeedsCascadeWhileItHasTasks) {
  absl::StatusOr<v1::Project> project =
      store_->CreateProject(ProjectNamed("p"));
  ASSERT_TRUE(project.ok());
  v1::Task task = MustCreate(TaskBuilder("t").InProject(project->id()));
  EXPECT_THAT(store_->DeleteProject(project->id(), false),
              ReasonIs(reason::kProjectHasTasks));
  EXPECT_TRUE(store_->DeleteProject(project->id(), true).ok());
  EXPECT_THAT(store_->GetTask(task.id(), AccessScope::All()),
              ReasonIs(reason::kTaskNotFound));
  EXPECT_THAT(store_->DeleteProject(project->id(), false),
              ReasonIs(reason::kProjectNotFound));
  EXPECT_TRUE(store_->CheckHealth().ok());
}

TEST_P(SmokeTest, ConcurrentWritesFailAloneAndSucceedDurably) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  std::atomic<int> duplicates_created{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        absl::StatusOr<v1::Task> task =
            store_->CreateTask(TaskBuilder(absl::StrCat(t, "-", i)), "");
        if (!task.ok()) {
          ++failures;
          ADD_FAILURE() << task.status();
          continue;
        }
        if (!store_->GetTask(task->id(), AccessScope::All()).ok()) ++failures;
        // One writer wins each title; the losers' failures undo only them.
        absl::StatusOr<v1::Project> project =
            store_->CreateProject(ProjectNamed("shared"));
        if (!project.ok()) ++failures;
        absl::StatusOr<v1::Task> duplicate = store_->CreateTask(
            TaskBuilder(absl::StrCat("dup ", i)).InProject(1), "");
        if (duplicate.ok()) {
          ++duplicates_created;
        } else if (duplicate.status().code() !=
                   absl::StatusCode::kAlreadyExists) {
          ++failures;
          ADD_FAILURE() << duplicate.status();
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(duplicates_created.load(), 25);
  v1::ListTasksRequest all;
  all.set_page_size(1000);
  absl::StatusOr<v1::ListTasksResponse> listed = store_->ListTasks(all);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->tasks_size(), 8 * 25 + 25);
}

TEST_P(SmokeTest, LostPostgresConnectionIsUnavailableThenReconnects) {
  if (GetParam() != Backend::kPostgres) return;  // SQLite cannot lose it
  v1::Task task = MustCreate(TaskBuilder("survivor"));
  testing::PostgresServer* server = Postgres();
  ASSERT_TRUE(server->Stop().ok());
  EXPECT_THAT(store_->GetTask(task.id(), AccessScope::All()),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(store_->CreateTask(TaskBuilder("lost"), ""),
              ReasonIs(reason::kDatabaseUnavailable));
  EXPECT_THAT(store_->CheckHealth(), StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_TRUE(server->Restart().ok());
  EXPECT_TRUE(store_->CheckHealth().ok());
  absl::StatusOr<v1::Task> got = store_->GetTask(task.id(), AccessScope::All());
  EXPECT_TRUE(got.ok()) << got.status();
  MustCreate(TaskBuilder("after restart"));
}

TEST_P(SmokeTest, StoresOpenedAtOnceMigrateOnce) {
  if (GetParam() == Backend::kMemory) return;  // private to each store
  std::string connection = connection_;
  if (GetParam() == Backend::kFile) {
    connection = absl::StrCat(connection_, ".race.db");
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::remove(absl::StrCat(connection, suffix).c_str());
    }
  } else {
    absl::StatusOr<std::string> db = Postgres()->CreateFreshDatabase();
    ASSERT_TRUE(db.ok());
    connection = *db;
  }
  std::vector<std::thread> threads;
  std::vector<absl::StatusOr<TaskStorePtr>> stores(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] { stores[i] = OpenSociTaskStore(connection); });
  }
  for (std::thread& thread : threads) thread.join();
  for (auto& store : stores) ASSERT_TRUE(store.ok()) << store.status();
  // They share the page token secret: a token from one works on another.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        (*stores[0])->CreateTask(TaskBuilder(absl::StrCat(i)), "").ok());
  }
  v1::ListTasksRequest request;
  request.set_page_size(1);
  absl::StatusOr<v1::ListTasksResponse> page = (*stores[1])->ListTasks(request);
  ASSERT_TRUE(page.ok());
  request.set_page_token(page->next_page_token());
  EXPECT_TRUE((*stores[2])->ListTasks(request).ok());
}

TEST_P(SmokeTest, DeadlineStopsWaitingForALockedDatabase) {
  if (GetParam() == Backend::kMemory) return;  // no second connection
  v1::Task task = MustCreate(TaskBuilder("before the lock"));
  // Another connection holds the write lock (SQLite) or the table (PostgreSQL).
  sqlite3* sqlite = nullptr;
  PGconn* postgres = nullptr;
  if (GetParam() == Backend::kFile) {
    ASSERT_EQ(sqlite3_open(connection_.c_str(), &sqlite), SQLITE_OK);
    ASSERT_EQ(
        sqlite3_exec(sqlite, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr),
        SQLITE_OK);
  } else {
    postgres = PQconnectdb(connection_.c_str());
    ASSERT_EQ(PQstatus(postgres), CONNECTION_OK);
    PQclear(PQexec(postgres, "BEGIN"));
    PGresult* locked = PQexec(postgres, "LOCK TABLE tasks");
    ASSERT_EQ(PQresultStatus(locked), PGRES_COMMAND_OK);
    PQclear(locked);
  }
  const absl::Time start = absl::Now();
  {
    ScopedCallDeadline deadline(start + absl::Milliseconds(50));
    EXPECT_THAT(store_->CreateTask(TaskBuilder("blocked"), ""),
                StatusIs(absl::StatusCode::kDeadlineExceeded));
  }
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(500));
  {
    ScopedCallDeadline passed(absl::Now() - absl::Seconds(1));
    EXPECT_THAT(store_->GetTask(task.id(), AccessScope::All()),
                ReasonIs(reason::kDeadlineExceeded));
  }
  if (sqlite != nullptr) {
    sqlite3_exec(sqlite, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(sqlite);
  }
  if (postgres != nullptr) {
    PQclear(PQexec(postgres, "ROLLBACK"));
    PQfinish(postgres);
  }
  // The store carries on.
  {
    ScopedCallDeadline deadline(absl::Now() + absl::Seconds(5));
    MustCreate(TaskBuilder("after the lock"));
  }
  EXPECT_TRUE(store_->GetTask(task.id(), AccessScope::All()).ok());
}

TEST_P(SmokeTest, SchemaRefusesEmptyTitlesAndNamesAfterUpgrade) {
  if (GetParam() == Backend::kMemory) return;  // no second connection
  // Back to schema version 1, as an older build left it. (On SQLite the
  // tasks table keeps version 3's extra columns: version 3 rebuilds it from
  // version 1's columns, which it has.)
  store_.reset();
  const std::string downgrade =
      GetParam() == Backend::kFile
          ? "DROP TRIGGER tasks_title_not_empty_insert; "
            "DROP TRIGGER tasks_title_not_empty_update; "
            "DROP TRIGGER projects_name_not_empty_insert; "
            "DROP TRIGGER projects_name_not_empty_update; "
            "DELETE FROM schema_migrations WHERE version >= 2"
          : "ALTER TABLE tasks DROP CONSTRAINT tasks_title_not_empty, "
            "DROP CONSTRAINT tasks_scope_request_id_key, "
            "DROP COLUMN idempotency_scope, DROP COLUMN request_fingerprint, "
            "ADD CONSTRAINT tasks_request_id_key UNIQUE (request_id); "
            "ALTER TABLE projects DROP CONSTRAINT projects_name_not_empty; "
            "DELETE FROM schema_migrations WHERE version >= 2";
  ASSERT_TRUE(RawExec(GetParam(), connection_, downgrade).ok());
  ASSERT_TRUE(
      RawExec(GetParam(), connection_, "INSERT INTO tasks (title) VALUES ('')")
          .ok());
  ASSERT_TRUE(
      RawExec(GetParam(), connection_, "DELETE FROM tasks WHERE title = ''")
          .ok());
  absl::StatusOr<TaskStorePtr> reopened = OpenSociTaskStore(connection_);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  store_ = *std::move(reopened);
  EXPECT_THAT(
      RawExec(GetParam(), connection_, "INSERT INTO tasks (title) VALUES ('')"),
      StatusIs(absl::StatusCode::kUnknown, HasSubstr("tasks_title_not_empty")));
  EXPECT_THAT(RawExec(GetParam(), connection_,
                      "INSERT INTO projects (name) VALUES ('')"),
              StatusIs(absl::StatusCode::kUnknown,
                       HasSubstr("projects_name_not_empty")));
  v1::Task task = MustCreate(TaskBuilder("named"));
  EXPECT_THAT(RawExec(GetParam(), connection_,
                      absl::StrCat("UPDATE tasks SET title = '' WHERE id = ",
                                   task.id())),
              StatusIs(absl::StatusCode::kUnknown));
  absl::StatusOr<v1::Task> untitled = store_->CreateTask(TaskBuilder(""), "");
  EXPECT_EQ(ErrorField(untitled.status()), "task.title");
}

TEST(OpenSmokeTest, BadConnectionStringsAreInvalidAndDeadServersUnavailable) {
  EXPECT_THAT(OpenSociTaskStore("host=/tmp port"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(OpenSociTaskStore(""),
              StatusIs(absl::StatusCode::kInvalidArgument));
  SociTaskStoreOptions quick;
  quick.wait_timeout = absl::Seconds(2);
  EXPECT_THAT(OpenSociTaskStore("postgresql://nobody@127.0.0.1:1/none", quick),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(OpenSociTaskStore("/nonexistent/directory/tasks.db"),
              StatusIs(absl::StatusCode::kUnavailable));
}

INSTANTIATE_TEST_SUITE_P(Backends, SmokeTest,
                         ::testing::Values(Backend::kMemory, Backend::kFile,
                                           Backend::kPostgres),
                         [](const auto& info) {
                           switch (info.param) {
                             case Backend::kMemory:
                               return "Memory";
                             case Backend::kFile:
                               return "File";
                             default:
                               return "Postgres";
                           }
                         });

}  // namespace
}  // namespace tasks::storage
