#include "storage/postgres/libpq_values.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "storage/schema/task_table.h"

namespace tasks::storage {

schema::Row RowOf(const PGresult* result, const schema::Table& table) {
  schema::Row row;
  for (int i = 0; i < table.size; ++i) {
    schema::ColumnValue& value = row[i];
    value.null = PQgetisnull(result, 0, i);
    if (value.null) continue;
    const char* text = PQgetvalue(result, 0, i);
    if (table[i].kind == schema::ValueKind::kText) {
      value.text = text;
    } else {
      (void)absl::SimpleAtoi(text, &value.number);
    }
  }
  return row;
}

LibpqParams::LibpqParams(const StatementParams& params,
                         const std::vector<std::string>& names) {
  // ParamFor hands out mutable indicators; nothing here writes them.
  auto& mutable_params = const_cast<StatementParams&>(params);
  texts_.reserve(names.size());
  for (const std::string& name : names) {
    const ParamRef ref = ParamFor(mutable_params, name, &schema::kTaskTable);
    if (IsNull(params, ref)) {
      texts_.emplace_back();
      values_.push_back(nullptr);
      continue;
    }
    switch (ref.type) {
      case ParamRef::Type::kInt64:
        texts_.push_back(
            absl::StrCat(*static_cast<const long long*>(ref.value)));
        break;
      case ParamRef::Type::kText:
        texts_.push_back(*static_cast<const std::string*>(ref.value));
        break;
    }
    values_.push_back(texts_.back().c_str());
  }
}

}  // namespace tasks::storage
