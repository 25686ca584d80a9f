// DbError's text: what a client may see of a database error, and what only
// the server's log gets.

#include "storage/engine/db_error.h"

#include <soci/error.h>

#include <stdexcept>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tasks::storage {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kStatement[] =
    "while executing \"SELECT title FROM tasks WHERE title = :title\" with "
    ":title=\"another call's value\"";

soci::soci_error ErrorWithStatement() {
  soci::soci_error error("Cannot execute query. Connection failed.");
  error.add_context(kStatement);
  return error;
}

TEST(DbErrorTest, SociContextIsKeptApartFromTheMessage) {
  DbError error;
  SetErrorText(ErrorWithStatement(), error);
  EXPECT_EQ(error.message, "Cannot execute query. Connection failed.");
  // SOCI drops the message's full stop and ends the context with one.
  EXPECT_EQ(error.context, absl::StrCat(" ", kStatement, "."));
}

TEST(DbErrorTest, AnErrorNotFromSociIsAllMessage) {
  DbError error;
  error.context = "stale";
  SetErrorText(std::runtime_error("not the database's"), error);
  EXPECT_EQ(error.message, "not the database's");
  EXPECT_EQ(error.context, "");
}

// UNAVAILABLE reaches the client with its message; an INTERNAL error's
// detail is logged by the server, the client getting "internal error".
TEST(DbErrorTest, OnlyAnInternalErrorsStatusHoldsTheStatement) {
  DbError error;
  SetErrorText(ErrorWithStatement(), error);
  error.kind = DbErrorKind::kUnavailable;
  const absl::Status unavailable = DbErrorToStatus(error, {});
  EXPECT_EQ(unavailable.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(unavailable.message()),
              HasSubstr("Connection failed"));
  EXPECT_THAT(std::string(unavailable.message()),
              Not(HasSubstr("another call's value")));
  error.kind = DbErrorKind::kStorageFull;
  EXPECT_THAT(std::string(DbErrorToStatus(error, {}).message()),
              Not(HasSubstr("SELECT")));
  error.kind = DbErrorKind::kInvalidValue;
  EXPECT_THAT(std::string(DbErrorToStatus(error, {}).message()),
              Not(HasSubstr("SELECT")));
  error.kind = DbErrorKind::kOther;
  const absl::Status internal = DbErrorToStatus(error, {});
  EXPECT_EQ(internal.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(internal.message()), HasSubstr(kStatement));
}

}  // namespace
}  // namespace tasks::storage
