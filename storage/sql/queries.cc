#include "storage/sql/queries.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/list_rules.h"
#include "storage/schema/migration_scripts.h"
#include "storage/schema/task_table.h"
#include "storage/sql/extra_columns.h"
#include "storage/task_store.h"

namespace tasks::storage {
namespace {

// A table's column lists in SQL, made once.
struct TableSql {
  explicit TableSql(const schema::Table& table)
      : columns(schema::ColumnList(table)),
        text_columns(schema::TextColumnList(table)),
        stored_bytes(schema::StoredBytesSql(table)) {}

  std::string columns;       // as rows are read
  std::string text_columns;  // the same with JSON read as text
  std::string stored_bytes;  // a row's bytes for the page budget
};

const TableSql& TaskSql() {
  static const auto* const kSql = new TableSql(schema::kTaskTable);
  return *kSql;
}

const TableSql& ProjectSql() {
  static const auto* const kSql = new TableSql(schema::kProjectTable);
  return *kSql;
}

// The statements made on first use, per column set (or, for a list, per set
// of filters and order).
enum class ByColumns : uint64_t {
  kInsertTask,
  kUpdateTask,
  kUpdateProject,
  kListTasks,
  kPositionedListTasks
};

uint64_t Key(ByColumns statement, schema::ColumnSet columns, int flags = 0) {
  return static_cast<uint64_t>(statement) << 40 |
         static_cast<uint64_t>(flags) << 32 | columns.bits();
}

// A list's key: its filters (TaskFilterBits) and order in the low bits.
uint64_t ListKey(int filters, int order, bool after,
                 ByColumns statement = ByColumns::kListTasks) {
  return Key(statement,
             schema::ColumnSet(static_cast<uint32_t>(filters) |
                               static_cast<uint32_t>(order) << 8),
             after ? 1 : 0);
}

// The columns of `table` the API may set on create.
schema::ColumnSet SettableOnCreate(const schema::Table& table) {
  schema::ColumnSet columns;
  for (int i = 0; i < table.size; ++i) {
    if (table[i].settable_on_create()) columns.Add(i);
  }
  return columns;
}

// The column of the Task field a ListTasks order sorts on
// (api::TaskListOrder::field), and the kind of its page-token key.
TaskOrder OrderOn(const api::TaskListOrder& order) {
  if (order.field.empty()) {
    return {nullptr, order.descending, TaskOrder::Key::kId};
  }
  const int index = schema::PathIndex(schema::kTaskTable, order.field);
  if (index < 0) {
    // An order the API offers on a field the table lacks: every store would
    // fail its lists, so none starts.
    std::fprintf(stderr, "no column for the ListTasks order on \"%.*s\"\n",
                 static_cast<int>(order.field.size()), order.field.data());
    std::abort();
  }
  const schema::Column& column = schema::kTaskTable[index];
  TaskOrder made{column.name, order.descending,
                 column.kind == schema::ValueKind::kText
                     ? TaskOrder::Key::kText
                     : TaskOrder::Key::kNumber,
                 index};
  made.key_sql = column.name;
  if (column.has(schema::kNullable) && made.key == TaskOrder::Key::kNumber) {
    // Beyond every value in the direction of the order: last either way.
    // (Not INT64_MIN, which SQLite reads as a real.)
    made.null_key =
        order.descending ? -9223372036854775807LL : 9223372036854775807LL;
    made.key_sql =
        absl::StrCat("COALESCE(", column.name, ", ", made.null_key, ")");
  }
  return made;
}

// The row of a request_id in its scope (the unique key serves it).
constexpr char kRequestKeyCondition[] =
    "idempotency_scope = :idempotency_scope AND request_id = :request_id";

// "INSERT INTO <table> (<columns>, <extra>, create_time, update_time) VALUES
// (:<columns>, :<extra>, :now, :now)": each column its own parameter.
std::string InsertInto(const schema::Table& table, schema::ColumnSet columns,
                       const std::vector<const char*>& extra) {
  std::vector<std::string> names;
  for (int i = 0; i < table.size; ++i) {
    if (columns.Has(i)) names.push_back(table[i].name);
  }
  names.insert(names.end(), extra.begin(), extra.end());
  std::vector<std::string> values;
  for (const std::string& name : names) {
    values.push_back(absl::StrCat(":", name));
  }
  return absl::StrCat("INSERT INTO ", table.name, " (",
                      absl::StrJoin(names, ", "),
                      ", create_time, update_time) VALUES (",
                      absl::StrJoin(values, ", "), ", :now, :now)");
}

std::string BuildInsertTask(schema::ColumnSet columns) {
  return absl::StrCat(
      InsertInto(schema::kTaskTable, columns,
                 {"request_id", "idempotency_scope", "request_fingerprint"}),
      " ON CONFLICT (idempotency_scope, request_id) DO NOTHING RETURNING ",
      TaskSql().columns);
}

// "a = :a, b = :b, " for the `columns` of `table`.
std::string SetClause(const schema::Table& table, schema::ColumnSet columns) {
  std::string set;
  for (int i = 0; i < table.size; ++i) {
    if (!columns.Has(i)) continue;
    absl::StrAppend(&set, table[i].name, " = :", table[i].name, ", ");
  }
  return set;
}

// " AND <the scope's condition>" on a task's project when `restricted`.
std::string ScopeCondition(const Dialect& dialect, bool restricted) {
  if (!restricted) return "";
  return absl::StrCat(" AND ", dialect.AllowedIdsCondition("project_id"));
}

std::string BuildUpdateTask(const Dialect& dialect, schema::ColumnSet columns,
                            bool check_revision, bool restricted) {
  return absl::StrCat(
      "UPDATE tasks SET ", SetClause(schema::kTaskTable, columns),
      "revision = revision + 1, update_time = :now WHERE id = :id",
      check_revision ? " AND revision = :revision" : "",
      ScopeCondition(dialect, restricted), " RETURNING ", TaskSql().columns);
}

std::string BuildUpdateProject(schema::ColumnSet columns) {
  return absl::StrCat(
      "UPDATE projects SET ", SetClause(schema::kProjectTable, columns),
      "update_time = :now WHERE id = :id RETURNING ", ProjectSql().columns);
}

// A list query: `columns` of `from_where` in `order_by`, at most :limit rows.
// On a backend that buffers whole results the rows are cut in SQL to those
// the page byte budget can take plus the one that stops the page (see
// PageBudget: the first two rows always, a later one while the rows before
// it hold at most kListPageByteBudget bytes of `row_bytes`), so a page
// never receives much more than its budget, however many rows :limit
// allows. `fetched_columns` is `columns` as read from the table (with any
// conversion to text). `numbered` adds each row's place in the order as
// list_row (cut rows only).
std::string ListQuery(const Dialect& dialect, absl::string_view columns,
                      absl::string_view fetched_columns,
                      absl::string_view from_where, absl::string_view order_by,
                      absl::string_view row_bytes, bool numbered = false) {
  const bool cut = dialect.buffers_results();
  std::string fetch =
      absl::StrCat("SELECT ", cut ? fetched_columns : columns, " FROM ",
                   from_where, " ORDER BY ", order_by, " LIMIT :limit");
  if (!cut) return fetch;
  const std::string window =
      absl::StrCat("OVER (ORDER BY ", order_by, " ROWS UNBOUNDED PRECEDING)");
  return absl::StrCat("SELECT ", columns, numbered ? ", list_row" : "",
                      " FROM (SELECT ", columns, ", row_number() ", window,
                      " AS list_row, sum(", row_bytes, ") ", window, " - (",
                      row_bytes, ") AS bytes_before FROM (", fetch,
                      ") AS fetched) AS page WHERE ",
                      "list_row <= 2 OR bytes_before <= ", kListPageByteBudget,
                      " ORDER BY ", order_by);
}

std::string BuildListTasks(const Dialect& dialect, int filters,
                           const TaskOrder& order, bool after,
                           absl::string_view filter_condition = "",
                           bool numbered = false) {
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
      if (order.key_sql != order.column) {
        // The row-value comparison alone makes SQLite scan an expression
        // index from its start; a bound on the key lets it seek.
        conditions.push_back(absl::StrCat(
            order.key_sql, " ", order.descending ? "<=" : ">=", " ", key));
      }
      conditions.push_back(absl::StrCat("(", order.key_sql, ", id) ",
                                        comparison, " (", key, ", :after_id)"));
    }
    order_by = absl::StrCat(order.key_sql, direction, ", id", direction);
  }
  std::string where;
  if (!conditions.empty()) {
    where = absl::StrCat(" WHERE ", absl::StrJoin(conditions, " AND "));
  }
  // Metadata turned into text once, in the innermost query.
  return ListQuery(dialect, TaskSql().columns, TaskSql().text_columns,
                   absl::StrCat("tasks", where), order_by,
                   TaskSql().stored_bytes, numbered);
}

