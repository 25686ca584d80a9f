#ifndef TASKS_STORAGE_CANCEL_WATCHDOG_H_
#define TASKS_STORAGE_CANCEL_WATCHDOG_H_

#include <libpq-fe.h>

#include <cstdint>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace tasks::storage {

// CancelWatchdog
//
// Cancels PostgreSQL statements that run past their call's deadline. A call
// arms the watchdog with its connection and deadline before it runs its
// statements and disarms it after; if the deadline passes in between, the
// watchdog's thread sends a cancel request (PQcancel, which libpq allows from
// another thread) and the statement fails with SQLSTATE 57014. Once Disarm
// returns no cancel for that call can be sent any more. Arming costs no
// round trip; the thread wakes only when an armed deadline is earlier than
// the one it sleeps towards. Thread-safe.
class CancelWatchdog {
 public:
  CancelWatchdog() = default;
  ~CancelWatchdog();

  CancelWatchdog(const CancelWatchdog&) = delete;
  CancelWatchdog& operator=(const CancelWatchdog&) = delete;

  // Cancels what `connection` runs once `deadline` passes, until Disarm with
  // the returned id. 0 (nothing armed) when the cancel handle cannot be had.
  uint64_t Arm(PGconn* connection, absl::Time deadline);

  void Disarm(uint64_t id);

 private:
  struct Entry {
    PGcancel* cancel;
    absl::Time deadline;
  };

  void Watch();

  absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, Entry> entries_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  // When the thread next wakes by itself; bumping `wake_` wakes it sooner.
  absl::Time next_wake_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  uint64_t wake_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // started by the first Arm
};

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_CANCEL_WATCHDOG_H_
