#ifndef TASKS_TESTS_RELIABILITY_DATABASE_LOCK_H_
#define TASKS_TESTS_RELIABILITY_DATABASE_LOCK_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/testing/store_backends.h"

struct sqlite3;
struct pg_conn;

namespace tasks::reliability {

// DatabaseWriteLock
//
// Another program holding the tasks table's write lock, on a connection of
// its own: writes through the server wait for it, reads do not. On SQLite an
// open `BEGIN IMMEDIATE` transaction (the database's one write lock); on
// PostgreSQL `LOCK TABLE tasks IN EXCLUSIVE MODE` in an open transaction.
// Released by Release() or the destructor.
class DatabaseWriteLock {
 public:
  static absl::StatusOr<std::unique_ptr<DatabaseWriteLock>> Acquire(
      ::tasks::testing::StoreBackend backend, const std::string& connection);

  DatabaseWriteLock(const DatabaseWriteLock&) = delete;
  DatabaseWriteLock& operator=(const DatabaseWriteLock&) = delete;
  ~DatabaseWriteLock();

  // Ends the transaction (rolling back) and closes the connection.
  // Idempotent.
  void Release();

  // The PostgreSQL backend pid of the lock's session (0 on SQLite), to tell
  // it apart in pg_stat_activity.
  int backend_pid() const { return backend_pid_; }

 private:
  DatabaseWriteLock() = default;

  sqlite3* sqlite_ = nullptr;
  pg_conn* postgres_ = nullptr;
  int backend_pid_ = 0;
};

}  // namespace tasks::reliability

#endif  // TASKS_TESTS_RELIABILITY_DATABASE_LOCK_H_
