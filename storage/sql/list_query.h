#ifndef TASKS_STORAGE_SQL_LIST_QUERY_H_
#define TASKS_STORAGE_SQL_LIST_QUERY_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/filter/filter.h"
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
  filter::Node filter;                    // the request's `filter`, parsed
  // Every filter and the order, unambiguously: equal exactly when two
  // requests list the same rows in the same order.
  std::string scope;
};

// INVALID_ARGUMENT naming the field for an unknown order_by ("order_by"), a
// metadata_key with '"', '\\' or NUL, a key without a value or a value
// without a key ("metadata_key" / "metadata_value"), a filter that does not
// parse ("filter", see filter::ParseFilter). A restricted `scope`
// adds the kFilterAllowedProjects condition.
absl::StatusOr<TaskListQuery> ParseTaskListQuery(
    const v1::ListTasksRequest& request, const AccessScope& scope);

// The allowed project ids of `scope`, sorted and without duplicates;
// nullopt when it is unrestricted.
std::optional<std::vector<int64_t>> AllowedProjects(const AccessScope& scope);

// The scope of ListProjects page tokens: only the restriction, if any.
std::string ProjectListScope(
    const std::optional<std::vector<int64_t>>& allowed_projects);

// PageBudget
//
// Whether a list page has room for one more row under kListPageByteBudget:
// the first row always, any later one only while the rows' stored bytes stay
// within the budget.
//
// Example:
//   PageBudget budget;
//   for (each row fetched) {
//     if (page is full || !budget.Take(StoredBytes(row))) { next token; stop; }
//     add the row;
//   }
class PageBudget {
 public:
  // Counts a row of `stored_bytes` into the page and returns true, or returns
  // false (the row is left for the next page) when it does not fit.
  bool Take(size_t stored_bytes) {
    if (rows_ > 0 && used_ + stored_bytes > kListPageByteBudget) return false;
    ++rows_;
    used_ += stored_bytes;
    return true;
  }

 private:
  int rows_ = 0;
  size_t used_ = 0;
};

// A page size in 1..1000: 0 or less means 50, more than 1000 means 1000.
int ClampPageSize(int page_size);

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_SQL_LIST_QUERY_H_
