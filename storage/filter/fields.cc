#include "storage/filter/fields.h"

#include "google/protobuf/timestamp.pb.h"

namespace tasks::storage::filter {
namespace {

int64_t Micros(const google::protobuf::Timestamp& time) {
  return time.seconds() * 1000000 + time.nanos() / 1000;
}

}  // namespace

const std::vector<FieldSpec>& Fields() {
  using Task = v1::Task;
  static const auto* const kFields = new std::vector<FieldSpec>{
      {"id",
       FieldKind::kInteger,
       "id",
       false,
       {},
       [](const Task& t) -> std::optional<int64_t> { return t.id(); }},
      {"project_id",
       FieldKind::kInteger,
       "project_id",
       true,
       {},
       [](const Task& t) -> std::optional<int64_t> {
         if (!t.has_project_id()) return std::nullopt;
         return t.project_id();
       }},
      {"title",
       FieldKind::kText,
       "title",
       false,
       {},
       nullptr,
       [](const Task& t) -> const std::string& { return t.title(); }},
      {"description",
       FieldKind::kSearchText,
       "description",
       false,
       {},
       nullptr,
       [](const Task& t) -> const std::string& { return t.description(); }},
      {"status",
       FieldKind::kEnum,
       "status",
       false,
       {{"PENDING", 1}, {"IN_PROGRESS", 2}, {"COMPLETED", 3}},
       [](const Task& t) -> std::optional<int64_t> { return t.status(); }},
      {"priority",
       FieldKind::kEnum,
       "priority",
       false,
       {{"LOW", 1}, {"MEDIUM", 2}, {"HIGH", 3}},
       [](const Task& t) -> std::optional<int64_t> { return t.priority(); }},
      {"create_time",
       FieldKind::kTime,
       "create_time",
       false,
       {},
       [](const Task& t) -> std::optional<int64_t> {
         return Micros(t.create_time());
       }},
      {"update_time",
       FieldKind::kTime,
       "update_time",
       false,
       {},
       [](const Task& t) -> std::optional<int64_t> {
         return Micros(t.update_time());
       }},
      {"metadata", FieldKind::kMetadata, "metadata"},
  };
  return *kFields;
}

const FieldSpec* FindField(absl::string_view name) {
  for (const FieldSpec& field : Fields()) {
    if (field.name == name) return &field;
  }
  return nullptr;
}

}  // namespace tasks::storage::filter
