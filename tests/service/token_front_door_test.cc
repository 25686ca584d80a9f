// Bearer tokens at the server's front door, on real loopback ports (plaintext
// and TLS): a TaskService call without a known token is refused
// UNAUTHENTICATED as soon as its headers arrive, before its message is read,
// so a client cannot make the server buffer or parse a message, or hand a
// write to a worker, without a token. Health and reflection stay open.

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "service/auth.h"
#include "service/read_file.h"
#include "service/server.h"
#include "service/server_metrics.h"
#include "service/tls_credentials.h"
#include "tasks/v1/tasks.grpc.pb.h"
#include "tests/service/service_test_fixture.h"
#include "tests/testing/grpc_status_matchers.h"
#include "tests/testing/metrics_scrape.h"
#include "tests/testing/stderr_capture.h"

namespace tasks::service {
namespace {

using ::tasks::testing::GrpcOk;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kToken[] = "front-door-token-0123456789";
constexpr char kUnknownToken[] = "unknown-token-0123456789";
constexpr char kCreateTask[] = "/tasks.v1.TaskService/CreateTask";

// How long a call that is not refused at its headers waits for its message.
constexpr absl::Duration kWaitForMessage = absl::Seconds(2);

std::string TlsFile(absl::string_view name) {
  return absl::StrCat("tests/testdata/tls/", name);
}

// A TaskServer with token auth on 127.0.0.1, plaintext or TLS, counting in
// `metrics`.
ServerConfig ConfigFor(bool tls, std::shared_ptr<ServerMetrics> metrics) {
  absl::StatusOr<TokenTable> tokens =
      TokenTable::Parse(absl::StrCat(kToken, " admin *\n"));
  EXPECT_TRUE(tokens.ok()) << tokens.status();
  ServerConfig config;
  config.listen_address = "127.0.0.1:0";
  config.auth_tokens = std::make_shared<const TokenTable>(*std::move(tokens));
  config.open_store = InMemorySqliteStore();
  config.metrics = std::move(metrics);
  if (tls) {
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
        LoadServerCredentials(
            {TlsFile("server.pem"), TlsFile("server.key"), ""});
    EXPECT_TRUE(credentials.ok()) << credentials.status();
    config.credentials = credentials.value_or(nullptr);
  }
  return config;
}

std::shared_ptr<grpc::Channel> ChannelTo(const TaskServer& server, bool tls) {
  grpc::ChannelArguments arguments;
  std::shared_ptr<grpc::ChannelCredentials> credentials =
      grpc::InsecureChannelCredentials();
  if (tls) {
    grpc::SslCredentialsOptions options;
    absl::StatusOr<std::string> ca = ReadFile(TlsFile("ca.pem"));
    EXPECT_TRUE(ca.ok()) << ca.status();
    options.pem_root_certs = ca.value_or("");
    credentials = grpc::SslCredentials(options);
    arguments.SetSslTargetNameOverride("localhost");
  }
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", server.port()),
                                   credentials, arguments);
}

// The outcome of a call and how long the server took to give it.
struct Outcome {
  grpc::Status status;
  absl::Duration elapsed;
};

// A call to `method` that sends its headers (with `token` unless empty) and
// then nothing: no message, no half-close. A server that waits for the
// message answers only when the client's deadline passes.
Outcome CallWithoutMessage(grpc::Channel& channel, const std::string& method,
                           const std::string& token) {
  grpc::GenericStub stub(channel.shared_from_this());
  grpc::CompletionQueue queue;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kWaitForMessage));
  if (!token.empty()) {
    context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  }
  const absl::Time start = absl::Now();
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call =
      stub.PrepareCall(&context, method, &queue);
  Outcome outcome;
  call->StartCall(reinterpret_cast<void*>(1));
  call->Finish(&outcome.status, reinterpret_cast<void*>(2));
  void* tag = nullptr;
  bool ok = false;
  // Both tags come back; the call is over with the second.
  while (queue.Next(&tag, &ok) && tag != reinterpret_cast<void*>(2)) {
  }
  outcome.elapsed = absl::Now() - start;
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  return outcome;
}

