// The whole benchmark matrix in one run: the no-op RPC baseline, the raw
// database baselines and the service (task_server) on each backend, each
// method at each concurrency, then one table with every figure and its
// ratio to its baselines, and the server's memory.
//
//   ./bazelw run -c opt //bench:matrix            # ~7 minutes
//   ./bazelw run -c opt //bench:matrix -- --quick # ~2.5 minutes, smoke run
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "bench/bench_environment.h"
#include "bench/bench_process.h"
#include "bench/db_baseline.h"
#include "bench/load_generator.h"
#include "bench/run_stats.h"
#include "bench/workload.h"

ABSL_FLAG(bool, quick, false,
          "Smoke run: 0.2s warm-ups and 1s per figure instead of the flags.");
ABSL_FLAG(absl::Duration, warmup, absl::Milliseconds(500),
          "Unmeasured time before each slice.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(4),
          "Measured time per figure.");
ABSL_FLAG(
    int, rounds, 2,
    "Each figure is measured in this many slices (of duration / rounds, each "
    "after its own warm-up), interleaved with all the others.");
ABSL_FLAG(std::vector<std::string>, concurrency,
          std::vector<std::string>({"1", "16", "64"}), "Calls in flight.");
ABSL_FLAG(std::vector<std::string>, backends,
          std::vector<std::string>({"sqlite-file", "sqlite-memory",
                                    "postgres"}),
          "sqlite-file, sqlite-memory, postgres.");
ABSL_FLAG(
    std::vector<std::string>, methods,
    std::vector<std::string>({"GetTask", "ListTasks", "CreateTask",
                              "UpdateTask", "Noop"}),
    "Methods to measure (Noop: the health check, the server's RPC floor).");
ABSL_FLAG(int, setup_tasks, 1000, "Tasks created before each server's runs.");
ABSL_FLAG(int, sqlite_pool_size, 4,
          "task_server --pool_size on a SQLite file.");
ABSL_FLAG(int, postgres_pool_size, 16,
          "task_server --pool_size on PostgreSQL.");
ABSL_FLAG(
    std::vector<std::string>, server_flags, {},
    "More task_server flags, comma-separated (e.g. --completion_queues=2).");
ABSL_FLAG(int, client_threads, 1, "Load generator threads.");
ABSL_FLAG(std::string, server_log_level, "warning",
          "task_server --log_level (info logs one line per call).");
ABSL_FLAG(std::string, scratch_dir, "/var/tmp",
          "Where SQLite files and logs go (keep it on disk, not tmpfs).");

