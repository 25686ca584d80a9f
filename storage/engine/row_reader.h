#ifndef TASKS_STORAGE_ENGINE_ROW_READER_H_
#define TASKS_STORAGE_ENGINE_ROW_READER_H_

#include <optional>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/schema/column.h"
#include "storage/sql/statement_params.h"

namespace tasks::storage {

// One read for a RowReader: a statement that returns at most one row.
struct RowRead {
  // SQL with named parameters (see StatementParams); must outlive the
  // reader, which prepares each text once per connection.
  const std::string* sql = nullptr;
  StatementParams params;
  // The columns of its row, in order.
  const schema::Table* table = nullptr;
  // When the caller stops waiting: `done` then gets DEADLINE_EXCEEDED.
  absl::Time deadline = absl::InfiniteFuture();
  // Gets the row (nullopt when there is none) or the error (statuses as
  // DbErrorToStatus gives them), exactly once, on the reader's thread.
  absl::AnyInvocable<void(absl::StatusOr<std::optional<schema::Row>>) &&>
      done;
};

// RowReader
//
// Single-row reads answered by callback, so that no thread waits out each
// one's round trip to the database (PostgreSQL: connections in pipeline
// mode driven by one thread, see Dialect::NewRowReader). Thread-safe.
class RowReader {
 public:
  virtual ~RowReader() = default;

  // Takes `read`, whose `done` will be called. False, dropping `read`
  // without calling `done`, when it cannot now: no connection is ready
  // (still connecting, or the database is down), too many reads wait, or
  // Cancel() was called. The caller then reads the blocking way.
  virtual bool TryRead(RowRead read) = 0;

  // Answers every read taken and not yet answered with UNAVAILABLE, and
  // refuses later ones. For shutdown: there is no undoing it.
  virtual void Cancel() = 0;
};

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_ENGINE_ROW_READER_H_
