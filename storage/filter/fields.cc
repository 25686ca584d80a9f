#include "storage/filter/fields.h"

#include "google/protobuf/descriptor.h"
#include "storage/schema/task_table.h"

namespace tasks::storage::filter {
namespace {

using schema::kTaskTable;

// What a filter does with a column where the column's kind does not say it.
struct Exception {
  absl::string_view column;
  bool filterable;
  FieldKind kind;
};
constexpr Exception kExceptions[] = {
    // Free text: searched, never compared whole.
    {"description", true, FieldKind::kSearchText},
    // The etag's revision: opaque to clients.
    {"revision", false, FieldKind::kInteger},
};

FieldKind KindOf(const schema::Column& column) {
  if (column.has(schema::kJson)) return FieldKind::kMetadata;
  switch (column.kind) {
    case schema::ValueKind::kInt64:
      return FieldKind::kInteger;
    case schema::ValueKind::kInt:
      return FieldKind::kEnum;
    case schema::ValueKind::kMicros:
      return FieldKind::kTime;
    case schema::ValueKind::kText:
      break;
  }
  return FieldKind::kText;
}

// The names of the enum field `path` of Task, UNSPECIFIED (0) left out.
std::vector<EnumName> EnumNames(absl::string_view path) {
  std::vector<EnumName> names;
  const google::protobuf::FieldDescriptor* field =
      v1::Task::descriptor()->FindFieldByName(std::string(path));
  if (field == nullptr || field->enum_type() == nullptr) return names;
  const google::protobuf::EnumDescriptor* type = field->enum_type();
  for (int i = 0; i < type->value_count(); ++i) {
    if (type->value(i)->number() == 0) continue;
    names.push_back({type->value(i)->name(), type->value(i)->number()});
  }
  return names;
}

std::vector<FieldSpec> MakeFields() {
  std::vector<FieldSpec> fields;
  for (int i = 0; i < kTaskTable.size; ++i) {
    const schema::Column& column = kTaskTable[i];
    FieldSpec field;
    field.name = column.path;
    field.column = column.name;
    field.column_index = i;
    field.kind = KindOf(column);
    field.optional = column.has(schema::kNullable);
    bool filterable = true;
    for (const Exception& exception : kExceptions) {
      if (exception.column != column.name) continue;
      filterable = exception.filterable;
      field.kind = exception.kind;
    }
    if (!filterable) continue;
    if (field.kind == FieldKind::kEnum)
      field.enum_names = EnumNames(field.name);
    fields.push_back(std::move(field));
  }
  return fields;
}

}  // namespace

const std::vector<FieldSpec>& Fields() {
  static const auto* const kFields = new std::vector<FieldSpec>(MakeFields());
  return *kFields;
}

const FieldSpec* FindField(absl::string_view name) {
  for (const FieldSpec& field : Fields()) {
    if (field.name == name) return &field;
  }
  return nullptr;
}

schema::ColumnValue FieldValue(const FieldSpec& field, const v1::Task& task) {
  schema::ColumnValue value;
  // Only metadata's write can fail, and it is not read this way.
  (void)schema::WriteColumn(kTaskTable, field.column_index, task, field.name,
                            value);
  return value;
}

}  // namespace tasks::storage::filter
