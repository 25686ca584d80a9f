// The database limit: runs one of the store's hot statements straight
// through the sqlite3 C API or libpq, on the store's schema, and prints
// operations/s and latency.
//
//   db_baseline --db=/tmp/bench.db --op=insert
//   db_baseline --db=:memory: --op=get
//   db_baseline --db="host=/tmp/pg dbname=bench" --op=insert --connections=16
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "bench/bench_process.h"
#include "bench/db_baseline.h"

ABSL_FLAG(std::string, db, "/tmp/tasks-bench-raw.db",
          "A SQLite file, :memory:, or a PostgreSQL URL or keyword string.");
ABSL_FLAG(std::string, op, "get", "insert, get, list or update.");
ABSL_FLAG(int, connections, 1, "Connections, one thread each.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(5), "Measured time.");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(1), "Unmeasured time first.");
ABSL_FLAG(int, seed_tasks, 1000, "Tasks inserted before the run.");

int main(int argc, char** argv) {
  tasks::bench::InitBenchProcess(argc, argv);
  absl::optional<tasks::bench::DbOp> op = tasks::bench::ParseDbOp(absl::GetFlag(FLAGS_op));
  if (!op) {
    std::fprintf(stderr, "db_baseline: unknown --op %s\n", absl::GetFlag(FLAGS_op).c_str());
    return 2;
  }
  const std::string db = absl::GetFlag(FLAGS_db);
  tasks::bench::DbBaselineOptions options;
  options.op = *op;
  options.connections = db == ":memory:" ? 1 : absl::GetFlag(FLAGS_connections);
  options.duration = absl::GetFlag(FLAGS_duration);
  options.warmup = absl::GetFlag(FLAGS_warmup);
  options.seed_tasks = absl::GetFlag(FLAGS_seed_tasks);

  auto open = tasks::bench::PrepareRawDatabase(db, "/tmp");
  if (!open.ok()) {
    std::fprintf(stderr, "db_baseline: %s\n", open.status().ToString().c_str());
    return 1;
  }
  absl::StatusOr<tasks::bench::RunStats> stats = tasks::bench::RunDbBaseline(*open, options);
  if (!stats.ok()) {
    std::fprintf(stderr, "db_baseline: %s\n", stats.status().ToString().c_str());
    return 1;
  }
  std::printf("%s x%d: %s\n", std::string(tasks::bench::DbOpName(*op)).c_str(),
              options.connections, tasks::bench::FormatRunStats(*stats, "op").c_str());
  return 0;
}
