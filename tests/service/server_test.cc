// The server wiring against a mock store: error injection, health
// transitions, a database that comes late, graceful drain, and the hardening
// limits (port reuse, thread pool, message size).

#include "service/server.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tasks/v1/tasks.grpc.pb.h"
#include "tests/service/service_test_fixture.h"
#include "tests/testing/grpc_status_matchers.h"
#include "tests/testing/mock_task_store.h"
#include "tests/testing/status_matchers.h"

namespace tasks::service {
namespace {

using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::tasks::testing::GrpcErrorIs;
using ::tasks::testing::GrpcInvalidField;
using ::tasks::testing::GrpcOk;
using ::tasks::testing::MockTaskStore;
using ::tasks::testing::StatusIs;
using ::testing::_;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::Invoke;
using ::testing::NiceMock;
using ::testing::Not;
using ::testing::Property;
using ::testing::Return;

constexpr char kServiceName[] = "tasks.v1.TaskService";

// A factory that hands out `store` on its first call.
StoreFactory FactoryOf(storage::TaskStorePtr store) {
  auto holder = std::make_shared<storage::TaskStorePtr>(std::move(store));
  return [holder]() -> absl::StatusOr<storage::TaskStorePtr> {
    if (*holder == nullptr) return absl::InternalError("store handed out");
    return std::move(*holder);
  };
}

v1::Task TaskWithId(int64_t id) {
  v1::Task task;
  task.set_id(id);
  task.set_title("t");
  return task;
}

class ServerTest : public TaskServerTest<> {
 protected:
  ServerTest() {
    auto store = std::make_unique<NiceMock<MockTaskStore>>();
    store_ = store.get();
    ON_CALL(*store_, CheckHealth()).WillByDefault(Invoke([this] {
      return healthy_ ? absl::OkStatus()
                      : absl::UnavailableError("connection refused");
    }));
    config_.open_store = FactoryOf(std::move(store));
    config_.health_probe_interval = absl::Milliseconds(10);
  }

  // Starts config_. In-process channels cancel their calls at once on
  // shutdown; draining needs a real connection, so a server with a port is
  // reached through it.
  void StartServer() {
    TaskServerTest::StartServer(config_, config_.listen_address.empty()
                                             ? Transport::kInProcess
                                             : Transport::kLoopbackTcp);
  }

  // The health status of `service`, or UNKNOWN when the check fails.
  HealthCheckResponse::ServingStatus HealthOf(const std::string& service) {
    grpc::ClientContext context;
    HealthCheckRequest request;
    request.set_service(service);
    HealthCheckResponse response;
    if (!health_->Check(&context, request, &response).ok()) {
      return HealthCheckResponse::UNKNOWN;
    }
    return response.status();
  }

  // Waits up to 5 s for both health statuses to become `expected`.
  bool AwaitHealth(HealthCheckResponse::ServingStatus expected) {
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    while (absl::Now() < deadline) {
      if (HealthOf("") == expected && HealthOf(kServiceName) == expected) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
    return false;
  }

  grpc::Status GetTask(int64_t id, v1::Task* task = nullptr) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::GetTaskRequest request;
    request.set_id(id);
    v1::Task response;
    grpc::Status status = stub_->GetTask(&context, request, &response);
    if (task != nullptr) *task = response;
    return status;
  }

  // Every store CreateTask counts itself in `in_store`, then waits for
  // `release`.
  void HoldCreatesUntil(absl::Notification& release,
                        std::atomic<int>& in_store) {
    ON_CALL(*store_, CreateTask(_, _, _))
        .WillByDefault(Invoke([&](const v1::Task&, absl::string_view,
                                  const storage::Idempotency&) {
          ++in_store;
          release.WaitForNotification();
          return absl::StatusOr<v1::Task>(TaskWithId(1));
        }));
  }

  // Waits up to 10 s for `count` to reach `expected`.
  static bool AwaitCount(const std::atomic<int>& count, int expected) {
    for (absl::Time deadline = absl::Now() + absl::Seconds(10);
         count.load() < expected && absl::Now() < deadline;) {
      absl::SleepFor(absl::Milliseconds(1));
    }
    return count.load() == expected;
  }

