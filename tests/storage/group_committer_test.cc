// GroupCommitter on a SQLite file: writes that arrive while another runs
// commit together, each undone alone when it fails; a failure of the shared
// transaction reaches every write of the group.

#include "storage/engine/group_committer.h"

#include <atomic>
#include <cstdio>
#include <exception>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soci/soci.h"
#include "storage/engine/connection.h"
#include "storage/engine/connection_pool.h"
#include "tests/storage/controlled_dialect.h"
#include "tests/storage/recording_observer.h"
#include "tests/testing/status_matchers.h"

namespace tasks::storage {
namespace {

using ::tasks::testing::ReasonIs;
using ::tasks::testing::StatusIs;
using ::testing::AllOf;
using ::testing::Each;
using ::testing::ElementsAre;

// Runs `sql` on the connection: OK, or the database's message.
absl::Status Exec(Connection& connection, const std::string& sql) {
  try {
    connection.session() << sql;
    return absl::OkStatus();
  } catch (const std::exception& error) {
    return absl::UnknownError(error.what());
  }
}

// Waits until `count` writes queue behind the running one.
bool AwaitWaiting(const GroupCommitter& committer, int count) {
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (committer.waiting() < count && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  return committer.waiting() == count;
}

// A write on a thread of its own that holds the committer, as a group of one,
// until Release(): writes started meanwhile queue up behind it.
class HeldLeader {
 public:
  explicit HeldLeader(
      GroupCommitter& committer,
      std::function<void(Connection&)> before_release = [](Connection&) {})
      : before_release_(std::move(before_release)), thread_([this, &committer] {
          status_ = committer.Run(
              [this](Connection& connection) {
                entered_.Notify();
                release_.WaitForNotification();
                absl::Status inserted =
                    Exec(connection, "INSERT INTO w VALUES ('leader')");
                before_release_(connection);
                return inserted;
              },
              absl::InfiniteFuture());
        }) {
    entered_.WaitForNotification();
  }

  ~HeldLeader() { Release().IgnoreError(); }

  // Lets the held write finish; returns its Run status.
  absl::Status Release() {
    if (!release_.HasBeenNotified()) release_.Notify();
    if (thread_.joinable()) thread_.join();
    return status_;
  }

 private:
  const std::function<void(Connection&)> before_release_;
  absl::Notification entered_;
  absl::Notification release_;
  absl::Status status_;
  std::thread thread_;  // last: it uses the members above
};

class GroupCommitterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path = absl::StrCat(
        ::testing::TempDir(), "/",
        ::testing::UnitTest::GetInstance()->current_test_info()->name(), ".db");
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::remove(absl::StrCat(path, suffix).c_str());
    }
    dialect_ = std::make_shared<ControlledDialect>(path);
    pool_ = std::make_unique<ConnectionPool>(dialect_, /*size=*/4,
                                             absl::Seconds(30), &observer_);
    absl::StatusOr<ConnectionPool::Lease> lease = pool_->Acquire(true);
    ASSERT_TRUE(lease.ok()) << lease.status();
    ASSERT_OK(Exec(**lease, "CREATE TABLE w (k TEXT PRIMARY KEY)"));
    ASSERT_OK(Exec(**lease, "CREATE TABLE parent (id INTEGER PRIMARY KEY)"));
    ASSERT_OK(Exec(**lease,
                   "CREATE TABLE child (p INTEGER REFERENCES parent (id) "
                   "DEFERRABLE INITIALLY DEFERRED)"));
  }

  GroupCommitter& Committer(int max_group) {
    committer_ = std::make_unique<GroupCommitter>(*pool_, *dialect_, max_group,
                                                  &observer_);
    return *committer_;
  }

  // The keys in table w.
  std::vector<std::string> Keys() {
    absl::StatusOr<ConnectionPool::Lease> lease = pool_->Acquire(false);
    EXPECT_TRUE(lease.ok()) << lease.status();
    if (!lease.ok()) return {};
    std::vector<std::string> keys(100);
    (*lease)->session() << "SELECT k FROM w ORDER BY k", soci::into(keys);
    return keys;
  }