// The largest seq given out: above every change, trimmed ones too.
constexpr char kLatestSeq[] =
    "(SELECT max(known.seq) FROM (SELECT max(seq) AS seq FROM task_changes "
    "UNION ALL SELECT seq FROM task_change_horizon) AS known)";

// change_seq, change_reflected of the statement's snapshot. Only
// PostgreSQL has unnumbered changes (see task_changes.h).
std::string BuildChangePosition(const Dialect& dialect) {
  const bool unnumbered = !dialect.numbers_changes_on_write();
  return absl::StrCat(
      "SELECT ", kLatestSeq, " AS ", kPositionExtras[kPositionSeq].name, ", ",
      unnumbered
          ? absl::StrCat("(SELECT string_agg(CAST(change_id AS text), ',') "
                         "FROM unnumbered_task_changes(",
                         kMaxUnnumberedChanges + 1, ") AS change_id)")
          : std::string("NULL"),
      " AS ", kPositionExtras[kPositionReflected].name);
}

// The page of `list` (made with `numbered`) beside its snapshot's position:
// the position's one row joined to every row of the page, or to none. Only
// the first row carries the reflected ids, which may be thousands: copied
// to every row, they would be sent (and sorted) a thousand times.
std::string PositionedList(const std::string& position,
                           const std::string& list) {
  const char* const seq = kPositionExtras[kPositionSeq].name;
  const char* const reflected = kPositionExtras[kPositionReflected].name;
  return absl::StrCat(
      "SELECT ", TaskSql().columns, ", ", seq,
      ", CASE WHEN listed.list_row IS NULL OR listed.list_row = 1 THEN ",
      reflected, " END AS ", reflected, " FROM (", position,
      ") AS position LEFT JOIN (", list,
      ") AS listed ON true ORDER BY listed.list_row");
}

}  // namespace