namespace tasks::bench {
namespace {

struct Plan {
  absl::Duration warmup;
  absl::Duration duration;
  std::vector<int> concurrency;
  std::vector<Backend> backends;
  std::vector<Method> methods;
  int sqlite_pool_size;
  int postgres_pool_size;
};

// A raw database figure: backend, operation, connections.
using RawKey = std::tuple<Backend, DbOp, int>;

struct ServiceFigure {
  Backend backend;
  Method method;
  int concurrency;
  RunStats stats;
};

struct MemoryFigure {
  Backend backend;
  MemoryUsage idle;
  int64_t peak_kib = 0;
};

struct Results {
  std::map<std::pair<Method, int>, RunStats> rpc;
  std::map<RawKey, RunStats> raw;
  std::deque<ServiceFigure> service;  // stable addresses for the jobs
  std::vector<MemoryFigure> memory;
};

absl::optional<DbOp> DbOpFor(Method method) {
  switch (method) {
    case Method::kGetTask:
      return DbOp::kGet;
    case Method::kListTasks:
      return DbOp::kList;
    case Method::kCreateTask:
      return DbOp::kInsert;
    case Method::kUpdateTask:
      return DbOp::kUpdate;
    case Method::kNoop:
      return absl::nullopt;
  }
  return absl::nullopt;
}

// The raw connections that match the service at `concurrency`: its pool,
// no more than the calls in flight; SQLite writes have one writer, and
// :memory: is one connection.
int RawConnections(const Plan& plan, Backend backend, DbOp op,
                   int concurrency) {
  switch (backend) {
    case Backend::kSqliteMemory:
      return 1;
    case Backend::kSqliteFile:
      if (op == DbOp::kInsert || op == DbOp::kUpdate) return 1;
      return std::min(concurrency, plan.sqlite_pool_size);
    case Backend::kPostgres:
      return std::min(concurrency, plan.postgres_pool_size);
  }
  return 1;
}

void Progress(const std::string& line) {
  std::fprintf(
      stderr, "[%s] %s\n",
      absl::FormatTime("%H:%M:%S", absl::Now(), absl::LocalTimeZone()).c_str(),
      line.c_str());
}

LoadOptions LoadFor(const Plan& plan, Method method, int concurrency,
                    const ChildProcess& server) {
  LoadOptions options;
  options.server_cpu_clock = [&server] {
    absl::StatusOr<absl::Duration> cpu = server.CpuTime();
    return cpu.ok() ? *cpu : absl::ZeroDuration();
  };
  options.method = method;
  options.concurrency = concurrency;
  options.client_threads = absl::GetFlag(FLAGS_client_threads);
  options.warmup = plan.warmup;
  options.duration = plan.duration;
  return options;
}

// One figure of the matrix: measures a slice of it (warm-up, then
// `duration`) and adds the slice to `result`.
struct Job {
  std::string label;
  std::function<absl::StatusOr<RunStats>(absl::Duration duration)> measure;
  RunStats* result;
  ChildProcess* server;  // checked after each slice; null for raw jobs
};

// The servers of a run and what their jobs use, alive until the end.
struct Setup {
  RunningServer noop;
  Workload synthetic;
  std::map<Backend, RunningServer> task_servers;
  std::map<Backend, Workload> workloads;
  std::map<Backend, RawTableOpener> raw_databases;
  std::vector<Job> jobs;
};

// The raw operations and connection counts `backend`'s figures compare with.
std::vector<std::pair<DbOp, int>> RawRuns(const Plan& plan, Backend backend) {
  std::vector<std::pair<DbOp, int>> runs;
  for (Method method : plan.methods) {
    absl::optional<DbOp> op = DbOpFor(method);
    if (!op) continue;
    for (int c : plan.concurrency) {
      std::pair<DbOp, int> run{*op, RawConnections(plan, backend, *op, c)};
      if (std::find(runs.begin(), runs.end(), run) == runs.end())
        runs.push_back(run);
    }
  }
  return runs;
}

absl::StatusOr<RunningServer> StartTaskServer(const Plan& plan, Backend backend,
                                              BenchEnvironment& env) {
  absl::StatusOr<std::string> db = env.Database(backend, "service");
  if (!db.ok()) return db.status();
  std::vector<std::string> args = {
      absl::StrCat("--db=", *db),
      absl::StrCat("--log_level=", absl::GetFlag(FLAGS_server_log_level))};
  if (backend == Backend::kSqliteFile) {
    args.push_back(absl::StrCat("--pool_size=", plan.sqlite_pool_size));
  } else if (backend == Backend::kPostgres) {
    args.push_back(absl::StrCat("--pool_size=", plan.postgres_pool_size));
  }
  for (const std::string& flag : absl::GetFlag(FLAGS_server_flags))
    args.push_back(flag);
  return env.StartServer(
      "service/task_server", args,
      absl::StrCat("task_server-", BackendName(backend), ".log"));
}

// Starts every server (the no-op one and a task_server per backend, each
// idle while the others are measured), prepares the databases and lists the
// jobs: the no-op figures, then per backend its raw figures and its service
// figures.
absl::Status Prepare(const Plan& plan, BenchEnvironment& env, Setup& setup,
                     Results& results) {
  absl::StatusOr<RunningServer> noop =
      env.StartServer("bench/noop_server", {}, "noop_server.log");
  if (!noop.ok()) return noop.status();
  setup.noop = *std::move(noop);
  setup.synthetic = SyntheticWorkload(absl::GetFlag(FLAGS_setup_tasks));
  for (Method method : plan.methods) {
    for (int c : plan.concurrency) {
      RunStats* result = &results.rpc[{method, c}];
      setup.jobs.push_back(
          {absl::StrCat("no-op ", MethodName(method), " c=", c),
           [&plan, &setup, method,
            c](absl::Duration duration) -> absl::StatusOr<RunStats> {
             LoadOptions options =
                 LoadFor(plan, method, c, *setup.noop.process);
             options.duration = duration;
             return RunLoad(setup.noop.channel, setup.synthetic, options);
           },
           result, setup.noop.process.get()});
    }
  }

  for (Backend backend : plan.backends) {
    const std::vector<std::pair<DbOp, int>> raw_runs = RawRuns(plan, backend);
    if (!raw_runs.empty()) {
      absl::StatusOr<std::string> db = env.Database(backend, "raw");
      if (!db.ok()) return db.status();
      absl::StatusOr<RawTableOpener> open =
          PrepareRawDatabase(*db, env.scratch_dir());
      if (!open.ok()) return open.status();
      setup.raw_databases[backend] = *std::move(open);
    }
    for (const auto& [op, connections] : raw_runs) {
      RunStats* result = &results.raw[{backend, op, connections}];
      setup.jobs.push_back(
          {absl::StrCat("raw ", BackendName(backend), " ", DbOpName(op), " x",
                        connections),
           [&plan, &setup, backend, op = op, connections = connections](
               absl::Duration duration) -> absl::StatusOr<RunStats> {
             DbBaselineOptions options;
             options.op = op;
             options.connections = connections;
             options.warmup = plan.warmup;
             options.duration = duration;
             options.seed_tasks = absl::GetFlag(FLAGS_setup_tasks);
             return RunDbBaseline(setup.raw_databases.at(backend), options);
           },
           result, nullptr});
    }

    absl::StatusOr<RunningServer> server = StartTaskServer(plan, backend, env);
    if (!server.ok()) return server.status();
    MemoryFigure memory{backend};
    if (auto idle = server->process->Memory(); idle.ok()) memory.idle = *idle;
    results.memory.push_back(memory);
    absl::StatusOr<Workload> workload =
        PrepareWorkload(server->channel, absl::GetFlag(FLAGS_setup_tasks));
    if (!workload.ok()) return workload.status();
    setup.workloads[backend] = *std::move(workload);
    setup.task_servers[backend] = *std::move(server);
    const RunningServer& task_server = setup.task_servers[backend];

    for (Method method : plan.methods) {
      for (int c : plan.concurrency) {
        results.service.push_back({backend, method, c, RunStats()});
        setup.jobs.push_back(
            {absl::StrCat(BackendName(backend), " ", MethodName(method),
                          " c=", c),
             [&plan, &setup, &task_server, backend, method,
              c](absl::Duration duration) -> absl::StatusOr<RunStats> {
               LoadOptions options =
                   LoadFor(plan, method, c, *task_server.process);
               options.duration = duration;
               return RunLoad(task_server.channel, setup.workloads.at(backend),
                              options);
             },
             &results.service.back().stats, task_server.process.get()});
      }
    }
  }
  return absl::OkStatus();
}

// Measures every job in `rounds` slices of duration / rounds, going through
// the list forwards and backwards in turn: each figure and its baselines see
// the same mix of the machine's quiet and busy moments.
absl::Status RunRounds(const Plan& plan, int rounds, std::vector<Job>& jobs) {
  const absl::Duration slice = plan.duration / rounds;
  for (int round = 0; round < rounds; ++round) {
    for (size_t i = 0; i < jobs.size(); ++i) {
      Job& job = jobs[round % 2 == 0 ? i : jobs.size() - 1 - i];
      absl::StatusOr<RunStats> stats = job.measure(slice);
      if (!stats.ok()) return stats.status();
      Progress(absl::StrCat(job.label, " (", round + 1, "/", rounds,
                            "): ", FormatRunStats(*stats, "op")));
      job.result->Append(*stats);
      if (job.server != nullptr && !job.server->Running()) {
        return absl::InternalError(
            absl::StrCat("the server exited during ", job.label));
      }
    }
  }
  return absl::OkStatus();
}

// Peak memory of each task_server after all its runs, then stops them.
void Finish(Setup& setup, Results& results) {
  for (MemoryFigure& memory : results.memory) {
    auto it = setup.task_servers.find(memory.backend);
    if (it == setup.task_servers.end()) continue;
    if (auto peak = it->second.process->Memory(); peak.ok())
      memory.peak_kib = peak->peak_kib;
    if (absl::Status stopped = it->second.process->Stop(); !stopped.ok()) {
      Progress(absl::StrCat("task_server on ", BackendName(memory.backend),
                            " did not stop cleanly: ", stopped.ToString()));
    }
  }
}

std::string Ms(absl::Duration d) {
  return absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(d));
}

// CPU time per operation in microseconds; "-" when not measured.
std::string CpuUs(absl::Duration per_op) {
  if (per_op <= absl::ZeroDuration()) return "-";
  return absl::StrFormat("%.1f", absl::ToDoubleMicroseconds(per_op));
}

absl::optional<double> Ratio(double value, double baseline) {
  if (baseline <= 0) return absl::nullopt;
  return value / baseline;
}

// The service figure over the no-op server's for the same method and
// concurrency.
absl::optional<double> VsRpc(const Results& results,
                             const ServiceFigure& figure) {
  auto it = results.rpc.find({figure.method, figure.concurrency});
  if (it == results.rpc.end()) return absl::nullopt;
  return Ratio(figure.stats.PerSecond(), it->second.PerSecond());
}

struct DbComparison {
  double ratio;
  std::string baseline;  // "insert x1"
  double baseline_per_second;
};

// The service figure over the raw database operation it matches.
absl::optional<DbComparison> VsDb(const Plan& plan, const Results& results,
                                  const ServiceFigure& figure) {
  absl::optional<DbOp> op = DbOpFor(figure.method);
  if (!op) return absl::nullopt;
  const int connections =
      RawConnections(plan, figure.backend, *op, figure.concurrency);
  auto it = results.raw.find({figure.backend, *op, connections});
  if (it == results.raw.end()) return absl::nullopt;
  absl::optional<double> ratio =
      Ratio(figure.stats.PerSecond(), it->second.PerSecond());
  if (!ratio) return absl::nullopt;
  return DbComparison{*ratio, absl::StrCat(DbOpName(*op), " x", connections),
                      it->second.PerSecond()};
}

// The best ratio to the raw database a service figure could reach in this
// run, given the RPC limit measured alongside: with one call in flight, each
// call is a round trip and then a database operation, one after the other
// (rpc / (rpc + db)); with more, the service cannot outrun the no-op server
// (rpc / db).
absl::optional<double> DbCeiling(const Results& results,
                                 const ServiceFigure& figure,
                                 const DbComparison& db) {
  auto it = results.rpc.find({figure.method, figure.concurrency});
  if (it == results.rpc.end() || db.baseline_per_second <= 0)
    return absl::nullopt;
  const double rpc = it->second.PerSecond();
  const double raw = db.baseline_per_second;
  return figure.concurrency == 1 ? rpc / (rpc + raw) : rpc / raw;
}

const ServiceFigure* FindFigure(const Results& results, Backend backend,
                                Method method, int concurrency) {
  for (const ServiceFigure& figure : results.service) {
    if (figure.backend == backend && figure.method == method &&
        figure.concurrency == concurrency) {
      return &figure;
    }
  }
  return nullptr;
}

// The performance targets the service is held to, each checked against the
// figures of this run that it needs (skipped when they were not measured).
void PrintTargets(const Plan& plan, const Results& results) {
  struct Check {
    std::string what;
    absl::optional<double> value;
    double at_least;
    absl::optional<double> ceiling;  // For ratios to the raw database.
  };
  std::vector<Check> checks;
  for (int c : {16, 64}) {
    if (const ServiceFigure* f =
            FindFigure(results, Backend::kSqliteFile, Method::kGetTask, c)) {
      checks.push_back(
          {absl::StrCat("sqlite-file GetTask c=", c, " vs no-op RPC"),
           VsRpc(results, *f), 0.8});
    }
  }
  for (int c : plan.concurrency) {
    if (const ServiceFigure* f =
            FindFigure(results, Backend::kSqliteFile, Method::kCreateTask, c)) {
      absl::optional<DbComparison> db = VsDb(plan, results, *f);
      // At 64 calls in flight grouped commits must beat one writer.
      const double at_least = c >= 64 ? 1.0 : 0.7;
      checks.push_back({absl::StrCat("sqlite-file CreateTask c=", c, " vs raw ",
                                     db ? db->baseline : "insert"),
                        db ? absl::optional<double>(db->ratio) : absl::nullopt,
                        at_least,
                        db ? DbCeiling(results, *f, *db) : absl::nullopt});
    }
  }
  for (Method method : {Method::kCreateTask, Method::kGetTask}) {
    for (int c : plan.concurrency) {
      if (const ServiceFigure* f =
              FindFigure(results, Backend::kPostgres, method, c)) {
        absl::optional<DbComparison> db = VsDb(plan, results, *f);
        checks.push_back(
            {absl::StrCat("postgres ", MethodName(method), " c=", c, " vs raw ",
                          db ? db->baseline : "libpq"),
             db ? absl::optional<double>(db->ratio) : absl::nullopt, 0.7,
             db ? DbCeiling(results, *f, *db) : absl::nullopt});
      }
    }
  }
  std::printf(
      "\nTargets: ratio >= the bound (memory: MiB <= the bound); \"ceiling\": "
      "the best ratio "
      "to the raw database this run's RPC limit allows\n");
  std::printf("  %-46s %8s %8s %8s  %s\n", "figure", "value", "bound",
              "ceiling", "");
  for (const Check& check : checks) {
    const char* verdict = !check.value                     ? "not measured"
                          : *check.value >= check.at_least ? "met"
                          : check.ceiling && *check.ceiling < check.at_least
                              ? "MISSED (ceiling below the bound)"
                              : "MISSED";
    std::printf(
        "  %-46s %8s %8s %8s  %s\n", check.what.c_str(),
        check.value ? absl::StrFormat("%.2f", *check.value).c_str() : "-",
        absl::StrFormat(">= %.1f", check.at_least).c_str(),
        check.ceiling ? absl::StrFormat("%.2f", *check.ceiling).c_str() : "-",
        verdict);
  }
  for (const MemoryFigure& m : results.memory) {
    const double idle = m.idle.rss_kib / 1024.0;
    const double peak = m.peak_kib / 1024.0;
    std::printf(
        "  %-46s %8.1f %8s %8s  %s\n",
        absl::StrCat(BackendName(m.backend), " task_server RSS idle").c_str(),
        idle, "<= 64", "-", idle <= 64 ? "met" : "MISSED");
    std::printf(
        "  %-46s %8.1f %8s %8s  %s\n",
        absl::StrCat(BackendName(m.backend), " task_server RSS peak").c_str(),
        peak, "<= 256", "-", peak <= 256 ? "met" : "MISSED");
  }
}

std::string ErrorText(const RunStats& stats) {
  if (stats.errors.empty()) return "0";
  std::vector<std::string> parts;
  for (const auto& [cause, n] : stats.errors)
    parts.push_back(absl::StrCat(cause, "=", n));
  return absl::StrJoin(parts, ",");
}

void PrintTable(const Plan& plan, const Results& results) {
  std::printf(
      "\nRPC baseline: no-op server (async completion queue, one thread, "
      "pre-serialized responses of the service's size)\n");
  std::printf("  %-12s %5s %10s %9s %9s %9s %9s %8s %8s  %s\n", "method",
              "conc", "req/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms",
              "srv us", "cli us", "errors");
  for (const auto& [key, stats] : results.rpc) {
    std::printf("  %-12s %5d %10.0f %9s %9s %9s %9s %8s %8s  %s\n",
                std::string(MethodName(key.first)).c_str(), key.second,
                stats.PerSecond(), Ms(stats.latency.Percentile(50)).c_str(),
                Ms(stats.latency.Percentile(90)).c_str(),
                Ms(stats.latency.Percentile(99)).c_str(),
                Ms(stats.latency.Percentile(99.9)).c_str(),
                CpuUs(stats.ServerCpuPerOp()).c_str(),
                CpuUs(stats.ClientCpuPerOp()).c_str(),
                ErrorText(stats).c_str());
  }

  std::printf(
      "\nDatabase baseline: the store's statements through the sqlite3 C API / "
      "libpq, prepared once, single-row commits, same durability\n");
  std::printf("  %-14s %-7s %5s %10s %9s %9s %9s %8s  %s\n", "database", "op",
              "conns", "ops/s", "p50 ms", "p99 ms", "p99.9 ms", "cli us",
              "errors");
  for (const auto& [key, stats] : results.raw) {
    const auto& [backend, op, connections] = key;
    std::printf("  %-14s %-7s %5d %10.0f %9s %9s %9s %8s  %s\n",
                std::string(BackendName(backend)).c_str(),
                std::string(DbOpName(op)).c_str(), connections,
                stats.PerSecond(), Ms(stats.latency.Percentile(50)).c_str(),
                Ms(stats.latency.Percentile(99)).c_str(),
                Ms(stats.latency.Percentile(99.9)).c_str(),
                CpuUs(stats.ClientCpuPerOp()).c_str(),
                ErrorText(stats).c_str());
  }

  std::printf(
      "\nService: task_server; \"vs RPC\" = req/s over the no-op server's for "
      "the "
      "same method and concurrency, \"vs DB\" = over the raw operation\n");
  std::printf("  %-14s %-11s %5s %10s %9s %9s %9s %9s %8s %7s  %-16s  %s\n",
              "backend", "method", "conc", "req/s", "p50 ms", "p90 ms",
              "p99 ms", "p99.9 ms", "srv us", "vs RPC", "vs DB (op xN)",
              "errors");
  for (const ServiceFigure& figure : results.service) {
    const RunStats& stats = figure.stats;
    const absl::optional<double> rpc_ratio = VsRpc(results, figure);
    const std::string vs_rpc =
        rpc_ratio ? absl::StrFormat("%.2f", *rpc_ratio) : "-";
    std::string vs_db = "-";
    if (absl::optional<DbComparison> db = VsDb(plan, results, figure)) {
      vs_db = absl::StrFormat("%.2f (%s)", db->ratio, db->baseline);
    }
    std::printf("  %-14s %-11s %5d %10.0f %9s %9s %9s %9s %8s %7s  %-16s  %s\n",
                std::string(BackendName(figure.backend)).c_str(),
                std::string(MethodName(figure.method)).c_str(),
                figure.concurrency, stats.PerSecond(),
                Ms(stats.latency.Percentile(50)).c_str(),
                Ms(stats.latency.Percentile(90)).c_str(),
                Ms(stats.latency.Percentile(99)).c_str(),
                Ms(stats.latency.Percentile(99.9)).c_str(),
                CpuUs(stats.ServerCpuPerOp()).c_str(), vs_rpc.c_str(),
                vs_db.c_str(), ErrorText(stats).c_str());
  }

  std::printf(
      "\nMemory: task_server resident set (idle: VmRSS after start; "
      "peak: VmHWM after all its runs)\n");
  std::printf("  %-14s %10s %10s\n", "backend", "idle MiB", "peak MiB");
  for (const MemoryFigure& m : results.memory) {
    std::printf("  %-14s %10.1f %10.1f\n",
                std::string(BackendName(m.backend)).c_str(),
                m.idle.rss_kib / 1024.0, m.peak_kib / 1024.0);
  }
  PrintTargets(plan, results);
}

absl::StatusOr<Plan> MakePlan() {
  Plan plan;
  const bool quick = absl::GetFlag(FLAGS_quick);
  plan.warmup = quick ? absl::Milliseconds(200) : absl::GetFlag(FLAGS_warmup);
  plan.duration = quick ? absl::Seconds(1) : absl::GetFlag(FLAGS_duration);
  if (absl::GetFlag(FLAGS_rounds) < 1)
    return absl::InvalidArgumentError("--rounds must be >= 1");
  plan.sqlite_pool_size = absl::GetFlag(FLAGS_sqlite_pool_size);
  plan.postgres_pool_size = absl::GetFlag(FLAGS_postgres_pool_size);
  for (const std::string& c : absl::GetFlag(FLAGS_concurrency)) {
    int value = 0;
    if (!absl::SimpleAtoi(c, &value) || value < 1) {
      return absl::InvalidArgumentError(absl::StrCat("bad --concurrency ", c));
    }
    plan.concurrency.push_back(value);
  }
  for (const std::string& name : absl::GetFlag(FLAGS_backends)) {
    absl::optional<Backend> backend = ParseBackend(name);
    if (!backend)
      return absl::InvalidArgumentError(absl::StrCat("bad --backends ", name));
    plan.backends.push_back(*backend);
  }
  for (const std::string& name : absl::GetFlag(FLAGS_methods)) {
    absl::optional<Method> method = ParseMethod(name);
    if (!method)
      return absl::InvalidArgumentError(absl::StrCat("bad --methods ", name));
    plan.methods.push_back(*method);
  }
  return plan;
}

std::string LoadAverage() {
  std::ifstream file("/proc/loadavg");
  std::string line;
  std::getline(file, line);
  return line;
}

int Main(const char* argv0) {
  absl::StatusOr<Plan> plan = MakePlan();
  if (!plan.ok()) {
    std::fprintf(stderr, "matrix: %s\n", plan.status().ToString().c_str());
    return 2;
  }
  absl::StatusOr<std::unique_ptr<BenchEnvironment>> env =
      BenchEnvironment::Create(argv0, absl::GetFlag(FLAGS_scratch_dir));
  if (!env.ok()) {
    std::fprintf(stderr, "matrix: %s\n", env.status().ToString().c_str());
    return 1;
  }
  const std::string load_before = LoadAverage();
  Progress(absl::StrCat("cores: ", sysconf(_SC_NPROCESSORS_ONLN), ", load: ",
                        load_before, ", scratch: ", (*env)->scratch_dir()));
  for (const std::string& warning : (*env)->Warnings())
    Progress("warning: " + warning);

  Results results;
  Setup setup;
  absl::Status status = Prepare(*plan, **env, setup, results);
  if (status.ok())
    status = RunRounds(*plan, absl::GetFlag(FLAGS_rounds), setup.jobs);
  Finish(setup, results);

  std::printf(
      "Benchmark matrix: %ld cores, load average before %s, after %s; "
      "%s measured per figure in %d interleaved slices, each after a %s "
      "warm-up; "
      "client: %d thread(s)\n",
      sysconf(_SC_NPROCESSORS_ONLN), load_before.c_str(), LoadAverage().c_str(),
      absl::FormatDuration(plan->duration).c_str(), absl::GetFlag(FLAGS_rounds),
      absl::FormatDuration(plan->warmup).c_str(),
      absl::GetFlag(FLAGS_client_threads));
  PrintTable(*plan, results);
  if (!status.ok()) {
    std::fprintf(stderr, "matrix: stopped early: %s\n",
                 status.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace tasks::bench

int main(int argc, char** argv) {
  tasks::bench::InitBenchProcess(argc, argv);
  return tasks::bench::Main(argv[0]);
}
