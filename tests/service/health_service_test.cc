// HealthService on a real server with one completion queue: Check, Watch,
// status changes, unknown services and shutdown.
#include "service/health_service.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "service/completion_queue_tag.h"

namespace tasks::service {
namespace {

using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;

constexpr char kService[] = "tasks.v1.TaskService";
constexpr int kMaxWatches = 8;

// A Watch stream of the overall status, with its first status read.
struct OpenWatch {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<HealthCheckResponse>> reader;
  bool got_status = false;

  // Cancels the stream and waits for its end; returns its status.
  grpc::Status Cancel() {
    context.TryCancel();
    HealthCheckResponse update;
    while (reader->Read(&update)) {
    }
    return reader->Finish();
  }
};

class HealthServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.RegisterService(&health_.async_service());
    queue_ = builder.AddCompletionQueue();
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    health_.AwaitCalls(*queue_);
    thread_ = std::thread([this] { ProceedUntilShutdown(*queue_); });
    stub_ = Health::NewStub(server_->InProcessChannel(grpc::ChannelArguments()));
  }

  void TearDown() override { StopServer(); }

  void StopServer() {
    if (server_ == nullptr) return;
    health_.Shutdown();
    server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    server_->Wait();
    queue_->Shutdown();
    thread_.join();
    server_ = nullptr;
  }

  grpc::Status Check(const std::string& service,
                     HealthCheckResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    HealthCheckRequest request;
    request.set_service(service);
    return stub_->Check(&context, request, response);
  }

  HealthCheckResponse::ServingStatus StatusOf(const std::string& service) {
    HealthCheckResponse response;
    grpc::Status status = Check(service, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.status();
  }

  std::unique_ptr<OpenWatch> Watch() {
    auto watch = std::make_unique<OpenWatch>();
    watch->context.set_deadline(
        absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    watch->reader = stub_->Watch(&watch->context, HealthCheckRequest());
    HealthCheckResponse update;
    watch->got_status = watch->reader->Read(&update);
    return watch;
  }

  // Waits up to 10 s for watch_count() to be `count` (the server learns of a
  // cancellation asynchronously); returns the last count seen.
  int AwaitWatchCount(int count) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    int seen = health_.watch_count();
    while (seen != count && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(1));
      seen = health_.watch_count();
    }
    return seen;
  }

  HealthService health_{{kService}, kMaxWatches};
  std::unique_ptr<grpc::ServerCompletionQueue> queue_;
  std::unique_ptr<grpc::Server> server_;
  std::thread thread_;
  std::unique_ptr<Health::Stub> stub_;
};

TEST_F(HealthServiceTest, StatusesStartNotServingAndFollowSetServing) {
  EXPECT_EQ(StatusOf(""), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(StatusOf(kService), HealthCheckResponse::NOT_SERVING);
  health_.SetServing(true);
  EXPECT_EQ(StatusOf(""), HealthCheckResponse::SERVING);
  EXPECT_EQ(StatusOf(kService), HealthCheckResponse::SERVING);
  health_.SetServing(false);
  EXPECT_EQ(StatusOf(kService), HealthCheckResponse::NOT_SERVING);
}

TEST_F(HealthServiceTest, CheckOfUnknownServiceIsNotFound) {
  health_.SetServing(true);
  HealthCheckResponse response;
  EXPECT_EQ(Check("no.such.Service", &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(HealthServiceTest, ManyChecksAtOnceAreAllAnswered) {
  health_.SetServing(true);
  std::vector<std::thread> checks;
  std::atomic<int> serving{0};
  for (int i = 0; i < 32; ++i) {
    checks.emplace_back([&] {
      serving += StatusOf(kService) == HealthCheckResponse::SERVING;
    });
  }
  for (std::thread& check : checks) check.join();
  EXPECT_EQ(serving.load(), 32);
}

TEST_F(HealthServiceTest, WatchSendsTheStatusThenEveryChange) {
  grpc::ClientContext context;
  HealthCheckRequest request;
  request.set_service(kService);
  auto watch = stub_->Watch(&context, request);
  HealthCheckResponse update;
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), HealthCheckResponse::NOT_SERVING);
  health_.SetServing(true);
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), HealthCheckResponse::SERVING);
  health_.SetServing(false);
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), HealthCheckResponse::NOT_SERVING);
  context.TryCancel();
  while (watch->Read(&update)) {
  }
  EXPECT_EQ(watch->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(HealthServiceTest, WatchOfUnknownServiceIsServiceUnknown) {
  grpc::ClientContext context;
  HealthCheckRequest request;
  request.set_service("no.such.Service");
  auto watch = stub_->Watch(&context, request);
  HealthCheckResponse update;
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), HealthCheckResponse::SERVICE_UNKNOWN);
  context.TryCancel();
  while (watch->Read(&update)) {
  }
  watch->Finish().IgnoreError();
}

