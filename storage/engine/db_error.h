#ifndef TASKS_STORAGE_ENGINE_DB_ERROR_H_
#define TASKS_STORAGE_ENGINE_DB_ERROR_H_

#include <cstdint>
#include <exception>
#include <optional>
#include <string>

#include "absl/status/status.h"

namespace tasks::storage {

// Names of the schema's constraints, the same on every backend, so that an
// error can say which rule a write broke.
namespace constraint {
inline constexpr char kTaskTitleUnique[] = "tasks_project_title_key";
inline constexpr char kTaskRequestIdUnique[] = "tasks_scope_request_id_key";
inline constexpr char kTaskProjectForeignKey[] = "tasks_project_fk";
inline constexpr char kTaskStatusCheck[] = "tasks_status_valid";
inline constexpr char kTaskPriorityCheck[] = "tasks_priority_valid";
inline constexpr char kTaskMetadataCheck[] = "tasks_metadata_object";
inline constexpr char kTaskTitleNotEmpty[] = "tasks_title_not_empty";
inline constexpr char kProjectNameNotEmpty[] = "projects_name_not_empty";
}  // namespace constraint

// What a database error means, whichever backend raised it.
enum class DbErrorKind {
  kUniqueViolation,
  kForeignKeyViolation,
  kNotNullViolation,
  kCheckViolation,
  kInvalidValue,  // a value the database refuses (encoding, size, JSON)
  kUnavailable,   // cannot connect, connection lost, busy or locked
  kStorageFull,   // the disk (or a file size limit) is full: writes fail
  kOther,
};

// A classified database error; each dialect produces it from its own codes.
struct DbError {
  DbErrorKind kind = DbErrorKind::kOther;
  // The constraint's name (see `constraint`), or the column of a NOT NULL
  // violation, when the database names it.
  std::string constraint;
  // The session is unusable and must be replaced.
  bool connection_lost = false;
  // The database's own text: clients may see it (UNAVAILABLE's message).
  std::string message;
  // What SOCI adds to it: the statement and its values ("while executing
  // ..."). For the server's log only (an INTERNAL error's detail): a client
  // never sees SQL, nor values bound by another call of a batch.
  std::string context;
};

// Sets `db_error`'s message and context from `error`: a soci_error's own
// message and the context SOCI added, anything else's what().
void SetErrorText(const std::exception& error, DbError& db_error);

// What the failed call was doing, so the status can name the request field.
struct ErrorContext {
  // The request path of the entity written: "task", "project",
  // "requests[3].task".
  std::string field_prefix;
  // Prepended to every message, e.g. "requests[3]: ".
  std::string message_prefix;
  // The task's project and title, for ALREADY_EXISTS / FAILED_PRECONDITION.
  std::optional<int64_t> project_id;
  std::string title;
};

// The status for `error`: ALREADY_EXISTS (kTitleTaken), FAILED_PRECONDITION
// (kProjectMissing), INVALID_ARGUMENT naming the field, UNAVAILABLE
// (kDatabaseUnavailable), RESOURCE_EXHAUSTED (kResourceExhausted: storage
// full) or INTERNAL, each message naming the constraint.
absl::Status DbErrorToStatus(const DbError& error, const ErrorContext& context);

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_ENGINE_DB_ERROR_H_
