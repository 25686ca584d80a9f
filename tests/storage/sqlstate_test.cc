#include "storage/postgres/sqlstate.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/engine/db_error.h"

namespace tasks::storage {
namespace {

TEST(ClassifySqlStateTest, ContextAndQueryLinesAreNotTheMessage) {
  const DbError cancelled = ClassifySqlState(
      "57014",
      "ERROR:  canceling statement due to statement timeout\n"
      "CONTEXT:  PL/pgSQL function unnumbered_task_changes(integer) line 2 "
      "at RETURN QUERY");
  EXPECT_EQ(cancelled.kind, DbErrorKind::kUnavailable);
  EXPECT_EQ(cancelled.message,
            "ERROR:  canceling statement due to statement timeout");
  EXPECT_EQ(cancelled.context,
            "\nCONTEXT:  PL/pgSQL function unnumbered_task_changes(integer) "
            "line 2 at RETURN QUERY");

  const DbError syntax = ClassifySqlState(
      "42601",
      "ERROR:  syntax error at or near \"FORM\"\nLINE 1: SELECT 1 FORM t\n"
      "                 ^");
  EXPECT_EQ(syntax.message, "ERROR:  syntax error at or near \"FORM\"");
  EXPECT_THAT(syntax.context, ::testing::HasSubstr("SELECT 1 FORM t"));
}

TEST(MoveStatementLinesTest, TheyGoInFrontOfTheContext) {
  DbError error;
  error.message = "FATAL:  terminating connection\nCONTEXT:  SQL function f";
  error.context = " while executing \"SELECT f()\"";
  MoveStatementLines(error);
  EXPECT_EQ(error.message, "FATAL:  terminating connection");
  EXPECT_EQ(error.context,
            "\nCONTEXT:  SQL function f while executing \"SELECT f()\"");
}

TEST(ClassifySqlStateTest, OneLineMessageIsKeptWhole) {
  const DbError duplicate = ClassifySqlState(
      "23505",
      "ERROR:  duplicate key value violates unique constraint \"tasks_t\"");
  EXPECT_EQ(duplicate.kind, DbErrorKind::kUniqueViolation);
  EXPECT_EQ(duplicate.constraint, "tasks_t");
  EXPECT_EQ(duplicate.context, "");
}

}  // namespace
}  // namespace tasks::storage