class TokenFrontDoorTest
    : public TaskServerTest<::testing::TestWithParam<bool>> {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(StartServer(ConfigFor(tls(), metrics_)));
    UseChannel(ChannelTo(*server_, tls()));
  }
  bool tls() const { return GetParam(); }

  // What tasks_unauthenticated_refused_calls_total says now.
  double RefusedAtTheDoor() const {
    absl::StatusOr<testing::MetricSamples> samples =
        testing::MetricSamples::Parse(metrics_->Scrape());
    EXPECT_TRUE(samples.ok()) << samples.status();
    return samples.ok()
               ? samples->Value("tasks_unauthenticated_refused_calls_total")
               : -1;
  }

  const std::shared_ptr<ServerMetrics> metrics_ =
      std::make_shared<ServerMetrics>();
};

TEST_P(TokenFrontDoorTest, CallWithoutTokenIsRefusedBeforeItsMessageIsSent) {
  for (const std::string token : {"", kUnknownToken}) {
    SCOPED_TRACE(token.empty() ? "no token" : "unknown token");
    const Outcome refused = CallWithoutMessage(*channel_, kCreateTask, token);
    std::cout << "FIGURE " << (tls() ? "tls" : "plaintext") << " "
              << (token.empty() ? "no token" : "unknown token")
              << ", headers only: "
              << absl::StatusCodeToString(
                     static_cast<absl::StatusCode>(refused.status.error_code()))
              << " after " << absl::ToDoubleMilliseconds(refused.elapsed)
              << "ms (the client's deadline: "
              << absl::ToInt64Milliseconds(kWaitForMessage) << "ms)\n";
    EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << refused.status.error_message();
    EXPECT_LT(refused.elapsed, kWaitForMessage / 2);
  }
  // Counted, though no handler saw them.
  EXPECT_EQ(RefusedAtTheDoor(), 2);
}

TEST_P(TokenFrontDoorTest, CallWithTokenWaitsForItsMessage) {
  // The control: the refusal above is the token's doing, not the missing
  // message's.
  const Outcome waited = CallWithoutMessage(*channel_, kCreateTask, kToken);
  EXPECT_EQ(waited.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
      << waited.status.error_message();
  EXPECT_EQ(RefusedAtTheDoor(), 0);
}

TEST_P(TokenFrontDoorTest, LargeMessageWithoutTokenIsRefusedUnread) {
  auto stub = v1::TaskService::NewStub(channel_);
  v1::CreateTaskRequest request;
  request.mutable_task()->set_title("large");
  request.mutable_task()->set_description(std::string(1000 * 1000, 'x'));
  testing::StderrCapture capture;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  context.AddMetadata("authorization", absl::StrCat("Bearer ", kUnknownToken));
  v1::Task task;
  const grpc::Status status = stub->CreateTask(&context, request, &task);
  const std::string log = capture.Stop();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("unknown token"));
  // Logged as refused at the door: no handler ran for it.
  EXPECT_THAT(log,
              HasSubstr(absl::StrCat(kCreateTask,
                                     " UNAUTHENTICATED principal=- (refused "
                                     "before its message was read)")));
  EXPECT_THAT(log, Not(HasSubstr(kUnknownToken)));
}

TEST_P(TokenFrontDoorTest, TokenCallsHealthAndReflectionGetThrough) {
  auto stub = v1::TaskService::NewStub(channel_);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  context.AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
  v1::CreateProjectRequest request;
  request.mutable_project()->set_name("through the door");
  v1::Project project;
  EXPECT_THAT(stub->CreateProject(&context, request, &project), GrpcOk());

  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext health_context;
  health_context.set_deadline(
      absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  grpc::health::v1::HealthCheckRequest health_request;
  grpc::health::v1::HealthCheckResponse health_response;
  EXPECT_THAT(health->Check(&health_context, health_request, &health_response),
              GrpcOk());

  // Reflection without a token: refused at the door it would end at once
  // with UNAUTHENTICATED; open, it waits for its first request.
  const Outcome reflection = CallWithoutMessage(
      *channel_,
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", "");
  EXPECT_EQ(reflection.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
      << reflection.status.error_message();
}

INSTANTIATE_TEST_SUITE_P(Transports, TokenFrontDoorTest,
                         ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Tls" : "Plaintext";
                         });

}  // namespace
}  // namespace tasks::service
