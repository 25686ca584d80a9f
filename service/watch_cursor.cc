#include "service/watch_cursor.h"

#include <utility>

#include "storage/filter/matches.h"

namespace tasks::service {

WatchCursor::WatchCursor(storage::ChangePosition position,
                         storage::filter::Node filter,
                         storage::AccessScope scope)
    : position_(std::move(position)),
      filter_(std::move(filter)),
      scope_(std::move(scope)),
      projects_(VisibleProjects(filter_, scope_)) {}

std::optional<absl::flat_hash_set<int64_t>> WatchCursor::VisibleProjects(
    const storage::filter::Node& filter, const storage::AccessScope& scope) {
  std::optional<absl::flat_hash_set<int64_t>> projects =
      storage::filter::MatchableProjects(filter);
  if (!scope.allowed_project_ids.has_value()) return projects;
  absl::flat_hash_set<int64_t> allowed(scope.allowed_project_ids->begin(),
                                       scope.allowed_project_ids->end());
  if (!projects.has_value()) return allowed;
  absl::erase_if(*projects,
                 [&](int64_t project) { return !allowed.contains(project); });
  return projects;
}

bool WatchCursor::SkipUnseen(int64_t seq,
                             const absl::flat_hash_set<int64_t>& projects) {
  if (!projects_.has_value()) return false;
  const absl::flat_hash_set<int64_t>* smaller = &projects;
  const absl::flat_hash_set<int64_t>* larger = &*projects_;
  if (smaller->size() > larger->size()) std::swap(smaller, larger);
  for (int64_t project : *smaller) {
    if (larger->contains(project)) return false;
  }
  return position_.SkipTo(seq);
}

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
