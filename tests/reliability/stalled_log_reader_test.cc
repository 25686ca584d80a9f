// The server's stderr is a pipe that nobody reads (a stuck log collector):
// calls go on at full speed instead of waiting for it, the info lines that
// do not fit are dropped and counted, once the pipe is read again every
// call is either in the log or in the count of dropped lines, and SIGTERM
// still ends the server. A reader that goes away does not end it either.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/reliability/reliability_test_base.h"
#include "tests/testing/loopback_port.h"
#include "tests/testing/metrics_scrape.h"

namespace tasks::reliability {
namespace {

// 40,000 call lines of about 80 bytes: more than twice what the pipe
// (64 KiB) and the server's buffer (1 MiB) can hold.
constexpr int kCalls = 40000;
constexpr int kClients = 8;
constexpr char kGetTaskLine[] = "/tasks.v1.TaskService/GetTask OK";
constexpr char kDroppedWarning[] = " log lines were dropped";

// The `count` in "... <count> log lines were dropped", 0 for other lines.
int64_t DroppedIn(absl::string_view line) {
  const size_t end = line.find(kDroppedWarning);
  if (end == absl::string_view::npos) return 0;
  const size_t start = line.rfind(' ', end - 1);
  int64_t count = 0;
  if (start == absl::string_view::npos ||
      !absl::SimpleAtoi(line.substr(start + 1, end - start - 1), &count)) {
    ADD_FAILURE() << "unparsed warning: " << line;
  }
  return count;
}

class StalledLogReaderTest : public ReliabilityTest {
 protected:
  void TearDown() override {
    ReliabilityTest::TearDown();  // the server first: it writes to the pipe
    if (reader_ >= 0) close(reader_);
    if (!fifo_.empty()) unlink(fifo_.c_str());
  }

  // Starts a server logging at info whose stderr is a pipe, open for
  // reading in reader_ but not read, and creates task_.
  void StartWithUnreadStderr() {
    fifo_ = absl::StrCat(std::getenv("TEST_TMPDIR"), "/stderr.fifo");
    const std::string& fifo = fifo_;
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0) << errno;
    reader_ = open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    ASSERT_GE(reader_, 0) << errno;
    absl::StatusOr<int> metrics_port = ::tasks::testing::FreeLoopbackPort();
    ASSERT_TRUE(metrics_port.ok()) << metrics_port.status();
    metrics_port_ = *metrics_port;
    TaskServerOptions options = ServerOptions(
        {"--log_level=info",
         absl::StrCat("--metrics_listen=127.0.0.1:", metrics_port_)});
    // The server's stderr is the pipe (its stdout stays in the log file).
    options.launcher = {"/bin/sh", "-c", absl::StrCat("exec \"$@\" 2>", fifo),
                        "sh"};
    ASSERT_NO_FATAL_FAILURE(StartWithProject(options, "stalled-log"));
    ASSERT_TRUE(
        CreateTask(*stub_, project_id_, "read me", absl::Seconds(10), 0, &task_)
            .ok());
  }

  // kCalls GetTask calls from kClients threads; returns how many were
  // answered OK (a client stops at its first failure).
  int GetTaskCalls() {
    std::atomic<int> answered{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&] {
        for (int i = 0; i < kCalls / kClients; ++i) {
          grpc::ClientContext context;
          context.set_deadline(
              absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
          v1::GetTaskRequest request;
          request.set_id(task_.id());
          v1::Task got;
          if (!stub_->GetTask(&context, request, &got).ok()) return;
          ++answered;
        }
      });
    }
    for (std::thread& client : clients) client.join();
    return answered.load();
  }

  std::string fifo_;
  int reader_ = -1;
  int metrics_port_ = 0;
  v1::Task task_;
};

