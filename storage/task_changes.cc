#include "storage/task_changes.h"

#include <algorithm>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/error_reason.h"

namespace tasks::storage {
namespace {

// The token's text, before base64: "c1.<seq>" then ".<change_id>" for each
// reflected change. Versioned so that a later form can be told apart.
constexpr absl::string_view kVersion = "c1";
// More reflected changes than a page can plausibly have raced with.
constexpr size_t kMaxReflectedIds = 4096;

absl::Status Malformed(absl::string_view why) {
  return InvalidField("resume_token", why, reason::kInvalidResumeToken);
}

}  // namespace

absl::StatusOr<ChangePosition> ChangePosition::Decode(absl::string_view token) {
  std::string text;
  if (!absl::WebSafeBase64Unescape(token, &text)) {
    return Malformed("not a resume token");
  }
  std::vector<absl::string_view> parts = absl::StrSplit(text, '.');
  if (parts.size() < 2 || parts[0] != kVersion ||
      parts.size() - 2 > kMaxReflectedIds) {
    return Malformed("not a resume token");
  }
  int64_t seq = 0;
  if (!absl::SimpleAtoi(parts[1], &seq) || seq < 0) {
    return Malformed("not a resume token");
  }
  absl::flat_hash_set<int64_t> reflected;
  for (size_t i = 2; i < parts.size(); ++i) {
    int64_t id = 0;
    if (!absl::SimpleAtoi(parts[i], &id) || id <= 0) {
      return Malformed("not a resume token");
    }
    reflected.insert(id);
  }
  ChangePosition position(seq, std::move(reflected));
  if (position.Encode() != token) return Malformed("not a resume token");
  return position;
}

std::string ChangePosition::Encode() const {
  std::vector<int64_t> ids(reflected_ids_.begin(), reflected_ids_.end());
  std::sort(ids.begin(), ids.end());  // One position, one token.
  std::string text = absl::StrCat(kVersion, ".", seq_);
  if (!ids.empty()) absl::StrAppend(&text, ".", absl::StrJoin(ids, "."));
  return absl::WebSafeBase64Escape(text);
}

absl::Status ChangePosition::CheckNotAhead(int64_t latest_seq) const {
  if (seq_ <= latest_seq) return absl::OkStatus();
  return Malformed("is ahead of every change of this database");
}

bool ChangePosition::Advance(const TaskChange& change) {
  if (change.seq <= seq_) return false;
  seq_ = change.seq;
  return reflected_ids_.erase(change.change_id) == 0;
}

bool ChangePosition::SkipTo(int64_t seq) {
  if (!reflected_ids_.empty()) return false;
  seq_ = std::max(seq_, seq);
  return true;
}

}  // namespace tasks::storage
