#ifndef TASKS_SERVICE_LOG_OUTPUT_H_
#define TASKS_SERVICE_LOG_OUTPUT_H_

#include <unistd.h>

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
// Where the logger's lines go: a file descriptor, written in batches. A
// write(2) per line was a sixth of a GetTask's server CPU at the default
// log level; here a background thread writes what the last
// `flush_interval` gathered in one call, as glog does for its INFO lines.
// Urgent lines (warnings and errors) are written before Write returns,
// after every line buffered before them, so a crash loses at most the last
// interval's routine lines and never the line that explains it.
//
// A reader that stops reading (a full pipe) stalls only the background
// thread: routine lines beyond `max_buffered` bytes are dropped and counted,
// and `on_dropped` is told how many once writing resumes. Urgent lines
// still wait for the descriptor, as every line did before.
//
// Thread-safe. Example:
//   LogOutput output({.fd = STDERR_FILENO});
//   output.Write("I ... GetTask OK 0.412ms\n", /*urgent=*/false);
//   output.Flush();  // on exit: nothing stays buffered
class LogOutput {
 public:
  struct Options {
    int fd = STDERR_FILENO;
    absl::Duration flush_interval = absl::Milliseconds(1);
    size_t max_buffered = size_t{1} << 20;
    // Called after a write with the number of routine lines dropped since
    // the previous call, outside every lock (it may log).
    std::function<void(int64_t)> on_dropped;
  };

  explicit LogOutput(Options options);
  LogOutput(const LogOutput&) = delete;
  LogOutput& operator=(const LogOutput&) = delete;
  // Writes what is buffered.
  ~LogOutput();

  // Queues `line` (whole lines, newline included); writes it and everything
  // before it at once when `urgent`.
  void Write(absl::string_view line, bool urgent);

  // Writes every line queued so far before returning.
  void Flush();

 private:
  void FlushLoop();

  const Options options_;
  // Held across a write: batches reach the descriptor in the order their
  // lines were queued.
  absl::Mutex write_mu_;
  std::string writing_ ABSL_GUARDED_BY(write_mu_);  // kept for its capacity
  absl::Mutex mu_;
  std::string buffer_ ABSL_GUARDED_BY(mu_);
  int64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  bool flusher_waiting_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::CondVar wake_;
  std::thread flusher_;
};

}  // namespace tasks::service

#endif  // TASKS_SERVICE_LOG_OUTPUT_H_
