// Many clients, split across two server processes on one database, increment
// a counter kept in one task's description with read-modify-write cycles
// guarded by the etag, retrying on ABORTED: no
// update is lost (the final counter equals the number of successful
// updates), and the losers of each race get ABORTED.

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/reliability/create_load.h"
#include "tests/reliability/reliability_test_base.h"
#include "tests/testing/raw_sql.h"

namespace tasks::reliability {
namespace {

constexpr int kServers = 2;
constexpr int kClients = 8;
constexpr int kIncrementsPerClient = 25;
// A client gives up after this many attempts (a livelock would be a bug too).
constexpr int kMaxAttemptsPerClient = 2000;

using EtagUpdateRaceTest = ReliabilityTest;

// Calls wait for their channel to connect (within the deadline): a first
// connect that fails on a busy machine would otherwise fail every call
// during the reconnect backoff, burning a client's attempts in a moment.
grpc::Status GetTask(v1::TaskService::Stub& stub, int64_t id, v1::Task* task) {
  grpc::ClientContext context;
  context.set_wait_for_ready(true);
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::GetTaskRequest request;
  request.set_id(id);
  return stub.GetTask(&context, request, task);
}

TEST_P(EtagUpdateRaceTest, ConcurrentReadModifyWriteLosesNoUpdate) {
  std::vector<TaskServerProcess*> servers;
  for (int i = 0; i < kServers; ++i) {
    servers.push_back(StartServer());
    ASSERT_NE(servers.back(), nullptr);
  }
  auto stub = v1::TaskService::NewStub(servers[0]->NewChannel());
  const int64_t project_id = CreateProject(*stub, "counter");
  ASSERT_NE(project_id, 0);
  v1::Task counter;
  {
    grpc::ClientContext context;
    v1::CreateTaskRequest request;
    request.mutable_task()->set_project_id(project_id);
    request.mutable_task()->set_title("counter");
    request.mutable_task()->set_description("0");
    ASSERT_TRUE(stub->CreateTask(&context, request, &counter).ok());
  }

  std::atomic<int64_t> updated{0};
  std::atomic<int64_t> aborted{0};
  std::atomic<int64_t> gave_up{0};
  std::vector<grpc::Status> unexpected;
  absl::Mutex unexpected_mu;
  std::vector<std::thread> clients;
  for (int client = 0; client < kClients; ++client) {
    clients.emplace_back([&, client] {
      auto client_stub =
          v1::TaskService::NewStub(servers[client % kServers]->NewChannel());
      int done = 0;
      for (int attempt = 0;
           done < kIncrementsPerClient && attempt < kMaxAttemptsPerClient;
           ++attempt) {
        v1::Task task;
        grpc::Status status = GetTask(*client_stub, counter.id(), &task);
        int64_t value = 0;
        if (status.ok() && !absl::SimpleAtoi(task.description(), &value)) {
          status = grpc::Status(
              grpc::StatusCode::DATA_LOSS,
              "description is not a number: " + task.description());
        }
        if (status.ok()) {
          v1::UpdateTaskRequest request;
          request.mutable_task()->set_id(task.id());
          request.mutable_task()->set_etag(task.etag());
          request.mutable_task()->set_description(absl::StrCat(value + 1));
          request.mutable_update_mask()->add_paths("description");
          grpc::ClientContext context;
          context.set_wait_for_ready(true);
          context.set_deadline(
              absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
          v1::Task result;
          status = client_stub->UpdateTask(&context, request, &result);
        }
        if (status.ok()) {
          ++done;
          ++updated;
        } else if (status.error_code() == grpc::StatusCode::ABORTED) {
          ++aborted;
        } else {
          absl::MutexLock lock(&unexpected_mu);
          unexpected.push_back(status);
        }
      }
      if (done < kIncrementsPerClient) ++gave_up;
    });
  }
  for (std::thread& client : clients) client.join();

  v1::Task final_task;
  ASSERT_TRUE(GetTask(*stub, counter.id(), &final_task).ok());
  absl::StatusOr<std::string> stored = ::tasks::testing::QueryRawSql(
      backend(), database(),
      absl::StrCat("SELECT description FROM tasks WHERE id = ", counter.id()));
  ASSERT_TRUE(stored.ok()) << stored.status();

  EXPECT_EQ(gave_up, 0);
  EXPECT_EQ(updated, kClients * kIncrementsPerClient);
  EXPECT_EQ(final_task.description(), absl::StrCat(updated.load()));
  EXPECT_EQ(*stored, absl::StrCat(updated.load()));
  EXPECT_GT(aborted, 0) << "no update ever lost a race: the test did not "
                           "exercise the etag check";
  for (const grpc::Status& status : unexpected) {
    ADD_FAILURE() << CodeName(status.error_code()) << ": "
                  << status.error_message();
  }

  ReportFigure(absl::StrCat("servers=", kServers, " clients=", kClients,
                            " ok_updates=", updated.load(),
                            " final_counter=", final_task.description(),
                            " aborted=", aborted.load(),
                            " other_errors=", unexpected.size()));
}

INSTANTIATE_RELIABILITY_TEST_SUITE(EtagUpdateRaceTest);

}  // namespace
}  // namespace tasks::reliability
