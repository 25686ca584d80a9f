#include "api/list_rules.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/error_reason.h"

namespace tasks::api {
namespace {

constexpr TaskListOrder kTaskListOrders[] = {
    {"", "", false},
    {"create_time", "create_time", false},
    {"create_time desc", "create_time", true},
    {"priority desc", "priority", true},
    {"title", "title", false},
    {"due_time", "due_time", false},
    {"due_time desc", "due_time", true},
};

// "\"create_time\", \"create_time desc\", ... or \"title\"".
std::string OrderNames() {
  std::vector<std::string> names;
  for (const TaskListOrder& order : TaskListOrders()) {
    if (!order.order_by.empty()) {
      names.push_back(absl::StrCat("\"", order.order_by, "\""));
    }
  }
  std::string last = names.back();
  names.pop_back();
  return absl::StrCat(absl::StrJoin(names, ", "), " or ", last);
}

}  // namespace

absl::StatusOr<int> ResolvePageSize(int32_t page_size) {
  if (page_size < 0) return InvalidField("page_size", "must not be negative");
  return ClampPageSize(page_size);
}

int ClampPageSize(int page_size) {
  if (page_size <= 0) return kDefaultPageSize;
  return std::min(page_size, kMaxPageSize);
}

absl::Span<const TaskListOrder> TaskListOrders() { return kTaskListOrders; }

absl::StatusOr<int> ParseTaskListOrder(absl::string_view order_by) {
  absl::Span<const TaskListOrder> orders = TaskListOrders();
  for (size_t i = 0; i < orders.size(); ++i) {
    if (orders[i].order_by == order_by) return static_cast<int>(i);
  }
  return InvalidField("order_by", absl::StrCat("unknown ordering \"", order_by,
                                               "\"; use ", OrderNames()));
}

}  // namespace tasks::api
