#include "bench/db_baseline.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/raw_task_sql.h"
#include "bench/split_mix.h"
#include "bench/store_schema.h"
#include "bench/timed_loop.h"
#include "bench/workload.h"

namespace tasks::bench {

absl::string_view DbOpName(DbOp op) {
  switch (op) {
    case DbOp::kInsert:
      return "insert";
    case DbOp::kGet:
      return "get";
    case DbOp::kList:
      return "list";
    case DbOp::kUpdate:
      return "update";
  }
  return "?";
}

absl::optional<DbOp> ParseDbOp(absl::string_view name) {
  for (DbOp op : kAllDbOps) {
    if (absl::EqualsIgnoreCase(name, DbOpName(op))) return op;
  }
  return absl::nullopt;
}

void RemoveSqliteDatabase(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::remove(absl::StrCat(path, suffix).c_str());
  }
}

namespace {

// A SQLite file that is deleted with this object.
class ScratchDatabase {
 public:
  explicit ScratchDatabase(std::string path) : path_(std::move(path)) {
    RemoveSqliteDatabase(path_);
  }
  ~ScratchDatabase() { RemoveSqliteDatabase(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

bool IsPostgres(absl::string_view db) {
  return absl::StartsWith(db, "postgres://") ||
         absl::StartsWith(db, "postgresql://") || absl::StrContains(db, "=");
}

absl::StatusOr<RawTableOpener> PrepareRawDatabase(
    const std::string& db, const std::string& scratch_dir) {
  if (IsPostgres(db)) {
    if (absl::Status s = CreateStoreSchema(db); !s.ok()) return s;
    return RawTableOpener([db] { return OpenRawPostgres(db); });
  }
  if (db == ":memory:") {
    static std::atomic<int> next_template{0};
    auto schema = std::make_shared<ScratchDatabase>(absl::StrCat(
        scratch_dir, "/schema-", getpid(), "-", next_template++, ".db"));
    if (absl::Status s = CreateStoreSchema(schema->path()); !s.ok()) return s;
    return RawTableOpener(
        [schema] { return OpenRawSqlite(":memory:", schema->path()); });
  }
  if (absl::Status s = CreateStoreSchema(db); !s.ok()) return s;
  return RawTableOpener([db] { return OpenRawSqlite(db); });
}

absl::StatusOr<RunStats> RunDbBaseline(const RawTableOpener& open,
                                       const DbBaselineOptions& options) {
  std::vector<std::unique_ptr<RawTaskTable>> tables;
  for (int i = 0; i < options.connections; ++i) {
    absl::StatusOr<std::unique_ptr<RawTaskTable>> table = open();
    if (!table.ok()) return table.status();
    tables.push_back(*std::move(table));
  }

  // Seeded through the first connection: for ":memory:" it is the database.
  RawTaskTable& seeder = *tables.front();
  const std::string tag =
      absl::StrCat("raw-", absl::Hex(absl::ToUnixMicros(absl::Now())));
  absl::StatusOr<int64_t> project_id = seeder.InsertProject(tag);
  if (!project_id.ok()) return project_id.status();
  std::vector<int64_t> task_ids;
  if (absl::Status s = seeder.Execute("BEGIN"); !s.ok()) return s;
  for (int i = 0; i < options.seed_tasks; ++i) {
    absl::StatusOr<int64_t> id =
        seeder.InsertTask(*project_id, absl::StrCat(tag, "-seed-", i));
    if (!id.ok()) return id.status();
    task_ids.push_back(*id);
  }
  if (absl::Status s = seeder.Execute("COMMIT"); !s.ok()) return s;

  std::vector<uint64_t> random_states(options.connections);
  for (int i = 0; i < options.connections; ++i) random_states[i] = 0x5eed + i;
  auto random_task = [&](int thread) {
    return task_ids[SplitMix64(random_states[thread]) % task_ids.size()];
  };

  TimedOperation operation;
  switch (options.op) {
    case DbOp::kInsert:
      operation = [&](int thread, int64_t sequence) {
        return tables[thread]
            ->InsertTask(*project_id, absl::StrCat(tag, "-", thread, "-", sequence))
            .status();
      };
      break;
    case DbOp::kGet:
      operation = [&](int thread, int64_t) {
        return tables[thread]->GetTask(random_task(thread));
      };
      break;
    case DbOp::kList:
      operation = [&](int thread, int64_t) {
        // The store asks for one row more than the page to know whether
        // there is a next page.
        return tables[thread]->ListTasks(*project_id, kListPageSize + 1).status();
      };
      break;
    case DbOp::kUpdate:
      operation = [&](int thread, int64_t sequence) {
        return tables[thread]->UpdateTask(
            random_task(thread), UpdatedDescription(sequence));
      };
      break;
  }
  return RunTimedLoop(options.connections, options.warmup, options.duration,
                      operation);
}

}  // namespace tasks::bench
