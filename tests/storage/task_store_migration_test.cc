// The TaskStore contract on every selected backend (see
// task_store_fixture.h). Migrations: an older build's database brought to the
// current schema.

#include <iostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "storage/schema/migration_scripts.h"
#include "storage/soci_task_store.h"
#include "storage/task_store.h"
#include "tasks/v1/tasks.pb.h"
#include "tests/storage/task_store_fixture.h"
#include "tests/testing/proto_matchers.h"
#include "tests/testing/raw_sql.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/store_backends.h"
#include "tests/testing/task_builders.h"

namespace tasks::storage {
namespace {

using ::tasks::testing::EqualsProto;
using ::tasks::testing::FreshStoreDatabase;
using ::tasks::testing::IsOkAndHolds;
using ::tasks::testing::ProjectNamed;
using ::tasks::testing::QueryRawSql;
using ::tasks::testing::StatusIs;
using ::tasks::testing::StoreBackend;
using ::tasks::testing::StoreLocation;
using ::tasks::testing::TaskBuilder;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Code = ::absl::StatusCode;

// Statements that take a current database back to schema version 2, as an
// older build left it: request_id unique in the whole table, no scope and no
// fingerprint.
// The schema version the store's migrations reach.
int LatestVersion(StoreBackend backend) {
  return (backend == StoreBackend::kSqlite ? SqliteMigrationScripts()
                                           : PostgresMigrationScripts())
      .back()
      .version;
}

// Statements that take a current database back to schema version 4: no
// change log (nor 0006's numbering function).
std::vector<std::string> DowngradeToVersion4(StoreBackend backend) {
  std::vector<std::string> statements;
  if (backend == StoreBackend::kSqlite) {
    statements = {"DROP TRIGGER task_changes_on_insert",
                  "DROP TRIGGER task_changes_on_update",
                  "DROP TRIGGER task_changes_on_delete"};
  } else {
    statements = {"DROP FUNCTION number_task_changes(integer)",
                  "DROP FUNCTION number_task_changes(integer, text)",
                  "DROP TRIGGER task_changes_record ON tasks",
                  "DROP FUNCTION record_task_change()",
                  "DROP FUNCTION unnumbered_task_changes(integer)"};
  }
  statements.insert(
      statements.end(),
      {"DROP TABLE task_changes", "DROP TABLE task_change_horizon",
       "DELETE FROM schema_migrations WHERE version >= 5"});
  return statements;
}

std::vector<std::string> DowngradeToVersion2(StoreBackend backend) {
  std::vector<std::string> statements = DowngradeToVersion4(backend);
  if (backend == StoreBackend::kPostgres) {
    statements.insert(
        statements.end(),
        {"ALTER TABLE tasks DROP CONSTRAINT tasks_scope_request_id_key, "
         "DROP COLUMN idempotency_scope, DROP COLUMN request_fingerprint, "
         "DROP COLUMN due_time, "
         "ADD CONSTRAINT tasks_request_id_key UNIQUE (request_id)",
         "DELETE FROM schema_migrations WHERE version >= 3"});
    return statements;
  }
  // SQLite drops no column of a UNIQUE constraint: the table is rebuilt as
  // version 1 made it (its CHECKs left out), with its indexes and a trigger.
  statements.insert(
      statements.end(),
      {"CREATE TABLE tasks_v2 (id INTEGER PRIMARY KEY AUTOINCREMENT, "
       "project_id INTEGER NULL REFERENCES projects (id) ON DELETE CASCADE, "
       "title TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', "
       "status INTEGER NOT NULL DEFAULT 1, priority INTEGER NOT NULL DEFAULT "
       "2, "
       "metadata TEXT NOT NULL DEFAULT '{}', "
       "create_time INTEGER NOT NULL DEFAULT 0, "
       "update_time INTEGER NOT NULL DEFAULT 0, "
       "revision INTEGER NOT NULL DEFAULT 1, "
       "request_id TEXT NULL CONSTRAINT tasks_request_id_key UNIQUE, "
       "CONSTRAINT tasks_project_title_key UNIQUE (project_id, title)) STRICT",
       "DROP TABLE tasks", "ALTER TABLE tasks_v2 RENAME TO tasks",
       "CREATE INDEX tasks_project_idx ON tasks (project_id, id)",
       "CREATE INDEX tasks_create_time_idx ON tasks (create_time, id)",
       "CREATE INDEX tasks_priority_idx ON tasks (priority, id)",
       "CREATE INDEX tasks_title_idx ON tasks (title, id)",
       "CREATE TRIGGER tasks_title_not_empty_insert BEFORE INSERT ON tasks "
       "WHEN length(NEW.title) = 0 BEGIN SELECT RAISE(ABORT, "
       "'CHECK constraint failed: tasks_title_not_empty'); END",
       "DELETE FROM schema_migrations WHERE version >= 3"});
  return statements;
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
              IsOkAndHolds(absl::StrCat(LatestVersion(backend()))));
  EXPECT_THAT(QueryRawSql(backend(), connection,
                          "INSERT INTO tasks (title) VALUES ('')"),
              StatusIs(Code::kInternal, HasSubstr("tasks_title_not_empty")));
  const std::string indexes =
      backend() == StoreBackend::kSqlite
          ? "SELECT group_concat(name, ' ') FROM (SELECT name FROM "
            "sqlite_schema WHERE type = 'index' AND tbl_name = 'tasks' AND "
            "name LIKE 'tasks!_%!_idx' ESCAPE '!' ORDER BY name)"
          : "SELECT string_agg(indexname, ' ' ORDER BY indexname) FROM "
            "pg_indexes WHERE tablename = 'tasks' AND indexname LIKE "
            "'tasks!_%!_idx' ESCAPE '!'";
  // The indexes of a database made at the current version.
  ASSERT_OK_AND_ASSIGN(std::string fresh,
                       FreshStoreDatabase(backend(), StoreLocation::kShared));
  ASSERT_OK(OpenSociTaskStore(fresh));
  ASSERT_OK_AND_ASSIGN(std::string current_indexes,
                       QueryRawSql(backend(), fresh, indexes));
  EXPECT_THAT(QueryRawSql(backend(), connection, indexes),
              IsOkAndHolds(current_indexes));
  if (backend() == StoreBackend::kSqlite) {
    EXPECT_THAT(QueryRawSql(backend(), connection, "PRAGMA integrity_check"),
                IsOkAndHolds("ok"));
    EXPECT_THAT(QueryRawSql(backend(), connection, "PRAGMA foreign_key_check"),
                IsOkAndHolds(""));
  }
}

TEST_P(TaskStoreTest, MigrationToTheChangeLogKeepsTasksAndLogsLaterChanges) {
  ASSERT_OK_AND_ASSIGN(std::string connection,
                       FreshStoreDatabase(backend(), StoreLocation::kShared));
  v1::Task old;
  {
    ASSERT_OK_AND_ASSIGN(TaskStorePtr store, OpenSociTaskStore(connection));
    for (const std::string& sql : DowngradeToVersion4(backend())) {
      ASSERT_OK(QueryRawSql(backend(), connection, sql));
    }
    ASSERT_OK_AND_ASSIGN(old, store->CreateTask(TaskBuilder("old"), ""));
  }
  ASSERT_OK_AND_ASSIGN(TaskStorePtr store, OpenSociTaskStore(connection));
  EXPECT_THAT(QueryRawSql(backend(), connection,
                          "SELECT max(version) FROM schema_migrations"),
              IsOkAndHolds(absl::StrCat(LatestVersion(backend()))));
  // The log starts empty: the tasks from before are in lists, not in it.
  ASSERT_OK_AND_ASSIGN(v1::ListTasksResponse listed,
                       store->ListTasks(v1::ListTasksRequest()));
  ASSERT_EQ(listed.tasks_size(), 1);
  EXPECT_THAT(listed.tasks(0), EqualsProto(old));
  ASSERT_OK_AND_ASSIGN(ChangePosition position,
                       ChangePosition::Decode(listed.resume_token()));
  EXPECT_EQ(position.seq(), 0);
  ASSERT_OK(store->DeleteTask(old.id(), kEveryRow));
  ASSERT_OK(store->SequenceChanges().status());
  ASSERT_OK_AND_ASSIGN(std::vector<TaskChange> changes,
                       store->ReadChanges(position, 100));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].type, v1::TaskEvent::DELETED);
  EXPECT_THAT(changes[0].task, EqualsProto(old));
}

