#ifndef TASKS_STORAGE_FILTER_FIELDS_H_
#define TASKS_STORAGE_FILTER_FIELDS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "storage/schema/column.h"
#include "tasks/v1/tasks.pb.h"

namespace tasks::storage::filter {

// What a field holds, which decides the literals and operators it takes.
enum class FieldKind {
  kInteger,     // id, project_id: integers; = != < <= > >=
  kEnum,        // status, priority: the enum's names, ordered by number
  kTime,        // RFC 3339 strings, compared as epoch microseconds
  kText,        // title: strings; = != < <= > >= and ":" (substring)
  kSearchText,  // description: ":" (substring) only
  kMetadata,    // metadata.<key>: see ParseFilter
};

// One name of an enum field's values.
struct EnumName {
  std::string name;
  int number;
};

// FieldSpec
//
// A task field a filter can name: how the parser reads its literals, which
// column the SQL compares, and (through the column) how the in-memory
// evaluator reads it from a Task. Made from the task table's description
// (storage/schema/task_table.h), so a new column is a filter field too.
struct FieldSpec {
  std::string name;
  FieldKind kind;
  std::string column;
  int column_index;  // in kTaskTable
  // A task without a value (no project, no due time) satisfies no
  // comparison but !=, on both backends and in memory.
  bool optional = false;
  // kEnum: the names of its values, UNSPECIFIED left out.
  std::vector<EnumName> enum_names;
};

// The value of `field` (not kMetadata) in `task`, as the column stores it:
// `number` for integers, enums and times, `text` for text; `null` when the
// task has none.
schema::ColumnValue FieldValue(const FieldSpec& field, const v1::Task& task);

// Every filterable field, in the task table's order.
const std::vector<FieldSpec>& Fields();

// The field named `name`; nullptr for none.
const FieldSpec* FindField(absl::string_view name);

}  // namespace tasks::storage::filter

#endif  // TASKS_STORAGE_FILTER_FIELDS_H_
