#include "service/watch_cursor.h"

#include "storage/filter/matches.h"

namespace tasks::service {

std::optional<v1::TaskEvent> WatchCursor::Next(
    const storage::TaskChange& change) {
  if (!position_.Advance(change)) return std::nullopt;
  const v1::Task& task = change.task;
  const std::optional<int64_t> project =
      task.has_project_id() ? std::optional<int64_t>(task.project_id())
                            : std::nullopt;
  if (!scope_.Allows(project) || !storage::filter::Matches(filter_, task)) {
    return std::nullopt;
  }
  v1::TaskEvent event;
  event.set_type(change.type);
  *event.mutable_task() = task;
  event.set_resume_token(position_.Encode());
  return event;
}

}  // namespace tasks::service
