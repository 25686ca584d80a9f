#include "service/change_feed.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/call_deadline.h"
#include "common/status_macros.h"
#include "service/logging.h"

namespace tasks::service {
namespace {

constexpr absl::Duration kFirstBackoff = absl::Milliseconds(100);
constexpr absl::Duration kMaxBackoff = absl::Seconds(5);
// How long one WaitForChanges waits for a NOTIFY, at most: a NOTIFY ends
// the wait at once, so a shorter one costs a loop, and bounds how long
// Stop() waits for the listener (a SQLite store just sleeps it out).
constexpr absl::Duration kMaxListenWait = absl::Seconds(1);

// What a change in the ring takes in memory. The parsed task, not its wire
// size: a metadata null is 2 bytes on the wire and some 100 as a Value in
// its Struct's map, so 4,096 changes counted by their wire size held some
// 250 MiB, not the 32 the bound meant.
int64_t MemoryOf(const storage::TaskChange& change) {
  return static_cast<int64_t>(sizeof(storage::TaskChange) +
                              change.task.SpaceUsedLong());
}

absl::Duration NextBackoff(absl::Duration backoff) {
  return backoff == absl::ZeroDuration() ? kFirstBackoff
                                         : std::min(2 * backoff, kMaxBackoff);
}

}  // namespace

ChangeFeed::ChangeFeed(storage::TaskStore& store, Options options)
    : store_(store), options_(options) {}

ChangeFeed::~ChangeFeed() { Stop(); }

void ChangeFeed::Start(std::function<void(const Batch&)> on_changes) {
  on_changes_ = std::move(on_changes);
  feed_thread_ = std::thread([this] { RunFeed(); });
  listener_thread_ = std::thread([this] { RunListener(); });
}

void ChangeFeed::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (feed_thread_.joinable()) feed_thread_.join();
  if (listener_thread_.joinable()) listener_thread_.join();
}

void ChangeFeed::Notify(std::optional<int64_t> project) {
  if (watchers_.load(std::memory_order_relaxed) == 0) {
    // Nobody reads here, but every list's position names the changes nobody
    // has numbered yet (PostgreSQL): number them within a poll interval.
    // Locks once per interval, not per write.
    if (number_pending_.exchange(true, std::memory_order_relaxed)) return;
    absl::MutexLock lock(&mu_);
    woken_ = true;
    return;
  }
  absl::MutexLock lock(&mu_);
  if (project.has_value() && any_project_watchers_ == 0 &&
      !project_watchers_.contains(*project)) {
    return;  // The next poll reads it.
  }
  woken_ = true;
}

void ChangeFeed::AddWatcher(const Interest& interest) {
  watchers_.fetch_add(1, std::memory_order_relaxed);
  absl::MutexLock lock(&mu_);
  if (interest.has_value()) {
    for (int64_t project : *interest) ++project_watchers_[project];
  } else {
    ++any_project_watchers_;
  }
  woken_ = true;  // Wakes the threads, which may be idle.
}

void ChangeFeed::RemoveWatcher(const Interest& interest) {
  const bool last = watchers_.fetch_sub(1, std::memory_order_relaxed) == 1;
  absl::MutexLock lock(&mu_);
  if (last) {
    // Writes no stream could see wait for a read that now will not come:
    // number them as the writes of an unwatched server are.
    number_pending_.store(true, std::memory_order_relaxed);
    woken_ = true;
  }
  if (!interest.has_value()) {
    --any_project_watchers_;
    return;
  }
  for (int64_t project : *interest) {
    auto it = project_watchers_.find(project);
    if (it != project_watchers_.end() && --it->second == 0) {
      project_watchers_.erase(it);
    }
  }
}

ChangeFeed::Lookup ChangeFeed::After(int64_t after_seq) const {
  Lookup lookup;
  absl::MutexLock lock(&mu_);
  lookup.read_through = read_seq_;
  if (after_seq < base_seq_) {
    lookup.kind = Lookup::Kind::kBehind;
    return lookup;
  }
  auto next = std::upper_bound(
      ring_.begin(), ring_.end(), after_seq,
      [](int64_t seq, const ChangePtr& change) { return seq < change->seq; });
  if (next != ring_.end()) {
    lookup.kind = Lookup::Kind::kChange;
    lookup.change = *next;
  }
  return lookup;
}

