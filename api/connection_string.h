#ifndef TASKS_API_CONNECTION_STRING_H_
#define TASKS_API_CONNECTION_STRING_H_

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

}  // namespace tasks::api

#endif  // TASKS_API_CONNECTION_STRING_H_
