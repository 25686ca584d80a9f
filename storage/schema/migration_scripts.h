#ifndef TASKS_STORAGE_SCHEMA_MIGRATION_SCRIPTS_H_
#define TASKS_STORAGE_SCHEMA_MIGRATION_SCRIPTS_H_

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace tasks::storage {

// MigrationScript
//
// One numbered schema step of one backend: the file
// storage/schema/<backend>/<version>_<name>.sql (version in four digits, name
// in lower_snake_case), embedded at build time. Both backends have the same
// versions and names, each with its own SQL.
//
// Adding a step means adding one such file to each backend's folder: the
// build embeds every file there, and MigrateSchema (migrations.h) applies
// the versions a database lacks.
struct MigrationScript {
  int version;
  // "projects_and_tasks"; recorded in schema_migrations.description.
  absl::string_view name;
  // One or more statements, each ended by ';', with no parameters.
  absl::string_view sql;
};

// The version a database has: the latest step recorded (0 for none).
inline constexpr char kSchemaVersionSql[] =
    "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";

// The version `scripts` bring a database to: the last one's (0 for none).
inline int LatestVersion(absl::Span<const MigrationScript> scripts) {
  return scripts.empty() ? 0 : scripts.back().version;
}

// The SQLite scripts, in version order.
absl::Span<const MigrationScript> SqliteMigrationScripts();

// The PostgreSQL scripts, in version order.
absl::Span<const MigrationScript> PostgresMigrationScripts();

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_SCHEMA_MIGRATION_SCRIPTS_H_
