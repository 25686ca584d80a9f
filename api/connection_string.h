#ifndef TASKS_API_CONNECTION_STRING_H_
#define TASKS_API_CONNECTION_STRING_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tasks::api {

// The database a connection string (task_server's --db) names.
enum class DatabaseKind {
  // A SQLite file name or ":memory:".
  kSqlite,
  // A PostgreSQL server: a libpq URL or keyword string.
  kPostgres,
};

// ClassifyConnection()
//
// kPostgres for a libpq URL ("postgresql://...", "postgres://...") or keyword
// string (after leading whitespace, a keyword of letters and '_', optional
// whitespace, then '='); kSqlite for anything else, the empty string too.
// Read by the store to pick its dialect and by the server to resolve a
// relative SQLite path, so both agree on every string.
//
// Example:
//   ClassifyConnection("host=db dbname=tasks")  // kPostgres
//   ClassifyConnection("./x=y.db")              // kSqlite: '.' is no keyword
//   ClassifyConnection("x=y.db")                // kPostgres (libpq refuses it)
DatabaseKind ClassifyConnection(absl::string_view connection);

// True for a libpq URL: "postgresql://..." or "postgres://...". The other
// PostgreSQL strings are keyword strings.
bool IsPostgresUrl(absl::string_view connection);

// CheckNotMistypedUrl()
//
// INVALID_ARGUMENT for a string that starts with a database's URL scheme
// (postgres, postgresql, sqlite or sqlite3, in any case, then ':') but is
// no libpq URL: ClassifyConnection would take "postgresql:db" or
// "sqlite:tasks.db" for a SQLite file of that name and the server would put
// its data there, where another database was meant. Such a file is still
// reachable as "./postgresql:db". The message quotes only the scheme.
//
// Example:
//   CheckNotMistypedUrl("postgresql:/db/tasks")  // INVALID_ARGUMENT
//   CheckNotMistypedUrl("./postgresql:db")       // OK
absl::Status CheckNotMistypedUrl(absl::string_view connection);

}  // namespace tasks::api

#endif  // TASKS_API_CONNECTION_STRING_H_
