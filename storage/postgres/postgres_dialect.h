#ifndef TASKS_STORAGE_POSTGRES_POSTGRES_DIALECT_H_
#define TASKS_STORAGE_POSTGRES_POSTGRES_DIALECT_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "storage/engine/dialect.h"

namespace tasks::storage {

// PostgreSQL: `connection` is a libpq URL or keyword string, with the
// project's options (see postgres_connection.h). INVALID_ARGUMENT when they
// or libpq cannot parse it. `connect_timeout` is added unless present.
absl::StatusOr<std::unique_ptr<Dialect>> MakePostgresDialect(
    absl::string_view connection, absl::Duration connect_timeout);

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_POSTGRES_POSTGRES_DIALECT_H_
