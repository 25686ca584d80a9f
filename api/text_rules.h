#ifndef TASKS_API_TEXT_RULES_H_
#define TASKS_API_TEXT_RULES_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tasks::api {

// The API's rules for string fields (tasks.proto), read by the service's
// request validation and by the store. Each check returns INVALID_ARGUMENT
// naming `field` (tasks::InvalidField, reason INVALID_ARGUMENT).
//
// Lengths count Unicode code points, not bytes.

// Longest title or name, in code points, whitespace included.
inline constexpr size_t kMaxTitleLength = 200;
// Longest description, in code points.
inline constexpr size_t kMaxDescriptionLength = 10000;
// Longest CreateTaskRequest.request_id, in code points.
inline constexpr size_t kMaxRequestIdLength = 100;

// CheckText()
//
// A string that reaches either database unchanged: no NUL character, valid
// UTF-8. PostgreSQL through SOCI cuts strings at a NUL byte and refuses
// invalid UTF-8, while SQLite stores both, so the backends would disagree.
absl::Status CheckText(absl::string_view field, absl::string_view value);

// CheckBoundedText()
//
// CheckText, and at most `max_length` code points.
absl::Status CheckBoundedText(absl::string_view field, absl::string_view value,
                              size_t max_length);

// CheckTitle()
//
// A task's title or a project's name: CheckText, not blank (some character
// that is not Unicode White_Space, so "\u3000" is blank too), and at most
// kMaxTitleLength code points. The value is stored as sent, whitespace and
// all: bounding only its trimmed length let padding grow a title past what
// PostgreSQL's title index can hold, which SQLite stored.
absl::Status CheckTitle(absl::string_view field, absl::string_view value);

}  // namespace tasks::api

#endif  // TASKS_API_TEXT_RULES_H_
