#include "storage/engine/connection_pool.h"

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/call_deadline.h"
#include "common/error_reason.h"

namespace tasks::storage {

// A connection being opened on a thread of its own.
struct ConnectionPool::Opening {
  absl::Mutex mu;
  bool done ABSL_GUARDED_BY(mu) = false;
  bool abandoned ABSL_GUARDED_BY(mu) = false;  // the caller gave up
  bool cancelled ABSL_GUARDED_BY(mu) = false;  // ConnectionPool::Cancel()
  std::unique_ptr<Connection> connection ABSL_GUARDED_BY(mu);
  std::exception_ptr error ABSL_GUARDED_BY(mu);
};

ConnectionPool::ConnectionPool(std::shared_ptr<const Dialect> dialect, int size,
                               absl::Duration wait_timeout,
                               StoreObserver* observer)
    : dialect_(std::move(dialect)),
      size_(size),
      wait_timeout_(wait_timeout),
      observer_(observer) {}

ConnectionPool::~ConnectionPool() = default;

int ConnectionPool::waiting() const {
  absl::MutexLock lock(&mu_);
  return waiting_;
}

namespace {

absl::Status Cancelled() {
  return WithReason(absl::UnavailableError("the server is shutting down"),
                    reason::kDatabaseUnavailable);
}

}  // namespace

void ConnectionPool::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;  // Wakes the waits in Acquire.
  for (Opening* opening : awaited_) {
    absl::MutexLock opening_lock(&opening->mu);
    opening->cancelled = true;
  }
}

absl::StatusOr<ConnectionPool::Lease> ConnectionPool::Acquire(
    bool write, absl::Time deadline) {
  const bool take_turn = write && dialect_->serialize_writes();
  std::unique_ptr<Connection> connection;
  {
    absl::MutexLock lock(&mu_);
    auto ready = [this, take_turn]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return cancelled_ || ((!idle_.empty() || open_ < size_) &&
                            !(take_turn && writer_busy_));
    };
    // The clock is read only when the call has to wait.
    absl::Duration waited;
    if (!ready()) {
      const absl::Time started = absl::Now();
      const absl::Time give_up = started + wait_timeout_;
      ++waiting_;
      const bool got = mu_.AwaitWithDeadline(absl::Condition(&ready),
                                             std::min(give_up, deadline));
      --waiting_;
      waited = absl::Now() - started;
      if (!got) {
        if (observer_ != nullptr) observer_->OnPoolWait(waited);
        return WaitFailed(deadline, give_up);
      }
    }
    if (observer_ != nullptr) observer_->OnPoolWait(waited);
    if (cancelled_) return Cancelled();
    if (take_turn) writer_busy_ = true;
    ++leased_;
    if (!idle_.empty()) {
      connection = std::move(idle_.back());
      idle_.pop_back();
      ReportChange();
      return Lease(this, std::move(connection), take_turn);
    }
    ++open_;
    ReportChange();
  }
  // Connecting takes a while: not under the lock.
  absl::StatusOr<std::unique_ptr<Connection>> opened = Open(deadline);
  if (!opened.ok()) {
    absl::MutexLock lock(&mu_);
    --open_;
    --leased_;
    ReportChange();
    if (take_turn) writer_busy_ = false;
    return opened.status();
  }
  return Lease(this, *std::move(opened), take_turn);
}

absl::StatusOr<std::unique_ptr<Connection>> ConnectionPool::Open(
    absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) {
    try {
      return std::make_unique<Connection>(*dialect_);
    } catch (const std::exception& error) {
      return ConnectFailed(error);
    }
  }
  if (openers_->fetch_add(1) >= size_) {
    // Earlier connects still hang: the server does not answer them.
    openers_->fetch_sub(1);
    return WithReason(
        absl::UnavailableError(absl::StrCat("connections to ", dialect_->name(),
                                            " are not being answered")),
        reason::kDatabaseUnavailable);
  }
  auto opening = std::make_shared<Opening>();
  // Owns what it uses: it may outlive the pool.
  std::thread([opening, dialect = dialect_, openers = openers_, deadline] {
    ScopedCallDeadline call_deadline(deadline);  // bounds the connect
    std::unique_ptr<Connection> connection;
    std::exception_ptr error;
    try {
      connection = std::make_unique<Connection>(*dialect);
    } catch (...) {
      error = std::current_exception();
    }
    {
      absl::MutexLock lock(&opening->mu);
      opening->done = true;
      if (!opening->abandoned) {
        opening->connection = std::move(connection);
        opening->error = error;
      }
    }
    connection.reset();  // abandoned: closed here, outside the lock
    openers->fetch_sub(1);
  }).detach();

  {
    absl::MutexLock lock(&mu_);
    if (cancelled_) {
      absl::MutexLock opening_lock(&opening->mu);
      opening->cancelled = true;
    } else {
      awaited_.insert(opening.get());
    }
  }
  {
    Opening* waited = opening.get();
    absl::MutexLock lock(&waited->mu);
    auto answered = [waited]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(waited->mu) {
      return waited->done || waited->cancelled;
    };
    waited->mu.AwaitWithDeadline(absl::Condition(&answered), deadline);
  }
  {  // The pool's lock is taken before an opening's, as in Cancel().
    absl::MutexLock lock(&mu_);
    awaited_.erase(opening.get());
  }
  absl::MutexLock lock(&opening->mu);
  if (!opening->done) {
    opening->abandoned = true;
    if (opening->cancelled) return Cancelled();
    return CallDeadlineExceeded(
        absl::StrCat("while connecting to ", dialect_->name()));
  }
  if (opening->error == nullptr) return std::move(opening->connection);
  try {
    std::rethrow_exception(opening->error);
  } catch (const std::exception& error) {
    return ConnectFailed(error);
  } catch (...) {
    return ConnectFailed(std::runtime_error("unknown exception"));
  }
}

absl::Status ConnectionPool::ConnectFailed(const std::exception& error) const {
  DbError db_error = dialect_->ClassifyError(error, nullptr);
  if (db_error.kind == DbErrorKind::kOther) {
    db_error.kind = DbErrorKind::kUnavailable;
  }
  // The database's text names hosts, socket paths and users: for operators.
  const std::string detail = std::move(db_error.message);
  db_error.message = absl::StrCat("cannot connect to ", dialect_->name());
  return WithOperatorDetail(DbErrorToStatus(db_error, ErrorContext()), detail);
}

void ConnectionPool::ReportChange() {
  if (observer_ != nullptr) observer_->OnPoolChanged(size_, open_, leased_);
}

absl::Status ConnectionPool::WaitFailed(absl::Time deadline,
                                        absl::Time give_up) const {
  if (deadline <= give_up) {
    return CallDeadlineExceeded("waiting for a database connection");
  }
  return WithReason(absl::UnavailableError(absl::StrCat(
                        "no ", dialect_->name(), " connection free within ",
                        absl::FormatDuration(wait_timeout_))),
                    reason::kDatabaseUnavailable);
}

void ConnectionPool::Release(std::unique_ptr<Connection> connection,
                             bool write) {
  if (connection->broken()) connection.reset();  // closes outside the lock
  absl::MutexLock lock(&mu_);
  if (write) writer_busy_ = false;
  --leased_;
  if (connection != nullptr) {
    idle_.push_back(std::move(connection));
  } else {
    --open_;
  }
  ReportChange();
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