TEST_P(StalledLogReaderTest, CallsGoOnWhileNobodyReadsStderr) {
  ASSERT_NO_FATAL_FAILURE(StartWithUnreadStderr());
  const absl::Time started = absl::Now();
  EXPECT_EQ(GetTaskCalls(), kCalls)
      << "calls failed (waiting for a log nobody reads?); "
      << server_->LogTail();
  const absl::Duration took = absl::Now() - started;
  // What an operator alerts on: the warning waits for the pipe too.
  absl::StatusOr<::tasks::testing::MetricSamples> metrics =
      ::tasks::testing::MetricSamples::Scrape(metrics_port_);
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  const double counted = metrics->Value("tasks_log_lines_dropped_total");
  EXPECT_GT(counted, 0);

  // Read the pipe again: what the server kept comes out, then how much it
  // dropped.
  std::string text;
  int64_t logged = 0, dropped = 0;
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (logged + dropped < kCalls && absl::Now() < give_up) {
    char chunk[65536];
    const ssize_t n = read(reader_, chunk, sizeof(chunk));
    if (n <= 0) {
      absl::SleepFor(absl::Milliseconds(10));
      continue;
    }
    text.append(chunk, static_cast<size_t>(n));
    const size_t complete = text.rfind('\n');
    if (complete == std::string::npos) continue;
    for (absl::string_view line :
         absl::StrSplit(absl::string_view(text).substr(0, complete), '\n')) {
      if (absl::StrContains(line, kGetTaskLine)) ++logged;
      dropped += DroppedIn(line);
    }
    text.erase(0, complete + 1);
  }
  EXPECT_GT(dropped, 0) << "the pipe never filled";
  EXPECT_GE(dropped, counted) << "the metric counted lines not dropped";
  EXPECT_GE(logged + dropped, kCalls) << logged << " calls logged, " << dropped
                                      << " lines dropped, of " << kCalls;
  EXPECT_TRUE(server_->Running()) << server_->LogTail();
  ReportFigure(absl::StrCat(kCalls, " GetTask calls in ", Millis(took),
                            " with stderr unread; ", logged, " logged, ",
                            dropped, " log lines dropped"));
}

// An operator restarting a server whose log collector is stuck: SIGTERM
// ends it, its last lines given up on after a bounded wait.
TEST_P(StalledLogReaderTest, SigtermEndsTheServerWhileNobodyReadsStderr) {
  ASSERT_NO_FATAL_FAILURE(StartWithUnreadStderr());
  ASSERT_EQ(GetTaskCalls(), kCalls) << server_->LogTail();
  const absl::Time signalled = absl::Now();
  ASSERT_TRUE(server_->Signal(SIGTERM).ok());
  absl::StatusOr<int> exit_code = server_->WaitForExit(absl::Seconds(30));
  ASSERT_TRUE(exit_code.ok())
      << exit_code.status() << "; " << server_->LogTail();
  EXPECT_EQ(*exit_code, 0);
  ReportFigure(absl::StrCat("exited ", Millis(absl::Now() - signalled),
                            " after SIGTERM with stderr unread"));
}

// The log collector exits: the server's writes to the pipe fail (EPIPE, not
// a SIGPIPE that would kill it), and it goes on answering.
TEST_P(StalledLogReaderTest, TheServerOutlivesItsLogReader) {
  ASSERT_NO_FATAL_FAILURE(StartWithUnreadStderr());
  close(reader_);
  reader_ = -1;
  EXPECT_EQ(GetTaskCalls(), kCalls) << server_->LogTail();
  EXPECT_TRUE(server_->Running()) << server_->LogTail();
  // The last lines' write fails within the logger's interval.
  double dropped = 0;
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (dropped < kCalls && absl::Now() < give_up) {
    absl::StatusOr<::tasks::testing::MetricSamples> metrics =
        ::tasks::testing::MetricSamples::Scrape(metrics_port_);
    ASSERT_TRUE(metrics.ok()) << metrics.status();
    dropped = metrics->Value("tasks_log_lines_dropped_total");
    if (dropped < kCalls) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_GE(dropped, kCalls);
}

INSTANTIATE_RELIABILITY_TEST_SUITE(StalledLogReaderTest);

}  // namespace
}  // namespace tasks::reliability
