#ifndef TASKS_SERVICE_AUTH_H_
#define TASKS_SERVICE_AUTH_H_

#include <grpcpp/support/string_ref.h>

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/sha256.h"

namespace tasks::service {

// Principal
//
// Who makes a call, and which projects it may use: every project (a `*` in
// the tokens file), or a fixed set of project ids. Only a principal with
// every project may create projects or use tasks that belong to no project.
class Principal {
 public:
  // A principal that may use every project.
  static Principal Unrestricted(std::string name);
  // A principal that may use exactly `project_ids`.
  static Principal Restricted(std::string name,
                              std::vector<int64_t> project_ids);

  const std::string& name() const { return name_; }
  bool all_projects() const { return all_projects_; }
  // The projects a restricted principal may use, ascending and distinct
  // (empty when all_projects()).
  const std::vector<int64_t>& project_ids() const { return project_ids_; }

  // OK when the principal may use project `project_id`; otherwise
  // PERMISSION_DENIED with reason PERMISSION_DENIED naming the project.
  absl::Status CheckProject(int64_t project_id) const;

  // OK when the principal may use every project; otherwise PERMISSION_DENIED
  // with reason PERMISSION_DENIED saying that the principal may not `what`
  // ("create projects"), which needs it.
  absl::Status CheckAllProjects(absl::string_view what) const;

 private:
  Principal(std::string name, bool all_projects,
            std::vector<int64_t> project_ids);

  std::string name_;
  bool all_projects_;
  std::vector<int64_t> project_ids_;
};

// TokenTable
//
// The bearer tokens a server accepts, each mapped to its Principal, parsed
// from the text of a tokens file (--auth_tokens_file):
//
//   # Comments start with '#'; blank lines are ignored.
//   # <token> <principal> <projects: * or comma-separated project ids>
//   3q2+7wSDFnbvc0xLg1X9aA   admin   *
//   pA55w0rdF0rT3amBlue000   blue    1,2,7
//
// Fields are separated by spaces or tabs. A token is at least 16 characters
// of RFC 6750's token alphabet (A-Z a-z 0-9 - . _ ~ + / and trailing '=');
// a principal name is letters, digits and . _ @ -; project ids are positive.
// Tokens must be distinct; one principal may have several (for rotation).
// Only SHA-256 digests of the tokens are kept in memory.
//
// Example:
//   absl::StatusOr<TokenTable> tokens = TokenTable::Load("/etc/tasks/tokens");
//   absl::StatusOr<const Principal*> caller =
//       tokens->Authenticate(context->client_metadata());
class TokenTable {
 public:
  using Metadata = std::multimap<grpc::string_ref, grpc::string_ref>;

  // Parses the text of a tokens file. INVALID_ARGUMENT naming the line and
  // what is wrong with it (never quoting a token), or when no token is
  // defined at all.
  static absl::StatusOr<TokenTable> Parse(absl::string_view text);

  // Parse() of the file at `path`; INVALID_ARGUMENT naming the file when it
  // cannot be read.
  static absl::StatusOr<TokenTable> Load(const std::string& path);

  // The principal whose token is `token`, or null. Takes the same time
  // whichever entry matches, or none: the token's digest is compared with
  // every entry's, without stopping early.
  const Principal* Find(absl::string_view token) const;

  // The caller of a call with the client metadata `metadata`, which must hold
  // exactly one `authorization: Bearer <token>` entry (the scheme's case does
  // not matter) with a known token. Otherwise UNAUTHENTICATED with reason
  // UNAUTHENTICATED; the message never quotes the token.
  absl::StatusOr<const Principal*> Authenticate(const Metadata& metadata) const;

  int size() const { return static_cast<int>(entries_.size()); }
  // Distinct principal names (several tokens may name one).
  int principal_count() const;

 private:
  struct Entry {
    Sha256Bytes digest;
    Principal principal;
  };

  std::vector<Entry> entries_;
};

// TokensEqual()
//
// Whether `a` and `b` are the same string, in time that depends on neither
// their contents nor where they differ (both are hashed with SHA-256 and the
// digests compared with CRYPTO_memcmp).
bool TokensEqual(absl::string_view a, absl::string_view b);

}  // namespace tasks::service

#endif  // TASKS_SERVICE_AUTH_H_
