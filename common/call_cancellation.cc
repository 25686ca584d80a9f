#include "common/call_cancellation.h"

#include <utility>

namespace tasks {
namespace {

// Constant-initialized: no per-thread set-up cost.
thread_local CallCancellation* current_cancellation = nullptr;

}  // namespace

void CallCancellation::Cancel() {
  absl::MutexLock lock(&mu_);
  if (cancelled_.exchange(true, std::memory_order_acq_rel)) return;
  // Under the lock, so that the hook's scope cannot end while it runs.
  if (hook_ != nullptr) hook_->hook_();
}

CallCancellation::OnCancel::OnCancel(CallCancellation* cancellation,
                                     absl::AnyInvocable<void()> hook)
    : cancellation_(cancellation), hook_(std::move(hook)) {
  if (cancellation_ == nullptr) return;
  absl::MutexLock lock(&cancellation_->mu_);
  if (cancellation_->cancelled()) {
    hook_();
    return;
  }
  previous_ = cancellation_->hook_;
  cancellation_->hook_ = this;
}

CallCancellation::OnCancel::~OnCancel() {
  if (cancellation_ == nullptr) return;
  absl::MutexLock lock(&cancellation_->mu_);
  if (cancellation_->hook_ == this) cancellation_->hook_ = previous_;
}

CallCancellation* CurrentCallCancellation() { return current_cancellation; }

bool CallCancelled() {
  return current_cancellation != nullptr && current_cancellation->cancelled();
}

ScopedCallCancellation::ScopedCallCancellation(CallCancellation* cancellation)
    : previous_(current_cancellation) {
  current_cancellation = cancellation;
}

ScopedCallCancellation::~ScopedCallCancellation() {
  current_cancellation = previous_;
}

}  // namespace tasks
