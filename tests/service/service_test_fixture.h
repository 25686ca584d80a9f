#ifndef TASKS_TESTS_SERVICE_SERVICE_TEST_FIXTURE_H_
#define TASKS_TESTS_SERVICE_SERVICE_TEST_FIXTURE_H_

// TaskServerTest: the fixture the service tests share. A TaskServer started
// from the ServerConfig a test gives, a channel, a TaskService stub and a
// health stub to it, and Call<> for one RPC with a deadline (and a bearer
// token). TearDown() shuts the server down and destroys it, before the
// members of the test's own fixture (a mock store, say) are gone.
//
// Example:
//   class MyTest : public TaskServerTest<> {
//    protected:
//     void SetUp() override {
//       ASSERT_NO_FATAL_FAILURE(StartInMemoryServer());
//     }
//   };
//   TEST_F(MyTest, GetOfUnknownIdIsNotFound) {
//     v1::GetTaskRequest request;
//     request.set_id(99);
//     EXPECT_EQ(Call(&Stub::GetTask, request).error_code(),
//               grpc::StatusCode::NOT_FOUND);
//   }

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "service/server.h"
#include "tasks/v1/tasks.grpc.pb.h"
#include "tests/testing/unary_call.h"

namespace tasks::service {

using Stub = v1::TaskService::Stub;

// How the fixture's channel reaches the server.
enum class Transport {
  kInProcess,    // TaskServer::InProcessChannel(): no port, no network.
  kLoopbackTcp,  // 127.0.0.1:port(), plaintext: needs a listen_address.
};

// A store on a fresh in-memory SQLite database per call.
StoreFactory InMemorySqliteStore();

// A plaintext channel over loopback TCP to `server`'s port.
std::shared_ptr<grpc::Channel> LoopbackChannel(const TaskServer& server);

// Starts `config`, failing the test (non-fatally) and returning null when
// the server does not start.
std::unique_ptr<TaskServer> StartOrFail(ServerConfig config);

// `Base` is ::testing::Test or a ::testing::TestWithParam<T>.
template <typename Base = ::testing::Test>
class TaskServerTest : public Base {
 protected:
  void TearDown() override {
    StopServer();
    health_.reset();
    stub_.reset();
    channel_.reset();
    server_.reset();
  }

  // Starts a server from `config` in place of the one running so far, and a
  // channel (over `transport`) and stubs to it. A server that does not start
  // fails the test fatally: call it in ASSERT_NO_FATAL_FAILURE.
  void StartServer(ServerConfig config,
                   Transport transport = Transport::kInProcess) {
    StopServer();
    server_ = StartOrFail(std::move(config));
    ASSERT_NE(server_, nullptr);
    UseChannel(transport == Transport::kInProcess ? server_->InProcessChannel()
                                                  : LoopbackChannel(*server_));
  }

  // StartServer with the default ServerConfig on InMemorySqliteStore().
  void StartInMemoryServer() {
    ServerConfig config;
    config.open_store = InMemorySqliteStore();
    StartServer(std::move(config));
  }

  // Points channel_, stub_ and health_ at `channel` (one with credentials of
  // the test's own, say).
  void UseChannel(std::shared_ptr<grpc::Channel> channel) {
    channel_ = std::move(channel);
    stub_ = v1::TaskService::NewStub(channel_);
    health_ = grpc::health::v1::Health::NewStub(channel_);
  }

  // Shuts the server down (graceful, see TaskServer::Shutdown); the stubs
  // stay, and their calls fail.
  void StopServer() {
    if (server_ != nullptr) server_->Shutdown();
  }

  Stub& stub() { return *stub_; }

  // Calls `method` on `on` (default: stub_) with a deadline of
  // call_timeout_; `response` may be null.
  template <typename Request, typename Response>
  grpc::Status Call(grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                 const Request&, Response*),
                    const Request& request, Response* response = nullptr,
                    Stub* on = nullptr) {
    return ::tasks::testing::CallUnary(on != nullptr ? *on : *stub_, method,
                                       request, response, call_timeout_);
  }

  // The same with `token` as bearer token (none when empty).
  template <typename Request, typename Response>
  grpc::Status Call(const std::string& token,
                    grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                 const Request&, Response*),
                    const Request& request, Response* response = nullptr) {
    return ::tasks::testing::CallUnary(*stub_, method, request, response,
                                       call_timeout_, token);
  }

  // The deadline of each Call(), from its start.
  absl::Duration call_timeout_ = absl::Seconds(10);

  std::unique_ptr<TaskServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<Stub> stub_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
};

}  // namespace tasks::service

#endif  // TASKS_TESTS_SERVICE_SERVICE_TEST_FIXTURE_H_
