#ifndef TASKS_COMMON_CALL_CANCELLATION_H_
#define TASKS_COMMON_CALL_CANCELLATION_H_

#include <atomic>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace tasks {

// CallCancellation
//
// Set once a call's client is gone (it cancelled the call, or its
// connection closed) before the call's deadline: whatever the server still
// does for the call is thrown away, so a scan of seconds should stop as soon
// as it can rather than run on to its deadline, holding a list slot and a
// core. The front cancels it from the thread that learns of the end, and
// hands it to the wait for a list slot; the store sees it through
// ScopedCallCancellation on the call's own thread (polled, as SQLite's
// progress handler does, or woken by an OnCancel hook, as a PostgreSQL
// statement is). Thread-safe.
//
// Example:
//   CallCancellation cancellation;              // one per call
//   ScopedCallCancellation scope(&cancellation);  // on the call's thread
//   ...                                          // elsewhere, at its end:
//   cancellation.Cancel();
class CallCancellation {
 public:
  CallCancellation() = default;
  CallCancellation(const CallCancellation&) = delete;
  CallCancellation& operator=(const CallCancellation&) = delete;

  // Marks the call cancelled and runs the hook registered now, if any. Later
  // calls do nothing.
  void Cancel();

  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }

  // OnCancel
  //
  // For its scope, `hook` runs (on the thread that calls Cancel) when the
  // call is cancelled, or at once, here, when it already is; it must not
  // block. Scopes nest: the innermost one is the wait the call is in, and
  // only its hook runs. Once the destructor has returned the hook is not
  // running and will not run. A null cancellation: nothing happens.
  class OnCancel {
   public:
    OnCancel(CallCancellation* cancellation, absl::AnyInvocable<void()> hook);
    ~OnCancel();
    OnCancel(const OnCancel&) = delete;
    OnCancel& operator=(const OnCancel&) = delete;

   private:
    friend class CallCancellation;  // runs hook_

    CallCancellation* const cancellation_;
    absl::AnyInvocable<void()> hook_;
    OnCancel* previous_ = nullptr;
  };

 private:
  std::atomic<bool> cancelled_{false};
  absl::Mutex mu_;
  OnCancel* hook_ ABSL_GUARDED_BY(mu_) = nullptr;
};

// The cancellation of the call running on this thread: null when none is
// set.
CallCancellation* CurrentCallCancellation();

// True when the call running on this thread was cancelled.
bool CallCancelled();

// ScopedCallCancellation
//
// Sets this thread's call cancellation for the object's lifetime, then
// restores the previous one.
class ScopedCallCancellation {
 public:
  explicit ScopedCallCancellation(CallCancellation* cancellation);
  ~ScopedCallCancellation();

  ScopedCallCancellation(const ScopedCallCancellation&) = delete;
  ScopedCallCancellation& operator=(const ScopedCallCancellation&) = delete;

 private:
  CallCancellation* const previous_;
};

}  // namespace tasks

#endif  // TASKS_COMMON_CALL_CANCELLATION_H_
