#ifndef TASKS_STORAGE_SCHEMA_MIGRATIONS_H_
#define TASKS_STORAGE_SCHEMA_MIGRATIONS_H_

#include <string>

#include "absl/status/statusor.h"
#include "storage/engine/connection.h"

namespace tasks::storage {

// Brings the schema up to the dialect's latest migration in one transaction:
// runs each script (storage/schema/<backend>/*.sql) newer than the
// database's version, in order, recording its version and name in
// schema_migrations. Safe when several processes open the database at once
// (the dialect's begin_sql or migration_lock_sql serializes them). Returns the
// page token secret, made with the first migration and shared by every process
// using the database. FAILED_PRECONDITION when the database has a version this
// build does not know. Throws soci::soci_error; on any failure the transaction
// is left for the caller to roll back.
absl::StatusOr<std::string> MigrateSchema(Connection& connection);

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_SCHEMA_MIGRATIONS_H_
