#ifndef TASKS_STORAGE_DIALECT_FOR_CONNECTION_H_
#define TASKS_STORAGE_DIALECT_FOR_CONNECTION_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "storage/engine/dialect.h"

namespace tasks::storage {

// The dialect for a connection string (see OpenSociTaskStore): PostgreSQL
// for a libpq URL or keyword string, SQLite otherwise. `wait_timeout` is
// SQLite's busy timeout and PostgreSQL's connect timeout. INVALID_ARGUMENT
// for a string neither can use.
absl::StatusOr<std::unique_ptr<Dialect>> DialectForConnection(
    absl::string_view connection, absl::Duration wait_timeout);

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_DIALECT_FOR_CONNECTION_H_
