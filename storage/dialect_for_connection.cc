#include "storage/dialect_for_connection.h"

#include <string>

#include "absl/strings/match.h"
#include "api/connection_string.h"
#include "storage/postgres/postgres_dialect.h"
#include "storage/sqlite/sqlite_dialect.h"

namespace tasks::storage {

absl::StatusOr<std::unique_ptr<Dialect>> DialectForConnection(
    absl::string_view connection, absl::Duration wait_timeout) {
  if (connection.empty()) {
    return absl::InvalidArgumentError("empty connection string");
  }
  if (connection.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("connection string contains NUL");
  }
  if (absl::Status mistyped = api::CheckNotMistypedUrl(connection);
      !mistyped.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the connection string ", mistyped.message()));
  }
  if (api::ClassifyConnection(connection) == api::DatabaseKind::kPostgres) {
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
