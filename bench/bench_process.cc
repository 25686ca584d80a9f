#include "bench/bench_process.h"

#include "absl/flags/parse.h"
#include "absl/synchronization/mutex.h"

namespace tasks::bench {

void InitBenchProcess(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

}  // namespace tasks::bench
