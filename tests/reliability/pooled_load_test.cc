// The real task_server under concurrent reads and writes: 64 clients in a
// closed loop, a third each on GetTask, CreateTask and BatchCreateTasks, for
// a few seconds. Through PgBouncer in transaction pooling mode (the
// "pgbouncer" target) a transaction may run on any server connection, so a
// statement prepared by name on one is missing on the next, or collides with
// another client's of the same name: no call may fail INTERNAL for that.

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/reliability/reliability_test_base.h"

namespace tasks::reliability {
namespace {

constexpr int kClients = 64;
constexpr int kChannels = 8;
constexpr int kBatchSize = 5;
constexpr absl::Duration kLoadTime = absl::Seconds(4);
constexpr absl::Duration kCallDeadline = absl::Seconds(20);

enum Method { kGet, kCreate, kBatchCreate, kMethods };
constexpr const char* kMethodNames[] = {"GetTask", "CreateTask",
                                        "BatchCreateTasks"};

using PooledLoadTest = ReliabilityTest;

TEST_P(PooledLoadTest, ConcurrentGetsAndCreatesNeverFailInternal) {
  TaskServerProcess* server = StartServer();
  ASSERT_NE(server, nullptr);
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < kChannels; ++i) channels.push_back(server->NewChannel());
  auto stub = v1::TaskService::NewStub(channels[0]);
  const int64_t project_id = CreateProject(*stub, "load");
  ASSERT_NE(project_id, 0);
  v1::Task seeded;
  ASSERT_TRUE(
      CreateTask(*stub, project_id, "seeded", kCallDeadline, 0, &seeded).ok());

  absl::Mutex mutex;
  // Calls by method and status code; the first message of each failure code.
  std::map<std::pair<int, grpc::StatusCode>, int> counts;
  std::map<grpc::StatusCode, std::string> first_messages;
  const absl::Time stop = absl::Now() + kLoadTime;
  std::vector<std::thread> clients;
  for (int client = 0; client < kClients; ++client) {
    clients.emplace_back([&, client] {
      auto client_stub = v1::TaskService::NewStub(channels[client % kChannels]);
      const Method method = static_cast<Method>(client % kMethods);
      for (int sequence = 0; absl::Now() < stop; ++sequence) {
        grpc::ClientContext context;
        context.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
        // A connect that fails on a busy machine is retried within the
        // deadline, not failed at once for every call of its channel: this
        // test is about what the pool answers.
        context.set_wait_for_ready(true);
        grpc::Status status;
        const std::string title = absl::StrCat("t-", client, "-", sequence);
        if (method == kGet) {
          v1::GetTaskRequest request;
          request.set_id(seeded.id());
          v1::Task task;
          status = client_stub->GetTask(&context, request, &task);
        } else if (method == kCreate) {
          v1::CreateTaskRequest request;
          request.mutable_task()->set_project_id(project_id);
          request.mutable_task()->set_title(title);
          v1::Task task;
          status = client_stub->CreateTask(&context, request, &task);
        } else {
          v1::BatchCreateTasksRequest request;
          for (int i = 0; i < kBatchSize; ++i) {
            v1::Task* task = request.add_requests()->mutable_task();
            task->set_project_id(project_id);
            task->set_title(absl::StrCat(title, "-", i));
          }
          v1::BatchCreateTasksResponse response;
          status = client_stub->BatchCreateTasks(&context, request, &response);
        }
        absl::MutexLock lock(&mutex);
        ++counts[{method, status.error_code()}];
        if (!status.ok()) {
          first_messages.try_emplace(status.error_code(),
                                     status.error_message());
        }
      }
    });
  }
  for (std::thread& client : clients) client.join();

  std::vector<std::string> parts;
  int internal = 0;
  int failed = 0;
  std::map<int, int> ok_by_method;
  for (const auto& [key, count] : counts) {
    const auto& [method, code] = key;
    parts.push_back(
        absl::StrCat(kMethodNames[method], " code ", code, ": ", count));
    if (code == grpc::StatusCode::OK) ok_by_method[method] += count;
    if (code == grpc::StatusCode::INTERNAL) internal += count;
    if (code != grpc::StatusCode::OK) failed += count;
  }
  ReportFigure(
      absl::StrCat(kClients, " clients for ", absl::FormatDuration(kLoadTime),
                   ": ", absl::StrJoin(parts, ", "), "; INTERNAL ", internal));
  for (const auto& [code, message] : first_messages) {
    ADD_FAILURE() << "code " << code << ", e.g.: " << message;
  }
  EXPECT_EQ(internal, 0);
  EXPECT_EQ(failed, 0);
  for (int method = 0; method < kMethods; ++method) {
    EXPECT_GT(ok_by_method[method], 0) << kMethodNames[method];
  }
}

INSTANTIATE_RELIABILITY_TEST_SUITE(PooledLoadTest);

}  // namespace
}  // namespace tasks::reliability
