// PostgreSQL: connection settings, migrations and SQLSTATE mapping.

#include "storage/postgres/postgres_dialect.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "api/connection_string.h"
#include "common/call_deadline.h"
#include "soci/postgresql/soci-postgresql.h"
#include "soci/soci.h"
#include "storage/engine/dialect.h"
#include "storage/postgres/cancel_watchdog.h"
#include "storage/postgres/change_listener.h"
#include "storage/postgres/pipelined_statements.h"
#include "storage/postgres/postgres_connection.h"
#include "storage/postgres/session_connector.h"
#include "storage/postgres/sqlstate.h"
#include "storage/schema/migration_scripts.h"

namespace tasks::storage {
namespace {

PGconn* Handle(soci::session& session) {
  return static_cast<soci::postgresql_session_backend*>(session.get_backend())
      ->conn_;
}

// `conninfo` with `keyword=value` added, in its own syntax.
std::string WithOption(std::string conninfo, absl::string_view keyword,
                       absl::string_view value) {
  if (api::IsPostgresUrl(conninfo)) {
    absl::StrAppend(&conninfo, absl::StrContains(conninfo, '?') ? "&" : "?",
                    keyword, "=", value);
  } else {
    absl::StrAppend(&conninfo, " ", keyword, "=", value);
  }
  return conninfo;
}

// TCP settings for a server that vanishes (a host gone, a network cut),
// unless the connection string sets them: keepalive probes on an idle
// connection, and a limit on how long sent data may go unacknowledged.
// Neither fires for a server that is hung but alive, whose kernel still
// acknowledges: the cancel watchdog covers that.
constexpr std::pair<const char*, const char*> kTcpDefaults[] = {
    {"keepalives", "1"},           {"keepalives_idle", "30"},
    {"keepalives_interval", "10"}, {"keepalives_count", "3"},
    {"tcp_user_timeout", "30000"},  // milliseconds
};

// libpq counts connect_timeout in whole seconds and takes 1 for 2.
constexpr int64_t kMinConnectSeconds = 2;

class PostgresDialect final : public Dialect {
 public:
  // `connect_seconds`: the connect timeout added to `connection` (bounded
  // by the call's deadline); 0 when the string sets its own.
  PostgresDialect(std::string connection, int64_t connect_seconds,
                  bool named_statements)
      : connection_(std::move(connection)),
        connect_seconds_(connect_seconds),
        named_statements_(named_statements) {}

  absl::string_view name() const override { return "postgresql"; }
  int default_pool_size() const override { return 8; }
  int max_pool_size() const override { return 1000; }
  bool serialize_writes() const override { return false; }
  bool has_pipeline() const override { return true; }
  bool numbers_changes_on_write() const override { return false; }
  bool keeps_prepared_statements() const override { return named_statements_; }
  bool buffers_results() const override { return true; }

  std::unique_ptr<soci::session> Connect() const override {
    std::unique_ptr<soci::session> session =
        connector_.Connect(ConnectionForThisCall());
    // libpq prints NOTICEs ("relation ... already exists, skipping") to
    // stderr by default.
    PQsetNoticeProcessor(
        Handle(*session), [](void*, const char*) {}, nullptr);
    return session;
  }

  absl::Span<const MigrationScript> migration_scripts() const override {
    return PostgresMigrationScripts();
  }

  // PQexec runs every statement of the string (the simple query protocol);
  // a prepared or parameterized statement is one statement.
  void ExecuteScript(soci::session& session,
                     absl::string_view script) const override {
    PGconn* conn = Handle(session);
    PGresult* result = PQexec(conn, std::string(script).c_str());
    const ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      PQclear(result);
      return;
    }
    // No result at all: out of memory or the connection lost.
    const char* state = result != nullptr
                            ? PQresultErrorField(result, PG_DIAG_SQLSTATE)
                            : nullptr;
    std::string message = PQerrorMessage(conn);
    PQclear(result);
    throw soci::postgresql_soci_error(message,
                                      state != nullptr ? state : "08006");
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

