#ifndef TASKS_STORAGE_ENGINE_DATABASE_H_
#define TASKS_STORAGE_ENGINE_DATABASE_H_

#include <atomic>
#include <exception>
#include <memory>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/call_cancellation.h"
#include "common/call_deadline.h"
#include "storage/engine/connection.h"
#include "storage/engine/connection_pool.h"
#include "storage/engine/db_error.h"
#include "storage/engine/dialect.h"
#include "storage/engine/group_committer.h"
#include "storage/store_observer.h"

namespace tasks::storage {

// Whether a call only reads (and may be retried) or writes.
enum class Access { kRead, kWrite };

// Database
//
// A database reached through one dialect: its connection pool, its group
// committer (when writes take turns), and Run, which executes a function on
// a pooled connection and turns whatever the database throws into a status.
// Thread-safe.
class Database {
 public:
  // `observer`, when not null, sees the pool and the group commits, and must
  // outlive the database.
  Database(std::unique_ptr<Dialect> dialect, int pool_size,
           absl::Duration wait_timeout, StoreObserver* observer = nullptr);

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  const Dialect& dialect() const { return *dialect_; }

  // Runs `fn(Connection&)`, which returns absl::Status or absl::StatusOr<T>
  // and may throw soci::soci_error, on a pooled connection. An exception
  // becomes a status through the dialect and `context` (which `fn` may
  // update as it goes, to name the part that failed). A transaction `fn`
  // leaves open is rolled back. Writes go through the group committer when
  // there is one; a read that lost its connection is retried once on a new
  // one. The call's deadline (CurrentCallDeadline) bounds every wait:
  // DEADLINE_EXCEEDED (kDeadlineExceeded) when it passes. Never throws.
  template <typename Fn>
  auto Run(Access access, ErrorContext& context, Fn&& fn)
      -> decltype(fn(std::declval<Connection&>()));

  // Stops the statements running now (see Dialect::CancelStatements) and the
  // waits for a connection or a connect (ConnectionPool::Cancel); from now
  // on Run returns UNAVAILABLE (kDatabaseUnavailable) without touching the
  // database. For shutdown. Thread-safe.
  void CancelCalls();

 private:
  // UNAVAILABLE once CancelCalls() was called, else OK.
  absl::Status CheckNotCancelled() const;

  // Runs `fn` on `connection` (see Run), setting `lost` when the connection
  // is gone. Outside grouped mode it rolls back what `fn` leaves open; inside,
  // the committer rolls back to the write's savepoint.
  template <typename Fn>
  auto Attempt(Connection& connection, const ErrorContext& context, Fn& fn,
               bool& lost) -> decltype(fn(std::declval<Connection&>()));

  // The classified error, with the connection released and, when it is
  // gone, marked broken.
  absl::Status Failed(Connection& connection, const std::exception* error,
                      const ErrorContext& context, bool& lost);

  static absl::Status StatusOf(const absl::Status& status) { return status; }
  template <typename T>
  static absl::Status StatusOf(const absl::StatusOr<T>& status_or) {
    return status_or.status();
  }

  // Shared with the pool's connections still being opened.
  const std::shared_ptr<Dialect> dialect_;
  std::atomic<bool> cancelled_{false};
  ConnectionPool pool_;
  std::unique_ptr<GroupCommitter> committer_;
};

template <typename Fn>
auto Database::Run(Access access, ErrorContext& context, Fn&& fn)
    -> decltype(fn(std::declval<Connection&>())) {
  using Result = decltype(fn(std::declval<Connection&>()));
  const absl::Time deadline = CurrentCallDeadline();
  if (CallCutShort()) {
    return CallCutShortStatus("before the database was reached");
  }
  if (absl::Status cancelled = CheckNotCancelled(); !cancelled.ok()) {
    return cancelled;
  }
  if (access == Access::kWrite) {
    if (absl::Status attached = dialect_->CheckStillAttached();
        !attached.ok()) {
      return attached;
    }
  }
  if (access == Access::kWrite && committer_ != nullptr) {
    std::optional<Result> result;
    absl::Status committed = committer_->Run(
        [&](Connection& connection) -> absl::Status {
          bool lost = false;
          result.emplace(Attempt(connection, context, fn, lost));
          return StatusOf(*result);
        },
        deadline);
    if (!committed.ok()) return committed;
    return *std::move(result);
  }
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<ConnectionPool::Lease> lease =
        pool_.Acquire(access == Access::kWrite, deadline);
    if (!lease.ok()) return lease.status();
    bool lost = false;
    Result result = Attempt(**lease, context, fn, lost);
    // A connection lost to the deadline's cancel is not worth a retry.
    if (!(lost && access == Access::kRead && attempt == 0) || CallCutShort()) {
      return result;
    }
  }
}

template <typename Fn>
auto Database::Attempt(Connection& connection, const ErrorContext& context,
                       Fn& fn, bool& lost)
    -> decltype(fn(std::declval<Connection&>())) {
  if (absl::Status cancelled = CheckNotCancelled(); !cancelled.ok()) {
    return cancelled;
  }
  // A cancel request sent before the statement starts would be ignored.
  if (CallCancelled()) return CallCutShortStatus("before its statement ran");
  const uint64_t armed =
      dialect_->ArmDeadline(connection.session(), CurrentCallDeadline());
  // A call its client cancelled meanwhile is stopped as at its deadline.
  CallCancellation::OnCancel expire(
      armed == 0 ? nullptr : CurrentCallCancellation(),
      [this, armed] { dialect_->ExpireDeadline(armed); });
  // Disarmed after the rollback, which the deadline bounds too. Once the
  // watchdog broke the session (or may still cancel on it), it is dropped.
  auto disarm = [&] {
    if (dialect_->DisarmDeadline(armed)) connection.MarkBroken();
  };
  try {
    auto result = fn(connection);
    if (!connection.grouped() &&
        dialect_->InTransaction(connection.session())) {
      connection.Recover();
    }
    disarm();
    return result;
  } catch (const std::exception& error) {
    absl::Status status = Failed(connection, &error, context, lost);
    disarm();
    return status;
  } catch (...) {
    absl::Status status = Failed(connection, nullptr, context, lost);
    disarm();
    return status;
  }
}

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_ENGINE_DATABASE_H_
