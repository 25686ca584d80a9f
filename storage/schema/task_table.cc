#include "storage/schema/task_table.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "common/struct_json.h"
#include "storage/schema/task_rows.h"

namespace tasks::storage::schema {
namespace internal {

bool HasMetadata(const google::protobuf::Message& task) {
  return static_cast<const v1::Task&>(task).has_metadata();
}

absl::Status ReadMetadata(const Row& row, int column,
                          google::protobuf::Message& task) {
  const std::string& json = row[column].text;
  // The common case skips the JSON parser. The parser is our own: protobuf's
  // JsonStringToMessage took most of a ListTasks page's time.
  if (json == "{}") return absl::OkStatus();
  absl::Status parsed =
      JsonToStruct(json, static_cast<v1::Task&>(task).mutable_metadata(),
                   NegativeZero::kPlain);
  if (!parsed.ok()) {
    return WithReason(
        absl::InternalError(absl::StrCat("task ", row[kTaskId].number,
                                         ": stored metadata is not a JSON "
                                         "object: ",
                                         parsed.ToString())),
        reason::kInternal);
  }
  return absl::OkStatus();
}

absl::Status WriteMetadata(const google::protobuf::Message& task,
                           absl::string_view field, ColumnValue& value) {
  absl::StatusOr<std::string> json =
      StructToJson(static_cast<const v1::Task&>(task).metadata(), field);
  if (!json.ok()) return json.status();
  value.text = *std::move(json);
  value.null = false;
  return absl::OkStatus();
}

bool HasEtag(const google::protobuf::Message& task) {
  return !static_cast<const v1::Task&>(task).etag().empty();
}

absl::Status ReadEtag(const Row& row, int column,
                      google::protobuf::Message& task) {
  static_cast<v1::Task&>(task).set_etag(FormatEtag(row[column].number));
  return absl::OkStatus();
}

}  // namespace internal

absl::StatusOr<v1::Task> TaskFromRow(const Row& row) {
  v1::Task task;
  absl::Status read = ReadRow(kTaskTable, row, task);
  if (!read.ok()) return read;
  return task;
}

v1::Project ProjectFromRow(const Row& row) {
  v1::Project project;
  // No project column can fail to read.
  (void)ReadRow(kProjectTable, row, project);
  return project;
}

namespace {

// The paths of `table` (updatable or output-only), made once.
template <const Table& table, bool updatable>
const std::vector<absl::string_view>& PathsOnce() {
  static const auto* const kPaths = new std::vector<absl::string_view>(
      updatable ? UpdatablePaths(table) : OutputOnlyPaths(table));
  return *kPaths;
}

}  // namespace

const std::vector<absl::string_view>& TaskUpdatablePaths() {
  return PathsOnce<kTaskTable, true>();
}

const std::vector<absl::string_view>& TaskOutputOnlyPaths() {
  return PathsOnce<kTaskTable, false>();
}

const std::vector<absl::string_view>& ProjectUpdatablePaths() {
  return PathsOnce<kProjectTable, true>();
}

const std::vector<absl::string_view>& ProjectOutputOnlyPaths() {
  return PathsOnce<kProjectTable, false>();
}

}  // namespace tasks::storage::schema
