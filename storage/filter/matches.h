#ifndef TASKS_STORAGE_FILTER_MATCHES_H_
#define TASKS_STORAGE_FILTER_MATCHES_H_

#include <cstdint>
#include <optional>

#include "absl/container/flat_hash_set.h"
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

// MatchableProjects()
//
// The projects outside which `filter` matches no task, read from its
// `project_id = N` terms (joined by AND and OR); nullopt when it may match a
// task of any project, or of none. Lets a caller skip evaluating the filter
// on tasks of other projects.
//
// Example:
//   MatchableProjects(*ParseFilter("project_id = 3 AND status = PENDING"))
//   // {3}
std::optional<absl::flat_hash_set<int64_t>> MatchableProjects(
    const Node& filter);

}  // namespace tasks::storage::filter

#endif  // TASKS_STORAGE_FILTER_MATCHES_H_
