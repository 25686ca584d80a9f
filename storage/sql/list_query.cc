#include "storage/sql/list_query.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/list_rules.h"
#include "api/metadata_filter.h"
#include "common/status_macros.h"
#include "storage/schema/task_rows.h"
#include "storage/sql/queries.h"

namespace tasks::storage {

std::optional<std::vector<int64_t>> AllowedProjects(const AccessScope& scope) {
  if (!scope.allowed_project_ids.has_value()) return std::nullopt;
  std::vector<int64_t> ids = *scope.allowed_project_ids;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

std::string ProjectListScope(
    const std::optional<std::vector<int64_t>>& allowed_projects) {
  if (!allowed_projects.has_value()) return "projects";
  return absl::StrCat("projects|allowed=",
                      absl::StrJoin(*allowed_projects, ","));
}

absl::StatusOr<TaskListQuery> ParseTaskListQuery(
    const v1::ListTasksRequest& request, const AccessScope& scope) {
  TaskListQuery query;
  ASSIGN_OR_RETURN(query.order, api::ParseTaskListOrder(request.order_by()));
  if (request.has_project_id()) {
    query.filters |= kFilterProject;
    query.project_id = request.project_id();
  }
  if (request.status() != v1::Task::STATUS_UNSPECIFIED) {
    query.filters |= kFilterStatus;
    query.status = request.status();
  }
  if (request.priority() != v1::Task::PRIORITY_UNSPECIFIED) {
    query.filters |= kFilterPriority;
    query.priority = request.priority();
  }
  RETURN_IF_ERROR(api::CheckMetadataFilter(request));
  if (!request.metadata_key().empty()) {
    ASSIGN_OR_RETURN(query.meta_value,
                     ValueToJson(request.metadata_value(), "metadata_value"));
    query.meta_key = request.metadata_key();
    query.filters |= kFilterMetadata;
  }
  ASSIGN_OR_RETURN(query.filter, filter::ParseFilter(request.filter()));
  std::string allowed = "-";
  if (std::optional<std::vector<int64_t>> ids = AllowedProjects(scope)) {
    query.filters |= kFilterAllowedProjects;
    query.allowed_projects = *std::move(ids);
    allowed = absl::StrJoin(query.allowed_projects, ",");
  }
  // Lengths make the concatenation unambiguous.
  query.scope = absl::StrCat(
      "tasks|order=", api::TaskListOrders()[query.order].order_by, "|project=",
      request.has_project_id() ? absl::StrCat(query.project_id) : "-",
      "|status=", query.status, "|priority=", query.priority,
      "|key=", request.metadata_key().size(), ":", request.metadata_key(),
      "|value=", query.meta_value.size(), ":", query.meta_value,
      "|allowed=", allowed, "|filter=", request.filter().size(), ":",
      request.filter());
  return query;
}

}  // namespace tasks::storage
