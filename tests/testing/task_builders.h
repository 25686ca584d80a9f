#ifndef TASKS_TESTS_TESTING_TASK_BUILDERS_H_
#define TASKS_TESTS_TESTING_TASK_BUILDERS_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>

#include "absl/strings/string_view.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/struct.pb.h"
#include "tasks/v1/tasks.pb.h"

namespace tasks::testing {

// Builds a v1::Task to create or update, field by field:
//   v1::Task task = TaskBuilder("Write tests")
//                       .InProject(project.id())
//                       .WithPriority(v1::Task::HIGH)
//                       .WithMetadataJson(R"({"tags": ["a"]})");
class TaskBuilder {
 public:
  explicit TaskBuilder(absl::string_view title);

  TaskBuilder& WithId(int64_t id);
  TaskBuilder& InProject(int64_t project_id);
  TaskBuilder& WithDescription(absl::string_view description);
  TaskBuilder& WithStatus(v1::Task::Status status);
  TaskBuilder& WithPriority(v1::Task::Priority priority);
  TaskBuilder& WithEtag(absl::string_view etag);
  // `json` must be a JSON object; a parse error fails the current test.
  TaskBuilder& WithMetadataJson(absl::string_view json);

  const v1::Task& Build() const { return task_; }
  operator const v1::Task&() const { return task_; }  // NOLINT

 private:
  v1::Task task_;
};

// A project to create.
v1::Project ProjectNamed(absl::string_view name,
                         absl::string_view description = "");

// A field mask with `paths`.
google::protobuf::FieldMask MaskOf(
    std::initializer_list<absl::string_view> paths);

// google.protobuf.Struct / Value from JSON text; a parse error fails the
// current test and returns an empty message.
google::protobuf::Struct StructFromJson(absl::string_view json);
google::protobuf::Value ValueFromJson(absl::string_view json);

// Metadata {"<key>": [null, ...]} with `nulls` nulls: nulls + 1 values.
google::protobuf::Struct NullList(int nulls, absl::string_view key = "a");

// Metadata {"k": "xx..."}: exactly `bytes` bytes of JSON text as the store
// writes it (bytes >= 8).
google::protobuf::Struct JsonOfBytes(size_t bytes);

// A CreateTaskRequest for BatchCreateTasks.
v1::CreateTaskRequest CreateRequest(const v1::Task& task,
                                    absl::string_view request_id = "");

}  // namespace tasks::testing

#endif  // TASKS_TESTS_TESTING_TASK_BUILDERS_H_
