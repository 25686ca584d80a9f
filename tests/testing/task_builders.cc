#include "tests/testing/task_builders.h"

#include <string>

#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace tasks::testing {
namespace {

template <typename Message>
Message FromJson(absl::string_view json) {
  Message message;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &message);
  if (!status.ok()) {
    ADD_FAILURE() << "bad JSON in test: " << json << ": " << status.ToString();
  }
  return message;
}

}  // namespace

TaskBuilder::TaskBuilder(absl::string_view title) {
  task_.set_title(std::string(title));
}

TaskBuilder& TaskBuilder::WithId(int64_t id) {
  task_.set_id(id);
  return *this;
}

TaskBuilder& TaskBuilder::InProject(int64_t project_id) {
  task_.set_project_id(project_id);
  return *this;
}

TaskBuilder& TaskBuilder::WithDescription(absl::string_view description) {
  task_.set_description(std::string(description));
  return *this;
}

TaskBuilder& TaskBuilder::WithStatus(v1::Task::Status status) {
  task_.set_status(status);
  return *this;
}

TaskBuilder& TaskBuilder::WithPriority(v1::Task::Priority priority) {
  task_.set_priority(priority);
  return *this;
}

TaskBuilder& TaskBuilder::WithEtag(absl::string_view etag) {
  task_.set_etag(std::string(etag));
  return *this;
}

TaskBuilder& TaskBuilder::WithMetadataJson(absl::string_view json) {
  *task_.mutable_metadata() = StructFromJson(json);
  return *this;
}

v1::Project ProjectNamed(absl::string_view name,
                         absl::string_view description) {
  v1::Project project;
  project.set_name(std::string(name));
  project.set_description(std::string(description));
  return project;
}

google::protobuf::FieldMask MaskOf(
    std::initializer_list<absl::string_view> paths) {
  google::protobuf::FieldMask mask;
  for (absl::string_view path : paths) mask.add_paths(std::string(path));
  return mask;
}

google::protobuf::Struct StructFromJson(absl::string_view json) {
  return FromJson<google::protobuf::Struct>(json);
}

google::protobuf::Value ValueFromJson(absl::string_view json) {
  return FromJson<google::protobuf::Value>(json);
}

google::protobuf::Struct NullList(int nulls, absl::string_view key) {
  google::protobuf::Struct metadata;
  google::protobuf::ListValue* list =
      (*metadata.mutable_fields())[std::string(key)].mutable_list_value();
  for (int i = 0; i < nulls; ++i) {
    list->add_values()->set_null_value(google::protobuf::NULL_VALUE);
  }
  return metadata;
}

google::protobuf::Struct JsonOfBytes(size_t bytes) {
  google::protobuf::Struct metadata;
  (*metadata.mutable_fields())["k"].set_string_value(
      std::string(bytes - 8, 'x'));
  return metadata;
}

v1::CreateTaskRequest CreateRequest(const v1::Task& task,
                                    absl::string_view request_id) {
  v1::CreateTaskRequest request;
  *request.mutable_task() = task;
  request.set_request_id(std::string(request_id));
  return request;
}

}  // namespace tasks::testing
