#ifndef TASKS_STORAGE_ENGINE_GROUP_COMMITTER_H_
#define TASKS_STORAGE_ENGINE_GROUP_COMMITTER_H_

#include <deque>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "storage/engine/connection.h"
#include "storage/engine/connection_pool.h"
#include "storage/store_observer.h"

namespace tasks::storage {

// GroupCommitter
//
// Group commit for a database with one writer at a time (SQLite): writes
// that arrive while another is running queue up, and the next leader runs
// the queue in one transaction, each write in its own savepoint, so that one
// commit (one fsync) makes them all durable. A write that fails is rolled
// back to its savepoint without touching the others; no caller returns
// before its write is committed or undone. A write that runs alone runs as
// it would without the committer (its own transaction, if any).
// Thread-safe.
class GroupCommitter {
 public:
  // One write. It runs on the leader's thread, with Connection::grouped()
  // telling whether it shares a transaction (then Begin/Commit do nothing).
  // It records its own outcome where its caller will find it, returns that
  // outcome's status, and never throws.
  using Write = absl::FunctionRef<absl::Status(Connection& connection)>;

  // `max_group`: the most writes one transaction takes. `observer`, when not
  // null, is told each group's size and must outlive the committer.
  GroupCommitter(ConnectionPool& pool, const Dialect& dialect, int max_group,
                 StoreObserver* observer = nullptr);

  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Runs `write` and returns once it is durable or undone: OK when its
  // transaction committed (the write's own outcome is what it recorded),
  // otherwise why the transaction failed, which then undid the write.
  // DEADLINE_EXCEEDED when `deadline` passes while the write still waits its
  // turn (then it never runs). A group runs under the latest deadline of its
  // writes.
  absl::Status Run(Write write, absl::Time deadline);

  // Writes queued for the next group (not yet taken by a leader).
  int waiting() const;

 private:
  struct Pending {
    Pending(Write w, absl::Time d) : write(w), deadline(d) {}
    Write write;
    absl::Time deadline;
    absl::Status committed;
    bool done = false;
  };

  // Runs `group` on one connection and fills in each `committed`.
  void RunGroup(const std::vector<Pending*>& group);

  ConnectionPool& pool_;
  const Dialect& dialect_;
  const int max_group_;
  StoreObserver* const observer_;
  mutable absl::Mutex mu_;
  std::deque<Pending*> queue_ ABSL_GUARDED_BY(mu_);
  bool leading_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_ENGINE_GROUP_COMMITTER_H_
