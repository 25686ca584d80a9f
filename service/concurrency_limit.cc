#include "service/concurrency_limit.h"

#include <algorithm>
#include <string>

namespace tasks::service {

ConcurrencyLimit::ConcurrencyLimit(int limit, int max_waiters,
                                   int64_t max_waiting_weight, int shares)
    : limit_(limit),
      max_waiters_(max_waiters),
      max_waiting_weight_(max_waiting_weight),
      shared_(shares > 1),
      max_share_{.waiters = std::max(1, max_waiters / shares),
                 .weight = max_waiting_weight / shares} {}

ConcurrencyLimit::Slot::Slot(ConcurrencyLimit& limit, absl::Time deadline,
                             int64_t weight)
    : Slot(limit, deadline, weight, [] { return std::string(); }) {}

ConcurrencyLimit::Slot::Slot(ConcurrencyLimit& limit, absl::Time deadline,
                             int64_t weight,
                             absl::FunctionRef<std::string()> key,
                             CallCancellation* cancellation)
    : limit_(limit),
      outcome_(limit.Acquire(deadline, weight, key, cancellation)) {}

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

ConcurrencyLimit::Outcome ConcurrencyLimit::Acquire(
    absl::Time deadline, int64_t weight, absl::FunctionRef<std::string()> key,
    CallCancellation* cancellation) {
  // Taking the lock wakes the waiters to check their conditions. (Set up
  // outside the lock, which a running hook takes.)
  CallCancellation::OnCancel wake_on_cancel(
      cancellation, [this] { absl::MutexLock lock(&mu_); });
  auto cancelled = [cancellation] {
    return cancellation != nullptr && cancellation->cancelled();
  };
  absl::MutexLock lock(&mu_);
  auto free = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return in_use_ < limit_;
  };
  auto free_or_cancelled = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return free() || cancelled();
  };
  if (cancelled()) return Outcome::kCancelled;
  if (free()) {
    ++in_use_;
    return Outcome::kHeld;
  }
  if (waiting_ >= max_waiters_ ||
      weight > max_waiting_weight_ - waiting_weight_) {
    ++refused_;
    return Outcome::kRefused;
  }
  // With one share there is nothing to bound per caller: none is asked for.
  const std::string caller = shared_ ? key() : std::string();
  if (!caller.empty()) {
    Share& share = shares_[caller];
    // And half of what is still free: however many callers take their
    // share, the last places and weight stay for callers waiting for none.
    const int free_places = max_waiters_ - waiting_;
    const int64_t free_weight = max_waiting_weight_ - waiting_weight_;
    if (share.waiters >= max_share_.waiters ||
        weight > max_share_.weight - share.weight ||
        2 * share.waiters >= free_places ||
        (share.weight > 0 && share.weight >= free_weight / 2)) {
      if (share.waiters == 0) shares_.erase(caller);
      ++over_share_;
      return Outcome::kOverShare;
    }
    ++share.waiters;
    share.weight += weight;
  }
  ++waiting_;
  waiting_weight_ += weight;
  const bool freed =
      mu_.AwaitWithDeadline(absl::Condition(&free_or_cancelled), deadline) &&
      free();
  --waiting_;
  waiting_weight_ -= weight;
  if (!caller.empty()) {
    // The map may have rehashed while this waited: found again.
    const auto found = shares_.find(caller);
    found->second.weight -= weight;
    if (--found->second.waiters == 0) shares_.erase(found);
  }
  if (cancelled()) return Outcome::kCancelled;
  if (!freed) {
    ++refused_;
    return Outcome::kRefused;
  }
  ++in_use_;
  return Outcome::kHeld;
}

ConcurrencyLimit::Stats ConcurrencyLimit::stats() const {
  absl::MutexLock lock(&mu_);
  return {.in_use = in_use_,
          .waiting = waiting_,
          .refused = refused_,
          .over_share = over_share_};
}

void ConcurrencyLimit::Release() {
  absl::MutexLock lock(&mu_);
  --in_use_;
}

}  // namespace tasks::service
