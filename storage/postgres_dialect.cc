// PostgreSQL: schema, connection settings and SQLSTATE mapping.

#include <libpq-fe.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "soci/postgresql/soci-postgresql.h"
#include "soci/soci.h"
#include "storage/cancel_watchdog.h"
#include "storage/dialect.h"
#include "storage/task_indexes.h"

namespace tasks::storage {
namespace {

// Version 1: projects, tasks and the settings table (page token secret).
// Times are epoch microseconds (UTC), as on SQLite; the defaults serve other
// writers, the store sets them itself. Titles compare bytewise (COLLATE "C")
// so that title order agrees with SQLite's.
constexpr char kCreateSettings[] = R"sql(
CREATE TABLE settings (
  name text PRIMARY KEY,
  value text NOT NULL
))sql";

constexpr char kCreateProjects[] = R"sql(
CREATE TABLE projects (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  create_time bigint NOT NULL
    DEFAULT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint,
  update_time bigint NOT NULL
    DEFAULT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
))sql";

// Constraint names match db_error.h.
constexpr char kCreateTasks[] = R"sql(
CREATE TABLE tasks (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  project_id bigint NULL
    CONSTRAINT tasks_project_fk REFERENCES projects (id) ON DELETE CASCADE,
  title text COLLATE "C" NOT NULL,
  description text NOT NULL DEFAULT '',
  status integer NOT NULL DEFAULT 1
    CONSTRAINT tasks_status_valid CHECK (status IN (1, 2, 3)),
  priority integer NOT NULL DEFAULT 2
    CONSTRAINT tasks_priority_valid CHECK (priority IN (1, 2, 3)),
  metadata jsonb NOT NULL DEFAULT '{}'
    CONSTRAINT tasks_metadata_object CHECK (jsonb_typeof(metadata) = 'object'),
  create_time bigint NOT NULL
    DEFAULT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint,
  update_time bigint NOT NULL
    DEFAULT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint,
  revision bigint NOT NULL DEFAULT 1,
  request_id text NULL CONSTRAINT tasks_request_id_key UNIQUE,
  CONSTRAINT tasks_project_title_key UNIQUE (project_id, title)
))sql";

// Version 2: no empty titles or project names.
constexpr char kTaskTitleNotEmpty[] =
    "ALTER TABLE tasks ADD CONSTRAINT tasks_title_not_empty "
    "CHECK (length(title) > 0)";
constexpr char kProjectNameNotEmpty[] =
    "ALTER TABLE projects ADD CONSTRAINT projects_name_not_empty "
    "CHECK (length(name) > 0)";

const std::vector<Migration>& PostgresMigrations() {
  static const auto* const kMigrations = new std::vector<Migration>{
      {1,
       "projects and tasks",
       {kCreateSettings, kCreateProjects, kCreateTasks, kIndexTasksProject,
        kIndexTasksCreateTime, kIndexTasksPriority, kIndexTasksTitle}},
      {2,
       "no empty titles or project names",
       {kTaskTitleNotEmpty, kProjectNameNotEmpty}},
  };
  return *kMigrations;
}

PGconn* Handle(soci::session& session) {
  return static_cast<soci::postgresql_session_backend*>(session.get_backend())
      ->conn_;
}

// The quoted name after `marker`: `violates unique constraint "x"` -> x.
std::string QuotedAfter(absl::string_view message, absl::string_view marker) {
  size_t at = message.find(marker);
  if (at == absl::string_view::npos) return "";
  absl::string_view rest = message.substr(at + marker.size());
  size_t end = rest.find('"');
  if (end == absl::string_view::npos) return "";
  return std::string(rest.substr(0, end));
}

bool IsUrl(absl::string_view connection) {
  return absl::StartsWith(connection, "postgresql://") ||
         absl::StartsWith(connection, "postgres://");
}

class PostgresDialect final : public Dialect {
 public:
  explicit PostgresDialect(std::string connection)
      : connection_(std::move(connection)) {}

  absl::string_view name() const override { return "postgresql"; }
  int default_pool_size() const override { return 8; }
  int max_pool_size() const override { return 1000; }
  bool serialize_writes() const override { return false; }
  bool has_pipeline() const override { return true; }
  bool buffers_results() const override { return true; }

  std::unique_ptr<soci::session> Connect() const override {
    auto session =
        std::make_unique<soci::session>(soci::postgresql, connection_);
    // libpq prints NOTICEs ("relation ... already exists, skipping") to
    // stderr by default.
    PQsetNoticeProcessor(
        Handle(*session), [](void*, const char*) {}, nullptr);
    return session;
  }

  const std::vector<Migration>& migrations() const override {
    return PostgresMigrations();
  }

  const char* begin_sql() const override { return "BEGIN"; }

  // Any constant key works as long as every process uses the same one.
  const char* migration_lock_sql() const override {
    return "SELECT pg_advisory_xact_lock(7283510942)";
  }

  const char* lock_rows_sql() const override { return " FOR UPDATE"; }

  const char* metadata_filter_sql() const override {
    return "(metadata -> :meta_key) = CAST(:meta_value AS jsonb)";
  }

  // An array literal: one prepared statement serves any number of ids.
  std::string AllowedIdsCondition(absl::string_view column) const override {
    return absl::StrCat(column, " = ANY (CAST(:allowed_ids AS bigint[]))");
  }

