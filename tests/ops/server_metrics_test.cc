// ServerMetrics in-process: what each source records shows in the scrape, and
// what recording a call costs.

#include "service/server_metrics.h"

#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "service/concurrency_limit.h"
#include "service/worker_pool.h"
#include "tests/testing/metrics_scrape.h"

namespace tasks::service {
namespace {

using ::tasks::testing::MetricSamples;

MetricSamples ScrapeOf(ServerMetrics& metrics) {
  absl::StatusOr<MetricSamples> samples =
      MetricSamples::Parse(metrics.Scrape());
  EXPECT_TRUE(samples.ok()) << samples.status();
  return samples.ok() ? *samples : MetricSamples();
}

TEST(ServerMetricsTest, CallsCountByCodeAndLeaveFlight) {
  ServerMetrics metrics;
  MethodMetrics& get = metrics.ForMethod("tasks.v1.TaskService", "GetTask");
  const auto first = get.Started();
  const auto second = get.Started();
  MetricSamples during = ScrapeOf(metrics);
  get.Finished(first, grpc::StatusCode::OK);
  get.Finished(second, grpc::StatusCode::NOT_FOUND);
  MetricSamples after = ScrapeOf(metrics);

  const MetricSamples::Labels method = {{"grpc_method", "GetTask"}};
  EXPECT_EQ(during.Value("grpc_server_calls_in_flight", method), 2);
  EXPECT_EQ(after.Value("grpc_server_calls_in_flight", method), 0);
  EXPECT_EQ(after.Value("grpc_server_handled_total",
                        {{"grpc_method", "GetTask"}, {"grpc_code", "OK"}}),
            1);
  EXPECT_EQ(
      after.Value("grpc_server_handled_total",
                  {{"grpc_method", "GetTask"}, {"grpc_code", "NOT_FOUND"}}),
      1);
  // Every code's counter exists from the start; histograms once used.
  EXPECT_TRUE(after.Has("grpc_server_handled_total",
                        {{"grpc_service", "tasks.v1.TaskService"},
                         {"grpc_method", "GetTask"},
                         {"grpc_code", "DATA_LOSS"}}));
  EXPECT_EQ(after.Value("grpc_server_handling_seconds_count", method), 2);
}

TEST(ServerMetricsTest, StoreAndWorkerPoolFiguresShowInTheScrape) {
  ServerMetrics metrics;
  storage::StoreObserver& store = metrics.store_observer();
  store.OnPoolChanged(4, 3, 2);
  store.OnPoolWait(absl::ZeroDuration());
  store.OnPoolWait(absl::Milliseconds(20));
  store.OnGroupCommit(1);
  store.OnGroupCommit(5);
  store.OnPipelineChanged(2, 1);
  metrics.SetServing(true);

  absl::Notification release;
  absl::Notification running[2];
  WorkerPool pool(2, /*per_caller=*/true);
  auto blocking = [&](int i) {
    return [&, i] {
      running[i].Notify();
      release.WaitForNotification();
    };
  };
  EXPECT_EQ(pool.Submit(blocking(0), [] { return std::string("a"); }),
            WorkerPool::kRunning);
  running[0].WaitForNotification();
  EXPECT_EQ(pool.Submit([] {}, [] { return std::string("a"); }),
            WorkerPool::kOverShare);
  EXPECT_TRUE(pool.TrySubmit(blocking(1)));
  running[1].WaitForNotification();
  EXPECT_FALSE(pool.TrySubmit([] {}));  // both threads are busy
  std::shared_ptr<void> watch = metrics.WatchWorkerPool(pool);
  MetricSamples samples = ScrapeOf(metrics);
  release.Notify();
  pool.Stop();
  watch.reset();

  EXPECT_EQ(samples.Value("tasks_db_pool_max_connections"), 4);
  EXPECT_EQ(samples.Value("tasks_db_pool_open_connections"), 3);
  EXPECT_EQ(samples.Value("tasks_db_pool_in_use_connections"), 2);
  EXPECT_EQ(samples.Value("tasks_db_pool_wait_seconds_count"), 2);
  EXPECT_EQ(samples.Value("tasks_db_pool_wait_seconds_bucket", {{"le", "0"}}),
            1);
  EXPECT_DOUBLE_EQ(samples.Value("tasks_db_pool_wait_seconds_sum"), 0.02);
  EXPECT_EQ(samples.Value("tasks_db_group_commit_writes_count"), 2);
  EXPECT_EQ(samples.Value("tasks_db_group_commit_writes_sum"), 6);
  EXPECT_EQ(samples.Value("tasks_db_pipeline_max_connections"), 2);
  EXPECT_EQ(samples.Value("tasks_db_pipeline_ready_connections"), 1);
  EXPECT_EQ(samples.Value("tasks_health_serving"), 1);
  EXPECT_EQ(samples.Value("tasks_worker_threads"), 2);
  EXPECT_EQ(samples.Value("tasks_worker_threads_busy"), 2);
  EXPECT_EQ(samples.Value("tasks_worker_rejected_calls_total"), 1);
  EXPECT_EQ(samples.Value("tasks_worker_share_refused_calls_total"), 1);
}

TEST(ServerMetricsTest, SlotFiguresShowInTheScrapeBySlotAndReason) {
  ServerMetrics metrics;
  // One slot, two places to wait, a caller's share of them: one.
  ConcurrencyLimit lists(1, 2, INT64_MAX, /*shares=*/2);
  std::shared_ptr<void> watch = metrics.WatchSlots("list", lists);
  auto held =
      std::make_unique<ConcurrencyLimit::Slot>(lists, absl::InfiniteFuture());
  ASSERT_TRUE(held->held());
  // No slot by its deadline: refused busy.
  EXPECT_FALSE(ConcurrencyLimit::Slot(lists, absl::Now()).held());
  std::thread waiter([&] {
    ConcurrencyLimit::Slot slot(lists, absl::Now() + absl::Seconds(30), 1,
                                [] { return std::string("a"); });
    EXPECT_TRUE(slot.held());
  });
  for (absl::Time give_up = absl::Now() + absl::Seconds(10);
       lists.waiting() == 0 && absl::Now() < give_up;) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  // Its caller already waits in its one place: refused for its share.
  ConcurrencyLimit::Slot over(lists, absl::Now() + absl::Seconds(30), 1,
                              [] { return std::string("a"); });
  EXPECT_TRUE(over.over_share());
  const MetricSamples samples = ScrapeOf(metrics);
  held.reset();
  waiter.join();

  const MetricSamples::Labels list = {{"slot", "list"}};
  EXPECT_EQ(samples.Value("tasks_slots_in_use", list), 1);
  EXPECT_EQ(samples.Value("tasks_slot_waiters", list), 1);
  EXPECT_EQ(samples.Value("tasks_slot_refused_calls_total",
                          {{"slot", "list"}, {"reason", "busy"}}),
            1);
  EXPECT_EQ(samples.Value("tasks_slot_refused_calls_total",
                          {{"slot", "list"}, {"reason", "share"}}),
            1);
}

// A code's latency histogram is made at its first answer; threads answering
// with it at once all race to make it (MethodMetrics::Latency), and
// prometheus-cpp hands each the same one: no observation is lost.
TEST(ServerMetricsTest, FirstAnswersWithACodeFromManyThreadsAllCount) {
  ServerMetrics metrics;
  MethodMetrics& get = metrics.ForMethod("tasks.v1.TaskService", "GetTask");
  constexpr int kThreads = 8;
  constexpr int kCallsEach = 1000;
  absl::Notification go;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      go.WaitForNotification();
      for (int i = 0; i < kCallsEach; ++i) {
        get.Finished(get.Started(), grpc::StatusCode::NOT_FOUND);
      }
    });
  }
  go.Notify();
  for (std::thread& thread : threads) thread.join();

  const MetricSamples samples = ScrapeOf(metrics);
  const MetricSamples::Labels not_found = {{"grpc_method", "GetTask"},
                                           {"grpc_code", "NOT_FOUND"}};
  const double observed =
      samples.Value("grpc_server_handling_seconds_count", not_found);
  std::cout << "FIGURE ServerMetricsTest.FirstAnswers: " << observed << " of "
            << kThreads * kCallsEach << " answers in the histogram\n";
  EXPECT_EQ(observed, kThreads * kCallsEach);
  EXPECT_EQ(samples.Value("grpc_server_handled_total", not_found),
            kThreads * kCallsEach);
}

// The cost a call pays for its metrics: a clock read and an atomic update at
// arrival, a clock read, a counter and a histogram at the answer. Bounded
// generously (a loaded machine); the figure is what matters.
TEST(ServerMetricsTest, RecordingACallCostsWellUnderAMicrosecond) {
  ServerMetrics metrics;
  MethodMetrics& get = metrics.ForMethod("tasks.v1.TaskService", "GetTask");
  constexpr int kCalls = 200000;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kCalls; ++i) {
    get.Finished(get.Started(), grpc::StatusCode::OK);
  }
  const std::chrono::duration<double, std::nano> elapsed =
      std::chrono::steady_clock::now() - start;
  const double per_call_ns = elapsed.count() / kCalls;
  std::cout << "FIGURE ServerMetricsTest.RecordingACall: " << per_call_ns
            << " ns per call (Started + Finished), " << kCalls << " calls"
            << std::endl;
  RecordProperty("figure", std::to_string(per_call_ns) + " ns per call");
  EXPECT_LT(per_call_ns, 5000);
}

}  // namespace
}  // namespace tasks::service
