#ifndef TASKS_SERVICE_CHANGE_FEED_H_
#define TASKS_SERVICE_CHANGE_FEED_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "storage/task_changes.h"
#include "storage/task_store.h"

namespace tasks::service {

// ChangeFeed
//
// The server's one reader of the change log (storage/task_changes.h), shared
// by every WatchTasks stream: it keeps the most recent changes in a bounded
// ring of immutable, shared entries, from which each stream takes the next
// change after its own position (a stream that falls behind the ring reads
// that part from the store itself, ReadStored). When woken, the feed's
// thread numbers the changes committed so far (TaskStore::SequenceChanges)
// and reads them in pages of `read_limit` until none is left, then calls the
// listener; at most once per `min_read_interval`. It is woken by
//   - Notify(): a write committed on this server that a stream here can
//     see, so that stream gets its event within milliseconds;
//   - a listener thread looping TaskStore::WaitForChanges (1 s, or
//     `poll_interval` when shorter, which bounds how long Stop() waits): a
//     NOTIFY from another replica (PostgreSQL);
//   - every `poll_interval`: replicas behind PgBouncer, which passes no
//     NOTIFY, and other processes writing the same SQLite file.
// The feed reads only while at least one stream watches (AddWatcher); with
// none it makes no store call but the trim and, after this server's writes,
// one SequenceChanges per `poll_interval` (on PostgreSQL every ListTasks
// position names the changes not yet numbered, so they must not pile up
// while nobody watches). An idle server pays nothing.
// When streams arrive again it starts over from the present (the ring then
// holds only changes read since). Every `trim_interval`, watched or not, it
// numbers the changes committed so far and deletes those older than
// `retention` (TaskStore::TrimChanges trims numbered changes only). So on
// PostgreSQL a write through a server without streams is numbered, and its
// NOTIFY sent, by the next read of a server with streams: within that
// server's `poll_interval`. A
// store error is logged and retried with backoff (100 ms doubling to 5 s);
// nothing the store does stops the feed. Thread-safe.
//
// Example:
//   ChangeFeed feed(store, ChangeFeed::Options());
//   feed.Start([&](const ChangeFeed::Batch& batch) { WakeStreams(batch); });
//   feed.AddWatcher();
//   ChangeFeed::Lookup next = feed.After(position.seq());
//   ...
//   feed.Stop();  // Before the store goes.
class ChangeFeed {
 public:
  struct Options {
    absl::Duration poll_interval = absl::Milliseconds(250);
    absl::Duration retention = absl::Hours(24);
    absl::Duration trim_interval = absl::Minutes(1);
    // Changes kept, and the memory their tasks take (a task may hold 1,000
    // metadata values): the older ones are dropped first.
    int ring_capacity = 4096;
    int64_t ring_capacity_bytes = int64_t{32} << 20;
    // Changes per ReadChanges of the feed.
    int read_limit = 256;
    // Reads start at most this often: under a stream of writes one read
    // takes the changes of many, rather than each write waking the feed
    // (a context switch and a store read apiece) and taking CPU from the
    // writes. It adds at most this much to an event's latency.
    absl::Duration min_read_interval = absl::Milliseconds(1);
    // How long a store call of the feed may take.
    absl::Duration store_call_timeout = absl::Seconds(10);
  };

  using ChangePtr = std::shared_ptr<const storage::TaskChange>;

  // What the ring gained, for the listener.
  struct Batch {
    // The ring started over: every stream must look again.
    bool restarted = false;
    // The changes added, all of them: seqs (after_seq, through_seq].
    int64_t after_seq = 0;
    int64_t through_seq = 0;
    // Their tasks' projects (a task without one adds none).
    absl::flat_hash_set<int64_t> projects;
  };

  // What the ring holds after a position.
  struct Lookup {
    enum class Kind {
      kChange,    // `change` is the first kept change after it
      kUpToDate,  // no change after it has been read yet: wait for the
                  // listener
      kBehind,    // changes after it were dropped from the ring (or never
                  // read into it): read them with ReadStored
    };
    Kind kind = Kind::kUpToDate;
    ChangePtr change;
    // Every change up to this seq has been read by the feed, so a store read
    // started after this lookup sees all of them.
    int64_t read_through = 0;
  };

