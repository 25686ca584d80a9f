// Idle WatchTasks clients in a process of their own, as a server's watchers
// are: the matrix's IdleWatchers figure holds them open beside a write load
// from another process, so that their client-side polling does not take CPU
// from the load generator (on a two-core machine, from the server too).
// Writes `ready_file` once every stream is established; on SIGTERM cancels
// them and exits 0, or 3 when the server ended a stream before that.
//
//   idle_watchers --target=127.0.0.1:50051 --count=100 --project_id=7 \
//       --ready_file=/var/tmp/watchers.ready
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "bench/bench_process.h"
#include "bench/load_generator.h"
#include "bench/watch_load.h"
#include "service/termination_signal.h"

ABSL_FLAG(std::string, target, "", "The task_server's address.");
ABSL_FLAG(int, count, 100, "WatchTasks streams to hold open.");
ABSL_FLAG(int64_t, project_id, 0,
          "The project they watch (one no load writes to).");
ABSL_FLAG(std::string, ready_file, "",
          "Written once every stream is established.");

namespace tasks::bench {
namespace {

int Run() {
  service::BlockTerminationSignals();  // Before any thread starts.
  absl::StatusOr<std::unique_ptr<IdleWatchers>> watchers = IdleWatchers::Open(
      MakeBenchChannel(absl::GetFlag(FLAGS_target)), absl::GetFlag(FLAGS_count),
      absl::GetFlag(FLAGS_project_id));
  if (!watchers.ok()) {
    std::fprintf(stderr, "idle_watchers: %s\n",
                 watchers.status().ToString().c_str());
    return 1;
  }
  {
    std::ofstream ready(absl::GetFlag(FLAGS_ready_file));
    ready << "ready\n";
    if (!ready.good()) {
      std::fprintf(stderr, "idle_watchers: cannot write --ready_file\n");
      return 1;
    }
  }
  service::WaitForTerminationSignal();
  const int ended = (*watchers)->ended();
  watchers->reset();
  if (ended > 0) {
    std::fprintf(stderr, "idle_watchers: the server ended %d streams\n", ended);
    return 3;
  }
  return 0;
}

}  // namespace
}  // namespace tasks::bench

int main(int argc, char** argv) {
  tasks::bench::InitBenchProcess(argc, argv);
  return tasks::bench::Run();
}
