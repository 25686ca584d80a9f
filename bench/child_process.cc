#include "bench/child_process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

extern char** environ;

namespace tasks::bench {
namespace {

absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv,
                            const std::string& output_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, output_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                   O_RDONLY, 0);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return absl::InternalError(
        absl::StrCat("cannot start ", argv[0], ": ", std::strerror(rc)));
  }
  return pid;
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exit status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return absl::StrCat("signal ", WTERMSIG(status));
  return absl::StrCat("wait status ", status);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Start(
    const std::vector<std::string>& argv, const std::string& output_path) {
  absl::StatusOr<pid_t> pid = Spawn(argv, output_path);
  if (!pid.ok()) return pid.status();
  return std::unique_ptr<ChildProcess>(new ChildProcess(*pid));
}

ChildProcess::~ChildProcess() { Stop(absl::Seconds(5)).IgnoreError(); }

bool ChildProcess::Running() {
  if (exited_) return false;
  if (waitpid(pid_, &wait_status_, WNOHANG) == pid_) exited_ = true;
  return !exited_;
}

absl::StatusOr<MemoryUsage> ChildProcess::Memory() const {
  std::ifstream status(absl::StrCat("/proc/", pid_, "/status"));
  if (!status) return absl::NotFoundError(absl::StrCat("no process ", pid_));
  MemoryUsage usage;
  std::string line;
  while (std::getline(status, line)) {
    std::vector<std::string> parts =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (parts.size() < 2) continue;
    if (parts[0] == "VmRSS:") (void)absl::SimpleAtoi(parts[1], &usage.rss_kib);
    if (parts[0] == "VmHWM:") (void)absl::SimpleAtoi(parts[1], &usage.peak_kib);
  }
  return usage;
}

absl::StatusOr<absl::Duration> ChildProcess::CpuTime() const {
  std::ifstream file(absl::StrCat("/proc/", pid_, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces) in parentheses;
  // utime and stime are fields 14 and 15 of the whole line.
  const size_t end_of_name = stat.rfind(')');
  if (end_of_name == std::string::npos) {
    return absl::NotFoundError(absl::StrCat("no process ", pid_));
  }
  std::vector<std::string> fields = absl::StrSplit(
      absl::string_view(stat).substr(end_of_name + 2), ' ', absl::SkipEmpty());
  int64_t user_ticks = 0;
  int64_t system_ticks = 0;
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &user_ticks) ||
      !absl::SimpleAtoi(fields[12], &system_ticks)) {
    return absl::InternalError(absl::StrCat("cannot parse /proc/", pid_, "/stat"));
  }
  return absl::Seconds(user_ticks + system_ticks) / sysconf(_SC_CLK_TCK);
}

absl::Status ChildProcess::Stop(absl::Duration grace) {
  if (Running()) {
    kill(pid_, SIGTERM);
    const absl::Time give_up = absl::Now() + grace;
    while (Running() && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(20));
    if (Running()) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &wait_status_, 0);
      exited_ = true;
      return absl::DeadlineExceededError(
          absl::StrCat("pid ", pid_, " ignored SIGTERM for ", absl::FormatDuration(grace)));
    }
  }
  if (WIFEXITED(wait_status_) && WEXITSTATUS(wait_status_) == 0) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat("pid ", pid_, " ended with ", DescribeWaitStatus(wait_status_)));
}

absl::Status RunCommand(const std::vector<std::string>& argv,
                        const std::string& output_path) {
  absl::StatusOr<pid_t> pid = Spawn(argv, output_path);
  if (!pid.ok()) return pid.status();
  int status = 0;
  while (waitpid(*pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(absl::StrJoin(argv, " "), ": ",
                                          DescribeWaitStatus(status),
                                          " (output in ", output_path, ")"));
}

absl::StatusOr<int> PickFreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError(std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const std::string error = std::strerror(errno);
    close(fd);
    return absl::InternalError(absl::StrCat("no free port: ", error));
  }
  close(fd);
  return ntohs(address.sin_port);
}

}  // namespace tasks::bench
