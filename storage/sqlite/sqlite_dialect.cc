// SQLite: connection settings, migrations and error codes.

#include "storage/sqlite/sqlite_dialect.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/call_cancellation.h"
#include "common/call_deadline.h"
#include "common/error_reason.h"
#include "soci/soci.h"
// Declares the SQLite C API inside namespace sqlite_api: include it instead
// of <sqlite3.h>, which would then be skipped.
#include "soci/sqlite3/soci-sqlite3.h"
#include "storage/engine/dialect.h"
#include "storage/schema/migration_scripts.h"

namespace tasks::storage {
namespace {

using sqlite_api::sqlite3;
using sqlite_api::sqlite3_stmt;
using namespace sqlite_api;  // NOLINT: the C API's functions

sqlite3* Handle(soci::session& session) {
  return static_cast<soci::sqlite3_session_backend*>(session.get_backend())
      ->conn_;
}

// Turns off SQLite's lock around every call on a connection (its default,
// "serialized" mode), which this store never needs: the pool lends a
// connection to one thread at a time, and deadlines and cancels reach it
// through its own handlers. The lock and unlock around each column read cost
// ~6% of a ListTasks page. Called when the first dialect is made, before
// its first connection: SQLite takes the setting only before its first use
// in the process, and keeps its (safe) default when something else used it
// first.
void UseMultiThreadMode() {
  static const bool kSet =
      sqlite3_config(SQLITE_CONFIG_MULTITHREAD) == SQLITE_OK;
  (void)kSet;
}

// Runs `sql`, one or more statements; an error's message starts with
// `shown`, or with `sql` itself when that is null.
void Exec(sqlite3* db, const char* sql, const char* shown = nullptr) {
  char* message = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string text = absl::StrCat(shown != nullptr ? shown : sql, ": ",
                                    message ? message : "");
    sqlite3_free(message);
    throw soci::sqlite3_soci_error(text, rc);
  }
}

// The single-value result of a PRAGMA.
std::string PragmaValue(sqlite3* db, const char* sql, int* result_code) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
  std::string value;
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      if (text != nullptr) value = reinterpret_cast<const char*>(text);
      rc = SQLITE_OK;
    }
  }
  sqlite3_finalize(stmt);
  *result_code = rc == SQLITE_DONE ? SQLITE_OK : rc;
  return value;
}

// Switches the database to WAL (a no-op once it is). The switch needs an
// exclusive lock and SQLite may refuse it at once, without its busy handler,
// while other connections open the same new file: retry until `timeout`.
void UseWal(sqlite3* db, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int rc = SQLITE_OK;
    std::string mode = PragmaValue(db, "PRAGMA journal_mode", &rc);
    if (rc == SQLITE_OK && mode != "wal") {
      mode = PragmaValue(db, "PRAGMA journal_mode = WAL", &rc);
    }
    if (rc == SQLITE_OK) {
      if (mode == "wal") return;
      throw soci::sqlite3_soci_error(
          absl::StrCat("cannot use WAL journal mode (got \"", mode, "\")"),
          SQLITE_CANTOPEN);
    }
    const int primary = rc & 0xff;
    if ((primary != SQLITE_BUSY && primary != SQLITE_LOCKED) ||
        absl::Now() >= deadline) {
      throw soci::sqlite3_soci_error(
          absl::StrCat("PRAGMA journal_mode = WAL: ", sqlite3_errmsg(db)), rc);
    }
    absl::SleepFor(absl::Milliseconds(2));
  }
}

// "UNIQUE constraint failed: tasks.project_id, tasks.title" names columns,
// not the constraint: map the column lists of the schema's unique keys.
std::string UniqueConstraintName(absl::string_view message) {
  if (absl::StrContains(message, "tasks.project_id, tasks.title")) {
    return constraint::kTaskTitleUnique;
  }
  if (absl::StrContains(message, "tasks.idempotency_scope, tasks.request_id")) {
    return constraint::kTaskRequestIdUnique;
  }
  return "";
}

