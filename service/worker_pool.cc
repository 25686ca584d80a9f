#include "service/worker_pool.h"

#include <algorithm>
#include <utility>

namespace tasks::service {

WorkerPool::WorkerPool(int max_threads, bool per_caller)
    : max_threads_(max_threads), per_caller_(per_caller) {}

WorkerPool::~WorkerPool() { Stop(); }

bool WorkerPool::TrySubmit(std::function<void()> work) {
  return Submit(std::move(work), [] { return std::string(); }) == kRunning;
}

WorkerPool::Admission WorkerPool::Submit(
    std::function<void()> work, absl::FunctionRef<std::string()> caller_of) {
  // Named before the lock is taken: it may check a token.
  std::string caller = per_caller_ ? caller_of() : std::string();
  absl::MutexLock lock(&mu_);
  if (stopping_) return kAllBusy;
  // Every queued item already has an idle thread on its way to it.
  const int queued = static_cast<int>(queue_.size());
  const bool idle_thread_free = idle_ > queued;
  if (!idle_thread_free && static_cast<int>(threads_.size()) >= max_threads_) {
    ++rejected_;
    return kAllBusy;
  }
  if (!caller.empty()) {
    const int in_use = static_cast<int>(threads_.size()) - idle_ + queued;
    const int free_threads = max_threads_ - in_use;
    const auto held = held_.find(caller);
    if (2 * in_use >= max_threads_ && held != held_.end() &&
        2 * held->second >= free_threads) {
      ++over_share_;
      return kOverShare;
    }
  }
  if (!idle_thread_free) {
    threads_.emplace_back([this] { Loop(); });
    ++idle_;  // Counted idle from now, so the next submit does not count it.
  }
  if (!caller.empty()) ++held_[caller];
  queue_.push_back({std::move(work), std::move(caller)});
  work_ready_.Signal();
  return kRunning;
}

WorkerPool::Stats WorkerPool::stats() const {
  absl::MutexLock lock(&mu_);
  Stats stats;
  stats.threads = static_cast<int>(threads_.size());
  stats.busy = std::max(0, stats.threads - idle_);  // 0 once stopped
  stats.queued = static_cast<int>(queue_.size());
  stats.rejected = rejected_;
  stats.over_share = over_share_;
  return stats;
}

void WorkerPool::Loop() {
  absl::MutexLock lock(&mu_);
  while (true) {
    // A condition variable wakes one worker; Mutex::Await would test every
    // idle worker's condition on each unlock.
    while (!stopping_ && queue_.empty()) work_ready_.Wait(&mu_);
    if (queue_.empty()) return;  // Stopping, and nothing left to run.
    Work work = std::move(queue_.front());
    queue_.pop_front();
    --idle_;
    mu_.Unlock();
    work.run();
    work.run = nullptr;  // Whatever it holds is released outside the lock.
    mu_.Lock();
    ++idle_;
    if (!work.caller.empty()) {
      const auto held = held_.find(work.caller);
      if (--held->second == 0) held_.erase(held);
    }
  }
}

void WorkerPool::Stop() {
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    threads.swap(threads_);
    work_ready_.SignalAll();
  }
  for (std::thread& thread : threads) thread.join();
}

}  // namespace tasks::service
