#ifndef TASKS_STORAGE_ENGINE_CONNECTION_H_
#define TASKS_STORAGE_ENGINE_CONNECTION_H_

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "soci/soci.h"
#include "storage/engine/dialect.h"
#include "storage/sql/prepared_statement.h"

namespace tasks::storage {

// Connection
//
// One database session with the statements prepared on it, keyed by their
// SQL text, so that each statement is parsed once per session (once per
// server-side session on PostgreSQL). Used by one thread at a time, through
// a ConnectionPool lease. Methods throw soci::soci_error.
class Connection {
 public:
  // Opens a session through `dialect`. Throws soci::soci_error.
  explicit Connection(const Dialect& dialect);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const Dialect& dialect() const { return dialect_; }
  soci::session& session() { return *session_; }

  // The statement for `sql`, prepared on first use (and again after it
  // failed). A statement's rows are read into the buffers `kind` names; the
  // same SQL always has one kind.
  PreparedStatement& Statement(const std::string& sql, RowKind kind);

  // Transactions for writes (the dialect's begin_sql). While grouped, the
  // caller runs inside a transaction shared with other writes and these do
  // nothing.
  void Begin();
  void Commit();

  // Grouped mode (see GroupCommitter): set while several writes share one
  // transaction, each in a savepoint.
  bool grouped() const { return grouped_; }
  void set_grouped(bool grouped) { grouped_ = grouped; }

  // A write transaction begun or committed regardless of grouped mode.
  void BeginAlways();
  void CommitAlways();

  // Savepoint named "w" inside a transaction.
  void Savepoint();
  void RollbackToSavepoint();
  void ReleaseSavepoint();

  // After a failure: rolls back and releases statements. Marks the
  // connection broken when the session is unusable. Never throws.
  void Recover();

  // SQL texts prepared on the session through libpq directly (see
  // RunTaskPipeline), with their statement names.
  absl::flat_hash_map<std::string, std::string>& pipelined_statements() {
    return pipelined_statements_;
  }

  // True once the session is known to be unusable; the pool drops it.
  bool broken() const { return broken_; }
  void MarkBroken() { broken_ = true; }

 private:
  const Dialect& dialect_;
  const std::string begin_sql_;
  std::unique_ptr<soci::session> session_;
  // Declared after the session: statements are destroyed first.
  absl::flat_hash_map<std::string, std::unique_ptr<PreparedStatement>>
      statements_;
  absl::flat_hash_map<std::string, std::string> pipelined_statements_;
  bool broken_ = false;
  bool grouped_ = false;
};

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_ENGINE_CONNECTION_H_