// The text after `marker` up to the end of its line: the constraint name of
// "CHECK constraint failed: tasks_status_valid", the column of "NOT NULL
// constraint failed: tasks.title" (table prefix dropped).
std::string TextAfter(absl::string_view message, absl::string_view marker,
                      bool drop_table) {
  size_t at = message.find(marker);
  if (at == absl::string_view::npos) return "";
  absl::string_view rest = message.substr(at + marker.size());
  rest = rest.substr(0, rest.find_first_of("\n\r "));
  if (drop_table) {
    size_t dot = rest.find('.');
    if (dot != absl::string_view::npos) rest = rest.substr(dot + 1);
  }
  return std::string(rest);
}

class SqliteDialect final : public Dialect {
 public:
  SqliteDialect(std::string path, absl::Duration busy_timeout)
      : path_(std::move(path)),
        in_memory_(path_ == ":memory:"),
        busy_timeout_(busy_timeout) {}

  absl::string_view name() const override { return "sqlite"; }
  int default_pool_size() const override { return in_memory_ ? 1 : 4; }
  // Every connection to :memory: is a database of its own.
  int max_pool_size() const override { return in_memory_ ? 1 : 64; }
  bool serialize_writes() const override { return true; }
  bool has_pipeline() const override { return false; }
  bool numbers_changes_on_write() const override { return true; }
  bool keeps_prepared_statements() const override { return true; }
  bool buffers_results() const override { return false; }

  std::unique_ptr<soci::session> Connect() const override {
    auto session = std::make_unique<soci::session>(
        soci::sqlite3, absl::StrCat("db=\"", path_, "\""));
    sqlite3* db = Handle(*session);
    int rc = sqlite3_busy_handler(db, &SqliteDialect::WaitWhileBusy,
                                  const_cast<SqliteDialect*>(this));
    if (rc != SQLITE_OK) {
      throw soci::sqlite3_soci_error("cannot set the busy handler", rc);
    }
    sqlite3_progress_handler(db, kProgressSteps,
                             &SqliteDialect::InterruptWhenCutShort,
                             const_cast<SqliteDialect*>(this));
    // Off on every new connection, and a no-op inside a transaction.
    Exec(db, "PRAGMA foreign_keys = ON");
    if (!in_memory_) {
      UseWal(db, busy_timeout_);
      // With WAL, FULL syncs on every commit: a reply means durable.
      Exec(db, "PRAGMA synchronous = FULL");
      RememberFile();
    }
    return session;
  }

  absl::Status CheckStillAttached() const override {
    std::optional<FileId> opened;
    {
      absl::MutexLock lock(&file_mu_);
      opened = opened_file_;
    }
    if (!opened.has_value()) return absl::OkStatus();
    struct stat now;
    if (stat(path_.c_str(), &now) != 0) {
      return Detached("was removed or renamed");
    }
    if (now.st_dev != opened->device || now.st_ino != opened->inode) {
      return Detached("was replaced by another file");
    }
    return absl::OkStatus();
  }

  absl::Span<const MigrationScript> migration_scripts() const override {
    return SqliteMigrationScripts();
  }

  // sqlite3_exec runs every statement of the string; a prepared statement
  // is one statement.
  void ExecuteScript(soci::session& session,
                     absl::string_view script) const override {
    Exec(Handle(session), std::string(script).c_str(), "migration script");
  }

  const char* begin_sql() const override { return "BEGIN IMMEDIATE"; }
  const char* migration_lock_sql() const override { return ""; }
  // BEGIN IMMEDIATE holds the database's write lock.
  const char* lock_rows_sql() const override { return ""; }

  // json_each, not `->`: SQLite 3.40 matches a `->` path label against the
  // key's escaped JSON text, so keys with a tab or U+202E would never match.
  // json_each yields decoded keys and values; the type check keeps true
  // apart from 1 and a string apart from an object's text (objects compare
  // as text, which works because the store writes keys sorted).
  const char* metadata_filter_sql() const override {
    return "EXISTS (SELECT 1 FROM json_each(tasks.metadata) AS j "
           "WHERE j.key = :meta_key "
           "AND j.value IS json_extract(:meta_value, '$') "
           "AND (j.type = json_type(:meta_value) "
           "OR (j.type IN ('integer', 'real') "
           "AND json_type(:meta_value) IN ('integer', 'real'))))";
  }

