// HealthService on a real server with one completion queue: Check, Watch,
// status changes, unknown services and shutdown.
#include "service/health_service.h"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <thread>

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

  HealthService health_{{kService}};
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

}  // namespace
}  // namespace tasks::service
