// List, then watch from the list's resume_token on one server while another
// server on the same database writes without pause (creates, updates,
// deletes); the watched server is SIGKILLed and restarted several times
// mid-stream, and each time the watch is resumed there with the last token
// it received. The union of the streams' events is exactly the writes made
// after the list, in order, none missing, none twice; and the list with the
// events applied equals the final table.

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/reliability/reliability_test_base.h"
#include "tests/reliability/task_watcher.h"
#include "tests/reliability/task_writer.h"

namespace tasks::reliability {
namespace {

constexpr int kKills = 3;
constexpr int kSeedTasks = 20;
// Each life of the watch receives at least this many events before the
// server is killed, so that every kill lands mid-stream.
constexpr size_t kEventsPerLife = 30;
constexpr absl::Duration kEventTimeout = absl::Seconds(30);
// Time for an extra (duplicated) event to show after the last expected one.
constexpr absl::Duration kGrace = absl::Milliseconds(300);

using WatchResumeRestartTest = ReliabilityTest;

TEST_P(WatchResumeRestartTest, ResumedAfterSigkillWithoutGapOrDuplicate) {
  TaskServerProcess* watched = StartServer();
  ASSERT_NE(watched, nullptr);
  TaskServerProcess* written = StartServer();
  ASSERT_NE(written, nullptr);
  auto written_stub = v1::TaskService::NewStub(written->NewChannel());
  const int64_t project_id = CreateProject(*written_stub, "resume");
  ASSERT_NE(project_id, 0);
  const std::string filter = absl::StrCat("project_id = ", project_id);

  TaskWriter writer(written->NewChannel(), project_id);
  for (int i = 0; i < kSeedTasks; ++i) {
    ASSERT_TRUE(writer.Create(absl::StrCat("seed-", i)).ok());
  }
  const size_t writes_before_list = writer.expected().size();
  std::string token;
  auto watched_stub = v1::TaskService::NewStub(watched->NewChannel());
  absl::StatusOr<std::vector<v1::Task>> listed =
      ListAll(*watched_stub, filter, &token);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), kSeedTasks);
  ASSERT_FALSE(token.empty()) << "ListTasks returned no resume_token";

  std::atomic<bool> stop{false};
  grpc::Status write_error;
  std::thread writing([&] {
    absl::BitGen random;
    while (!stop) {
      grpc::Status status = writer.RandomWrite(random);
      if (!status.ok()) {
        write_error = status;
        return;
      }
    }
  });

  std::vector<ReceivedEvent> events;
  std::vector<std::string> ends;
  auto watcher = std::make_unique<TaskWatcher>(watched->NewChannel(),
                                               WatchFrom(token, filter));
  absl::Duration downtime;
  for (int kill = 1; kill <= kKills; ++kill) {
    ASSERT_TRUE(watcher->AwaitEvents(kEventsPerLife, kEventTimeout))
        << "life " << kill << ": " << watcher->event_count()
        << " events; stream " << watcher->State() << "; " << watched->LogTail();
    ASSERT_TRUE(watched->Kill().ok()) << watched->LogTail();
    const absl::Time killed = absl::Now();
    ASSERT_TRUE(watcher->AwaitEnd(absl::Seconds(10)).has_value())
        << "the watch stayed open after SIGKILL";
    ends.push_back(watcher->State());
    const std::vector<ReceivedEvent> life = watcher->Events();
    events.insert(events.end(), life.begin(), life.end());
    const std::string last_token = watcher->LastResumeToken();
    watcher.reset();
    ASSERT_TRUE(RestartServer(*watched));  // Writes go on meanwhile.
    downtime += absl::Now() - killed;
    watcher = std::make_unique<TaskWatcher>(watched->NewChannel(),
                                            WatchFrom(last_token, filter));
  }
  // The last life too receives writes before they stop.
  EXPECT_TRUE(watcher->AwaitEvents(kEventsPerLife, kEventTimeout))
      << watcher->State();
  stop = true;
  writing.join();
  ASSERT_TRUE(write_error.ok()) << write_error.error_message();

  const std::vector<ExpectedEvent> expected(
      writer.expected().begin() + writes_before_list, writer.expected().end());
  const size_t still_due =
      expected.size() > events.size() ? expected.size() - events.size() : 0;
  EXPECT_TRUE(watcher->AwaitEvents(still_due, kEventTimeout))
      << events.size() + watcher->event_count() << " of " << expected.size()
      << " events; stream " << watcher->State() << "; " << watched->LogTail();
  absl::SleepFor(kGrace);
  const std::vector<ReceivedEvent> last_life = watcher->Events();
  events.insert(events.end(), last_life.begin(), last_life.end());
  EXPECT_EQ(CompareEvents(events, expected), "");

  // The list at the token, with the events applied, is the final table.
  absl::StatusOr<std::vector<v1::Task>> final_list =
      ListAll(*written_stub, filter, nullptr);
  ASSERT_TRUE(final_list.ok()) << final_list.status();
  const std::map<int64_t, v1::Task> replayed = ApplyEvents(*listed, events);
  int differing = 0;
  for (const v1::Task& task : *final_list) {
    auto it = replayed.find(task.id());
    if (it == replayed.end() || it->second.etag() != task.etag() ||
        it->second.description() != task.description()) {
      ++differing;
      ADD_FAILURE() << "task " << task.id()
                    << (it == replayed.end() ? " missing from the events"
                                             : " differs from its last event");
    }
  }
  EXPECT_EQ(replayed.size(), final_list->size())
      << "the events leave tasks that the table no longer has";

  for (const std::string& end : ends) {
    EXPECT_EQ(end.rfind("ended UNAVAILABLE", 0), 0u) << end;
  }
  ReportFigure(absl::StrCat(
      "kills=", kKills, " writes_after_list=", expected.size(),
      " events=", events.size(), " final_tasks=", final_list->size(),
      " differing_from_replay=", differing, " mean_restart=",
      Millis(downtime / kKills), " streams_ended: ", ends.front()));
}

INSTANTIATE_RELIABILITY_TEST_SUITE(WatchResumeRestartTest);

}  // namespace
}  // namespace tasks::reliability
