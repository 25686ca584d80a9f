#ifndef TASKS_STORAGE_FILTER_MATCHES_H_
#define TASKS_STORAGE_FILTER_MATCHES_H_

#include "storage/filter/filter.h"
#include "tasks/v1/tasks.pb.h"

namespace tasks::storage::filter {

// Matches()
//
// Whether `task` passes `filter` (from ParseFilter), evaluated in memory
// with the semantics the store's SQL implements on both backends: strings
// compare bytewise, a metadata value compares only with a literal of its
// own JSON type (the number 1200 never equals the string "1200"), `:` on
// title or description is a case-sensitive substring test.
//
// Example:
//   if (Matches(*ParseFilter("priority >= HIGH"), task)) { ... }
bool Matches(const Node& filter, const v1::Task& task);

}  // namespace tasks::storage::filter

#endif  // TASKS_STORAGE_FILTER_MATCHES_H_
