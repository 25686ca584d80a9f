#include "storage/engine/group_committer.h"

#include <algorithm>
#include <exception>

#include "absl/strings/str_cat.h"
#include "common/call_deadline.h"
#include "common/error_reason.h"
#include "storage/engine/db_error.h"

namespace tasks::storage {

GroupCommitter::GroupCommitter(ConnectionPool& pool, const Dialect& dialect,
                               int max_group, StoreObserver* observer)
    : pool_(pool),
      dialect_(dialect),
      max_group_(std::max(1, max_group)),
      observer_(observer) {}

int GroupCommitter::waiting() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(queue_.size());
}

absl::Status GroupCommitter::Run(Write write, absl::Time deadline) {
  Pending pending(write, deadline);
  absl::MutexLock lock(&mu_);
  queue_.push_back(&pending);
  // Wait until a leader has run this write, or there is no leader.
  auto ready = [this, &pending]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return pending.done || !leading_;
  };
  if (!mu_.AwaitWithDeadline(absl::Condition(&ready), deadline)) {
    auto queued = std::find(queue_.begin(), queue_.end(), &pending);
    if (queued != queue_.end()) {
      queue_.erase(queued);
      return CallDeadlineExceeded("while waiting to write");
    }
    mu_.Await(absl::Condition(&ready));  // its group is running: wait for it
  }
  if (pending.done) return pending.committed;
  // Lead until this write is done, then let a waiting writer lead.
  leading_ = true;
  while (!pending.done) {
    const size_t count =
        std::min(queue_.size(), static_cast<size_t>(max_group_));
    std::vector<Pending*> group(queue_.begin(), queue_.begin() + count);
    queue_.erase(queue_.begin(), queue_.begin() + count);
    mu_.Unlock();
    if (observer_ != nullptr)
      observer_->OnGroupCommit(static_cast<int>(group.size()));
    RunGroup(group);
    mu_.Lock();
    for (Pending* done : group) done->done = true;
  }
  leading_ = false;
  return pending.committed;
}

void GroupCommitter::RunGroup(const std::vector<Pending*>& group) {
  // The group waits as long as its most patient write would.
  absl::Time deadline = absl::InfinitePast();
  for (const Pending* pending : group) {
    deadline = std::max(deadline, pending->deadline);
  }
  ScopedCallDeadline group_deadline(deadline);
  absl::StatusOr<ConnectionPool::Lease> lease =
      pool_.Acquire(/*write=*/true, deadline);
  if (!lease.ok()) {
    for (Pending* pending : group) pending->committed = lease.status();
    return;
  }
  Connection& connection = **lease;
  if (group.size() == 1) {
    group.front()->write(connection).IgnoreError();  // recorded by the write
    return;
  }
  absl::Status failure;
  connection.set_grouped(true);
  try {
    connection.BeginAlways();
    for (Pending* pending : group) {
      connection.Savepoint();
      absl::Status status = pending->write(connection);
      if (!status.ok()) {
        if (!dialect_.InTransaction(connection.session())) {
          // The database ended the whole transaction (I/O error, full disk).
          failure =
              WithReason(absl::UnavailableError(absl::StrCat(
                             "a grouped write failed and undid the others: ",
                             status.message())),
                         reason::kDatabaseUnavailable);
          break;
        }
        dialect_.ResetStatements(connection.session());
        connection.RollbackToSavepoint();
      }
      connection.ReleaseSavepoint();
    }
    if (failure.ok()) connection.CommitAlways();
  } catch (const std::exception& error) {
    ErrorContext context;
    context.message_prefix = "committing grouped writes: ";
    failure = DbErrorToStatus(
        dialect_.ClassifyError(error, &connection.session()), context);
  }
  connection.set_grouped(false);
  if (!failure.ok()) {
    connection.Recover();
    for (Pending* pending : group) pending->committed = failure;
  }
}

}  // namespace tasks::storage
