#include "tests/reliability/call_log.h"

#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"

namespace tasks::reliability {

std::vector<LoggedCall> LoggedCalls(const std::string& log_path,
                                    absl::string_view method) {
  // "... <method> <CODE> 1.234ms[: message]"
  const std::string marker = absl::StrCat(method, " ");
  std::ifstream in(log_path);
  std::vector<LoggedCall> calls;
  std::string line;
  while (std::getline(in, line)) {
    const size_t at = line.find(marker);
    if (at == std::string::npos) continue;
    std::vector<std::string> words =
        absl::StrSplit(line.substr(at + marker.size()), ' ');
    LoggedCall call;
    absl::string_view latency = words.size() > 1 ? words[1] : "";
    absl::ConsumeSuffix(&latency, ":");
    if (words.empty() || !absl::ConsumeSuffix(&latency, "ms") ||
        !absl::SimpleAtod(latency, &call.milliseconds)) {
      ADD_FAILURE() << "unexpected call log line: " << line;
      continue;
    }
    call.code = words[0];
    calls.push_back(call);
  }
  return calls;
}

}  // namespace tasks::reliability