absl::StatusOr<storage::ChangePosition> ChangeFeed::Latest() const {
  ScopedCallDeadline deadline(absl::Now() + options_.store_call_timeout);
  return store_.LatestChangePosition();
}

absl::StatusOr<std::vector<storage::TaskChange>> ChangeFeed::ReadStored(
    const storage::ChangePosition& after, int limit) const {
  ScopedCallDeadline deadline(absl::Now() + options_.store_call_timeout);
  return store_.ReadChanges(after, limit);
}

int64_t ChangeFeed::read_through() const {
  absl::MutexLock lock(&mu_);
  return read_seq_;
}

int ChangeFeed::ring_size() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(ring_.size());
}

void ChangeFeed::RunFeed() {
  absl::Time next_trim = absl::Now() + options_.trim_interval;
  absl::Time next_poll = absl::InfinitePast();
  absl::Time next_number = absl::InfinitePast();
  absl::Time retry_at = absl::InfinitePast();
  absl::Time next_read = absl::InfinitePast();
  absl::Duration backoff = absl::ZeroDuration();
  for (;;) {
    bool trim = false;
    bool read = false;
    bool number = false;
    {
      absl::MutexLock lock(&mu_);
      for (;;) {
        if (stopping_) return;
        const absl::Time now = absl::Now();
        const bool watched = watchers_.load(std::memory_order_relaxed) > 0;
        if (!watched) {
          active_ = false;  // Starts over when watched again.
          woken_ = false;   // Nobody to read for: AddWatcher wakes it again.
        }
        const bool wanted = watched && (!active_ || woken_ || now >= next_poll);
        const bool unnumbered =
            !watched && number_pending_.load(std::memory_order_relaxed);
        const absl::Time read_at = std::max(retry_at, next_read);
        trim = now >= next_trim;
        read = wanted && now >= read_at;
        number = unnumbered && now >= next_number;
        if (trim || read || number) break;
        absl::Time until = next_trim;
        if (wanted) {  // Backing off or batching: only Stop() cuts it short.
          mu_.AwaitWithDeadline(absl::Condition(&stopping_),
                                std::min(until, read_at));
          continue;
        }
        if (watched) until = std::min(until, next_poll);
        if (unnumbered) until = std::min(until, next_number);
        mu_.AwaitWithDeadline(
            absl::Condition(
                +[](ChangeFeed* feed) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                  return feed->stopping_ || feed->woken_;
                },
                this),
            until);
      }
      if (read) woken_ = false;
    }
    if (number) {
      number_pending_.store(false, std::memory_order_relaxed);
      NumberUnwatched();
      next_number = absl::Now() + options_.poll_interval;
    }
    if (trim) {
      Trim();
      next_trim = absl::Now() + options_.trim_interval;
    }
    if (!read) continue;
    next_read = absl::Now() + options_.min_read_interval;
    absl::Status status = active_ ? absl::OkStatus() : Restart();
    if (status.ok()) status = ReadAll();
    next_poll = absl::Now() + options_.poll_interval;
    if (status.ok()) {
      backoff = absl::ZeroDuration();
      retry_at = absl::InfinitePast();
      last_read_error_.clear();
      continue;
    }
    LogError("reading the change log", status, last_read_error_);
    // Trimmed past the feed (it was stalled for the whole retention): the
    // streams behind find out from the store themselves.
    if (status.code() == absl::StatusCode::kOutOfRange) active_ = false;
    backoff = NextBackoff(backoff);
    retry_at = absl::Now() + backoff;
    absl::MutexLock lock(&mu_);
    woken_ = true;  // Read again once the backoff is over.
  }
}

absl::Status ChangeFeed::Restart() {
  absl::StatusOr<storage::ChangePosition> latest = Latest();
  if (!latest.ok()) return latest.status();
  // Changes the present reflects without a seq yet are read into the ring
  // all the same: streams skip them by their own positions.
  position_ = storage::ChangePosition(latest->seq(), {});
  {
    absl::MutexLock lock(&mu_);
    ring_.clear();
    ring_bytes_ = 0;
    base_seq_ = read_seq_ = latest->seq();
  }
  active_ = true;
  Batch restarted;
  restarted.restarted = true;
  on_changes_(restarted);  // Streams at older positions now read the store.
  return absl::OkStatus();
}

