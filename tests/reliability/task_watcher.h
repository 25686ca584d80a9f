#ifndef TASKS_TESTS_RELIABILITY_TASK_WATCHER_H_
#define TASKS_TESTS_RELIABILITY_TASK_WATCHER_H_

// A WatchTasks client for the tests on the real binary, and the reference
// its events are checked against: the writes a test made, in order.

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "tasks/v1/tasks.grpc.pb.h"

namespace tasks::reliability {

// An event as a watcher received it.
struct ReceivedEvent {
  v1::TaskEvent event;
  absl::Time arrived;
};

// TaskWatcher
//
// One WatchTasks stream, read on a thread of its own, recording each event
// and when it arrived, and the status the stream ended with. Created paused,
// it opens the stream but reads nothing until Resume(): a slow reader.
//
// Example:
//   TaskWatcher watcher(server->NewChannel(), request);
//   ... write ...
//   ASSERT_TRUE(watcher.AwaitEvents(3, absl::Seconds(10)));
//   for (const ReceivedEvent& e : watcher.Events()) ...
class TaskWatcher {
 public:
  TaskWatcher(std::shared_ptr<grpc::Channel> channel,
              v1::WatchTasksRequest request, bool paused = false);
  TaskWatcher(const TaskWatcher&) = delete;
  TaskWatcher& operator=(const TaskWatcher&) = delete;
  // Cancels the stream and joins the thread.
  ~TaskWatcher();

  // Starts reading, for a watcher created paused.
  void Resume();

  // Waits until `count` events arrived in all; false (with fewer) after
  // `timeout` or when the stream ended first.
  bool AwaitEvents(size_t count, absl::Duration timeout);

  // The stream's final status once it ended; nullopt while it is still
  // open after `timeout`.
  absl::optional<grpc::Status> AwaitEnd(absl::Duration timeout);
  // When the stream ended; InfiniteFuture while it is open.
  absl::Time ended_at() const;

  // "open", or "ended UNAVAILABLE: <message>", for failure messages.
  std::string State() const;

  // The events so far, in the order they arrived.
  std::vector<ReceivedEvent> Events() const;
  size_t event_count() const;
  // The last event's resume_token; the request's when there is none.
  std::string LastResumeToken() const;

  // Ends the stream from the client's side (CANCELLED).
  void Cancel() { context_.TryCancel(); }

 private:
  void Run(v1::WatchTasksRequest request);

  std::unique_ptr<v1::TaskService::Stub> stub_;
  grpc::ClientContext context_;
  const std::string initial_token_;
  mutable absl::Mutex mu_;
  bool paused_ ABSL_GUARDED_BY(mu_);
  std::vector<ReceivedEvent> events_ ABSL_GUARDED_BY(mu_);
  absl::optional<grpc::Status> end_ ABSL_GUARDED_BY(mu_);
  absl::Time ended_at_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  std::thread thread_;
};

// A watch request from `resume_token` with `filter`.
v1::WatchTasksRequest WatchFrom(const std::string& resume_token,
                                const std::string& filter = "");

// ListTasks with `filter` through `stub`, every page: the tasks, and the
// first page's resume_token (the point a watch continues from) in `token`.
absl::StatusOr<std::vector<v1::Task>> ListAll(v1::TaskService::Stub& stub,
                                              const std::string& filter,
                                              std::string* token);

// One expected event: what a test wrote, in the order it wrote it, and when
// the write's reply arrived.
struct ExpectedEvent {
  v1::TaskEvent::Type type = v1::TaskEvent::TYPE_UNSPECIFIED;
  int64_t task_id = 0;
  // The etag the write returned; empty for a delete.
  std::string etag;
  absl::Time replied;
  // Events of one write with the same non-zero group (a project's cascade
  // delete) may arrive in any order among themselves.
  int group = 0;
};

// Compares `received` with `expected` position by position (a group's
// events as a set): type, task id and etag (where expected has one). Empty when
// they agree; otherwise the first differences (a missing, extra or duplicated
// event, or one out of order), for a failure message.
std::string CompareEvents(const std::vector<ReceivedEvent>& received,
                          const std::vector<ExpectedEvent>& expected);

// "CREATED 12" for messages.
std::string Describe(const v1::TaskEvent& event);

}  // namespace tasks::reliability

#endif  // TASKS_TESTS_RELIABILITY_TASK_WATCHER_H_
