#ifndef TASKS_BENCH_RAW_TASK_ROW_H_
#define TASKS_BENCH_RAW_TASK_ROW_H_

#include <cstdint>
#include <optional>
#include <string>

namespace tasks::bench {

// A task row as the store reads it (the columns of raw_task_sql.h), so raw
// baselines copy the same bytes out of the database.
struct RawTaskRow {
  int64_t id = 0;
  int64_t project_id = 0;
  std::string title;
  std::string description;
  int status = 0;
  int priority = 0;
  std::string metadata;
  std::optional<int64_t> due_time;
  int64_t create_time = 0;
  int64_t update_time = 0;
  int64_t revision = 0;
};

}  // namespace tasks::bench

#endif  // TASKS_BENCH_RAW_TASK_ROW_H_