  // Like HoldCreatesUntil, for GetTask.
  void HoldGetsUntil(absl::Notification& release, std::atomic<int>& in_store) {
    ON_CALL(*store_, GetTask(_, _))
        .WillByDefault(Invoke([&](int64_t id, const storage::AccessScope&) {
          ++in_store;
          release.WaitForNotification();
          return absl::StatusOr<v1::Task>(TaskWithId(id));
        }));
  }

  // Like HoldCreatesUntil, for ListTasks.
  void HoldListsUntil(absl::Notification& release, std::atomic<int>& in_store) {
    ON_CALL(*store_, ListTasks)
        .WillByDefault(Invoke([&](const auto&, const auto&, auto&) {
          ++in_store;
          release.WaitForNotification();
          return absl::OkStatus();
        }));
  }

  // A thread that calls the list `method` with an empty request and expects
  // it to succeed.
  template <typename Request, typename Response>
  std::thread ListInBackground(grpc::Status (v1::TaskService::Stub::*method)(
      grpc::ClientContext*, const Request&, Response*)) {
    return std::thread([this, method] {
      grpc::ClientContext context;
      Response response;
      EXPECT_THAT(((*stub_).*method)(&context, Request(), &response), GrpcOk());
    });
  }

  grpc::Status CreateTask(const std::string& title) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::CreateTaskRequest request;
    request.mutable_task()->set_title(title);
    v1::Task response;
    return stub_->CreateTask(&context, request, &response);
  }

  // Threads making `count` CreateTask calls at once, each adding its status
  // to `results` under `mu`.
  std::vector<std::thread> CreateInBackground(
      int count, absl::Mutex& mu, std::vector<grpc::Status>& results) {
    std::vector<std::thread> calls;
    for (int i = 0; i < count; ++i) {
      calls.emplace_back([this, i, &mu, &results] {
        grpc::Status status = CreateTask(absl::StrCat("task ", i));
        absl::MutexLock lock(&mu);
        results.push_back(status);
      });
    }
    return calls;
  }

  std::atomic<bool> healthy_{true};
  NiceMock<MockTaskStore>* store_;  // Owned by the server once opened.
  ServerConfig config_;
};

TEST_F(ServerTest, StoreUnavailableIsUnavailableWithReason) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  EXPECT_CALL(*store_, GetTask(7, _))
      .WillOnce(Return(absl::UnavailableError("database connection lost")));
  EXPECT_THAT(GetTask(7), GrpcErrorIs(grpc::StatusCode::UNAVAILABLE,
                                      reason::kDatabaseUnavailable));
}

TEST_F(ServerTest, StoreInternalErrorIsInternalWithoutItsDetail) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  EXPECT_CALL(*store_, GetTask(7, _))
      .WillOnce(
          Return(absl::InternalError("sqlite3_prepare: near \"SELEC\": syntax "
                                     "error in SELEC id FROM task")));
  grpc::Status status = GetTask(7);
  EXPECT_THAT(status,
              GrpcErrorIs(grpc::StatusCode::INTERNAL, reason::kInternal));
  EXPECT_THAT(status.error_message(), Not(HasSubstr("SELEC")));
  EXPECT_THAT(status.error_details(), Not(HasSubstr("SELEC")));
}

TEST_F(ServerTest, StoreReasonReachesTheClient) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  EXPECT_CALL(*store_, GetTask(7, _))
      .WillOnce(Return(
          WithReason(absl::NotFoundError("no task 7"), reason::kTaskNotFound)));
  EXPECT_THAT(GetTask(7),
              GrpcErrorIs(grpc::StatusCode::NOT_FOUND, reason::kTaskNotFound));
}

TEST_F(ServerTest, InvalidRequestNeverReachesTheStore) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  EXPECT_CALL(*store_, GetTask(_, _)).Times(0);
  EXPECT_THAT(GetTask(0), GrpcInvalidField("id", reason::kInvalidArgument));
}

