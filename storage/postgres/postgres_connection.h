#ifndef TASKS_STORAGE_POSTGRES_POSTGRES_CONNECTION_H_
#define TASKS_STORAGE_POSTGRES_POSTGRES_CONNECTION_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tasks::storage {

// The project's own option of a PostgreSQL connection string, beside libpq's:
// `prepared_statements=on` (the default) prepares each statement once per
// session under a name; `prepared_statements=off` sends each statement's text
// with its parameters every time (unnamed statements), as a transaction
// pooler such as PgBouncer (pool_mode = transaction, before 1.21) needs,
// since consecutive transactions of one session may run on different server
// connections.
inline constexpr char kPreparedStatementsOption[] = "prepared_statements";

// A PostgreSQL connection string split into what libpq reads and the
// project's options, which libpq would reject as unknown.
struct PostgresConnection {
  // The string without the project's options, in its own syntax.
  std::string libpq;
  // prepared_statements: true for "on", false for "off".
  bool named_statements = true;
};

// Splits a libpq URL ("postgresql://...?prepared_statements=off") or keyword
// string ("host=... prepared_statements=off"). INVALID_ARGUMENT for a value
// other than "on" or "off"; the rest is left for libpq to check.
//
// Example:
//   ParsePostgresConnection("postgresql://db:6432/tasks?prepared_statements=off")
//   -> {libpq: "postgresql://db:6432/tasks", named_statements: false}
absl::StatusOr<PostgresConnection> ParsePostgresConnection(
    absl::string_view connection);

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_POSTGRES_POSTGRES_CONNECTION_H_
