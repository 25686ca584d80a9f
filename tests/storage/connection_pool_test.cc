// ConnectionPool on a SQLite file: leases are reused most recently used
// first, a full pool waits until wait_timeout (UNAVAILABLE) or the call's
// deadline (DEADLINE_EXCEEDED), writers take turns when the dialect says so,
// and broken or unopenable connections free their place.

#include "storage/engine/connection_pool.h"

#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/engine/connection.h"
#include "tests/storage/controlled_dialect.h"
#include "tests/storage/recording_observer.h"
#include "tests/testing/status_matchers.h"

namespace tasks::storage {
namespace {

using ::tasks::testing::ReasonIs;
using ::tasks::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Optional;
using Code = ::absl::StatusCode;

// Generous bounds for waits that should end at once or at a set time, on a
// loaded machine.
constexpr absl::Duration kShortWait = absl::Milliseconds(100);
constexpr absl::Duration kSlack = absl::Seconds(20);

auto IsUnavailable() {
  return AllOf(StatusIs(Code::kUnavailable),
               ReasonIs(reason::kDatabaseUnavailable));
}

auto IsDeadlineExceeded() {
  return AllOf(StatusIs(Code::kDeadlineExceeded),
               ReasonIs(reason::kDeadlineExceeded));
}

class ConnectionPoolTest : public ::testing::Test {
 protected:
  // A pool of `size` on this test's database file.
  ConnectionPool& Pool(int size,
                       absl::Duration wait_timeout = absl::Seconds(30),
                       bool serialize_writes = true) {
    const std::string path = absl::StrCat(
        ::testing::TempDir(), "/",
        ::testing::UnitTest::GetInstance()->current_test_info()->name(), ".db");
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::remove(absl::StrCat(path, suffix).c_str());
    }
    dialect_ = std::make_shared<ControlledDialect>(path, serialize_writes);
    pool_ = std::make_unique<ConnectionPool>(dialect_, size, wait_timeout,
                                             &observer_);
    return *pool_;
  }

  // Waits until `count` calls wait in Acquire.
  bool AwaitWaiting(int count) {
    const absl::Time give_up = absl::Now() + kSlack;
    while (pool_->waiting() < count && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(1));
    }
    return pool_->waiting() == count;
  }

  RecordingObserver observer_;
  std::shared_ptr<ControlledDialect> dialect_;
  std::unique_ptr<ConnectionPool> pool_;
};

TEST_F(ConnectionPoolTest, ReturnedConnectionIsReusedMostRecentlyUsedFirst) {
  ConnectionPool& pool = Pool(2);
  Connection* first;
  {
    ASSERT_OK_AND_ASSIGN(ConnectionPool::Lease lease, pool.Acquire(false));
    first = &*lease;
  }
  Connection* second;
  {
    ASSERT_OK_AND_ASSIGN(ConnectionPool::Lease again, pool.Acquire(false));
    EXPECT_EQ(&*again, first);
    ASSERT_OK_AND_ASSIGN(ConnectionPool::Lease other, pool.Acquire(false));
    second = &*other;
    EXPECT_NE(second, first);
    EXPECT_EQ(observer_.open(), 2);
    EXPECT_EQ(observer_.in_use(), 2);
    // `other` is returned first, `again` last.
  }
  EXPECT_EQ(observer_.open(), 2);
  EXPECT_EQ(observer_.in_use(), 0);
  ASSERT_OK_AND_ASSIGN(ConnectionPool::Lease latest, pool.Acquire(false));
  EXPECT_EQ(&*latest, first);
  EXPECT_EQ(dialect_->connects(), 2);
}

TEST_F(ConnectionPoolTest, FullPoolIsUnavailableAfterWaitTimeout) {
  ConnectionPool& pool = Pool(1, kShortWait);
  ASSERT_OK_AND_ASSIGN(ConnectionPool::Lease held, pool.Acquire(false));
  const absl::Time start = absl::Now();
  EXPECT_THAT(pool.Acquire(false), IsUnavailable());
  const absl::Duration waited = absl::Now() - start;
  std::cout << "FIGURE full pool, wait_timeout 100 ms: gave up after " << waited
            << "\n";
  EXPECT_GE(waited, kShortWait);
  EXPECT_LT(waited, kSlack);
  ASSERT_FALSE(observer_.waits().empty());
  EXPECT_GE(observer_.waits().back(), kShortWait);
  EXPECT_EQ(dialect_->connects(), 1);
}

