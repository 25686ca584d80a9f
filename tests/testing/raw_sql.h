#ifndef TASKS_TESTS_TESTING_RAW_SQL_H_
#define TASKS_TESTS_TESTING_RAW_SQL_H_

#include <string>

#include "absl/status/statusor.h"
#include "tests/testing/store_backends.h"

namespace tasks::testing {

// Runs one hand-written SQL statement on the database named by `connection`
// (a SQLite file path, or a PostgreSQL connection string), on a connection of
// its own, as another program would: no store, no PRAGMAs. Returns the first
// column of the first row ("" when there is none), or the database's error
// as INTERNAL. For tests of what the schema itself enforces, and for checks
// such as `PRAGMA integrity_check`.
absl::StatusOr<std::string> QueryRawSql(StoreBackend backend,
                                        const std::string& connection,
                                        const std::string& sql);

}  // namespace tasks::testing

#endif  // TASKS_TESTS_TESTING_RAW_SQL_H_
