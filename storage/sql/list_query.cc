#include "storage/sql/list_query.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "api/validation.h"
#include "common/error_reason.h"
#include "common/status_macros.h"
#include "storage/schema/task_rows.h"
#include "storage/sql/queries.h"

namespace tasks::storage {
namespace {

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 1000;

// "Create_Time  DESC" -> "create_time desc"; "title asc" -> "title".
std::string NormalizeOrderBy(absl::string_view order_by) {
  std::vector<std::string> words =
      absl::StrSplit(absl::AsciiStrToLower(order_by), absl::ByAnyChar(" \t"),
                     absl::SkipEmpty());
  if (words.size() == 2 && words[1] == "asc") words.pop_back();
  return absl::StrJoin(words, " ");
}

absl::StatusOr<int> ParseOrder(absl::string_view order_by) {
  std::string normalized = NormalizeOrderBy(order_by);
  const std::vector<TaskOrder>& orders = TaskOrders();
  for (size_t i = 0; i < orders.size(); ++i) {
    if (orders[i].order_by == normalized) return static_cast<int>(i);
  }
  return InvalidField(
      "order_by",
      absl::StrCat("unknown order \"", absl::CHexEscape(order_by),
                   "\"; use one of \"create_time\", \"create_time desc\", "
                   "\"priority desc\", \"title\" or leave it empty"));
}

}  // namespace

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
  ASSIGN_OR_RETURN(query.order, ParseOrder(request.order_by()));
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
  const bool has_value =
      request.has_metadata_value() && request.metadata_value().kind_case() !=
                                          google::protobuf::Value::KIND_NOT_SET;
  if (!request.metadata_key().empty()) {
    const std::string& key = request.metadata_key();
    RETURN_IF_ERROR(CheckText("metadata_key", key));
    if (key.find_first_of("\"\\") != std::string::npos) {
      return InvalidField("metadata_key", "must not contain '\"' or '\\'");
    }
    if (!has_value) {
      return InvalidField("metadata_value",
                          "is required when metadata_key is set");
    }
    RETURN_IF_ERROR(CheckValue("metadata_value", request.metadata_value()));
    ASSIGN_OR_RETURN(query.meta_value,
                     ValueToJson(request.metadata_value(), "metadata_value"));
    query.meta_key = key;
    query.filters |= kFilterMetadata;
  } else if (has_value) {
    return InvalidField("metadata_key",
                        "is required when metadata_value is set");
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
      "tasks|order=", TaskOrders()[query.order].order_by, "|project=",
      request.has_project_id() ? absl::StrCat(query.project_id) : "-",
      "|status=", query.status, "|priority=", query.priority,
      "|key=", request.metadata_key().size(), ":", request.metadata_key(),
      "|value=", query.meta_value.size(), ":", query.meta_value,
      "|allowed=", allowed, "|filter=", request.filter().size(), ":",
      request.filter());
  return query;
}

int ClampPageSize(int page_size) {
  if (page_size <= 0) return kDefaultPageSize;
  return std::min(page_size, kMaxPageSize);
}

}  // namespace tasks::storage