TEST_F(ConnectionPoolTest, FullPoolStopsWaitingAtAnEarlierDeadline) {
  ConnectionPool& pool = Pool(1, absl::Seconds(60));
  ASSERT_OK_AND_ASSIGN(ConnectionPool::Lease held, pool.Acquire(false));
  const absl::Time start = absl::Now();
  EXPECT_THAT(pool.Acquire(false, start + kShortWait), IsDeadlineExceeded());
  const absl::Duration waited = absl::Now() - start;
  std::cout << "FIGURE full pool, deadline 100 ms, wait_timeout 60 s: gave "
               "up after "
            << waited << "\n";
  EXPECT_GE(waited, kShortWait);
  EXPECT_LT(waited, kSlack);
  // A deadline already passed does not wait at all.
  EXPECT_THAT(pool.Acquire(false, absl::Now() - absl::Seconds(1)),
              IsDeadlineExceeded());
}

TEST_F(ConnectionPoolTest, ReturnedConnectionGoesToAWaitingCall) {
  ConnectionPool& pool = Pool(1);
  std::optional<ConnectionPool::Lease> held;
  {
    ASSERT_OK_AND_ASSIGN(ConnectionPool::Lease lease, pool.Acquire(false));
    held.emplace(std::move(lease));
  }
  Connection* const connection = &**held;
  absl::StatusOr<Connection*> got = absl::UnknownError("not run");
  std::thread waiter([&] {
    absl::StatusOr<ConnectionPool::Lease> lease = pool.Acquire(false);
    if (lease.ok()) {
      got = &**lease;
    } else {
      got = lease.status();
    }
  });
  ASSERT_TRUE(AwaitWaiting(1));
  held.reset();
  waiter.join();
  ASSERT_OK(got);
  EXPECT_EQ(*got, connection);
  EXPECT_EQ(pool.waiting(), 0);
  EXPECT_EQ(dialect_->connects(), 1);
}

TEST_F(ConnectionPoolTest, WritersTakeTurnsWhenTheDialectSerializesWrites) {
  ConnectionPool& pool = Pool(2, kShortWait, /*serialize_writes=*/true);
  ASSERT_OK_AND_ASSIGN(ConnectionPool::Lease writer, pool.Acquire(true));
  // A connection is free, but the writer turn is taken.
  EXPECT_THAT(pool.Acquire(true), IsUnavailable());
  ASSERT_OK_AND_ASSIGN(ConnectionPool::Lease reader, pool.Acquire(false));
  EXPECT_NE(&*reader, &*writer);
}

TEST_F(ConnectionPoolTest, WritersShareThePoolWhenTheDialectDoesNot) {
  ConnectionPool& pool = Pool(2, kShortWait, /*serialize_writes=*/false);
  ASSERT_OK_AND_ASSIGN(ConnectionPool::Lease writer, pool.Acquire(true));
  ASSERT_OK_AND_ASSIGN(ConnectionPool::Lease other, pool.Acquire(true));
  EXPECT_NE(&*other, &*writer);
}

TEST_F(ConnectionPoolTest, BrokenConnectionIsClosedAndReplaced) {
  ConnectionPool& pool = Pool(1);
  {
    ASSERT_OK_AND_ASSIGN(ConnectionPool::Lease lease, pool.Acquire(true));
    lease->MarkBroken();
  }
  EXPECT_EQ(observer_.open(), 0);
  ASSERT_OK_AND_ASSIGN(ConnectionPool::Lease lease, pool.Acquire(true));
  EXPECT_FALSE(lease->broken());
  EXPECT_EQ(dialect_->connects(), 2);
  EXPECT_EQ(observer_.open(), 1);
}

TEST_F(ConnectionPoolTest, FailedConnectIsUnavailableAndFreesItsPlace) {
  ConnectionPool& pool = Pool(1);
  dialect_->RefuseConnects(true);
  EXPECT_THAT(pool.Acquire(true), IsUnavailable());
  EXPECT_THAT(pool.Acquire(false, absl::Now() + absl::Seconds(30)),
              IsUnavailable());
  EXPECT_EQ(observer_.open(), 0);
  EXPECT_EQ(observer_.in_use(), 0);
  dialect_->RefuseConnects(false);
  // Neither the place nor the writer turn was kept by the failures.
  ASSERT_OK_AND_ASSIGN(ConnectionPool::Lease lease, pool.Acquire(true));
  EXPECT_EQ(dialect_->connects(), 3);
}

