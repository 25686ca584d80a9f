#ifndef TASKS_STORAGE_RUN_BLOCKING_H_
#define TASKS_STORAGE_RUN_BLOCKING_H_

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"

namespace tasks::storage {

// The answer of an asynchronous store call (TaskStore's TryXxxAsync) that
// was given up without effect, because waiting there would hold up the
// calls behind it (a write waiting for a lock held elsewhere): the caller
// runs the call again the blocking way, which waits as long as the call's
// deadline allows. Never an answer to a client.
inline constexpr char kRunBlockingUrl[] = "type.tasks.internal/run_blocking";

inline absl::Status RunBlockingInstead(absl::string_view why) {
  absl::Status status = absl::UnavailableError(why);
  status.SetPayload(kRunBlockingUrl, absl::Cord());
  return status;
}

inline bool IsRunBlockingInstead(const absl::Status& status) {
  return status.GetPayload(kRunBlockingUrl).has_value();
}

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_RUN_BLOCKING_H_
