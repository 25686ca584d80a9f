// The whole benchmark matrix in one run: the no-op RPC baseline, the raw
// database baselines and the service (task_server) on each backend, each
// method at each concurrency, then one table with every figure and its
// ratio to its baselines, and the server's memory. With --compare_server,
// every service figure also on another task_server binary ("before"), side
// by side with the built one ("after").
//
//   ./bazelw run -c opt //bench:matrix            # ~7 minutes
//   ./bazelw run -c opt //bench:matrix -- --quick # ~2.5 minutes, smoke run
#include <libpq-fe.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
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
#include "bench/busy_threads.h"
#include "bench/child_process.h"
#include "bench/db_baseline.h"
#include "bench/load_generator.h"
#include "bench/machine_state.h"
#include "bench/run_stats.h"
#include "bench/table_cells.h"
#include "bench/watch_load.h"
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
ABSL_FLAG(int, busy_threads, 0,
          "Threads spinning through the whole run, as another tenant's work "
          "would: which ratios hold on a busy machine (1 on 2 cores: half "
          "of it taken).");
ABSL_FLAG(std::string, server_log_level, "",
          "task_server --log_level; empty: none passed, the server's own "
          "default (info, one log line per call), as users run it.");
ABSL_FLAG(std::string, compare_server, "",
          "Path to another task_server binary (e.g. built from an older "
          "commit): every service figure is measured on it too (\"before\"), "
          "next to the built one (\"after\"), in the same rounds.");
ABSL_FLAG(std::vector<std::string>, features,
          std::vector<std::string>({"IdleWatchers", "EventLatency",
                                    "ListFilter"}),
          "Figures of features, each with its baseline on the same server "
          "(empty: none): IdleWatchers (CreateTask with --idle_watchers "
          "WatchTasks streams open vs none), EventLatency (a write's reply "
          "to its event at a watcher, at --event_rate writes/s), ListFilter "
          "(ListTasks by filter string vs the typed fields).");
ABSL_FLAG(int, idle_watchers, 100,
          "WatchTasks streams open beside CreateTask in the IdleWatchers "
          "figure, watching a project nothing is written to.");
ABSL_FLAG(int, feature_concurrency, 16,
          "Calls in flight in the IdleWatchers and ListFilter figures.");
ABSL_FLAG(int, event_rate, 1000,
          "CreateTask calls per second (paced) in the EventLatency figure.");
ABSL_FLAG(std::string, scratch_dir, "/var/tmp",
          "Where SQLite files and logs go (keep it on disk, not tmpfs).");

