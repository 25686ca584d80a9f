#ifndef TASKS_SERVICE_CONCURRENCY_LIMIT_H_
#define TASKS_SERVICE_CONCURRENCY_LIMIT_H_

#include <deque>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace tasks::service {

// ConcurrencyLimit
//
// At most `limit` holders at once; one more waits for a slot until its
// deadline, unless `max_waiters` already wait, when it is refused at once.
// Slots go to the waiters in the order they came.
// The server gives list calls one: each may hold a page of the heaviest rows
// (tens of MB once parsed) and a pooled connection for as long as its scan
// takes, so their number, not the worker threads', must bound what they take
// together; and waiting lists hold worker threads, so their number is
// bounded too, leaving the rest to writes. Thread-safe.
//
// Example:
//   ConcurrencyLimit lists(/*limit=*/4, /*max_waiters=*/64);
//   if (ConcurrencyLimit::Slot slot(lists, deadline); slot.held()) {
//     List();
//   } else {
//     Refuse();
//   }
class ConcurrencyLimit {
 public:
  ConcurrencyLimit(int limit, int max_waiters);
  ConcurrencyLimit(const ConcurrencyLimit&) = delete;
  ConcurrencyLimit& operator=(const ConcurrencyLimit&) = delete;

  // A slot taken for the scope, if one came free by the deadline (and no more
  // than max_waiters others were waiting for one).
  class Slot {
   public:
    Slot(ConcurrencyLimit& limit, absl::Time deadline);
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot();

    bool held() const { return held_; }

   private:
    ConcurrencyLimit& limit_;
    const bool held_;
  };

  // Holders right now.
  int in_use() const;

  // Waiting for a slot right now.
  int waiting() const;

 private:
  // One call waiting for a slot, until Release hands it one.
  struct Waiter {
    absl::CondVar handed_over;
    bool granted = false;
  };

  bool Acquire(absl::Time deadline);
  void Release();

  const int limit_;
  const int max_waiters_;
  mutable absl::Mutex mu_;
  int in_use_ ABSL_GUARDED_BY(mu_) = 0;
  // Oldest first. A slot that comes free goes to the oldest waiter, which
  // alone is woken; a newcomer never takes it first.
  std::deque<Waiter*> waiters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tasks::service

#endif  // TASKS_SERVICE_CONCURRENCY_LIMIT_H_