  std::string AllowedIdsParameter(
      const std::vector<int64_t>& ids) const override {
    return absl::StrCat("{", absl::StrJoin(ids, ","), "}");
  }

  DbError ClassifyError(const std::exception& error,
                        soci::session* session) const override {
    DbError result;
    result.message = error.what();
    if (dynamic_cast<const soci::soci_error*>(&error) == nullptr) {
      return result;  // not from the database: kOther
    }
    if (session == nullptr) {  // connecting failed
      result.kind = DbErrorKind::kUnavailable;
      return result;
    }
    PGconn* conn = Handle(*session);
    if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
      result.kind = DbErrorKind::kUnavailable;
      result.connection_lost = true;
      return result;
    }
    std::string state;
    if (auto* pg_error =
            dynamic_cast<const soci::postgresql_soci_error*>(&error)) {
      state = pg_error->sqlstate();
    }
    absl::string_view code(state);
    if (code == "23505") {
      result.kind = DbErrorKind::kUniqueViolation;
      result.constraint = QuotedAfter(result.message, "constraint \"");
    } else if (code == "23503") {
      result.kind = DbErrorKind::kForeignKeyViolation;
      result.constraint = QuotedAfter(result.message, "constraint \"");
    } else if (code == "23502") {
      result.kind = DbErrorKind::kNotNullViolation;
      result.constraint = QuotedAfter(result.message, "column \"");
    } else if (code == "23514") {
      result.kind = DbErrorKind::kCheckViolation;
      result.constraint = QuotedAfter(result.message, "constraint \"");
    } else if (absl::StartsWith(code, "22") || code == "54000") {
      // Data exceptions (bad encoding, bad JSON) and values too large.
      result.kind = DbErrorKind::kInvalidValue;
    } else if (absl::StartsWith(code, "08") || code == "57P01" ||
               code == "57P02" || code == "57P03") {
      // Connection failures and server shutdown: the session is gone.
      result.kind = DbErrorKind::kUnavailable;
      result.connection_lost = true;
    } else if (code == "53100") {  // disk_full
      result.kind = DbErrorKind::kStorageFull;
    } else if (absl::StartsWith(code, "53") || code == "40001" ||
               code == "40P01" || code == "57014") {
      // Out of resources, serialization failure, deadlock, cancelled (the
      // call's deadline, see ArmDeadline): safe to retry.
      result.kind = DbErrorKind::kUnavailable;
    }
    return result;
  }

  // libpq has read every row already; nothing is left open.
  void FinishStatement(soci::statement&) const override {}

  uint64_t ArmDeadline(soci::session& session,
                       absl::Time deadline) const override {
    if (deadline == absl::InfiniteFuture()) return 0;
    PGconn* conn = Handle(session);
    return conn == nullptr ? 0 : watchdog_.Arm(conn, deadline);
  }

  void DisarmDeadline(uint64_t id) const override { watchdog_.Disarm(id); }

  bool InTransaction(soci::session& session) const override {
    PGconn* conn = Handle(session);
    if (conn == nullptr) return false;
    PGTransactionStatusType status = PQtransactionStatus(conn);
    return status == PQTRANS_INTRANS || status == PQTRANS_INERROR ||
           status == PQTRANS_ACTIVE;
  }

  // libpq leaves nothing unfinished between calls.
  void ResetStatements(soci::session&) const override {}

  bool Recover(soci::session& session) const override {
    PGconn* conn = Handle(session);
    if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) return false;
    switch (PQtransactionStatus(conn)) {
      case PQTRANS_IDLE:
        return true;
      case PQTRANS_INTRANS:
      case PQTRANS_INERROR: {
        PGresult* result = PQexec(conn, "ROLLBACK");
        bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
        PQclear(result);
        return ok && PQstatus(conn) == CONNECTION_OK;
      }
      default:
        return false;
    }
  }

 private:
  const std::string connection_;
  mutable CancelWatchdog watchdog_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Dialect>> MakePostgresDialect(
    absl::string_view connection, absl::Duration connect_timeout) {
  std::string conninfo(connection);
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    std::string message = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot parse the PostgreSQL connection string: ", message));
  }
  bool has_timeout = false;
  for (PQconninfoOption* option = options; option->keyword != nullptr;
       ++option) {
    if (absl::string_view(option->keyword) == "connect_timeout" &&
        option->val != nullptr) {
      has_timeout = true;
    }
  }
  PQconninfoFree(options);
  if (!has_timeout) {
    // libpq would otherwise wait for the OS to give up on a silent host.
    int64_t seconds = std::max<int64_t>(
        2, static_cast<int64_t>(
               std::ceil(absl::ToDoubleSeconds(connect_timeout))));
    if (IsUrl(conninfo)) {
      absl::StrAppend(&conninfo, absl::StrContains(conninfo, '?') ? "&" : "?",
                      "connect_timeout=", seconds);
    } else {
      absl::StrAppend(&conninfo, " connect_timeout=", seconds);
    }
  }
  return std::unique_ptr<Dialect>(
      std::make_unique<PostgresDialect>(std::move(conninfo)));
}

}  // namespace tasks::storage
