#ifndef TASKS_STORAGE_POSTGRES_CHANGE_LISTENER_H_
#define TASKS_STORAGE_POSTGRES_CHANGE_LISTENER_H_

#include <libpq-fe.h>

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "storage/engine/change_signal.h"

namespace tasks::storage {

// The channel the change trigger notifies (storage/schema/postgres/
// 0005_task_changes.sql).
inline constexpr char kTaskChangesChannel[] = "task_changes";

// ChangeListener
//
// A ChangeSignal on a libpq connection of its own, outside the pool, that
// LISTENs on kTaskChangesChannel and waits on its socket. It connects on the
// first Wait and again after a loss; a (re)connect answers true, since
// notifications sent meanwhile went unheard. Needs a session of its own on
// the server: not through a transaction pooler. Thread-safe; waits run one
// at a time.
//
// Example:
//   ChangeListener listener(conninfo);
//   absl::StatusOr<bool> changed = listener.Wait(absl::Seconds(1));
class ChangeListener final : public ChangeSignal {
 public:
  // `conninfo`: libpq's connection string (with its connect_timeout).
  explicit ChangeListener(std::string conninfo);
  ~ChangeListener() override;

  ChangeListener(const ChangeListener&) = delete;
  ChangeListener& operator=(const ChangeListener&) = delete;

  absl::StatusOr<bool> Wait(absl::Duration timeout) override;
  void Cancel() override;

 private:
  // Opens the connection and LISTENs. UNAVAILABLE on failure.
  absl::Status Connect() ABSL_EXCLUSIVE_LOCKS_REQUIRED(wait_mu_);
  // Drops the connection; UNAVAILABLE naming `what` failed.
  absl::Status Lost(const char* what) ABSL_EXCLUSIVE_LOCKS_REQUIRED(wait_mu_);
  // True when a notification was read (all pending ones are consumed).
  bool TakeNotifications() ABSL_EXCLUSIVE_LOCKS_REQUIRED(wait_mu_);

  const std::string conninfo_;
  // Readable once Cancel() was called: wakes a waiting poll.
  int cancel_fd_ = -1;
  absl::Mutex wait_mu_;
  PGconn* connection_ ABSL_GUARDED_BY(wait_mu_) = nullptr;
};

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_POSTGRES_CHANGE_LISTENER_H_
