// TaskServerTest itself: the transports reach the server, StartServer
// replaces the running one, Call() carries its token, and a server that does
// not start fails the test.

#include "tests/service/service_test_fixture.h"

#include <memory>
#include <utility>

#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"
#include "service/auth.h"
#include "tasks/v1/tasks.grpc.pb.h"

namespace tasks::service {
namespace {

constexpr char kToken[] = "fixture-token-0123456789";

class TaskServerTestTest : public TaskServerTest<> {
 protected:
  // Creates a project, returning the call's status.
  grpc::Status CreateProject(const std::string& token = "") {
    v1::CreateProjectRequest request;
    request.mutable_project()->set_name("p");
    return token.empty() ? Call(&Stub::CreateProject, request)
                         : Call(token, &Stub::CreateProject, request);
  }
};

TEST_F(TaskServerTestTest, InProcessServerAnswers) {
  ASSERT_NO_FATAL_FAILURE(StartInMemoryServer());
  EXPECT_EQ(server_->port(), 0);
  EXPECT_TRUE(CreateProject().ok());
}

TEST_F(TaskServerTestTest, LoopbackTcpReachesTheServersPort) {
  ServerConfig config;
  config.listen_address = "127.0.0.1:0";
  config.open_store = InMemorySqliteStore();
  ASSERT_NO_FATAL_FAILURE(
      StartServer(std::move(config), Transport::kLoopbackTcp));
  EXPECT_GT(server_->port(), 0);
  EXPECT_TRUE(CreateProject().ok());
  // Stopped, the port answers no more (an in-process channel would not
  // tell).
  StopServer();
  EXPECT_EQ(CreateProject().error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TaskServerTestTest, StartServerReplacesTheRunningOne) {
  ASSERT_NO_FATAL_FAILURE(StartInMemoryServer());
  ASSERT_TRUE(CreateProject().ok());
  ASSERT_NO_FATAL_FAILURE(StartInMemoryServer());
  v1::GetProjectRequest request;
  request.set_id(1);
  EXPECT_EQ(Call(&Stub::GetProject, request).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(TaskServerTestTest, CallCarriesItsBearerToken) {
  absl::StatusOr<TokenTable> tokens =
      TokenTable::Parse(std::string(kToken) + " admin *\n");
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  ServerConfig config;
  config.open_store = InMemorySqliteStore();
  config.auth_tokens = std::make_shared<const TokenTable>(*std::move(tokens));
  ASSERT_NO_FATAL_FAILURE(StartServer(std::move(config)));
  EXPECT_EQ(CreateProject().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(CreateProject(kToken).ok());
}

TEST(StartOrFailTest, ServerThatDoesNotStartFailsTheTest) {
  EXPECT_NONFATAL_FAILURE(EXPECT_EQ(StartOrFail(ServerConfig()), nullptr),
                          "open_store");
}

}  // namespace
}  // namespace tasks::service
