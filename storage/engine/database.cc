#include "storage/engine/database.h"

#include "absl/strings/str_cat.h"
#include "common/error_reason.h"

namespace tasks::storage {
namespace {

// Most writes one grouped transaction takes (see GroupCommitter).
constexpr int kMaxGroupedWrites = 128;

}  // namespace

Database::Database(std::unique_ptr<Dialect> dialect, int pool_size,
                   absl::Duration wait_timeout, StoreObserver* observer)
    : dialect_(std::move(dialect)),
      pool_(dialect_, pool_size, wait_timeout, observer) {
  if (dialect_->serialize_writes()) {
    committer_ = std::make_unique<GroupCommitter>(pool_, *dialect_,
                                                  kMaxGroupedWrites, observer);
  }
}

void Database::CancelCalls() {
  cancelled_.store(true, std::memory_order_relaxed);
  pool_.Cancel();
  dialect_->CancelStatements();
}

absl::Status Database::CheckNotCancelled() const {
  if (!cancelled_.load(std::memory_order_relaxed)) return absl::OkStatus();
  return WithReason(absl::UnavailableError("the server is shutting down"),
                    reason::kDatabaseUnavailable);
}

absl::Status Database::Failed(Connection& connection,
                              const std::exception* error,
                              const ErrorContext& context, bool& lost) {
  DbError db_error;
  if (error != nullptr) {
    // Before anything else runs on the session and resets its error.
    db_error = dialect_->ClassifyError(*error, &connection.session());
  } else {
    db_error.message = "unknown exception";
  }
  if (connection.grouped()) {
    dialect_->ResetStatements(connection.session());
  } else {
    connection.Recover();
  }
  if (db_error.connection_lost) {
    connection.MarkBroken();
    lost = true;
  }
  // A busy wait, a cancelled or interrupted statement: the deadline's doing,
  // or the client's, which cancelled the call.
  if (db_error.kind == DbErrorKind::kUnavailable && CallCutShort()) {
    return CallCutShortStatus(
        absl::StrCat("while the database worked: ", db_error.message));
  }
  return DbErrorToStatus(db_error, context);
}

}  // namespace tasks::storage
