#include "api/connection_string.h"

#include <cstddef>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

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

}  // namespace tasks::api
