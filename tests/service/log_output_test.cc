// LogOutput: routine lines leave in batches, urgent ones at once and in
// order, and a reader that stops reading costs dropped routine lines, never
// a blocked writer.

#include "service/log_output.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace tasks::service {
namespace {

class LogOutputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(pipe2(fds_, O_CLOEXEC), 0);
    ASSERT_EQ(fcntl(fds_[0], F_SETFL, O_NONBLOCK), 0);
  }
  void TearDown() override {
    close(fds_[0]);
    if (fds_[1] >= 0) close(fds_[1]);
  }

  // What the pipe holds now, without waiting.
  std::string ReadNow() {
    std::string text;
    char chunk[4096];
    for (;;) {
      const ssize_t n = read(fds_[0], chunk, sizeof(chunk));
      if (n <= 0) return text;
      text.append(chunk, static_cast<size_t>(n));
    }
  }

  // What the pipe holds once it holds `size` bytes, or after `timeout`.
  std::string ReadUntil(size_t size, absl::Duration timeout) {
    std::string text;
    const absl::Time give_up = absl::Now() + timeout;
    while (text.size() < size && absl::Now() < give_up) {
      pollfd readable = {fds_[0], POLLIN, 0};
      poll(&readable, 1, 10);
      text += ReadNow();
    }
    return text;
  }

  LogOutput::Options OptionsFor(absl::Duration flush_interval) {
    LogOutput::Options options;
    options.fd = fds_[1];
    options.flush_interval = flush_interval;
    return options;
  }

  int fds_[2] = {-1, -1};
};

TEST_F(LogOutputTest, RoutineLinesWaitForTheIntervalUrgentOnesDoNot) {
  LogOutput output(OptionsFor(absl::Hours(1)));
  output.Write("I one\n", /*urgent=*/false);
  output.Write("I two\n", /*urgent=*/false);
  EXPECT_EQ(ReadNow(), "") << "a routine line was written at once";
  output.Write("W three\n", /*urgent=*/true);
  EXPECT_EQ(ReadNow(), "I one\nI two\nW three\n");
}

TEST_F(LogOutputTest, TheBackgroundThreadWritesWithinTheInterval) {
  LogOutput output(OptionsFor(absl::Milliseconds(5)));
  const std::string line = "I call OK 0.412ms\n";
  output.Write(line, /*urgent=*/false);
  EXPECT_EQ(ReadUntil(line.size(), absl::Seconds(10)), line);
  // And again after the thread went idle.
  output.Write(line, /*urgent=*/false);
  EXPECT_EQ(ReadUntil(line.size(), absl::Seconds(10)), line);
}

TEST_F(LogOutputTest, FlushAndDestructionWriteEverythingQueued) {
  {
    LogOutput output(OptionsFor(absl::Hours(1)));
    output.Write("I a\n", /*urgent=*/false);
    output.Flush();
    EXPECT_EQ(ReadNow(), "I a\n");
    output.Write("I b\n", /*urgent=*/false);
  }
  EXPECT_EQ(ReadNow(), "I b\n");
}

// The pipe holds 4 KiB and nobody reads it: the background thread blocks in
// write(2), the writers go on, and the routine lines that do not fit are
// counted. Once read, every line is either delivered or counted.
TEST_F(LogOutputTest, AStalledReaderCostsRoutineLinesNotAWaitingWriter) {
  ASSERT_GT(fcntl(fds_[1], F_SETPIPE_SZ, 4096), 0);
  std::atomic<int64_t> reported{0};
  LogOutput::Options options = OptionsFor(absl::Milliseconds(1));
  options.max_buffered = 1000;
  options.on_dropped = [&reported](int64_t lines) { reported += lines; };
  LogOutput output(std::move(options));

  constexpr int kLines = 400;  // 400 x 50 B: more than the pipe and buffers
  const std::string line = absl::StrCat(std::string(48, 'x'), ".\n");
  for (int i = 0; i < kLines; ++i) {
    output.Write(line, /*urgent=*/false);
    if (i % 20 == 0) absl::SleepFor(absl::Milliseconds(2));
  }
  // Read the pipe until the thread has written what it kept.
  std::string read;
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (absl::Now() < give_up) {
    read += ReadUntil(read.size() + 1, absl::Milliseconds(50));
    if (read.size() / line.size() + reported.load() >= kLines) break;
  }
  const int64_t delivered = static_cast<int64_t>(read.size() / line.size());
  EXPECT_EQ(read.size() % line.size(), 0u) << "a line was cut";
  EXPECT_GT(reported.load(), 0) << "nothing was dropped: the pipe never filled";
  EXPECT_EQ(delivered + reported.load(), kLines)
      << delivered << " delivered, " << reported.load() << " reported dropped";
}

}  // namespace
}  // namespace tasks::service
