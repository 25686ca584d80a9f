#include "tests/ops/ops_test_fixture.h"

#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace tasks::ops {

using ::tasks::testing::TaskServerOptions;
using ::tasks::testing::TaskServerProcess;

TaskServerProcess* OpsTest::StartServer(std::vector<std::string> flags,
                                        std::vector<std::string> launcher) {
  const ::testing::TestInfo* test =
      ::testing::UnitTest::GetInstance()->current_test_info();
  const char* tmp = std::getenv("TEST_TMPDIR");
  database_ =
      absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/", test->name(), ".db");
  TaskServerOptions options;
  options.db = database_;
  options.extra_flags = std::move(flags);
  options.launcher = std::move(launcher);
  absl::StatusOr<std::unique_ptr<TaskServerProcess>> server =
      TaskServerProcess::Start(std::move(options));
  if (!server.ok()) {
    ADD_FAILURE() << "task_server did not start: " << server.status();
    return nullptr;
  }
  server_ = *std::move(server);
  absl::StatusOr<absl::Duration> serving = server_->WaitForHealth(
      ::grpc::health::v1::HealthCheckResponse::SERVING, absl::Seconds(30));
  if (!serving.ok()) {
    ADD_FAILURE() << "not SERVING: " << serving.status() << "\n"
                  << server_->LogTail();
    return nullptr;
  }
  return server_.get();
}

std::unique_ptr<v1::TaskService::Stub> OpsTest::NewStub() const {
  return v1::TaskService::NewStub(server_->NewChannel());
}

}  // namespace tasks::ops
