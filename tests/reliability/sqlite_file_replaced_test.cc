// A SQLite file removed and recreated under a running server (an operator's
// `rm` and a fresh file, a restore by `mv`): the server's open connections
// still reach the unlinked file. Health turns NOT_SERVING, writes are
// refused FAILED_PRECONDITION, and nothing is acknowledged that a restart
// would not find.

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/reliability/reliability_test_base.h"
#include "tests/testing/grpc_status_matchers.h"

namespace tasks::reliability {
namespace {

using ::grpc::health::v1::HealthCheckResponse;

using SqliteFileReplacedTest = ReliabilityTest;

TEST_P(SqliteFileReplacedTest, WritesAreRefusedAndHealthFailsUntilRestart) {
  ASSERT_NO_FATAL_FAILURE(StartWithProject(
      ServerOptions({"--health_probe_interval=100ms"}), "replaced"));
  ASSERT_TRUE(CreateTask(*stub_, project_id_, "before").ok());
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::remove(absl::StrCat(database(), suffix).c_str());
  }
  // An empty file is an empty SQLite database.
  std::ofstream(database(), std::ios::binary).flush();

  const grpc::Status refused = CreateTask(*stub_, project_id_, "after");
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << refused.error_message();
  EXPECT_THAT(refused.error_message(),
              ::testing::HasSubstr("was replaced by another file"));
  absl::StatusOr<absl::Duration> not_serving = server_->WaitForHealth(
      HealthCheckResponse::NOT_SERVING, absl::Seconds(10));
  EXPECT_TRUE(not_serving.ok()) << not_serving.status();

  // A restart opens (and migrates) the new file: no acknowledged write of
  // the old server is missing from it, since none was acknowledged.
  ASSERT_TRUE(server_->Kill().ok());
  ASSERT_TRUE(RestartServer(*server_));
  auto stub = v1::TaskService::NewStub(server_->NewChannel());
  grpc::ClientContext context;
  v1::ListTasksResponse page;
  ASSERT_TRUE(stub->ListTasks(&context, v1::ListTasksRequest(), &page).ok());
  EXPECT_EQ(page.tasks_size(), 0);
  const int64_t project = CreateProject(*stub, "new");
  EXPECT_TRUE(CreateTask(*stub, project, "on the new file").ok());
  ReportFigure(absl::StrCat("NOT_SERVING ",
                            not_serving.ok() ? Millis(*not_serving) : "never",
                            " after the file was replaced"));
}

INSTANTIATE_RELIABILITY_TEST_SUITE(SqliteFileReplacedTest);

}  // namespace
}  // namespace tasks::reliability
