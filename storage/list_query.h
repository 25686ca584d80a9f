#ifndef TASKS_STORAGE_LIST_QUERY_H_
#define TASKS_STORAGE_LIST_QUERY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/task_store.h"
#include "tasks/v1/tasks.pb.h"

namespace tasks::storage {

// A ListTasks request, checked and normalized: which Queries::ListTasks
// variant to run, the values of its parameters, and the scope a page token
// of this list is bound to.
struct TaskListQuery {
  int filters = 0;  // TaskFilterBits
  int order = 0;    // index into TaskOrders()
  long long project_id = 0;
  int status = 0;
  int priority = 0;
  std::string meta_key;
  std::string meta_value;                 // JSON text
  std::vector<int64_t> allowed_projects;  // with kFilterAllowedProjects
  // Every filter and the order, unambiguously: equal exactly when two
  // requests list the same rows in the same order.
  std::string scope;
};

// INVALID_ARGUMENT naming the field for an unknown order_by ("order_by"), a
// metadata_key with '"', '\\' or NUL, a key without a value or a value
// without a key ("metadata_key" / "metadata_value"). A restricted `scope`
// adds the kFilterAllowedProjects condition.
absl::StatusOr<TaskListQuery> ParseTaskListQuery(
    const v1::ListTasksRequest& request, const AccessScope& scope);

// The allowed project ids of `scope`, sorted and without duplicates;
// nullopt when it is unrestricted.
std::optional<std::vector<int64_t>> AllowedProjects(const AccessScope& scope);

// The scope of ListProjects page tokens: only the restriction, if any.
std::string ProjectListScope(
    const std::optional<std::vector<int64_t>>& allowed_projects);

// A page size in 1..1000: 0 or less means 50, more than 1000 means 1000.
int ClampPageSize(int page_size);

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_LIST_QUERY_H_
