// ChangeFeed over a fake change log: idle without watchers, the ring's
// bounds and lookups, polling, and store errors retried.

#include "service/change_feed.h"

#include <time.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/testing/figure.h"
#include "tests/testing/mock_task_store.h"

namespace tasks::service {
namespace {

using Kind = ChangeFeed::Lookup::Kind;
using storage::ChangePosition;
using storage::TaskChange;

// A change log in memory; every other method is a (nice) mock.
class FakeChangeLog : public ::testing::NiceMock<testing::MockTaskStore> {
 public:
  // Commits `count` changes, of tasks in `project` (0: in none).
  // `count` creates, each task with `nulls` metadata values.
  void Append(int count, int64_t project = 0, int nulls = 0) {
    absl::MutexLock lock(&mu_);
    for (int i = 0; i < count; ++i) {
      TaskChange change;
      change.seq = change.change_id = static_cast<int64_t>(log_.size()) + 1;
      change.type = v1::TaskEvent::CREATED;
      change.task.set_id(change.seq);
      if (project != 0) change.task.set_project_id(project);
      auto& fields = *change.task.mutable_metadata()->mutable_fields();
      for (int n = 0; n < nulls; ++n) {
        fields[absl::StrCat(n)].set_null_value(google::protobuf::NULL_VALUE);
      }
      log_.push_back(change);
    }
  }

  void FailReads(int times) {
    absl::MutexLock lock(&mu_);
    failures_ = times;
  }

  // Calls that read or change the log, and SequenceChanges calls.
  int calls() const { return calls_.load(); }
  int numberings() const { return numberings_.load(); }
  // ReadChanges calls that have returned.
  int reads() const { return reads_.load(); }

  absl::StatusOr<ChangePosition> LatestChangePosition() override {
    ++calls_;
    absl::MutexLock lock(&mu_);
    return ChangePosition(static_cast<int64_t>(log_.size()), {});
  }

  absl::StatusOr<std::vector<TaskChange>> ReadChanges(
      const ChangePosition& after, int limit) override {
    ++calls_;
    absl::MutexLock lock(&mu_);
    if (failures_ > 0) {
      --failures_;
      return absl::UnavailableError("the database is down");
    }
    std::vector<TaskChange> page;
    for (const TaskChange& change : log_) {
      if (change.seq > after.seq() && static_cast<int>(page.size()) < limit) {
        page.push_back(change);
      }
    }
    ++reads_;
    return page;
  }

  absl::StatusOr<int> SequenceChanges() override {
    ++numberings_;
    return 0;
  }

  absl::StatusOr<bool> WaitForChanges(absl::Duration timeout) override {
    absl::SleepFor(timeout);  // No signal, as SQLite.
    return false;
  }

  absl::Status TrimChanges(absl::Time /*before*/) override {
    ++calls_;
    return absl::OkStatus();
  }