TEST_P(TaskStoreTest, SchemaRefusesEmptyTitlesAndNamesAfterUpgrade) {
  ASSERT_OK_AND_ASSIGN(std::string connection,
                       FreshStoreDatabase(backend(), StoreLocation::kShared));
  ASSERT_OK(OpenSociTaskStore(connection));
  // Back to schema version 1, as an older build left it. (On SQLite the
  // tasks table keeps version 3's extra columns: version 3 rebuilds it from
  // version 1's columns, which it has.)
  std::vector<std::string> downgrade = DowngradeToVersion4(backend());
  const std::vector<std::string> to_version1 =
      backend() == StoreBackend::kSqlite
          ? std::vector<
                std::string>{"DROP TRIGGER tasks_title_not_empty_insert",
                             "DROP TRIGGER tasks_title_not_empty_update",
                             "DROP TRIGGER projects_name_not_empty_insert",
                             "DROP TRIGGER projects_name_not_empty_update",
                             "DELETE FROM schema_migrations WHERE "
                             "version >= 2"}
          : std::vector<std::string>{
                "ALTER TABLE tasks DROP CONSTRAINT tasks_title_not_empty, "
                "DROP CONSTRAINT tasks_scope_request_id_key, "
                "DROP COLUMN idempotency_scope, DROP COLUMN "
                "request_fingerprint, DROP COLUMN due_time, "
                "ADD CONSTRAINT tasks_request_id_key UNIQUE (request_id)",
                "ALTER TABLE projects DROP CONSTRAINT projects_name_not_empty",
                "DELETE FROM schema_migrations WHERE version >= 2"};
  downgrade.insert(downgrade.end(), to_version1.begin(), to_version1.end());
  for (const std::string& sql : downgrade) {
    ASSERT_OK(QueryRawSql(backend(), connection, sql));
  }
  ASSERT_OK(QueryRawSql(backend(), connection,
                        "INSERT INTO tasks (title) VALUES ('')"));
  ASSERT_OK(
      QueryRawSql(backend(), connection, "DELETE FROM tasks WHERE title = ''"));

  ASSERT_OK_AND_ASSIGN(TaskStorePtr store, OpenSociTaskStore(connection));
  EXPECT_THAT(QueryRawSql(backend(), connection,
                          "INSERT INTO tasks (title) VALUES ('')"),
              StatusIs(Code::kInternal, HasSubstr("tasks_title_not_empty")));
  EXPECT_THAT(QueryRawSql(backend(), connection,
                          "INSERT INTO projects (name) VALUES ('')"),
              StatusIs(Code::kInternal, HasSubstr("projects_name_not_empty")));
  ASSERT_OK_AND_ASSIGN(v1::Task task,
                       store->CreateTask(TaskBuilder("named"), ""));
  EXPECT_THAT(
      QueryRawSql(
          backend(), connection,
          absl::StrCat("UPDATE tasks SET title = '' WHERE id = ", task.id())),
      StatusIs(Code::kInternal));
  EXPECT_EQ(ErrorField(store->CreateTask(TaskBuilder(""), "").status()),
            "task.title");
}

}  // namespace
}  // namespace tasks::storage