const std::vector<TaskOrder>& TaskOrders() {
  static const auto* const kOrders = [] {
    auto* orders = new std::vector<TaskOrder>;
    for (const api::TaskListOrder& order : api::TaskListOrders()) {
      orders->push_back(OrderOn(order));
    }
    return orders;
  }();
  return *kOrders;
}

PageCursor CursorAfter(const TaskOrder& order, const v1::Task& task) {
  PageCursor cursor;
  cursor.id = task.id();
  if (order.column_index < 0) return cursor;
  schema::ColumnValue value;
  // An order's column is never metadata, whose write alone can fail.
  (void)schema::WriteColumn(schema::kTaskTable, order.column_index, task,
                            order.column, value);
  if (order.key == TaskOrder::Key::kText) {
    cursor.text = std::move(value.text);
  } else {
    cursor.number = value.null ? order.null_key : value.number;
  }
  return cursor;
}

Queries::Queries(const Dialect& dialect) : dialect_(dialect) {
  health = kSchemaVersionSql;
  const TableSql& projects = ProjectSql();
  insert_project =
      absl::StrCat(InsertInto(schema::kProjectTable,
                              SettableOnCreate(schema::kProjectTable), {}),
                   " RETURNING ", projects.columns);
  get_project = absl::StrCat("SELECT ", projects.columns,
                             " FROM projects WHERE id = :id");
  for (bool restricted : {false, true}) {
    list_projects_[restricted] = ListQuery(
        dialect, projects.columns, projects.text_columns,
        absl::StrCat(
            "projects WHERE id > :after_id",
            restricted
                ? absl::StrCat(" AND ", dialect.AllowedIdsCondition("id"))
                : ""),
        "id", projects.stored_bytes);
  }
  lock_project = absl::StrCat("SELECT id FROM projects WHERE id = :id",
                              dialect.lock_rows_sql());
  project_has_tasks = "SELECT id FROM tasks WHERE project_id = :id LIMIT 1";
  delete_project = "DELETE FROM projects WHERE id = :id RETURNING id";

  // A row from before fingerprints were kept replays for any request; one
  // from before they were of the row, for the same bytes.
  const TableSql& tasks = TaskSql();
  task_by_request_id = absl::StrCat(
      "SELECT ", tasks.columns, " FROM tasks WHERE ", kRequestKeyCondition,
      " AND (request_fingerprint IS NULL OR request_fingerprint IN "
      "(:request_fingerprint, :sent_fingerprint))");
  request_id_taken =
      absl::StrCat("SELECT id FROM tasks WHERE ", kRequestKeyCondition);
  begin_read = "BEGIN";
  change_position = BuildChangePosition(dialect);
  // The bounds: scalar subqueries of a FROM-less SELECT, which the planner
  // knows to be one row. Joined FROM task_change_horizon instead (a one-row
  // table autovacuum seldom analyzes), they were estimated at PostgreSQL's
  // guess for a page of rows, 2,040, and the read's cost passed
  // jit_above_cost as the log grew: some 10 ms of JIT compilation per read.
  read_changes = absl::StrCat(
      "SELECT ", tasks.columns, ", ", ExtraColumnList(kChangeExtras),
      " FROM (SELECT (SELECT "
      "seq FROM task_change_horizon) AS horizon, ",
      kLatestSeq, " AS latest) AS bounds LEFT JOIN (SELECT ", tasks.columns,
      ", seq, change_id, change_type FROM task_changes WHERE seq > "
      ":after_number ORDER BY seq LIMIT :limit) AS changes ON true ORDER BY "
      "seq");
  if (!dialect.numbers_changes_on_write()) {
    // One call: the lock, the numbering and the NOTIFY, which names this
    // server (:sender) so that its own listener skips it (migrations 0006
    // and 0007).
    sequence_changes = absl::StrCat("SELECT number_task_changes(",
                                    kMaxNumberedPerRun, ", :sender)");
  }
  // Up to the first change from :now on, in seq order: on PostgreSQL a
  // change's time (its write) may be older than an earlier seq's (a
  // transaction that committed late), and such a later change is kept. The
  // seq index finds it, walking only the changes to delete.
  raise_change_horizon = absl::StrCat(
      "UPDATE task_change_horizon SET seq = (SELECT max(known.seq) FROM "
      "(SELECT COALESCE((SELECT seq FROM task_changes WHERE seq IS NOT NULL "
      "AND change_time >= :now ORDER BY seq LIMIT 1) - 1, (SELECT max(seq) "
      "FROM task_changes)) AS seq UNION ALL SELECT seq FROM "
      "task_change_horizon) AS known)");
  delete_trimmed_changes =
      "DELETE FROM task_changes WHERE seq <= (SELECT seq FROM "
      "task_change_horizon)";

  for (bool restricted : {false, true}) {
    const std::string scope = ScopeCondition(dialect, restricted);
    get_task_[restricted] = absl::StrCat("SELECT ", tasks.columns,
                                         " FROM tasks WHERE id = :id", scope);
    task_revision_[restricted] =
        absl::StrCat("SELECT revision FROM tasks WHERE id = :id", scope);
    delete_task_[restricted] = absl::StrCat("DELETE FROM tasks WHERE id = :id",
                                            scope, " RETURNING id");
  }
}

