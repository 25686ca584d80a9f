#include "storage/schema/task_rows.h"

#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/error_reason.h"
#include "common/struct_json.h"

namespace tasks::storage {
namespace {

absl::StatusOr<std::string> CheckedJson(const absl::Status& written,
                                        std::string json,
                                        absl::string_view field) {
  if (!written.ok()) {
    return InvalidField(
        field, absl::StrCat("cannot be written as JSON: ", written.message()));
  }
  return json;
}

}  // namespace

size_t StoredBytes(const TaskRow& row) {
  return row.title.size() + row.description.size() + row.metadata.size();
}

size_t StoredBytes(const ProjectRow& row) {
  return row.name.size() + row.description.size();
}

absl::StatusOr<v1::Task> TaskFromRow(const TaskRow& row) {
  v1::Task task;
  task.set_id(row.id);
  if (row.project_id_indicator == soci::i_ok) {
    task.set_project_id(row.project_id);
  }
  task.set_title(row.title);
  task.set_description(row.description);
  task.set_status(static_cast<v1::Task::Status>(row.status));
  task.set_priority(static_cast<v1::Task::Priority>(row.priority));
  // The common case skips the JSON parser. The parser is our own: protobuf's
  // JsonStringToMessage took most of a ListTasks page's time.
  if (row.metadata != "{}") {
    absl::Status parsed = JsonToStruct(row.metadata, task.mutable_metadata());
    if (!parsed.ok()) {
      return WithReason(
          absl::InternalError(absl::StrCat("task ", row.id,
                                           ": stored metadata is not a JSON "
                                           "object: ",
                                           parsed.ToString())),
          reason::kInternal);
    }
  }
  SetTimestampFromMicros(row.create_time, task.mutable_create_time());
  SetTimestampFromMicros(row.update_time, task.mutable_update_time());
  task.set_etag(FormatEtag(row.revision));
  return task;
}

v1::Project ProjectFromRow(const ProjectRow& row) {
  v1::Project project;
  project.set_id(row.id);
  project.set_name(row.name);
  project.set_description(row.description);
  SetTimestampFromMicros(row.create_time, project.mutable_create_time());
  SetTimestampFromMicros(row.update_time, project.mutable_update_time());
  return project;
}

std::string FormatEtag(long long revision) {
  return absl::StrCat("\"", revision, "\"");
}

std::optional<long long> ParseEtag(absl::string_view etag) {
  if (etag.size() < 3 || etag.front() != '"' || etag.back() != '"') {
    return std::nullopt;
  }
  absl::string_view digits = etag.substr(1, etag.size() - 2);
  for (char c : digits) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return std::nullopt;
    }
  }
  int64_t revision = 0;
  if (!absl::SimpleAtoi(digits, &revision)) return std::nullopt;
  return revision;
}

absl::StatusOr<std::string> StructToJson(
    const google::protobuf::Struct& metadata, absl::string_view field) {
  std::string json;
  absl::Status written = AppendStructJson(metadata, &json);
  return CheckedJson(written, std::move(json), field);
}

absl::StatusOr<std::string> ValueToJson(const google::protobuf::Value& value,
                                        absl::string_view field) {
  std::string json;
  absl::Status written = AppendValueJson(value, &json);
  return CheckedJson(written, std::move(json), field);
}

long long NowMicros() { return absl::ToUnixMicros(absl::Now()); }

void SetTimestampFromMicros(long long micros,
                            google::protobuf::Timestamp* timestamp) {
  long long seconds = micros / 1000000;
  long long rest = micros % 1000000;
  if (rest < 0) {
    rest += 1000000;
    --seconds;
  }
  timestamp->set_seconds(seconds);
  timestamp->set_nanos(static_cast<int32_t>(rest * 1000));
}

}  // namespace tasks::storage
