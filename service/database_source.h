#ifndef TASKS_SERVICE_DATABASE_SOURCE_H_
#define TASKS_SERVICE_DATABASE_SOURCE_H_

#include <string>

#include "absl/status/statusor.h"

namespace tasks::service {

// Where the database connection string comes from: at most one of the three
// may be set (the flags --db, --db_file and --db_env). A password in a
// literal shows in `ps`; a file or an environment variable keeps it out of
// the process's arguments.
struct DatabaseSource {
  // The connection string itself.
  std::string literal;
  // A file holding it; trailing line breaks are dropped.
  std::string file;
  // An environment variable holding it.
  std::string env_var;
};

// The SQLite file used when no source is set.
inline constexpr char kDefaultDatabase[] = "tasks.db";

// ReadDatabaseSetting()
//
// The connection string `source` names; kDefaultDatabase when none is set.
// INVALID_ARGUMENT, naming the flag, when more than one is set, the file
// cannot be read, the file or variable is empty or unset, or the string
// starts like a database URL but is none (api::CheckNotMistypedUrl). No
// message quotes the connection string.
//
// Example:
//   DatabaseSource source;
//   source.file = "/run/secrets/tasks_db";
//   absl::StatusOr<std::string> db = ReadDatabaseSetting(source);
absl::StatusOr<std::string> ReadDatabaseSetting(const DatabaseSource& source);

}  // namespace tasks::service

#endif  // TASKS_SERVICE_DATABASE_SOURCE_H_
