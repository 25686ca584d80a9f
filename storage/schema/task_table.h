#ifndef TASKS_STORAGE_SCHEMA_TASK_TABLE_H_
#define TASKS_STORAGE_SCHEMA_TASK_TABLE_H_

#include <iterator>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "storage/schema/column.h"
#include "tasks/v1/tasks.pb.h"

namespace tasks::storage::schema {

// The task and project tables
//
// The one description of `tasks` and `projects` (see column.h): SQL column
// lists, row buffers, libpq column numbers, statement parameters, update-mask
// paths and output-only fields all come from these arrays. A new column is
// one entry here (and its migration); code that names a column takes its
// index from ColumnIndex, never from a number of its own.

namespace internal {

// metadata: a google.protobuf.Struct stored as JSON text ("{}" when empty).
bool HasMetadata(const google::protobuf::Message& task);
absl::Status ReadMetadata(const Row& row, int column,
                          google::protobuf::Message& task);
absl::Status WriteMetadata(const google::protobuf::Message& task,
                           absl::string_view field, ColumnValue& value);

// revision: the task's etag (FormatEtag), output only.
bool HasEtag(const google::protobuf::Message& task);
absl::Status ReadEtag(const Row& row, int column,
                      google::protobuf::Message& task);

}  // namespace internal

inline constexpr Column kTaskColumns[] = {
    {"id", "id", ValueKind::kInt64, 0, kOutputOnly,
     Int64Field<&v1::Task::id, &v1::Task::set_id>()},
    {"project_id", "project_id", ValueKind::kInt64, kNullable, kWritable,
     OptionalInt64Field<&v1::Task::has_project_id, &v1::Task::project_id,
                        &v1::Task::set_project_id>()},
    {"title", "title", ValueKind::kText, kEmptyIsNull, kWritable,
     TextField<&v1::Task::title, &v1::Task::mutable_title>()},
    {"description", "description", ValueKind::kText, 0, kWritable,
     TextField<&v1::Task::description, &v1::Task::mutable_description>()},
    {"status", "status", ValueKind::kInt, kDefaultWhenUnset, kWritable,
     EnumField<&v1::Task::status, &v1::Task::set_status>()},
    {"priority", "priority", ValueKind::kInt, kDefaultWhenUnset, kWritable,
     EnumField<&v1::Task::priority, &v1::Task::set_priority>()},
    {"metadata",
     "metadata",
     ValueKind::kText,
     kJson,
     kWritable,
     {&internal::HasMetadata, &internal::ReadMetadata,
      &internal::WriteMetadata}},
    {"due_time", "due_time", ValueKind::kMicros, kNullable, kWritable,
     TimestampField<&v1::Task::has_due_time, &v1::Task::due_time,
                    &v1::Task::mutable_due_time>()},
    {"create_time", "create_time", ValueKind::kMicros, 0, kOutputOnly,
     TimestampField<&v1::Task::has_create_time, &v1::Task::create_time,
                    &v1::Task::mutable_create_time>()},
    {"update_time", "update_time", ValueKind::kMicros, 0, kOutputOnly,
     TimestampField<&v1::Task::has_update_time, &v1::Task::update_time,
                    &v1::Task::mutable_update_time>()},
    {"revision",
     "etag",
     ValueKind::kInt64,
     0,
     kOutputOnly,
     {&internal::HasEtag, &internal::ReadEtag, nullptr}},
};
inline constexpr Table kTaskTable = {"tasks", kTaskColumns,
                                     static_cast<int>(std::size(kTaskColumns))};

inline constexpr Column kProjectColumns[] = {
    {"id", "id", ValueKind::kInt64, 0, kOutputOnly,
     Int64Field<&v1::Project::id, &v1::Project::set_id>()},
    {"name", "name", ValueKind::kText, kEmptyIsNull, kWritable,
     TextField<&v1::Project::name, &v1::Project::mutable_name>()},
    {"description", "description", ValueKind::kText, 0, kWritable,
     TextField<&v1::Project::description, &v1::Project::mutable_description>()},
    {"create_time", "create_time", ValueKind::kMicros, 0, kOutputOnly,
     TimestampField<&v1::Project::has_create_time, &v1::Project::create_time,
                    &v1::Project::mutable_create_time>()},
    {"update_time", "update_time", ValueKind::kMicros, 0, kOutputOnly,
     TimestampField<&v1::Project::has_update_time, &v1::Project::update_time,
                    &v1::Project::mutable_update_time>()},
};
inline constexpr Table kProjectTable = {
    "projects", kProjectColumns, static_cast<int>(std::size(kProjectColumns))};

static_assert(std::size(kTaskColumns) <= kMaxColumns);
static_assert(std::size(kProjectColumns) <= kMaxColumns);

// The columns the store's code names (list filters, checks, messages).
inline constexpr int kTaskId = ColumnIndex(kTaskColumns, "id");
inline constexpr int kTaskProjectId = ColumnIndex(kTaskColumns, "project_id");
inline constexpr int kTaskTitle = ColumnIndex(kTaskColumns, "title");
inline constexpr int kTaskStatus = ColumnIndex(kTaskColumns, "status");
inline constexpr int kTaskPriority = ColumnIndex(kTaskColumns, "priority");
inline constexpr int kTaskMetadata = ColumnIndex(kTaskColumns, "metadata");
static_assert(kTaskId >= 0 && kTaskProjectId >= 0 && kTaskTitle >= 0 &&
              kTaskStatus >= 0 && kTaskPriority >= 0 && kTaskMetadata >= 0);

// The task in `row` (kTaskTable's columns). INTERNAL when its metadata is
// not a JSON object.
absl::StatusOr<v1::Task> TaskFromRow(const Row& row);

// The project in `row` (kProjectTable's columns).
v1::Project ProjectFromRow(const Row& row);

// The paths an update mask may name, and the output-only fields it may not,
// in table order: {"project_id", "title", "description", "status",
// "priority", "metadata", "due_time"} and {"id", "create_time", "update_time",
// "etag"} for a task, {"name", "description"} and {"id", "create_time",
// "update_time"} for a project.
const std::vector<absl::string_view>& TaskUpdatablePaths();
const std::vector<absl::string_view>& TaskOutputOnlyPaths();
const std::vector<absl::string_view>& ProjectUpdatablePaths();
const std::vector<absl::string_view>& ProjectOutputOnlyPaths();

}  // namespace tasks::storage::schema

#endif  // TASKS_STORAGE_SCHEMA_TASK_TABLE_H_
