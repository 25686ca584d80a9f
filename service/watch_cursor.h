#ifndef TASKS_SERVICE_WATCH_CURSOR_H_
#define TASKS_SERVICE_WATCH_CURSOR_H_

#include <cstdint>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "storage/filter/filter.h"
#include "storage/task_changes.h"
#include "storage/task_store.h"
#include "tasks/v1/tasks.pb.h"

namespace tasks::service {

// WatchCursor
//
// One WatchTasks stream's place in the change history, and what it may see:
// each change, passed in seq order, moves the position past it and becomes
// the event to send, or nothing when the position reflects the change
// already, the task (as it is after the change; for a delete, as it was) is
// outside the caller's scope, or the filter does not match it. Skipped
// changes still move the position, so the next event's resume_token is past
// them too. Not thread-safe.
//
// Example:
//   WatchCursor cursor(*ChangePosition::Decode(token), *ParseFilter(text),
//                      AccessScope::Projects({1}));
//   for (const TaskChange& change : *store.ReadChanges(cursor.position(), 64))
//     if (std::optional<v1::TaskEvent> event = cursor.Next(change))
//     Send(*event);
class WatchCursor {
 public:
  WatchCursor(storage::ChangePosition position, storage::filter::Node filter,
              storage::AccessScope scope);

  // `change` must come after every change passed before (a larger seq); one
  // at or below position().seq() is ignored.
  std::optional<v1::TaskEvent> Next(const storage::TaskChange& change);

  // Moves past every change up to `seq` when none of them can be an event:
  // each is a task of one of `projects`, none of which the scope and the
  // filter let through. False, without moving, when that cannot be told (or
  // SkipTo cannot skip); pass the changes to Next then.
  bool SkipUnseen(int64_t seq, const absl::flat_hash_set<int64_t>& projects);

  const storage::ChangePosition& position() const { return position_; }

  // The only projects whose tasks `scope` and `filter` let through; unset:
  // any project (or none, which cannot be told).
  static std::optional<absl::flat_hash_set<int64_t>> VisibleProjects(
      const storage::filter::Node& filter, const storage::AccessScope& scope);

 private:
  storage::ChangePosition position_;
  const storage::filter::Node filter_;
  const storage::AccessScope scope_;
  // The only projects whose tasks the scope and the filter let through;
  // unset: any project, or none.
  std::optional<absl::flat_hash_set<int64_t>> projects_;
};

}  // namespace tasks::service

#endif  // TASKS_SERVICE_WATCH_CURSOR_H_
