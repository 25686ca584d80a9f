#ifndef TASKS_SERVICE_CONCURRENCY_LIMIT_H_
#define TASKS_SERVICE_CONCURRENCY_LIMIT_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace tasks::service {

// ConcurrencyLimit
//
// At most `limit` holders at once; one more waits for a slot until its
// deadline, unless `max_waiters` already wait, or the waiters' weights (what
// each holds while it waits, in any unit) would pass `max_waiting_weight`,
// when it is refused at once.
// The server gives list calls one: each may hold a page of the heaviest rows
// (tens of MB once parsed) and a pooled connection for as long as its scan
// takes, so their number, not the worker threads', must bound what they take
// together; and waiting lists hold worker threads, so their number is
// bounded too, leaving the rest to writes. Batch writes get one too, and
// their waiting is bounded by the bytes of their parsed requests as well.
// Thread-safe.
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
  ConcurrencyLimit(int limit, int max_waiters,
                   int64_t max_waiting_weight = INT64_MAX);
  ConcurrencyLimit(const ConcurrencyLimit&) = delete;
  ConcurrencyLimit& operator=(const ConcurrencyLimit&) = delete;

  // A slot taken for the scope, if one came free by the deadline (and no more
  // than max_waiters others were waiting for one, nor would the waiters'
  // weights pass max_waiting_weight with `weight`: a free slot is taken
  // whatever the weight).
  class Slot {
   public:
    Slot(ConcurrencyLimit& limit, absl::Time deadline, int64_t weight = 1);
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
  bool Acquire(absl::Time deadline, int64_t weight);
  void Release();

  const int limit_;
  const int max_waiters_;
  const int64_t max_waiting_weight_;
  mutable absl::Mutex mu_;
  int in_use_ ABSL_GUARDED_BY(mu_) = 0;
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t waiting_weight_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tasks::service

#endif  // TASKS_SERVICE_CONCURRENCY_LIMIT_H_
