#ifndef TASKS_STORAGE_TASK_STORE_H_
#define TASKS_STORAGE_TASK_STORE_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/field_mask.pb.h"
#include "storage/task_changes.h"
#include "tasks/v1/tasks.pb.h"

namespace tasks::storage {

// AccessScope
//
// The rows a call may reach, for callers limited to some projects: every row
// (the default), or only the listed projects and their tasks, never a task
// without a project. Stores apply it inside the statement that reads, changes
// or deletes a row, so no other write can come between the check and the
// change; a task outside the scope is NOT_FOUND exactly like a missing one.
//
// Example:
//   store.DeleteTask(id, AccessScope::Projects({1, 3}));
struct AccessScope {
  // Every row.
  static AccessScope All() { return AccessScope(); }

  // Only `project_ids` and their tasks.
  static AccessScope Projects(std::vector<int64_t> project_ids) {
    AccessScope scope;
    scope.allowed_project_ids = std::move(project_ids);
    return scope;
  }

  // True when a task in `project_id` (nullopt: in none) is within the scope.
  bool Allows(std::optional<int64_t> project_id) const {
    if (!allowed_project_ids.has_value()) return true;
    return project_id.has_value() &&
           std::find(allowed_project_ids->begin(), allowed_project_ids->end(),
                     *project_id) != allowed_project_ids->end();
  }

  // When set, only these projects and their tasks; unset means every row.
  std::optional<std::vector<int64_t>> allowed_project_ids;
};

// Idempotency
//
// Where a create looks up its request_id (AIP-155), and which earlier task a
// replay may return. The default is the scope "" shared by every caller,
// replaying any task.
//
// Example:
//   Idempotency idempotency;
//   idempotency.scope = principal_name;
//   idempotency.access = AccessScope::Projects({1, 3});
//   store.CreateTask(draft, request_id, idempotency);
struct Idempotency {
  // request_ids are unique within a scope, so callers given scopes of their
  // own (their names, say) can neither replay nor squat each other's.
  std::string scope;
  // The earlier tasks a replay may return, checked in the create's
  // transaction; one outside is NOT_FOUND, as if it did not exist (a batch
  // then creates nothing).
  AccessScope access;
};

// A list page ends before the row that would take its rows' stored bytes
// past this, and its next_page_token continues right after its last row: so
// a page may hold fewer than page_size rows even when more follow. A row's
// stored bytes are its text as the database returns it, measured before any
// parsing: a task's title, description and metadata JSON, a project's name
// and description. A page always holds at least one row, however large (rows
// stored before the metadata caps can be). Parsed into protobuf messages,
// metadata takes up to ~70 times its text (a list of empty objects), so this
// holds a page of the heaviest allowed rows near 20 MB in memory, and its
// wire form under 2 MiB, whatever page_size asks for.
inline constexpr size_t kListPageByteBudget = 256 * 1024;

// TaskStore
//
// Persistence for projects and tasks. The generated `tasks.v1` messages are
// the data model; output-only fields (ids, times, etags) are filled in by the
// store. Implementations are thread-safe and never throw: every failure is an
// absl::Status whose code names the cause, in the words of tasks.proto:
//
//   INVALID_ARGUMENT     a value the schema refuses (NOT NULL, CHECK, a string
//                        with a NUL byte), a bad page token or order_by
//   ALREADY_EXISTS       (project_id, title) is taken; a request_id sent with
//                        another task than the first time
//   FAILED_PRECONDITION  project_id names no project; a project with tasks
//                        deleted without cascade
//   NOT_FOUND            no row with that id (within the call's AccessScope);
//                        a replayed task outside its Idempotency.access
//   PERMISSION_DENIED    an update moving a task out of its AccessScope
//   ABORTED              etag mismatch
//   UNAVAILABLE          the database cannot be reached (safe to retry)
//   RESOURCE_EXHAUSTED   a write found the database's storage full (reads
//                        still work; writes work again once space is freed)
//   INTERNAL             anything else
//
// Each error carries a reason (see error_reason.h) for the API's ErrorInfo.
// Callers validate requests first (lengths, blank titles, page sizes); the
// store enforces what the database enforces, so it holds for every replica.
//
// Example:
//   absl::StatusOr<std::unique_ptr<TaskStore>> store =
//       OpenSociTaskStore("tasks.db", {});
//   absl::StatusOr<v1::Task> task = (*store)->CreateTask(draft, "");
class TaskStore {
 public:
  virtual ~TaskStore() = default;

  // Inserts a project; returns it with id and times set.
  virtual absl::StatusOr<v1::Project> CreateProject(
      const v1::Project& project) = 0;

