#ifndef TASKS_STORAGE_SOCI_TASK_STORE_H_
#define TASKS_STORAGE_SOCI_TASK_STORE_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "storage/task_store.h"

namespace tasks::storage {

struct SociTaskStoreOptions {
  // Pooled connections for a SQLite file or PostgreSQL; 0 picks the backend's
  // default. `:memory:` always uses exactly one connection.
  int pool_size = 0;

  // How long a call waits for a free pooled connection, and SQLite's busy
  // timeout, before it fails with UNAVAILABLE.
  absl::Duration wait_timeout = absl::Seconds(5);
};

// Opens the store named by `connection` and applies pending schema migrations:
//   "tasks.db", "/var/lib/tasks.db"      a SQLite file (WAL, pooled)
//   ":memory:"                           in-memory SQLite, one connection
//   "postgresql://user@host:5432/db"     PostgreSQL, libpq URL ("postgres://" too)
//   "host=/run/postgresql dbname=tasks"  PostgreSQL, libpq keyword string
// UNAVAILABLE when the database cannot be reached; INVALID_ARGUMENT for a
// connection string it cannot parse.
absl::StatusOr<TaskStorePtr> OpenSociTaskStore(
    absl::string_view connection, const SociTaskStoreOptions& options = {});

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_SOCI_TASK_STORE_H_
