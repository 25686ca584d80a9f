#ifndef TASKS_STORAGE_TASK_CHANGES_H_
#define TASKS_STORAGE_TASK_CHANGES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tasks/v1/tasks.pb.h"

namespace tasks::storage {

// The change log
//
// Every committed insert, update and delete of a task row (batch creates and
// a project's cascade included) is recorded by the database itself (triggers
// on `tasks`, see storage/schema/*/0005_task_changes.sql) in the same
// transaction, as a row of `task_changes` holding the task as it is after
// the change (before it, for a delete).
//
// Readers need the changes in commit order, and on PostgreSQL neither ids
// nor sequence values are in commit order (a transaction that took id 7 may
// commit after the one that took id 8). So each change also gets a `seq`:
// on SQLite the trigger sets it (writers take turns, so insert order is
// commit order); on PostgreSQL the trigger leaves it NULL and
// TaskStore::SequenceChanges numbers the changes committed so far, one
// replica at a time (under an advisory lock), each run's numbers above every
// earlier run's. A reader sees only numbered changes, so it never sees seq 9
// before a seq 8 that commits later.
//
// A position in that history is a ChangePosition: "every change up to seq,
// plus these not yet numbered ones". The second part is needed on
// PostgreSQL only, where a ListTasks page may reflect changes committed but
// not yet numbered; each gets a seq above `seq` later and must then be
// skipped, not reported again.

// One committed change, as WatchTasks reports it.
struct TaskChange {
  // The order readers see changes in (see above).
  int64_t seq = 0;
  // The change's own id (not in commit order on PostgreSQL).
  int64_t change_id = 0;
  v1::TaskEvent::Type type = v1::TaskEvent::TYPE_UNSPECIFIED;
  // After the change; for DELETED, as it was deleted.
  v1::Task task;
};

// ChangePosition
//
// A point in the change history, and its opaque token form (the
// resume_token of ListTasksResponse and TaskEvent). Not thread-safe.
//
// Example:
//   absl::StatusOr<ChangePosition> position = ChangePosition::Decode(token);
//   for (const TaskChange& change : page) {
//     if (!position->Advance(change)) continue;  // Reflected already.
//     event.set_resume_token(position->Encode());
//   }
class ChangePosition {
 public:
  // Before every change (an empty database's present).
  ChangePosition() = default;
  ChangePosition(int64_t seq, absl::flat_hash_set<int64_t> reflected_ids)
      : seq_(seq), reflected_ids_(std::move(reflected_ids)) {}

  // INVALID_ARGUMENT (field "resume_token", reason INVALID_RESUME_TOKEN) for
  // anything Encode() did not make, byte for byte: one position has one
  // token, so an edited one ("c1.05" for "c1.5") is refused, not read.
  static absl::StatusOr<ChangePosition> Decode(absl::string_view token);
  std::string Encode() const;

  // INVALID_ARGUMENT (as Decode) when this position is beyond `latest_seq`,
  // the largest seq the database gave out: no token of this database can
  // be (a forged one, or one of a database since recreated or restored from
  // a backup), and a stream resumed there would skip every change up to it
  // without a word.
  absl::Status CheckNotAhead(int64_t latest_seq) const;

  // Moves past `change`, which must come after every change advanced over
  // so far (a larger seq). False when the position already reflects it (a
  // change not yet numbered when the position was taken): skip it.
  bool Advance(const TaskChange& change);

  // Moves past every change up to `seq` without looking at them: possible
  // only when no change beyond seq() is reflected (the ones skipped might
  // be). False, without moving, when some is.
  bool SkipTo(int64_t seq);

  // Every change with a seq up to this is reflected.
  int64_t seq() const { return seq_; }
  // Changes beyond seq() that are reflected already, by change_id.
  const absl::flat_hash_set<int64_t>& reflected_ids() const {
    return reflected_ids_;
  }

 private:
  int64_t seq_ = 0;
  absl::flat_hash_set<int64_t> reflected_ids_;
};

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_TASK_CHANGES_H_
