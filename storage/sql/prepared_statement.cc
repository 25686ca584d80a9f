#include "storage/sql/prepared_statement.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "storage/schema/task_table.h"

namespace tasks::storage {
namespace {

bool IsNameStart(char c) {
  return absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '_';
}

bool IsNameChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
}

}  // namespace

std::string PositionalSql(const std::string& sql,
                          std::vector<std::string>* names) {
  names->clear();
  std::string positional;
  positional.reserve(sql.size());
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
      positional.push_back(c);
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      positional.push_back(c);
      continue;
    }
    if (c != ':' || i + 1 >= sql.size() || !IsNameStart(sql[i + 1]) ||
        (i > 0 && sql[i - 1] == ':')) {
      positional.push_back(c);
      continue;
    }
    size_t end = i + 1;
    while (end < sql.size() && IsNameChar(sql[end])) ++end;
    std::string name = sql.substr(i + 1, end - i - 1);
    auto found = std::find(names->begin(), names->end(), name);
    if (found == names->end()) {
      names->push_back(std::move(name));
      found = names->end() - 1;
    }
    absl::StrAppend(&positional, "$", found - names->begin() + 1);
    i = end - 1;
  }
  return positional;
}

std::vector<std::string> ParameterNames(const std::string& sql) {
  std::vector<std::string> names;
  PositionalSql(sql, &names);
  return names;
}

const schema::Table* TableOf(RowKind kind) {
  switch (kind) {
    case RowKind::kTask:
    case RowKind::kTaskPage:
    case RowKind::kTaskChange:
      return &schema::kTaskTable;
    case RowKind::kProject:
      return &schema::kProjectTable;
    case RowKind::kNone:
    case RowKind::kNumber:
    case RowKind::kPosition:
      break;
  }
  return nullptr;
}

namespace {

// The columns after the table's, for a row of `kind`.
absl::Span<const ExtraColumn> ExtraColumns(RowKind kind) {
  switch (kind) {
    case RowKind::kTaskPage:
    case RowKind::kPosition:
      return kPositionExtras;
    case RowKind::kTaskChange:
      return kChangeExtras;
    default:
      return {};
  }
}

}  // namespace

PreparedStatement::PreparedStatement(soci::session& session,
                                     const Dialect& dialect,
                                     const std::string& sql, RowKind kind)
    : dialect_(dialect), table_(TableOf(kind)), statement_(session) {
  // Rows whose table columns may all be NULL (an outer join's).
  const bool joined =
      kind == RowKind::kTaskPage || kind == RowKind::kTaskChange;
  if (table_ != nullptr) {
    for (int i = 0; i < table_->size; ++i) {
      const schema::Column& column = (*table_)[i];
      schema::ColumnValue& value = row_[i];
      // Only a nullable column has an indicator: a NULL elsewhere is an
      // error, as SOCI reports it.
      const bool nullable = joined || column.has(schema::kNullable);
      const bool text = column.kind == schema::ValueKind::kText;
      if (nullable) nullable_columns_.push_back(i);
      if (text && nullable) {
        statement_.exchange(soci::into(value.text, row_indicators_[i]));
      } else if (text) {
        statement_.exchange(soci::into(value.text));
      } else if (nullable) {
        statement_.exchange(soci::into(value.number, row_indicators_[i]));
      } else {
        statement_.exchange(soci::into(value.number));
      }
    }
  } else if (kind == RowKind::kNumber) {
    statement_.exchange(soci::into(number_));
  }
  for (const ExtraColumn& extra : ExtraColumns(kind)) {
    const int i = extra_count_++;
    if (extra.kind == schema::ValueKind::kText) {
      statement_.exchange(soci::into(extras_[i].text, extra_indicators_[i]));
    } else {
      statement_.exchange(soci::into(extras_[i].number, extra_indicators_[i]));
    }
  }
  for (const std::string& name : ParameterNames(sql)) Bind(name);
  statement_.alloc();
  statement_.prepare(sql, dialect.keeps_prepared_statements()
                              ? soci::details::st_repeatable_query
                              : soci::details::st_one_time_query);
  statement_.define_and_bind();
}

void PreparedStatement::Bind(const std::string& name) {
  if (std::optional<FilterParamSlot> slot = FilterParamFor(name)) {
    if (params_.filter == nullptr) {
      params_.filter = std::make_unique<FilterParamValues>();
    }
    // Const references: SOCI only reads them.
    const FilterParamValues& f = *params_.filter;
    if (slot->type == 'i') {
      statement_.exchange(soci::use(f.integers[slot->index], name));
    } else if (slot->type == 'r') {
      statement_.exchange(soci::use(f.reals[slot->index], name));
    } else {
      statement_.exchange(soci::use(f.texts[slot->index], name));
    }
    return;
  }
  const ParamRef ref = ParamFor(params_, name, table_);
  if (ref.column >= 0) bound_columns_.push_back(ref.column);
  if (ref.type == ParamRef::Type::kText) {
    UseParam(*static_cast<const std::string*>(ref.value), ref.indicator, name);
  } else {
    UseParam(*static_cast<const long long*>(ref.value), ref.indicator, name);
  }
}

template <typename T>
void PreparedStatement::UseParam(const T& value, soci::indicator* indicator,
                                 const std::string& name) {
  if (indicator != nullptr) {
    statement_.exchange(soci::use(value, *indicator, name));
  } else {
    statement_.exchange(soci::use(value, name));
  }
}

void PreparedStatement::SetParamIndicators() {
  for (int column : bound_columns_) {
    params_.column_indicators[column] =
        params_.columns[column].null ? soci::i_null : soci::i_ok;
  }
}

bool PreparedStatement::ReadNulls(bool got_row) {
  if (got_row) {
    for (int i : nullable_columns_) {
      row_[i].null = row_indicators_[i] == soci::i_null;
    }
    for (int i = 0; i < extra_count_; ++i) {
      extras_[i].null = extra_indicators_[i] == soci::i_null;
    }
  }
  return got_row;
}

template <typename Step>
auto PreparedStatement::Checked(Step&& step) -> decltype(step()) {
  try {
    return step();
  } catch (...) {
    failed_ = true;
    throw;
  }
}

bool PreparedStatement::ExecuteOnce() {
  SetParamIndicators();
  return Checked([this] {
    bool got_row = statement_.execute(true);
    dialect_.FinishStatement(statement_);
    return ReadNulls(got_row);
  });
}

bool PreparedStatement::Execute() {
  SetParamIndicators();
  return Checked([this] { return ReadNulls(statement_.execute(true)); });
}

bool PreparedStatement::Fetch() {
  return Checked([this] { return ReadNulls(statement_.fetch()); });
}

void PreparedStatement::Finish() {
  Checked([this] { dialect_.FinishStatement(statement_); });
}

}  // namespace tasks::storage
