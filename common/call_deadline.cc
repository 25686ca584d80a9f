#include "common/call_deadline.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/call_cancellation.h"
#include "common/error_reason.h"

namespace tasks {
namespace {

// Constant-initialized: no per-thread set-up cost.
thread_local absl::Time call_deadline = absl::InfiniteFuture();

}  // namespace

absl::Time CurrentCallDeadline() { return call_deadline; }

ScopedCallDeadline::ScopedCallDeadline(absl::Time deadline)
    : previous_(call_deadline) {
  call_deadline = deadline;
}

ScopedCallDeadline::~ScopedCallDeadline() { call_deadline = previous_; }

bool CallDeadlinePassed() {
  return call_deadline != absl::InfiniteFuture() &&
         absl::Now() >= call_deadline;
}

absl::Status CallDeadlineExceeded(absl::string_view what) {
  return WithReason(absl::DeadlineExceededError(
                        absl::StrCat("the call's deadline passed ", what)),
                    reason::kDeadlineExceeded);
}

bool CallCutShort() { return CallDeadlinePassed() || CallCancelled(); }

absl::Status CallCutShortStatus(absl::string_view what) {
  if (CallCancelled() && !CallDeadlinePassed()) {
    return absl::CancelledError(
        absl::StrCat("the call's client cancelled it ", what));
  }
  return CallDeadlineExceeded(what);
}

}  // namespace tasks