  // NOT_FOUND when no project has `id`.
  virtual absl::StatusOr<v1::Project> GetProject(int64_t id) = 0;

  // Projects in id order after `page_token` (empty for the first page);
  // `page_size` is in 1..1000, and the page ends early at
  // kListPageByteBudget. INVALID_ARGUMENT for a tampered token.
  virtual absl::StatusOr<v1::ListProjectsResponse> ListProjects(
      int page_size, absl::string_view page_token) = 0;

  // ListProjects limited to `scope`; its page tokens only continue lists of
  // the same scope. The default forwards an unrestricted scope and fails
  // closed (UNIMPLEMENTED) on a restricted one: stores and every wrapper of
  // another store override it.
  virtual absl::StatusOr<v1::ListProjectsResponse> ListProjects(
      int page_size, absl::string_view page_token, const AccessScope& scope) {
    if (scope.allowed_project_ids.has_value()) {
      return absl::UnimplementedError("this store cannot restrict lists");
    }
    return ListProjects(page_size, page_token);
  }

  // Sets the fields named by `mask` ("name", "description") from `project`,
  // whose id names the row. NOT_FOUND when there is no such project.
  virtual absl::StatusOr<v1::Project> UpdateProject(
      const v1::Project& project, const google::protobuf::FieldMask& mask) = 0;

  // Deletes a project. Without `cascade`, FAILED_PRECONDITION while it still
  // has tasks; with it, its tasks go in the same transaction.
  virtual absl::Status DeleteProject(int64_t id, bool cascade) = 0;

  // Where the TryXxxAsync calls send their answer.
  using TaskCallback = absl::AnyInvocable<void(absl::StatusOr<v1::Task>) &&>;

  // Inserts a task, applying the schema defaults (PENDING, MEDIUM) for
  // unspecified enums. A non-empty `request_id` that an earlier create in
  // `idempotency.scope` used returns that create's task (as it is now)
  // instead of inserting again, provided `task` is the same draft (else
  // ALREADY_EXISTS, reason REQUEST_ID_REUSED) and the task is within
  // `idempotency.access` (else NOT_FOUND, reason TASK_NOT_FOUND).
  virtual absl::StatusOr<v1::Task> CreateTask(
      const v1::Task& task, absl::string_view request_id,
      const Idempotency& idempotency) = 0;

  // CreateTask answered through `done`, like TryGetTaskAsync: once the task
  // is committed. At `deadline` the answer is DEADLINE_EXCEEDED, and the
  // task may still be committed (retry with the same request_id to know).
  // A create that would wait long for a lock held elsewhere, or whose
  // request_id's replay could not be queued, is answered RunBlockingInstead
  // (storage/run_blocking.h), not made: call CreateTask.
  virtual bool TryCreateTaskAsync(const v1::Task& task,
                                  absl::string_view request_id,
                                  const Idempotency& idempotency,
                                  absl::Time deadline, TaskCallback done) {
    return false;
  }

  // CreateTask in the scope shared by every caller ("").
  absl::StatusOr<v1::Task> CreateTask(const v1::Task& task,
                                      absl::string_view request_id) {
    return CreateTask(task, request_id, Idempotency());
  }

  // Creates every task of `request` in one transaction, or none: the first
  // failure is returned, its message naming the index of the request. Each
  // request's request_id is resolved as by CreateTask.
  virtual absl::StatusOr<v1::BatchCreateTasksResponse> BatchCreateTasks(
      const v1::BatchCreateTasksRequest& request,
      const Idempotency& idempotency) = 0;

  // BatchCreateTasks in the scope shared by every caller ("").
  absl::StatusOr<v1::BatchCreateTasksResponse> BatchCreateTasks(
      const v1::BatchCreateTasksRequest& request) {
    return BatchCreateTasks(request, Idempotency());
  }

  // NOT_FOUND when no task within `scope` has `id`.
  virtual absl::StatusOr<v1::Task> GetTask(int64_t id,
                                           const AccessScope& scope) = 0;

  // GetTask answered through `done`, on a thread of the store's, without
  // holding the calling thread while the database works; `deadline` bounds
  // the wait (DEADLINE_EXCEEDED). False, dropping `done` without calling it,
  // when the store cannot now (the default: it has no such path; or its
  // connections for it are not up): call GetTask instead. The answer may be
  // RunBlockingInstead (storage/run_blocking.h): the store gave the call up
  // without effect (its connections went down); call GetTask then too.
  virtual bool TryGetTaskAsync(int64_t id, const AccessScope& scope,
                               absl::Time deadline, TaskCallback done) {
    return false;
  }