  filter::SqlDialect filter_dialect() const override {
    return filter::SqlDialect::kPostgres;
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
    SetErrorText(error, result);
    if (dynamic_cast<const soci::soci_error*>(&error) == nullptr) {
      return result;  // not from the database: kOther
    }
    // Whatever the kind: a lost connection's message may carry them too.
    MoveStatementLines(result);
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
      // No SQLSTATE (SOCI writes five blanks): libpq's own error, such as
      // "server closed the connection unexpectedly" read before libpq marks
      // the connection bad (an immediate shutdown's lost backend).
      if (absl::StripAsciiWhitespace(state).empty()) {
        result.kind = DbErrorKind::kUnavailable;
        result.connection_lost = true;
        return result;
      }
    }
    DbError classified = ClassifySqlState(state, std::move(result.message));
    classified.context = std::move(result.context);
    return classified;
  }

  // libpq has read every row already; nothing is left open.
  void FinishStatement(soci::statement&) const override {}

  uint64_t ArmDeadline(soci::session& session,
                       absl::Time deadline) const override {
    if (deadline == absl::InfiniteFuture()) return 0;
    PGconn* conn = Handle(session);
    return conn == nullptr ? 0 : watchdog_.Arm(conn, deadline);
  }

  bool DisarmDeadline(uint64_t id) const override {
    return watchdog_.Disarm(id);
  }

  void ExpireDeadline(uint64_t id) const override { watchdog_.Expire(id); }

  void CancelStatements() const override { watchdog_.CancelAll(); }

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

  // LISTEN needs a session of its own: none behind a transaction pooler,
  // which is what prepared_statements=off is for.
  std::unique_ptr<ChangeSignal> NewChangeSignal(
      absl::string_view own_sender) const override {
    if (!named_statements_) return nullptr;
    // The string's connect_timeout does not bound a connect polled step by
    // step: the listener bounds it itself.
    return std::make_unique<ChangeListener>(
        connection_, absl::Seconds(std::max(connect_seconds_, int64_t{5})),
        std::string(own_sender));
  }

  // Two connections: one can take new statements while the other's batch
  // is in flight (one, two and four measured the same).
  std::unique_ptr<AsyncStatements> NewAsyncStatements(
      StoreObserver* observer) const override {
    PipelinedStatements::Options options;
    options.conninfo = connection_;
    options.named_statements = named_statements_;
    options.connections = 2;
    options.connect_timeout =
        absl::Seconds(std::max(connect_seconds_, int64_t{5}));
    options.watchdog = &watchdog_;
    options.observer = observer;
    return std::make_unique<PipelinedStatements>(std::move(options));
  }

 private:
  // The connection string with a connect timeout no longer than what is
  // left of the call's deadline (a hung server would otherwise hold the
  // call for the whole timeout).
  std::string ConnectionForThisCall() const {
    if (connect_seconds_ == 0) return connection_;
    int64_t seconds = connect_seconds_;
    const absl::Time deadline = CurrentCallDeadline();
    if (deadline != absl::InfiniteFuture()) {
      const double left = absl::ToDoubleSeconds(deadline - absl::Now());
      seconds = std::clamp(static_cast<int64_t>(std::ceil(left)),
                           kMinConnectSeconds, seconds);
    }
    return WithOption(connection_, "connect_timeout", absl::StrCat(seconds));
  }

  const std::string connection_;
  const int64_t connect_seconds_;
  const bool named_statements_;
  mutable CancelWatchdog watchdog_;
  mutable SessionConnector connector_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Dialect>> MakePostgresDialect(
    absl::string_view connection, absl::Duration connect_timeout) {
  absl::StatusOr<PostgresConnection> parsed =
      ParsePostgresConnection(connection);
  if (!parsed.ok()) return parsed.status();
  std::string conninfo = std::move(parsed->libpq);
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    std::string message = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot parse the PostgreSQL connection string: ", message));
  }
  auto is_set = [options](absl::string_view keyword) {
    for (PQconninfoOption* option = options; option->keyword != nullptr;
         ++option) {
      if (keyword == option->keyword && option->val != nullptr) return true;
    }
    return false;
  };
  for (const auto& [keyword, value] : kTcpDefaults) {
    if (!is_set(keyword)) conninfo = WithOption(conninfo, keyword, value);
  }
  // libpq would otherwise wait for the OS to give up on a silent host.
  const int64_t connect_seconds =
      is_set("connect_timeout")
          ? 0
          : std::max<int64_t>(kMinConnectSeconds,
                              static_cast<int64_t>(std::ceil(
                                  absl::ToDoubleSeconds(connect_timeout))));
  PQconninfoFree(options);
  return std::unique_ptr<Dialect>(std::make_unique<PostgresDialect>(
      std::move(conninfo), connect_seconds, parsed->named_statements));
}

}  // namespace tasks::storage
