#ifndef TASKS_TESTS_RELIABILITY_PROCESS_MEMORY_H_
#define TASKS_TESTS_RELIABILITY_PROCESS_MEMORY_H_

// A process's memory figures as the kernel reports them, for the tests that
// bound a task_server's resident memory.

#include <sys/types.h>

#include <cstdint>

#include "absl/strings/string_view.h"

namespace tasks::reliability {

// The "<key>:" line of /proc/<pid>/status ("VmRSS": resident now, "VmHWM":
// peak resident) in KiB; -1 when the file or the line cannot be read.
int64_t ProcStatusKib(pid_t pid, absl::string_view key);

}  // namespace tasks::reliability

#endif  // TASKS_TESTS_RELIABILITY_PROCESS_MEMORY_H_