template <typename Build>
const std::string& Queries::Cached(uint64_t key, Build&& build) const {
  {
    absl::ReaderMutexLock lock(&mu_);
    auto found = by_columns_.find(key);
    if (found != by_columns_.end()) return *found->second;
  }
  auto made = std::make_unique<const std::string>(build());
  absl::MutexLock lock(&mu_);
  // Another thread may have made it meanwhile: the first one stays.
  return *by_columns_.try_emplace(key, std::move(made)).first->second;
}

const std::string& Queries::InsertTask(schema::ColumnSet columns) const {
  return Cached(Key(ByColumns::kInsertTask, columns),
                [&] { return BuildInsertTask(columns); });
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

const std::string& Queries::UpdateTask(schema::ColumnSet columns,
                                       bool check_revision,
                                       bool restricted) const {
  const int flags = (check_revision ? 1 : 0) | (restricted ? 2 : 0);
  return Cached(Key(ByColumns::kUpdateTask, columns, flags), [&] {
    return BuildUpdateTask(dialect_, columns, check_revision, restricted);
  });
}

const std::string& Queries::UpdateProject(schema::ColumnSet columns) const {
  return Cached(Key(ByColumns::kUpdateProject, columns),
                [&] { return BuildUpdateProject(columns); });
}

const std::string& Queries::ListProjects(bool restricted) const {
  return list_projects_[restricted ? 1 : 0];
}

const std::string& Queries::ListTasks(int filters, int order,
                                      bool after) const {
  return Cached(ListKey(filters, order, after), [&] {
    return BuildListTasks(dialect_, filters, TaskOrders()[order], after);
  });
}

std::string Queries::ListTasks(int filters, int order, bool after,
                               absl::string_view filter_condition) const {
  return BuildListTasks(dialect_, filters, TaskOrders()[order], after,
                        filter_condition);
}

const std::string& Queries::PositionedListTasks(int filters, int order,
                                                bool after) const {
  return Cached(
      ListKey(filters, order, after, ByColumns::kPositionedListTasks), [&] {
        return PositionedList(
            change_position,
            BuildListTasks(dialect_, filters, TaskOrders()[order], after, "",
                           /*numbered=*/true));
      });
}

std::string Queries::PositionedListTasks(
    int filters, int order, bool after,
    absl::string_view filter_condition) const {
  return PositionedList(change_position,
                        BuildListTasks(dialect_, filters, TaskOrders()[order],
                                       after, filter_condition,
                                       /*numbered=*/true));
}

}  // namespace tasks::storage
