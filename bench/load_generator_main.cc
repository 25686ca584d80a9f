// Drives unary calls of one method at a gRPC server and prints requests/s,
// errors by status code and latency percentiles.
//
//   load_generator --target=localhost:50051 --method=GetTask --concurrency=16
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "bench/bench_process.h"
#include "bench/load_generator.h"

ABSL_FLAG(std::string, target, "localhost:50051", "Server address, host:port.");
ABSL_FLAG(std::string, method, "GetTask",
          "GetTask, ListTasks, CreateTask, UpdateTask or Noop (health check).");
ABSL_FLAG(int, concurrency, 16, "Calls in flight.");
ABSL_FLAG(int, client_threads, 1, "Client threads driving the calls.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(5), "Measured time.");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(1), "Unmeasured time first.");
ABSL_FLAG(int, setup_tasks, 1000,
          "Tasks created before the run for GetTask/ListTasks/UpdateTask.");
ABSL_FLAG(std::string, list_by, "project",
          "How ListTasks selects the tasks: project (the typed project_id), "
          "project_status (project_id and status) or filter (the same as a "
          "filter string).");
ABSL_FLAG(bool, synthetic, false,
          "Skip the setup and use task ids 1..setup_tasks in project 1 "
          "(for the no-op server, which keeps no state).");

ABSL_FLAG(std::string, token, "",
          "Bearer token sent on every call (for a server with "
          "--auth_tokens_file; its principal must be allowed all projects).");

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "load_generator: %s\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  tasks::bench::InitBenchProcess(argc, argv);
  using tasks::bench::Method;
  absl::optional<Method> method =
      tasks::bench::ParseMethod(absl::GetFlag(FLAGS_method));
  if (!method) return Fail("unknown --method " + absl::GetFlag(FLAGS_method));
  if (absl::GetFlag(FLAGS_concurrency) < 1)
    return Fail("--concurrency must be >= 1");
  if (absl::GetFlag(FLAGS_client_threads) < 1)
    return Fail("--client_threads must be >= 1");
  const std::string list_by = absl::GetFlag(FLAGS_list_by);
  using tasks::bench::ListQuery;
  const ListQuery list_query =
      list_by == "filter"           ? ListQuery::kProjectAndStatusFilter
      : list_by == "project_status" ? ListQuery::kProjectAndStatus
                                    : ListQuery::kProject;
  if (list_by != "filter" && list_by != "project_status" &&
      list_by != "project") {
    return Fail("unknown --list_by " + list_by);
  }

  auto channel = tasks::bench::MakeBenchChannel(absl::GetFlag(FLAGS_target));
  if (absl::Status ready =
          tasks::bench::WaitForServer(channel, absl::Seconds(10));
      !ready.ok()) {
    return Fail(ready.ToString());
  }

  tasks::bench::Workload workload;
  if (absl::GetFlag(FLAGS_synthetic)) {
    workload =
        tasks::bench::SyntheticWorkload(absl::GetFlag(FLAGS_setup_tasks));
  } else {
    auto prepared = tasks::bench::PrepareWorkload(
        channel, absl::GetFlag(FLAGS_setup_tasks), absl::GetFlag(FLAGS_token));
    if (!prepared.ok()) return Fail("setup: " + prepared.status().ToString());
    workload = *std::move(prepared);
  }

  tasks::bench::LoadOptions options;
  options.method = *method;
  options.concurrency = absl::GetFlag(FLAGS_concurrency);
  options.client_threads = absl::GetFlag(FLAGS_client_threads);
  options.duration = absl::GetFlag(FLAGS_duration);
  options.warmup = absl::GetFlag(FLAGS_warmup);
  options.list_query = list_query;
  options.bearer_token = absl::GetFlag(FLAGS_token);
  tasks::bench::RunStats stats =
      tasks::bench::RunLoad(channel, workload, options);

  std::printf(
      "%s c=%d: %s\n", std::string(tasks::bench::MethodName(*method)).c_str(),
      options.concurrency, tasks::bench::FormatRunStats(stats, "req").c_str());
  return stats.ok > 0 ? 0 : 1;
}
