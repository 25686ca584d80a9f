#include "service/log_output.h"

#include <cerrno>
#include <utility>

namespace tasks::service {
namespace {

// All of `text`, or as much as the descriptor takes before an error (which
// a logger has nowhere to report).
void WriteAll(int fd, absl::string_view text) {
  while (!text.empty()) {
    const ssize_t written = ::write(fd, text.data(), text.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return;
    }
    text.remove_prefix(static_cast<size_t>(written));
  }
}

}  // namespace

LogOutput::LogOutput(Options options)
    : options_(std::move(options)), flusher_([this] { FlushLoop(); }) {}

LogOutput::~LogOutput() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    wake_.Signal();
  }
  flusher_.join();
  Flush();
}

void LogOutput::Write(absl::string_view line, bool urgent) {
  {
    absl::MutexLock lock(&mu_);
    if (!urgent && buffer_.size() + line.size() > options_.max_buffered) {
      ++dropped_;
      return;
    }
    buffer_.append(line.data(), line.size());
    if (!urgent) {
      if (flusher_waiting_) {
        flusher_waiting_ = false;
        wake_.Signal();
      }
      return;
    }
  }
  Flush();
}

void LogOutput::Flush() {
  int64_t dropped;
  {
    absl::MutexLock write_lock(&write_mu_);
    {
      absl::MutexLock lock(&mu_);
      writing_.swap(buffer_);
      dropped = std::exchange(dropped_, 0);
    }
    WriteAll(options_.fd, writing_);
    writing_.clear();
  }
  if (dropped > 0 && options_.on_dropped) options_.on_dropped(dropped);
}

void LogOutput::FlushLoop() {
  mu_.Lock();
  for (;;) {
    // Idle: asleep until a line comes, not woken every interval.
    while (buffer_.empty() && dropped_ == 0 && !stopping_) {
      flusher_waiting_ = true;
      wake_.Wait(&mu_);
    }
    flusher_waiting_ = false;
    // The lines of the next interval go out with this one. Only the
    // destructor wakes this wait.
    const absl::Time gathered = absl::Now() + options_.flush_interval;
    while (!stopping_ && !wake_.WaitWithDeadline(&mu_, gathered)) {
    }
    if (stopping_) break;  // the destructor writes the rest
    mu_.Unlock();
    Flush();
    mu_.Lock();
  }
  mu_.Unlock();
}

}  // namespace tasks::service