// The database's text of a failed connect (libpq's names hosts, socket paths
// and users) is for operators: the status's message, which clients get, has
// none of it.
TEST_F(ConnectionPoolTest, FailedConnectsTextIsTheOperatorsOnly) {
  ConnectionPool& pool = Pool(1);
  dialect_->RefuseConnects(true);
  const absl::StatusOr<ConnectionPool::Lease> lease = pool.Acquire(true);
  EXPECT_THAT(lease, AllOf(IsUnavailable(),
                           StatusIs(Code::kUnavailable,
                                    "database unavailable: cannot connect to "
                                    "controlled sqlite")));
  EXPECT_THAT(OperatorDetail(lease.status()),
              Optional(HasSubstr("connection refused")));
}

TEST_F(ConnectionPoolTest, HungConnectStopsAtTheDeadlineAndBlocksNoMore) {
  ConnectionPool& pool = Pool(1);
  dialect_->HoldConnects(true);
  const absl::Time start = absl::Now();
  EXPECT_THAT(pool.Acquire(false, start + kShortWait), IsDeadlineExceeded());
  const absl::Duration waited = absl::Now() - start;
  std::cout << "FIGURE hung connect, deadline 100 ms: gave up after " << waited
            << "\n";
  EXPECT_GE(waited, kShortWait);
  EXPECT_LT(waited, kSlack);
  // Its connect still hangs: with as many hung connects as the pool's size,
  // a call needing a new connection is refused at once.
  ASSERT_TRUE(dialect_->AwaitHeldConnects(1, kSlack));
  const absl::Time again = absl::Now();
  EXPECT_THAT(pool.Acquire(false, again + absl::Seconds(60)), IsUnavailable());
  EXPECT_LT(absl::Now() - again, kSlack);
  EXPECT_EQ(observer_.open(), 0);

  // Once the server answers, the abandoned connect ends by itself and the
  // pool opens connections again.
  dialect_->HoldConnects(false);
  absl::Status reopened = absl::UnknownError("not run");
  const absl::Time give_up = absl::Now() + kSlack;
  while (absl::Now() < give_up) {
    reopened = pool.Acquire(false, absl::Now() + absl::Seconds(5)).status();
    if (reopened.ok()) break;
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_OK(reopened);
}

// Shutdown with a hung database: a connect under way and a call waiting for
// a connection both end at once, not at their deadlines.
TEST_F(ConnectionPoolTest, CancelEndsHungConnectsAndWaitsAtOnce) {
  ConnectionPool& pool = Pool(1, absl::Seconds(60));
  dialect_->HoldConnects(true);
  absl::Status connecting = absl::UnknownError("not run");
  absl::Status waiting = absl::UnknownError("not run");
  std::thread connect([&] {
    connecting = pool.Acquire(false, absl::Now() + absl::Seconds(60)).status();
  });
  ASSERT_TRUE(dialect_->AwaitHeldConnects(1, kSlack));
  std::thread wait([&] {
    waiting = pool.Acquire(false, absl::Now() + absl::Seconds(60)).status();
  });
  const absl::Time give_up = absl::Now() + kSlack;
  while (pool.waiting() == 0 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  ASSERT_EQ(pool.waiting(), 1);

  const absl::Time cancelled = absl::Now();
  pool.Cancel();
  connect.join();
  wait.join();
  const absl::Duration took = absl::Now() - cancelled;
  std::cout << "FIGURE hung connect and a waiting call, deadlines 60 s: "
               "ended "
            << took << " after Cancel()\n";
  EXPECT_THAT(connecting, IsUnavailable());
  EXPECT_THAT(waiting, IsUnavailable());
  EXPECT_LT(took, kSlack);
  // Later calls fail at once too.
  EXPECT_THAT(pool.Acquire(false), IsUnavailable());
  dialect_->HoldConnects(false);  // The abandoned connect ends.
}

}  // namespace
}  // namespace tasks::storage
