#include "storage/cancel_watchdog.h"

#include <utility>

#include "absl/time/clock.h"

namespace tasks::storage {

CancelWatchdog::~CancelWatchdog() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    ++wake_;
  }
  if (thread_.joinable()) thread_.join();
  for (auto& [id, entry] : entries_) PQfreeCancel(entry.cancel);
}

uint64_t CancelWatchdog::Arm(PGconn* connection, absl::Time deadline) {
  PGcancel* cancel = PQgetCancel(connection);
  if (cancel == nullptr) return 0;
  absl::MutexLock lock(&mu_);
  const uint64_t id = next_id_++;
  entries_.emplace(id, Entry{cancel, deadline});
  if (!thread_.joinable()) thread_ = std::thread([this] { Watch(); });
  if (deadline < next_wake_) {
    next_wake_ = deadline;
    ++wake_;
  }
  return id;
}

void CancelWatchdog::Disarm(uint64_t id) {
  if (id == 0) return;
  PGcancel* cancel = nullptr;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    cancel = it->second.cancel;
    entries_.erase(it);
  }
  PQfreeCancel(cancel);
}

void CancelWatchdog::Watch() {
  absl::MutexLock lock(&mu_);
  while (!stop_) {
    const uint64_t seen = wake_;
    auto woken = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return wake_ != seen;
    };
    mu_.AwaitWithDeadline(absl::Condition(&woken), next_wake_);
    if (stop_) break;
    const absl::Time now = absl::Now();
    next_wake_ = absl::InfiniteFuture();
    for (auto& [id, entry] : entries_) {
      if (entry.deadline <= now) {
        // Under the lock: Disarm waits, so no cancel outlives its call.
        char error[256];
        PQcancel(entry.cancel, error, sizeof(error));
        entry.deadline = absl::InfiniteFuture();  // once
      } else if (entry.deadline < next_wake_) {
        next_wake_ = entry.deadline;
      }
    }
  }
}

}  // namespace tasks::storage
