#ifndef TASKS_STORAGE_SQL_QUERIES_H_
#define TASKS_STORAGE_SQL_QUERIES_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "storage/engine/dialect.h"
#include "storage/schema/column.h"
#include "storage/sql/page_token.h"
#include "tasks/v1/tasks.pb.h"

namespace tasks::storage {

// A ListTasks order: the sort column (none for id order) and direction, with
// id as the tie-break in the same direction so that the keyset condition is
// one row-value comparison an index can serve.
struct TaskOrder {
  enum class Key { kId, kNumber, kText };
  const char* column;  // nullptr for id order
  bool descending;
  Key key;
  int column_index = -1;  // in schema::kTaskTable; -1 for id order
  // What a row without a value sorts as (a nullable numeric column).
  long long null_key = 0;
  // The sort key in SQL: the column, or for a nullable one
  // COALESCE(column, null_key), which puts rows without a value last in
  // either direction.
  std::string key_sql;
};

// The page-token key of `task` in `order`: its column's value, or the
// order's null_key when it has none.
PageCursor CursorAfter(const TaskOrder& order, const v1::Task& task);

// The ListTasks orders of api::TaskListOrders(), by the same index.
const std::vector<TaskOrder>& TaskOrders();

// Bits naming the optional conditions of a ListTasks query.
enum TaskFilterBits {
  kFilterProject = 1,
  kFilterStatus = 2,
  kFilterPriority = 4,
  kFilterMetadata = 8,
  kFilterAllowedProjects = 16,  // AccessScope
  kAllTaskFilters = 31,
};

// The most unnumbered changes a change position reflects (ChangePosition's
// limit on its token).
inline constexpr int kMaxUnnumberedChanges = 4096;
// Most changes one SequenceChanges run numbers (the next run numbers the
// rest): a bound on one transaction's work, far above what commits between
// two runs.
inline constexpr int kMaxNumberedPerRun = 100000;

// Queries
//
// Every statement the store runs, as SQL text built once per dialect, with
// named parameters (see StatementParams). The text is also the key of each
// connection's prepared-statement cache, so the variants of one query (which
// columns an update sets, which filters a list has) are distinct strings
// made here, never per call: the fixed ones at construction, those of a
// column set (schema::ColumnSet of the table's columns) or of a list's
// filters and order on first use, kept for the life of the Queries; the same
// variant always yields the same text.
// Thread-safe.
class Queries {
 public:
  explicit Queries(const Dialect& dialect);

  std::string health;

  std::string insert_project;
  std::string get_project;

  std::string lock_project;  // inside a transaction
  std::string project_has_tasks;
  std::string delete_project;

  // The task of :request_id in :idempotency_scope, when it was created from
  // the draft whose fingerprints (RequestFingerprints) are
  // :request_fingerprint and :sent_fingerprint.
  std::string task_by_request_id;
  // The id of the task of :request_id in :idempotency_scope, whatever draft.
  std::string request_id_taken;

  // The statements on one task by :id; `restricted` adds the AccessScope's
  // condition on its project (see Dialect::AllowedIdsCondition).
  const std::string& GetTask(bool restricted) const;
  const std::string& TaskRevision(bool restricted) const;
  const std::string& DeleteTask(bool restricted) const;

  // INSERT the `columns` of schema::kTaskTable (see schema::InsertColumns;
  // the others take their default) ... ON CONFLICT (idempotency_scope,
  // request_id) DO NOTHING RETURNING the row.
  const std::string& InsertTask(schema::ColumnSet columns) const;

  // UPDATE ... SET the `columns` of schema::kTaskTable, revision + 1,
  // update_time; `check_revision` adds "AND revision = :revision",
  // `restricted` the AccessScope's condition on the task's current project.
  const std::string& UpdateTask(schema::ColumnSet columns, bool check_revision,
                                bool restricted) const;

  // UPDATE projects SET the `columns` of schema::kProjectTable,
  // update_time.
  const std::string& UpdateProject(schema::ColumnSet columns) const;

  // SELECT a page of projects with id > :after_id, only :allowed_ids when
  // `restricted`.
  const std::string& ListProjects(bool restricted) const;

  // SELECT a page of tasks: `filters` (TaskFilterBits), `order` (an index
  // into TaskOrders()), after the cursor when `after`.
  const std::string& ListTasks(int filters, int order, bool after) const;

  // The same with `filter_condition` (a filter's SQL, see
  // filter/filter_sql.h) as one more condition. Made per call: the text
  // depends only on the filter's shape, so one prepared statement serves
  // every filter of that shape.
  std::string ListTasks(int filters, int order, bool after,
                        absl::string_view filter_condition) const;

  // The change log (see task_changes.h).

  // "BEGIN" (deferred): a read transaction, so that its statements share
  // one snapshot (SQLite).
  std::string begin_read;
  // change_seq, change_reflected (kPosition): the change position of the
  // statement's snapshot. change_reflected lists at most
  // kMaxUnnumberedChanges + 1 ids, so a longer list shows as too long.
  std::string change_position;
  // Up to :limit changes with a seq above :after_number in seq order, as
  // kTaskChange rows with the horizon and the latest seq; one row of NULL
  // task columns when there is none.
  std::string read_changes;
  // PostgreSQL (empty elsewhere), one statement in a transaction of its
  // own: the numbering of every unnumbered change committed before it, in
  // change_id order, above every seq given out so far, under a lock held to
  // its commit; then, when it numbered any, the NOTIFY that WaitForChanges
  // hears. Yields the count.
  std::string sequence_changes;
  // The horizon raised to just below the first numbered change (in seq
  // order) from :now (epoch microseconds) on, or to the largest seq when
  // every change is older; then the changes up to it deleted.
  std::string raise_change_horizon;
  std::string delete_trimmed_changes;

  // ListTasks with change_seq and change_reflected of the same snapshot after
  // the task columns (RowKind::kTaskPage), and one row with NULL task columns
  // when the page is empty. For a backend that buffers results (one
  // statement per page; SQLite reads the position in the page's
  // transaction instead).
  const std::string& PositionedListTasks(int filters, int order,
                                         bool after) const;
  std::string PositionedListTasks(int filters, int order, bool after,
                                  absl::string_view filter_condition) const;

 private:
  // The statement cached under `key`, made by `build` on first use.
  template <typename Build>
  const std::string& Cached(uint64_t key, Build&& build) const;

  const Dialect& dialect_;
  std::string get_task_[2];
  std::string task_revision_[2];
  std::string delete_task_[2];
  std::string list_projects_[2];
  mutable absl::Mutex mu_;
  // Statements made on first use; node values: references stay valid.
  mutable absl::flat_hash_map<uint64_t, std::unique_ptr<const std::string>>
      by_columns_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_SQL_QUERIES_H_
