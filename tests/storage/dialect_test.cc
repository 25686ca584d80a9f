// Each backend's Dialect on a real database: the errors it classifies are
// the kinds and constraint names the store maps to statuses, the same on
// SQLite and PostgreSQL.
#include "storage/engine/dialect.h"

#include <memory>
#include <stdexcept>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soci/soci.h"
#include "storage/engine/db_error.h"
#include "storage/postgres/postgres_dialect.h"
#include "storage/soci_task_store.h"
#include "storage/sqlite/sqlite_dialect.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/store_backends.h"
#include "tests/testing/task_builders.h"

namespace tasks::storage {
namespace {

using ::tasks::testing::FreshStoreDatabase;
using ::tasks::testing::ProjectNamed;
using ::tasks::testing::RegisterStoreBackendEnvironment;
using ::tasks::testing::SelectedStoreBackends;
using ::tasks::testing::StoreBackend;
using ::tasks::testing::StoreBackendName;
using ::tasks::testing::StoreLocation;
using ::testing::HasSubstr;
using ::testing::Not;

const bool kRegistered = RegisterStoreBackendEnvironment();

absl::StatusOr<std::unique_ptr<Dialect>> DialectFor(
    StoreBackend backend, const std::string& connection) {
  if (backend == StoreBackend::kSqlite) {
    return MakeSqliteDialect(connection, absl::Seconds(1));
  }
  return MakePostgresDialect(connection, absl::Seconds(5));
}

class DialectTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  // A migrated database with two tasks, "a" and "b", in one project.
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(
        std::string connection,
        FreshStoreDatabase(GetParam(), StoreLocation::kShared));
    ASSERT_OK_AND_ASSIGN(store_, OpenSociTaskStore(connection));
    ASSERT_OK_AND_ASSIGN(v1::Project project,
                         store_->CreateProject(ProjectNamed("p")));
    for (const char* title : {"a", "b"}) {
      v1::Task task;
      task.set_project_id(project.id());
      task.set_title(title);
      ASSERT_OK_AND_ASSIGN(v1::Task created, store_->CreateTask(task, ""));
      (title[0] == 'a' ? task_a_ : task_b_) = created.id();
    }
    ASSERT_OK_AND_ASSIGN(dialect_, DialectFor(GetParam(), connection));
    session_ = dialect_->Connect();
  }

  // The classified error of `sql`, which must fail; run as a prepared
  // statement with `prepared`, as the store runs its statements.
  DbError ErrorOf(const std::string& sql, bool prepared = false) {
    try {
      if (prepared) {
        int one = 1;  // bound, as the store binds its parameters
        soci::statement statement =
            (session_->prepare << absl::StrCat(sql, " AND 1 = :one"),
             soci::use(one, "one"));
        statement.execute(true);
      } else {
        *session_ << sql;
      }
    } catch (const std::exception& error) {
      DbError classified = dialect_->ClassifyError(error, session_.get());
      EXPECT_TRUE(dialect_->Recover(*session_)) << sql;
      return classified;
    }
    ADD_FAILURE() << "no error from " << sql;
    return {};
  }

  TaskStorePtr store_;
  std::unique_ptr<Dialect> dialect_;
  std::unique_ptr<soci::session> session_;
  int64_t task_a_ = 0;
  int64_t task_b_ = 0;
};

TEST_P(DialectTest, DuplicateTitleIsUniqueViolationOfItsConstraint) {
  const DbError error = ErrorOf(
      absl::StrCat("UPDATE tasks SET title = 'a' WHERE id = ", task_b_));
  EXPECT_EQ(error.kind, DbErrorKind::kUniqueViolation) << error.message;
  EXPECT_EQ(error.constraint, constraint::kTaskTitleUnique);
  EXPECT_FALSE(error.connection_lost);
}

TEST_P(DialectTest, MissingProjectIsForeignKeyViolation) {
  const DbError error = ErrorOf(absl::StrCat(
      "UPDATE tasks SET project_id = 999999 WHERE id = ", task_a_));
  EXPECT_EQ(error.kind, DbErrorKind::kForeignKeyViolation) << error.message;
  EXPECT_EQ(error.constraint, constraint::kTaskProjectForeignKey);
}

TEST_P(DialectTest, UnknownStatusIsCheckViolationOfItsConstraint) {
  const DbError error = ErrorOf(
      absl::StrCat("UPDATE tasks SET status = 99 WHERE id = ", task_a_));
  EXPECT_EQ(error.kind, DbErrorKind::kCheckViolation) << error.message;
  EXPECT_EQ(error.constraint, constraint::kTaskStatusCheck);
}

TEST_P(DialectTest, MissingTitleIsNotNullViolationNamingTheColumn) {
  const DbError error = ErrorOf(
      absl::StrCat("UPDATE tasks SET title = NULL WHERE id = ", task_a_));
  EXPECT_EQ(error.kind, DbErrorKind::kNotNullViolation) << error.message;
  EXPECT_EQ(error.constraint, "title");
}

TEST_P(DialectTest, AfterAnErrorTheSessionStillWorks) {
  ErrorOf(absl::StrCat("UPDATE tasks SET status = 99 WHERE id = ", task_a_));
  EXPECT_FALSE(dialect_->InTransaction(*session_));
  std::string title;
  *session_ << absl::StrCat("SELECT title FROM tasks WHERE id = ", task_a_),
      soci::into(title);
  EXPECT_EQ(title, "a");
}

// What a client may see of an error (UNAVAILABLE's message) is the
// database's text, never the statement: that is the error's context, which
// only an INTERNAL error's logged detail holds (see db_error_test).
TEST_P(DialectTest, AnErrorsMessageDoesNotHoldItsStatement) {
  const DbError error = ErrorOf(
      absl::StrCat(
          "UPDATE /* statement-text */ tasks SET status = 99 WHERE id = ",
          task_a_),
      /*prepared=*/true);
  EXPECT_EQ(error.kind, DbErrorKind::kCheckViolation) << error.message;
  EXPECT_FALSE(error.message.empty());
  EXPECT_THAT(error.message, Not(HasSubstr("statement-text")));
  EXPECT_THAT(error.context, HasSubstr("statement-text"));
  DbError unavailable = error;
  unavailable.kind = DbErrorKind::kUnavailable;
  EXPECT_THAT(std::string(DbErrorToStatus(unavailable, {}).message()),
              Not(HasSubstr("statement-text")));
}

TEST_P(DialectTest, ErrorNotFromTheDatabaseIsOther) {
  const DbError error = dialect_->ClassifyError(
      std::runtime_error("not the database's"), session_.get());
  EXPECT_EQ(error.kind, DbErrorKind::kOther);
  EXPECT_FALSE(error.connection_lost);
}

TEST_P(DialectTest, TransactionIsSeenAndRolledBackByRecover) {
  *session_ << dialect_->begin_sql();
  EXPECT_TRUE(dialect_->InTransaction(*session_));
  *session_ << absl::StrCat("UPDATE tasks SET title = 'c' WHERE id = ",
                            task_a_);
  EXPECT_TRUE(dialect_->Recover(*session_));
  EXPECT_FALSE(dialect_->InTransaction(*session_));
  std::string title;
  *session_ << absl::StrCat("SELECT title FROM tasks WHERE id = ", task_a_),
      soci::into(title);
  EXPECT_EQ(title, "a");
}

INSTANTIATE_TEST_SUITE_P(Backends, DialectTest,
                         ::testing::ValuesIn(SelectedStoreBackends()),
                         [](const auto& info) {
                           return StoreBackendName(info.param);
                         });

}  // namespace
}  // namespace tasks::storage
