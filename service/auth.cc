#include "service/auth.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/error_reason.h"
#include "common/sha256.h"
#include "service/read_file.h"

namespace tasks::service {
namespace {

constexpr int kMinTokenLength = 16;

absl::Status PermissionDenied(std::string message) {
  return WithReason(absl::PermissionDeniedError(std::move(message)),
                    reason::kPermissionDenied);
}

absl::Status Unauthenticated(std::string message) {
  return WithReason(absl::UnauthenticatedError(std::move(message)),
                    reason::kUnauthenticated);
}

// RFC 6750's b64token: [A-Za-z0-9-._~+/]+ followed by any '='.
bool IsBearerToken(absl::string_view token) {
  absl::string_view body = token.substr(0, token.find_last_not_of('=') + 1);
  if (body.empty()) return false;
  return std::all_of(body.begin(), body.end(), [](char c) {
    return absl::ascii_isalnum(c) || absl::StrContains("-._~+/", c);
  });
}

bool IsPrincipalName(absl::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(c) || absl::StrContains("._@-", c);
  });
}

absl::StatusOr<std::vector<int64_t>> ParseProjectIds(absl::string_view text) {
  std::vector<int64_t> ids;
  for (absl::string_view piece : absl::StrSplit(text, ',')) {
    int64_t id = 0;
    if (!absl::SimpleAtoi(piece, &id) || id <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "projects must be * or comma-separated positive ids, not \"", text,
          "\""));
    }
    ids.push_back(id);
  }
  return ids;
}

absl::Status LineError(int line_number, absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("tokens file line ", line_number, ": ", problem));
}

}  // namespace

Principal::Principal(std::string name, bool all_projects,
                     std::vector<int64_t> project_ids)
    : name_(std::move(name)),
      all_projects_(all_projects),
      project_ids_(std::move(project_ids)) {
  std::sort(project_ids_.begin(), project_ids_.end());
  project_ids_.erase(std::unique(project_ids_.begin(), project_ids_.end()),
                     project_ids_.end());
}

Principal Principal::Unrestricted(std::string name) {
  return Principal(std::move(name), /*all_projects=*/true, {});
}

Principal Principal::Restricted(std::string name,
                                std::vector<int64_t> project_ids) {
  return Principal(std::move(name), /*all_projects=*/false,
                   std::move(project_ids));
}

absl::Status Principal::CheckProject(int64_t project_id) const {
  if (all_projects_ || std::binary_search(project_ids_.begin(),
                                          project_ids_.end(), project_id)) {
    return absl::OkStatus();
  }
  return PermissionDenied(absl::StrCat("principal \"", name_,
                                       "\" may not use project ", project_id));
}

absl::Status Principal::CheckAllProjects(absl::string_view what) const {
  if (all_projects_) return absl::OkStatus();
  return PermissionDenied(absl::StrCat(
      "principal \"", name_, "\" may not ", what,
      ": that needs access to every project (* in the tokens file)"));
}

bool TokensEqual(absl::string_view a, absl::string_view b) {
  const Sha256Bytes da = Sha256Digest(a);
  const Sha256Bytes db = Sha256Digest(b);
  return CRYPTO_memcmp(da.data(), db.data(), da.size()) == 0;
}

int TokenTable::principal_count() const {
  absl::flat_hash_set<absl::string_view> names;
  for (const Entry& entry : entries_) names.insert(entry.principal.name());
  return static_cast<int>(names.size());
}

absl::StatusOr<TokenTable> TokenTable::Parse(absl::string_view text) {
  TokenTable table;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || absl::StartsWith(line, "#")) continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.size() != 3) {
      return LineError(line_number,
                       absl::StrCat("want 3 fields (<token> <principal> "
                                    "<projects>), found ",
                                    fields.size()));
    }
    const absl::string_view token = fields[0];
    if (!IsBearerToken(token)) {
      return LineError(
          line_number,
          "the token has characters a bearer token cannot "
          "have (allowed: A-Z a-z 0-9 - . _ ~ + / and trailing =)");
    }
    if (token.size() < kMinTokenLength) {
      return LineError(line_number,
                       absl::StrCat("the token is shorter than ",
                                    kMinTokenLength, " characters"));
    }
    if (!IsPrincipalName(fields[1])) {
      return LineError(
          line_number,
          absl::StrCat("principal \"", fields[1],
                       "\" may only have letters, digits and . _ @ -"));
    }
    std::string name(fields[1]);
    Entry entry{Sha256Digest(token), Principal::Unrestricted(name)};
    if (fields[2] != "*") {
      absl::StatusOr<std::vector<int64_t>> ids = ParseProjectIds(fields[2]);
      if (!ids.ok()) return LineError(line_number, ids.status().message());
      entry.principal = Principal::Restricted(name, *std::move(ids));
    }
    if (table.Find(token) != nullptr) {
      return LineError(line_number,
                       "the token is already used by an earlier line");
    }
    table.entries_.push_back(std::move(entry));
  }
  if (table.entries_.empty()) {
    return absl::InvalidArgumentError("the tokens file defines no token");
  }
  return table;
}

absl::StatusOr<TokenTable> TokenTable::Load(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<TokenTable> table = Parse(*text);
  if (!table.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", path, "\": ", table.status().message()));
  }
  return table;
}

const Principal* TokenTable::Find(absl::string_view token) const {
  const Sha256Bytes digest = Sha256Digest(token);
  const Principal* found = nullptr;
  for (const Entry& entry : entries_) {
    // No early exit: every entry is compared whatever matched before.
    const bool match =
        CRYPTO_memcmp(entry.digest.data(), digest.data(), digest.size()) == 0;
    if (match) found = &entry.principal;
  }
  return found;
}

absl::StatusOr<const Principal*> TokenTable::Authenticate(
    const Metadata& metadata) const {
  auto [begin, end] = metadata.equal_range("authorization");
  if (begin == end) {
    return Unauthenticated(
        "this server needs a token: send \"authorization: Bearer <token>\" "
        "metadata");
  }
  if (std::next(begin) != end) {
    return Unauthenticated("more than one authorization metadata entry");
  }
  absl::string_view value(begin->second.data(), begin->second.size());
  constexpr absl::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(value.substr(0, kScheme.size()), kScheme)) {
    return Unauthenticated(
        "the authorization metadata must be \"Bearer <token>\"");
  }
  const Principal* principal =
      Find(absl::StripAsciiWhitespace(value.substr(kScheme.size())));
  if (principal == nullptr) return Unauthenticated("unknown token");
  return principal;
}

}  // namespace tasks::service
