#include "service/concurrency_limit.h"

namespace tasks::service {

ConcurrencyLimit::ConcurrencyLimit(int limit, int max_waiters,
                                   int64_t max_waiting_weight)
    : limit_(limit),
      max_waiters_(max_waiters),
      max_waiting_weight_(max_waiting_weight) {}

ConcurrencyLimit::Slot::Slot(ConcurrencyLimit& limit, absl::Time deadline,
                             int64_t weight)
    : limit_(limit), held_(limit.Acquire(deadline, weight)) {}

ConcurrencyLimit::Slot::~Slot() {
  if (held_) limit_.Release();
}

int ConcurrencyLimit::in_use() const {
  absl::MutexLock lock(&mu_);
  return in_use_;
}

int ConcurrencyLimit::waiting() const {
  absl::MutexLock lock(&mu_);
  return waiting_;
}

bool ConcurrencyLimit::Acquire(absl::Time deadline, int64_t weight) {
  absl::MutexLock lock(&mu_);
  auto free = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return in_use_ < limit_;
  };
  if (!free()) {
    if (waiting_ >= max_waiters_ ||
        weight > max_waiting_weight_ - waiting_weight_) {
      return false;
    }
    ++waiting_;
    waiting_weight_ += weight;
    const bool freed = mu_.AwaitWithDeadline(absl::Condition(&free), deadline);
    --waiting_;
    waiting_weight_ -= weight;
    if (!freed) return false;
  }
  ++in_use_;
  return true;
}

void ConcurrencyLimit::Release() {
  absl::MutexLock lock(&mu_);
  --in_use_;
}

}  // namespace tasks::service
