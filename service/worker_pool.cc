#include "service/worker_pool.h"

#include <algorithm>
#include <utility>

namespace tasks::service {

WorkerPool::WorkerPool(int max_threads) : max_threads_(max_threads) {}

WorkerPool::~WorkerPool() { Stop(); }

bool WorkerPool::TrySubmit(std::function<void()> work) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return false;
  // Every queued item already has an idle thread on its way to it.
  const bool idle_thread_free = idle_ > static_cast<int>(queue_.size());
  if (!idle_thread_free) {
    if (static_cast<int>(threads_.size()) >= max_threads_) {
      ++rejected_;
      return false;
    }
    threads_.emplace_back([this] { Loop(); });
    ++idle_;  // Counted idle from now, so the next submit does not count it.
  }
  queue_.push_back(std::move(work));
  work_ready_.Signal();
  return true;
}

WorkerPool::Stats WorkerPool::stats() const {
  absl::MutexLock lock(&mu_);
  Stats stats;
  stats.threads = static_cast<int>(threads_.size());
  stats.busy = std::max(0, stats.threads - idle_);  // 0 once stopped
  stats.queued = static_cast<int>(queue_.size());
  stats.rejected = rejected_;
  return stats;
}

void WorkerPool::Loop() {
  absl::MutexLock lock(&mu_);
  while (true) {
    // A condition variable wakes one worker; Mutex::Await would test every
    // idle worker's condition on each unlock.
    while (!stopping_ && queue_.empty()) work_ready_.Wait(&mu_);
    if (queue_.empty()) return;  // Stopping, and nothing left to run.
    std::function<void()> work = std::move(queue_.front());
    queue_.pop_front();
    --idle_;
    mu_.Unlock();
    work();
    work = nullptr;  // Whatever it holds is released outside the lock.
    mu_.Lock();
    ++idle_;
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
