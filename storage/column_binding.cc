#include "storage/column_binding.h"

namespace tasks::storage {

std::vector<ColumnBinding> TaskColumnBindings(TaskRow& row) {
  using Type = ColumnBinding::Type;
  return {{Type::kInt64, &row.id, nullptr},
          {Type::kInt64, &row.project_id, &row.project_id_indicator},
          {Type::kText, &row.title, nullptr},
          {Type::kText, &row.description, nullptr},
          {Type::kInt, &row.status, nullptr},
          {Type::kInt, &row.priority, nullptr},
          {Type::kText, &row.metadata, nullptr},
          {Type::kInt64, &row.create_time, nullptr},
          {Type::kInt64, &row.update_time, nullptr},
          {Type::kInt64, &row.revision, nullptr}};
}

std::vector<ColumnBinding> ProjectColumnBindings(ProjectRow& row) {
  using Type = ColumnBinding::Type;
  return {{Type::kInt64, &row.id, nullptr},
          {Type::kText, &row.name, nullptr},
          {Type::kText, &row.description, nullptr},
          {Type::kInt64, &row.create_time, nullptr},
          {Type::kInt64, &row.update_time, nullptr}};
}

}  // namespace tasks::storage
