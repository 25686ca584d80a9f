#include "service/log_output.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/time/clock.h"

namespace tasks::service {
namespace {

// Urgent lines kept while the descriptor takes nothing, in max_buffered.
constexpr size_t kUrgentHeadroom = 4;

// How much of `text` the next write(2) takes: up to PIPE_BUF bytes ending
// at a line's end (a pipe takes that much in one piece, never interleaved
// with another writer's), or one longer line alone.
size_t NextPiece(absl::string_view text) {
  if (text.size() <= PIPE_BUF) return text.size();
  size_t end = text.rfind('\n', PIPE_BUF - 1);
  if (end == absl::string_view::npos) end = text.find('\n');
  return end == absl::string_view::npos ? text.size() : end + 1;
}

// Writes all of `text`. Returns the number of lines a failed write left
// unwritten (ENOSPC, EIO, EPIPE...): a logger has nowhere to report the
// error, only the count.
int64_t WriteAll(int fd, absl::string_view text) {
  while (!text.empty()) {
    const ssize_t written = ::write(fd, text.data(), NextPiece(text));
    if (written < 0) {
      if (errno == EINTR) continue;
      return std::count(text.begin(), text.end(), '\n');
    }
    text.remove_prefix(static_cast<size_t>(written));
  }
  return 0;
}

}  // namespace

LogOutput::LogOutput(Options options) : options_(std::move(options)) {
  // The writer takes no asynchronous signal: SIGTERM must go to the thread
  // that waits for it, whenever the first line is logged.
  sigset_t blocked, previous;
  sigfillset(&blocked);
  for (int synchronous : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS}) {
    sigdelset(&blocked, synchronous);
  }
  pthread_sigmask(SIG_BLOCK, &blocked, &previous);
  writer_ = std::thread([this] { WriterLoop(); });
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

LogOutput::~LogOutput() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    wake_writer_.Signal();
  }
  writer_.join();
}

void LogOutput::Write(absl::string_view line, bool urgent) {
  absl::MutexLock lock(&mu_);
  const size_t held = buffer_.size() + being_written_ + line.size();
  if (held > options_.max_buffered * (urgent ? kUrgentHeadroom : 1)) {
    Dropped(1);
    return;
  }
  buffer_.append(line.data(), line.size());
  queued_ += line.size();
  if (urgent) {
    // Once an urgent line gave up, the next ones do not wait until the
    // descriptor takes something again: a burst of errors must not cost a
    // second each.
    if (written_ == gave_up_at_) return;
    if (!AwaitWritten(queued_, absl::Now() + options_.urgent_wait)) {
      gave_up_at_ = written_;
    }
  } else if (writer_idle_) {
    writer_idle_ = false;
    wake_writer_.Signal();
  }
}

bool LogOutput::Flush(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  return AwaitWritten(queued_, deadline);
}

bool LogOutput::AwaitWritten(uint64_t through, absl::Time deadline) {
  if (written_ >= through) return true;
  hurry_ = true;
  wake_writer_.Signal();
  while (written_ < through) {
    if (written_cv_.WaitWithDeadline(&mu_, deadline)) break;
  }
  return written_ >= through;
}

void LogOutput::Dropped(int64_t lines) {
  dropped_ += lines;
  dropped_total_.fetch_add(lines, std::memory_order_relaxed);
}

void LogOutput::WriterLoop() {
  std::string batch;
  mu_.Lock();
  while (true) {
    // Idle: asleep until a line comes, not woken every interval.
    while (buffer_.empty() && dropped_ == 0 && !stopping_) {
      writer_idle_ = true;
      wake_writer_.Wait(&mu_);
    }
    writer_idle_ = false;
    if (buffer_.empty() && dropped_ == 0) break;  // stopping, all written
    // The lines of the next interval go out with these, unless someone
    // waits for them.
    const absl::Time gathered = absl::Now() + options_.flush_interval;
    while (!hurry_ && !stopping_ &&
           !wake_writer_.WaitWithDeadline(&mu_, gathered)) {
    }
    hurry_ = false;
    const int64_t dropped = std::exchange(dropped_, 0);
    batch.clear();
    batch.swap(buffer_);  // buffer_ keeps the old batch's capacity
    being_written_ = batch.size();
    const uint64_t through = queued_;
    mu_.Unlock();

    if (dropped > 0 && options_.dropped_line) {
      WriteAll(options_.fd, options_.dropped_line(dropped));
    }
    const int64_t lost = WriteAll(options_.fd, batch);

    mu_.Lock();
    being_written_ = 0;
    written_ = through;
    if (lost > 0) Dropped(lost);
    written_cv_.SignalAll();
  }
  mu_.Unlock();
}

}  // namespace tasks::service
