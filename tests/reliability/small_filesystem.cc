#include "tests/reliability/small_filesystem.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace tasks::reliability {
namespace {

constexpr char kUnshare[] = "/usr/bin/unshare";
constexpr char kNsenter[] = "/usr/bin/nsenter";
// Created once the tmpfs is mounted: its presence says the holder is ready.
constexpr char kReadyFile[] = ".mounted";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

absl::StatusOr<std::unique_ptr<SmallFilesystem>> SmallFilesystem::Mount(
    int64_t bytes) {
  for (const char* tool : {kUnshare, kNsenter}) {
    if (access(tool, X_OK) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(tool, " (util-linux) is missing"));
    }
  }
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string dir_template =
      absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/fsXXXXXX");
  if (mkdtemp(dir_template.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp: ", strerror(errno)));
  }
  std::unique_ptr<SmallFilesystem> fs(new SmallFilesystem());
  fs->mount_point_ = dir_template;
  const std::string log = fs->mount_point_ + ".log";
  const std::string script =
      absl::StrCat("mount -t tmpfs -o size=", bytes, " tmpfs '",
                   fs->mount_point_, "' && touch '", fs->mount_point_, "/",
                   kReadyFile, "' && exec sleep 3600");
  std::vector<std::string> argv = {
      kUnshare, "--mount", "--propagation", "private", "/bin/sh", "-c", script};
  std::vector<char*> c_argv;
  for (std::string& arg : argv) c_argv.push_back(arg.data());
  c_argv.push_back(nullptr);

  const pid_t pid = fork();
  if (pid < 0)
    return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  if (pid == 0) {
    FILE* out = freopen(log.c_str(), "w", stderr);
    if (out == nullptr) _exit(126);
    dup2(STDERR_FILENO, STDOUT_FILENO);
    execv(c_argv[0], c_argv.data());
    _exit(127);
  }
  fs->holder_ = pid;
  const std::string ready = fs->OutsidePath(kReadyFile);
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (access(ready.c_str(), F_OK) != 0) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      fs->holder_ = -1;
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot mount a private tmpfs (unshare --mount needs root or "
          "unprivileged user namespaces): ",
          ReadFile(log)));
    }
    if (absl::Now() > give_up) {
      return absl::DeadlineExceededError(absl::StrCat(
          "the tmpfs was not mounted within 10 s: ", ReadFile(log)));
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  return fs;
}

SmallFilesystem::~SmallFilesystem() {
  if (holder_ > 0) {
    kill(holder_, SIGKILL);
    waitpid(holder_, nullptr, 0);
  }
  rmdir(mount_point_.c_str());
}

std::string SmallFilesystem::InsidePath(const std::string& name) const {
  return absl::StrCat(mount_point_, "/", name);
}

std::string SmallFilesystem::OutsidePath(const std::string& name) const {
  return absl::StrCat("/proc/", holder_, "/root", mount_point_, "/", name);
}

absl::Status SmallFilesystem::CopyDatabaseOut(
    const std::string& name, const std::string& destination) const {
  for (const char* suffix : {"", "-wal"}) {
    const std::string from = OutsidePath(name + suffix);
    const std::string to = destination + suffix;
    std::ifstream in(from, std::ios::binary);
    if (!in) {
      if (*suffix != '\0') {  // No WAL: everything is in the database.
        std::remove(to.c_str());
        continue;
      }
      return absl::NotFoundError(absl::StrCat("cannot read ", from));
    }
    std::ofstream out(to, std::ios::binary | std::ios::trunc);
    out << in.rdbuf();
    if (!out.good()) {
      return absl::InternalError(absl::StrCat("cannot write ", to));
    }
  }
  return absl::OkStatus();
}

std::vector<std::string> SmallFilesystem::Enter() const {
  return {kNsenter, "-t", absl::StrCat(holder_), "-m", "--"};
}

}  // namespace tasks::reliability
