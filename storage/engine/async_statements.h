#ifndef TASKS_STORAGE_ENGINE_ASYNC_STATEMENTS_H_
#define TASKS_STORAGE_ENGINE_ASYNC_STATEMENTS_H_

#include <optional>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/engine/db_error.h"
#include "storage/schema/column.h"
#include "storage/sql/statement_params.h"

namespace tasks::storage {

// One statement for AsyncStatements: it returns at most one row.
struct AsyncStatement {
  // SQL with named parameters (see StatementParams); must outlive the
  // AsyncStatements, which prepares each text once per connection.
  const std::string* sql = nullptr;
  StatementParams params;
  // The columns of its row, in order; null when only whether there is a
  // row matters (the row is then left empty).
  const schema::Table* table = nullptr;
  // A write is answered once it is committed, and never sent twice: a
  // connection lost before its commit was confirmed answers UNAVAILABLE.
  // A read may be sent once more on a new connection.
  bool writes = false;
  // When the caller stops waiting: `done` then gets DEADLINE_EXCEEDED (a
  // write may still commit). A statement given up without effect gets
  // RunBlockingInstead (storage/run_blocking.h): a write that would wait
  // long for a lock, or undone with a failed batch; any statement left
  // waiting while no connection is up.
  absl::Time deadline = absl::InfiniteFuture();
  // Names the request's fields in a database error (DbErrorToStatus).
  ErrorContext context;
  // Gets the row (nullopt when there is none) or the error, exactly once,
  // on the AsyncStatements' thread.
  absl::AnyInvocable<void(absl::StatusOr<std::optional<schema::Row>>) &&> done;
};

// AsyncStatements
//
// Single-row statements answered by callback, so that no thread waits out
// each one's round trip to the database, and concurrent ones share round
// trips and commits (PostgreSQL: connections in pipeline mode driven by one
// thread, see Dialect::NewAsyncStatements). Each runs in its own implicit
// transaction as far as the caller can tell: one that fails undoes only
// itself. Thread-safe.
class AsyncStatements {
 public:
  virtual ~AsyncStatements() = default;

  // Takes `statement`, whose `done` will be called. False, dropping it
  // without calling `done`, when it cannot now: no connection is ready
  // (still connecting, or the database is down), too many wait, or Cancel()
  // was called. The caller then runs it the blocking way.
  virtual bool TrySend(AsyncStatement statement) = 0;

  // Answers every statement taken and not yet answered with UNAVAILABLE,
  // and refuses later ones. For shutdown: there is no undoing it.
  virtual void Cancel() = 0;
};

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_ENGINE_ASYNC_STATEMENTS_H_
