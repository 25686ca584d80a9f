#include "storage/connection_pool.h"

#include <algorithm>
#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "storage/call_deadline.h"
#include "storage/error_reason.h"

namespace tasks::storage {

ConnectionPool::ConnectionPool(const Dialect& dialect, int size,
                               absl::Duration wait_timeout)
    : dialect_(dialect), size_(size), wait_timeout_(wait_timeout) {}

ConnectionPool::~ConnectionPool() = default;

absl::StatusOr<ConnectionPool::Lease> ConnectionPool::Acquire(
    bool write, absl::Time deadline) {
  const bool take_turn = write && dialect_.serialize_writes();
  std::unique_ptr<Connection> connection;
  {
    absl::MutexLock lock(&mu_);
    auto ready = [this, take_turn]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return (!idle_.empty() || open_ < size_) && !(take_turn && writer_busy_);
    };
    // The clock is read only when the call has to wait.
    if (!ready()) {
      const absl::Time give_up = absl::Now() + wait_timeout_;
      if (!mu_.AwaitWithDeadline(absl::Condition(&ready),
                                 std::min(give_up, deadline))) {
        return WaitFailed(deadline, give_up);
      }
    }
    if (take_turn) writer_busy_ = true;
    if (!idle_.empty()) {
      connection = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(connection), take_turn);
    }
    ++open_;
  }
  // Connecting takes a while: not under the lock.
  try {
    connection = std::make_unique<Connection>(dialect_);
  } catch (const std::exception& error) {
    DbError db_error = dialect_.ClassifyError(error, nullptr);
    absl::MutexLock lock(&mu_);
    --open_;
    if (take_turn) writer_busy_ = false;
    if (db_error.kind == DbErrorKind::kOther) {
      db_error.kind = DbErrorKind::kUnavailable;
    }
    db_error.message = absl::StrCat("cannot connect to ", dialect_.name(), ": ",
                                    db_error.message);
    return DbErrorToStatus(db_error, ErrorContext());
  }
  return Lease(this, std::move(connection), take_turn);
}

absl::Status ConnectionPool::WaitFailed(absl::Time deadline,
                                        absl::Time give_up) const {
  if (deadline <= give_up) {
    return CallDeadlineExceeded("waiting for a database connection");
  }
  return WithReason(absl::UnavailableError(absl::StrCat(
                        "no ", dialect_.name(), " connection free within ",
                        absl::FormatDuration(wait_timeout_))),
                    reason::kDatabaseUnavailable);
}

void ConnectionPool::Release(std::unique_ptr<Connection> connection,
                             bool write) {
  if (connection->broken()) connection.reset();  // closes outside the lock
  absl::MutexLock lock(&mu_);
  if (write) writer_busy_ = false;
  if (connection != nullptr) {
    idle_.push_back(std::move(connection));
  } else {
    --open_;
  }
}

ConnectionPool::Lease::Lease(ConnectionPool* pool,
                             std::unique_ptr<Connection> connection, bool write)
    : pool_(pool), connection_(std::move(connection)), write_(write) {}

ConnectionPool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_),
      connection_(std::move(other.connection_)),
      write_(other.write_) {}

ConnectionPool::Lease::~Lease() {
  if (connection_ != nullptr) pool_->Release(std::move(connection_), write_);
}

}  // namespace tasks::storage
