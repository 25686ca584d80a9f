#include "storage/sql/queries.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "storage/schema/task_rows.h"
#include "storage/task_store.h"

namespace tasks::storage {
namespace {

// Column and parameter of each TaskColumnBits bit, in bit order.
constexpr const char* kTaskColumnNames[] = {
    "project_id", "title", "description", "status", "priority", "metadata"};
constexpr const char* kProjectColumnNames[] = {"name", "description"};

// The row of a request_id in its scope (the unique key serves it).
constexpr char kRequestKeyCondition[] =
    "idempotency_scope = :idempotency_scope AND request_id = :request_id";

std::string BuildInsertTask(bool has_status, bool has_priority) {
  std::vector<std::string> columns = {"project_id", "title", "description"};
  if (has_status) columns.push_back("status");
  if (has_priority) columns.push_back("priority");
  for (const char* column :
       {"metadata", "request_id", "idempotency_scope", "request_fingerprint"}) {
    columns.push_back(column);
  }
  std::vector<std::string> values;
  for (const std::string& column : columns) {
    values.push_back(absl::StrCat(":", column));
  }
  return absl::StrCat("INSERT INTO tasks (", absl::StrJoin(columns, ", "),
                      ", create_time, update_time) VALUES (",
                      absl::StrJoin(values, ", "),
                      ", :now, :now) "
                      "ON CONFLICT (idempotency_scope, request_id) DO NOTHING "
                      "RETURNING ",
                      kTaskColumns);
}

std::string SetClause(int columns, const char* const* names, int count) {
  std::string set;
  for (int bit = 0; bit < count; ++bit) {
    if ((columns & (1 << bit)) == 0) continue;
    absl::StrAppend(&set, names[bit], " = :", names[bit], ", ");
  }
  return set;
}

// " AND <the scope's condition>" on a task's project when `restricted`.
std::string ScopeCondition(const Dialect& dialect, bool restricted) {
  if (!restricted) return "";
  return absl::StrCat(" AND ", dialect.AllowedIdsCondition("project_id"));
}

std::string BuildUpdateTask(const Dialect& dialect, int columns,
                            bool check_revision, bool restricted) {
  return absl::StrCat(
      "UPDATE tasks SET ", SetClause(columns, kTaskColumnNames, 6),
      "revision = revision + 1, update_time = :now WHERE id = :id",
      check_revision ? " AND revision = :revision" : "",
      ScopeCondition(dialect, restricted), " RETURNING ", kTaskColumns);
}

std::string BuildUpdateProject(int columns) {
  return absl::StrCat(
      "UPDATE projects SET ", SetClause(columns, kProjectColumnNames, 2),
      "update_time = :now WHERE id = :id RETURNING ", kProjectColumns);
}

// A list query: `columns` of `from_where` in `order_by`, at most :limit rows.
// On a backend that buffers whole results the rows are cut in SQL to those
// the page byte budget can take plus the one that stops the page (see
// PageBudget: the first two rows always, a later one while the rows before
// it hold at most kListPageByteBudget bytes of `row_bytes`), so a page
// never receives much more than its budget, however many rows :limit
// allows. `fetched_columns` is `columns` as read from the table (with any
// conversion to text).
std::string ListQuery(const Dialect& dialect, absl::string_view columns,
                      absl::string_view fetched_columns,
                      absl::string_view from_where, absl::string_view order_by,
                      absl::string_view row_bytes) {
  const bool cut = dialect.buffers_results();
  std::string fetch =
      absl::StrCat("SELECT ", cut ? fetched_columns : columns, " FROM ",
                   from_where, " ORDER BY ", order_by, " LIMIT :limit");
  if (!cut) return fetch;
  const std::string window =
      absl::StrCat("OVER (ORDER BY ", order_by, " ROWS UNBOUNDED PRECEDING)");
  return absl::StrCat(
      "SELECT ", columns, " FROM (SELECT ", columns, ", row_number() ", window,
      " AS list_row, sum(", row_bytes, ") ", window, " - (", row_bytes,
      ") AS bytes_before FROM (", fetch, ") AS fetched) AS page WHERE ",
      "list_row <= 2 OR bytes_before <= ", kListPageByteBudget, " ORDER BY ",
      order_by);
}

std::string BuildListTasks(const Dialect& dialect, int filters,
                           const TaskOrder& order, bool after,
                           absl::string_view filter_condition = "") {
  std::vector<std::string> conditions;
  if (!filter_condition.empty()) {
    conditions.push_back(std::string(filter_condition));
  }
  if (filters & kFilterProject)
    conditions.push_back("project_id = :project_id");
  if (filters & kFilterStatus) conditions.push_back("status = :status");
  if (filters & kFilterPriority) conditions.push_back("priority = :priority");
  if (filters & kFilterMetadata) {
    conditions.push_back(dialect.metadata_filter_sql());
  }
  if (filters & kFilterAllowedProjects) {
    conditions.push_back(dialect.AllowedIdsCondition("project_id"));
  }
  const char* direction = order.descending ? " DESC" : "";
  const char* comparison = order.descending ? "<" : ">";
  std::string order_by;
  if (order.column == nullptr) {
    if (after)
      conditions.push_back(absl::StrCat("id ", comparison, " :after_id"));
    order_by = absl::StrCat("id", direction);
  } else {
    if (after) {
      const char* key =
          order.key == TaskOrder::Key::kText ? ":after_text" : ":after_number";
      conditions.push_back(absl::StrCat("(", order.column, ", id) ", comparison,
                                        " (", key, ", :after_id)"));
    }
    order_by = absl::StrCat(order.column, direction, ", id", direction);
  }
  std::string where;
  if (!conditions.empty()) {
    where = absl::StrCat(" WHERE ", absl::StrJoin(conditions, " AND "));
  }
  // Metadata turned into text once, in the innermost query.
  return ListQuery(
      dialect, kTaskColumns,
      "id, project_id, title, description, status, priority, "
      "CAST(metadata AS text) AS metadata, create_time, update_time, revision",
      absl::StrCat("tasks", where), order_by,
      "octet_length(title) + octet_length(description) + "
      "octet_length(metadata)");
}

}  // namespace

const std::vector<TaskOrder>& TaskOrders() {
  static const auto* const kOrders = new std::vector<TaskOrder>{
      {"", nullptr, false, TaskOrder::Key::kId},
      {"create_time", "create_time", false, TaskOrder::Key::kNumber},
      {"create_time desc", "create_time", true, TaskOrder::Key::kNumber},
      {"priority desc", "priority", true, TaskOrder::Key::kNumber},
      {"title", "title", false, TaskOrder::Key::kText},
  };
  return *kOrders;
}

Queries::Queries(const Dialect& dialect) : dialect_(dialect) {
  health = "SELECT 1";
  insert_project = absl::StrCat(
      "INSERT INTO projects (name, description, create_time, update_time) "
      "VALUES (:name, :description, :now, :now) RETURNING ",
      kProjectColumns);
  get_project =
      absl::StrCat("SELECT ", kProjectColumns, " FROM projects WHERE id = :id");
  for (bool restricted : {false, true}) {
    list_projects_[restricted] = ListQuery(
        dialect, kProjectColumns, kProjectColumns,
        absl::StrCat(
            "projects WHERE id > :after_id",
            restricted
                ? absl::StrCat(" AND ", dialect.AllowedIdsCondition("id"))
                : ""),
        "id", "octet_length(name) + octet_length(description)");
  }
  lock_project = absl::StrCat("SELECT id FROM projects WHERE id = :id",
                              dialect.lock_rows_sql());
  project_has_tasks = "SELECT id FROM tasks WHERE project_id = :id LIMIT 1";
  delete_project = "DELETE FROM projects WHERE id = :id RETURNING id";

  // A row from before fingerprints were kept replays for any request.
  task_by_request_id = absl::StrCat(
      "SELECT ", kTaskColumns, " FROM tasks WHERE ", kRequestKeyCondition,
      " AND (request_fingerprint IS NULL OR "
      "request_fingerprint = :request_fingerprint)");
  request_id_taken =
      absl::StrCat("SELECT id FROM tasks WHERE ", kRequestKeyCondition);
  for (bool restricted : {false, true}) {
    const std::string scope = ScopeCondition(dialect, restricted);
    get_task_[restricted] = absl::StrCat("SELECT ", kTaskColumns,
                                         " FROM tasks WHERE id = :id", scope);
    task_revision_[restricted] =
        absl::StrCat("SELECT revision FROM tasks WHERE id = :id", scope);
    delete_task_[restricted] = absl::StrCat("DELETE FROM tasks WHERE id = :id",
                                            scope, " RETURNING id");
  }

  for (int variant = 0; variant < 4; ++variant) {
    insert_task_[variant] = BuildInsertTask(variant & 1, variant & 2);
  }
  for (int columns = 0; columns <= kAllTaskColumns; ++columns) {
    for (bool check_revision : {false, true}) {
      for (bool restricted : {false, true}) {
        update_task_.push_back(
            BuildUpdateTask(dialect, columns, check_revision, restricted));
      }
    }
  }
  for (int columns = 0; columns <= kAllProjectColumns; ++columns) {
    update_project_.push_back(BuildUpdateProject(columns));
  }
  for (int filters = 0; filters <= kAllTaskFilters; ++filters) {
    for (const TaskOrder& order : TaskOrders()) {
      for (bool after : {false, true}) {
        list_tasks_.push_back(BuildListTasks(dialect, filters, order, after));
      }
    }
  }
}

const std::string& Queries::InsertTask(bool has_status,
                                       bool has_priority) const {
  return insert_task_[(has_status ? 1 : 0) | (has_priority ? 2 : 0)];
}

const std::string& Queries::GetTask(bool restricted) const {
  return get_task_[restricted ? 1 : 0];
}

const std::string& Queries::TaskRevision(bool restricted) const {
  return task_revision_[restricted ? 1 : 0];
}

const std::string& Queries::DeleteTask(bool restricted) const {
  return delete_task_[restricted ? 1 : 0];
}

const std::string& Queries::UpdateTask(int columns, bool check_revision,
                                       bool restricted) const {
  return update_task_[(columns * 2 + (check_revision ? 1 : 0)) * 2 +
                      (restricted ? 1 : 0)];
}

const std::string& Queries::UpdateProject(int columns) const {
  return update_project_[columns];
}

const std::string& Queries::ListProjects(bool restricted) const {
  return list_projects_[restricted ? 1 : 0];
}

const std::string& Queries::ListTasks(int filters, int order,
                                      bool after) const {
  return list_tasks_[(filters * TaskOrders().size() + order) * 2 +
                     (after ? 1 : 0)];
}

std::string Queries::ListTasks(int filters, int order, bool after,
                               absl::string_view filter_condition) const {
  return BuildListTasks(dialect_, filters, TaskOrders()[order], after,
                        filter_condition);
}

}  // namespace tasks::storage
