#ifndef TASKS_API_METADATA_FILTER_H_
#define TASKS_API_METADATA_FILTER_H_

#include "absl/status/status.h"
#include "tasks/v1/tasks.pb.h"

namespace tasks::api {

// CheckMetadataFilter()
//
// The rules of ListTasks' metadata filter (tasks.proto), read by the
// service's request validation and by the store:
//   - metadata_key, when set, has no '"', '\' or NUL (the store quotes it
//     into a JSON path) and is valid UTF-8;
//   - metadata_value is required with a key, and only with a key (a Value
//     whose kind is not set counts as absent);
//   - metadata_value is within the caps of a task's metadata
//     (CheckMetadataValueLimits) and reaches either database unchanged
//     (CheckValue: strings as CheckText, numbers finite, every value set).
// INVALID_ARGUMENT naming "metadata_key" or "metadata_value" otherwise.
absl::Status CheckMetadataFilter(const v1::ListTasksRequest& request);

}  // namespace tasks::api

#endif  // TASKS_API_METADATA_FILTER_H_
