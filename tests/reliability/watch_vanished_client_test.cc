// Clients that vanish with WatchTasks streams open (their process killed,
// 200 streams each, opened at once, round after round): the server holds
// every one open (a burst is not refused), frees the streams as
// their connection closes (tasks_watchers_open back to 0 within seconds),
// holds no memory for them afterwards, and serves watchers and writes as
// before.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/reliability/process_memory.h"
#include "tests/reliability/reliability_test_base.h"
#include "tests/reliability/task_watcher.h"
#include "tests/testing/loopback_port.h"
#include "tests/testing/metrics_scrape.h"

extern char** environ;

namespace tasks::reliability {
namespace {

using ::tasks::testing::MetricSamples;

constexpr int kStreamsPerClient = 200;
constexpr int kRounds = 5;
// How long the server may take to notice a closed connection.
constexpr absl::Duration kFreeTimeout = absl::Seconds(5);
// "No memory held": allocator noise, far below 800 leaked streams (each
// holds its call, its filter and its cursor).
constexpr int64_t kMaxGrowthKib = 8 * 1024;

using WatchVanishedClientTest = ReliabilityTest;

// A watch_client process holding `count` streams with `filter` open on
// `target`; killed (SIGKILL) by Kill() or the destructor.
class WatchClient {
 public:
  static absl::StatusOr<std::unique_ptr<WatchClient>> Start(
      const std::string& target, int count, const std::string& filter) {
    const char* binary = std::getenv("WATCH_CLIENT_BINARY");
    if (binary == nullptr || *binary == '\0') {
      return absl::FailedPreconditionError("WATCH_CLIENT_BINARY is not set");
    }
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) return absl::InternalError("pipe2");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    std::vector<std::string> args = {binary, absl::StrCat("--target=", target),
                                     absl::StrCat("--count=", count),
                                     absl::StrCat("--filter=", filter)};
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    const int spawned =
        posix_spawn(&pid, binary, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    if (spawned != 0) {
      close(out[0]);
      return absl::InternalError(absl::StrCat("posix_spawn ", binary));
    }
    auto client = std::unique_ptr<WatchClient>(new WatchClient(pid, out[0]));
    if (!client->AwaitReady(absl::Seconds(30))) {
      return absl::DeadlineExceededError(
          "watch_client did not establish its streams");
    }
    return client;
  }

  ~WatchClient() {
    Kill();
    close(stdout_);
  }

  void Kill() {
    if (pid_ < 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  WatchClient(pid_t pid, int stdout_fd) : pid_(pid), stdout_(stdout_fd) {}

  // Whether it printed "ready" within `timeout`.
  bool AwaitReady(absl::Duration timeout) {
    const absl::Time give_up = absl::Now() + timeout;
    std::string said;
    while (said.find("ready\n") == std::string::npos) {
      pollfd readable{stdout_, POLLIN, 0};
      const int left =
          static_cast<int>(absl::ToInt64Milliseconds(give_up - absl::Now()));
      if (left <= 0 || poll(&readable, 1, left) <= 0) return false;
      char buffer[64];
      const ssize_t got = read(stdout_, buffer, sizeof(buffer));
      if (got <= 0) return false;  // Exited.
      said.append(buffer, static_cast<size_t>(got));
    }
    return true;
  }

  pid_t pid_;
  int stdout_;
};

// The server's open watchers, scraped from --metrics_listen; -1 on error.
double OpenWatchers(int metrics_port) {
  absl::StatusOr<MetricSamples> samples = MetricSamples::Scrape(metrics_port);
  return samples.ok() ? samples->Value("tasks_watchers_open") : -1;
}

// Polls OpenWatchers until it is `want`; how long that took, or
// InfiniteDuration after `timeout`.
absl::Duration AwaitOpenWatchers(int metrics_port, double want,
                                 absl::Duration timeout) {
  const absl::Time start = absl::Now();
  while (OpenWatchers(metrics_port) != want) {
    if (absl::Now() - start > timeout) return absl::InfiniteDuration();
    absl::SleepFor(absl::Milliseconds(10));
  }
  return absl::Now() - start;
}

TEST_P(WatchVanishedClientTest, StreamsOfAKilledClientAreFreed) {
  absl::StatusOr<int> metrics_port = ::tasks::testing::FreeLoopbackPort();
  ASSERT_TRUE(metrics_port.ok()) << metrics_port.status();
  ASSERT_NO_FATAL_FAILURE(StartWithProject(
      ServerOptions(
          {absl::StrCat("--metrics_listen=127.0.0.1:", *metrics_port)}),
      "vanish"));
  const std::string filter = absl::StrCat("project_id = ", project_id_);

  int64_t warm_kib = -1;
  absl::Duration slowest_free;
  for (int round = 1; round <= kRounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    absl::StatusOr<std::unique_ptr<WatchClient>> client =
        WatchClient::Start(server_->address(), kStreamsPerClient, filter);
    ASSERT_TRUE(client.ok()) << client.status();
    ASSERT_NE(
        AwaitOpenWatchers(*metrics_port, kStreamsPerClient, absl::Seconds(10)),
        absl::InfiniteDuration())
        << OpenWatchers(*metrics_port) << " watchers open";
    (*client)->Kill();
    const absl::Duration freed =
        AwaitOpenWatchers(*metrics_port, 0, kFreeTimeout);
    ASSERT_NE(freed, absl::InfiniteDuration())
        << OpenWatchers(*metrics_port) << " watchers still open "
        << kFreeTimeout << " after their client died; " << server_->LogTail();
    slowest_free = std::max(slowest_free, freed);
    // After the first round: the allocator's arenas are warm.
    if (round == 1) warm_kib = ProcStatusKib(server_->pid(), "VmRSS");
  }
  const int64_t final_kib = ProcStatusKib(server_->pid(), "VmRSS");
  ASSERT_GT(warm_kib, 0) << "no VmRSS for the server";
  EXPECT_LE(final_kib - warm_kib, kMaxGrowthKib);

  // Still serving: a new watcher gets the event of a new write.
  std::string token;
  ASSERT_TRUE(ListAll(*stub_, filter, &token).ok());
  TaskWatcher watcher(server_->NewChannel(), WatchFrom(token, filter));
  const grpc::Status created = CreateTask(*stub_, project_id_, "after");
  ASSERT_TRUE(created.ok()) << created.error_message();
  EXPECT_TRUE(watcher.AwaitEvents(1, absl::Seconds(10)));

  ReportFigure(absl::StrCat(kRounds, " clients killed with ", kStreamsPerClient,
                            " streams open each: the slowest freed after ",
                            absl::FormatDuration(slowest_free), "; server RSS ",
                            warm_kib / 1024, " MiB after the first, ",
                            final_kib / 1024, " MiB after the last"));
}

INSTANTIATE_RELIABILITY_TEST_SUITE(WatchVanishedClientTest);

}  // namespace
}  // namespace tasks::reliability
