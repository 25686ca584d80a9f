#include "service/dsn_redaction.h"

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace tasks::service {
namespace {

constexpr char kPasswordKey[] = "password";
constexpr size_t kPasswordKeyLength = sizeof(kPasswordKey) - 1;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = absl::ascii_tolower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string PercentDecode(absl::string_view text) {
  std::string decoded;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
        HexValue(text[i + 2]) >= 0) {
      decoded +=
          static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      decoded += text[i];
    }
  }
  return decoded;
}

DsnPassword PasswordAt(size_t begin, size_t end, std::string value) {
  DsnPassword password;
  password.begin = begin;
  password.end = end;
  password.value = std::move(value);
  return password;
}

// "postgresql://user:PASSWORD@host:port/db?password=PASSWORD&..."
std::vector<DsnPassword> FindInUrl(absl::string_view dsn) {
  std::vector<DsnPassword> found;
  const size_t authority = dsn.find("://") + 3;
  // libpq ends the user info at the first '@' before the first '/'; the
  // last '@' covers a password with an unencoded '@' as well.
  size_t authority_end = dsn.find('/', authority);
  if (authority_end == absl::string_view::npos) authority_end = dsn.size();
  size_t at = dsn.substr(0, authority_end).rfind('@');
  if (at < authority) at = absl::string_view::npos;
  if (at != absl::string_view::npos) {
    const size_t colon = dsn.substr(0, at).find(':', authority);
    if (colon != absl::string_view::npos) {
      found.push_back(PasswordAt(
          colon + 1, at, PercentDecode(dsn.substr(colon + 1, at - colon - 1))));
    }
  }
  size_t position =
      dsn.find('?', at == absl::string_view::npos ? authority : at + 1);
  while (position != absl::string_view::npos) {
    const size_t begin = position + 1;
    size_t end = dsn.find('&', begin);
    if (end == absl::string_view::npos) end = dsn.size();
    absl::string_view parameter = dsn.substr(begin, end - begin);
    const size_t equals = parameter.find('=');
    if (equals != absl::string_view::npos &&
        absl::EqualsIgnoreCase(PercentDecode(parameter.substr(0, equals)),
                               kPasswordKey)) {
      found.push_back(PasswordAt(begin + equals + 1, end,
                                 PercentDecode(parameter.substr(equals + 1))));
    }
    position = end < dsn.size() ? end : absl::string_view::npos;
  }
  return found;
}

// libpq's keyword syntax: key = value pairs separated by whitespace; a value
// is 'single quoted' or runs to the next whitespace, '\' escaping the next
// character in either.
std::vector<DsnPassword> FindInKeywords(absl::string_view dsn) {
  std::vector<DsnPassword> found;
  size_t i = 0;
  auto skip_spaces = [&] {
    while (i < dsn.size() && absl::ascii_isspace(dsn[i])) ++i;
  };
  while (true) {
    skip_spaces();
    if (i >= dsn.size()) return found;
    const size_t key_begin = i;
    while (i < dsn.size() && dsn[i] != '=' && !absl::ascii_isspace(dsn[i])) ++i;
    const absl::string_view key = dsn.substr(key_begin, i - key_begin);
    skip_spaces();
    if (i >= dsn.size() || dsn[i] != '=') break;  // Malformed.
    ++i;
    skip_spaces();
    const size_t value_begin = i;
    std::string value;
    bool closed = true;
    if (i < dsn.size() && dsn[i] == '\'') {
      closed = false;
      for (++i; i < dsn.size(); ++i) {
        if (dsn[i] == '\\' && i + 1 < dsn.size()) {
          value += dsn[++i];
        } else if (dsn[i] == '\'') {
          closed = true;
          ++i;
          break;
        } else {
          value += dsn[i];
        }
      }
    } else {
      for (; i < dsn.size() && !absl::ascii_isspace(dsn[i]); ++i) {
        if (dsn[i] == '\\' && i + 1 < dsn.size()) ++i;
        value += dsn[i];
      }
    }
    if (!closed) break;  // Malformed.
    if (absl::EqualsIgnoreCase(key, kPasswordKey)) {
      found.push_back(PasswordAt(value_begin, i, std::move(value)));
    }
  }
  // Malformed: whatever follows the first "password" may be one.
  const std::string lower = absl::AsciiStrToLower(dsn);
  const size_t key = lower.find(kPasswordKey);
  if (key == std::string::npos) return found;
  size_t begin = key + kPasswordKeyLength;
  while (begin < dsn.size() &&
         (dsn[begin] == '=' || absl::ascii_isspace(dsn[begin]))) {
    ++begin;
  }
  if (begin >= dsn.size()) return found;
  found.clear();
  found.push_back(
      PasswordAt(begin, dsn.size(), std::string(dsn.substr(begin))));
  return found;
}

}  // namespace

std::vector<DsnPassword> FindDsnPasswords(absl::string_view dsn) {
  if (absl::StartsWith(dsn, "postgresql://") ||
      absl::StartsWith(dsn, "postgres://")) {
    return FindInUrl(dsn);
  }
  if (absl::StrContains(dsn, '=')) return FindInKeywords(dsn);
  return {};
}

std::string RedactDsn(absl::string_view dsn) {
  std::string redacted;
  size_t copied = 0;
  for (const DsnPassword& password : FindDsnPasswords(dsn)) {
    absl::StrAppend(&redacted, dsn.substr(copied, password.begin - copied),
                    "***");
    copied = password.end;
  }
  absl::StrAppend(&redacted, dsn.substr(copied));
  return redacted;
}

void MaskDsnPasswordsInPlace(char* dsn) {
  for (const DsnPassword& password : FindDsnPasswords(dsn)) {
    std::memset(dsn + password.begin, '*', password.end - password.begin);
  }
}

}  // namespace tasks::service