  filter::SqlDialect filter_dialect() const override {
    return filter::SqlDialect::kSqlite;
  }

  // A JSON array, read through json_each (an IN list that one prepared
  // statement serves for any number of ids).
  std::string AllowedIdsCondition(absl::string_view column) const override {
    return absl::StrCat(column,
                        " IN (SELECT value FROM json_each(:allowed_ids))");
  }

  std::string AllowedIdsParameter(
      const std::vector<int64_t>& ids) const override {
    return absl::StrCat("[", absl::StrJoin(ids, ","), "]");
  }

  DbError ClassifyError(const std::exception& error,
                        soci::session* session) const override {
    DbError result;
    SetErrorText(error, result);
    int code = SQLITE_ERROR;
    if (session != nullptr) {
      code = sqlite3_extended_errcode(Handle(*session));
    } else if (auto* sqlite_error =
                   dynamic_cast<const soci::sqlite3_soci_error*>(&error)) {
      code = sqlite_error->result();
    }
    if (dynamic_cast<const soci::soci_error*>(&error) == nullptr) {
      return result;  // not from the database: kOther
    }
    switch (code) {
      case SQLITE_CONSTRAINT_UNIQUE:
      case SQLITE_CONSTRAINT_PRIMARYKEY:
        result.kind = DbErrorKind::kUniqueViolation;
        result.constraint = UniqueConstraintName(result.message);
        return result;
      case SQLITE_CONSTRAINT_FOREIGNKEY:
        result.kind = DbErrorKind::kForeignKeyViolation;
        result.constraint = constraint::kTaskProjectForeignKey;
        return result;
      case SQLITE_CONSTRAINT_NOTNULL:
        result.kind = DbErrorKind::kNotNullViolation;
        result.constraint = TextAfter(result.message, "constraint failed: ",
                                      /*drop_table=*/true);
        return result;
      case SQLITE_CONSTRAINT_CHECK:
      case SQLITE_CONSTRAINT_TRIGGER:  // migration 2's CHECK-like triggers
        result.kind = DbErrorKind::kCheckViolation;
        result.constraint = TextAfter(result.message, "constraint failed: ",
                                      /*drop_table=*/false);
        return result;
      case SQLITE_CONSTRAINT_DATATYPE:
      case SQLITE_TOOBIG:
      case SQLITE_MISMATCH:
        result.kind = DbErrorKind::kInvalidValue;
        return result;
      case SQLITE_FULL:
        // ENOSPC. (A file size limit's EFBIG comes as SQLITE_IOERR_WRITE,
        // its errno already lost: indistinguishable from a failing disk.)
        result.kind = DbErrorKind::kStorageFull;
        return result;
      default:
        break;
    }
    switch (code & 0xff) {
      case SQLITE_BUSY:
      case SQLITE_LOCKED:
      case SQLITE_CANTOPEN:
      case SQLITE_IOERR:
      case SQLITE_PROTOCOL:
      case SQLITE_INTERRUPT:  // the call was cut short
        result.kind = DbErrorKind::kUnavailable;
        break;
      default:
        break;
    }
    return result;
  }

