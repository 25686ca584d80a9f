#ifndef TASKS_BENCH_DB_BASELINE_H_
#define TASKS_BENCH_DB_BASELINE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "bench/raw_task_table.h"
#include "bench/run_stats.h"

namespace tasks::bench {

// The raw database operations, one per hot store call.
enum class DbOp { kInsert, kGet, kList, kUpdate };

inline constexpr DbOp kAllDbOps[] = {DbOp::kInsert, DbOp::kGet, DbOp::kList,
                                     DbOp::kUpdate};

// "insert", "get", "list", "update".
absl::string_view DbOpName(DbOp op);
absl::optional<DbOp> ParseDbOp(absl::string_view name);

// Opens one more connection to the baseline's database.
using RawTableOpener =
    std::function<absl::StatusOr<std::unique_ptr<RawTaskTable>>()>;

// Gives the database named `db` (as the server's --db takes it: a SQLite
// file, ":memory:", or a PostgreSQL URL/keyword string) the store's schema
// by opening the store once, and returns how to open raw connections to it.
// For ":memory:" the schema is built in a file under `scratch_dir` (deleted
// with the last copy of the opener) and copied into each connection;
// `connections` must then be 1.
absl::StatusOr<RawTableOpener> PrepareRawDatabase(const std::string& db,
                                                  const std::string& scratch_dir);

// Deletes a SQLite database file with its -wal and -shm companions.
void RemoveSqliteDatabase(const std::string& path);

// True when `db` names a PostgreSQL database rather than SQLite.
bool IsPostgres(absl::string_view db);

struct DbBaselineOptions {
  DbOp op = DbOp::kGet;
  // Connections, each driven by its own thread.
  int connections = 1;
  absl::Duration warmup = absl::Seconds(1);
  absl::Duration duration = absl::Seconds(5);
  // Tasks inserted (in one transaction) into a new project before the run:
  // what get, list and update read and write.
  int seed_tasks = 1000;
};

// Runs `options.op` back to back on `options.connections` connections from
// `open`. Inserts are single-row commits with unique titles; gets and
// updates pick seeded tasks at random; lists read the first 50 of the
// seeded project. Fails only when opening or seeding fails.
absl::StatusOr<RunStats> RunDbBaseline(const RawTableOpener& open,
                                       const DbBaselineOptions& options);

}  // namespace tasks::bench

#endif  // TASKS_BENCH_DB_BASELINE_H_
