#include "service/database_source.h"

#include <stdlib.h>

#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace tasks::service {
namespace {

using ::tasks::testing::IsOkAndHolds;
using ::tasks::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kDsn[] = "postgresql://tasks:hunter2-secret@db/tasks";

std::string WriteFile(const std::string& name, const std::string& content) {
  const std::string path = std::string(getenv("TEST_TMPDIR")) + "/" + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

TEST(ReadDatabaseSettingTest, NothingSetIsTheDefaultSqliteFile) {
  EXPECT_THAT(ReadDatabaseSetting({}), IsOkAndHolds(std::string("tasks.db")));
}

TEST(ReadDatabaseSettingTest, LiteralIsUsedAsIs) {
  DatabaseSource source;
  source.literal = ":memory:";
  EXPECT_THAT(ReadDatabaseSetting(source),
              IsOkAndHolds(std::string(":memory:")));
}

TEST(ReadDatabaseSettingTest, FileIsReadWithoutTrailingLineBreaks) {
  DatabaseSource source;
  source.file = WriteFile("dsn", std::string(kDsn) + "\n");
  EXPECT_THAT(ReadDatabaseSetting(source), IsOkAndHolds(std::string(kDsn)));
  source.file = WriteFile("dsn_crlf", std::string(kDsn) + "\r\n\n");
  EXPECT_THAT(ReadDatabaseSetting(source), IsOkAndHolds(std::string(kDsn)));
  source.file = WriteFile("dsn_bare", kDsn);
  EXPECT_THAT(ReadDatabaseSetting(source), IsOkAndHolds(std::string(kDsn)));
}

TEST(ReadDatabaseSettingTest, MissingOrEmptyFileIsInvalidArgument) {
  DatabaseSource source;
  source.file = "/nonexistent/dsn";
  EXPECT_THAT(
      ReadDatabaseSetting(source),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("--db_file"), HasSubstr("/nonexistent/dsn"),
                     HasSubstr("No such file"))));
  source.file = WriteFile("empty", "\n");
  EXPECT_THAT(ReadDatabaseSetting(source),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
}

TEST(ReadDatabaseSettingTest, EnvironmentVariableIsRead) {
  ASSERT_EQ(setenv("TASKS_TEST_DSN", kDsn, 1), 0);
  DatabaseSource source;
  source.env_var = "TASKS_TEST_DSN";
  EXPECT_THAT(ReadDatabaseSetting(source), IsOkAndHolds(std::string(kDsn)));
  unsetenv("TASKS_TEST_DSN");
}

TEST(ReadDatabaseSettingTest, UnsetEnvironmentVariableIsInvalidArgument) {
  unsetenv("TASKS_TEST_UNSET_DSN");
  DatabaseSource source;
  source.env_var = "TASKS_TEST_UNSET_DSN";
  EXPECT_THAT(ReadDatabaseSetting(source),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--db_env"),
                             HasSubstr("TASKS_TEST_UNSET_DSN"))));
}

TEST(ReadDatabaseSettingTest, MoreThanOneSourceIsInvalidArgument) {
  DatabaseSource source;
  source.literal = kDsn;
  source.file = WriteFile("dsn2", kDsn);
  absl::StatusOr<std::string> both = ReadDatabaseSetting(source);
  EXPECT_THAT(both, StatusIs(absl::StatusCode::kInvalidArgument,
                             HasSubstr("--db, --db_file or --db_env")));
  EXPECT_THAT(both.status().message(), Not(HasSubstr("hunter2")));
  source.file.clear();
  source.env_var = "HOME";
  EXPECT_THAT(ReadDatabaseSetting(source),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// Taken for a SQLite file, it would hold the data PostgreSQL was meant to.
TEST(ReadDatabaseSettingTest, MistypedUrlIsRefusedNamingItsFlagNotItsSecret) {
  constexpr char kMistyped[] = "postgresql:/tasks:hunter2-secret@db/tasks";
  DatabaseSource source;
  source.literal = kMistyped;
  absl::StatusOr<std::string> literal = ReadDatabaseSetting(source);
  EXPECT_THAT(literal, StatusIs(absl::StatusCode::kInvalidArgument,
                                HasSubstr("--db: the connection string starts "
                                          "with \"postgresql:\"")));
  EXPECT_THAT(literal.status().message(), Not(HasSubstr("hunter2")));
  source.literal.clear();
  source.file = WriteFile("mistyped", kMistyped);
  EXPECT_THAT(ReadDatabaseSetting(source),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--db_file: the connection string")));
  source.file.clear();
  ASSERT_EQ(setenv("TASKS_TEST_MISTYPED_DSN", "sqlite:tasks.db", 1), 0);
  source.env_var = "TASKS_TEST_MISTYPED_DSN";
  EXPECT_THAT(ReadDatabaseSetting(source),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--db_env: the connection string starts "
                                 "with \"sqlite:\"")));
  unsetenv("TASKS_TEST_MISTYPED_DSN");
}

}  // namespace
}  // namespace tasks::service
