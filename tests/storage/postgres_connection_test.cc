#include "storage/postgres/postgres_connection.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace tasks::storage {
namespace {

using ::tasks::testing::StatusIs;

TEST(ParsePostgresConnectionTest, WithoutOptionKeepsStringAndNamedStatements) {
  ASSERT_OK_AND_ASSIGN(PostgresConnection parsed,
                       ParsePostgresConnection("host=db dbname=tasks"));
  EXPECT_EQ(parsed.libpq, "host=db dbname=tasks");
  EXPECT_TRUE(parsed.named_statements);
}

TEST(ParsePostgresConnectionTest, UrlOptionOffIsStrippedFromQuery) {
  ASSERT_OK_AND_ASSIGN(
      PostgresConnection parsed,
      ParsePostgresConnection("postgresql://u@db:6432/tasks?sslmode=disable&"
                              "prepared_statements=off&application_name=x"));
  EXPECT_EQ(parsed.libpq,
            "postgresql://u@db:6432/tasks?sslmode=disable&application_name=x");
  EXPECT_FALSE(parsed.named_statements);
}

TEST(ParsePostgresConnectionTest, UrlWithOnlyTheOptionLosesTheQuery) {
  ASSERT_OK_AND_ASSIGN(
      PostgresConnection parsed,
      ParsePostgresConnection("postgres://db/tasks?prepared_statements=off"));
  EXPECT_EQ(parsed.libpq, "postgres://db/tasks");
  EXPECT_FALSE(parsed.named_statements);
}

TEST(ParsePostgresConnectionTest, KeywordOptionIsStrippedQuotedValuesKept) {
  ASSERT_OK_AND_ASSIGN(
      PostgresConnection parsed,
      ParsePostgresConnection("host=db password='a b\\' c' "
                              "prepared_statements = 'off'  dbname=tasks"));
  EXPECT_EQ(parsed.libpq, "host=db password='a b\\' c' dbname=tasks");
  EXPECT_FALSE(parsed.named_statements);
}

TEST(ParsePostgresConnectionTest, OnKeepsNamedStatements) {
  ASSERT_OK_AND_ASSIGN(
      PostgresConnection parsed,
      ParsePostgresConnection("prepared_statements=on host=db"));
  EXPECT_EQ(parsed.libpq, "host=db");
  EXPECT_TRUE(parsed.named_statements);
}

TEST(ParsePostgresConnectionTest, OtherValueIsInvalidArgument) {
  EXPECT_THAT(
      ParsePostgresConnection("host=db prepared_statements=no"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               ::testing::HasSubstr("prepared_statements must be on or off")));
}

}  // namespace
}  // namespace tasks::storage
