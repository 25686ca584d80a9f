#ifndef TASKS_STORAGE_SQL_EXTRA_COLUMNS_H_
#define TASKS_STORAGE_SQL_EXTRA_COLUMNS_H_

#include <cstddef>
#include <iterator>
#include <string>

#include "absl/types/span.h"
#include "storage/schema/column.h"

namespace tasks::storage {

// A column a statement reads after its table's, selected by `name`.
struct ExtraColumn {
  const char* name;
  schema::ValueKind kind;
};

// The columns after the task table's of a ListTasks page or a change
// position (RowKind::kTaskPage, kPosition), in order.
// The statements (sql/queries) select them from these names and the row
// reads them by these kinds, so the order is written only here.
inline constexpr ExtraColumn kPositionExtras[] = {
    // The largest seq in the snapshot.
    {"change_seq", schema::ValueKind::kInt64},
    // "id,id,...": its unnumbered changes; NULL for none.
    {"change_reflected", schema::ValueKind::kText},
};

// The columns after the task table's of a change read
// (RowKind::kTaskChange), in order.
inline constexpr ExtraColumn kChangeExtras[] = {
    {"seq", schema::ValueKind::kInt64},
    {"change_id", schema::ValueKind::kInt64},
    {"change_type", schema::ValueKind::kInt64},
    // The largest seq trimmed.
    {"horizon", schema::ValueKind::kInt64},
    // The largest seq given out, trimmed or not.
    {"latest", schema::ValueKind::kInt64},
};

// The index of the column called `name` among `columns`; not a constant
// expression (a compile error where one is needed) when there is none.
template <size_t N>
constexpr int ExtraIndex(const ExtraColumn (&columns)[N], const char* name) {
  for (size_t i = 0; i < N; ++i) {
    const char* a = columns[i].name;
    const char* b = name;
    while (*a != '\0' && *a == *b) ++a, ++b;
    if (*a == *b) return static_cast<int>(i);
  }
  throw "no such extra column";
}

// Indexes for PreparedStatement::extra().
inline constexpr int kPositionSeq = ExtraIndex(kPositionExtras, "change_seq");
inline constexpr int kPositionReflected =
    ExtraIndex(kPositionExtras, "change_reflected");
inline constexpr int kChangeSeq = ExtraIndex(kChangeExtras, "seq");
inline constexpr int kChangeId = ExtraIndex(kChangeExtras, "change_id");
inline constexpr int kChangeType = ExtraIndex(kChangeExtras, "change_type");
inline constexpr int kChangeHorizon = ExtraIndex(kChangeExtras, "horizon");
inline constexpr int kChangeLatest = ExtraIndex(kChangeExtras, "latest");

// The most columns a row has after its table's.
inline constexpr int kMaxExtraColumns = 5;
static_assert(std::size(kChangeExtras) <= kMaxExtraColumns &&
              std::size(kPositionExtras) <= kMaxExtraColumns);

// The names of `columns`, in order, joined by ", ".
std::string ExtraColumnList(absl::Span<const ExtraColumn> columns);

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_SQL_EXTRA_COLUMNS_H_
