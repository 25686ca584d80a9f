#ifndef TASKS_STORAGE_POSTGRES_SESSION_CONNECTOR_H_
#define TASKS_STORAGE_POSTGRES_SESSION_CONNECTOR_H_

#include <atomic>
#include <memory>
#include <string>

#include "soci/soci.h"

namespace tasks::storage {

// SessionConnector
//
// Opens SOCI sessions on PostgreSQL without leaking. SOCI 4.0's connect runs
// "SET extra_float_digits" on the new connection and, when that fails,
// throws without closing it (~20 KB each time). Through PgBouncer every
// connect fails so while the database is down: PgBouncer takes the login,
// then cannot run the statement, and the pool and the health probe retry
// every second. So once a connect has failed, the next ones are made first
// with libpq alone and the same statement (closed either way): SOCI connects
// only once a connection answers. Thread-safe.
//
// Example:
//   SessionConnector connector;
//   std::unique_ptr<soci::session> session = connector.Connect(conninfo);
class SessionConnector {
 public:
  // A session on `conninfo`; throws soci::soci_error when none can be had.
  std::unique_ptr<soci::session> Connect(const std::string& conninfo);

 private:
  std::atomic<bool> failing_{false};
};

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_POSTGRES_SESSION_CONNECTOR_H_