// The stream keeps only whether the name is known, not the name (which may
// be up to the largest request): it still follows the right status.
TEST_F(HealthServiceTest, WatchOfLongUnknownNameStaysUnknownThroughChanges) {
  grpc::ClientContext context;
  HealthCheckRequest request;
  request.set_service(std::string(256 << 10, 'x'));
  auto watch = stub_->Watch(&context, request);
  HealthCheckResponse update;
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), HealthCheckResponse::SERVICE_UNKNOWN);
  health_.SetServing(true);
  health_.Shutdown();
  EXPECT_FALSE(watch->Read(&update)) << update.status();
  EXPECT_EQ(watch->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(HealthServiceTest, ShutdownTellsWatchersAndEndsTheirStreams) {
  health_.SetServing(true);
  grpc::ClientContext context;
  HealthCheckRequest request;
  auto watch = stub_->Watch(&context, request);
  HealthCheckResponse update;
  ASSERT_TRUE(watch->Read(&update));
  ASSERT_EQ(update.status(), HealthCheckResponse::SERVING);

  health_.Shutdown();
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), HealthCheckResponse::NOT_SERVING);
  EXPECT_FALSE(watch->Read(&update));
  EXPECT_EQ(watch->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);

  health_.SetServing(true);  // Too late: ignored.
  EXPECT_EQ(StatusOf(""), HealthCheckResponse::NOT_SERVING);
}

TEST_F(HealthServiceTest, WatcherThatWentAwayDoesNotHoldUpShutdown) {
  {
    grpc::ClientContext context;
    HealthCheckRequest request;
    auto watch = stub_->Watch(&context, request);
    HealthCheckResponse update;
    ASSERT_TRUE(watch->Read(&update));
    context.TryCancel();
    while (watch->Read(&update)) {
    }
    watch->Finish().IgnoreError();
  }
  health_.SetServing(true);  // Its write fails: the watch is gone.
  const absl::Time start = absl::Now();
  StopServer();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST_F(HealthServiceTest, CancelledWatchesAreFreedAtOnce) {
  std::vector<std::unique_ptr<OpenWatch>> watches;
  for (int i = 0; i < kMaxWatches; ++i) {
    watches.push_back(Watch());
    ASSERT_TRUE(watches.back()->got_status);
  }
  EXPECT_EQ(health_.watch_count(), kMaxWatches);
  for (auto& watch : watches) {
    EXPECT_EQ(watch->Cancel().error_code(), grpc::StatusCode::CANCELLED);
  }
  // No status change needed to notice them gone.
  EXPECT_EQ(AwaitWatchCount(0), 0);
  watches.clear();
  for (int i = 0; i < kMaxWatches; ++i) {
    watches.push_back(Watch());
    EXPECT_TRUE(watches.back()->got_status) << "watch " << i;
  }
  for (auto& watch : watches) watch->Cancel().IgnoreError();
}

TEST_F(HealthServiceTest, WatchesBeyondTheCapAreResourceExhausted) {
  std::vector<std::unique_ptr<OpenWatch>> watches;
  for (int i = 0; i < kMaxWatches; ++i) {
    watches.push_back(Watch());
    ASSERT_TRUE(watches.back()->got_status);
  }
  std::unique_ptr<OpenWatch> refused = Watch();
  EXPECT_FALSE(refused->got_status);
  grpc::Status status = refused->reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_details(), "");  // google.rpc.Status with a reason
  EXPECT_EQ(health_.watch_count(), kMaxWatches);

  watches.back()->Cancel().IgnoreError();
  watches.pop_back();
  ASSERT_EQ(AwaitWatchCount(kMaxWatches - 1), kMaxWatches - 1);
  watches.push_back(Watch());
  EXPECT_TRUE(watches.back()->got_status);
  for (auto& watch : watches) watch->Cancel().IgnoreError();
}

// Cancellations racing with status changes: each watcher's end may arrive
// while a write to it is in flight. Nothing is freed twice or left behind.
TEST_F(HealthServiceTest, WatchesCancelledDuringStatusChangesAreFreed) {
  std::atomic<bool> stop{false};
  std::thread flipper([&] {
    bool serving = false;
    while (!stop) health_.SetServing(serving = !serving);
  });
  std::vector<std::thread> clients;
  std::atomic<int> opened{0};
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        std::unique_ptr<OpenWatch> watch = Watch();
        opened += watch->got_status;
        watch->Cancel().IgnoreError();
      }
    });
  }
  for (std::thread& client : clients) client.join();
  stop = true;
  flipper.join();
  // A watch may be refused while the server has yet to see others cancelled.
  EXPECT_GT(opened.load(), 0);
  EXPECT_EQ(AwaitWatchCount(0), 0);
}

// Streams cancelled as they start, before the first status is read: the
// end of each call may come right behind its arrival. None is left behind.
TEST_F(HealthServiceTest, WatchesCancelledAsTheyStartAreFreed) {
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        grpc::ClientContext context;
        auto reader = stub_->Watch(&context, HealthCheckRequest());
        context.TryCancel();
        HealthCheckResponse update;
        while (reader->Read(&update)) {
        }
        reader->Finish().IgnoreError();
      }
    });
  }
  for (std::thread& client : clients) client.join();
  EXPECT_EQ(AwaitWatchCount(0), 0);
}

}  // namespace
}  // namespace tasks::service
