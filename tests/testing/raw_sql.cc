#include "tests/testing/raw_sql.h"

#include <sqlite3.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "libpq-fe.h"
#include "storage/postgres/postgres_connection.h"

namespace tasks::testing {
namespace {

absl::StatusOr<std::string> QuerySqlite(const std::string& path,
                                        const std::string& sql) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status = absl::UnavailableError(
        absl::StrCat("sqlite3_open_v2 ", path, ": ", sqlite3_errstr(rc)));
    sqlite3_close(db);
    return status;
  }
  // The store may be writing too.
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* stmt = nullptr;
  absl::StatusOr<std::string> value = std::string();
  rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      if (text != nullptr) value = reinterpret_cast<const char*>(text);
      rc = SQLITE_DONE;
    }
  }
  if (rc != SQLITE_DONE) {
    value = absl::InternalError(absl::StrCat(sql, ": ", sqlite3_errmsg(db)));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

absl::StatusOr<std::string> QueryPostgres(const std::string& connection,
                                          const std::string& sql) {
  // Without the store's own options, which libpq rejects.
  absl::StatusOr<storage::PostgresConnection> parsed =
      storage::ParsePostgresConnection(connection);
  if (!parsed.ok()) return parsed.status();
  PGconn* conn = PQconnectdb(parsed->libpq.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    absl::Status status = absl::UnavailableError(PQerrorMessage(conn));
    PQfinish(conn);
    return status;
  }
  PGresult* result = PQexec(conn, sql.c_str());
  absl::StatusOr<std::string> value = std::string();
  switch (PQresultStatus(result)) {
    case PGRES_COMMAND_OK:
      break;
    case PGRES_TUPLES_OK:
      if (PQntuples(result) > 0 && !PQgetisnull(result, 0, 0)) {
        value = std::string(PQgetvalue(result, 0, 0));
      }
      break;
    default:
      value = absl::InternalError(
          absl::StrCat(sql, ": ", PQresultErrorMessage(result)));
  }
  PQclear(result);
  PQfinish(conn);
  return value;
}

}  // namespace

absl::StatusOr<std::string> QueryRawSql(StoreBackend backend,
                                        const std::string& connection,
                                        const std::string& sql) {
  return backend == StoreBackend::kSqlite ? QuerySqlite(connection, sql)
                                          : QueryPostgres(connection, sql);
}

}  // namespace tasks::testing
