#ifndef TASKS_TESTS_RELIABILITY_DATABASE_CHECKS_H_
#define TASKS_TESTS_RELIABILITY_DATABASE_CHECKS_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tasks/v1/tasks.grpc.pb.h"
#include "tests/testing/store_backends.h"

namespace tasks::reliability {

// Which acknowledged tasks a database no longer has.
struct LossReport {
  int64_t acknowledged = 0;
  // Read back by id through the API: NOT_FOUND, or another title.
  std::vector<int64_t> missing_by_rpc;
  // Acknowledged (id, title) pairs raw SQL does not find in the tasks table.
  int64_t missing_by_sql = 0;

  int64_t lost() const {
    return std::max<int64_t>(missing_by_rpc.size(), missing_by_sql);
  }
};

// Reads every task of `acknowledged` (id → title) back through `stub`
// (GetTask) and, past the server, with raw SQL on `connection`. An error
// when a read itself fails (the server or database is not serving).
absl::StatusOr<LossReport> CheckAcknowledgedTasks(
    const std::map<int64_t, std::string>& acknowledged,
    v1::TaskService::Stub& stub, ::tasks::testing::StoreBackend backend,
    const std::string& connection);

// The database's own consistency check: SQLite's `PRAGMA integrity_check`;
// on PostgreSQL, amcheck's verify_heapam on the tables and bt_index_check on
// their indexes. "ok" when consistent, else what the check reported.
absl::StatusOr<std::string> IntegrityCheck(
    ::tasks::testing::StoreBackend backend, const std::string& connection);

// The number a `SELECT count(*) ...` statement returns.
absl::StatusOr<int64_t> CountRows(::tasks::testing::StoreBackend backend,
                                  const std::string& connection,
                                  const std::string& sql);

}  // namespace tasks::reliability

#endif  // TASKS_TESTS_RELIABILITY_DATABASE_CHECKS_H_