  // Runs `writes[i]` on thread i at once, each through the committer, once
  // `leader` holds it and all have queued; returns their Run statuses.
  std::vector<absl::Status> RunQueuedBehind(
      HeldLeader& leader, GroupCommitter& committer,
      const std::vector<std::function<absl::Status(Connection&)>>& writes) {
    std::vector<absl::Status> statuses(writes.size());
    std::vector<std::thread> threads;
    for (size_t i = 0; i < writes.size(); ++i) {
      threads.emplace_back([&, i] {
        statuses[i] = committer.Run(writes[i], absl::InfiniteFuture());
      });
    }
    EXPECT_TRUE(AwaitWaiting(committer, static_cast<int>(writes.size())));
    EXPECT_OK(leader.Release());
    for (std::thread& thread : threads) thread.join();
    return statuses;
  }

  RecordingObserver observer_;
  std::shared_ptr<ControlledDialect> dialect_;
  std::unique_ptr<ConnectionPool> pool_;
  std::unique_ptr<GroupCommitter> committer_;
};

// A write that inserts `key` and notes whether it shared a transaction.
std::function<absl::Status(Connection&)> Insert(const std::string& key,
                                                std::atomic<int>* grouped) {
  return [key, grouped](Connection& connection) {
    if (connection.grouped()) ++*grouped;
    return Exec(connection, absl::StrCat("INSERT INTO w VALUES ('", key, "')"));
  };
}

// Inserts of "k0" .. "k<count - 1>".
std::vector<std::function<absl::Status(Connection&)>> Inserts(
    int count, std::atomic<int>* grouped) {
  std::vector<std::function<absl::Status(Connection&)>> writes;
  for (int i = 0; i < count; ++i) {
    writes.push_back(Insert(absl::StrCat("k", i), grouped));
  }
  return writes;
}

TEST_F(GroupCommitterTest, WriteAloneRunsUngroupedAsAGroupOfOne) {
  GroupCommitter& committer = Committer(16);
  std::atomic<int> grouped{0};
  EXPECT_OK(committer.Run(Insert("a", &grouped), absl::InfiniteFuture()));
  EXPECT_EQ(grouped.load(), 0);
  EXPECT_THAT(observer_.groups(), ElementsAre(1));
  EXPECT_THAT(Keys(), ElementsAre("a"));
}

TEST_F(GroupCommitterTest, WritesArrivingDuringAWriteCommitTogether) {
  GroupCommitter& committer = Committer(16);
  HeldLeader leader(committer);
  std::atomic<int> grouped{0};
  EXPECT_THAT(RunQueuedBehind(leader, committer, Inserts(5, &grouped)),
              Each(absl::OkStatus()));
  std::cout << "FIGURE group sizes for a held write and 5 queued: "
            << absl::StrJoin(observer_.groups(), ", ") << "\n";
  EXPECT_THAT(observer_.groups(), ElementsAre(1, 5));
  EXPECT_EQ(grouped.load(), 5);
  EXPECT_THAT(Keys(), ElementsAre("k0", "k1", "k2", "k3", "k4", "leader"));
}

TEST_F(GroupCommitterTest, GroupsTakeAtMostMaxGroupWrites) {
  GroupCommitter& committer = Committer(2);
  HeldLeader leader(committer);
  std::atomic<int> grouped{0};
  EXPECT_THAT(RunQueuedBehind(leader, committer, Inserts(5, &grouped)),
              Each(absl::OkStatus()));
  // The last group has one write: it runs alone, ungrouped.
  EXPECT_THAT(observer_.groups(), ElementsAre(1, 2, 2, 1));
  EXPECT_EQ(grouped.load(), 4);
  EXPECT_THAT(Keys(), ElementsAre("k0", "k1", "k2", "k3", "k4", "leader"));
}

TEST_F(GroupCommitterTest, FailedWriteIsUndoneAloneAndTheOthersCommit) {
  GroupCommitter& committer = Committer(16);
  HeldLeader leader(committer);
  std::atomic<int> grouped{0};
  absl::Status failed_outcome;
  auto failing = [&](Connection& connection) {
    // Its first insert succeeds; its second breaks the primary key.
    failed_outcome = Exec(connection, "INSERT INTO w VALUES ('partial')");
    if (failed_outcome.ok()) {
      failed_outcome = Exec(connection, "INSERT INTO w VALUES ('partial')");
    }
    return failed_outcome;
  };
  EXPECT_THAT(
      RunQueuedBehind(leader, committer,
                      {Insert("a", &grouped), failing, Insert("b", &grouped)}),
      Each(absl::OkStatus()));
  EXPECT_THAT(failed_outcome, StatusIs(absl::StatusCode::kUnknown));
  EXPECT_THAT(observer_.groups(), ElementsAre(1, 3));
  EXPECT_THAT(Keys(), ElementsAre("a", "b", "leader"));
}

