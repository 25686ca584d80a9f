#ifndef TASKS_TESTS_RELIABILITY_CALL_LOG_H_
#define TASKS_TESTS_RELIABILITY_CALL_LOG_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace tasks::reliability {

// A call as the server's call log records it (--log_level=info).
struct LoggedCall {
  std::string code;  // "OK", "DEADLINE_EXCEEDED", ...
  double milliseconds = 0;
};

// The calls of `method` ("/tasks.v1.TaskService/CreateTask") in the
// server's log at `log_path`, in log order: the server's own account of how
// long it spent on each. A line of that method that does not parse is a test
// failure.
std::vector<LoggedCall> LoggedCalls(const std::string& log_path,
                                    absl::string_view method);

}  // namespace tasks::reliability

#endif  // TASKS_TESTS_RELIABILITY_CALL_LOG_H_
