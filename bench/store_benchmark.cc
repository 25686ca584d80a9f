// Microbenchmarks of the store alone (no gRPC) next to the same statements
// through the raw sqlite3 C API, on in-memory SQLite and on a SQLite file
// (WAL, synchronous=FULL): the gap is what the store adds per call.
//
//   ./bazelw run -c opt //bench:store_benchmark
#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/db_baseline.h"
#include "bench/raw_task_table.h"
#include "bench/workload.h"
#include "benchmark/benchmark.h"
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
  return absl::StrCat("/var/tmp/tasks-store-benchmark-", getpid(), "-", name, ".db");
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

Fixture& FixtureFor(const std::string& db) {
  static auto* const fixtures = new std::map<std::string, std::unique_ptr<Fixture>>;
  std::unique_ptr<Fixture>& fixture = (*fixtures)[db];
  if (fixture != nullptr) return *fixture;
  fixture = std::make_unique<Fixture>();
  const std::string path = db == "file" ? ScratchFile("file") : ":memory:";
  RemoveSqliteDatabase(path);
  fixture->store = Check(storage::OpenSociTaskStore(path), "opening the store");
  // The raw connection: the same file, or a :memory: copy of the schema.
  RawTableOpener open =
      Check(PrepareRawDatabase(path, "/var/tmp"), "preparing the raw database");
  fixture->raw = Check(open(), "opening the raw connection");

  v1::Project project;
  project.set_name(absl::StrCat("store-benchmark-", db));
  fixture->store_project = Check(fixture->store->CreateProject(project), "project").id();
  v1::BatchCreateTasksRequest batch;
  for (int i = 0; i < kSeedTasks; ++i) {
    *batch.add_requests()->mutable_task() =
        DraftTask(fixture->store_project, absl::StrCat("seed-", i));
  }
  const v1::BatchCreateTasksResponse seeded =
      Check(fixture->store->BatchCreateTasks(batch), "seeding the store");
  for (const v1::Task& task : seeded.tasks()) fixture->store_tasks.push_back(task.id());
  fixture->raw_project = Check(fixture->raw->InsertProject("raw-" + db), "raw project");
  Check(fixture->raw->Execute("BEGIN"), "BEGIN");
  for (int i = 0; i < kSeedTasks; ++i) {
    fixture->raw_tasks.push_back(Check(
        fixture->raw->InsertTask(fixture->raw_project, absl::StrCat("raw-seed-", i)),
        "seeding raw"));
  }
  Check(fixture->raw->Execute("COMMIT"), "COMMIT");
  return *fixture;
}

void Report(benchmark::State& state, const absl::Status& status) {
  if (!status.ok()) state.SkipWithError(status.ToString().c_str());
}

void BM_StoreGetTask(benchmark::State& state, const std::string& db) {
  Fixture& f = FixtureFor(db);
  size_t i = 0;
  for (auto _ : state) {
    auto task = f.store->GetTask(f.store_tasks[i++ % f.store_tasks.size()]);
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

void BM_StoreListTasks50(benchmark::State& state, const std::string& db) {
  Fixture& f = FixtureFor(db);
  v1::ListTasksRequest request;
  request.set_project_id(f.store_project);
  request.set_page_size(kListPageSize);
  for (auto _ : state) {
    auto page = f.store->ListTasks(request);
    if (!page.ok()) return Report(state, page.status());
    benchmark::DoNotOptimize(page);
  }
  state.SetItemsProcessed(state.iterations());
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
    auto task = f.store->CreateTask(
        DraftTask(f.store_project, absl::StrCat("create-", ++f.sequence)), "");
    if (!task.ok()) return Report(state, task.status());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_RawInsertTask(benchmark::State& state, const std::string& db) {
  Fixture& f = FixtureFor(db);
  for (auto _ : state) {
    auto id = f.raw->InsertTask(f.raw_project, absl::StrCat("insert-", ++f.sequence));
    if (!id.ok()) return Report(state, id.status());
  }
  state.SetItemsProcessed(state.iterations());
}

void RegisterAll() {
  for (const std::string db : {"memory", "file"}) {
    for (const auto& [name, function] :
         std::vector<std::pair<std::string, void (*)(benchmark::State&, const std::string&)>>{
             {"StoreGetTask", BM_StoreGetTask},
             {"RawGetTask", BM_RawGetTask},
             {"StoreListTasks50", BM_StoreListTasks50},
             {"RawListTasks50", BM_RawListTasks50},
             {"StoreCreateTask", BM_StoreCreateTask},
             {"RawInsertTask", BM_RawInsertTask},
         }) {
      // Real time: on a file most of a write is spent waiting for fsync.
      benchmark::RegisterBenchmark(absl::StrCat(name, "/", db).c_str(), function, db)
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
