// 10,000 health Watch streams opened, read once and cancelled, in rounds
// over several connections: the server frees each at once, so its resident
// memory afterwards is within a few MiB of before (a watcher kept until the
// next status change would hold ~15 KiB each). And --max_health_watches
// caps the streams open at once.

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/reliability/process_memory.h"
#include "tests/reliability/reliability_test_base.h"

namespace tasks::reliability {
namespace {

using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;

constexpr int kChannels = 4;
constexpr int kRounds = 20;
constexpr int kWatchesPerChannelPerRound = 125;  // 10,000 in all.
// "Within a few MiB": allocator noise, far below 10,000 leaked watchers.
constexpr int64_t kMaxGrowthKib = 8 * 1024;
// How long the server may take to process the last cancellations.
constexpr absl::Duration kSettleTimeout = absl::Seconds(10);

// Opens `count` Watch streams one after another on `stub`, reads each one's
// first status and cancels it. Returns how many did not get a first status.
int OpenAndCancelWatches(Health::Stub& stub, int count) {
  int failed = 0;
  for (int i = 0; i < count; ++i) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    // A connection attempt that fails on a busy machine is retried rather
    // than failing the channel's watches: this test is about what cancelled
    // watches leave behind.
    context.set_wait_for_ready(true);
    std::unique_ptr<grpc::ClientReader<HealthCheckResponse>> watch =
        stub.Watch(&context, HealthCheckRequest());
    HealthCheckResponse response;
    failed += !watch->Read(&response);
    context.TryCancel();
    while (watch->Read(&response)) {
    }
    watch->Finish().IgnoreError();
  }
  return failed;
}

using HealthWatchLeakTest = ReliabilityTest;

TEST_P(HealthWatchLeakTest, CancelledWatchesAreFreed) {
  TaskServerProcess* server = StartServer();
  ASSERT_NE(server, nullptr);
  std::vector<std::unique_ptr<Health::Stub>> stubs;
  for (int i = 0; i < kChannels; ++i) {
    stubs.push_back(Health::NewStub(server->NewChannel()));
  }
  auto round = [&stubs] {
    std::vector<std::thread> clients;
    std::vector<int> failed(stubs.size(), 0);
    for (size_t i = 0; i < stubs.size(); ++i) {
      clients.emplace_back([&, i] {
        failed[i] = OpenAndCancelWatches(*stubs[i], kWatchesPerChannelPerRound);
      });
    }
    for (std::thread& client : clients) client.join();
    int total = 0;
    for (int f : failed) total += f;
    return total;
  };

  // One round first, so that connections and allocator arenas are in
  // "before".
  ASSERT_EQ(round(), 0);
  const int64_t before = ProcStatusKib(server->pid(), "VmRSS");
  ASSERT_GE(before, 0) << "no VmRSS for the server";

  int failed = 0;
  for (int i = 0; i < kRounds; ++i) failed += round();
  EXPECT_EQ(failed, 0) << "Watch streams that got no first status";

  // Cancellations reach the server's queue threads asynchronously.
  const absl::Time deadline = absl::Now() + kSettleTimeout;
  int64_t after = ProcStatusKib(server->pid(), "VmRSS");
  while (after >= 0 && after - before > kMaxGrowthKib &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
    after = ProcStatusKib(server->pid(), "VmRSS");
  }
  ASSERT_GE(after, 0) << "no VmRSS for the server";
  ReportFigure(absl::StrCat(kChannels * kRounds * kWatchesPerChannelPerRound,
                            " cancelled watches: RSS before=", before / 1024,
                            "MiB after=", after / 1024, "MiB (", after - before,
                            " KiB growth)"));
  EXPECT_LE(after - before, kMaxGrowthKib);
  EXPECT_EQ(server->Health().value_or(ServingStatus()),
            HealthCheckResponse::SERVING);
}

TEST_P(HealthWatchLeakTest, WatchesBeyondTheFlagsCapAreResourceExhausted) {
  constexpr int kCap = 20;
  TaskServerProcess* server =
      StartServer(ServerOptions({absl::StrCat("--max_health_watches=", kCap)}));
  ASSERT_NE(server, nullptr);
  auto stub = Health::NewStub(server->NewChannel());
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<HealthCheckResponse>>> open;
  auto watch = [&] {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    contexts.back()->set_deadline(
        absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    open.push_back(stub->Watch(contexts.back().get(), HealthCheckRequest()));
    HealthCheckResponse response;
    return open.back()->Read(&response);
  };
  for (int i = 0; i < kCap; ++i) ASSERT_TRUE(watch()) << "watch " << i;
  EXPECT_FALSE(watch());
  const grpc::Status refused = open.back()->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << refused.error_message();
  // Check is not limited by it.
  EXPECT_EQ(server->Health().value_or(ServingStatus()),
            HealthCheckResponse::SERVING);
  ReportFigure(absl::StrCat("--max_health_watches=", kCap, ": watch ", kCap + 1,
                            " got code ", refused.error_code(), " \"",
                            refused.error_message(), "\""));
  for (auto& context : contexts) context->TryCancel();
  open.pop_back();
  for (auto& reader : open) reader->Finish().IgnoreError();
}

INSTANTIATE_RELIABILITY_TEST_SUITE(HealthWatchLeakTest);

}  // namespace
}  // namespace tasks::reliability
