#ifndef TASKS_STORAGE_SOCI_TASK_STORE_H_
#define TASKS_STORAGE_SOCI_TASK_STORE_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "storage/store_observer.h"
#include "storage/task_store.h"

namespace tasks::storage {

struct SociTaskStoreOptions {
  // Pooled connections for a SQLite file or PostgreSQL; 0 picks the backend's
  // default (SQLite file 4, PostgreSQL 8). `:memory:` always uses exactly one
  // connection. Connections open on first need.
  int pool_size = 0;

  // How long a call waits for a free pooled connection, and SQLite's busy
  // timeout, before it fails with UNAVAILABLE.
  absl::Duration wait_timeout = absl::Seconds(5);

  // When not null, told about the connection pool and group commits (for
  // metrics); must outlive the store.
  StoreObserver* observer = nullptr;
};

// Opens the store named by `connection` and applies pending schema migrations:
//   "tasks.db", "/var/lib/tasks.db"      a SQLite file (WAL, pooled)
//   ":memory:"                           in-memory SQLite, one connection
//   "postgresql://user@host:5432/db"     PostgreSQL, libpq URL ("postgres://"
//   too) "host=/run/postgresql dbname=tasks"  PostgreSQL, libpq keyword string
// (a string starting "word=" is taken for a keyword string). UNAVAILABLE when
// the database cannot be reached; INVALID_ARGUMENT for a connection string it
// cannot parse; FAILED_PRECONDITION when the schema is newer than this build.
//
// Behaviour of this implementation where TaskStore leaves a choice:
// - Etags are the task's revision as a quoted decimal ("\"3\""); a malformed
//   etag matches no revision, so UpdateTask returns ABORTED for it (or
//   NOT_FOUND when the task does not exist).
// - An empty update mask changes nothing and returns the stored row (after
//   the etag check, for tasks); unknown paths are INVALID_ARGUMENT on
//   "update_mask" (reason INVALID_FIELD_MASK).
// - An empty title or project name is stored as NULL, so the schema refuses
//   it: INVALID_ARGUMENT on "task.title" / "project.name".
// - Page sizes outside 1..1000 are clamped (0 or less means 50). order_by
//   accepts exactly the API's values (api/list_rules.h); ties break
//   on id in the order's direction ("priority desc": newest first among
//   equal priorities).
// - The metadata filter compares JSON values (1 equals 1.0; true is not 1).
// - On SQLite, concurrent writes share transactions (group commit): each is
//   durable (synchronous=FULL) before it returns, and a failing write undoes
//   only itself.
// - On PostgreSQL, a call that finds its connection lost returns UNAVAILABLE
//   (a read is first retried once on a new connection); the next call
//   reconnects.
// - The change log is written by triggers (migration 0005). SQLite numbers
//   each change as it commits, so SequenceChanges returns 0; on PostgreSQL
//   changes are unnumbered (unseen by ReadChanges) until a SequenceChanges on
//   any replica. A ListTasks page's resume_token is taken in the page's
//   snapshot (PostgreSQL: the same statement; SQLite: the same read
//   transaction); when more than 4096 committed changes wait to be numbered
//   the list numbers them first (else UNAVAILABLE).
// - ReadChanges returns at most 1000 changes; a position ahead of every seq
//   the database gave out (a forged token, a recreated database) is
//   INVALID_ARGUMENT on "resume_token" (reason INVALID_RESUME_TOKEN).
// - TrimChanges deletes the numbered changes before the first one (in seq
//   order) written at or after `before`, never an unnumbered one (on
//   PostgreSQL a change written before `before` may sit above a later one
//   in seq, when its transaction committed late: it stays until a later
//   trim), and keeps the largest deleted seq as the horizon: positions below
//   it are OUT_OF_RANGE, and no seq is given out twice even once every
//   change is trimmed.
// - WaitForChanges on PostgreSQL (not through prepared_statements=off, a
//   transaction pooler, where LISTEN cannot work) LISTENs on a connection of
//   its own outside the pool for the NOTIFY of a SequenceChanges run that
//   numbered something (on any other store: the NOTIFY names the store that
//   sent it, and a store's own runs are no signal to it); its first call and the first after a
//   lost connection connect and return true (notifications sent meanwhile went
//   unheard; the call that finds the connection lost returns UNAVAILABLE).
//   Elsewhere it waits out `timeout` and returns false. CancelCalls() ends a
//   wait at once with UNAVAILABLE.
absl::StatusOr<TaskStorePtr> OpenSociTaskStore(
    absl::string_view connection, const SociTaskStoreOptions& options = {});

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_SOCI_TASK_STORE_H_