  // One page of tasks matching the request's filters and within `scope`, in
  // its order_by, with keyset pagination, written into `page` (passed empty).
  // `request.page_size` is in 1..1000, and the page ends early at
  // kListPageByteBudget. INVALID_ARGUMENT for an unknown order_by, a bad
  // metadata filter, or a page token that was tampered with or issued for
  // other filters; after an error `page` holds nothing to use. The caller
  // owns `page` so that it can keep it on an arena: a page of 50 tasks with
  // their metadata is hundreds of small objects.
  virtual absl::Status ListTasks(const v1::ListTasksRequest& request,
                                 const AccessScope& scope,
                                 v1::ListTasksResponse& page) = 0;

  // ListTasks, the page returned.
  absl::StatusOr<v1::ListTasksResponse> ListTasks(
      const v1::ListTasksRequest& request, const AccessScope& scope) {
    v1::ListTasksResponse page;
    absl::Status listed = ListTasks(request, scope, page);
    if (!listed.ok()) return listed;
    return page;
  }

  // ListTasks of every task.
  absl::StatusOr<v1::ListTasksResponse> ListTasks(
      const v1::ListTasksRequest& request) {
    return ListTasks(request, AccessScope::All());
  }

  // Sets the fields named by `mask` (any of "project_id", "title",
  // "description", "status", "priority", "metadata") from `task`, whose id
  // names the row, and gives the task a new etag. NOT_FOUND when no task
  // within `scope` has the id; PERMISSION_DENIED when the mask moves the task
  // to a project outside `scope` (or to none, for a restricted scope). When
  // `task.etag()` is set and differs from the stored one: ABORTED. Nothing
  // changes on any error.
  virtual absl::StatusOr<v1::Task> UpdateTask(
      const v1::Task& task, const google::protobuf::FieldMask& mask,
      const AccessScope& scope) = 0;

  // NOT_FOUND, nothing deleted, when no task within `scope` has `id`.
  virtual absl::Status DeleteTask(int64_t id, const AccessScope& scope) = 0;

  // The change log (see task_changes.h). The defaults fail with
  // UNIMPLEMENTED: stores and every wrapper of another store override them.

  // The present: every change committed so far is reflected.
  virtual absl::StatusOr<ChangePosition> LatestChangePosition() {
    return absl::UnimplementedError("this store keeps no change log");
  }

  // Up to `limit` numbered changes with a seq above `after.seq()`, in seq
  // order, including any that `after` reflects already (Advance skips
  // them). OUT_OF_RANGE (reason RESUME_TOKEN_EXPIRED) when changes above
  // after.seq() were trimmed.
  virtual absl::StatusOr<std::vector<TaskChange>> ReadChanges(
      const ChangePosition& after, int limit) {
    return absl::UnimplementedError("this store keeps no change log");
  }

  // Numbers the changes committed since the last run, from any replica
  // (PostgreSQL; SQLite numbers them as they commit). Returns how many.
  virtual absl::StatusOr<int> SequenceChanges() {
    return absl::UnimplementedError("this store keeps no change log");
  }

  // Returns true as soon as another connection may have committed changes
  // (PostgreSQL: the NOTIFY of another store's SequenceChanges run that
  // numbered some; this store's own runs are no sign),
  // false after `timeout` without a sign (always, where there is no such
  // signal: SQLite, PgBouncer).
  virtual absl::StatusOr<bool> WaitForChanges(absl::Duration timeout) {
    return absl::UnimplementedError("this store keeps no change log");
  }

  // Deletes the changes committed before `before`; a position from before
  // them is then OUT_OF_RANGE for ReadChanges.
  virtual absl::Status TrimChanges(absl::Time before) {
    return absl::UnimplementedError("this store keeps no change log");
  }

  // OK when the database answers with a schema at least as new as the one
  // this store migrated it to; UNAVAILABLE when it does not answer,
  // FAILED_PRECONDITION (or the database's error, when the schema is gone)
  // when the database was replaced under the store. Honours the call's
  // deadline like every call (common/call_deadline.h).
  virtual absl::Status CheckHealth() = 0;

  // For shutdown, once in-flight calls have had their time: calls running
  // now stop soon (their statements cancelled or interrupted) and later
  // calls fail at once, with UNAVAILABLE (or DEADLINE_EXCEEDED when their
  // deadline passed meanwhile). Cannot be undone. Thread-safe; the default
  // does nothing.
  virtual void CancelCalls() {}
};

using TaskStorePtr = std::unique_ptr<TaskStore>;

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_TASK_STORE_H_
