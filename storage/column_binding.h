#ifndef TASKS_STORAGE_COLUMN_BINDING_H_
#define TASKS_STORAGE_COLUMN_BINDING_H_

#include <vector>

#include "soci/soci-backend.h"
#include "storage/task_rows.h"

namespace tasks::storage {

// Where a statement's result column goes.
struct ColumnBinding {
  enum class Type { kInt64, kInt, kText };
  Type type;
  void* value;                 // long long, int or std::string, by `type`
  soci::indicator* indicator;  // nullptr when never NULL
};

// The columns of `row`, in kTaskColumns / kProjectColumns order.
std::vector<ColumnBinding> TaskColumnBindings(TaskRow& row);
std::vector<ColumnBinding> ProjectColumnBindings(ProjectRow& row);

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_COLUMN_BINDING_H_
