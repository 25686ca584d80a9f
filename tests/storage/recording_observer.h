#ifndef TASKS_TESTS_STORAGE_RECORDING_OBSERVER_H_
#define TASKS_TESTS_STORAGE_RECORDING_OBSERVER_H_

#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "storage/store_observer.h"

namespace tasks::storage {

// A StoreObserver that keeps what it is told, for the engine's unit tests.
class RecordingObserver final : public StoreObserver {
 public:
  void OnPoolChanged(int size, int open, int in_use) override {
    absl::MutexLock lock(&mu_);
    open_ = open;
    in_use_ = in_use;
  }

  void OnPoolWait(absl::Duration wait) override {
    absl::MutexLock lock(&mu_);
    waits_.push_back(wait);
  }

  void OnGroupCommit(int writes) override {
    absl::MutexLock lock(&mu_);
    groups_.push_back(writes);
  }

  void OnPipelineChanged(int connections, int ready) override {
    absl::MutexLock lock(&mu_);
    pipeline_ready_.push_back(ready);
  }

  // The latest OnPoolChanged counts.
  int open() const {
    absl::MutexLock lock(&mu_);
    return open_;
  }
  int in_use() const {
    absl::MutexLock lock(&mu_);
    return in_use_;
  }

  // Every OnPoolWait, and every OnGroupCommit, in order.
  std::vector<absl::Duration> waits() const {
    absl::MutexLock lock(&mu_);
    return waits_;
  }
  std::vector<int> groups() const {
    absl::MutexLock lock(&mu_);
    return groups_;
  }
  // Every OnPipelineChanged's `ready`, in order.
  std::vector<int> pipeline_ready() const {
    absl::MutexLock lock(&mu_);
    return pipeline_ready_;
  }

 private:
  mutable absl::Mutex mu_;
  int open_ ABSL_GUARDED_BY(mu_) = 0;
  int in_use_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<absl::Duration> waits_ ABSL_GUARDED_BY(mu_);
  std::vector<int> groups_ ABSL_GUARDED_BY(mu_);
  std::vector<int> pipeline_ready_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tasks::storage

#endif  // TASKS_TESTS_STORAGE_RECORDING_OBSERVER_H_