 private:
  std::atomic<int> calls_{0};
  std::atomic<int> numberings_{0};
  std::atomic<int> reads_{0};
  absl::Mutex mu_;
  std::vector<TaskChange> log_ ABSL_GUARDED_BY(mu_);
  int failures_ ABSL_GUARDED_BY(mu_) = 0;
};

// Polls `done` until it holds or 20 s have passed.
bool Eventually(const std::function<bool()>& done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

class ChangeFeedTest : public ::testing::Test {
 protected:
  void Start(ChangeFeed::Options options) {
    feed_ = std::make_unique<ChangeFeed>(store_, options);
    feed_->Start([this](const ChangeFeed::Batch& batch) {
      ++wakes_;
      absl::MutexLock lock(&batches_mu_);
      batches_.push_back(batch);
    });
  }

  void TearDown() override {
    if (feed_ != nullptr) feed_->Stop();
  }

  bool HasRead(int64_t seq) {
    return Eventually(
        [&] { return feed_->After(seq - 1).kind == Kind::kChange; });
  }

  FakeChangeLog store_;
  std::unique_ptr<ChangeFeed> feed_;
  std::atomic<int> wakes_{0};
  absl::Mutex batches_mu_;
  std::vector<ChangeFeed::Batch> batches_ ABSL_GUARDED_BY(batches_mu_);
};

// What the streams skip by: each batch names the seqs it added, one after
// the other with no gap, and every project among them.
TEST_F(ChangeFeedTest, BatchesNameTheirSeqsAndProjects) {
  ChangeFeed::Options options;
  options.read_limit = 4;  // Pages: several batches.
  Start(options);
  feed_->AddWatcher();
  ASSERT_TRUE(Eventually([&] { return wakes_.load() > 0; }));  // Restarted.
  store_.Append(3, 7);
  store_.Append(2);
  store_.Append(5, 9);
  feed_->Notify();
  ASSERT_TRUE(HasRead(10));

  absl::MutexLock lock(&batches_mu_);
  ASSERT_GE(batches_.size(), 2u);
  EXPECT_TRUE(batches_[0].restarted);
  int64_t through = 0;
  absl::flat_hash_set<int64_t> projects;
  for (size_t i = 1; i < batches_.size(); ++i) {
    const ChangeFeed::Batch& batch = batches_[i];
    EXPECT_FALSE(batch.restarted);
    EXPECT_EQ(batch.after_seq, through);
    EXPECT_GT(batch.through_seq, batch.after_seq);
    EXPECT_LE(batch.through_seq - batch.after_seq, options.read_limit);
    through = batch.through_seq;
    // Seqs 1-3 are project 7, 4-5 none, 6-10 project 9.
    absl::flat_hash_set<int64_t> expected;
    if (batch.after_seq < 3) expected.insert(7);
    if (batch.through_seq > 5) expected.insert(9);
    EXPECT_EQ(batch.projects, expected) << batch.after_seq;
    projects.insert(batch.projects.begin(), batch.projects.end());
  }
  EXPECT_EQ(through, 10);
  EXPECT_EQ(projects, absl::flat_hash_set<int64_t>({7, 9}));
}

TEST_F(ChangeFeedTest, WithoutWatchersTheStoreIsNotRead) {
  ChangeFeed::Options options;
  options.poll_interval = absl::Milliseconds(5);
  Start(options);
  // Forty polls' worth of time: none of them happens.
  absl::SleepFor(absl::Milliseconds(200));
  store_.Append(3);
  feed_->Notify();
  ASSERT_TRUE(Eventually([&] { return store_.numberings() == 1; }));
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(store_.calls(), 0);
  EXPECT_EQ(store_.numberings(), 1) << "numbered without a write";
  EXPECT_EQ(wakes_.load(), 0);

  feed_->AddWatcher();  // Starts at the present: 3.
  ASSERT_TRUE(Eventually([&] { return wakes_.load() > 0; }));
  store_.Append(1);
  feed_->Notify();
  ASSERT_TRUE(HasRead(4));
  EXPECT_EQ(feed_->After(3).change->seq, 4);
  EXPECT_EQ(feed_->After(2).kind, Kind::kBehind);  // Before the feed began.
}

// Without watchers the writes' changes are still numbered, so that list
// positions (which name the unnumbered ones) stay short: once per poll
// interval however many writes, none without writes.
TEST_F(ChangeFeedTest, WritesWithoutWatchersAreNumberedOncePerPollInterval) {
  ChangeFeed::Options options;
  options.poll_interval = absl::Milliseconds(100);
  Start(options);
  const absl::Time start = absl::Now();
  for (int i = 0; i < 2000; ++i) {
    store_.Append(1);
    feed_->Notify();
    absl::SleepFor(absl::Microseconds(250));
  }
  const absl::Duration writing = absl::Now() - start;
  ASSERT_TRUE(Eventually([&] { return store_.numberings() >= 1; }));
  const int most = static_cast<int>(writing / options.poll_interval) + 2;
  EXPECT_LE(store_.numberings(), most);
  EXPECT_EQ(store_.calls(), 0);
  ::tasks::testing::ReportFigure(
      absl::StrCat("2000 writes over ", absl::FormatDuration(writing), ": ",
                   store_.numberings(), " numberings (at most ", most, ")"));
}

TEST_F(ChangeFeedTest,
       RingKeepsTheLatestChangesAndSendsOlderReadersToTheStore) {
  ChangeFeed::Options options;
  options.ring_capacity = 4;
  options.read_limit = 3;
  options.poll_interval = absl::Hours(1);
  Start(options);
  feed_->AddWatcher();
  ASSERT_TRUE(Eventually([&] { return wakes_.load() > 0; }));
  store_.Append(10);
  feed_->Notify();
  ASSERT_TRUE(HasRead(10));
  EXPECT_EQ(feed_->ring_size(), 4);
  const ChangeFeed::Lookup behind = feed_->After(5);
  EXPECT_EQ(behind.kind, Kind::kBehind);
  EXPECT_EQ(behind.read_through, 10);
  EXPECT_EQ(feed_->After(6).change->seq, 7);
  EXPECT_EQ(feed_->After(9).change->seq, 10);
  EXPECT_EQ(feed_->After(10).kind, Kind::kUpToDate);
  EXPECT_EQ(feed_->After(12).kind, Kind::kUpToDate);
}

// The byte bound counts what the ring's tasks take in memory: 1,000
// metadata nulls are some 3 KB on the wire and over 50 KB parsed.
TEST_F(ChangeFeedTest, RingBytesAreTheTasksMemoryNotTheirWireSize) {
  ChangeFeed::Options options;
  options.ring_capacity_bytes = 1 << 20;
  options.read_limit = 100;
  options.poll_interval = absl::Hours(1);
  Start(options);
  feed_->AddWatcher();
  ASSERT_TRUE(Eventually([&] { return wakes_.load() > 0; }));
  store_.Append(100, 0, /*nulls=*/1000);
  feed_->Notify();
  ASSERT_TRUE(HasRead(100));
  // By wire size all 100 (about 300 KB) would fit in 1 MiB.
  EXPECT_LT(feed_->ring_size(), 25) << "the ring kept " << feed_->ring_size();
  EXPECT_GT(feed_->ring_size(), 0);
}

TEST_F(ChangeFeedTest, PollFindsChangesNobodyNotified) {
  ChangeFeed::Options options;
  options.poll_interval = absl::Milliseconds(20);
  Start(options);
  feed_->AddWatcher();
  ASSERT_TRUE(Eventually([&] { return wakes_.load() > 0; }));
  store_.Append(2);  // Another process's writes: no Notify().
  EXPECT_TRUE(HasRead(2));
}

// A write to a project no stream here can see waits for the poll; one that
// a stream can see, or whose project is not known, wakes the feed at once.
TEST_F(ChangeFeedTest, OnlyWritesAStreamCanSeeWakeTheFeed) {
  ChangeFeed::Options options;
  options.poll_interval = absl::Hours(1);
  Start(options);
  // Adds a watcher and waits out the read its arrival wakes: the feed is
  // idle after it (nothing else wakes it within the test).
  auto add_watcher = [&](const ChangeFeed::Interest& interest) {
    const int reads = store_.reads();
    feed_->AddWatcher(interest);
    ASSERT_TRUE(Eventually([&] { return store_.reads() > reads; }));
  };
  const ChangeFeed::Interest seven = absl::flat_hash_set<int64_t>({7});
  ASSERT_NO_FATAL_FAILURE(add_watcher(seven));
  const int numberings = store_.numberings();

  store_.Append(1, 9);
  feed_->Notify(9);
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(feed_->After(0).kind, Kind::kUpToDate) << "read for project 9";
  EXPECT_EQ(store_.numberings(), numberings);

  store_.Append(1, 7);
  feed_->Notify(7);
  ASSERT_TRUE(HasRead(2));  // Seq 1 (project 9) comes with it.
  EXPECT_EQ(feed_->After(0).change->seq, 1);

  store_.Append(1, 9);
  feed_->Notify();  // A delete by id: its project is not known.
  EXPECT_TRUE(HasRead(3));

  // A stream that can see any project wakes it for every write.
  ASSERT_NO_FATAL_FAILURE(add_watcher(std::nullopt));
  store_.Append(1, 9);
  feed_->Notify(9);
  EXPECT_TRUE(HasRead(4));

  // Once that stream and the one of project 7 are gone, the other one
  // (project 8) leaves project 9's writes to the poll again.
  feed_->RemoveWatcher();
  ASSERT_NO_FATAL_FAILURE(add_watcher(absl::flat_hash_set<int64_t>({8})));
  feed_->RemoveWatcher(seven);
  store_.Append(1, 9);
  feed_->Notify(9);
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(feed_->After(4).kind, Kind::kUpToDate) << "read for project 9";
}

TEST_F(ChangeFeedTest, WritesNoStreamCanSeeAreReadAtThePoll) {
  ChangeFeed::Options options;
  options.poll_interval = absl::Milliseconds(50);
  Start(options);
  feed_->AddWatcher(absl::flat_hash_set<int64_t>({7}));
  ASSERT_TRUE(Eventually([&] { return store_.reads() > 0; }));
  store_.Append(1, 9);
  feed_->Notify(9);
  EXPECT_TRUE(HasRead(1));
}

// The last stream leaving with such writes unread: they are numbered as an
// unwatched server's writes are, not left to the trim.
TEST_F(ChangeFeedTest, LastWatcherLeavingNumbersWhatItLeftUnread) {
  ChangeFeed::Options options;
  options.poll_interval = absl::Hours(1);
  Start(options);
  feed_->AddWatcher(absl::flat_hash_set<int64_t>({7}));
  ASSERT_TRUE(Eventually([&] { return store_.reads() > 0; }));
  const int numberings = store_.numberings();
  store_.Append(1, 9);
  feed_->Notify(9);
  feed_->RemoveWatcher(absl::flat_hash_set<int64_t>({7}));
  EXPECT_TRUE(Eventually([&] { return store_.numberings() > numberings; }));
}

TEST_F(ChangeFeedTest, StoreErrorsAreRetriedWithBackoff) {
  ChangeFeed::Options options;
  options.poll_interval = absl::Hours(1);
  Start(options);
  feed_->AddWatcher();
  ASSERT_TRUE(Eventually([&] { return wakes_.load() > 0; }));
  store_.FailReads(3);
  store_.Append(1);
  feed_->Notify();
  EXPECT_TRUE(HasRead(1));  // After 100, 200 and 400 ms of backoff.
}

// CPU time of the whole process.
absl::Duration ProcessCpuTime() {
  timespec now;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return absl::DurationFromTimespec(now);
}

TEST_F(ChangeFeedTest, LastWatcherLeavingWithAWakePendingLeavesTheFeedIdle) {
  ChangeFeed::Options options;
  options.poll_interval = absl::Hours(1);
  Start(options);
  // The wake AddWatcher leaves is still pending when the watcher goes: the
  // feed must sleep, not spin on it (it once did, holding its lock).
  feed_->AddWatcher();
  feed_->RemoveWatcher();
  const absl::Duration cpu_before = ProcessCpuTime();
  absl::SleepFor(absl::Milliseconds(300));
  const absl::Duration used = ProcessCpuTime() - cpu_before;
  ::tasks::testing::ReportFigure(absl::StrCat("process CPU over 300 ms idle: ",
                                              absl::FormatDuration(used)));
  EXPECT_LT(used, absl::Milliseconds(100)) << absl::FormatDuration(used);
}

TEST_F(ChangeFeedTest, NotifyAfterStopIsHarmless) {
  Start(ChangeFeed::Options());
  feed_->AddWatcher();
  feed_->Stop();
  feed_->Notify();
  feed_->RemoveWatcher();
  feed_->Stop();
}

}  // namespace
}  // namespace tasks::service
