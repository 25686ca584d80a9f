#ifndef TASKS_BENCH_STORE_SCHEMA_H_
#define TASKS_BENCH_STORE_SCHEMA_H_

#include <string>

#include "absl/status/status.h"

namespace tasks::bench {

// Opens the store on `db` once and closes it: its migrations leave the
// database with exactly the schema (tables, constraints, indexes) the
// service uses, for raw baselines to run against.
absl::Status CreateStoreSchema(const std::string& db);

}  // namespace tasks::bench

#endif  // TASKS_BENCH_STORE_SCHEMA_H_
