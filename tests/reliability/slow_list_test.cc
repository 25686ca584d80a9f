// Health checks while the heaviest list calls run: enough tasks in a SQLite
// file that a ListTasks filtered by a metadata value no task has (a full,
// unindexed scan at the largest page size) takes over a second, then more
// such calls at once than the server has completion-queue threads. Health
// Check must still answer within 100 ms: a scan must not hold a queue thread.

#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/reliability/reliability_test_base.h"

namespace tasks::reliability {
namespace {

constexpr int kCompletionQueues = 2;
constexpr int kLists = 2 * kCompletionQueues;
constexpr int kTasksPerBatch = 1000;
// Each task's metadata is {"k0": [null, ...]} (~1 KiB of JSON), which the
// filter parses in every row.
constexpr int kMetadataValues = 240;
constexpr absl::Duration kSlowList = absl::Seconds(1);
constexpr int kMaxTasks = 1'000'000;
constexpr int kChecks = 20;
constexpr absl::Duration kCheckInterval = absl::Milliseconds(50);
constexpr absl::Duration kMaxCheckLatency = absl::Milliseconds(100);

// BatchCreateTasks of `count` tasks titled "t<first>"... in `project_id`.
grpc::Status CreateBatch(v1::TaskService::Stub& stub, int64_t project_id,
                         int first, int count) {
  v1::BatchCreateTasksRequest request;
  for (int i = 0; i < count; ++i) {
    v1::Task* task = request.add_requests()->mutable_task();
    task->set_project_id(project_id);
    task->set_title(absl::StrCat("t", first + i));
    google::protobuf::ListValue* nulls =
        (*task->mutable_metadata()->mutable_fields())["k0"]
            .mutable_list_value();
    for (int i = 0; i < kMetadataValues; ++i) {
      nulls->add_values()->set_null_value(google::protobuf::NULL_VALUE);
    }
  }
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  v1::BatchCreateTasksResponse response;
  return stub.BatchCreateTasks(&context, request, &response);
}

// The heaviest list: a metadata value no task has, the largest page.
grpc::Status ListNothing(v1::TaskService::Stub& stub) {
  v1::ListTasksRequest request;
  request.set_page_size(1000);
  request.set_metadata_key("k0");
  request.mutable_metadata_value()->set_string_value("absent");
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
  v1::ListTasksResponse response;
  grpc::Status status = stub.ListTasks(&context, request, &response);
  if (status.ok() && response.tasks_size() != 0) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "the filter matched");
  }
  return status;
}

using SlowListTest = ReliabilityTest;

TEST_P(SlowListTest, HealthAnswersWhileListScansRunOnEveryQueueThread) {
  TaskServerProcess* server = StartServer(
      ServerOptions({absl::StrCat("--completion_queues=", kCompletionQueues)}));
  ASSERT_NE(server, nullptr);
  auto stub = v1::TaskService::NewStub(server->NewChannel());
  const int64_t project_id = CreateProject(*stub, "scan");
  ASSERT_NE(project_id, 0);

  // Loads until one list takes kSlowList, extrapolating from the last one.
  int tasks = 0;
  int target = 20 * kTasksPerBatch;
  absl::Duration one_list;
  while (true) {
    for (; tasks < target; tasks += kTasksPerBatch) {
      grpc::Status status =
          CreateBatch(*stub, project_id, tasks, kTasksPerBatch);
      ASSERT_TRUE(status.ok()) << status.error_message();
    }
    const absl::Time start = absl::Now();
    grpc::Status status = ListNothing(*stub);
    one_list = absl::Now() - start;
    ASSERT_TRUE(status.ok()) << status.error_message();
    if (one_list >= kSlowList) break;
    ASSERT_LT(tasks, kMaxTasks)
        << "a list of " << tasks << " tasks took " << Millis(one_list);
    const double factor = 1.3 * absl::FDivDuration(kSlowList, one_list);
    target =
        std::min(kMaxTasks, static_cast<int>(tasks * std::max(factor, 1.2)));
  }

  absl::Mutex mu;
  absl::Time first_list_end = absl::InfiniteFuture();
  std::vector<absl::Duration> list_times;
  std::vector<std::thread> lists;
  for (int i = 0; i < kLists; ++i) {
    lists.emplace_back([&] {
      auto own_stub = v1::TaskService::NewStub(server->NewChannel());
      const absl::Time start = absl::Now();
      grpc::Status status = ListNothing(*own_stub);
      const absl::Time end = absl::Now();
      EXPECT_TRUE(status.ok()) << status.error_message();
      absl::MutexLock lock(&mu);
      first_list_end = std::min(first_list_end, end);
      list_times.push_back(end - start);
    });
  }
  std::vector<absl::Duration> checks;
  int checks_during_lists = 0;
  for (int i = 0; i < kChecks; ++i) {
    absl::SleepFor(kCheckInterval);  // Spreads the checks over the lists.
    const absl::Time start = absl::Now();
    absl::StatusOr<ServingStatus> health = server->Health(absl::Seconds(30));
    const absl::Time end = absl::Now();
    EXPECT_TRUE(health.ok()) << health.status();
    checks.push_back(end - start);
    absl::MutexLock lock(&mu);
    checks_during_lists += end < first_list_end;
  }
  for (std::thread& list : lists) list.join();

  std::sort(checks.begin(), checks.end());
  std::sort(list_times.begin(), list_times.end());
  ReportFigure(absl::StrCat(
      tasks, " tasks, one list alone ", Millis(one_list), "; ", kLists,
      " lists at once on ", kCompletionQueues, " queue threads took ",
      Millis(list_times.front()), "..", Millis(list_times.back()),
      "; health Check p50=", Millis(checks[checks.size() / 2]),
      " p100=", Millis(checks.back()), " (", checks_during_lists, " of ",
      checks.size(), " while every list ran)"));
  EXPECT_LE(checks.back(), kMaxCheckLatency);
  // Otherwise the checks did not measure what they should.
  EXPECT_GE(checks_during_lists, kChecks / 2);
}

INSTANTIATE_RELIABILITY_TEST_SUITE(SlowListTest);

}  // namespace
}  // namespace tasks::reliability
