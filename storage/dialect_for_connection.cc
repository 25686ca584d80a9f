#include "storage/dialect_for_connection.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "storage/postgres/postgres_dialect.h"
#include "storage/sqlite/sqlite_dialect.h"

namespace tasks::storage {
namespace {

// libpq keyword strings start with "keyword =".
bool IsPostgresKeywordString(absl::string_view connection) {
  absl::string_view rest = absl::StripLeadingAsciiWhitespace(connection);
  size_t i = 0;
  while (i < rest.size() &&
         (absl::ascii_isalpha(static_cast<unsigned char>(rest[i])) ||
          rest[i] == '_')) {
    ++i;
  }
  if (i == 0) return false;
  rest = absl::StripLeadingAsciiWhitespace(rest.substr(i));
  return !rest.empty() && rest.front() == '=';
}

}  // namespace

absl::StatusOr<std::unique_ptr<Dialect>> DialectForConnection(
    absl::string_view connection, absl::Duration wait_timeout) {
  if (connection.empty()) {
    return absl::InvalidArgumentError("empty connection string");
  }
  if (connection.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("connection string contains NUL");
  }
  if (absl::StartsWith(connection, "postgresql://") ||
      absl::StartsWith(connection, "postgres://") ||
      IsPostgresKeywordString(connection)) {
    return MakePostgresDialect(connection, wait_timeout);
  }
  // SOCI's SQLite connection string quotes the path with '"'.
  if (absl::StrContains(connection, '"')) {
    return absl::InvalidArgumentError(
        "a SQLite file name must not contain '\"'");
  }
  return MakeSqliteDialect(std::string(connection), wait_timeout);
}

}  // namespace tasks::storage
