#include "service/database_path.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/connection_string.h"

namespace tasks::service {

bool IsDatabaseServerConnection(absl::string_view db) {
  return api::ClassifyConnection(db) == api::DatabaseKind::kPostgres;
}

std::string ResolveDatabasePath(absl::string_view db,
                                absl::string_view working_directory) {
  const bool sqlite_relative_path = !db.empty() && db != ":memory:" &&
                                    !absl::StartsWith(db, "/") &&
                                    !IsDatabaseServerConnection(db);
  if (!sqlite_relative_path) return std::string(db);
  return ResolveUserPath(db, working_directory);
}

std::string ResolveUserPath(absl::string_view path,
                            absl::string_view working_directory) {
  if (path.empty() || absl::StartsWith(path, "/") ||
      working_directory.empty()) {
    return std::string(path);
  }
  if (absl::EndsWith(working_directory, "/")) {
    return absl::StrCat(working_directory, path);
  }
  return absl::StrCat(working_directory, "/", path);
}

}  // namespace tasks::service
