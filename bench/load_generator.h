#ifndef TASKS_BENCH_LOAD_GENERATOR_H_
#define TASKS_BENCH_LOAD_GENERATOR_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/run_stats.h"
#include "bench/workload.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"

namespace tasks::bench {

struct LoadOptions {
  Method method = Method::kGetTask;
  // For kListTasks: which tasks the calls select.
  ListQuery list_query = ListQuery::kProject;
  // Calls in flight at all times (a closed loop: each completion starts the
  // next call).
  int concurrency = 16;
  // Threads driving the calls, each with its own completion queue; the
  // concurrency is split between them.
  int client_threads = 1;
  // Calls completing in the warm-up are not counted.
  absl::Duration warmup = absl::Seconds(1);
  absl::Duration duration = absl::Seconds(5);
  // Deadline of each call.
  absl::Duration call_deadline = absl::Seconds(10);
  // Sent as `authorization: Bearer <token>` on every call when not empty: a
  // server with --auth_tokens_file authenticates each call.
  std::string bearer_token;
  // When set, read at the start and the end of the measurement window: the
  // CPU time the server has used so far (RunStats::server_cpu is the
  // difference).
  std::function<absl::Duration()> server_cpu_clock;
};

// An insecure channel to `target` ("host:port").
std::shared_ptr<grpc::Channel> MakeBenchChannel(const std::string& target);

// Waits until the server on `channel` answers the health check (Noop) with
// SERVING; UNAVAILABLE after `timeout`.
absl::Status WaitForServer(const std::shared_ptr<grpc::Channel>& channel,
                           absl::Duration timeout);

// A context for one call, carrying `bearer_token` when it is not empty.
std::unique_ptr<grpc::ClientContext> NewCallContext(
    const std::string& bearer_token);

// Creates a project and `task_count` tasks in it through `channel`
// (CreateProject, then BatchCreateTasks 1,000 at a time): the rows GetTask,
// ListTasks and UpdateTask runs read and write, and the project CreateTask
// runs add to. Fails with the first call's error.
// `bearer_token` as in LoadOptions.
absl::StatusOr<Workload> PrepareWorkload(
    const std::shared_ptr<grpc::Channel>& channel, int task_count,
    const std::string& bearer_token);

// Task ids 1..task_count in project 1 without calling anything, for servers
// that keep no state (the no-op baseline).
Workload SyntheticWorkload(int task_count);

// Drives `options.method` calls through a grpc::GenericStub on `channel`
// for warm-up + duration and returns what the measurement window saw,
// including this process's CPU time in the window. Every
// call that was started is waited for before returning. Failed calls are
// counted by status code, not returned as an error.
RunStats RunLoad(const std::shared_ptr<grpc::Channel>& channel,
                 const Workload& workload, const LoadOptions& options);

}  // namespace tasks::bench

#endif  // TASKS_BENCH_LOAD_GENERATOR_H_
