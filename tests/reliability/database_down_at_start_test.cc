// A server started while PostgreSQL is down: it stays up, NOT_SERVING, and
// answers calls with UNAVAILABLE; once the database comes up it turns
// SERVING (within 5 s) and serves, without a restart.

#include <algorithm>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/reliability/reliability_test_base.h"

namespace tasks::reliability {
namespace {

using ::grpc::health::v1::HealthCheckResponse;
using ::tasks::testing::PostgresServer;

constexpr absl::Duration kDownFor = absl::Seconds(3);
constexpr absl::Duration kRecoveryBound = absl::Seconds(5);

using DatabaseDownAtStartTest = ReliabilityTest;

TEST_P(DatabaseDownAtStartTest, ServerWaitsNotServingThenServesOnceUp) {
  PostgresServer* postgres = Postgres();
  ASSERT_NE(postgres, nullptr);
  ASSERT_TRUE(postgres->Stop().ok());
  TaskServerProcess* server =
      StartServer(ServerOptions(), /*await_serving=*/false);
  ASSERT_NE(server, nullptr);
  const pid_t pid = server->pid();
  auto stub = v1::TaskService::NewStub(server->NewChannel());

  // While the database stays down: alive, NOT_SERVING at every check, and a
  // call fails at once with UNAVAILABLE.
  int checks = 0;
  int not_serving = 0;
  int unavailable_calls = 0;
  absl::Duration slowest_call;
  const absl::Time down_until = absl::Now() + kDownFor;
  while (absl::Now() < down_until) {
    ASSERT_TRUE(server->Running()) << server->LogTail();
    absl::StatusOr<ServingStatus> health = server->Health();
    ++checks;
    if (health.ok() && *health == HealthCheckResponse::NOT_SERVING) {
      ++not_serving;
    }
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::ListProjectsRequest request;
    v1::ListProjectsResponse response;
    const absl::Time start = absl::Now();
    grpc::Status status = stub->ListProjects(&context, request, &response);
    slowest_call = std::max(slowest_call, absl::Now() - start);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
        << status.error_message();
    unavailable_calls += status.error_code() == grpc::StatusCode::UNAVAILABLE;
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(not_serving, checks);
  EXPECT_LT(slowest_call, absl::Seconds(1));

  DatabaseReturn back;
  ASSERT_TRUE(RestartPostgresUntilServing(*postgres, *server, &back));
  EXPECT_LT(back.accepting - back.restarting + back.serving, kRecoveryBound);

  const int64_t project_id = CreateProject(*stub, "after the outage");
  EXPECT_NE(project_id, 0);
  const absl::Duration first_ok = absl::Now() - back.restarting;
  EXPECT_LT(first_ok, kRecoveryBound);
  EXPECT_TRUE(server->Running());
  EXPECT_EQ(server->pid(), pid);

  ReportFigure(absl::StrCat(
      "down_for=", Millis(kDownFor), " health_not_serving=", not_serving, "/",
      checks, " calls_unavailable=", unavailable_calls,
      " slowest_call_while_down=", Millis(slowest_call),
      " db_restart_took=", Millis(back.accepting - back.restarting),
      " serving_after_db_accepting=", Millis(back.serving),
      " first_ok_after_db_restart_began=", Millis(first_ok)));
}

INSTANTIATE_TEST_SUITE_P(Backends, DatabaseDownAtStartTest,
                         ::testing::Values(StoreBackend::kPostgres),
                         BackendTestName);

}  // namespace
}  // namespace tasks::reliability
