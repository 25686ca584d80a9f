#include "service/concurrency_limit.h"

namespace tasks::service {

ConcurrencyLimit::ConcurrencyLimit(int limit) : limit_(limit) {}

ConcurrencyLimit::Slot::Slot(ConcurrencyLimit& limit, absl::Time deadline)
    : limit_(limit), held_(limit.Acquire(deadline)) {}

ConcurrencyLimit::Slot::~Slot() {
  if (held_) limit_.Release();
}

int ConcurrencyLimit::in_use() const {
  absl::MutexLock lock(&mu_);
  return in_use_;
}

bool ConcurrencyLimit::Acquire(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  auto free = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return in_use_ < limit_;
  };
  if (!mu_.AwaitWithDeadline(absl::Condition(&free), deadline)) return false;
  ++in_use_;
  return true;
}

void ConcurrencyLimit::Release() {
  absl::MutexLock lock(&mu_);
  --in_use_;
}

}  // namespace tasks::service
