#ifndef TASKS_BENCH_CHILD_PROCESS_H_
#define TASKS_BENCH_CHILD_PROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace tasks::bench {

// Resident memory of a process, from /proc/<pid>/status.
struct MemoryUsage {
  int64_t rss_kib = 0;   // VmRSS: now
  int64_t peak_kib = 0;  // VmHWM: the most it has had resident
};

// ChildProcess
//
// A program the benchmark started (a server under test), with its output
// appended to a file. The destructor stops it.
class ChildProcess {
 public:
  // Starts argv[0] (a path) with `argv`; stdout and stderr go to
  // `output_path`.
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(
      const std::vector<std::string>& argv, const std::string& output_path);

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }

  // False once the process has exited.
  bool Running();

  absl::StatusOr<MemoryUsage> Memory() const;

  // User + system CPU time the process has used so far (all its threads).
  absl::StatusOr<absl::Duration> CpuTime() const;

  // SIGTERM, then SIGKILL after `grace`; waits for the exit. OK when it
  // exited (or had exited) with status 0 after SIGTERM.
  absl::Status Stop(absl::Duration grace = absl::Seconds(10));

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}

  pid_t pid_;
  bool exited_ = false;
  int wait_status_ = 0;
};

// Runs `argv` to completion with its output appended to `output_path`.
// INTERNAL (with the exit status) unless it exits 0.
absl::Status RunCommand(const std::vector<std::string>& argv,
                        const std::string& output_path);

// A TCP port on 127.0.0.1 that nothing listens on right now.
absl::StatusOr<int> PickFreePort();

}  // namespace tasks::bench

#endif  // TASKS_BENCH_CHILD_PROCESS_H_