absl::Status ChangeFeed::ReadAll() {
  {
    ScopedCallDeadline deadline(absl::Now() + options_.store_call_timeout);
    RETURN_IF_ERROR(store_.SequenceChanges().status());
  }
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<storage::TaskChange> page,
                     ReadStored(position_, options_.read_limit));
    if (page.empty()) return absl::OkStatus();
    Batch batch;
    {
      absl::MutexLock lock(&mu_);
      batch.after_seq = read_seq_;
      for (storage::TaskChange& change : page) {
        if (change.seq <= read_seq_) continue;
        read_seq_ = change.seq;
        if (change.task.has_project_id()) {
          batch.projects.insert(change.task.project_id());
        }
        ring_bytes_ += MemoryOf(change);
        ring_.push_back(
            std::make_shared<const storage::TaskChange>(std::move(change)));
      }
      while (!ring_.empty() &&
             (static_cast<int>(ring_.size()) > options_.ring_capacity ||
              ring_bytes_ > options_.ring_capacity_bytes)) {
        const ChangePtr& oldest = ring_.front();
        base_seq_ = oldest->seq;
        ring_bytes_ -= MemoryOf(*oldest);
        ring_.pop_front();
      }
      position_ = storage::ChangePosition(read_seq_, {});
      batch.through_seq = read_seq_;
    }
    if (batch.through_seq > batch.after_seq) on_changes_(batch);
    if (static_cast<int>(page.size()) < options_.read_limit) {
      return absl::OkStatus();
    }
  }
}

void ChangeFeed::NumberUnwatched() {
  ScopedCallDeadline deadline(absl::Now() + options_.store_call_timeout);
  absl::Status status = store_.SequenceChanges().status();
  if (status.ok()) {
    last_number_error_.clear();
    return;
  }
  LogError("numbering the change log", status, last_number_error_);
  number_pending_.store(true, std::memory_order_relaxed);  // Next interval.
}

void ChangeFeed::Trim() {
  ScopedCallDeadline deadline(absl::Now() + options_.store_call_timeout);
  // Only numbered changes are trimmed, and without watchers anywhere nobody
  // numbers them (PostgreSQL): so that the log stays bounded all the same.
  absl::StatusOr<int> numbered = store_.SequenceChanges();
  absl::Status status = numbered.status();
  if (status.ok() && *numbered > 0 &&
      watchers_.load(std::memory_order_relaxed) > 0) {
    // Its NOTIFY names this server, which skips it: read them now.
    absl::MutexLock lock(&mu_);
    woken_ = true;
  }
  if (status.ok())
    status = store_.TrimChanges(absl::Now() - options_.retention);
  if (status.ok()) {
    last_trim_error_.clear();
  } else {
    LogError("trimming the change log", status, last_trim_error_);
  }
}

void ChangeFeed::RunListener() {
  const absl::Duration listen_wait =
      std::min(kMaxListenWait, options_.poll_interval);
  std::string last_error;
  absl::Duration backoff = absl::ZeroDuration();
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](ChangeFeed* feed) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return feed->stopping_ ||
                   feed->watchers_.load(std::memory_order_relaxed) > 0;
          },
          this));
      if (stopping_) return;
    }
    const absl::Time start = absl::Now();
    absl::StatusOr<bool> changed;
    {
      ScopedCallDeadline deadline(start + listen_wait +
                                  options_.store_call_timeout);
      changed = store_.WaitForChanges(listen_wait);
    }
    absl::Duration pause = absl::ZeroDuration();
    if (changed.ok()) {
      backoff = absl::ZeroDuration();
      last_error.clear();
      if (*changed) {
        Notify();
      } else if (absl::Now() - start < listen_wait / 2) {
        pause = listen_wait;  // A store without the signal: do not spin.
      }
    } else {
      LogError("waiting for change notifications", changed.status(),
               last_error);
      backoff = NextBackoff(backoff);
      pause = backoff;
    }
    if (pause > absl::ZeroDuration()) {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), pause);
    }
  }
}

void ChangeFeed::LogError(const char* what, const absl::Status& status,
                          std::string& last) {
  std::string text = status.ToString();
  if (text == last) return;  // Retried with backoff: said once is enough.
  Log(LogLevel::kWarning,
      absl::StrCat("change feed: ", what, " failed, retrying: ", text));
  last = std::move(text);
}

}  // namespace tasks::service
