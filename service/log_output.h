#ifndef TASKS_SERVICE_LOG_OUTPUT_H_
#define TASKS_SERVICE_LOG_OUTPUT_H_

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace tasks::service {

// LogOutput
//
// Where the logger's lines go: a file descriptor, written in batches by a
// thread of its own, so that no call waits for write(2): what
// `flush_interval` gathered goes out in a few writes. An urgent line (a
// warning or an error) wakes the thread at once, and Write waits until the
// line and every one before it are written, so a crash loses only routine
// lines, never the one that explains it.
//
// A reader that stops reading (a full pipe, a stuck log collector, a
// terminal on Ctrl-S) therefore blocks nothing but that thread. Routine
// lines beyond `max_buffered` bytes are dropped and counted (`dropped_line`
// formats the note written when writing resumes); urgent lines beyond
// 4 x `max_buffered` too. An urgent Write waits at most `urgent_wait`, and
// once one gave up the next ones do not wait until the descriptor takes
// something; a Flush waits until its deadline. Each write(2) ends at a
// line's end and holds at most PIPE_BUF bytes when it can, so lines stay
// whole beside other writers of the same pipe.
//
// Thread-safe. Example:
//   LogOutput output(LogOutput::Options{});  // stderr
//   output.Write("I ... GetTask OK 0.412ms\n", /*urgent=*/false);
//   output.Flush(absl::Now() + absl::Seconds(2));  // on exit
class LogOutput {
 public:
  struct Options {
    int fd = STDERR_FILENO;
    absl::Duration flush_interval = absl::Milliseconds(1);
    size_t max_buffered = size_t{1} << 20;
    absl::Duration urgent_wait = absl::Seconds(1);
    // The line (newline included) that reports `count` lines dropped since
    // the last report; written ahead of the next batch. None when unset.
    std::function<std::string(int64_t count)> dropped_line;
  };

  explicit LogOutput(Options options);
  LogOutput(const LogOutput&) = delete;
  LogOutput& operator=(const LogOutput&) = delete;
  // Writes what is queued (waiting for the descriptor as long as it takes).
  ~LogOutput();

  // Queues `line` (whole lines, newline included); when `urgent`, waits up
  // to `urgent_wait` for it and everything before it to be written.
  void Write(absl::string_view line, bool urgent) ABSL_LOCKS_EXCLUDED(mu_);

  // Waits until every line queued so far is written, or `deadline`. True
  // when they all were.
  bool Flush(absl::Time deadline = absl::InfiniteFuture())
      ABSL_LOCKS_EXCLUDED(mu_);

  // Lines dropped so far, full buffer or failed write (for a metric: while
  // the reader is stuck, the note about them waits too).
  int64_t dropped_total() const {
    return dropped_total_.load(std::memory_order_relaxed);
  }

 private:
  void WriterLoop() ABSL_LOCKS_EXCLUDED(mu_);
  // Waits until the bytes queued through `through` are written.
  bool AwaitWritten(uint64_t through, absl::Time deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Dropped(int64_t lines) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  absl::Mutex mu_;
  std::string buffer_ ABSL_GUARDED_BY(mu_);
  // Bytes taken from buffer_ by the write going on: they count against
  // max_buffered too.
  size_t being_written_ ABSL_GUARDED_BY(mu_) = 0;
  // Bytes ever queued, and of those the ones written (or given up on).
  uint64_t queued_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t written_ ABSL_GUARDED_BY(mu_) = 0;
  // written_ when an urgent line last gave up waiting.
  uint64_t gave_up_at_ ABSL_GUARDED_BY(mu_) = UINT64_MAX;
  int64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;  // not yet reported
  std::atomic<int64_t> dropped_total_{0};
  bool writer_idle_ ABSL_GUARDED_BY(mu_) = false;
  bool hurry_ ABSL_GUARDED_BY(mu_) = false;  // someone waits: no interval
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::CondVar wake_writer_;
  absl::CondVar written_cv_;
  std::thread writer_;  // last: started once the rest is initialized
};

}  // namespace tasks::service

#endif  // TASKS_SERVICE_LOG_OUTPUT_H_
