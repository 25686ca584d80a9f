#ifndef TASKS_COMMON_ERROR_REASON_H_
#define TASKS_COMMON_ERROR_REASON_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tasks {

// Machine-readable error reasons (AIP-193 ErrorInfo.reason) travel with an
// absl::Status as payloads, from whichever layer finds the cause up to the
// gRPC boundary, which turns them into google.rpc.ErrorInfo and BadRequest.
namespace reason {
inline constexpr char kInvalidArgument[] = "INVALID_ARGUMENT";
inline constexpr char kInvalidPageToken[] = "INVALID_PAGE_TOKEN";
inline constexpr char kInvalidResumeToken[] = "INVALID_RESUME_TOKEN";
// A resume_token older than the change log's retention.
inline constexpr char kResumeTokenExpired[] = "RESUME_TOKEN_EXPIRED";
// The server's or the caller's cap of open WatchTasks streams.
inline constexpr char kTooManyWatchers[] = "TOO_MANY_WATCHERS";
inline constexpr char kInvalidFieldMask[] = "INVALID_FIELD_MASK";
inline constexpr char kTitleTaken[] = "TASK_TITLE_TAKEN";
inline constexpr char kProjectMissing[] = "PROJECT_MISSING";
inline constexpr char kProjectHasTasks[] = "PROJECT_HAS_TASKS";
inline constexpr char kProjectNotFound[] = "PROJECT_NOT_FOUND";
inline constexpr char kTaskNotFound[] = "TASK_NOT_FOUND";
inline constexpr char kEtagMismatch[] = "ETAG_MISMATCH";
// A request_id sent again with another request (AIP-155).
inline constexpr char kRequestIdReused[] = "REQUEST_ID_REUSED";
inline constexpr char kDatabaseUnavailable[] = "DATABASE_UNAVAILABLE";
inline constexpr char kDeadlineExceeded[] = "DEADLINE_EXCEEDED";
inline constexpr char kResourceExhausted[] = "RESOURCE_EXHAUSTED";
// A connection, or the server, holds too many replies not yet read.
inline constexpr char kUnreadReplies[] = "UNREAD_REPLIES";
inline constexpr char kUnauthenticated[] = "UNAUTHENTICATED";
inline constexpr char kPermissionDenied[] = "PERMISSION_DENIED";
inline constexpr char kInternal[] = "INTERNAL";
}  // namespace reason

// Returns `status` with `reason` attached (unchanged when `status` is OK).
absl::Status WithReason(absl::Status status, absl::string_view reason);

// Returns `status` naming the request field at fault (a path such as
// "requests[3].task.title"); unchanged when `status` is OK.
absl::Status WithField(absl::Status status, absl::string_view field);

// INVALID_ARGUMENT naming `field` (a request path such as "task.title"), with
// reason `reason`; the message is "<field>: <description>".
absl::Status InvalidField(absl::string_view field,
                          absl::string_view description,
                          absl::string_view reason = reason::kInvalidArgument);

// Returns `status` carrying `detail`: what the server's operators need and
// clients must not see (libpq's text names hosts, socket paths and users).
// The gRPC boundary logs it and sends the message alone; unchanged when
// `status` is OK.
absl::Status WithOperatorDetail(absl::Status status, absl::string_view detail);

// The attached reason, if any.
std::optional<std::string> ErrorReason(const absl::Status& status);

// The field named by InvalidField, if any.
std::optional<std::string> ErrorField(const absl::Status& status);

// The detail attached by WithOperatorDetail, if any.
std::optional<std::string> OperatorDetail(const absl::Status& status);

}  // namespace tasks

#endif  // TASKS_COMMON_ERROR_REASON_H_
