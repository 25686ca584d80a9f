#include "api/connection_string.h"

#include <cstddef>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace tasks::api {
namespace {

// libpq keyword strings start with "keyword =".
bool IsPostgresKeywordString(absl::string_view connection) {
  absl::string_view rest = absl::StripLeadingAsciiWhitespace(connection);
  size_t i = 0;
  while (i < rest.size() &&
         (absl::ascii_isalpha(static_cast<unsigned char>(rest[i])) ||
          rest[i] == '_')) {
    ++i;
  }
  if (i == 0) return false;
  rest = absl::StripLeadingAsciiWhitespace(rest.substr(i));
  return !rest.empty() && rest.front() == '=';
}

}  // namespace

DatabaseKind ClassifyConnection(absl::string_view connection) {
  if (IsPostgresUrl(connection) || IsPostgresKeywordString(connection)) {
    return DatabaseKind::kPostgres;
  }
  return DatabaseKind::kSqlite;
}

bool IsPostgresUrl(absl::string_view connection) {
  return absl::StartsWith(connection, "postgresql://") ||
         absl::StartsWith(connection, "postgres://");
}

absl::Status CheckNotMistypedUrl(absl::string_view connection) {
  if (IsPostgresUrl(connection)) return absl::OkStatus();
  constexpr absl::string_view kNoPostgresUrl =
      " but is no PostgreSQL URL (those start with postgresql:// or "
      "postgres://, in lower case)";
  constexpr absl::string_view kNoSqliteUrl =
      ": a SQLite database is named by its file's path (tasks.db, "
      "/var/lib/tasks/tasks.db) or :memory:, not a URL";
  constexpr std::pair<absl::string_view, absl::string_view> kSchemes[] = {
      {"postgresql:", kNoPostgresUrl},
      {"postgres:", kNoPostgresUrl},
      {"sqlite:", kNoSqliteUrl},
      {"sqlite3:", kNoSqliteUrl}};
  for (const auto& [scheme, why] : kSchemes) {
    if (absl::StartsWithIgnoreCase(connection, scheme)) {
      // The scheme only: the rest may hold a password.
      return absl::InvalidArgumentError(
          absl::StrCat("starts with \"", connection.substr(0, scheme.size()),
                       "\"", why, "; for a file so named, put ./ before it"));
    }
  }
  return absl::OkStatus();
}

}  // namespace tasks::api
