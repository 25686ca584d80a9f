// The TaskStore contract on every selected backend (see
// task_store_fixture.h). Connections and concurrency: pooled connections,
// several stores on one database, reopening, health.

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/call_deadline.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/soci_task_store.h"
#include "storage/task_store.h"
#include "tasks/v1/tasks.pb.h"
#include "tests/reliability/database_lock.h"
#include "tests/storage/task_store_fixture.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/proto_matchers.h"
#include "tests/testing/raw_sql.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/store_backends.h"
#include "tests/testing/task_builders.h"

namespace tasks::storage {
namespace {

using ::tasks::reliability::DatabaseWriteLock;
using ::tasks::testing::EqualsProto;
using ::tasks::testing::FreshStoreDatabase;
using ::tasks::testing::IsOkAndHolds;
using ::tasks::testing::MaskOf;
using ::tasks::testing::PastPgBouncer;
using ::tasks::testing::PostgresServer;
using ::tasks::testing::PostgresThroughPgBouncer;
using ::tasks::testing::ProjectNamed;
using ::tasks::testing::QueryRawSql;
using ::tasks::testing::ReasonIs;
using ::tasks::testing::StatusIs;
using ::tasks::testing::StoreBackend;
using ::tasks::testing::StoreLocation;
using ::tasks::testing::TaskBuilder;
using ::tasks::testing::TestPostgresServer;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using Code = ::absl::StatusCode;

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

TEST_P(TaskStoreTest, CheckHealthIsOk) { EXPECT_OK(store().CheckHealth()); }

// A database replaced under a running server (restored from an older
// backup, recreated empty) still answers, but every call would fail on it:
// health says so, and the server then reports NOT_SERVING.
TEST_P(TaskStoreTest, CheckHealthNeedsTheSchemaTheStoreMigratedTo) {
  ASSERT_OK_AND_ASSIGN(std::string connection,
                       FreshStoreDatabase(backend(), StoreLocation::kShared));
  ASSERT_OK_AND_ASSIGN(TaskStorePtr store, OpenSociTaskStore(connection));
  EXPECT_OK(store->CheckHealth());
  ASSERT_OK(QueryRawSql(backend(), connection,
                        "DELETE FROM schema_migrations WHERE version = "
                        "(SELECT MAX(version) FROM schema_migrations)")
                .status());
  EXPECT_THAT(store->CheckHealth(), StatusIs(Code::kFailedPrecondition,
                                             HasSubstr("this server needs")));
  ASSERT_OK(QueryRawSql(backend(), connection, "DROP TABLE schema_migrations")
                .status());
  EXPECT_FALSE(store->CheckHealth().ok());
}

// A SQLite file deleted, or replaced by another, under a running store: its
// open connections would go on writing to the unlinked file, whose rows the
// next start never sees. Health fails and writes are refused instead.
TEST_P(TaskStoreTest, SqliteFileRemovedOrReplacedUnderTheStoreIsNoticed) {
  if (backend() != StoreBackend::kSqlite) {
    // A server's database has no file to lose; the check passes.
    EXPECT_OK(store().CheckHealth());
    return;
  }
  for (const bool recreate : {false, true}) {
    SCOPED_TRACE(recreate ? "replaced" : "removed");
    ASSERT_OK_AND_ASSIGN(std::string path,
                         FreshStoreDatabase(backend(), StoreLocation::kShared));
    ASSERT_OK_AND_ASSIGN(TaskStorePtr store, OpenSociTaskStore(path));
    ASSERT_OK(store->CreateTask(TaskBuilder("kept"), "").status());
    EXPECT_OK(store->CheckHealth());
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::remove(absl::StrCat(path, suffix).c_str());
    }
    // An empty file is an empty SQLite database.
    if (recreate) std::ofstream(path, std::ios::binary).flush();
    const std::string what =
        recreate ? "was replaced by another file" : "was removed or renamed";
    EXPECT_THAT(store->CheckHealth(),
                StatusIs(Code::kFailedPrecondition, HasSubstr(what)));
    EXPECT_THAT(store->CreateTask(TaskBuilder("lost"), ""),
                StatusIs(Code::kFailedPrecondition, HasSubstr(what)));
  }
}

TEST_P(TaskStoreTest, OpeningUnreachableDatabaseIsUnavailable) {
  const std::string connection =
      backend() == StoreBackend::kSqlite
          ? "/nonexistent-directory/for/sure/tasks.db"
          : "postgresql://postgres@127.0.0.1:1/tasks?connect_timeout=2";
  EXPECT_THAT(OpenSociTaskStore(connection), StatusIs(Code::kUnavailable));
}

TEST_P(TaskStoreTest, StoresOpenedAtOnceShareThePageTokenSecret) {
  ASSERT_OK_AND_ASSIGN(std::string connection,
                       FreshStoreDatabase(backend(), StoreLocation::kShared));
  constexpr int kStores = 4;
  std::vector<absl::StatusOr<TaskStorePtr>> stores(kStores);
  RunThreads(kStores,
             [&](int i) { stores[i] = OpenSociTaskStore(connection); });
  for (const absl::StatusOr<TaskStorePtr>& store : stores) ASSERT_OK(store);
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK((*stores[0])->CreateTask(TaskBuilder(absl::StrCat(i)), ""));
  }
  // A token from one store continues the list on another.
  v1::ListTasksRequest request;
  request.set_page_size(1);
  ASSERT_OK_AND_ASSIGN(v1::ListTasksResponse page,
                       (*stores[1])->ListTasks(request));
  request.set_page_token(page.next_page_token());
  EXPECT_OK((*stores[2])->ListTasks(request));
}

