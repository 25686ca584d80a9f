#include "storage/postgres/postgres_connection.h"

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "api/connection_string.h"

namespace tasks::storage {
namespace {

bool IsSpace(char c) {
  return absl::ascii_isspace(static_cast<unsigned char>(c));
}

// A URL's query parameters without the project's option, whose value goes
// to `value`.
std::string StripFromUrl(absl::string_view url,
                         std::optional<std::string>& value) {
  const size_t query = url.find('?');
  if (query == absl::string_view::npos) return std::string(url);
  std::vector<absl::string_view> kept;
  for (absl::string_view parameter :
       absl::StrSplit(url.substr(query + 1), '&')) {
    absl::string_view key = parameter.substr(0, parameter.find('='));
    if (key != kPreparedStatementsOption) {
      kept.push_back(parameter);
      continue;
    }
    const size_t equals = parameter.find('=');
    value = std::string(equals == absl::string_view::npos
                            ? absl::string_view()
                            : parameter.substr(equals + 1));
  }
  std::string stripped(url.substr(0, query));
  if (!kept.empty()) absl::StrAppend(&stripped, "?", absl::StrJoin(kept, "&"));
  return stripped;
}

// A keyword string (`key = value`, values optionally '...'-quoted with
// backslash escapes, as libpq reads them) without the project's option.
std::string StripFromKeywords(absl::string_view text,
                              std::optional<std::string>& value) {
  std::vector<absl::string_view> kept;
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    while (i < n && IsSpace(text[i])) ++i;
    if (i >= n) break;
    const size_t start = i;
    while (i < n && text[i] != '=' && !IsSpace(text[i])) ++i;
    const absl::string_view key = text.substr(start, i - start);
    while (i < n && IsSpace(text[i])) ++i;
    if (i < n && text[i] == '=') ++i;  // libpq reports a missing '='
    while (i < n && IsSpace(text[i])) ++i;
    std::string parsed;
    if (i < n && text[i] == '\'') {
      for (++i; i < n && text[i] != '\''; ++i) {
        if (text[i] == '\\' && i + 1 < n) ++i;
        parsed.push_back(text[i]);
      }
      if (i < n) ++i;  // the closing quote
    } else {
      for (; i < n && !IsSpace(text[i]); ++i) {
        if (text[i] == '\\' && i + 1 < n) ++i;
        parsed.push_back(text[i]);
      }
    }
    if (key == kPreparedStatementsOption) {
      value = std::move(parsed);
    } else {
      kept.push_back(text.substr(start, i - start));
    }
  }
  return absl::StrJoin(kept, " ");
}

}  // namespace

absl::StatusOr<PostgresConnection> ParsePostgresConnection(
    absl::string_view connection) {
  if (!absl::StrContains(connection, kPreparedStatementsOption)) {
    return PostgresConnection{std::string(connection), true};
  }
  std::optional<std::string> value;
  PostgresConnection parsed;
  parsed.libpq = api::IsPostgresUrl(connection)
                     ? StripFromUrl(connection, value)
                     : StripFromKeywords(connection, value);
  if (value.has_value()) {
    if (*value == "off") {
      parsed.named_statements = false;
    } else if (*value != "on") {
      return absl::InvalidArgumentError(absl::StrCat(
          "the PostgreSQL connection string's ", kPreparedStatementsOption,
          " must be on or off, not '", *value, "'"));
    }
  }
  return parsed;
}

}  // namespace tasks::storage
