#ifndef TASKS_SERVICE_REQUEST_VALIDATION_H_
#define TASKS_SERVICE_REQUEST_VALIDATION_H_

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/field_mask.pb.h"
#include "storage/filter/filter.h"
#include "storage/task_changes.h"
#include "tasks/v1/tasks.pb.h"

namespace tasks::service {

// Request validation: the API's rules (tasks.proto) checked before a request
// reaches the store. Every error is INVALID_ARGUMENT made by
// tasks::InvalidField, so it names the offending field as a request path
// ("task.title", "requests[3].task.title", "update_mask") and the client gets
// it back as a google.rpc.BadRequest field violation. The reason is
// INVALID_FIELD_MASK for update_mask errors, INVALID_ARGUMENT otherwise.
//
// Rules (the ones the store reads too are defined once, in api/):
//   - Strings (api/text_rules.h): lengths count Unicode code points, not
//     bytes. Titles and names are required and 1..200 characters after
//     trimming ASCII whitespace (the value itself is stored as sent);
//     descriptions at most 10,000; request_id at most 100. No string may
//     contain a NUL character.
//   - Metadata (api/metadata_limits.h): at most 1,000 values, nested ones
//     included, and 16 KiB of JSON text as the store writes it.
//   - Enum values must be known numbers; ids must be > 0 (a task's optional
//     project_id too, when set).
//   - page_size (api/list_rules.h): negative is an error, 0 means 50, above
//     1000 means 1000.
//   - Update masks (AIP-134) are resolved into an explicit list of paths for
//     the store. Absent or empty mask: the populated fields (for a task:
//     project_id when set, non-empty strings, enums other than UNSPECIFIED,
//     metadata when set). "*": every mutable field, and only on its own.
//     Unknown and output-only paths are errors; a repeated path counts once
//     (duplicates are dropped, first occurrence kept). A mask that resolves to
//     no path is an error. Fields in the mask are validated as on create, and
//     status/priority in the mask must not be UNSPECIFIED.

// Most requests in one BatchCreateTasks.
inline constexpr int kMaxBatchSize = 1000;

// OK when `id` > 0; otherwise INVALID_ARGUMENT naming `field`.
absl::Status ValidateId(int64_t id, absl::string_view field);

// Requires project.name; checks name and description.
absl::Status ValidateCreateProject(const v1::CreateProjectRequest& request);

// Checks project.id and the masked fields; returns the resolved mask, a
// subset of {"name", "description"}.
absl::StatusOr<google::protobuf::FieldMask> ValidateUpdateProject(
    const v1::UpdateProjectRequest& request);

// Requires task.title; checks every task field and request_id.
absl::Status ValidateCreateTask(const v1::CreateTaskRequest& request);

// 1..1000 requests whose tasks' metadata hold at most
// api::kMaxBatchMetadataValues values in all (else field "requests", checked
// first), each checked as by ValidateCreateTask with fields named
// "requests[<i>].task.title" and so on.
absl::Status ValidateBatchCreateTasks(
    const v1::BatchCreateTasksRequest& request);

// Checks the filters (project_id > 0 when set, known enums, the metadata
// filter as api::CheckMetadataFilter, `filter` as filter::ParseFilter) and
// order_by (api::ParseTaskListOrder). Returns the request with page_size
// resolved as by api::ResolvePageSize.
absl::StatusOr<v1::ListTasksRequest> ValidateListTasks(
    const v1::ListTasksRequest& request);

// A WatchTasksRequest, parsed.
struct WatchTasksArguments {
  storage::filter::Node filter;
  // Unset: the request starts at the present (an empty resume_token).
  std::optional<storage::ChangePosition> resume;
};

// Parses `filter` as ValidateListTasks checks it (INVALID_ARGUMENT naming
// "filter" with the error's position) and a non-empty resume_token
// (INVALID_ARGUMENT naming "resume_token", reason INVALID_RESUME_TOKEN).
absl::StatusOr<WatchTasksArguments> ValidateWatchTasks(
    const v1::WatchTasksRequest& request);

// Checks task.id and the masked fields; returns the resolved mask, a subset of
// {"project_id", "title", "description", "status", "priority", "metadata"}.
absl::StatusOr<google::protobuf::FieldMask> ValidateUpdateTask(
    const v1::UpdateTaskRequest& request);

}  // namespace tasks::service

#endif  // TASKS_SERVICE_REQUEST_VALIDATION_H_
