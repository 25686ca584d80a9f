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
#include "storage/postgres/polled_connect.h"

namespace tasks::storage {

// The channel SequenceChanges notifies after numbering changes (see
// storage/schema/postgres/0005_task_changes.sql).
inline constexpr char kTaskChangesChannel[] = "task_changes";

// ChangeListener
//
// A ChangeSignal on a libpq connection of its own, outside the pool, that
// LISTENs on kTaskChangesChannel and waits on its socket. It connects on the
// first Wait and again after a loss (a lost connection fails that Wait with
// UNAVAILABLE); a (re)connect answers true, since notifications sent
// meanwhile went unheard. Connecting may take the connect timeout even when
// the Wait's timeout is shorter; Cancel() ends it too. Needs a session of its
// own on the server: not through a transaction pooler. Thread-safe; waits
// run one at a time.
//
// Example:
//   ChangeListener listener(conninfo);
//   absl::StatusOr<bool> changed = listener.Wait(absl::Seconds(1));
class ChangeListener final : public ChangeSignal {
 public:
  // `conninfo`: libpq's connection string; `connect_timeout` bounds a
  // connect and its LISTEN. A notification whose payload is `own_sender`
  // (this server's, see Dialect::NewChangeSignal) is not a signal; an empty
  // `own_sender` skips none.
  ChangeListener(std::string conninfo, absl::Duration connect_timeout,
                 std::string own_sender = "");
  ~ChangeListener() override;

  ChangeListener(const ChangeListener&) = delete;
  ChangeListener& operator=(const ChangeListener&) = delete;

  absl::StatusOr<bool> Wait(absl::Duration timeout) override;
  void Cancel() override;

 private:
  // Waits until the connection's socket is readable (writable when `write`),
  // Cancel() was called or `deadline` passed.
  SocketWait Await(bool write, absl::Time deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(wait_mu_);
  // OK for kReady; otherwise drops the connection and says why `what`
  // failed.
  absl::Status Step(SocketWait ready, const char* what)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(wait_mu_);
  // Opens the connection and LISTENs by `deadline`. UNAVAILABLE on failure.
  absl::Status Connect(absl::Time deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(wait_mu_);
  // Drops the connection; UNAVAILABLE naming `what` failed.
  absl::Status Lost(const char* what) ABSL_EXCLUSIVE_LOCKS_REQUIRED(wait_mu_);
  // True when a notification of another sender was read (all pending ones
  // are consumed).
  bool TakeNotifications() ABSL_EXCLUSIVE_LOCKS_REQUIRED(wait_mu_);

  const std::string conninfo_;
  const absl::Duration connect_timeout_;
  const std::string own_sender_;
  // Readable once Cancel() was called: wakes a waiting poll.
  int cancel_fd_ = -1;
  absl::Mutex wait_mu_;
  PGconn* connection_ ABSL_GUARDED_BY(wait_mu_) = nullptr;
};

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_POSTGRES_CHANGE_LISTENER_H_