  // `store` must outlive the feed.
  ChangeFeed(storage::TaskStore& store, Options options);
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;
  ~ChangeFeed();  // Stop().

  // Starts the threads. `on_changes` is called from the feed's thread, never
  // with a lock of the feed held, after changes were added to the ring (or
  // the ring started over); nothing is added to the ring before it returns.
  // Call once.
  void Start(std::function<void(const Batch&)> on_changes);

  // Stops the threads, waiting for a store call under way (bounded by
  // `store_call_timeout`). `on_changes` is not called once it returns.
  // Idempotent.
  void Stop();

  // The projects a stream can see the tasks of; unset: any project (see
  // WatchCursor::VisibleProjects).
  using Interest = std::optional<absl::flat_hash_set<int64_t>>;

  // A write committed on this server, to tasks of `project` (unset: not
  // known, as for a delete by id). It wakes the feed only when a stream
  // here can see `project`; otherwise its change is read at the next poll:
  // reading (and on PostgreSQL numbering) the log for it now would cost the
  // writes and show nobody anything. The price: a stream on another replica
  // that can see it gets it with that replica's poll or the next NOTIFY,
  // not this write's. Without watchers, atomics only (the first write of
  // each poll interval also takes the lock).
  void Notify(std::optional<int64_t> project = std::nullopt);

  // A stream starts or stops watching, with what it can see (the same for
  // both calls); the feed reads only while some do.
  void AddWatcher(const Interest& interest = std::nullopt);
  void RemoveWatcher(const Interest& interest = std::nullopt);

  // The first kept change with a seq above `after_seq` (see Lookup).
  Lookup After(int64_t after_seq) const;

  // TaskStore::LatestChangePosition and ReadChanges, with the feed's store
  // call timeout: for streams, on a worker thread (they wait on the store).
  absl::StatusOr<storage::ChangePosition> Latest() const;
  absl::StatusOr<std::vector<storage::TaskChange>> ReadStored(
      const storage::ChangePosition& after, int limit) const;

  // Every change up to this seq has been read by the feed (0 before its
  // first read): a position at or below it is one the database gave out.
  int64_t read_through() const;

  // Changes in the ring now.
  int ring_size() const;

 private:
  void RunFeed();
  void RunListener();
  // Starts the ring over at the store's present.
  absl::Status Restart();
  // Numbers and reads every change committed so far into the ring.
  absl::Status ReadAll();
  // Numbers the changes of this server's writes while nobody watches here.
  void NumberUnwatched();
  void Trim();
  // Logs `status` of `what` unless it is the error logged last time.
  void LogError(const char* what, const absl::Status& status,
                std::string& last);

  storage::TaskStore& store_;
  const Options options_;
  std::function<void(const Batch&)> on_changes_;
  std::atomic<int> watchers_{0};
  // A write committed here while nobody watched, not numbered yet.
  std::atomic<bool> number_pending_{false};

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  // The streams' interests: how many can see any project, and how many each
  // named project.
  int any_project_watchers_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<int64_t, int> project_watchers_ ABSL_GUARDED_BY(mu_);
  // The ring holds every change with a seq in (base_seq_, read_seq_].
  std::deque<ChangePtr> ring_ ABSL_GUARDED_BY(mu_);
  int64_t ring_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t base_seq_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t read_seq_ ABSL_GUARDED_BY(mu_) = 0;

  // The feed thread's own.
  bool active_ = false;  // reading since the last Restart()
  storage::ChangePosition position_;
  std::string last_read_error_;
  std::string last_trim_error_;
  std::string last_number_error_;

  std::thread feed_thread_;
  std::thread listener_thread_;
};

}  // namespace tasks::service

#endif  // TASKS_SERVICE_CHANGE_FEED_H_
