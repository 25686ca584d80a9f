#ifndef TASKS_SERVICE_CONCURRENCY_LIMIT_H_
#define TASKS_SERVICE_CONCURRENCY_LIMIT_H_

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/call_cancellation.h"

namespace tasks::service {

// ConcurrencyLimit
//
// At most `limit` holders at once; one more waits for a slot until its
// deadline, unless `max_waiters` already wait, or the waiters' weights (what
// each holds while it waits, in any unit) would pass `max_waiting_weight`,
// or its key's waiters (its caller's) would pass their share (a `shares`th
// of the places and of the weight) or already hold half of the places or of
// the weight still free, when it is refused at once: callers sending more
// than the others cannot take every place and have theirs refused, however
// many they are.
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
  enum class Outcome { kHeld, kRefused, kOverShare, kCancelled };

 public:
  ConcurrencyLimit(int limit, int max_waiters,
                   int64_t max_waiting_weight = INT64_MAX, int shares = 1);
  ConcurrencyLimit(const ConcurrencyLimit&) = delete;
  ConcurrencyLimit& operator=(const ConcurrencyLimit&) = delete;

  // A slot taken for the scope, if one came free by the deadline (and no more
  // than max_waiters others were waiting for one, nor would the waiters'
  // weights pass max_waiting_weight with `weight`, nor those of `key` their
  // share: a free slot is taken whatever the weight and key). `key` is
  // asked for only when the slot must be waited for; an empty key is no
  // caller's, bound by the totals only.
  class Slot {
   public:
    Slot(ConcurrencyLimit& limit, absl::Time deadline, int64_t weight = 1);
    // A slot is neither taken nor waited for once `cancellation` (when not
    // null) is cancelled: its call's client is gone.
    Slot(ConcurrencyLimit& limit, absl::Time deadline, int64_t weight,
         absl::FunctionRef<std::string()> key,
         CallCancellation* cancellation = nullptr);
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot();

    bool held() const { return outcome_ == Outcome::kHeld; }
    // Not held because its key's waiters had their share.
    bool over_share() const { return outcome_ == Outcome::kOverShare; }
    // Not held because its call was cancelled (not counted as refused).
    bool cancelled() const { return outcome_ == Outcome::kCancelled; }

   private:
    ConcurrencyLimit& limit_;
    const Outcome outcome_;
  };

  // Holders right now.
  int in_use() const;

  // Waiting for a slot right now.
  int waiting() const;

  // What the limit has done, for metrics.
  struct Stats {
    int in_use = 0;
    int waiting = 0;
    // Calls refused since the limit was made: every place to wait (or
    // their weight) taken, or no slot by their deadline...
    int64_t refused = 0;
    // ... and for their caller's share.
    int64_t over_share = 0;
  };
  Stats stats() const;

 private:
  // What the waiters of one key hold.
  struct Share {
    int waiters = 0;
    int64_t weight = 0;
  };

  Outcome Acquire(absl::Time deadline, int64_t weight,
                  absl::FunctionRef<std::string()> key,
                  CallCancellation* cancellation);
  void Release();

  const int limit_;
  const int max_waiters_;
  const int64_t max_waiting_weight_;
  const bool shared_;  // shares > 1
  const Share max_share_;
  mutable absl::Mutex mu_;
  int in_use_ ABSL_GUARDED_BY(mu_) = 0;
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t waiting_weight_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t refused_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t over_share_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, Share> shares_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tasks::service

#endif  // TASKS_SERVICE_CONCURRENCY_LIMIT_H_
