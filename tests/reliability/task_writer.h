#ifndef TASKS_TESTS_RELIABILITY_TASK_WRITER_H_
#define TASKS_TESTS_RELIABILITY_TASK_WRITER_H_

// Writes through the API that record, for each acknowledged write, the
// events a watcher must receive for it.

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/time/time.h"
#include "tasks/v1/tasks.grpc.pb.h"
#include "tests/reliability/task_watcher.h"

namespace tasks::reliability {

// TaskWriter
//
// Creates, updates and deletes tasks through one channel, one call at a
// time, so that the replies' order is the commit order. Each acknowledged
// write appends the events it causes to expected(). A failed call is
// returned and records nothing (the tests' writes go to a server that stays
// up). Not thread-safe.
//
// Example:
//   TaskWriter writer(server->NewChannel(), project_id);
//   ASSERT_TRUE(writer.Create("a").ok());
//   ... CompareEvents(watcher.Events(), writer.expected()) ...
class TaskWriter {
 public:
  TaskWriter(std::shared_ptr<grpc::Channel> channel, int64_t project_id);

  // A task titled `title` (unique per writer) in `project_id` (0: the
  // writer's project).
  grpc::Status Create(const std::string& title, int64_t project_id = 0);
  // `count` tasks in one BatchCreateTasks, in `project_id` (0: the
  // writer's).
  grpc::Status BatchCreate(int count, int64_t project_id = 0);
  // A new description for task `id`.
  grpc::Status Update(int64_t id);
  grpc::Status Delete(int64_t id);
  // DeleteProject with force: every live task of `project_id` goes with it.
  grpc::Status DeleteProjectWithTasks(int64_t project_id);

  // One write chosen at random: a create, or an update or delete of a live
  // task.
  grpc::Status RandomWrite(absl::BitGen& random);

  // The tasks the writer created that are not deleted: id → project id.
  const std::map<int64_t, int64_t>& live() const { return live_; }
  const std::vector<ExpectedEvent>& expected() const { return expected_; }
  v1::TaskService::Stub& stub() { return *stub_; }

 private:
  void Expect(v1::TaskEvent::Type type, const v1::Task& task, absl::Time at,
              int group = 0);

  std::unique_ptr<v1::TaskService::Stub> stub_;
  const int64_t project_id_;
  int64_t sequence_ = 0;
  int groups_ = 0;
  std::map<int64_t, int64_t> live_;
  std::vector<ExpectedEvent> expected_;
};

// The tasks of `list` (a ListTasks at some resume_token) after `events`
// (the events after that token): id → task. For comparing a watcher's view
// with a later list.
std::map<int64_t, v1::Task> ApplyEvents(
    const std::vector<v1::Task>& list,
    const std::vector<ReceivedEvent>& events);

}  // namespace tasks::reliability

#endif  // TASKS_TESTS_RELIABILITY_TASK_WRITER_H_
