#include "service/concurrency_limit.h"

#include <algorithm>

namespace tasks::service {

ConcurrencyLimit::ConcurrencyLimit(int limit, int max_waiters)
    : limit_(limit), max_waiters_(max_waiters) {}

ConcurrencyLimit::Slot::Slot(ConcurrencyLimit& limit, absl::Time deadline)
    : limit_(limit), held_(limit.Acquire(deadline)) {}

ConcurrencyLimit::Slot::~Slot() {
  if (held_) limit_.Release();
}

int ConcurrencyLimit::in_use() const {
  absl::MutexLock lock(&mu_);
  return in_use_;
}

int ConcurrencyLimit::waiting() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(waiters_.size());
}

bool ConcurrencyLimit::Acquire(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  if (in_use_ < limit_ && waiters_.empty()) {
    ++in_use_;
    return true;
  }
  if (static_cast<int>(waiters_.size()) >= max_waiters_) return false;
  Waiter waiter;
  waiters_.push_back(&waiter);
  while (!waiter.granted) {
    if (waiter.handed_over.WaitWithDeadline(&mu_, deadline) &&
        !waiter.granted) {
      // Timed out before a slot was handed over.
      waiters_.erase(std::find(waiters_.begin(), waiters_.end(), &waiter));
      return false;
    }
  }
  return true;  // in_use_ counts it already
}

void ConcurrencyLimit::Release() {
  absl::MutexLock lock(&mu_);
  if (waiters_.empty()) {
    --in_use_;
    return;
  }
  // The slot passes to the oldest waiter without coming free.
  Waiter* next = waiters_.front();
  waiters_.pop_front();
  next->granted = true;
  next->handed_over.Signal();
}

}  // namespace tasks::service
