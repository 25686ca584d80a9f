#ifndef TASKS_TESTS_RELIABILITY_RELIABILITY_TEST_BASE_H_
#define TASKS_TESTS_RELIABILITY_RELIABILITY_TEST_BASE_H_

// The fixture of the fault tests: a fresh database of the parameter's backend
// that several task_server processes (and raw SQL) can open, servers started
// on it, and the figure each test measured, printed and recorded.

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tasks/v1/tasks.grpc.pb.h"
#include "tests/testing/figure.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/store_backends.h"
#include "tests/testing/task_server_process.h"

namespace tasks::reliability {

using ::tasks::testing::ServingStatus;
using ::tasks::testing::StoreBackend;
using ::tasks::testing::TaskServerOptions;
using ::tasks::testing::TaskServerProcess;

class ReliabilityTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  // Creates the fresh database (a SQLite file under TEST_TMPDIR; a fresh
  // PostgreSQL database on the test binary's server).
  void SetUp() override;
  // Kills the servers still running, starts PostgreSQL again if a test left
  // it stopped, then drops the PostgreSQL databases.
  void TearDown() override;

  StoreBackend backend() const { return GetParam(); }
  const std::string& database() const { return database_; }

  // Options for a server on database(), logging warnings and errors only
  // (the load tests make hundreds of thousands of calls).
  TaskServerOptions ServerOptions(std::vector<std::string> extra_flags = {});

  // Starts a task_server process with `options` and waits until its health
  // is SERVING (or only until it answers, when `await_serving` is false: its
  // database may be down); fails the test (returning null) when it does not
  // come up. The fixture owns it.
  TaskServerProcess* StartServer(TaskServerOptions options,
                                 bool await_serving = true);
  TaskServerProcess* StartServer() { return StartServer(ServerOptions()); }

  // Starts a server with `options` (as StartServer) and creates a project
  // named `project` through a stub on it: server_, stub_ and project_id_.
  // Fails the test when a step fails; call it in ASSERT_NO_FATAL_FAILURE.
  void StartWithProject(TaskServerOptions options, absl::string_view project);

  // Restarts `server` and waits until it is SERVING; false (and a test
  // failure) when it does not get there.
  static bool RestartServer(TaskServerProcess& server);

  // The test binary's PostgreSQL server; fails the test when there is none.
  ::tasks::testing::PostgresServer* Postgres();

  // When a stopped PostgreSQL came back and how long a server took to see it.
  struct DatabaseReturn {
    absl::Time restarting;   // Restart() called
    absl::Time accepting;    // Restart() returned: it accepts connections
    absl::Duration serving;  // from `accepting` until the server was SERVING
  };

  // Restarts `postgres` and waits up to 15 s for `server` to be SERVING;
  // false (and a test failure) when either fails.
  static bool RestartPostgresUntilServing(
      ::tasks::testing::PostgresServer& postgres, TaskServerProcess& server,
      DatabaseReturn* back);

  // Creates a project through `stub`; 0 (and a test failure) when that fails.
  static int64_t CreateProject(v1::TaskService::Stub& stub,
                               absl::string_view name);

  // One CreateTask call for `title` in `project_id` (with a description of
  // `description_length` bytes), with `deadline`; the created task goes to
  // `created` when it is not null.
  static grpc::Status CreateTask(v1::TaskService::Stub& stub,
                                 int64_t project_id, const std::string& title,
                                 absl::Duration deadline = absl::Seconds(10),
                                 int description_length = 0,
                                 v1::Task* created = nullptr);

  // Prints "FIGURE <test>: <figure>" and records it in the test's XML.
  void ReportFigure(const std::string& figure) {
    ::tasks::testing::ReportFigure(figure);
  }

  // What StartWithProject() started and created.
  TaskServerProcess* server_ = nullptr;
  std::unique_ptr<v1::TaskService::Stub> stub_;
  int64_t project_id_ = 0;

 private:
  std::string database_;
  std::vector<std::unique_ptr<TaskServerProcess>> servers_;
};

// "1234ms", for figures.
std::string Millis(absl::Duration duration);

// "Sqlite" / "Postgres" test name suffixes.
std::string BackendTestName(const ::testing::TestParamInfo<StoreBackend>& info);

}  // namespace tasks::reliability

// Runs `suite`'s tests on each backend TASKS_TEST_STORE_BACKENDS selects.
#define INSTANTIATE_RELIABILITY_TEST_SUITE(suite)                     \
  INSTANTIATE_TEST_SUITE_P(                                           \
      Backends, suite,                                                \
      ::testing::ValuesIn(::tasks::testing::SelectedStoreBackends()), \
      ::tasks::reliability::BackendTestName)

#endif  // TASKS_TESTS_RELIABILITY_RELIABILITY_TEST_BASE_H_
