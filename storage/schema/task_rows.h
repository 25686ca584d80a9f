#ifndef TASKS_STORAGE_SCHEMA_TASK_ROWS_H_
#define TASKS_STORAGE_SCHEMA_TASK_ROWS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "soci/soci-backend.h"
#include "tasks/v1/tasks.pb.h"

namespace tasks::storage {

// The columns of a task row, in the order TaskRow receives them.
inline constexpr char kTaskColumns[] =
    "id, project_id, title, description, status, priority, metadata, "
    "create_time, update_time, revision";

// One row of `tasks` as SOCI reads it (kTaskColumns).
struct TaskRow {
  long long id = 0;
  long long project_id = 0;
  soci::indicator project_id_indicator = soci::i_null;
  std::string title;
  std::string description;
  int status = 0;
  int priority = 0;
  std::string metadata;       // JSON text of an object
  long long create_time = 0;  // epoch microseconds, UTC
  long long update_time = 0;
  long long revision = 0;
};

// The columns of a project row, in the order ProjectRow receives them.
inline constexpr char kProjectColumns[] =
    "id, name, description, create_time, update_time";

// One row of `projects` (kProjectColumns).
struct ProjectRow {
  long long id = 0;
  std::string name;
  std::string description;
  long long create_time = 0;
  long long update_time = 0;
};

// A row's stored bytes for the list page budget (kListPageByteBudget): its
// text columns as read, before any parsing.
size_t StoredBytes(const TaskRow& row);
size_t StoredBytes(const ProjectRow& row);

// The task in `row`. INTERNAL when its metadata is not a JSON object.
absl::StatusOr<v1::Task> TaskFromRow(const TaskRow& row);

v1::Project ProjectFromRow(const ProjectRow& row);

// The etag of a task at `revision`: a quoted decimal, e.g. "\"3\"".
std::string FormatEtag(long long revision);

// The revision in an etag made by FormatEtag; nullopt when malformed.
std::optional<long long> ParseEtag(absl::string_view etag);

// Compact JSON text of metadata for the database ("{}" when empty), object
// keys sorted. INVALID_ARGUMENT naming `field` when it cannot be written as
// JSON.
absl::StatusOr<std::string> StructToJson(
    const google::protobuf::Struct& metadata, absl::string_view field);

// Compact JSON text of a single value, as StructToJson writes values.
absl::StatusOr<std::string> ValueToJson(const google::protobuf::Value& value,
                                        absl::string_view field);

// The current time in epoch microseconds (the store's clock).
long long NowMicros();

// Sets `timestamp` to `micros` (epoch microseconds) in place.
void SetTimestampFromMicros(long long micros,
                            google::protobuf::Timestamp* timestamp);

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_SCHEMA_TASK_ROWS_H_
