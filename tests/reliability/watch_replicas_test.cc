// Two task_server processes on one database: a watcher on the first, writes
// through the second (creates, updates, deletes, a batch create and a
// project's cascade delete), one at a time. Every write's events reach the
// watcher once, in commit order, within a second of the write's reply (on
// PostgreSQL the other replica's NOTIFY wakes the watcher; on SQLite and
// through PgBouncer the watcher polls the change log).

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/reliability/reliability_test_base.h"
#include "tests/reliability/task_watcher.h"
#include "tests/reliability/task_writer.h"

namespace tasks::reliability {
namespace {

constexpr int kCreates = 100;
constexpr int kUpdates = 50;
constexpr int kDeletes = 30;
constexpr int kBatch = 50;
constexpr int kCascade = 10;
// The bound on the delay from a write's reply to its event on
// another replica; the slowest event may take a little longer on a loaded
// machine, but not more than twice that.
constexpr absl::Duration kP99Bound = absl::Seconds(1);
constexpr absl::Duration kMaxBound = absl::Seconds(2);
// Time for an extra (duplicated) event to show after the last expected one.
constexpr absl::Duration kGrace = absl::Milliseconds(300);

using WatchReplicasTest = ReliabilityTest;

TEST_P(WatchReplicasTest, WritesThroughOneReplicaReachWatcherOnOther) {
  TaskServerProcess* watched = StartServer();
  ASSERT_NE(watched, nullptr);
  TaskServerProcess* written = StartServer();
  ASSERT_NE(written, nullptr);
  auto watched_stub = v1::TaskService::NewStub(watched->NewChannel());
  const int64_t project_id = CreateProject(*watched_stub, "replicas");
  ASSERT_NE(project_id, 0);

  std::string token;
  absl::StatusOr<std::vector<v1::Task>> listed =
      ListAll(*watched_stub, "", &token);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_FALSE(token.empty()) << "ListTasks returned no resume_token";
  TaskWatcher watcher(watched->NewChannel(), WatchFrom(token));

  TaskWriter writer(written->NewChannel(), project_id);
  for (int i = 0; i < kCreates; ++i) {
    ASSERT_TRUE(writer.Create(absl::StrCat("create-", i)).ok());
  }
  std::vector<int64_t> ids;
  for (const auto& [id, project] : writer.live()) ids.push_back(id);
  for (int i = 0; i < kUpdates; ++i) ASSERT_TRUE(writer.Update(ids[i]).ok());
  for (int i = 0; i < kDeletes; ++i) {
    ASSERT_TRUE(writer.Delete(ids[ids.size() - 1 - i]).ok());
  }
  ASSERT_TRUE(writer.BatchCreate(kBatch).ok());
  const int64_t doomed = CreateProject(writer.stub(), "cascade");
  ASSERT_NE(doomed, 0);
  ASSERT_TRUE(writer.BatchCreate(kCascade, doomed).ok());
  ASSERT_TRUE(writer.DeleteProjectWithTasks(doomed).ok());
  ASSERT_TRUE(writer.Create("last").ok());

  const std::vector<ExpectedEvent>& expected = writer.expected();
  EXPECT_TRUE(watcher.AwaitEvents(expected.size(), absl::Seconds(30)))
      << watcher.event_count() << " of " << expected.size()
      << " events; stream " << watcher.State() << "; " << watched->LogTail();
  absl::SleepFor(kGrace);
  const std::vector<ReceivedEvent> received = watcher.Events();
  EXPECT_EQ(CompareEvents(received, expected), "");

  std::vector<absl::Duration> delays;
  for (size_t i = 0; i < std::min(received.size(), expected.size()); ++i) {
    delays.push_back(std::max(absl::ZeroDuration(),
                              received[i].arrived - expected[i].replied));
  }
  ASSERT_FALSE(delays.empty());
  std::sort(delays.begin(), delays.end());
  const absl::Duration p99 = delays[(delays.size() - 1) * 99 / 100];
  const absl::Duration max = delays.back();
  EXPECT_LE(p99, kP99Bound);
  EXPECT_LE(max, kMaxBound);
  EXPECT_EQ(watcher.State(), "open");

  ReportFigure(absl::StrCat(
      "events=", received.size(), " expected=", expected.size(),
      " (creates, updates, deletes, batch of ", kBatch, ", cascade of ",
      kCascade, ") from the other replica: delay after the write's reply p50=",
      Millis(delays[delays.size() / 2]), " p99=", Millis(p99),
      " max=", Millis(max)));
}

INSTANTIATE_RELIABILITY_TEST_SUITE(WatchReplicasTest);

}  // namespace
}  // namespace tasks::reliability
