#ifndef TASKS_SERVICE_DATABASE_PATH_H_
#define TASKS_SERVICE_DATABASE_PATH_H_

#include <string>

#include "absl/strings/string_view.h"

namespace tasks::service {

// ResolveDatabasePath()
//
// The --db value to open. A relative SQLite file path is made absolute
// against `working_directory` when that is non-empty: `bazel run` starts the
// binary in its runfiles tree, and the user means the directory they ran the
// command from ($BUILD_WORKING_DIRECTORY). ":memory:", PostgreSQL URLs
// ("postgresql://", "postgres://"), libpq keyword strings ("host=... ") and
// absolute paths are returned unchanged.
//
// Example:
//   ResolveDatabasePath("tasks.db", "/home/me")   // "/home/me/tasks.db"
//   ResolveDatabasePath("tasks.db", "")           // "tasks.db"
std::string ResolveDatabasePath(absl::string_view db,
                                absl::string_view working_directory);

// IsDatabaseServerConnection()
//
// True when `db` names a database server (a PostgreSQL URL or libpq keyword
// string) rather than an embedded SQLite database (a file or ":memory:"),
// as api::ClassifyConnection tells: the store picks its backend by the same
// rule, so "./x=y.db" is a SQLite file to both.
bool IsDatabaseServerConnection(absl::string_view db);

// ResolveUserPath()
//
// A file path given on the command line (--db_file, --tls_cert, ...): made
// absolute against `working_directory` when it is relative and
// `working_directory` is non-empty, for the same reason.
std::string ResolveUserPath(absl::string_view path,
                            absl::string_view working_directory);

}  // namespace tasks::service

#endif  // TASKS_SERVICE_DATABASE_PATH_H_
