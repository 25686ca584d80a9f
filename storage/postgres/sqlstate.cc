#include "storage/postgres/sqlstate.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/match.h"

namespace tasks::storage {
namespace {

// The quoted name after `marker`: `violates unique constraint "x"` -> x.
std::string QuotedAfter(absl::string_view message, absl::string_view marker) {
  size_t at = message.find(marker);
  if (at == absl::string_view::npos) return "";
  absl::string_view rest = message.substr(at + marker.size());
  size_t end = rest.find('"');
  if (end == absl::string_view::npos) return "";
  return std::string(rest.substr(0, end));
}

}  // namespace

void MoveStatementLines(DbError& error) {
  size_t cut = std::string::npos;
  for (const char* line : {"\nCONTEXT:", "\nQUERY:", "\nLINE "}) {
    cut = std::min(cut, error.message.find(line));
  }
  if (cut == std::string::npos) return;
  error.context.insert(0, error.message, cut, std::string::npos);
  error.message.erase(cut);
}

DbError ClassifySqlState(absl::string_view code, std::string message) {
  DbError result;
  result.message = std::move(message);
  MoveStatementLines(result);
  if (code == "23505") {
    result.kind = DbErrorKind::kUniqueViolation;
    result.constraint = QuotedAfter(result.message, "constraint \"");
  } else if (code == "23503") {
    result.kind = DbErrorKind::kForeignKeyViolation;
    result.constraint = QuotedAfter(result.message, "constraint \"");
  } else if (code == "23502") {
    result.kind = DbErrorKind::kNotNullViolation;
    result.constraint = QuotedAfter(result.message, "column \"");
  } else if (code == "23514") {
    result.kind = DbErrorKind::kCheckViolation;
    result.constraint = QuotedAfter(result.message, "constraint \"");
  } else if (absl::StartsWith(code, "22") || code == "54000") {
    // Data exceptions (bad encoding, bad JSON) and values too large.
    result.kind = DbErrorKind::kInvalidValue;
  } else if (absl::StartsWith(code, "08") || code == "57P01" ||
             code == "57P02" || code == "57P03") {
    // Connection failures and server shutdown: the session is gone.
    result.kind = DbErrorKind::kUnavailable;
    result.connection_lost = true;
  } else if (code == "53100") {  // disk_full
    result.kind = DbErrorKind::kStorageFull;
  } else if (absl::StartsWith(code, "53") || code == "40001" ||
             code == "40P01" || code == "57014" || code == "55P03") {
    // Out of resources, serialization failure, deadlock, cancelled (the
    // call's deadline, see ArmDeadline), a lock not had within
    // lock_timeout: safe to retry.
    result.kind = DbErrorKind::kUnavailable;
  }
  return result;
}

}  // namespace tasks::storage
