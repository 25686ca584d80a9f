#ifndef TASKS_TESTS_RELIABILITY_TASK_FILL_H_
#define TASKS_TESTS_RELIABILITY_TASK_FILL_H_

// A project filled until its heaviest ListTasks call is slow, for the tests
// of what the server still answers while such lists run.

#include <grpcpp/grpcpp.h>

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"
#include "tasks/v1/tasks.grpc.pb.h"

namespace tasks::reliability {

// Appends `count` nulls to `list` (4 bytes each on the wire).
void AddNulls(google::protobuf::ListValue* list, int count);

// BatchCreateTasks of `count` tasks titled "t<first>"... in `project_id`.
// Each task's metadata is {"k0": [null, ...]} (240 nulls, ~1 KiB of JSON),
// which a metadata filter parses in every row.
grpc::Status CreateBatch(v1::TaskService::Stub& stub, int64_t project_id,
                         int first, int count);

// The heaviest list: a metadata value no task has (a full, unindexed scan),
// the largest page. INTERNAL when a task matched.
grpc::Status ListNothing(v1::TaskService::Stub& stub);

// A project filled by FillUntilListIsSlow().
struct FilledProject {
  int tasks = 0;            // tasks created
  absl::Duration one_list;  // the last ListNothing() alone took
};

// Creates tasks in `project_id` (20,000 first, in batches of 40) until one
// ListNothing() takes `slow`, extrapolating from the last list. An error when
// a call fails or 1,000,000 tasks are not enough.
absl::StatusOr<FilledProject> FillUntilListIsSlow(v1::TaskService::Stub& stub,
                                                  int64_t project_id,
                                                  absl::Duration slow);

}  // namespace tasks::reliability

#endif  // TASKS_TESTS_RELIABILITY_TASK_FILL_H_
