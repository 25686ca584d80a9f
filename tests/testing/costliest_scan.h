#ifndef TASKS_TESTS_TESTING_COSTLIEST_SCAN_H_
#define TASKS_TESTS_TESTING_COSTLIEST_SCAN_H_

// The costliest ListTasks the API's caps allow per row: 32 substring terms
// that nearly match at every place of the longest descriptions (a naive
// search compares the whole needle there), for the tests of what stops
// such a scan.

#include <cstdint>
#include <string>

#include "tasks/v1/tasks.pb.h"

namespace tasks::testing {

// 10,000 "a"s: the longest description.
std::string CostliestDescription();

// 32 ORed `description:"aa...ab"` terms (within the 2,048-byte cap): none
// matches CostliestDescription().
std::string CostliestFilter();

// A BatchCreateTasks request for `count` tasks titled "scan <first>"... in
// `project_id` (0: none), each with CostliestDescription().
v1::BatchCreateTasksRequest CostliestTasks(int64_t project_id, int first,
                                           int count);

}  // namespace tasks::testing

#endif  // TASKS_TESTS_TESTING_COSTLIEST_SCAN_H_