  void FinishStatement(soci::statement& statement) const override {
    sqlite3_stmt* stmt =
        static_cast<soci::sqlite3_statement_backend*>(statement.get_backend())
            ->stmt_;
    if (stmt == nullptr) return;
    // SOCI stops after the rows it was asked for; an INSERT ... RETURNING
    // left there has not committed yet.
    if (sqlite3_stmt_busy(stmt) && !sqlite3_stmt_readonly(stmt)) {
      int rc;
      while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      }
      if (rc != SQLITE_DONE) {
        std::string message = sqlite3_errmsg(sqlite3_db_handle(stmt));
        sqlite3_reset(stmt);
        throw soci::sqlite3_soci_error(message, rc);
      }
    }
    sqlite3_reset(stmt);
  }

  // The busy and progress handlers read the call's deadline themselves.
  uint64_t ArmDeadline(soci::session&, absl::Time) const override { return 0; }
  bool DisarmDeadline(uint64_t) const override { return false; }
  void ExpireDeadline(uint64_t) const override {}

  void CancelStatements() const override {
    cancelled_.store(true, std::memory_order_relaxed);
  }

  bool InTransaction(soci::session& session) const override {
    return sqlite3_get_autocommit(Handle(session)) == 0;
  }

  void ResetStatements(soci::session& session) const override {
    sqlite3* db = Handle(session);
    for (sqlite3_stmt* stmt = sqlite3_next_stmt(db, nullptr); stmt != nullptr;
         stmt = sqlite3_next_stmt(db, stmt)) {
      if (sqlite3_stmt_busy(stmt)) sqlite3_reset(stmt);
    }
  }

  bool Recover(soci::session& session) const override {
    ResetStatements(session);
    sqlite3* db = Handle(session);
    if (sqlite3_get_autocommit(db) == 0) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    // A SQLite connection stays usable; for :memory: it is the database.
    return true;
  }

 private:
  struct FileId {
    dev_t device;
    ino_t inode;
  };

  // Notes the file the first connection opened: the database the store
  // migrated. A path stat cannot read (a URI) is not watched.
  void RememberFile() const {
    struct stat opened;
    if (stat(path_.c_str(), &opened) != 0) return;
    absl::MutexLock lock(&file_mu_);
    if (!opened_file_.has_value()) {
      opened_file_ = FileId{opened.st_dev, opened.st_ino};
    }
  }

  absl::Status Detached(absl::string_view what) const {
    return WithReason(
        absl::FailedPreconditionError(absl::StrCat(
            "the database file ", what,
            " under the running server; restart the server to open it")),
        reason::kInternal);
  }

  const std::string path_;
  const bool in_memory_;
  mutable absl::Mutex file_mu_;
  mutable std::optional<FileId> opened_file_ ABSL_GUARDED_BY(file_mu_);
  // SQLite's busy handler: waits for another connection's lock in short
  // naps until the busy timeout or the call's deadline, whichever is first.
  // (sqlite3_busy_timeout would sleep up to 100 ms at a time, past the
  // deadline.)
  static int WaitWhileBusy(void* self, int attempt) {
    if (static_cast<SqliteDialect*>(self)->cancelled() || CallCancelled()) {
      return 0;
    }
    // One busy wait at a time per thread: a statement waits on its thread.
    thread_local absl::Time started;
    const absl::Time now = absl::Now();
    if (attempt == 0) started = now;
    const absl::Time limit =
        std::min(started + static_cast<SqliteDialect*>(self)->busy_timeout_,
                 CurrentCallDeadline());
    if (now >= limit) return 0;  // SQLITE_BUSY
    absl::SleepFor(
        std::min(attempt < 10 ? absl::Milliseconds(1) : absl::Milliseconds(5),
                 limit - now));
    return 1;
  }

  // Ends a statement that runs past the call's deadline or after its client
  // cancelled it, or after CancelStatements (SQLITE_INTERRUPT).
  static int InterruptWhenCutShort(void* self) {
    return CallCutShort() || static_cast<SqliteDialect*>(self)->cancelled();
  }

  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

  // Virtual machine steps between deadline checks: tens of microseconds of
  // work, or ~10 ms of the costliest filter (a step of which is a substring
  // search through a 10,000-character description), against ~25 ns a check.
  static constexpr int kProgressSteps = 1000;

  const absl::Duration busy_timeout_;
  // Set by CancelStatements; read by the busy and progress handlers.
  mutable std::atomic<bool> cancelled_{false};
};

}  // namespace

std::unique_ptr<Dialect> MakeSqliteDialect(std::string path,
                                           absl::Duration busy_timeout) {
  UseMultiThreadMode();
  return std::make_unique<SqliteDialect>(std::move(path), busy_timeout);
}

}  // namespace tasks::storage
