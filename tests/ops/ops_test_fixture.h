#ifndef TASKS_TESTS_OPS_OPS_TEST_FIXTURE_H_
#define TASKS_TESTS_OPS_OPS_TEST_FIXTURE_H_

// The fixture of the operations tests: the real task_server binary on a
// fresh SQLite file, with the flags a test asks for, and the figure each
// test measured, printed and recorded.

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tasks/v1/tasks.grpc.pb.h"
#include "tests/testing/figure.h"
#include "tests/testing/task_server_process.h"

namespace tasks::ops {

class OpsTest : public ::testing::Test {
 protected:
  // Starts the server on database() with `flags` (through `launcher`, see
  // TaskServerOptions) and waits until it is SERVING; fails the test
  // (returning null) when it does not come up.
  ::tasks::testing::TaskServerProcess* StartServer(
      std::vector<std::string> flags, std::vector<std::string> launcher = {});

  // A stub on a channel of its own to the running server.
  std::unique_ptr<v1::TaskService::Stub> NewStub() const;

  // The SQLite file the server uses.
  const std::string& database() const { return database_; }

  // Prints "FIGURE <test>: <figure>" and records it in the test's XML.
  void ReportFigure(const std::string& figure) {
    ::tasks::testing::ReportFigure(figure);
  }

 private:
  std::string database_;
  std::unique_ptr<::tasks::testing::TaskServerProcess> server_;
};

}  // namespace tasks::ops

#endif  // TASKS_TESTS_OPS_OPS_TEST_FIXTURE_H_
