#include "service/dsn_redaction.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/connection_string.h"

namespace tasks::service {
namespace {

// The start of every secret keyword ("password", "sslpassword"): where a
// keyword string libpq cannot parse may hide one.
constexpr char kPasswordKey[] = "password";
constexpr size_t kPasswordKeyLength = sizeof(kPasswordKey) - 1;

using ConninfoOptions =
    std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)>;

// libpq's own reading of `dsn`; null when it cannot parse it.
ConninfoOptions ParseConninfo(const std::string& dsn) {
  return ConninfoOptions(PQconninfoParse(dsn.c_str(), nullptr),
                         &PQconninfoFree);
}

// libpq marks the options it never shows with dispchar "*".
bool IsSecret(const PQconninfoOption& option) {
  return option.dispchar != nullptr && option.dispchar[0] == '*';
}

// True for a keyword whose value libpq keeps secret, whatever its case
// (libpq's keywords are lower case; a URL parameter is matched as written).
bool IsSecretKeyword(absl::string_view key) {
  static const auto* const kSecretKeywords = [] {
    auto* keywords = new std::vector<std::string>();
    ConninfoOptions options = ParseConninfo("");
    for (const PQconninfoOption* option = options.get();
         option != nullptr && option->keyword != nullptr; ++option) {
      if (IsSecret(*option)) keywords->push_back(option->keyword);
    }
    return keywords;
  }();
  return std::any_of(kSecretKeywords->begin(), kSecretKeywords->end(),
                     [key](const std::string& keyword) {
                       return absl::EqualsIgnoreCase(key, keyword);
                     });
}

// The non-empty values libpq reads from `dsn` for secret options.
std::vector<std::string> SecretValues(absl::string_view dsn) {
  std::vector<std::string> values;
  ConninfoOptions options = ParseConninfo(std::string(dsn));
  for (const PQconninfoOption* option = options.get();
       option != nullptr && option->keyword != nullptr; ++option) {
    if (IsSecret(*option) && option->val != nullptr && option->val[0] != 0) {
      values.push_back(option->val);
    }
  }
  return values;
}

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
  // The last '@' before the first '/' (libpq takes the first; the last covers
  // a password with an unencoded '@' as well) or, failing that, before the
  // first '?': libpq reads "user:pa/ss@host" as a host and port, but "pa/ss"
  // is still what the user meant as a password.
  size_t at = absl::string_view::npos;
  for (char end_of_user_info : {'/', '?'}) {
    size_t end = dsn.find(end_of_user_info, authority);
    if (end == absl::string_view::npos) end = dsn.size();
    at = dsn.substr(0, end).rfind('@');
    if (at != absl::string_view::npos && at >= authority) break;
    at = absl::string_view::npos;
  }
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
        IsSecretKeyword(PercentDecode(parameter.substr(0, equals)))) {
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
    if (IsSecretKeyword(key)) {
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

// Shorter secrets are hidden only where they are written: masking every
// occurrence of one or two characters would garble the rest.
constexpr size_t kMinRepeatedSecretLength = 4;

// Every occurrence in `dsn` of a secret libpq reads from it: the scans above
// find where the secrets are written, this finds them wherever else they are
// repeated.
std::vector<DsnPassword> FindSecretValues(absl::string_view dsn) {
  std::vector<DsnPassword> found;
  for (const std::string& value : SecretValues(dsn)) {
    if (value.size() < kMinRepeatedSecretLength) continue;
    for (size_t at = dsn.find(value); at != absl::string_view::npos;
         at = dsn.find(value, at + value.size())) {
      found.push_back(PasswordAt(at, at + value.size(), value));
    }
  }
  return found;
}

// `found` in order of position, overlapping spans joined into one.
std::vector<DsnPassword> Merged(std::vector<DsnPassword> found) {
  std::sort(found.begin(), found.end(),
            [](const DsnPassword& a, const DsnPassword& b) {
              return a.begin < b.begin || (a.begin == b.begin && a.end > b.end);
            });
  std::vector<DsnPassword> merged;
  for (DsnPassword& password : found) {
    if (!merged.empty() && password.begin < merged.back().end) {
      merged.back().end = std::max(merged.back().end, password.end);
      continue;
    }
    merged.push_back(std::move(password));
  }
  return merged;
}

}  // namespace

std::vector<DsnPassword> FindDsnPasswords(absl::string_view dsn) {
  std::vector<DsnPassword> found;
  if (api::IsPostgresUrl(dsn)) {
    found = FindInUrl(dsn);
  } else if (absl::StrContains(dsn, '=')) {
    found = FindInKeywords(dsn);
  } else {
    return {};
  }
  std::vector<DsnPassword> repeated = FindSecretValues(dsn);
  found.insert(found.end(), std::make_move_iterator(repeated.begin()),
               std::make_move_iterator(repeated.end()));
  return Merged(std::move(found));
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
