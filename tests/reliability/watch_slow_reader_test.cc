// A watcher that opens its stream and then reads nothing while 20,000 tasks
// of 2 KB each are written: the server holds no backlog for it (its resident
// memory grows no more than while the same writes go on with no watcher,
// plus the change feed's bounded ring), and once the watcher reads, it
// receives every event, in order.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/reliability/process_memory.h"
#include "tests/reliability/reliability_test_base.h"
#include "tests/reliability/task_watcher.h"
#include "tests/reliability/task_writer.h"

namespace tasks::reliability {
namespace {

constexpr int kEvents = 20000;
constexpr int kBatch = 250;
constexpr int kDescriptionBytes = 2000;
// What a watcher may add: the change feed's ring, shared by all streams
// (the last 4,096 changes: ~10 MiB of these tasks), gRPC's buffers of one
// stream and allocator noise. A backlog of the 20,000 events would hold
// well over 40 MiB (2 KB of description each, as a message).
constexpr int64_t kMaxExtraGrowthKib = 24 * 1024;

using WatchSlowReaderTest = ReliabilityTest;

// Writes kEvents tasks of kDescriptionBytes in batches.
void WriteTasks(v1::TaskService::Stub& stub, int64_t project_id,
                const std::string& prefix) {
  for (int first = 0; first < kEvents; first += kBatch) {
    v1::BatchCreateTasksRequest request;
    for (int i = first; i < first + kBatch; ++i) {
      v1::Task* task = request.add_requests()->mutable_task();
      task->set_project_id(project_id);
      task->set_title(absl::StrCat(prefix, "-", i));
      task->set_description(std::string(kDescriptionBytes, 'x'));
    }
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    v1::BatchCreateTasksResponse response;
    grpc::Status status = stub.BatchCreateTasks(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
}

TEST_P(WatchSlowReaderTest, NoBacklogInServerAndEverythingArrivesLater) {
  ASSERT_NO_FATAL_FAILURE(StartWithProject(ServerOptions(), "slow"));
  const std::string filter = absl::StrCat("project_id = ", project_id_);

  // The same writes with no watcher: what they cost the server by
  // themselves (and the allocator's arenas warmed up).
  const int64_t before_alone = ProcStatusKib(server_->pid(), "VmRSS");
  ASSERT_NO_FATAL_FAILURE(WriteTasks(*stub_, project_id_, "alone"));
  const int64_t after_alone = ProcStatusKib(server_->pid(), "VmRSS");

  std::string token;
  absl::StatusOr<std::vector<v1::Task>> listed =
      ListAll(*stub_, filter, &token);
  ASSERT_TRUE(listed.ok()) << listed.status();
  TaskWatcher watcher(server_->NewChannel(), WatchFrom(token, filter),
                      /*paused=*/true);
  const int64_t before_watched = ProcStatusKib(server_->pid(), "VmRSS");
  const absl::Time writing = absl::Now();
  ASSERT_NO_FATAL_FAILURE(WriteTasks(*stub_, project_id_, "watched"));
  const absl::Duration write_time = absl::Now() - writing;
  const int64_t after_watched = ProcStatusKib(server_->pid(), "VmRSS");
  ASSERT_GE(before_alone, 0) << "no VmRSS for the server";
  ASSERT_GE(after_watched, 0) << "no VmRSS for the server";

  const absl::Time reading = absl::Now();
  watcher.Resume();
  EXPECT_TRUE(watcher.AwaitEvents(kEvents, absl::Seconds(120)))
      << watcher.event_count() << " of " << kEvents << " events; stream "
      << watcher.State() << "; " << server_->LogTail();
  const absl::Duration read_time = absl::Now() - reading;
  const std::vector<ReceivedEvent> events = watcher.Events();
  int out_of_order = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const v1::Task& task = events[i].event.task();
    if (events[i].event.type() != v1::TaskEvent::CREATED ||
        task.title() != absl::StrCat("watched-", i)) {
      if (out_of_order++ == 0) {
        ADD_FAILURE() << "event " << i << " is " << Describe(events[i].event)
                      << " titled \"" << task.title() << "\", want CREATED "
                      << "\"watched-" << i << "\"";
      }
    }
  }
  EXPECT_EQ(out_of_order, 0);
  EXPECT_EQ(events.size(), kEvents);
  EXPECT_EQ(watcher.State(), "open");

  const int64_t growth_alone = after_alone - before_alone;
  const int64_t growth_watched = after_watched - before_watched;
  EXPECT_LE(growth_watched, growth_alone + kMaxExtraGrowthKib)
      << "the server buffers events for a reader that does not read";
  ReportFigure(absl::StrCat(
      kEvents, " events of ", kDescriptionBytes,
      " B written while the watcher read nothing: server RSS growth ",
      growth_watched / 1024, " MiB (the same writes with no watcher: ",
      growth_alone / 1024, " MiB; RSS after ", after_watched / 1024,
      " MiB, peak ", ProcStatusKib(server_->pid(), "VmHWM") / 1024,
      " MiB); writes took ", Millis(write_time), ", then all ", events.size(),
      " events read in ", Millis(read_time), ", out_of_order=", out_of_order));
}

INSTANTIATE_RELIABILITY_TEST_SUITE(WatchSlowReaderTest);

}  // namespace
}  // namespace tasks::reliability
