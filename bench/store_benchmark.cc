// Microbenchmarks of the store alone (no gRPC) next to the same statements
// through the raw sqlite3 C API, on in-memory SQLite and on a SQLite file
// (WAL, synchronous=FULL): the gap is what the store adds per call. With
// TASKS_BENCH_POSTGRES set to a libpq connection string of an empty database,
// the same benchmarks also run on PostgreSQL (".../postgres") next to libpq.
//
//   ./bazelw run -c opt //bench:store_benchmark
//   export TASKS_BENCH_POSTGRES="host=/tmp/pg dbname=bench"
//   ./bazelw run -c opt //bench:store_benchmark -- --benchmark_filter=postgres
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/db_baseline.h"
#include "bench/raw_task_table.h"
#include "bench/workload.h"
#include "benchmark/benchmark.h"
#include "common/call_deadline.h"
#include "storage/filter/filter.h"
#include "storage/soci_task_store.h"

namespace tasks::bench {
namespace {

constexpr int kSeedTasks = 1000;

// A store and a raw connection on one SQLite database, each with a project
// of kSeedTasks tasks.
struct Fixture {
  std::unique_ptr<storage::TaskStore> store;
  std::unique_ptr<RawTaskTable> raw;
  int64_t store_project = 0;
  int64_t raw_project = 0;
  std::vector<int64_t> store_tasks;
  std::vector<int64_t> raw_tasks;
  int64_t sequence = 0;  // unique titles across iterations
};

std::string ScratchFile(absl::string_view name) {
  return absl::StrCat("/var/tmp/tasks-store-benchmark-", getpid(), "-", name,
                      ".db");
}

// Exits on failure: a benchmark without its fixture measures nothing.
void Check(const absl::Status& status, absl::string_view what) {
  if (!status.ok()) {
    std::fprintf(stderr, "store_benchmark: %s: %s\n", std::string(what).c_str(),
                 status.ToString().c_str());
    std::exit(1);
  }
}

template <typename T>
T Check(absl::StatusOr<T> value, absl::string_view what) {
  Check(value.status(), what);
  return *std::move(value);
}

// The PostgreSQL database to run on; empty when TASKS_BENCH_POSTGRES is unset.
std::string PostgresConnection() {
  const char* connection = std::getenv("TASKS_BENCH_POSTGRES");
  return connection == nullptr ? "" : connection;
}

// The connection string of backend `db` ("memory", "file" or "postgres").
std::string DatabaseFor(const std::string& db) {
  if (db == "postgres") return PostgresConnection();
  return db == "file" ? ScratchFile("file") : ":memory:";
}

Fixture& FixtureFor(const std::string& db) {
  static auto* const fixtures =
      new std::map<std::string, std::unique_ptr<Fixture>>;
  std::unique_ptr<Fixture>& fixture = (*fixtures)[db];
  if (fixture != nullptr) return *fixture;
  fixture = std::make_unique<Fixture>();
  const std::string path = DatabaseFor(db);
  if (!IsPostgres(path)) RemoveSqliteDatabase(path);
  fixture->store = Check(storage::OpenSociTaskStore(path), "opening the store");
  // The raw connection: the same file, or a :memory: copy of the schema.
  RawTableOpener open =
      Check(PrepareRawDatabase(path, "/var/tmp"), "preparing the raw database");
  fixture->raw = Check(open(), "opening the raw connection");

  v1::Project project;
  project.set_name(absl::StrCat("store-benchmark-", db));
  fixture->store_project =
      Check(fixture->store->CreateProject(project), "project").id();
  v1::BatchCreateTasksRequest batch;
  for (int i = 0; i < kSeedTasks; ++i) {
    *batch.add_requests()->mutable_task() =
        DraftTask(fixture->store_project, absl::StrCat("seed-", i));
  }
  const v1::BatchCreateTasksResponse seeded =
      Check(fixture->store->BatchCreateTasks(batch), "seeding the store");
  for (const v1::Task& task : seeded.tasks())
    fixture->store_tasks.push_back(task.id());
  fixture->raw_project =
      Check(fixture->raw->InsertProject("raw-" + db), "raw project");
  Check(fixture->raw->Execute("BEGIN"), "BEGIN");
  for (int i = 0; i < kSeedTasks; ++i) {
    fixture->raw_tasks.push_back(
        Check(fixture->raw->InsertTask(fixture->raw_project,
                                       absl::StrCat("raw-seed-", i)),
              "seeding raw"));
  }
  Check(fixture->raw->Execute("COMMIT"), "COMMIT");
  return *fixture;
}

// Every store call runs under a deadline, as the service's calls do (the
// store then arms its deadline checks).
struct CallDeadline : ScopedCallDeadline {
  CallDeadline() : ScopedCallDeadline(absl::Now() + absl::Seconds(30)) {}
};

void Report(benchmark::State& state, const absl::Status& status) {
  if (!status.ok()) state.SkipWithError(status.ToString().c_str());
}

void BM_StoreGetTask(benchmark::State& state, const std::string& db) {
  Fixture& f = FixtureFor(db);
  size_t i = 0;
  for (auto _ : state) {
    CallDeadline deadline;
    auto task = f.store->GetTask(f.store_tasks[i++ % f.store_tasks.size()],
                                 storage::AccessScope::All());
    if (!task.ok()) return Report(state, task.status());
    benchmark::DoNotOptimize(task);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_RawGetTask(benchmark::State& state, const std::string& db) {
  Fixture& f = FixtureFor(db);
  size_t i = 0;
  for (auto _ : state) {
    absl::Status status = f.raw->GetTask(f.raw_tasks[i++ % f.raw_tasks.size()]);
    if (!status.ok()) return Report(state, status);
  }
  state.SetItemsProcessed(state.iterations());
}

// Lists one page of kListPageSize per iteration with `request` (which
// selects the store's project by a typed field or by a filter).
void ListStorePages(benchmark::State& state, Fixture& f,
                    v1::ListTasksRequest request) {
  request.set_page_size(kListPageSize);
  for (auto _ : state) {
    CallDeadline deadline;
    auto page = f.store->ListTasks(request);
    if (!page.ok()) return Report(state, page.status());
    benchmark::DoNotOptimize(page);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_StoreListTasks50(benchmark::State& state, const std::string& db) {
  Fixture& f = FixtureFor(db);
  v1::ListTasksRequest request;
  request.set_project_id(f.store_project);
  ListStorePages(state, f, request);
}

// The same page through the filter language: what parsing the filter and
// building its statement add.
void BM_StoreListTasks50Filter(benchmark::State& state, const std::string& db) {
  Fixture& f = FixtureFor(db);
  v1::ListTasksRequest request;
  request.set_filter(absl::StrCat("project_id = ", f.store_project));
  ListStorePages(state, f, request);
}

void BM_RawListTasks50(benchmark::State& state, const std::string& db) {
  Fixture& f = FixtureFor(db);
  for (auto _ : state) {
    // One row more than the page, as the store asks for.
    auto rows = f.raw->ListTasks(f.raw_project, kListPageSize + 1);
    if (!rows.ok()) return Report(state, rows.status());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_StoreCreateTask(benchmark::State& state, const std::string& db) {
  Fixture& f = FixtureFor(db);
  for (auto _ : state) {
    CallDeadline deadline;
    auto task = f.store->CreateTask(
        DraftTask(f.store_project, absl::StrCat("create-", ++f.sequence)), "");
    if (!task.ok()) return Report(state, task.status());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_RawInsertTask(benchmark::State& state, const std::string& db) {
  Fixture& f = FixtureFor(db);
  for (auto _ : state) {
    auto id =
        f.raw->InsertTask(f.raw_project, absl::StrCat("insert-", ++f.sequence));
    if (!id.ok()) return Report(state, id.status());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_StoreUpdateTask(benchmark::State& state, const std::string& db) {
  Fixture& f = FixtureFor(db);
  google::protobuf::FieldMask mask;
  mask.add_paths("description");
  v1::Task task;
  size_t i = 0;
  for (auto _ : state) {
    task.set_id(f.store_tasks[i++ % f.store_tasks.size()]);
    task.set_description(absl::StrCat("update-", ++f.sequence));
    CallDeadline deadline;
    auto updated = f.store->UpdateTask(task, mask, storage::AccessScope::All());
    if (!updated.ok()) return Report(state, updated.status());
    benchmark::DoNotOptimize(updated);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_RawUpdateTask(benchmark::State& state, const std::string& db) {
  Fixture& f = FixtureFor(db);
  size_t i = 0;
  for (auto _ : state) {
    absl::Status status =
        f.raw->UpdateTask(f.raw_tasks[i++ % f.raw_tasks.size()],
                          absl::StrCat("update-", ++f.sequence));
    if (!status.ok()) return Report(state, status);
  }
  state.SetItemsProcessed(state.iterations());
}

// A create and a delete per iteration (the raw table has no delete).
void BM_StoreCreateDeleteTask(benchmark::State& state, const std::string& db) {
  Fixture& f = FixtureFor(db);
  for (auto _ : state) {
    CallDeadline deadline;
    auto task = f.store->CreateTask(
        DraftTask(f.store_project, absl::StrCat("delete-", ++f.sequence)), "");
    if (!task.ok()) return Report(state, task.status());
    absl::Status deleted =
        f.store->DeleteTask(task->id(), storage::AccessScope::All());
    if (!deleted.ok()) return Report(state, deleted);
  }
  state.SetItemsProcessed(state.iterations());
}

// One BatchCreateTasks of kListPageSize tasks per iteration.
void BM_StoreBatchCreateTasks50(benchmark::State& state,
                                const std::string& db) {
  Fixture& f = FixtureFor(db);
  for (auto _ : state) {
    v1::BatchCreateTasksRequest batch;
    for (int i = 0; i < kListPageSize; ++i) {
      *batch.add_requests()->mutable_task() =
          DraftTask(f.store_project, absl::StrCat("batch-", ++f.sequence));
    }
    CallDeadline deadline;
    auto created = f.store->BatchCreateTasks(batch);
    if (!created.ok()) return Report(state, created.status());
  }
  state.SetItemsProcessed(state.iterations() * kListPageSize);
}

// What a ListTasks filter costs before any store work, each time it is
// parsed (the service's checks and the store each parse it).
void BM_ParseFilter(benchmark::State& state) {
  const std::string filter = "project_id = 12345 AND status = PENDING";
  for (auto _ : state) {
    benchmark::DoNotOptimize(storage::filter::ParseFilter(filter));
  }
}

void RegisterAll() {
  benchmark::RegisterBenchmark("ParseFilter", BM_ParseFilter);
  std::vector<std::string> backends = {"memory", "file"};
  if (!PostgresConnection().empty()) backends.push_back("postgres");
  for (const std::string& db : backends) {
    for (const auto& [name, function] :
         std::vector<std::pair<std::string, void (*)(benchmark::State&,
                                                     const std::string&)>>{
             {"StoreGetTask", BM_StoreGetTask},
             {"RawGetTask", BM_RawGetTask},
             {"StoreListTasks50", BM_StoreListTasks50},
             {"StoreListTasks50Filter", BM_StoreListTasks50Filter},
             {"RawListTasks50", BM_RawListTasks50},
             {"StoreCreateTask", BM_StoreCreateTask},
             {"RawInsertTask", BM_RawInsertTask},
             {"StoreUpdateTask", BM_StoreUpdateTask},
             {"RawUpdateTask", BM_RawUpdateTask},
             {"StoreCreateDeleteTask", BM_StoreCreateDeleteTask},
             {"StoreBatchCreateTasks50", BM_StoreBatchCreateTasks50},
         }) {
      // Real time: on a file most of a write is spent waiting for fsync.
      benchmark::RegisterBenchmark(absl::StrCat(name, "/", db).c_str(),
                                   function, db)
          ->UseRealTime();
    }
  }
}

}  // namespace
}  // namespace tasks::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  tasks::bench::RegisterAll();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  tasks::bench::RemoveSqliteDatabase(tasks::bench::ScratchFile("file"));
  return 0;
}
