#ifndef TASKS_STORAGE_SCHEMA_TASK_INDEXES_H_
#define TASKS_STORAGE_SCHEMA_TASK_INDEXES_H_

// The task indexes of schema version 1: the same SQL on SQLite and
// PostgreSQL, so both dialects' migrations list these.

namespace tasks::storage {

// One index per list order, each ending in id for the keyset tie-break. The
// (project_id, id) index also serves the cascade delete of a project; the
// unique (project_id, title) constraint serves title order within a project.
inline constexpr char kIndexTasksProject[] =
    "CREATE INDEX tasks_project_idx ON tasks (project_id, id)";
inline constexpr char kIndexTasksCreateTime[] =
    "CREATE INDEX tasks_create_time_idx ON tasks (create_time, id)";
inline constexpr char kIndexTasksPriority[] =
    "CREATE INDEX tasks_priority_idx ON tasks (priority, id)";
inline constexpr char kIndexTasksTitle[] =
    "CREATE INDEX tasks_title_idx ON tasks (title, id)";

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_SCHEMA_TASK_INDEXES_H_
