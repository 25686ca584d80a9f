#include "service/request_validation.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "api/list_rules.h"
#include "api/metadata_filter.h"
#include "api/metadata_limits.h"
#include "api/text_rules.h"
#include "common/error_reason.h"
#include "common/status_macros.h"
#include "storage/filter/filter.h"
#include "storage/schema/task_table.h"

namespace tasks::service {
namespace {

using ::google::protobuf::FieldMask;
using ::tasks::api::CheckBoundedText;
using ::tasks::api::CheckTitle;
using ::tasks::api::kMaxDescriptionLength;
using ::tasks::api::kMaxRequestIdLength;

bool Contains(absl::Span<const absl::string_view> list,
              absl::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::string Path(absl::string_view prefix, absl::string_view field) {
  return prefix.empty() ? std::string(field) : absl::StrCat(prefix, ".", field);
}

absl::Status CheckStatus(int value, absl::string_view field,
                         bool allow_unspecified) {
  if (!v1::Task::Status_IsValid(value)) {
    return InvalidField(field, absl::StrCat("unknown value ", value));
  }
  if (!allow_unspecified && value == v1::Task::STATUS_UNSPECIFIED) {
    return InvalidField(field, "must be set when in update_mask");
  }
  return absl::OkStatus();
}

absl::Status CheckPriority(int value, absl::string_view field,
                           bool allow_unspecified) {
  if (!v1::Task::Priority_IsValid(value)) {
    return InvalidField(field, absl::StrCat("unknown value ", value));
  }
  if (!allow_unspecified && value == v1::Task::PRIORITY_UNSPECIFIED) {
    return InvalidField(field, "must be set when in update_mask");
  }
  return absl::OkStatus();
}

absl::Status MaskError(absl::string_view description) {
  return InvalidField("update_mask", description, reason::kInvalidFieldMask);
}

// Resolves an update mask into explicit, distinct, mutable paths (see the
// rules in the header). `populated` is what an absent mask means.
absl::StatusOr<FieldMask> ResolveMask(
    bool has_mask, const FieldMask& mask,
    absl::Span<const absl::string_view> mutable_paths,
    absl::Span<const absl::string_view> output_only_paths,
    const std::vector<absl::string_view>& populated) {
  FieldMask resolved;
  if (!has_mask || mask.paths().empty()) {
    for (absl::string_view path : populated) {
      resolved.add_paths(std::string(path));
    }
    if (resolved.paths().empty()) {
      return MaskError("absent, and no field to update is set");
    }
    return resolved;
  }
  for (const std::string& path : mask.paths()) {
    if (path == "*") {
      if (mask.paths_size() != 1) {
        return MaskError("\"*\" must be the only path");
      }
      for (absl::string_view field : mutable_paths) {
        resolved.add_paths(std::string(field));
      }
      return resolved;
    }
    if (Contains(output_only_paths, path)) {
      return MaskError(absl::StrCat("path \"", path, "\" is output only"));
    }
    if (!Contains(mutable_paths, path)) {
      return MaskError(absl::StrCat("unknown path \"", path, "\""));
    }
    if (std::find(resolved.paths().begin(), resolved.paths().end(), path) ==
        resolved.paths().end()) {
      resolved.add_paths(path);
    }
  }
  return resolved;
}

bool InMask(const FieldMask& mask, absl::string_view path) {
  return std::find(mask.paths().begin(), mask.paths().end(), path) !=
         mask.paths().end();
}

// Checks one task field; `prefix` is the task's path ("task").
absl::Status CheckTaskField(const v1::Task& task, absl::string_view path,
                            absl::string_view prefix, bool creating) {
  std::string field = Path(prefix, path);
  if (path == "project_id") {
    return task.has_project_id() ? ValidateId(task.project_id(), field)
                                 : absl::OkStatus();
  }
  if (path == "title") return CheckTitle(field, task.title());
  if (path == "description") {
    return CheckBoundedText(field, task.description(), kMaxDescriptionLength);
  }
  if (path == "status") return CheckStatus(task.status(), field, creating);
  if (path == "priority")
    return CheckPriority(task.priority(), field, creating);
  if (path == "metadata") {
    return api::CheckMetadataLimits(field, task.metadata());
  }
  return absl::OkStatus();
}

absl::Status CheckCreateTask(const v1::CreateTaskRequest& request,
                             absl::string_view prefix) {
  std::string task_path = Path(prefix, "task");
  if (!request.has_task()) {
    return InvalidField(task_path, "is required");
  }
  for (absl::string_view path : storage::schema::TaskUpdatablePaths()) {
    RETURN_IF_ERROR(
        CheckTaskField(request.task(), path, task_path, /*creating=*/true));
  }
  return CheckBoundedText(Path(prefix, "request_id"), request.request_id(),
                          kMaxRequestIdLength);
}

}  // namespace

absl::Status ValidateId(int64_t id, absl::string_view field) {
  if (id <= 0) return InvalidField(field, "must be a positive id");
  return absl::OkStatus();
}

absl::Status ValidateCreateProject(const v1::CreateProjectRequest& request) {
  if (!request.has_project()) return InvalidField("project", "is required");
  RETURN_IF_ERROR(CheckTitle("project.name", request.project().name()));
  return CheckBoundedText("project.description",
                          request.project().description(),
                          kMaxDescriptionLength);
}

absl::StatusOr<FieldMask> ValidateUpdateProject(
    const v1::UpdateProjectRequest& request) {
  if (!request.has_project()) return InvalidField("project", "is required");
  const v1::Project& project = request.project();
  RETURN_IF_ERROR(ValidateId(project.id(), "project.id"));
  ASSIGN_OR_RETURN(FieldMask mask,
                   ResolveMask(request.has_update_mask(), request.update_mask(),
                               storage::schema::ProjectUpdatablePaths(),
                               storage::schema::ProjectOutputOnlyPaths(),
                               storage::schema::PopulatedPaths(
                                   storage::schema::kProjectTable, project)));
  if (InMask(mask, "name")) {
    RETURN_IF_ERROR(CheckTitle("project.name", project.name()));
  }
  if (InMask(mask, "description")) {
    RETURN_IF_ERROR(CheckBoundedText(
        "project.description", project.description(), kMaxDescriptionLength));
  }
  return mask;
}

absl::Status ValidateCreateTask(const v1::CreateTaskRequest& request) {
  return CheckCreateTask(request, "");
}

absl::Status ValidateBatchCreateTasks(
    const v1::BatchCreateTasksRequest& request) {
  if (request.requests().empty() || request.requests_size() > kMaxBatchSize) {
    return InvalidField(
        "requests", absl::StrCat("must hold 1 to ", kMaxBatchSize,
                                 " requests, not ", request.requests_size()));
  }
  // Counted first: cheaper than the tasks' own checks, which write each
  // one's metadata as JSON, on a batch that may be refused for it.
  int metadata_values = 0;
  for (const v1::CreateTaskRequest& create : request.requests()) {
    metadata_values += api::CountMetadataValues(create.task().metadata());
  }
  if (metadata_values > api::kMaxBatchMetadataValues) {
    return InvalidField(
        "requests",
        absl::StrCat("must hold at most ", api::kMaxBatchMetadataValues,
                     " metadata values in all, not ", metadata_values,
                     "; split the batch"));
  }
  for (int i = 0; i < request.requests_size(); ++i) {
    RETURN_IF_ERROR(CheckCreateTask(request.requests(i),
                                    absl::StrCat("requests[", i, "]")));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ListTasksRequest> ValidateListTasks(
    const v1::ListTasksRequest& request) {
  ASSIGN_OR_RETURN(int page_size, api::ResolvePageSize(request.page_size()));
  if (request.has_project_id()) {
    RETURN_IF_ERROR(ValidateId(request.project_id(), "project_id"));
  }
  RETURN_IF_ERROR(CheckStatus(request.status(), "status", true));
  RETURN_IF_ERROR(CheckPriority(request.priority(), "priority", true));
  RETURN_IF_ERROR(api::CheckMetadataFilter(request));
  RETURN_IF_ERROR(api::ParseTaskListOrder(request.order_by()).status());
  // Parsed again by the store, which compiles it: one grammar for both.
  RETURN_IF_ERROR(storage::filter::ParseFilter(request.filter()).status());
  // Copied once checked: a refused request (a metadata_value of the heaviest
  // shape parses into ~15 MB) is not copied.
  v1::ListTasksRequest resolved = request;
  resolved.set_page_size(page_size);
  return resolved;
}

absl::StatusOr<WatchTasksArguments> ValidateWatchTasks(
    const v1::WatchTasksRequest& request) {
  WatchTasksArguments arguments;
  ASSIGN_OR_RETURN(arguments.filter,
                   storage::filter::ParseFilter(request.filter()));
  if (!request.resume_token().empty()) {
    ASSIGN_OR_RETURN(arguments.resume,
                     storage::ChangePosition::Decode(request.resume_token()));
  }
  return arguments;
}

absl::StatusOr<FieldMask> ValidateUpdateTask(
    const v1::UpdateTaskRequest& request) {
  if (!request.has_task()) return InvalidField("task", "is required");
  const v1::Task& task = request.task();
  RETURN_IF_ERROR(ValidateId(task.id(), "task.id"));
  // Unknown enum numbers are refused even outside the mask.
  RETURN_IF_ERROR(CheckStatus(task.status(), "task.status", true));
  RETURN_IF_ERROR(CheckPriority(task.priority(), "task.priority", true));
  ASSIGN_OR_RETURN(FieldMask mask,
                   ResolveMask(request.has_update_mask(), request.update_mask(),
                               storage::schema::TaskUpdatablePaths(),
                               storage::schema::TaskOutputOnlyPaths(),
                               storage::schema::PopulatedPaths(
                                   storage::schema::kTaskTable, task)));
  for (const std::string& path : mask.paths()) {
    RETURN_IF_ERROR(CheckTaskField(task, path, "task", /*creating=*/false));
  }
  return mask;
}

}  // namespace tasks::service
