#include "tests/reliability/postgres_freeze.h"

#include <dirent.h>
#include <signal.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tasks::reliability {
namespace {

// The parent pid in /proc/<pid>/stat ("pid (comm) state ppid ..."); 0 when
// the process is gone. The command name may hold spaces and parentheses:
// the fields start after the last ')'.
pid_t ParentOf(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  char state = 0;
  int parent = 0;
  if (std::sscanf(stat.c_str() + close + 1, " %c %d", &state, &parent) != 2) {
    return 0;
  }
  return parent;
}

std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> children;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return children;
  while (dirent* entry = readdir(proc)) {
    int pid = 0;
    if (absl::SimpleAtoi(entry->d_name, &pid) && ParentOf(pid) == parent) {
      children.push_back(pid);
    }
  }
  closedir(proc);
  return children;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresFreeze>> PostgresFreeze::Freeze(
    const std::string& data_dir) {
  const std::string pid_file = absl::StrCat(data_dir, "/postmaster.pid");
  std::ifstream in(pid_file);
  std::string first_line;
  int postmaster = 0;
  if (!std::getline(in, first_line) ||
      !absl::SimpleAtoi(first_line, &postmaster) || postmaster <= 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("no postmaster pid in ", pid_file));
  }
  std::unique_ptr<PostgresFreeze> freeze(new PostgresFreeze());
  // The postmaster first: stopped, it starts no new backend.
  if (kill(postmaster, SIGSTOP) != 0) {
    return absl::InternalError(absl::StrCat(
        "SIGSTOP to postmaster ", postmaster, ": ", std::strerror(errno)));
  }
  freeze->frozen_.push_back(postmaster);
  for (pid_t child : ChildrenOf(postmaster)) {
    if (kill(child, SIGSTOP) == 0) freeze->frozen_.push_back(child);
  }
  return freeze;
}

PostgresFreeze::~PostgresFreeze() { Thaw(); }

void PostgresFreeze::Thaw() {
  if (thawed_) return;
  thawed_ = true;
  for (pid_t pid : frozen_) kill(pid, SIGCONT);
}

}  // namespace tasks::reliability
