#ifndef TASKS_STORAGE_ENGINE_DIALECT_H_
#define TASKS_STORAGE_ENGINE_DIALECT_H_

#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "storage/engine/async_statements.h"
#include "storage/engine/change_signal.h"
#include "storage/engine/db_error.h"
#include "storage/filter/sql_dialect.h"
#include "storage/schema/migration_scripts.h"
#include "storage/store_observer.h"

namespace soci {
class session;
class statement;
}  // namespace soci

namespace tasks::storage {

// Dialect
//
// Everything that differs between SQLite and PostgreSQL: how to connect and
// configure a session, the schema migrations, the SQL fragments that are not
// portable, and the mapping of the backend's error codes. Methods taking a
// session may throw soci::soci_error (callers catch it); the rest do not.
// Thread-safe: a dialect is immutable after construction.
class Dialect {
 public:
  virtual ~Dialect() = default;

  // "sqlite" or "postgresql", for messages.
  virtual absl::string_view name() const = 0;

  // Pooled connections when the options leave it to the backend.
  virtual int default_pool_size() const = 0;

  // Largest pool the backend allows (1 for SQLite :memory:).
  virtual int max_pool_size() const = 0;

  // True when writers must take turns inside the process (SQLite has one
  // writer per database; taking turns here avoids its busy-wait sleeps).
  virtual bool serialize_writes() const = 0;

  // True when statements can be sent before earlier results are read
  // (PostgreSQL's pipeline mode): BatchCreateTasks then sends its inserts
  // together instead of one round trip each.
  virtual bool has_pipeline() const = 0;

  // True when the change log's triggers number each change as it is
  // written, because writers commit one at a time (SQLite). False when
  // commits overlap (PostgreSQL): changes are numbered afterwards, by
  // SequenceChanges under an advisory lock (see storage/task_changes.h).
  virtual bool numbers_changes_on_write() const = 0;

  // True when a statement may be prepared once per session and kept for its
  // next executions (on PostgreSQL a named server-side statement). False
  // behind a transaction pooler (PostgreSQL's prepared_statements=off, see
  // postgres_connection.h), where the next transaction may run on another
  // server connection: each execution then sends the statement's text.
  virtual bool keeps_prepared_statements() const = 0;

  // True when the client library receives a statement's whole result before
  // the first row is read (libpq), rather than row by row as they are read
  // (SQLite): list queries then cut their rows to the page budget in SQL.
  virtual bool buffers_results() const = 0;

  // Opens a new configured session. Throws soci::soci_error. Bounded by the
  // call's deadline (CurrentCallDeadline) where the backend allows
  // (PostgreSQL's connect_timeout counts whole seconds, at least 2).
  virtual std::unique_ptr<soci::session> Connect() const = 0;

  // The schema steps, in version order (storage/schema/<backend>/*.sql).
  virtual absl::Span<const MigrationScript> migration_scripts() const = 0;

  // Runs `script`, one or more statements with no parameters, as the
  // backend's own shell would (a migration script). Throws soci::soci_error,
  // for ClassifyError, at the first statement that fails.
  virtual void ExecuteScript(soci::session& session,
                             absl::string_view script) const = 0;

  // Starts a transaction that will write ("BEGIN IMMEDIATE" on SQLite, so
  // the write lock is taken up front and the busy timeout applies).
  virtual const char* begin_sql() const = 0;

  // Run first inside the migration transaction so that two processes opening
  // the same database migrate one after the other; "" when begin_sql
  // already serializes them.
  virtual const char* migration_lock_sql() const = 0;

  // Appended to a SELECT inside a transaction to lock the rows it reads
  // (" FOR UPDATE"); "" where the transaction already excludes writers.
  virtual const char* lock_rows_sql() const = 0;

  // A condition true when `column` holds one of the ids bound to
  // :allowed_ids (see AllowedIdsParameter).
  virtual std::string AllowedIdsCondition(absl::string_view column) const = 0;

  // The value to bind to :allowed_ids for `ids`.
  virtual std::string AllowedIdsParameter(
      const std::vector<int64_t>& ids) const = 0;

  // A condition true when the task's metadata has the top-level key bound to
  // :meta_key with a JSON value equal to the JSON text bound to :meta_value.
  virtual const char* metadata_filter_sql() const = 0;

  // The SQL a ListTasks filter is written in (filter::ToSql).
  virtual filter::SqlDialect filter_dialect() const = 0;

  // Classifies an exception thrown while `session` (null when connecting)
  // ran a statement. Call it before anything else runs on the session.
  virtual DbError ClassifyError(const std::exception& error,
                                soci::session* session) const = 0;

  // Completes an executed statement whose rows have been read: runs a write
  // to its end (SQLite commits an autocommit write only then) and releases
  // the statement's locks. Throws soci::soci_error.
  virtual void FinishStatement(soci::statement& statement) const = 0;

  // Makes statements on `session` stop at `deadline` where the backend needs
  // help for that (PostgreSQL: a cancel request, then the socket shut down;
  // see CancelWatchdog); returns an id for DisarmDeadline, 0 when nothing
  // was armed. The SQLite session checks the call's deadline itself (see
  // CurrentCallDeadline).
  virtual uint64_t ArmDeadline(soci::session& session,
                               absl::Time deadline) const = 0;
  // True when the session must be dropped: stopping it broke it, or a late
  // cancel request could still reach its next statement.
  [[nodiscard]] virtual bool DisarmDeadline(uint64_t id) const = 0;
  // Makes the deadline armed as `id` pass now, when the call's client
  // cancelled the call; a disarmed id is ignored. (SQLite arms nothing: its
  // progress handler checks CallCutShort instead.)
  virtual void ExpireDeadline(uint64_t id) const = 0;

  // Makes every statement running on any session stop now, and those started
  // later at once (SQLite: SQLITE_INTERRUPT; PostgreSQL: as at a deadline).
  // For shutdown: there is no undoing it.
  virtual void CancelStatements() const = 0;

  // True while `session` has an open transaction.
  virtual bool InTransaction(soci::session& session) const = 0;

  // After a failure: releases statements a failure left unfinished, so that
  // the transaction (or a savepoint) can be rolled back. Never throws.
  virtual void ResetStatements(soci::session& session) const = 0;

  // After a failure: ResetStatements and rolls back an open transaction.
  // False when the session is unusable. Never throws.
  virtual bool Recover(soci::session& session) const = 0;

  // OK while the database the store opened is the one its name still
  // reaches; FAILED_PRECONDITION once it was removed or replaced (a SQLite
  // file deleted or recreated under the server: open connections would go
  // on writing to the unlinked file, lost at the next start). Cheap (a
  // stat): checked before every write. Never throws.
  virtual absl::Status CheckStillAttached() const { return absl::OkStatus(); }

  // A signal of changes committed on other connections, for
  // TaskStore::WaitForChanges; nullptr where the backend has none (SQLite,
  // a transaction pooler).
  // `own_sender` names this server's SequenceChanges runs: their signals
  // are not passed on (the server reads right after its own runs).
  virtual std::unique_ptr<ChangeSignal> NewChangeSignal(
      absl::string_view own_sender) const {
    return nullptr;
  }

  // Single-row statements without a thread waiting on each (see
  // AsyncStatements), on connections of their own outside the pool; nullptr
  // where the backend has none (SQLite, whose calls do not wait on a
  // server). `observer`, when not null, sees their commits and must outlive
  // them.
  virtual std::unique_ptr<AsyncStatements> NewAsyncStatements(
      StoreObserver* observer) const {
    return nullptr;
  }
};

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_ENGINE_DIALECT_H_
