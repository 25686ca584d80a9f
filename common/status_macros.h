#ifndef TASKS_COMMON_STATUS_MACROS_H_
#define TASKS_COMMON_STATUS_MACROS_H_

// Debian's Abseil 20220623 has no status macros; these are the usual two.

#include "absl/base/optimization.h"

// Returns from the enclosing function when `expr` (an absl::Status) is not OK.
#define RETURN_IF_ERROR(expr)                              \
  do {                                                     \
    ::absl::Status status_macros_status_ = (expr);         \
    if (ABSL_PREDICT_FALSE(!status_macros_status_.ok())) { \
      return status_macros_status_;                        \
    }                                                      \
  } while (false)

#define STATUS_MACROS_CONCAT_INNER_(x, y) x##y
#define STATUS_MACROS_CONCAT_(x, y) STATUS_MACROS_CONCAT_INNER_(x, y)

// Declares `lhs` from an absl::StatusOr `rexpr`, or returns its error.
//   ASSIGN_OR_RETURN(v1::Task task, store.GetTask(id));
#define ASSIGN_OR_RETURN(lhs, rexpr)                                       \
  ASSIGN_OR_RETURN_IMPL_(STATUS_MACROS_CONCAT_(status_or_, __LINE__), lhs, \
                         rexpr)

#define ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                           \
  if (ABSL_PREDICT_FALSE(!statusor.ok())) {          \
    return statusor.status();                        \
  }                                                  \
  lhs = std::move(statusor).value()

#endif  // TASKS_COMMON_STATUS_MACROS_H_
