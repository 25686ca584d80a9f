// LogOutput: routine lines leave in batches, urgent ones at once and in
// order, and a reader that stops reading costs dropped routine lines, never
// a blocked writer.

#include "service/log_output.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
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
    if (fds_[0] >= 0) close(fds_[0]);
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

// The pipe is made as small as it goes (a page) and nobody reads it: the
// writer thread blocks in write(2), Write goes on, and the routine lines
// that do not fit are dropped. Once the pipe is read, every line is either
// delivered or in the count the note reports.
TEST_F(LogOutputTest, AStalledReaderCostsRoutineLinesNotAWaitingWriter) {
  const int capacity = fcntl(fds_[1], F_SETPIPE_SZ, 4096);
  ASSERT_GT(capacity, 0);
  LogOutput::Options options = OptionsFor(absl::Milliseconds(1));
  options.max_buffered = 1000;
  options.dropped_line = [](int64_t count) {
    return absl::StrCat("dropped ", count, "\n");
  };
  LogOutput output(std::move(options));

  const std::string line = absl::StrCat(std::string(48, 'x'), ".\n");
  // Three times what the pipe and the buffer hold.
  const int lines = 3 * (capacity + 1000) / static_cast<int>(line.size());
  for (int i = 0; i < lines; ++i) {
    output.Write(line, /*urgent=*/false);
    if (i % 20 == 0) absl::SleepFor(absl::Milliseconds(2));
  }
  EXPECT_GT(output.dropped_total(), 0) << "the pipe never filled";

  // Read until every line is delivered or reported dropped.
  int64_t delivered = 0, reported = 0;
  std::string pending;
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (delivered + reported < lines && absl::Now() < give_up) {
    pending += ReadUntil(1, absl::Milliseconds(50));
    size_t end;
    while ((end = pending.find('\n')) != std::string::npos) {
      const std::string got = pending.substr(0, end + 1);
      pending.erase(0, end + 1);
      int64_t count = 0;
      if (got == line) {
        ++delivered;
      } else if (absl::SimpleAtoi(absl::StripPrefix(
                                      absl::StripSuffix(got, "\n"), "dropped "),
                                  &count)) {
        reported += count;
      } else {
        ADD_FAILURE() << "not a line written: " << got;
      }
    }
  }
  EXPECT_EQ(pending, "") << "a line was cut";
  EXPECT_EQ(reported, output.dropped_total());
  // What the pipe held, plus max_buffered: queued and being written alike.
  EXPECT_LE(delivered, (capacity + 1000) / static_cast<int64_t>(line.size()));
  EXPECT_EQ(delivered + reported, lines)
      << delivered << " delivered, " << reported << " reported dropped";
}

// Nobody reads the pipe: an urgent line waits `urgent_wait` (the next one
// not at all) and a flush until its deadline; once the pipe is read again
// every line arrives, whole and in order.
TEST_F(LogOutputTest,
       AStalledReaderHoldsUrgentLinesAndFlushesOnlyUntilADeadline) {
  const int capacity = fcntl(fds_[1], F_SETPIPE_SZ, 4096);
  ASSERT_GT(capacity, 0);
  LogOutput::Options options = OptionsFor(absl::Hours(1));
  options.urgent_wait = absl::Seconds(1);
  LogOutput output(std::move(options));
  std::string expected;
  for (int i = 0; expected.size() < 2u * capacity; ++i) {
    const std::string line =
        absl::StrCat("I routine line ", 100000 + i, std::string(17, '.'), "\n");
    output.Write(line, /*urgent=*/false);
    expected += line;
  }
  const std::string warning = "W the urgent line\n";
  const std::string error = "E the next urgent line\n";
  expected += warning + error;

  absl::Time start = absl::Now();
  output.Write(warning, /*urgent=*/true);
  const absl::Duration urgent_took = absl::Now() - start;
  EXPECT_GE(urgent_took, absl::Milliseconds(750));
  EXPECT_LT(urgent_took, absl::Seconds(5));
  // The descriptor took nothing since: the next urgent line does not wait.
  start = absl::Now();
  output.Write(error, /*urgent=*/true);
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(500));
  start = absl::Now();
  EXPECT_FALSE(output.Flush(absl::Now() + absl::Milliseconds(100)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));

  std::string read = ReadNow();
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (!output.Flush(absl::Now() + absl::Milliseconds(20)) &&
         absl::Now() < give_up) {
    read += ReadNow();
  }
  read += ReadNow();
  EXPECT_EQ(read, expected);
}

// The reader went away (SIGPIPE ignored, as the server does): the lines
// are counted as dropped, and nothing waits for them.
TEST_F(LogOutputTest, AFailedWriteCountsItsLinesAsDropped) {
  ASSERT_NE(signal(SIGPIPE, SIG_IGN), SIG_ERR);
  close(fds_[0]);
  fds_[0] = -1;
  LogOutput output(OptionsFor(absl::Hours(1)));
  output.Write("I one\n", /*urgent=*/false);
  output.Write("I two\n", /*urgent=*/false);
  output.Write("W three\n", /*urgent=*/true);
  EXPECT_TRUE(output.Flush(absl::Now() + absl::Seconds(10)));
  EXPECT_EQ(output.dropped_total(), 3);
}

}  // namespace
}  // namespace tasks::service
