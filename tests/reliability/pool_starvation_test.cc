// Point reads beside the heaviest list calls, with the defaults: a SQLite
// file has --pool_size 4 and --max_concurrent_lists is 4, so four slow
// ListTasks calls of one tenant may hold every pooled connection. A GetTask
// (a point read, run on a completion-queue thread with SQLite) must then not
// wait for a connection on that thread, and the health probe must still get
// one: health Check answers within 100 ms and stays SERVING. Then lists
// waiting behind them for a --max_concurrent_lists slot, each with a ~1 MB
// metadata_value (250,000 nulls, ~15 MB parsed): peak RSS stays <= 256 MiB.

#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/reliability/process_memory.h"
#include "tests/reliability/reliability_test_base.h"
#include "tests/reliability/task_fill.h"

namespace tasks::reliability {
namespace {

constexpr int kLists = 4;  // --max_concurrent_lists and SQLite's pool size
constexpr absl::Duration kSlowList = absl::Seconds(1);
constexpr int kChecks = 30;
constexpr absl::Duration kCheckInterval = absl::Milliseconds(50);
constexpr absl::Duration kMaxCheckLatency = absl::Milliseconds(100);

// A ListTasks whose metadata_value is a list of `nulls` nulls (4 bytes each
// on the wire: ~1 MB for 250,000), which no task has.
grpc::Status ListHugeValue(v1::TaskService::Stub& stub, int nulls) {
  v1::ListTasksRequest request;
  request.set_page_size(1000);
  request.set_metadata_key("k0");
  AddNulls(request.mutable_metadata_value()->mutable_list_value(), nulls);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  v1::ListTasksResponse response;
  return stub.ListTasks(&context, request, &response);
}

using PoolStarvationTest = ReliabilityTest;

TEST_P(PoolStarvationTest, PointReadsAndHealthBesideListsOnEveryConnection) {
  ASSERT_NO_FATAL_FAILURE(
      StartWithProject(ServerOptions({"--completion_queues=1"}), "scan"));
  v1::Task point;
  ASSERT_TRUE(
      CreateTask(*stub_, project_id_, "point", absl::Seconds(10), 0, &point)
          .ok());

  absl::StatusOr<FilledProject> filled =
      FillUntilListIsSlow(*stub_, project_id_, kSlowList);
  ASSERT_TRUE(filled.ok()) << filled.status();

  absl::Mutex mu;
  absl::Time first_list_end = absl::InfiniteFuture();
  std::vector<std::thread> threads;
  for (int i = 0; i < kLists; ++i) {
    threads.emplace_back([&] {
      auto own_stub = v1::TaskService::NewStub(server_->NewChannel());
      grpc::Status status = ListNothing(*own_stub);
      EXPECT_TRUE(status.ok()) << status.error_message();
      absl::MutexLock lock(&mu);
      first_list_end = std::min(first_list_end, absl::Now());
    });
  }
  // Point reads while the lists run, one at a time.
  absl::Duration slowest_get;
  threads.emplace_back([&] {
    auto own_stub = v1::TaskService::NewStub(server_->NewChannel());
    absl::SleepFor(absl::Milliseconds(200));
    for (int i = 0; i < 5; ++i) {
      v1::GetTaskRequest request;
      request.set_id(point.id());
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
      v1::Task response;
      const absl::Time start = absl::Now();
      grpc::Status status = own_stub->GetTask(&context, request, &response);
      const absl::Duration took = absl::Now() - start;
      absl::MutexLock lock(&mu);
      slowest_get = std::max(slowest_get, took);
      if (absl::Now() > first_list_end) break;
    }
  });
  std::vector<absl::Duration> checks;
  int not_serving = 0;
  int checks_during_lists = 0;
  for (int i = 0; i < kChecks; ++i) {
    absl::SleepFor(kCheckInterval);
    const absl::Time start = absl::Now();
    absl::StatusOr<ServingStatus> health = server_->Health(absl::Seconds(30));
    const absl::Time end = absl::Now();
    EXPECT_TRUE(health.ok()) << health.status();
    if (health.ok() &&
        *health != grpc::health::v1::HealthCheckResponse::SERVING) {
      ++not_serving;
    }
    checks.push_back(end - start);
    absl::MutexLock lock(&mu);
    checks_during_lists += end < first_list_end;
  }
  for (std::thread& thread : threads) thread.join();

  std::sort(checks.begin(), checks.end());
  ReportFigure(absl::StrCat(
      filled->tasks, " tasks, one list alone ", Millis(filled->one_list), "; ",
      kLists, " lists at once: slowest GetTask ", Millis(slowest_get),
      "; health Check p50=", Millis(checks[checks.size() / 2]),
      " p100=", Millis(checks.back()), ", NOT_SERVING ", not_serving, " of ",
      checks.size(), " (", checks_during_lists, " while every list ran)"));
  EXPECT_LE(checks.back(), kMaxCheckLatency);
  EXPECT_EQ(not_serving, 0);
  EXPECT_LE(slowest_get, absl::Milliseconds(500));
  EXPECT_GE(checks_during_lists, kChecks / 2);
  // Memory: lists waiting for a --max_concurrent_lists slot hold their parsed
  // request; a metadata_value of 250,000 nulls is ~1 MB on the wire.
  const int64_t before_kib = ProcStatusKib(server_->pid(), "VmHWM");
  constexpr int kHugeLists = 68;  // 4 running + 64 waiting (max_threads / 2)
  std::vector<std::thread> huge;
  std::vector<int> codes(17, 0);
  for (int i = 0; i < kHugeLists; ++i) {
    // Staggered, so that gRPC's --network_memory_mib does not refuse them
    // for arriving together: each waits (up to 30 s) behind the slow lists.
    absl::SleepFor(absl::Milliseconds(100));
    huge.emplace_back([&] {
      auto own_stub = v1::TaskService::NewStub(server_->NewChannel());
      grpc::Status status = ListHugeValue(*own_stub, 250000);
      absl::MutexLock lock(&mu);
      ++codes[status.error_code()];
    });
  }
  for (std::thread& thread : huge) thread.join();
  const int64_t peak_kib = ProcStatusKib(server_->pid(), "VmHWM");
  std::string outcome;
  for (int code = 0; code < 17; ++code) {
    if (codes[code] > 0)
      absl::StrAppend(&outcome, " code", code, "=", codes[code]);
  }
  ReportFigure(absl::StrCat(kHugeLists,
                            " ListTasks with a 1 MB metadata_value: "
                            "peak RSS ",
                            before_kib / 1024, " -> ", peak_kib / 1024, " MiB;",
                            outcome));
  EXPECT_LE(peak_kib, 256 * 1024);
}

INSTANTIATE_RELIABILITY_TEST_SUITE(PoolStarvationTest);

}  // namespace
}  // namespace tasks::reliability
