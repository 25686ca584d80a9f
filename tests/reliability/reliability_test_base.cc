#include "tests/reliability/reliability_test_base.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace tasks::reliability {
namespace {

using ::tasks::testing::FreshStoreDatabase;
using ::tasks::testing::StoreLocation;

const bool kRegistered = ::tasks::testing::RegisterStoreBackendEnvironment();

constexpr ServingStatus kServing =
    ::grpc::health::v1::HealthCheckResponse::SERVING;
constexpr absl::Duration kServingTimeout = absl::Seconds(15);

// Waits up to 15 s for `server` to be SERVING and puts how long that took in
// `took` (when not null); false (and a test failure) when it is not.
bool AwaitServing(TaskServerProcess& server, absl::Duration* took = nullptr) {
  absl::StatusOr<absl::Duration> serving =
      server.WaitForHealth(kServing, kServingTimeout);
  if (!serving.ok()) {
    ADD_FAILURE() << serving.status() << "; " << server.LogTail();
    return false;
  }
  if (took != nullptr) *took = *serving;
  return true;
}

}  // namespace

void ReliabilityTest::SetUp() {
  absl::StatusOr<std::string> database =
      FreshStoreDatabase(backend(), StoreLocation::kShared);
  ASSERT_TRUE(database.ok()) << database.status();
  database_ = *database;
}

void ReliabilityTest::TearDown() {
  servers_.clear();  // SIGKILLs the ones still running.
  if (backend() == StoreBackend::kPostgres) {
    // A test that stopped PostgreSQL and failed before restarting it.
    absl::StatusOr<::tasks::testing::PostgresServer*> postgres =
        ::tasks::testing::TestPostgresServer();
    if (postgres.ok() && (*postgres)->owned() &&
        !(*postgres)->IsAcceptingConnections()) {
      absl::Status restarted = (*postgres)->Restart();
      EXPECT_TRUE(restarted.ok()) << "restarting PostgreSQL: " << restarted;
    }
  }
  ::tasks::testing::ReleaseFreshStoreDatabases();
}

TaskServerOptions ReliabilityTest::ServerOptions(
    std::vector<std::string> extra_flags) {
  TaskServerOptions options;
  options.db = database_;
  options.extra_flags = {"--log_level=warning"};
  options.extra_flags.insert(options.extra_flags.end(), extra_flags.begin(),
                             extra_flags.end());
  return options;
}

TaskServerProcess* ReliabilityTest::StartServer(TaskServerOptions options,
                                                bool await_serving) {
  absl::StatusOr<std::unique_ptr<TaskServerProcess>> server =
      TaskServerProcess::Start(std::move(options));
  if (!server.ok()) {
    ADD_FAILURE() << "task_server did not start: " << server.status();
    return nullptr;
  }
  servers_.push_back(*std::move(server));
  TaskServerProcess* started = servers_.back().get();
  if (await_serving && !AwaitServing(*started)) return nullptr;
  return started;
}

bool ReliabilityTest::RestartServer(TaskServerProcess& server) {
  absl::Status restarted = server.Restart();
  if (!restarted.ok()) {
    ADD_FAILURE() << "task_server did not restart: " << restarted;
    return false;
  }
  return AwaitServing(server);
}

::tasks::testing::PostgresServer* ReliabilityTest::Postgres() {
  absl::StatusOr<::tasks::testing::PostgresServer*> server =
      ::tasks::testing::TestPostgresServer();
  if (!server.ok()) {
    ADD_FAILURE() << server.status();
    return nullptr;
  }
  if (!(*server)->owned()) {
    ADD_FAILURE() << "this test stops and restarts PostgreSQL: it needs the "
                     "throwaway server, not the one "
                  << ::tasks::testing::PostgresServer::kUrlEnv << " names";
    return nullptr;
  }
  return *server;
}

bool ReliabilityTest::RestartPostgresUntilServing(
    ::tasks::testing::PostgresServer& postgres, TaskServerProcess& server,
    DatabaseReturn* back) {
  back->restarting = absl::Now();
  absl::Status restarted = postgres.Restart();
  back->accepting = absl::Now();
  if (!restarted.ok()) {
    ADD_FAILURE() << "PostgreSQL did not restart: " << restarted;
    return false;
  }
  return AwaitServing(server, &back->serving);
}

void ReliabilityTest::StartWithProject(TaskServerOptions options,
                                       absl::string_view project) {
  server_ = StartServer(std::move(options));
  ASSERT_NE(server_, nullptr);
  stub_ = v1::TaskService::NewStub(server_->NewChannel());
  project_id_ = CreateProject(*stub_, project);
  ASSERT_NE(project_id_, 0);
}

int64_t ReliabilityTest::CreateProject(v1::TaskService::Stub& stub,
                                       absl::string_view name) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::CreateProjectRequest request;
  request.mutable_project()->set_name(std::string(name));
  v1::Project project;
  grpc::Status status = stub.CreateProject(&context, request, &project);
  if (!status.ok()) {
    ADD_FAILURE() << "CreateProject: " << status.error_message();
    return 0;
  }
  return project.id();
}

grpc::Status ReliabilityTest::CreateTask(
    v1::TaskService::Stub& stub, int64_t project_id, const std::string& title,
    absl::Duration deadline, int description_length, v1::Task* created) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  v1::CreateTaskRequest request;
  request.mutable_task()->set_project_id(project_id);
  request.mutable_task()->set_title(title);
  request.mutable_task()->set_description(std::string(description_length, 'x'));
  v1::Task task;
  return stub.CreateTask(&context, request,
                         created != nullptr ? created : &task);
}

std::string Millis(absl::Duration duration) {
  return absl::StrCat(absl::ToInt64Milliseconds(duration), "ms");
}

std::string BackendTestName(
    const ::testing::TestParamInfo<StoreBackend>& info) {
  return ::tasks::testing::StoreBackendName(info.param);
}

}  // namespace tasks::reliability
