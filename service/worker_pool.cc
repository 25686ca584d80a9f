#include "service/worker_pool.h"

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
    if (static_cast<int>(threads_.size()) >= max_threads_) return false;
    threads_.emplace_back([this] { Loop(); });
    ++idle_;  // Counted idle from now, so the next submit does not count it.
  }
  queue_.push_back(std::move(work));
  return true;
}

void WorkerPool::Loop() {
  absl::MutexLock lock(&mu_);
  while (true) {
    mu_.Await(absl::Condition(
        +[](WorkerPool* pool) ABSL_EXCLUSIVE_LOCKS_REQUIRED(pool->mu_) {
          return pool->stopping_ || !pool->queue_.empty();
        },
        this));
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
  }
  for (std::thread& thread : threads) thread.join();
}

}  // namespace tasks::service
