#ifndef TASKS_STORAGE_ENGINE_CONNECTION_POOL_H_
#define TASKS_STORAGE_ENGINE_CONNECTION_POOL_H_

#include <atomic>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "storage/engine/connection.h"
#include "storage/engine/dialect.h"
#include "storage/store_observer.h"

namespace tasks::storage {

// ConnectionPool
//
// Up to `size` connections, opened on demand and reused most recently used
// first (their prepared statements stay warm). A connection marked broken is
// closed when returned, and a new one is opened on a later Acquire. When the
// dialect serializes writes, write leases also take the single writer turn,
// so that writers queue here rather than in SQLite's sleeping busy handler.
// A connection opened for a call with a deadline is opened on a thread of
// its own, which the call stops waiting for at its deadline (a hung server
// holds a connect for libpq's whole connect_timeout, at least 2 s): the
// thread finishes by itself and closes what it opened. At most `size` such
// threads run at once; beyond that a call needing a new connection gets
// UNAVAILABLE. Its size, connections in use and waits go to the
// StoreObserver, if any. Thread-safe.
class ConnectionPool {
 public:
  class Lease;

  // `observer`, when not null, must outlive the pool.
  ConnectionPool(std::shared_ptr<const Dialect> dialect, int size,
                 absl::Duration wait_timeout,
                 StoreObserver* observer = nullptr);
  ~ConnectionPool();

  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // A connection for this thread alone until the lease ends. Waits at most
  // wait_timeout for a free connection (and the writer turn, for `write`):
  // UNAVAILABLE (kDatabaseUnavailable) on timeout or when a new connection
  // cannot be opened; DEADLINE_EXCEEDED (kDeadlineExceeded) when `deadline`
  // comes first. Never hold two leases on one thread: with a pool of one
  // that waits for itself.
  absl::StatusOr<Lease> Acquire(bool write,
                                absl::Time deadline = absl::InfiniteFuture());

  int size() const { return size_; }

  // Calls waiting in Acquire for a connection (or the writer turn).
  int waiting() const;

  // Ends every wait for a connection and every connect under way at once,
  // and fails later Acquires: UNAVAILABLE (kDatabaseUnavailable). For
  // shutdown, when a hung database would otherwise hold a call until its
  // deadline (a connect to a frozen server is not interrupted).
  void Cancel();

 private:
  struct Opening;

  // A new connection, waited for until `deadline`.
  absl::StatusOr<std::unique_ptr<Connection>> Open(absl::Time deadline);

  // UNAVAILABLE for a connect that threw `error`.
  absl::Status ConnectFailed(const std::exception& error) const;

  void Release(std::unique_ptr<Connection> connection, bool write);

  // Tells the observer the pool's counts.
  void ReportChange() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Why a wait for a connection that gave up at `give_up` failed.
  absl::Status WaitFailed(absl::Time deadline, absl::Time give_up) const;

  // Shared with connections still being opened for calls that gave up.
  const std::shared_ptr<const Dialect> dialect_;
  const int size_;
  const absl::Duration wait_timeout_;
  // Threads opening a connection; shared with them, as they may outlive the
  // pool.
  const std::shared_ptr<std::atomic<int>> openers_ =
      std::make_shared<std::atomic<int>>(0);
  StoreObserver* const observer_;
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;  // idle, leased or being opened
  int leased_ ABSL_GUARDED_BY(mu_) = 0;
  bool writer_busy_ ABSL_GUARDED_BY(mu_) = false;
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  // The connects callers wait for now: Cancel() ends their waits.
  absl::flat_hash_set<Opening*> awaited_ ABSL_GUARDED_BY(mu_);
};

// A leased connection; returns it to the pool when destroyed.
class ConnectionPool::Lease {
 public:
  Lease(Lease&& other) noexcept;
  Lease& operator=(Lease&&) = delete;
  ~Lease();

  Connection& operator*() const { return *connection_; }
  Connection* operator->() const { return connection_.get(); }

 private:
  friend class ConnectionPool;
  Lease(ConnectionPool* pool, std::unique_ptr<Connection> connection,
        bool write);

  ConnectionPool* pool_;
  std::unique_ptr<Connection> connection_;
  bool write_;
};

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_ENGINE_CONNECTION_POOL_H_
