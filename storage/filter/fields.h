#ifndef TASKS_STORAGE_FILTER_FIELDS_H_
#define TASKS_STORAGE_FILTER_FIELDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
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
  absl::string_view name;
  int number;
};

// FieldSpec
//
// A task field a filter can name: how the parser reads its literals, which
// column the SQL compares, and how the in-memory evaluator reads it from a
// Task. The one list of filterable fields is Fields(); a new Task field
// becomes filterable by one entry there.
struct FieldSpec {
  absl::string_view name;
  FieldKind kind;
  const char* column;
  // A task without a value (no project, no due time) satisfies no
  // comparison but !=, on both backends and in memory.
  bool optional = false;
  // kEnum: the names of its values.
  std::vector<EnumName> enum_names;
  // kInteger, kEnum, kTime: the value in `task`; nullopt when it has none.
  std::optional<int64_t> (*integer)(const v1::Task& task) = nullptr;
  // kText, kSearchText: the value in `task`.
  const std::string& (*text)(const v1::Task& task) = nullptr;
};

// Every filterable field, metadata last.
const std::vector<FieldSpec>& Fields();

// The field named `name`; nullptr for none.
const FieldSpec* FindField(absl::string_view name);

}  // namespace tasks::storage::filter

#endif  // TASKS_STORAGE_FILTER_FIELDS_H_
