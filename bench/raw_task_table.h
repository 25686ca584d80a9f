#ifndef TASKS_BENCH_RAW_TASK_TABLE_H_
#define TASKS_BENCH_RAW_TASK_TABLE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tasks::bench {

// RawTaskTable
//
// The database limit: the statements the store runs for its hot calls
// (insert a task with RETURNING, get one by id, list a page of a project,
// update one field), on the store's own schema, straight through the
// database's C API with statements prepared once per connection. Rows are
// read into plain strings and integers, as the store reads them, but never
// turned into protos. Each write is its own single-row commit. One
// connection per object; not thread-safe.
class RawTaskTable {
 public:
  virtual ~RawTaskTable() = default;

  // Inserts a project; returns its id.
  virtual absl::StatusOr<int64_t> InsertProject(absl::string_view name) = 0;

  // Inserts a task like bench::DraftTask (same description, priority and
  // metadata) and reads the returned row; returns its id.
  virtual absl::StatusOr<int64_t> InsertTask(int64_t project_id,
                                             absl::string_view title) = 0;

  // Reads task `id`; NOT_FOUND when there is none.
  virtual absl::Status GetTask(int64_t id) = 0;

  // Reads the first `limit` tasks of the project in id order; returns how
  // many there were.
  virtual absl::StatusOr<int> ListTasks(int64_t project_id, int limit) = 0;

  // Sets the description of task `id`, bumps its revision and update time
  // and reads the returned row.
  virtual absl::Status UpdateTask(int64_t id,
                                  absl::string_view description) = 0;

  // Runs a statement without results ("BEGIN", "COMMIT").
  virtual absl::Status Execute(const char* sql) = 0;
};

// A connection to the SQLite database `path` with the store's settings
// (WAL and synchronous=FULL for a file, foreign keys on, a busy timeout).
// When `schema_from` is set, that database file (an empty store schema) is
// copied in first: the only way to give ":memory:" the store's schema.
absl::StatusOr<std::unique_ptr<RawTaskTable>> OpenRawSqlite(
    const std::string& path, const std::string& schema_from = "");

// A libpq connection to `conninfo` (URL or keyword string), whose database
// already has the store's schema.
absl::StatusOr<std::unique_ptr<RawTaskTable>> OpenRawPostgres(
    const std::string& conninfo);

}  // namespace tasks::bench

#endif  // TASKS_BENCH_RAW_TASK_TABLE_H_
