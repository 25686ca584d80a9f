#include "service/concurrency_limit.h"

namespace tasks::service {

ConcurrencyLimit::ConcurrencyLimit(int limit, int max_waiters,
                                   int64_t max_waiting_weight,
                                   int max_waiters_per_key)
    : limit_(limit),
      max_waiters_(max_waiters),
      max_waiting_weight_(max_waiting_weight),
      max_waiters_per_key_(max_waiters_per_key) {}

ConcurrencyLimit::Slot::Slot(ConcurrencyLimit& limit, absl::Time deadline,
                             int64_t weight, absl::string_view key)
    : limit_(limit), outcome_(limit.Acquire(deadline, weight, key)) {}

ConcurrencyLimit::Slot::~Slot() {
  if (held()) limit_.Release();
}

int ConcurrencyLimit::in_use() const {
  absl::MutexLock lock(&mu_);
  return in_use_;
}

int ConcurrencyLimit::waiting() const {
  absl::MutexLock lock(&mu_);
  return waiting_;
}

ConcurrencyLimit::Outcome ConcurrencyLimit::Acquire(absl::Time deadline,
                                                    int64_t weight,
                                                    absl::string_view key) {
  absl::MutexLock lock(&mu_);
  auto free = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return in_use_ < limit_;
  };
  if (!free()) {
    if (waiting_ >= max_waiters_ ||
        weight > max_waiting_weight_ - waiting_weight_) {
      return Outcome::kRefused;
    }
    if (!key.empty()) {
      auto found = waiting_per_key_.find(key);
      if (found != waiting_per_key_.end() &&
          found->second >= max_waiters_per_key_) {
        return Outcome::kOverShare;
      }
      ++waiting_per_key_[key];
    }
    ++waiting_;
    waiting_weight_ += weight;
    const bool freed = mu_.AwaitWithDeadline(absl::Condition(&free), deadline);
    --waiting_;
    waiting_weight_ -= weight;
    if (!key.empty()) {
      // The map may have rehashed while this waited: found again.
      auto found = waiting_per_key_.find(key);
      if (--found->second == 0) waiting_per_key_.erase(found);
    }
    if (!freed) return Outcome::kRefused;
  }
  ++in_use_;
  return Outcome::kHeld;
}

void ConcurrencyLimit::Release() {
  absl::MutexLock lock(&mu_);
  --in_use_;
}

}  // namespace tasks::service
