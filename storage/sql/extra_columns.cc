#include "storage/sql/extra_columns.h"

#include "absl/strings/str_join.h"

namespace tasks::storage {

std::string ExtraColumnList(absl::Span<const ExtraColumn> columns) {
  return absl::StrJoin(columns, ", ",
                       [](std::string* out, const ExtraColumn& column) {
                         out->append(column.name);
                       });
}

}  // namespace tasks::storage
