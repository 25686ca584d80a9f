#include "service/database_source.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "api/connection_string.h"
#include "common/status_macros.h"
#include "service/read_file.h"

namespace tasks::service {

namespace {

absl::StatusOr<std::string> ReadSetting(const DatabaseSource& source) {
  const int set =
      !source.literal.empty() + !source.file.empty() + !source.env_var.empty();
  if (set > 1) {
    return absl::InvalidArgumentError(
        "give the database once: --db, --db_file or --db_env, not several");
  }
  if (!source.file.empty()) {
    absl::StatusOr<std::string> content = ReadFile(source.file);
    if (!content.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--db_file: ", content.status().message()));
    }
    absl::string_view dsn = *content;
    while (absl::ConsumeSuffix(&dsn, "\n") || absl::ConsumeSuffix(&dsn, "\r")) {
    }
    if (dsn.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--db_file \"", source.file, "\" is empty"));
    }
    return std::string(dsn);
  }
  if (!source.env_var.empty()) {
    const char* value = std::getenv(source.env_var.c_str());
    if (value == nullptr || *value == '\0') {
      return absl::InvalidArgumentError(
          absl::StrCat("--db_env: the environment variable ", source.env_var,
                       " is unset or empty"));
    }
    return std::string(value);
  }
  if (!source.literal.empty()) return source.literal;
  return std::string(kDefaultDatabase);
}

}  // namespace

absl::StatusOr<std::string> ReadDatabaseSetting(const DatabaseSource& source) {
  ASSIGN_OR_RETURN(std::string setting, ReadSetting(source));
  if (absl::Status mistyped = api::CheckNotMistypedUrl(setting);
      !mistyped.ok()) {
    const char* flag = !source.file.empty()      ? "--db_file"
                       : !source.env_var.empty() ? "--db_env"
                                                 : "--db";
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": the connection string ", mistyped.message()));
  }
  return setting;
}

}  // namespace tasks::service
