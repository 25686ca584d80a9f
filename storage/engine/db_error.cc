#include "storage/engine/db_error.h"

#include <soci/error.h>

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "common/error_reason.h"

namespace tasks::storage {
namespace {

// The request field a constraint guards, or "" when it guards none.
absl::string_view ConstrainedField(absl::string_view name) {
  struct Entry {
    absl::string_view constraint;
    absl::string_view field;
  };
  static constexpr Entry kFields[] = {
      {constraint::kTaskTitleUnique, "title"},
      {constraint::kTaskRequestIdUnique, "request_id"},
      {constraint::kTaskProjectForeignKey, "project_id"},
      {constraint::kTaskStatusCheck, "status"},
      {constraint::kTaskPriorityCheck, "priority"},
      {constraint::kTaskMetadataCheck, "metadata"},
      {constraint::kTaskTitleNotEmpty, "title"},
      {constraint::kProjectNameNotEmpty, "name"},
  };
  for (const Entry& entry : kFields) {
    if (entry.constraint == name) return entry.field;
  }
  return "";
}

std::string FieldPath(const ErrorContext& context, absl::string_view field) {
  if (field.empty()) return context.field_prefix;
  if (context.field_prefix.empty()) return std::string(field);
  return absl::StrCat(context.field_prefix, ".", field);
}

std::string ProjectName(const ErrorContext& context) {
  return context.project_id.has_value()
             ? absl::StrCat("project ", *context.project_id)
             : std::string("the project");
}

}  // namespace

// INVALID_ARGUMENT messages start with the field path, which already holds the
// request index; the others start with context.message_prefix.
absl::Status DbErrorToStatus(const DbError& error,
                             const ErrorContext& context) {
  const std::string& prefix = context.message_prefix;
  switch (error.kind) {
    case DbErrorKind::kUniqueViolation: {
      if (error.constraint == constraint::kTaskTitleUnique) {
        return WithField(
            WithReason(absl::AlreadyExistsError(absl::StrCat(
                           prefix, ProjectName(context),
                           " already has a task titled \"", context.title,
                           "\" (unique constraint ", error.constraint, ")")),
                       reason::kTitleTaken),
            FieldPath(context, "title"));
      }
      return WithReason(
          absl::AlreadyExistsError(absl::StrCat(
              prefix, "violates unique constraint ", error.constraint)),
          reason::kInternal);
    }
    case DbErrorKind::kForeignKeyViolation:
      return WithField(
          WithReason(absl::FailedPreconditionError(absl::StrCat(
                         prefix, ProjectName(context),
                         " does not exist (foreign key constraint ",
                         constraint::kTaskProjectForeignKey, ")")),
                     reason::kProjectMissing),
          FieldPath(context, "project_id"));
    case DbErrorKind::kNotNullViolation:
      return InvalidField(FieldPath(context, error.constraint),
                          "is required (NOT NULL)");
    case DbErrorKind::kCheckViolation:
      return InvalidField(
          FieldPath(context, ConstrainedField(error.constraint)),
          absl::StrCat("value not allowed (check constraint ", error.constraint,
                       ")"));
    case DbErrorKind::kInvalidValue:
      return InvalidField(
          context.field_prefix,
          absl::StrCat("value refused by the database: ", error.message));
    case DbErrorKind::kUnavailable:
      return WithReason(absl::UnavailableError(absl::StrCat(
                            prefix, "database unavailable: ", error.message)),
                        reason::kDatabaseUnavailable);
    case DbErrorKind::kStorageFull:
      // Retrying at once will not help, unlike UNAVAILABLE; reads still work.
      return WithReason(
          absl::ResourceExhaustedError(absl::StrCat(
              prefix, "database storage is full: ", error.message)),
          reason::kResourceExhausted);
    case DbErrorKind::kOther:
      break;
  }
  // INTERNAL: logged whole by the server, "internal error" to the client.
  return WithReason(
      absl::InternalError(absl::StrCat(
          prefix, "database error: ", error.message, error.context)),
      reason::kInternal);
}

void SetErrorText(const std::exception& error, DbError& db_error) {
  const auto* soci = dynamic_cast<const soci::soci_error*>(&error);
  if (soci == nullptr) {
    db_error.message = error.what();
    db_error.context.clear();
    return;
  }
  db_error.message = soci->get_error_message();
  // what() is the message, less a final '.' when SOCI added context, then
  // the context (" while executing ... .").
  absl::string_view message = db_error.message;
  const absl::string_view whole = soci->what();
  if (whole.size() > message.size()) absl::ConsumeSuffix(&message, ".");
  db_error.context = absl::StartsWith(whole, message)
                         ? std::string(whole.substr(message.size()))
                         : std::string(whole);
}

}  // namespace tasks::storage
