#ifndef TASKS_BENCH_RAW_TASK_SQL_H_
#define TASKS_BENCH_RAW_TASK_SQL_H_

// The store's hot statements, written once for both backends: `$N`
// parameters are positional on PostgreSQL and named (numbered in order of
// first appearance) on SQLite.
namespace tasks::bench::sql {

// The store's task columns, in its order (due_time is NULL in the bench).
#define TASKS_BENCH_TASK_COLUMNS                                     \
  "id, project_id, title, description, status, priority, metadata, " \
  "due_time, create_time, update_time, revision"

inline constexpr char kInsertProject[] =
    "INSERT INTO projects (name, description, create_time, update_time) "
    "VALUES ($1, '', $2, $2) RETURNING id";

// $1 project_id, $2 title, $3 description, $4 priority, $5 metadata,
// $6 request_id (NULL here), $7 create_time = update_time. Status is left to
// the column default, as the store does when the request leaves it unset;
// without a request_id the store writes the shared scope and no fingerprint.
inline constexpr char kInsertTask[] =
    "INSERT INTO tasks (project_id, title, description, priority, metadata, "
    "request_id, idempotency_scope, request_fingerprint, create_time, "
    "update_time) "
    "VALUES ($1, $2, $3, $4, $5, $6, '', NULL, $7, $7) "
    "ON CONFLICT (idempotency_scope, request_id) DO NOTHING "
    "RETURNING " TASKS_BENCH_TASK_COLUMNS;

inline constexpr char kGetTask[] =
    "SELECT " TASKS_BENCH_TASK_COLUMNS " FROM tasks WHERE id = $1";

inline constexpr char kListTasks[] =
    "SELECT " TASKS_BENCH_TASK_COLUMNS
    " FROM tasks WHERE project_id = $1 ORDER BY id LIMIT $2";

// $1 description, $2 update_time, $3 id.
inline constexpr char kUpdateTask[] =
    "UPDATE tasks SET description = $1, revision = revision + 1, "
    "update_time = $2 WHERE id = $3 RETURNING " TASKS_BENCH_TASK_COLUMNS;

#undef TASKS_BENCH_TASK_COLUMNS

// What bench::DraftTask sets, as stored.
inline constexpr char kDraftDescription[] =
    "Benchmark task: a short description of about sixty characters.";
inline constexpr int kDraftPriority = 3;  // HIGH
inline constexpr char kDraftMetadata[] = R"({"owner":"bench","points":3})";

}  // namespace tasks::bench::sql

#endif  // TASKS_BENCH_RAW_TASK_SQL_H_
