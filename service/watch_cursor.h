#ifndef TASKS_SERVICE_WATCH_CURSOR_H_
#define TASKS_SERVICE_WATCH_CURSOR_H_

#include <optional>
#include <utility>

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
              storage::AccessScope scope)
      : position_(std::move(position)),
        filter_(std::move(filter)),
        scope_(std::move(scope)) {}

  // `change` must come after every change passed before (a larger seq); one
  // at or below position().seq() is ignored.
  std::optional<v1::TaskEvent> Next(const storage::TaskChange& change);

  const storage::ChangePosition& position() const { return position_; }

 private:
  storage::ChangePosition position_;
  const storage::filter::Node filter_;
  const storage::AccessScope scope_;
};

}  // namespace tasks::service

#endif  // TASKS_SERVICE_WATCH_CURSOR_H_
