// The server's stderr is a pipe that nobody reads (a stuck log collector):
// calls go on at full speed instead of waiting for it, the info lines that
// do not fit are dropped and counted, and once the pipe is read again every
// call is either in the log or in the count of dropped lines.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
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

namespace tasks::reliability {
namespace {

// 40,000 call lines of about 80 bytes: three times what the pipe (64 KiB)
// and the server's two buffers (1 MiB each) can hold.
constexpr int kCalls = 40000;
constexpr int kClients = 8;
constexpr char kGetTaskLine[] = "/tasks.v1.TaskService/GetTask OK";
constexpr char kDroppedWarning[] = " info lines were dropped";

using StalledLogReaderTest = ReliabilityTest;

// The `count` in "... <count> info lines were dropped", 0 for other lines.
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

TEST_P(StalledLogReaderTest, CallsGoOnWhileNobodyReadsStderr) {
  const std::string fifo =
      absl::StrCat(std::getenv("TEST_TMPDIR"), "/stderr.fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0) << errno;
  // Open but never read until the calls are done.
  const int reader = open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0) << errno;

  TaskServerOptions options = ServerOptions({"--log_level=info"});
  // The server's stderr is the pipe (its stdout stays in the log file).
  options.launcher = {"/bin/sh", "-c", absl::StrCat("exec \"$@\" 2>", fifo),
                      "sh"};
  ASSERT_NO_FATAL_FAILURE(StartWithProject(options, "stalled-log"));
  v1::Task task;
  ASSERT_TRUE(
      CreateTask(*stub_, project_id_, "read me", absl::Seconds(10), 0, &task)
          .ok());

  std::atomic<int> answered{0};
  std::vector<std::thread> clients;
  const absl::Time started = absl::Now();
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&] {
      for (int i = 0; i < kCalls / kClients; ++i) {
        grpc::ClientContext context;
        context.set_deadline(
            absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
        v1::GetTaskRequest request;
        request.set_id(task.id());
        v1::Task got;
        if (!stub_->GetTask(&context, request, &got).ok()) return;
        ++answered;
      }
    });
  }
  for (std::thread& client : clients) client.join();
  const absl::Duration took = absl::Now() - started;
  EXPECT_EQ(answered.load(), kCalls)
      << "calls failed (waiting for a log nobody reads?); "
      << server_->LogTail();

  // Read the pipe again: what the server kept comes out, then how much it
  // dropped.
  std::string text;
  int64_t logged = 0, dropped = 0;
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (logged + dropped < kCalls && absl::Now() < give_up) {
    char chunk[65536];
    const ssize_t n = read(reader, chunk, sizeof(chunk));
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
  close(reader);
  EXPECT_GT(dropped, 0) << "the pipe never filled";
  EXPECT_GE(logged + dropped, kCalls) << logged << " calls logged, " << dropped
                                      << " lines dropped, of " << kCalls;
  EXPECT_TRUE(server_->Running()) << server_->LogTail();
  ReportFigure(absl::StrCat(kCalls, " GetTask calls in ", Millis(took),
                            " with stderr unread; ", logged, " logged, ",
                            dropped, " info lines dropped"));
}

INSTANTIATE_RELIABILITY_TEST_SUITE(StalledLogReaderTest);

}  // namespace
}  // namespace tasks::reliability
