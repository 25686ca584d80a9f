#ifndef TASKS_API_LIST_RULES_H_
#define TASKS_API_LIST_RULES_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace tasks::api {

// The API's rules for list requests (tasks.proto): page sizes and the
// ListTasks orders, read by the service's request validation and by the
// store. Errors are INVALID_ARGUMENT naming the field (tasks::InvalidField,
// reason INVALID_ARGUMENT).

// page_size 0 means this.
inline constexpr int kDefaultPageSize = 50;
// Larger page sizes are lowered to this.
inline constexpr int kMaxPageSize = 1000;

// ResolvePageSize()
//
// The page size of a request's `page_size` (field "page_size"): 0 means
// kDefaultPageSize, more than kMaxPageSize means kMaxPageSize, negative is
// INVALID_ARGUMENT.
absl::StatusOr<int> ResolvePageSize(int32_t page_size);

// ClampPageSize()
//
// The page size the store lists for `page_size`, which a caller may not have
// validated: ResolvePageSize, with a negative size meaning the default.
int ClampPageSize(int page_size);

// TaskListOrder
//
// One ListTasks order: a Task field and a direction. Ties break on id in
// the same direction, so every order is total.
struct TaskListOrder {
  // As ListTasksRequest.order_by spells it.
  absl::string_view order_by;
  // The Task field sorted on; empty for creation order (id).
  absl::string_view field;
  bool descending;
};

// TaskListOrders()
//
// Every ListTasks order. Index 0, order_by "", is the default: creation
// order (id).
absl::Span<const TaskListOrder> TaskListOrders();

// ParseTaskListOrder()
//
// The index in TaskListOrders() of `order_by`, which must be spelled exactly
// as listed (tasks.proto): "Title" or "title asc" is refused, so that a page
// token's order and the client's are the same string. INVALID_ARGUMENT naming
// "order_by" otherwise.
absl::StatusOr<int> ParseTaskListOrder(absl::string_view order_by);

}  // namespace tasks::api

#endif  // TASKS_API_LIST_RULES_H_