namespace tasks::bench {
namespace {

// Figures of one feature each, measured on the built server only.
enum class Feature { kIdleWatchers, kEventLatency, kListFilter };

absl::optional<Feature> ParseFeature(absl::string_view name) {
  if (name == "IdleWatchers") return Feature::kIdleWatchers;
  if (name == "EventLatency") return Feature::kEventLatency;
  if (name == "ListFilter") return Feature::kListFilter;
  return absl::nullopt;
}

// Which task_server a service figure is of: the one built with the matrix,
// or the --compare_server binary.
enum class Version { kAfter, kBefore };

absl::string_view VersionName(Version version) {
  return version == Version::kAfter ? "after" : "before";
}

// "12.5%", or "-" when not sampled.
std::string PercentText(absl::optional<double> percent) {
  return percent ? absl::StrCat(FormatPercent(percent), "%") : "-";
}

struct Plan {
  absl::Duration warmup;
  absl::Duration duration;
  std::vector<int> concurrency;
  std::vector<Backend> backends;
  std::vector<Method> methods;
  int sqlite_pool_size;
  int postgres_pool_size;
  // Absolute; empty when not comparing.
  std::string compare_server;
  // kAfter, then kBefore when comparing.
  std::vector<Version> versions;
  std::vector<Feature> features;
  int idle_watchers;
  int feature_concurrency;
  int event_rate;
};

// A figure's slices, and the machine's state while they were measured.
struct Figure {
  RunStats stats;
  MachineWindow machine;
};

// A raw database figure: backend, operation, connections.
using RawKey = std::tuple<Backend, DbOp, int>;

struct ServiceFigure {
  Backend backend;
  Version version;
  Method method;
  int concurrency;
  RunStats stats;
  MachineWindow machine;
};

struct MemoryFigure {
  Backend backend;
  Version version;
  MemoryUsage idle;
  int64_t peak_kib = 0;
};

// A feature's figure and its baseline, on the same server, the two measured
// one after the other in every round; compared as req/s.
struct PairFigure {
  Backend backend;
  Feature feature;
  std::string baseline_label;  // "CreateTask c=16, no watchers"
  std::string label;           // "CreateTask c=16, 100 idle watchers"
  Figure baseline;
  Figure figure;
};

struct Results {
  std::map<std::pair<Method, int>, Figure> rpc;
  std::map<RawKey, Figure> raw;
  std::deque<ServiceFigure> service;  // stable addresses for the jobs
  std::vector<MemoryFigure> memory;
  std::deque<PairFigure> pairs;  // stable addresses for the jobs
  // EventLatency per backend: ok = events, latency = reply to event.
  std::map<Backend, Figure> event_latency;
  // The machine while nothing of the matrix ran yet, during each round, and
  // over all rounds.
  MachineWindow idle_machine;
  std::vector<MachineWindow> rounds;
  MachineWindow run;
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
// `duration`) and adds the slice, and the machine's state around it, to
// `result` and `machine`.
struct Job {
  std::string label;
  std::function<absl::StatusOr<RunStats>(absl::Duration duration)> measure;
  RunStats* result;
  MachineWindow* machine;
  ChildProcess* server;  // checked after each slice; null for raw jobs
};

using ServerKey = std::pair<Backend, Version>;

// The servers of a run and what their jobs use, alive until the end.
struct Setup {
  RunningServer noop;
  Workload synthetic;
  std::map<ServerKey, RunningServer> task_servers;
  std::map<ServerKey, std::string> databases;  // each task_server's --db
  std::map<ServerKey, Workload> workloads;
  std::map<Backend, RawTableOpener> raw_databases;
  // Per backend, a project no figure writes to: what idle watchers watch.
  std::map<Backend, int64_t> idle_projects;
  // Per backend, the workloads the IdleWatchers and event latency figures
  // write with, each in a project of its own (WritesOfTheirOwn).
  std::map<Backend, Workload> watched_writes;
  std::map<Backend, Workload> latency_writes;
  // The idle watchers' program, and where their files go.
  std::string idle_watchers_program;
  std::string scratch_dir;
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

// Starts `version`'s task_server on a database of its own, whose connection
// string it sets in `*database`; both versions get the same flags.
absl::StatusOr<RunningServer> StartTaskServer(const Plan& plan, Backend backend,
                                              Version version,
                                              BenchEnvironment& env,
                                              std::string* database) {
  absl::StatusOr<std::string> db = env.Database(
      backend, version == Version::kAfter ? "service" : "service_before");
  if (!db.ok()) return db.status();
  *database = *db;
  std::vector<std::string> args = {absl::StrCat("--db=", *db)};
  // Unset, the server logs as users run it (its default).
  if (const std::string level = absl::GetFlag(FLAGS_server_log_level);
      !level.empty()) {
    args.push_back(absl::StrCat("--log_level=", level));
  }
  if (backend == Backend::kSqliteFile) {
    args.push_back(absl::StrCat("--pool_size=", plan.sqlite_pool_size));
  } else if (backend == Backend::kPostgres) {
    args.push_back(absl::StrCat("--pool_size=", plan.postgres_pool_size));
  }
  for (const std::string& flag : absl::GetFlag(FLAGS_server_flags))
    args.push_back(flag);
  if (version == Version::kBefore) {
    return env.StartServerAt(
        plan.compare_server, args,
        absl::StrCat("task_server-before-", BackendName(backend), ".log"));
  }
  return env.StartServer(
      "service/task_server", args,
      absl::StrCat("task_server-", BackendName(backend), ".log"));
}

// VACUUM ANALYZE on the PostgreSQL database `conninfo`.
absl::Status Vacuum(const std::string& conninfo) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> connection(
      PQconnectdb(conninfo.c_str()), &PQfinish);
  if (PQstatus(connection.get()) != CONNECTION_OK) {
    return absl::UnavailableError(absl::StrCat(
        "connecting to vacuum: ", PQerrorMessage(connection.get())));
  }
  std::unique_ptr<PGresult, decltype(&PQclear)> result(
      PQexec(connection.get(), "VACUUM ANALYZE"), &PQclear);
  if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
    return absl::InternalError(
        absl::StrCat("VACUUM ANALYZE: ", PQerrorMessage(connection.get())));
  }
  return absl::OkStatus();
}

// "sqlite-file GetTask c=16", with " before" / " after" when comparing.
std::string ServiceLabel(const Plan& plan, Backend backend, Version version,
                         Method method, int concurrency) {
  std::string label = absl::StrCat(BackendName(backend), " ",
                                   MethodName(method), " c=", concurrency);
  if (!plan.compare_server.empty())
    absl::StrAppend(&label, " ", VersionName(version));
  return label;
}

// Idle watchers in a process of their own, as clients' are: in the load
// generator's they would add a poller thread competing with its own.
// Returns once every stream is established.
absl::StatusOr<std::unique_ptr<ChildProcess>> StartIdleWatchers(
    const Plan& plan, const Setup& setup, const RunningServer& server,
    int64_t idle_project) {
  static int started = 0;
  const std::string base =
      absl::StrCat(setup.scratch_dir, "/idle_watchers_", ++started);
  const std::string ready_file = base + ".ready";
  absl::StatusOr<std::unique_ptr<ChildProcess>> watchers = ChildProcess::Start(
      {setup.idle_watchers_program, absl::StrCat("--target=", server.target),
       absl::StrCat("--count=", plan.idle_watchers),
       absl::StrCat("--project_id=", idle_project),
       absl::StrCat("--ready_file=", ready_file)},
      base + ".log");
  if (!watchers.ok()) return watchers.status();
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (access(ready_file.c_str(), F_OK) != 0) {
    if (!(*watchers)->Running() || absl::Now() > give_up) {
      return absl::UnavailableError(absl::StrCat(
          "the idle watchers did not start (log: ", base, ".log)"));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  return watchers;
}

// A load on `server` with `options`, with --idle_watchers WatchTasks streams
// open through it when `watchers` is true.
absl::StatusOr<RunStats> RunLoadBesideWatchers(
    const Plan& plan, const Setup& setup, const RunningServer& server,
    const Workload& workload, const LoadOptions& options, bool watchers,
    int64_t idle_project) {
  std::unique_ptr<ChildProcess> open;
  if (watchers) {
    absl::StatusOr<std::unique_ptr<ChildProcess>> started =
        StartIdleWatchers(plan, setup, server, idle_project);
    if (!started.ok()) return started.status();
    open = *std::move(started);
  }
  RunStats stats = RunLoad(server.channel, workload, options);
  // It exits non-zero when the server ended one of its streams.
  if (open != nullptr && !open->Stop().ok()) stats.errors["WATCH_ENDED"] += 1;
  return stats;
}

// `base` writing to a new project of its own: the features' writes leave
// the setup project, which the ListTasks figures list, at its size (with
// them there, PostgreSQL's statistics lagged the table until autovacuum's
// next analyze, and the ListTasks figures of the same run fell to a tenth).
absl::StatusOr<Workload> WritesOfTheirOwn(const RunningServer& server,
                                          const Workload& base) {
  absl::StatusOr<int64_t> project = CreateBenchProject(
      server.channel, absl::StrCat("writes-", NewWorkloadTag()));
  if (!project.ok()) return project.status();
  Workload writes = base;
  writes.project_id = *project;
  return writes;
}

// The jobs of --features on `backend`'s built server: each pair's two
// figures one after the other, and the event latency.
absl::Status AddFeatureJobs(const Plan& plan, Backend backend, Setup& setup,
                            Results& results) {
  const ServerKey key{backend, Version::kAfter};
  const RunningServer& server = setup.task_servers[key];
  const std::string name(BackendName(backend));
  const int c = plan.feature_concurrency;
  for (Feature feature : plan.features) {
    if (feature == Feature::kEventLatency) {
      absl::StatusOr<Workload> writes =
          WritesOfTheirOwn(server, setup.workloads.at(key));
      if (!writes.ok()) return writes.status();
      setup.latency_writes[backend] = *std::move(writes);
      Figure* figure = &results.event_latency[backend];
      setup.jobs.push_back(
          {absl::StrCat(name, " event latency at ", plan.event_rate,
                        " writes/s"),
           [&plan, &setup, &server,
            backend](absl::Duration duration) -> absl::StatusOr<RunStats> {
             EventLatencyOptions options;
             options.writes_per_second = plan.event_rate;
             options.warmup = plan.warmup;
             options.duration = duration;
             options.server_cpu_clock = [&server] {
               absl::StatusOr<absl::Duration> cpu = server.process->CpuTime();
               return cpu.ok() ? *cpu : absl::ZeroDuration();
             };
             return RunEventLatency(server.channel,
                                    setup.latency_writes.at(backend), options);
           },
           &figure->stats, &figure->machine, server.process.get()});
      continue;
    }
    PairFigure& pair = results.pairs.emplace_back();
    pair.backend = backend;
    pair.feature = feature;
    const bool watchers = feature == Feature::kIdleWatchers;
    if (watchers) {
      absl::StatusOr<int64_t> idle = CreateBenchProject(
          server.channel, absl::StrCat("idle-", NewWorkloadTag()));
      if (!idle.ok()) return idle.status();
      setup.idle_projects[backend] = *idle;
      absl::StatusOr<Workload> writes =
          WritesOfTheirOwn(server, setup.workloads.at(key));
      if (!writes.ok()) return writes.status();
      setup.watched_writes[backend] = *std::move(writes);
      pair.baseline_label = absl::StrCat("CreateTask c=", c, ", no watchers");
      pair.label = absl::StrCat("CreateTask c=", c, ", ", plan.idle_watchers,
                                " idle watchers");
    } else {
      pair.baseline_label =
          absl::StrCat("ListTasks c=", c, ", project_id+status fields");
      pair.label = absl::StrCat("ListTasks c=", c, ", the same as filter");
    }
    for (bool with_feature : {false, true}) {
      LoadOptions options =
          LoadFor(plan, watchers ? Method::kCreateTask : Method::kListTasks, c,
                  *server.process);
      if (!watchers) {
        options.list_query = with_feature ? ListQuery::kProjectAndStatusFilter
                                          : ListQuery::kProjectAndStatus;
      }
      Figure& figure = with_feature ? pair.figure : pair.baseline;
      setup.jobs.push_back(
          {absl::StrCat(name, " ",
                        with_feature ? pair.label : pair.baseline_label),
           [&plan, &setup, &server, key, options, watchers,
            open_watchers = watchers && with_feature,
            backend](absl::Duration duration) -> absl::StatusOr<RunStats> {
             LoadOptions slice = options;
             slice.duration = duration;
             if (!watchers && backend == Backend::kPostgres) {
               // Each list slice starts from a vacuumed database: the
               // clean-up autovacuum makes after the write figures (tens of
               // thousands of tasks and changes) once landed in one side of
               // the pair and not the other, and moved the ratio by a fifth.
               absl::Status vacuumed = Vacuum(setup.databases.at(key));
               if (!vacuumed.ok()) return vacuumed;
             }
             const Workload& workload = watchers
                                            ? setup.watched_writes.at(backend)
                                            : setup.workloads.at(key);
             return RunLoadBesideWatchers(
                 plan, setup, server, workload, slice, open_watchers,
                 open_watchers ? setup.idle_projects.at(backend) : 0);
           },
           &figure.stats, &figure.machine, server.process.get()});
    }
  }
  return absl::OkStatus();
}

// Starts every server (the no-op one and a task_server per backend and
// version, each idle while the others are measured), prepares the databases
// and lists the jobs: the no-op figures, then per backend its raw figures and
// its service figures, the two versions of a figure one after the other.
absl::Status Prepare(const Plan& plan, BenchEnvironment& env, Setup& setup,
                     Results& results) {
  absl::StatusOr<std::string> idle_watchers =
      env.Program("bench/idle_watchers");
  if (!idle_watchers.ok()) return idle_watchers.status();
  setup.idle_watchers_program = *std::move(idle_watchers);
  setup.scratch_dir = env.scratch_dir();
  absl::StatusOr<RunningServer> noop =
      env.StartServer("bench/noop_server", {}, "noop_server.log");
  if (!noop.ok()) return noop.status();
  setup.noop = *std::move(noop);
  setup.synthetic = SyntheticWorkload(absl::GetFlag(FLAGS_setup_tasks));
  for (Method method : plan.methods) {
    for (int c : plan.concurrency) {
      Figure* result = &results.rpc[{method, c}];
      setup.jobs.push_back(
          {absl::StrCat("no-op ", MethodName(method), " c=", c),
           [&plan, &setup, method,
            c](absl::Duration duration) -> absl::StatusOr<RunStats> {
             LoadOptions options =
                 LoadFor(plan, method, c, *setup.noop.process);
             options.duration = duration;
             return RunLoad(setup.noop.channel, setup.synthetic, options);
           },
           &result->stats, &result->machine, setup.noop.process.get()});
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
      Figure* result = &results.raw[{backend, op, connections}];
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
           &result->stats, &result->machine, nullptr});
    }

    for (Version version : plan.versions) {
      absl::StatusOr<RunningServer> server = StartTaskServer(
          plan, backend, version, env, &setup.databases[{backend, version}]);
      if (!server.ok()) return server.status();
      MemoryFigure memory{backend, version};
      if (auto idle = server->process->Memory(); idle.ok()) memory.idle = *idle;
      results.memory.push_back(memory);
      absl::StatusOr<Workload> workload =
          PrepareWorkload(server->channel, absl::GetFlag(FLAGS_setup_tasks),
                          /*bearer_token=*/"");
      if (!workload.ok()) return workload.status();
      setup.workloads[{backend, version}] = *std::move(workload);
      setup.task_servers[{backend, version}] = *std::move(server);
    }

    for (Method method : plan.methods) {
      for (int c : plan.concurrency) {
        for (Version version : plan.versions) {
          const ServerKey key{backend, version};
          const RunningServer& task_server = setup.task_servers[key];
          results.service.push_back({backend, version, method, c});
          ServiceFigure& figure = results.service.back();
          setup.jobs.push_back(
              {ServiceLabel(plan, backend, version, method, c),
               [&plan, &setup, &task_server, key, method,
                c](absl::Duration duration) -> absl::StatusOr<RunStats> {
                 LoadOptions options =
                     LoadFor(plan, method, c, *task_server.process);
                 options.duration = duration;
                 return RunLoad(task_server.channel, setup.workloads.at(key),
                                options);
               },
               &figure.stats, &figure.machine, task_server.process.get()});
        }
      }
    }
    if (absl::Status added = AddFeatureJobs(plan, backend, setup, results);
        !added.ok()) {
      return added;
    }
  }
  return absl::OkStatus();
}

// Measures every job in `rounds` slices of duration / rounds, going through
// the list forwards and backwards in turn: each figure and its baselines see
// the same mix of the machine's quiet and busy moments. The machine is
// sampled around each slice (warm-up included) and each round.
absl::Status RunRounds(const Plan& plan, int rounds, std::vector<Job>& jobs,
                       Results& results) {
  const absl::Duration slice = plan.duration / rounds;
  for (int round = 0; round < rounds; ++round) {
    const MachineSample round_start = SampleMachine();
    for (size_t i = 0; i < jobs.size(); ++i) {
      Job& job = jobs[round % 2 == 0 ? i : jobs.size() - 1 - i];
      const MachineSample start = SampleMachine();
      absl::StatusOr<RunStats> stats = job.measure(slice);
      if (!stats.ok()) return stats.status();
      MachineWindow machine;
      machine.Add(start, SampleMachine());
      Progress(absl::StrCat(job.label, " (", round + 1, "/", rounds,
                            "): ", FormatRunStats(*stats, "op"), "  ",
                            FormatMachineWindow(machine)));
      job.result->Append(*stats);
      job.machine->Merge(machine);
      if (job.server != nullptr && !job.server->Running()) {
        return absl::InternalError(
            absl::StrCat("the server exited during ", job.label));
      }
    }
    MachineWindow& machine = results.rounds.emplace_back();
    machine.Add(round_start, SampleMachine());
    results.run.Merge(machine);
    Progress(absl::StrCat("round ", round + 1, "/", rounds, ": ",
                          FormatMachineWindow(machine), ", busy ",
                          PercentText(machine.BusyPercent())));
  }
  return absl::OkStatus();
}

// Peak memory of each task_server after all its runs, then stops them.
void Finish(Setup& setup, Results& results) {
  for (MemoryFigure& memory : results.memory) {
    auto it = setup.task_servers.find({memory.backend, memory.version});
    if (it == setup.task_servers.end()) continue;
    if (auto peak = it->second.process->Memory(); peak.ok())
      memory.peak_kib = peak->peak_kib;
    // Closed first: an idle channel of this process never answers the
    // draining server's GOAWAY ping, which would hold it to its drain
    // deadline.
    it->second.channel.reset();
    if (absl::Status stopped = it->second.process->Stop(); !stopped.ok()) {
      Progress(absl::StrCat("task_server (", VersionName(memory.version),
                            ") on ", BackendName(memory.backend),
                            " did not stop cleanly: ", stopped.ToString()));
    }
  }
}

// The service figure over the no-op server's for the same method and
// concurrency.
absl::optional<double> VsRpc(const Results& results,
                             const ServiceFigure& figure) {
  auto it = results.rpc.find({figure.method, figure.concurrency});
  if (it == results.rpc.end()) return absl::nullopt;
  return Ratio(figure.stats.PerSecond(), it->second.stats.PerSecond());
}

struct DbComparison {
  double ratio;
  std::string baseline;  // "insert x1"
  const Figure* raw;
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
      Ratio(figure.stats.PerSecond(), it->second.stats.PerSecond());
  if (!ratio) return absl::nullopt;
  return DbComparison{*ratio, absl::StrCat(DbOpName(*op), " x", connections),
                      &it->second};
}

// The machine's CPU time (all cores, everything that ran) per operation of
// `figure`, in seconds; absent when its busy share was not sampled.
absl::optional<double> MachineCpuPerOp(const Figure& figure) {
  const absl::optional<double> busy = figure.machine.BusyPercent();
  const double per_second = figure.stats.PerSecond();
  if (!busy || per_second <= 0) return absl::nullopt;
  return *busy / 100 * std::thread::hardware_concurrency() / per_second;
}

// The best ratio to the raw database a service figure could reach in this
// run, given the RPC limit measured alongside. With one call in flight, each
// call is a round trip and then a database operation, one after the other:
// rpc / (rpc + db). With more, the service cannot outrun the no-op server,
// nor do more than the machine's cores allow when each call costs the CPU
// of a no-op call and of a raw operation (each measured as the machine's
// busy time per operation of its figure, load generator and database
// included): on a small machine whose cores both baselines fill, that is
// about rpc * db / (rpc + db). None beside --busy_threads, whose share of
// the cores no figure's busy time tells apart.
absl::optional<double> DbCeiling(const Results& results,
                                 const ServiceFigure& figure,
                                 const DbComparison& db) {
  if (absl::GetFlag(FLAGS_busy_threads) > 0) return absl::nullopt;
  auto it = results.rpc.find({figure.method, figure.concurrency});
  const double raw = db.raw->stats.PerSecond();
  if (it == results.rpc.end() || raw <= 0) return absl::nullopt;
  const double rpc = it->second.stats.PerSecond();
  if (figure.concurrency == 1) return rpc / (rpc + raw);
  double best = rpc;
  const absl::optional<double> rpc_cpu = MachineCpuPerOp(it->second);
  const absl::optional<double> db_cpu = MachineCpuPerOp(*db.raw);
  if (rpc_cpu && db_cpu && *rpc_cpu + *db_cpu > 0) {
    best = std::min(best,
                    std::thread::hardware_concurrency() / (*rpc_cpu + *db_cpu));
  }
  return best / raw;
}

const ServiceFigure* FindFigure(const Results& results, Backend backend,
                                Method method, int concurrency,
                                Version version = Version::kAfter) {
  for (const ServiceFigure& figure : results.service) {
    if (figure.backend == backend && figure.method == method &&
        figure.concurrency == concurrency && figure.version == version) {
      return &figure;
    }
  }
  return nullptr;
}

// The performance targets the service is held to, each checked against the
// built server's figures of this run that it needs (skipped when they were
// not measured).
void PrintTargets(const Plan& plan, const Results& results) {
  struct Check {
    std::string what;
    absl::optional<double> value;
    double bound;
    absl::optional<double> ceiling;  // For ratios to the raw database.
    // The value must be at most the bound (a latency), not at least.
    bool at_most = false;
  };
  std::vector<Check> checks;
  // A service figure over its raw database operation, at least `bound`.
  auto vs_db = [&](Backend backend, Method method, int c, double bound) {
    const ServiceFigure* f = FindFigure(results, backend, method, c);
    if (f == nullptr) return;
    absl::optional<DbComparison> db = VsDb(plan, results, *f);
    checks.push_back(
        {absl::StrCat(BackendName(backend), " ", MethodName(method), " c=", c,
                      " vs raw ", db ? db->baseline : "database"),
         db ? absl::optional<double>(db->ratio) : absl::nullopt, bound,
         db ? DbCeiling(results, *f, *db) : absl::nullopt});
  };
  for (int c : {16, 64}) {
    if (const ServiceFigure* f =
            FindFigure(results, Backend::kSqliteFile, Method::kGetTask, c)) {
      checks.push_back(
          {absl::StrCat("sqlite-file GetTask c=", c, " vs no-op RPC"),
           VsRpc(results, *f), 0.8});
    }
  }
  // Twice as cheap as the 104 us per page measured before the PostgreSQL
  // path's rework.
  if (const ServiceFigure* f =
          FindFigure(results, Backend::kSqliteFile, Method::kListTasks, 16)) {
    checks.push_back({"sqlite-file ListTasks c=16 server us per page",
                      f->stats.ok > 0
                          ? absl::optional<double>(absl::ToDoubleMicroseconds(
                                f->stats.ServerCpuPerOp()))
                          : absl::nullopt,
                      52, absl::nullopt, /*at_most=*/true});
  }
  for (int c : plan.concurrency) {
    // At 64 calls in flight grouped commits must beat one writer.
    vs_db(Backend::kSqliteFile, Method::kCreateTask, c, c >= 64 ? 1.0 : 0.7);
  }
  for (int c : {16, 64}) vs_db(Backend::kPostgres, Method::kGetTask, c, 0.6);
  for (int c : {16, 64}) vs_db(Backend::kPostgres, Method::kListTasks, c, 0.7);
  vs_db(Backend::kPostgres, Method::kCreateTask, 64, 0.8);
  if (const ServiceFigure* f =
          FindFigure(results, Backend::kPostgres, Method::kCreateTask, 64)) {
    checks.push_back({"postgres CreateTask c=64 p99 ms",
                      f->stats.ok > 0
                          ? absl::optional<double>(absl::ToDoubleMilliseconds(
                                f->stats.latency.Percentile(99)))
                          : absl::nullopt,
                      20, absl::nullopt, /*at_most=*/true});
  }
  for (const PairFigure& pair : results.pairs) {
    checks.push_back(
        {absl::StrCat(BackendName(pair.backend), " ",
                      pair.feature == Feature::kIdleWatchers
                          ? "CreateTask, idle watchers / none"
                          : "ListTasks, filter / typed fields"),
         Ratio(pair.figure.stats.PerSecond(), pair.baseline.stats.PerSecond()),
         pair.feature == Feature::kIdleWatchers ? 0.9 : 0.95});
  }
  for (const auto& [backend, figure] : results.event_latency) {
    checks.push_back({absl::StrCat(BackendName(backend), " event p99 ms at ",
                                   plan.event_rate, " writes/s"),
                      figure.stats.ok > 0
                          ? absl::optional<double>(absl::ToDoubleMilliseconds(
                                figure.stats.latency.Percentile(99)))
                          : absl::nullopt,
                      10, absl::nullopt, /*at_most=*/true});
  }
  std::printf(
      "\nTargets: ratio >= the bound (memory: MiB <= the bound; latency: ms "
      "<= the bound); \"ceiling\": "
      "the best ratio "
      "to the raw database this run's RPC limit and CPU allow\n");
  std::printf("  %-46s %8s %8s %8s  %s\n", "figure", "value", "bound",
              "ceiling", "");
  for (const Check& check : checks) {
    const bool met =
        check.value && (check.at_most ? *check.value <= check.bound
                                      : *check.value >= check.bound);
    const char* verdict = !check.value ? "not measured"
                          : met        ? "met"
                          : check.ceiling && *check.ceiling < check.bound
                              ? "MISSED (ceiling below the bound)"
                              : "MISSED";
    std::printf(
        "  %-46s %8s %8s %8s  %s\n", check.what.c_str(),
        check.value ? absl::StrFormat("%.2f", *check.value).c_str() : "-",
        absl::StrFormat("%s %g", check.at_most ? "<=" : ">=", check.bound)
            .c_str(),
        check.ceiling ? absl::StrFormat("%.2f", *check.ceiling).c_str() : "-",
        verdict);
  }
  for (const MemoryFigure& m : results.memory) {
    if (m.version != Version::kAfter) continue;
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

void PrintBaselines(const Results& results) {
  std::printf(
      "\nRPC baseline: no-op server (async completion queue, one thread, "
      "pre-serialized responses of the service's size)\n");
  std::printf("  %-12s %5s %10s %9s %9s %9s %9s %8s %8s %6s %6s  %s\n",
              "method", "conc", "req/s", "p50 ms", "p90 ms", "p99 ms",
              "p99.9 ms", "srv us", "cli us", "load", "steal%", "errors");
  for (const auto& [key, figure] : results.rpc) {
    const RunStats& stats = figure.stats;
    std::printf("  %-12s %5d %10.0f %9s %9s %9s %9s %8s %8s %6s %6s  %s\n",
                std::string(MethodName(key.first)).c_str(), key.second,
                stats.PerSecond(),
                FormatMs(stats.latency.Percentile(50)).c_str(),
                FormatMs(stats.latency.Percentile(90)).c_str(),
                FormatMs(stats.latency.Percentile(99)).c_str(),
                FormatMs(stats.latency.Percentile(99.9)).c_str(),
                FormatCpuUs(stats.ServerCpuPerOp()).c_str(),
                FormatCpuUs(stats.ClientCpuPerOp()).c_str(),
                FormatLoad(figure.machine.MeanLoad()).c_str(),
                FormatPercent(figure.machine.StealPercent()).c_str(),
                ErrorText(stats).c_str());
  }

  std::printf(
      "\nDatabase baseline: the store's statements through the sqlite3 C API / "
      "libpq, prepared once, single-row commits, same durability\n");
  std::printf("  %-14s %-7s %5s %10s %9s %9s %9s %8s %6s %6s  %s\n", "database",
              "op", "conns", "ops/s", "p50 ms", "p99 ms", "p99.9 ms", "cli us",
              "load", "steal%", "errors");
  for (const auto& [key, figure] : results.raw) {
    const auto& [backend, op, connections] = key;
    const RunStats& stats = figure.stats;
    std::printf("  %-14s %-7s %5d %10.0f %9s %9s %9s %8s %6s %6s  %s\n",
                std::string(BackendName(backend)).c_str(),
                std::string(DbOpName(op)).c_str(), connections,
                stats.PerSecond(),
                FormatMs(stats.latency.Percentile(50)).c_str(),
                FormatMs(stats.latency.Percentile(99)).c_str(),
                FormatMs(stats.latency.Percentile(99.9)).c_str(),
                FormatCpuUs(stats.ClientCpuPerOp()).c_str(),
                FormatLoad(figure.machine.MeanLoad()).c_str(),
                FormatPercent(figure.machine.StealPercent()).c_str(),
                ErrorText(stats).c_str());
  }
}

// The built server's figures with their ratios to the baselines.
void PrintService(const Plan& plan, const Results& results) {
  std::printf(
      "\nService: task_server%s; \"vs RPC\" = req/s over the no-op server's "
      "for the same method and concurrency, \"vs DB\" = over the raw "
      "operation\n",
      plan.compare_server.empty() ? "" : " (the built one, \"after\")");
  std::printf(
      "  %-14s %-11s %5s %10s %9s %9s %9s %9s %8s %7s  %-16s %6s %6s  %s\n",
      "backend", "method", "conc", "req/s", "p50 ms", "p90 ms", "p99 ms",
      "p99.9 ms", "srv us", "vs RPC", "vs DB (op xN)", "load", "steal%",
      "errors");
  for (const ServiceFigure& figure : results.service) {
    if (figure.version != Version::kAfter) continue;
    const RunStats& stats = figure.stats;
    std::string vs_db = "-";
    if (absl::optional<DbComparison> db = VsDb(plan, results, figure)) {
      vs_db = absl::StrFormat("%.2f (%s)", db->ratio, db->baseline);
    }
    std::printf(
        "  %-14s %-11s %5d %10.0f %9s %9s %9s %9s %8s %7s  %-16s %6s %6s  %s\n",
        std::string(BackendName(figure.backend)).c_str(),
        std::string(MethodName(figure.method)).c_str(), figure.concurrency,
        stats.PerSecond(), FormatMs(stats.latency.Percentile(50)).c_str(),
        FormatMs(stats.latency.Percentile(90)).c_str(),
        FormatMs(stats.latency.Percentile(99)).c_str(),
        FormatMs(stats.latency.Percentile(99.9)).c_str(),
        FormatCpuUs(stats.ServerCpuPerOp()).c_str(),
        FormatRatio(VsRpc(results, figure)).c_str(), vs_db.c_str(),
        FormatLoad(figure.machine.MeanLoad()).c_str(),
        FormatPercent(figure.machine.StealPercent()).c_str(),
        ErrorText(stats).c_str());
  }
}

const MemoryFigure* FindMemory(const Results& results, Backend backend,
                               Version version) {
  for (const MemoryFigure& m : results.memory) {
    if (m.backend == backend && m.version == version) return &m;
  }
  return nullptr;
}

// Each service figure of the --compare_server binary next to the built
// one's, and their peak memory.
void PrintComparison(const Plan& plan, const Results& results) {
  std::printf(
      "\nBefore/after: \"before\" = %s (--compare_server), \"after\" = the "
      "built task_server; same flags, each on its own database, a figure's "
      "two versions measured one after the other in every round; ratio = "
      "after / before (req/s: above 1 is faster; srv us: below 1 is "
      "cheaper); load and steal over both\n",
      plan.compare_server.c_str());
  std::printf("  %-14s %-11s %5s %12s %12s %6s %13s %13s %6s %12s %6s %6s\n",
              "backend", "method", "conc", "req/s before", "req/s after",
              "ratio", "srv us before", "srv us after", "ratio", "errors b/a",
              "load", "steal%");
  for (const ServiceFigure& after : results.service) {
    if (after.version != Version::kAfter) continue;
    const ServiceFigure* before =
        FindFigure(results, after.backend, after.method, after.concurrency,
                   Version::kBefore);
    if (before == nullptr) continue;
    MachineWindow machine = after.machine;
    machine.Merge(before->machine);
    const absl::Duration cpu_before = before->stats.ServerCpuPerOp();
    const absl::Duration cpu_after = after.stats.ServerCpuPerOp();
    std::printf(
        "  %-14s %-11s %5d %12.0f %12.0f %6s %13s %13s %6s %12s %6s %6s\n",
        std::string(BackendName(after.backend)).c_str(),
        std::string(MethodName(after.method)).c_str(), after.concurrency,
        before->stats.PerSecond(), after.stats.PerSecond(),
        FormatRatio(Ratio(after.stats.PerSecond(), before->stats.PerSecond()))
            .c_str(),
        FormatCpuUs(cpu_before).c_str(), FormatCpuUs(cpu_after).c_str(),
        FormatRatio(Ratio(absl::ToDoubleMicroseconds(cpu_after),
                          absl::ToDoubleMicroseconds(cpu_before)))
            .c_str(),
        absl::StrCat(before->stats.ErrorCount(), "/", after.stats.ErrorCount())
            .c_str(),
        FormatLoad(machine.MeanLoad()).c_str(),
        FormatPercent(machine.StealPercent()).c_str());
  }
  std::printf("  %-14s %17s %17s %6s\n", "peak RSS", "MiB before", "MiB after",
              "ratio");
  for (Backend backend : plan.backends) {
    const MemoryFigure* before = FindMemory(results, backend, Version::kBefore);
    const MemoryFigure* after = FindMemory(results, backend, Version::kAfter);
    if (before == nullptr || after == nullptr) continue;
    std::printf("  %-14s %17.1f %17.1f %6s\n",
                std::string(BackendName(backend)).c_str(),
                before->peak_kib / 1024.0, after->peak_kib / 1024.0,
                FormatRatio(Ratio(after->peak_kib, before->peak_kib)).c_str());
  }
}

// One row per task_server; with --compare_server each row says which.
void PrintMemory(const Plan& plan, const Results& results) {
  const bool comparing = !plan.compare_server.empty();
  std::printf(
      "\nMemory: task_server resident set (idle: VmRSS after start; "
      "peak: VmHWM after all its runs)\n");
  std::printf("  %-14s%s %10s %10s\n", "backend",
              comparing ? absl::StrFormat(" %-7s", "server").c_str() : "",
              "idle MiB", "peak MiB");
  for (const MemoryFigure& m : results.memory) {
    const std::string version =
        comparing ? absl::StrFormat(" %-7s", VersionName(m.version)) : "";
    std::printf("  %-14s%s %10.1f %10.1f\n",
                std::string(BackendName(m.backend)).c_str(), version.c_str(),
                m.idle.rss_kib / 1024.0, m.peak_kib / 1024.0);
  }
}

// Each feature's figure beside its baseline, and the event latency.
void PrintFeatures(const Plan& plan, const Results& results) {
  if (!results.pairs.empty()) {
    std::printf(
        "\nFeatures: each figure beside its baseline on the same server, the "
        "two measured one after the other in every round; ratio = req/s over "
        "the baseline's; load and steal over both\n");
    std::printf("  %-14s %-40s %-36s %10s %10s %6s %8s %8s %10s %6s %6s\n",
                "backend", "baseline", "figure", "base req/s", "req/s", "ratio",
                "base us", "srv us", "errors b/f", "load", "steal%");
    for (const PairFigure& pair : results.pairs) {
      MachineWindow machine = pair.baseline.machine;
      machine.Merge(pair.figure.machine);
      std::printf(
          "  %-14s %-40s %-36s %10.0f %10.0f %6s %8s %8s %10s %6s %6s\n",
          std::string(BackendName(pair.backend)).c_str(),
          pair.baseline_label.c_str(), pair.label.c_str(),
          pair.baseline.stats.PerSecond(), pair.figure.stats.PerSecond(),
          FormatRatio(Ratio(pair.figure.stats.PerSecond(),
                            pair.baseline.stats.PerSecond()))
              .c_str(),
          FormatCpuUs(pair.baseline.stats.ServerCpuPerOp()).c_str(),
          FormatCpuUs(pair.figure.stats.ServerCpuPerOp()).c_str(),
          absl::StrCat(ErrorText(pair.baseline.stats), "/",
                       ErrorText(pair.figure.stats))
              .c_str(),
          FormatLoad(machine.MeanLoad()).c_str(),
          FormatPercent(machine.StealPercent()).c_str());
    }
  }
  if (!results.event_latency.empty()) {
    std::printf(
        "\nEvent latency: CreateTask paced at %d/s on one server, one "
        "WatchTasks stream of the project on the same server; from each "
        "write's reply to its event's arrival (0 when the event came first); "
        "events/s: events matched per second\n",
        plan.event_rate);
    std::printf("  %-14s %9s %9s %9s %9s %9s %9s %8s %6s %6s  %s\n", "backend",
                "events/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms",
                "srv us", "load", "steal%", "errors");
    for (const auto& [backend, figure] : results.event_latency) {
      const RunStats& stats = figure.stats;
      std::printf("  %-14s %9.0f %9s %9s %9s %9s %9s %8s %6s %6s  %s\n",
                  std::string(BackendName(backend)).c_str(), stats.PerSecond(),
                  FormatMs(stats.latency.Percentile(50)).c_str(),
                  FormatMs(stats.latency.Percentile(90)).c_str(),
                  FormatMs(stats.latency.Percentile(99)).c_str(),
                  FormatMs(stats.latency.Percentile(99.9)).c_str(),
                  FormatMs(stats.latency.max()).c_str(),
                  FormatCpuUs(stats.ServerCpuPerOp()).c_str(),
                  FormatLoad(figure.machine.MeanLoad()).c_str(),
                  FormatPercent(figure.machine.StealPercent()).c_str(),
                  ErrorText(stats).c_str());
    }
  }
}

void PrintTable(const Plan& plan, const Results& results) {
  PrintBaselines(results);
  PrintService(plan, results);
  PrintFeatures(plan, results);
  if (!plan.compare_server.empty()) PrintComparison(plan, results);
  PrintMemory(plan, results);
  PrintTargets(plan, results);
}

// The machine before, during and after the run: enough to tell a quiet run
// from a busy one.
void PrintMachine(const Results& results, const std::string& load_at_start,
                  const std::string& load_at_end) {
  std::printf(
      "Machine: load average at start %s, at end %s; before the run (1 s, "
      "nothing of the matrix running but its --busy_threads) busy %s, steal "
      "%s; over the rounds %s, "
      "busy %s\n",
      load_at_start.c_str(), load_at_end.c_str(),
      PercentText(results.idle_machine.BusyPercent()).c_str(),
      PercentText(results.idle_machine.StealPercent()).c_str(),
      FormatMachineWindow(results.run).c_str(),
      PercentText(results.run.BusyPercent()).c_str());
  for (size_t i = 0; i < results.rounds.size(); ++i) {
    std::printf("  round %zu: %s, busy %s\n", i + 1,
                FormatMachineWindow(results.rounds[i]).c_str(),
                PercentText(results.rounds[i].BusyPercent()).c_str());
  }
}

// An absolute path to --compare_server's binary; `bazel run` starts the
// matrix in its runfiles, so a relative path means the caller's directory.
absl::StatusOr<std::string> CompareServerPath(std::string path) {
  if (path.empty()) return path;
  if (path[0] != '/') {
    if (const char* dir = getenv("BUILD_WORKING_DIRECTORY"); dir != nullptr) {
      path = absl::StrCat(dir, "/", path);
    }
  }
  path = std::filesystem::absolute(path).string();
  if (access(path.c_str(), X_OK) != 0 || std::filesystem::is_directory(path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--compare_server ", path, " is not an executable file"));
  }
  return path;
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
  absl::StatusOr<std::string> compare =
      CompareServerPath(absl::GetFlag(FLAGS_compare_server));
  if (!compare.ok()) return compare.status();
  plan.compare_server = *compare;
  for (const std::string& name : absl::GetFlag(FLAGS_features)) {
    absl::optional<Feature> feature = ParseFeature(name);
    if (!feature)
      return absl::InvalidArgumentError(absl::StrCat("bad --features ", name));
    plan.features.push_back(*feature);
  }
  plan.idle_watchers = absl::GetFlag(FLAGS_idle_watchers);
  plan.feature_concurrency = absl::GetFlag(FLAGS_feature_concurrency);
  plan.event_rate = absl::GetFlag(FLAGS_event_rate);
  if (plan.idle_watchers < 1 || plan.feature_concurrency < 1 ||
      plan.event_rate < 1) {
    return absl::InvalidArgumentError(
        "--idle_watchers, --feature_concurrency and --event_rate must be >= 1");
  }
  plan.versions = {Version::kAfter};
  if (!plan.compare_server.empty()) plan.versions.push_back(Version::kBefore);
  return plan;
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
  Results results;
  const int busy_threads = absl::GetFlag(FLAGS_busy_threads);
  BusyThreads busy(busy_threads);
  // What the machine does without the matrix: others' work (and the busy
  // threads') shows here.
  const MachineSample start = SampleMachine();
  absl::SleepFor(absl::Seconds(1));
  const MachineSample idle_end = SampleMachine();
  results.idle_machine.Add(start, idle_end);
  Progress(absl::StrCat(
      "cores: ", sysconf(_SC_NPROCESSORS_ONLN), ", load: ", start.loadavg_line,
      ", busy before the run: ",
      PercentText(results.idle_machine.BusyPercent()),
      ", steal: ", PercentText(results.idle_machine.StealPercent()),
      ", scratch: ", (*env)->scratch_dir()));
  if (!plan->compare_server.empty()) {
    Progress(
        absl::StrCat("comparing with ", plan->compare_server, " (before)"));
  }
  for (const std::string& warning : (*env)->Warnings())
    Progress("warning: " + warning);

  Setup setup;
  absl::Status status = Prepare(*plan, **env, setup, results);
  if (status.ok()) {
    status = RunRounds(*plan, absl::GetFlag(FLAGS_rounds), setup.jobs, results);
  }
  Finish(setup, results);

  const std::string log_level = absl::GetFlag(FLAGS_server_log_level);
  std::printf(
      "Benchmark matrix: %ld cores; %s measured per figure in %d interleaved "
      "slices, each after a %s warm-up; client: %d thread(s); task_server log "
      "level: %s; %d busy thread(s) spinning beside it (--busy_threads)\n",
      sysconf(_SC_NPROCESSORS_ONLN),
      absl::FormatDuration(plan->duration).c_str(), absl::GetFlag(FLAGS_rounds),
      absl::FormatDuration(plan->warmup).c_str(),
      absl::GetFlag(FLAGS_client_threads),
      log_level.empty() ? "the server's default" : log_level.c_str(),
      busy_threads);
  PrintMachine(results, start.loadavg_line, SampleMachine().loadavg_line);
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
