#ifndef TASKS_STORAGE_SQLITE_SQLITE_DIALECT_H_
#define TASKS_STORAGE_SQLITE_SQLITE_DIALECT_H_

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "storage/engine/dialect.h"

namespace tasks::storage {

// SQLite: `path` is a file name or ":memory:"; `busy_timeout` is how long a
// statement waits for another connection's lock.
std::unique_ptr<Dialect> MakeSqliteDialect(std::string path,
                                           absl::Duration busy_timeout);

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_SQLITE_SQLITE_DIALECT_H_
