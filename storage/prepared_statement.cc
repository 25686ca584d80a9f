#include "storage/prepared_statement.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

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

PreparedStatement::PreparedStatement(soci::session& session,
                                     const Dialect& dialect,
                                     const std::string& sql, RowKind kind)
    : dialect_(dialect) {
  if (dialect.is_sqlite()) {
    sqlite_ = std::make_unique<SqliteStatement>(session, sql, params_,
                                                SqliteColumns(kind));
    return;
  }
  soci_ = std::make_unique<soci::statement>(session);
  DefineSoci(kind);
  for (const std::string& name : ParameterNames(sql)) BindSoci(name);
  soci_->alloc();
  soci_->prepare(sql);
  soci_->define_and_bind();
}

std::vector<SqliteStatement::Column> PreparedStatement::SqliteColumns(
    RowKind kind) {
  using Column = SqliteStatement::Column;
  using Type = Column::Type;
  switch (kind) {
    case RowKind::kNone:
      return {};
    case RowKind::kTask:
      return {{Type::kInt64, &task_.id, nullptr},
              {Type::kInt64, &task_.project_id, &task_.project_id_indicator},
              {Type::kText, &task_.title, nullptr},
              {Type::kText, &task_.description, nullptr},
              {Type::kInt, &task_.status, nullptr},
              {Type::kInt, &task_.priority, nullptr},
              {Type::kText, &task_.metadata, nullptr},
              {Type::kInt64, &task_.create_time, nullptr},
              {Type::kInt64, &task_.update_time, nullptr},
              {Type::kInt64, &task_.revision, nullptr}};
    case RowKind::kProject:
      return {{Type::kInt64, &project_.id, nullptr},
              {Type::kText, &project_.name, nullptr},
              {Type::kText, &project_.description, nullptr},
              {Type::kInt64, &project_.create_time, nullptr},
              {Type::kInt64, &project_.update_time, nullptr}};
    case RowKind::kNumber:
      return {{Type::kInt64, &number_, nullptr}};
  }
  return {};
}

void PreparedStatement::DefineSoci(RowKind kind) {
  soci::statement& st = *soci_;
  switch (kind) {
    case RowKind::kNone:
      break;
    case RowKind::kTask:
      st.exchange(soci::into(task_.id));
      st.exchange(soci::into(task_.project_id, task_.project_id_indicator));
      st.exchange(soci::into(task_.title));
      st.exchange(soci::into(task_.description));
      st.exchange(soci::into(task_.status));
      st.exchange(soci::into(task_.priority));
      st.exchange(soci::into(task_.metadata));
      st.exchange(soci::into(task_.create_time));
      st.exchange(soci::into(task_.update_time));
      st.exchange(soci::into(task_.revision));
      break;
    case RowKind::kProject:
      st.exchange(soci::into(project_.id));
      st.exchange(soci::into(project_.name));
      st.exchange(soci::into(project_.description));
      st.exchange(soci::into(project_.create_time));
      st.exchange(soci::into(project_.update_time));
      break;
    case RowKind::kNumber:
      st.exchange(soci::into(number_));
      break;
  }
}

void PreparedStatement::BindSoci(const std::string& name) {
  // Const references: SOCI only reads the values.
  const ParamRef param = ParamFor(params_, name);
  soci::statement& st = *soci_;
  switch (param.type) {
    case ParamRef::Type::kInt64: {
      const auto& value = *static_cast<const long long*>(param.value);
      if (param.indicator != nullptr) {
        st.exchange(soci::use(value, *param.indicator, name));
      } else {
        st.exchange(soci::use(value, name));
      }
      break;
    }
    case ParamRef::Type::kInt:
      st.exchange(soci::use(*static_cast<const int*>(param.value), name));
      break;
    case ParamRef::Type::kText: {
      const auto& value = *static_cast<const std::string*>(param.value);
      if (param.indicator != nullptr) {
        st.exchange(soci::use(value, *param.indicator, name));
      } else {
        st.exchange(soci::use(value, name));
      }
      break;
    }
  }
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
  return Checked([this] {
    if (sqlite_ != nullptr) {
      const bool got_row = sqlite_->Execute();
      sqlite_->Finish();
      return got_row;
    }
    const bool got_row = soci_->execute(true);
    dialect_.FinishStatement(*soci_);
    return got_row;
  });
}

bool PreparedStatement::Execute() {
  return Checked([this] {
    return sqlite_ != nullptr ? sqlite_->Execute() : soci_->execute(true);
  });
}

bool PreparedStatement::Fetch() {
  return Checked([this] {
    return sqlite_ != nullptr ? sqlite_->Fetch() : soci_->fetch();
  });
}

void PreparedStatement::Finish() {
  Checked([this] {
    if (sqlite_ != nullptr) {
      sqlite_->Finish();
    } else {
      dialect_.FinishStatement(*soci_);
    }
  });
}

}  // namespace tasks::storage
