#ifndef TASKS_COMMON_CALL_DEADLINE_H_
#define TASKS_COMMON_CALL_DEADLINE_H_

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace tasks {

// The deadline of the store call running on this thread:
// absl::InfiniteFuture() when none is set. Store calls honour it: a call
// whose deadline has passed returns DEADLINE_EXCEEDED (reason
// kDeadlineExceeded) without touching the database, and waits (for a pooled
// connection, for a SQLite lock, for a PostgreSQL statement) stop at it.
absl::Time CurrentCallDeadline();

// ScopedCallDeadline
//
// Sets this thread's call deadline for the object's lifetime, then restores
// the previous one, so scopes nest. The new deadline replaces the previous
// one (it may be later); callers wanting the earlier of two pass their min.
//
// Example:
//   ScopedCallDeadline deadline(absl::Now() + absl::Milliseconds(50));
//   absl::StatusOr<v1::Task> task = store.GetTask(id);
class ScopedCallDeadline {
 public:
  explicit ScopedCallDeadline(absl::Time deadline);
  ~ScopedCallDeadline();

  ScopedCallDeadline(const ScopedCallDeadline&) = delete;
  ScopedCallDeadline& operator=(const ScopedCallDeadline&) = delete;

 private:
  const absl::Time previous_;
};

// True when the current call's deadline has passed.
bool CallDeadlinePassed();

// DEADLINE_EXCEEDED with reason kDeadlineExceeded, `what` naming what was
// cut short.
absl::Status CallDeadlineExceeded(absl::string_view what);

// True when the current call's deadline has passed or its client cancelled
// it (CallCancelled): what the store would do for it from now on is wasted.
bool CallCutShort();

// What a call CallCutShort() ends with: CallDeadlineExceeded(what) once its
// deadline has passed, else CANCELLED (its client is gone: nobody reads it).
absl::Status CallCutShortStatus(absl::string_view what);

}  // namespace tasks

#endif  // TASKS_COMMON_CALL_DEADLINE_H_