TEST_F(ServerTest, DeleteProjectPassesForceAsCascade) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  EXPECT_CALL(*store_, DeleteProject(5, true))
      .WillOnce(Return(absl::OkStatus()));
  EXPECT_CALL(*store_, DeleteProject(6, false))
      .WillOnce(Return(absl::OkStatus()));
  for (auto [id, force] : {std::pair{5, true}, std::pair{6, false}}) {
    grpc::ClientContext context;
    v1::DeleteProjectRequest request;
    request.set_id(id);
    request.set_force(force);
    google::protobuf::Empty empty;
    EXPECT_THAT(stub_->DeleteProject(&context, request, &empty), GrpcOk());
  }
}

TEST_F(ServerTest, CreateTaskClearsOutputOnlyFieldsAndPassesRequestId) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  EXPECT_CALL(*store_,
              CreateTask(AllOf(Property(&v1::Task::id, 0),
                               Property(&v1::Task::etag, ""),
                               Property(&v1::Task::has_create_time, false),
                               Property(&v1::Task::title, "write")),
                         absl::string_view("retry-1"),
                         // Without auth every caller shares one scope.
                         Field(&storage::Idempotency::scope, "")))
      .WillOnce(Return(TaskWithId(3)));
  grpc::ClientContext context;
  v1::CreateTaskRequest request;
  request.mutable_task()->set_id(99);
  request.mutable_task()->set_etag("forged");
  request.mutable_task()->mutable_create_time()->set_seconds(5);
  request.mutable_task()->set_title("write");
  request.set_request_id("retry-1");
  v1::Task task;
  EXPECT_THAT(stub_->CreateTask(&context, request, &task), GrpcOk());
  EXPECT_EQ(task.id(), 3);
}

TEST_F(ServerTest, UpdateTaskPassesTheResolvedMask) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  EXPECT_CALL(*store_, UpdateTask(Property(&v1::Task::id, 4),
                                  Property(&google::protobuf::FieldMask::paths,
                                           ElementsAre("title", "status")),
                                  _))
      .WillOnce(Return(TaskWithId(4)));
  grpc::ClientContext context;
  v1::UpdateTaskRequest request;
  request.mutable_task()->set_id(4);
  request.mutable_task()->set_title("new");
  request.mutable_task()->set_status(v1::Task::COMPLETED);
  v1::Task task;
  EXPECT_THAT(stub_->UpdateTask(&context, request, &task), GrpcOk());
}

TEST_F(ServerTest, ListCallsPassTheResolvedPageSize) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  EXPECT_CALL(*store_, ListProjects(50, absl::string_view("")))
      .WillOnce(Return(v1::ListProjectsResponse()));
  EXPECT_CALL(*store_,
              ListTasks(Property(&v1::ListTasksRequest::page_size, 1000), _, _))
      .WillOnce(Return(absl::OkStatus()));
  {
    grpc::ClientContext context;
    v1::ListProjectsResponse response;
    EXPECT_THAT(
        stub_->ListProjects(&context, v1::ListProjectsRequest(), &response),
        GrpcOk());
  }
  grpc::ClientContext context;
  v1::ListTasksRequest request;
  request.set_page_size(5000);
  v1::ListTasksResponse response;
  EXPECT_THAT(stub_->ListTasks(&context, request, &response), GrpcOk());
}

TEST_F(ServerTest, HealthIsServingWhenTheStoreIsHealthy) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  EXPECT_EQ(HealthOf(""), HealthCheckResponse::SERVING);
  EXPECT_EQ(HealthOf(kServiceName), HealthCheckResponse::SERVING);
}

TEST_F(ServerTest, HealthFollowsTheDatabaseDownAndBackUp) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ASSERT_TRUE(AwaitHealth(HealthCheckResponse::SERVING));
  healthy_ = false;
  EXPECT_TRUE(AwaitHealth(HealthCheckResponse::NOT_SERVING));
  healthy_ = true;
  EXPECT_TRUE(AwaitHealth(HealthCheckResponse::SERVING));
}

