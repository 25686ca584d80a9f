#ifndef TASKS_TESTS_SERVICE_BAD_INPUT_FIXTURE_H_
#define TASKS_TESTS_SERVICE_BAD_INPUT_FIXTURE_H_

// The fixture of the bad-input suite (bad_input_*_test.cc): a TaskServer on a
// fresh database of the parameter's backend, reached through real gRPC
// channels, with a few seed rows, and a way to prove that a refused call left
// the database exactly as it was.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "gtest/gtest.h"
#include "service/server.h"
#include "tasks/v1/tasks.grpc.pb.h"
#include "tests/service/service_test_fixture.h"
#include "tests/testing/store_backends.h"

namespace tasks::service {

// `piece` `times` times: "é" is one character in two bytes.
std::string Repeat(absl::string_view piece, int times);

// Lower-case hex of `bytes`.
std::string Hex(absl::string_view bytes);

// What a client and the database itself show of the whole database.
struct DatabaseSnapshot {
  v1::ListProjectsResponse projects;  // every project, in id order
  v1::ListTasksResponse tasks;        // every task, in id order
  // Row counts, highest ids, revision sum and newest update times, read with
  // raw SQL past the service and the store.
  std::string fingerprint;
};

class BadInputTest
    : public TaskServerTest<
          ::testing::TestWithParam<::tasks::testing::StoreBackend>> {
 protected:
  // Starts a server on a fresh database (a SQLite file, so that raw SQL can
  // read it too; a fresh PostgreSQL database) listening on 127.0.0.1:0, and
  // creates the seed rows.
  void SetUp() override;
  void TearDown() override;

  ::tasks::testing::StoreBackend backend() const { return GetParam(); }

  // A channel over loopback TCP to the server's port (stub() and Call()
  // use the in-process one).
  std::shared_ptr<grpc::Channel> TcpChannel() const {
    return LoopbackChannel(*server_);
  }

  // Calls the method named `method` ("/tasks.v1.TaskService/GetTask") with
  // `bytes` as the serialized request, as a client with another (or no)
  // protobuf library could.
  grpc::Status CallRaw(const std::string& method, const std::string& bytes);

  // Creates a project / task, failing the test when that fails.
  v1::Project MakeProject(const std::string& name,
                          const std::string& description = "");
  v1::Task MakeTask(const v1::CreateTaskRequest& request);
  v1::Task MakeTask(const v1::Task& task);

  // GetTask / GetProject, failing the test when that fails.
  v1::Task FetchTask(int64_t id);
  v1::Project FetchProject(int64_t id);

  // Every task `request` matches, page by page; fails the test on error.
  std::vector<v1::Task> ListAllTasks(v1::ListTasksRequest request);

  // Stores `metadata` through CreateTask, UpdateTask (of a fresh task) and
  // BatchCreateTasks, expecting it back exactly each time and from GetTask,
  // and ListTasks filtered on its first field to find the created and the
  // updated task; then deletes what it made. `label` starts the titles.
  void ExpectMetadataRoundTrips(const google::protobuf::Struct& metadata,
                                absl::string_view label);

  // The whole database as seen now.
  DatabaseSnapshot TakeSnapshot();

  // Fails the test unless the database equals `before` in every row and
  // field. `what` names the call that must not have changed anything.
  void ExpectUnchanged(const DatabaseSnapshot& before, absl::string_view what);

  // Runs `call`, expects its status to match `matcher`, and the database to
  // be as it was before the call.
  template <typename CallFn>
  void ExpectRefused(CallFn call,
                     const ::testing::Matcher<const grpc::Status&>& matcher,
                     absl::string_view what) {
    const DatabaseSnapshot before = TakeSnapshot();
    EXPECT_THAT(call(), matcher) << what;
    ExpectUnchanged(before, what);
  }

  // Expects CreateTask with `metadata`, and UpdateTask of seed_task_ to it,
  // to be refused as INVALID_ARGUMENT naming task.metadata with the database
  // untouched. `what` names the case in failure messages.
  void ExpectMetadataRefused(const google::protobuf::Struct& metadata,
                             absl::string_view what);

  // Runs one SQL statement on the test's database, past the service.
  absl::StatusOr<std::string> RawSql(const std::string& sql) const;

  // Hex of the bytes stored in `column` of row `id` of `table`, read with
  // raw SQL; "" (and a test failure) when the query fails.
  std::string StoredHex(absl::string_view table, absl::string_view column,
                        int64_t id) const;

  // Rows created by SetUp: a project with one task carrying metadata, and a
  // task in no project.
  v1::Project seed_project_;
  v1::Task seed_task_;
  v1::Task loose_task_;

 private:
  std::string connection_;
};

}  // namespace tasks::service

#endif  // TASKS_TESTS_SERVICE_BAD_INPUT_FIXTURE_H_
