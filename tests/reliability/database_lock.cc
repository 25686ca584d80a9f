#include "tests/reliability/database_lock.h"

#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "libpq-fe.h"

namespace tasks::reliability {
namespace {

using ::tasks::testing::StoreBackend;

// Runs `sql` on `conn`; the error names `sql`.
absl::Status Execute(PGconn* conn, const char* sql) {
  PGresult* result = PQexec(conn, sql);
  absl::Status status;
  if (PQresultStatus(result) != PGRES_COMMAND_OK &&
      PQresultStatus(result) != PGRES_TUPLES_OK) {
    status = absl::InternalError(
        absl::StrCat(sql, ": ", PQresultErrorMessage(result)));
  }
  PQclear(result);
  return status;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DatabaseWriteLock>> DatabaseWriteLock::Acquire(
    StoreBackend backend, const std::string& connection) {
  std::unique_ptr<DatabaseWriteLock> lock(new DatabaseWriteLock());
  if (backend == StoreBackend::kSqlite) {
    int rc = sqlite3_open_v2(connection.c_str(), &lock->sqlite_,
                             SQLITE_OPEN_READWRITE, nullptr);
    if (rc == SQLITE_OK) {
      // Waits for the server's own writes in flight.
      sqlite3_busy_timeout(lock->sqlite_, 10000);
      rc = sqlite3_exec(lock->sqlite_, "BEGIN IMMEDIATE", nullptr, nullptr,
                        nullptr);
    }
    if (rc != SQLITE_OK) {
      return absl::InternalError(absl::StrCat("BEGIN IMMEDIATE on ", connection,
                                              ": ", sqlite3_errstr(rc)));
    }
    return lock;
  }
  lock->postgres_ = PQconnectdb(connection.c_str());
  if (PQstatus(lock->postgres_) != CONNECTION_OK) {
    return absl::UnavailableError(PQerrorMessage(lock->postgres_));
  }
  lock->backend_pid_ = PQbackendPID(lock->postgres_);
  for (const char* sql : {"BEGIN", "LOCK TABLE tasks IN EXCLUSIVE MODE"}) {
    if (absl::Status status = Execute(lock->postgres_, sql); !status.ok()) {
      return status;
    }
  }
  return lock;
}

DatabaseWriteLock::~DatabaseWriteLock() { Release(); }

void DatabaseWriteLock::Release() {
  if (sqlite_ != nullptr) {
    sqlite3_exec(sqlite_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(sqlite_);
    sqlite_ = nullptr;
  }
  if (postgres_ != nullptr) {
    Execute(postgres_, "ROLLBACK").IgnoreError();
    PQfinish(postgres_);
    postgres_ = nullptr;
  }
}

}  // namespace tasks::reliability