TEST_F(ServerTest, StartsWithoutDatabaseAndServesOnceItComesUp) {
  auto store = std::make_unique<NiceMock<MockTaskStore>>();
  NiceMock<MockTaskStore>* late_store = store.get();
  ON_CALL(*late_store, CheckHealth()).WillByDefault(Return(absl::OkStatus()));
  ON_CALL(*late_store, GetTask(1, _)).WillByDefault(Return(TaskWithId(1)));
  auto database_up = std::make_shared<std::atomic<bool>>(false);
  config_.open_store = [database_up, open = FactoryOf(std::move(store))]() {
    if (!*database_up) {
      return absl::StatusOr<storage::TaskStorePtr>(
          absl::UnavailableError("could not connect to server"));
    }
    return open();
  };
  ASSERT_NO_FATAL_FAILURE(StartServer());

  EXPECT_EQ(HealthOf(""), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(HealthOf(kServiceName), HealthCheckResponse::NOT_SERVING);
  EXPECT_THAT(GetTask(1), GrpcErrorIs(grpc::StatusCode::UNAVAILABLE,
                                      reason::kDatabaseUnavailable));

  *database_up = true;
  EXPECT_TRUE(AwaitHealth(HealthCheckResponse::SERVING));
  EXPECT_THAT(GetTask(1), GrpcOk());
}

TEST_F(ServerTest, StartFailsWhenTheStoreRefusesItsConfiguration) {
  config_.open_store = [] {
    return absl::StatusOr<storage::TaskStorePtr>(
        absl::InvalidArgumentError("cannot parse connection string"));
  };
  EXPECT_THAT(TaskServer::Start(config_),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(ServerTest, ShutdownTurnsHealthNotServingAndDrainsInFlightCalls) {
  config_.listen_address = "127.0.0.1:0";
  config_.drain_timeout = absl::Seconds(20);
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ASSERT_TRUE(AwaitHealth(HealthCheckResponse::SERVING));
  absl::Notification in_store, release;
  EXPECT_CALL(*store_, CreateTask(_, _, _))
      .WillOnce(Invoke(
          [&](const v1::Task&, absl::string_view, const storage::Idempotency&) {
            in_store.Notify();
            release.WaitForNotification();
            return absl::StatusOr<v1::Task>(TaskWithId(8));
          }));

  grpc::ClientContext watch_context;
  HealthCheckRequest watch_request;
  std::unique_ptr<grpc::ClientReader<HealthCheckResponse>> watch =
      health_->Watch(&watch_context, watch_request);
  HealthCheckResponse update;
  ASSERT_TRUE(watch->Read(&update));
  ASSERT_EQ(update.status(), HealthCheckResponse::SERVING);

  grpc::Status in_flight;
  std::thread call([&] { in_flight = CreateTask("in flight"); });
  in_store.WaitForNotification();
  std::thread shutdown([&] { server_->Shutdown(); });

  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), HealthCheckResponse::NOT_SERVING);
  // The watch ends at once: it does not hold the shutdown up.
  EXPECT_FALSE(watch->Read(&update));
  EXPECT_EQ(watch->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  release.Notify();
  call.join();
  const absl::Time released = absl::Now();
  shutdown.join();
  EXPECT_LT(absl::Now() - released, config_.drain_timeout / 2);
  EXPECT_THAT(in_flight, GrpcOk());
}

TEST_F(ServerTest, ShutdownCancelsCallsStillRunningAfterTheDrainTimeout) {
  config_.drain_timeout = absl::Milliseconds(100);
  config_.listen_address = "127.0.0.1:0";
  ASSERT_NO_FATAL_FAILURE(StartServer());
  absl::Notification in_store, release;
  EXPECT_CALL(*store_, GetTask(8, _))
      .WillOnce(Invoke([&](int64_t id, const storage::AccessScope&) {
        in_store.Notify();
        release.WaitForNotification();
        return absl::StatusOr<v1::Task>(TaskWithId(id));
      }));
  grpc::Status in_flight;
  std::thread call([&] { in_flight = GetTask(8); });
  in_store.WaitForNotification();
  const absl::Time shutdown_start = absl::Now();
  std::thread shutdown([&] { server_->Shutdown(); });
  call.join();  // Returns once the drain timeout cancels the call.
  EXPECT_GE(absl::Now() - shutdown_start, config_.drain_timeout);
  EXPECT_FALSE(in_flight.ok()) << in_flight.error_message();
  release.Notify();
  shutdown.join();
}

TEST_F(ServerTest, SecondServerOnTheSamePortFailsToStart) {
  config_.listen_address = "127.0.0.1:0";
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ASSERT_GT(server_->port(), 0);

  ServerConfig second;
  second.listen_address = absl::StrCat("127.0.0.1:", server_->port());
  second.open_store = FactoryOf(std::make_unique<NiceMock<MockTaskStore>>());
  EXPECT_THAT(TaskServer::Start(second),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr(second.listen_address)));
}

TEST_F(ServerTest, RequestOverOneMebibyteIsResourceExhausted) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  EXPECT_CALL(*store_, CreateTask(_, _, _)).Times(0);
  grpc::ClientContext context;
  v1::CreateTaskRequest request;
  request.mutable_task()->set_title("big");
  request.mutable_task()->set_description(std::string((1 << 20) + 1, 'x'));
  v1::Task task;
  EXPECT_EQ(stub_->CreateTask(&context, request, &task).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(ServerTest, ResponseOverTheSendLimitIsResourceExhausted) {
  config_.max_send_message_bytes = 64 << 10;
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ON_CALL(*store_, GetTask(_, _))
      .WillByDefault(Invoke([](int64_t id, const storage::AccessScope&) {
        v1::Task task = TaskWithId(id);
        task.set_description(std::string(id, 'x'));
        return absl::StatusOr<v1::Task>(task);
      }));
  for (int64_t size : {60 << 10, 70 << 10}) {
    grpc::ClientContext context;
    v1::GetTaskRequest request;
    request.set_id(size);
    v1::Task task;
    EXPECT_EQ(stub_->GetTask(&context, request, &task).error_code(),
              size < (64 << 10) ? grpc::StatusCode::OK
                                : grpc::StatusCode::RESOURCE_EXHAUSTED)
        << size;
  }
}

TEST_F(ServerTest, WritesBeyondTheWriterThreadsAreResourceExhausted) {
  config_.max_threads = 2;
  ASSERT_NO_FATAL_FAILURE(StartServer());
  absl::Notification release;
  std::atomic<int> in_store{0};
  HoldCreatesUntil(release, in_store);

  constexpr int kCalls = 6;
  absl::Mutex mu;
  std::vector<grpc::Status> results;
  std::vector<std::thread> calls = CreateInBackground(kCalls, mu, results);
  // The writers fill up; the calls they cannot take are refused at once.
  auto refused = [&] {
    int count = 0;
    for (const grpc::Status& status : results) {
      count += status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED;
    }
    return count;
  };
  {
    absl::MutexLock lock(&mu);
    mu.AwaitWithTimeout(
        absl::Condition(
            +[](decltype(refused)* f) { return (*f)() > 0; }, &refused),
        absl::Seconds(10));
  }
  release.Notify();
  for (std::thread& call : calls) call.join();

  int ok = 0, exhausted = 0;
  for (const grpc::Status& status : results) {
    ok += status.ok();
    if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++exhausted;
      EXPECT_THAT(status, GrpcErrorIs(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                      reason::kResourceExhausted));
    }
  }
  EXPECT_GE(exhausted, 1);
  EXPECT_GE(ok, 1);
  EXPECT_EQ(ok + exhausted, kCalls);
  EXPECT_EQ(in_store.load(), ok);
  // And the server recovers once its writers are free.
  grpc::Status after = CreateTask("after");
  for (absl::Time deadline = absl::Now() + absl::Seconds(5);
       !after.ok() && absl::Now() < deadline; after = CreateTask("after")) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_THAT(after, GrpcOk());
}

TEST_F(ServerTest, ReadsOnWorkersBeyondThemAreResourceExhausted) {
  config_.max_threads = 2;
  config_.reads_on_queue_threads = false;
  ASSERT_NO_FATAL_FAILURE(StartServer());
  absl::Notification release;
  std::atomic<int> in_store{0};
  HoldGetsUntil(release, in_store);
  std::vector<std::thread> reads;
  for (int i = 0; i < config_.max_threads; ++i) {
    reads.emplace_back([&, i] { GetTask(i + 1); });
  }
  ASSERT_TRUE(AwaitCount(in_store, config_.max_threads));

  EXPECT_THAT(GetTask(9), GrpcErrorIs(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                      reason::kResourceExhausted));
  release.Notify();
  for (std::thread& read : reads) read.join();
  EXPECT_THAT(GetTask(9), GrpcOk());
}

// A create the store answers on its own thread holds its request until its
// commit, as one on a worker does: beyond --max_threads of them the store is
// not asked, and the workers take the next ones, up to their own bound.
TEST_F(ServerTest, WritesTheStoreAnswersItselfAreBoundedAsOnTheWorkers) {
  config_.max_threads = 2;
  config_.reads_on_queue_threads = false;
  ASSERT_NO_FATAL_FAILURE(StartServer());
  absl::Mutex mu;
  std::vector<storage::TaskStore::TaskCallback> taken;
  ON_CALL(*store_, TryCreateTaskAsync)
      .WillByDefault([&](const v1::Task&, absl::string_view,
                         const storage::Idempotency&, absl::Time,
                         storage::TaskStore::TaskCallback done) {
        absl::MutexLock lock(&mu);
        taken.push_back(std::move(done));
        return true;
      });
  absl::Notification release;
  std::atomic<int> in_store{0};
  HoldCreatesUntil(release, in_store);

  constexpr int kCalls = 6;
  std::vector<grpc::Status> results;
  std::vector<std::thread> calls = CreateInBackground(kCalls, mu, results);
  // Two taken by the store, two on the workers, two refused.
  auto settled = [&] {
    absl::MutexLock lock(&mu);
    return taken.size() + in_store.load() + results.size() == kCalls;
  };
  for (absl::Time deadline = absl::Now() + absl::Seconds(10);
       !settled() && absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  {
    absl::MutexLock lock(&mu);
    EXPECT_EQ(taken.size(), 2u);
    EXPECT_EQ(in_store.load(), 2);
    EXPECT_EQ(results.size(), 2u);
    for (const grpc::Status& status : results) {
      EXPECT_THAT(status, GrpcErrorIs(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                      reason::kResourceExhausted));
    }
    for (storage::TaskStore::TaskCallback& done : taken) {
      std::move(done)(TaskWithId(1));
    }
  }
  release.Notify();
  for (std::thread& call : calls) call.join();
  int ok = 0;
  for (const grpc::Status& status : results) ok += status.ok();
  EXPECT_EQ(ok, 4);
}

TEST_F(ServerTest, ReadsAreServedWhileEveryWriterIsBusy) {
  config_.max_threads = 2;
  ASSERT_NO_FATAL_FAILURE(StartServer());
  absl::Notification release;
  std::atomic<int> in_store{0};
  HoldCreatesUntil(release, in_store);
  ON_CALL(*store_, GetTask(_, _))
      .WillByDefault(Invoke([](int64_t id, const storage::AccessScope&) {
        return absl::StatusOr<v1::Task>(TaskWithId(id));
      }));
  std::vector<std::thread> writes;
  for (int i = 0; i < config_.max_threads; ++i) {
    writes.emplace_back([&, i] { CreateTask(absl::StrCat("slow ", i)); });
  }
  ASSERT_TRUE(AwaitCount(in_store, config_.max_threads));

  v1::Task task;
  EXPECT_THAT(GetTask(7, &task), GrpcOk());
  EXPECT_EQ(task.id(), 7);
  release.Notify();
  for (std::thread& write : writes) write.join();
}

// A list may scan the whole table: it must not hold the completion-queue
// thread, which also answers health checks and point reads.
TEST_F(ServerTest, ListsDoNotHoldUpTheQueueThread) {
  config_.completion_queues = 1;
  config_.reads_on_queue_threads = true;
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ASSERT_TRUE(AwaitHealth(HealthCheckResponse::SERVING));
  absl::Notification release;
  std::atomic<int> in_store{0};
  HoldListsUntil(release, in_store);
  ON_CALL(*store_, ListProjects(_, _))
      .WillByDefault(Invoke([&](int, absl::string_view) {
        ++in_store;
        release.WaitForNotification();
        return absl::StatusOr<v1::ListProjectsResponse>(
            v1::ListProjectsResponse());
      }));
  ON_CALL(*store_, GetTask(_, _))
      .WillByDefault(Invoke([](int64_t id, const storage::AccessScope&) {
        return absl::StatusOr<v1::Task>(TaskWithId(id));
      }));
  std::vector<std::thread> lists;
  lists.push_back(ListInBackground(&v1::TaskService::Stub::ListTasks));
  lists.push_back(ListInBackground(&v1::TaskService::Stub::ListProjects));
  // Both held at once: neither is on the one queue thread.
  EXPECT_TRUE(AwaitCount(in_store, 2));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  HealthCheckResponse health;
  EXPECT_THAT(health_->Check(&context, HealthCheckRequest(), &health),
              GrpcOk());
  EXPECT_EQ(health.status(), HealthCheckResponse::SERVING);
  EXPECT_THAT(GetTask(7), GrpcOk());
  release.Notify();
  for (std::thread& list : lists) list.join();
}

TEST_F(ServerTest, ListsBeyondTheLimitWaitAndBeyondHalfTheWorkersAreRefused) {
  config_.max_threads = 6;  // so at most 3 lists wait
  config_.max_concurrent_lists = 1;
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ASSERT_TRUE(AwaitHealth(HealthCheckResponse::SERVING));
  absl::Notification release;
  std::atomic<int> in_store{0};
  HoldListsUntil(release, in_store);
  // One list runs and three wait for its slot. Which three wait depends on
  // arrival order (a probe below may take a waiting place first), so each
  // retries when refused, as clients are told to.
  std::vector<std::thread> lists;
  for (int i = 0; i < 4; ++i) {
    lists.emplace_back([this] {
      grpc::Status status;
      do {
        grpc::ClientContext context;
        v1::ListTasksResponse response;
        status = stub_->ListTasks(&context, v1::ListTasksRequest(), &response);
      } while (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
      EXPECT_THAT(status, GrpcOk());
    });
  }
  ASSERT_TRUE(AwaitCount(in_store, 1));
  // The waiting ones never reach the store while the slot is held; a probe
  // finding every waiting place taken is refused at once.
  bool refused = false;
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (!refused && absl::Now() < give_up) {
    grpc::ClientContext context;
    context.set_deadline(
        absl::ToChronoTime(absl::Now() + absl::Milliseconds(300)));
    v1::ListTasksResponse response;
    const grpc::Status status =
        stub_->ListTasks(&context, v1::ListTasksRequest(), &response);
    // Until three others wait, the probe waits too and ends at its deadline.
    refused = status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED;
    if (!refused) {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
    }
  }
  EXPECT_TRUE(refused);
  EXPECT_EQ(in_store.load(), 1);
  // Writes still find a worker: 1 list runs, 3 wait, 2 workers are left.
  ON_CALL(*store_, CreateTask(_, _, _))
      .WillByDefault(Invoke([](const v1::Task& task, absl::string_view,
                               const storage::Idempotency&) {
        v1::Task created = task;
        created.set_id(1);
        return absl::StatusOr<v1::Task>(created);
      }));
  EXPECT_THAT(CreateTask("a write beside waiting lists"), GrpcOk());
  release.Notify();
  for (std::thread& list : lists) list.join();
  EXPECT_EQ(in_store.load(), 4);
}

}  // namespace
}  // namespace tasks::service