TEST_F(GroupCommitterTest, TransactionEndedByAWriteFailsEveryWriteOfTheGroup) {
  GroupCommitter& committer = Committer(16);
  HeldLeader leader(committer);
  std::atomic<int> grouped{0};
  auto ending = [](Connection& connection) {
    // As an I/O error or a full disk does: the database rolls back all.
    absl::Status status = Exec(connection, "INSERT INTO w VALUES ('gone')");
    if (status.ok()) status = Exec(connection, "ROLLBACK");
    if (!status.ok()) return status;
    return absl::UnknownError("disk I/O error");
  };
  std::vector<absl::Status> statuses =
      RunQueuedBehind(leader, committer,
                      {Insert("a", &grouped), ending, Insert("b", &grouped)});
  EXPECT_THAT(statuses, Each(AllOf(StatusIs(absl::StatusCode::kUnavailable),
                                   ReasonIs(reason::kDatabaseUnavailable))));
  EXPECT_THAT(Keys(), ElementsAre("leader"));
  // The committer and its connection carry on.
  EXPECT_OK(committer.Run(Insert("after", &grouped), absl::InfiniteFuture()));
  EXPECT_THAT(Keys(), ElementsAre("after", "leader"));
}

TEST_F(GroupCommitterTest, FailedCommitFailsEveryWriteOfTheGroup) {
  GroupCommitter& committer = Committer(16);
  HeldLeader leader(committer);
  std::atomic<int> grouped{0};
  auto orphan = [](Connection& connection) {
    // Checked only at COMMIT: the whole group's commit fails.
    return Exec(connection, "INSERT INTO child VALUES (42)");
  };
  std::vector<absl::Status> statuses =
      RunQueuedBehind(leader, committer,
                      {Insert("a", &grouped), orphan, Insert("b", &grouped)});
  ASSERT_THAT(statuses, Each(StatusIs(absl::StatusCode::kFailedPrecondition)));
  std::cout << "FIGURE status of each write of a group whose commit failed: "
            << statuses[0] << "\n";
  EXPECT_THAT(statuses, Each(statuses[0]));
  EXPECT_THAT(Keys(), ElementsAre("leader"));
  EXPECT_OK(committer.Run(Insert("after", &grouped), absl::InfiniteFuture()));
  EXPECT_THAT(Keys(), ElementsAre("after", "leader"));
}

TEST_F(GroupCommitterTest, NoConnectionFailsEveryWriteOfTheGroupUnrun) {
  GroupCommitter& committer = Committer(16);
  // The leader's connection breaks, so the group after it needs a new one,
  // which cannot be opened.
  HeldLeader leader(committer, [this](Connection& connection) {
    connection.MarkBroken();
    dialect_->RefuseConnects(true);
  });
  std::atomic<int> ran{0};
  std::vector<absl::Status> statuses = RunQueuedBehind(
      leader, committer,
      {Insert("a", &ran), Insert("b", &ran), Insert("c", &ran)});
  EXPECT_THAT(statuses, Each(AllOf(StatusIs(absl::StatusCode::kUnavailable),
                                   ReasonIs(reason::kDatabaseUnavailable))));
  EXPECT_EQ(ran.load(), 0);
  dialect_->RefuseConnects(false);
  EXPECT_OK(committer.Run(Insert("after", &ran), absl::InfiniteFuture()));
  EXPECT_THAT(Keys(), ElementsAre("after", "leader"));
}

TEST_F(GroupCommitterTest, QueuedWriteWhoseDeadlinePassesNeverRuns) {
  GroupCommitter& committer = Committer(16);
  HeldLeader leader(committer);
  bool ran = false;
  const absl::Time start = absl::Now();
  EXPECT_THAT(committer.Run(
                  [&ran](Connection&) {
                    ran = true;
                    return absl::OkStatus();
                  },
                  start + absl::Milliseconds(100)),
              AllOf(StatusIs(absl::StatusCode::kDeadlineExceeded),
                    ReasonIs(reason::kDeadlineExceeded)));
  const absl::Duration waited = absl::Now() - start;
  std::cout << "FIGURE a queued write with a 100 ms deadline gave up after "
            << waited << "\n";
  EXPECT_GE(waited, absl::Milliseconds(100));
  EXPECT_LT(waited, absl::Seconds(20));
  EXPECT_EQ(committer.waiting(), 0);
  EXPECT_OK(leader.Release());
  EXPECT_FALSE(ran);
  EXPECT_THAT(observer_.groups(), ElementsAre(1));
}

}  // namespace
}  // namespace tasks::storage
