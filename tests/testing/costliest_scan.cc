#include "tests/testing/costliest_scan.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tasks::testing {

std::string CostliestDescription() { return std::string(10000, 'a'); }

std::string CostliestFilter() {
  const std::string needle = absl::StrCat(std::string(40, 'a'), "b");
  std::vector<std::string> terms(32,
                                 absl::StrCat("description:\"", needle, "\""));
  return absl::StrJoin(terms, " OR ");
}

v1::BatchCreateTasksRequest CostliestTasks(int64_t project_id, int first,
                                           int count) {
  v1::BatchCreateTasksRequest batch;
  const std::string description = CostliestDescription();
  for (int i = first; i < first + count; ++i) {
    v1::Task* task = batch.add_requests()->mutable_task();
    task->set_title(absl::StrCat("scan ", i));
    task->set_description(description);
    if (project_id != 0) task->set_project_id(project_id);
  }
  return batch;
}

}  // namespace tasks::testing