TEST_P(TaskStoreTest, DeadlineStopsWaitingForALockedDatabase) {
  // A database another connection can lock (a file on SQLite).
  ASSERT_OK_AND_ASSIGN(std::string connection,
                       FreshStoreDatabase(backend(), StoreLocation::kShared));
  ASSERT_OK_AND_ASSIGN(TaskStorePtr store, OpenSociTaskStore(connection));
  ASSERT_OK_AND_ASSIGN(v1::Task task,
                       store->CreateTask(TaskBuilder("before the lock"), ""));
  ASSERT_OK_AND_ASSIGN(std::string direct, PastPgBouncer(connection));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<DatabaseWriteLock> lock,
                       DatabaseWriteLock::Acquire(backend(), direct));
  const absl::Time start = absl::Now();
  {
    ScopedCallDeadline deadline(start + absl::Milliseconds(50));
    EXPECT_THAT(store->CreateTask(TaskBuilder("blocked"), ""),
                StatusIs(Code::kDeadlineExceeded));
  }
  const absl::Duration waited = absl::Now() - start;
  std::cout << "FIGURE a write with a 50 ms deadline on a locked database "
               "returned after "
            << waited << "\n";
  EXPECT_LT(waited, absl::Milliseconds(500));
  {
    ScopedCallDeadline passed(absl::Now() - absl::Seconds(1));
    EXPECT_THAT(store->GetTask(task.id(), kEveryRow),
                ReasonIs(reason::kDeadlineExceeded));
  }
  lock->Release();
  // The store carries on.
  {
    ScopedCallDeadline deadline(absl::Now() + absl::Seconds(5));
    EXPECT_OK(store->CreateTask(TaskBuilder("after the lock"), ""));
  }
  EXPECT_OK(store->GetTask(task.id(), kEveryRow));
}

TEST(OpenSociTaskStoreTest,
     BadConnectionStringsAreInvalidAndDeadServersUnavailable) {
  EXPECT_THAT(OpenSociTaskStore("host=/tmp port"),
              StatusIs(Code::kInvalidArgument));
  EXPECT_THAT(OpenSociTaskStore(""), StatusIs(Code::kInvalidArgument));
  SociTaskStoreOptions quick;
  quick.wait_timeout = absl::Seconds(2);
  EXPECT_THAT(OpenSociTaskStore("postgresql://nobody@127.0.0.1:1/none", quick),
              StatusIs(Code::kUnavailable));
  EXPECT_THAT(OpenSociTaskStore("/nonexistent/directory/tasks.db"),
              StatusIs(Code::kUnavailable));
}

}  // namespace
}  // namespace tasks::storage
