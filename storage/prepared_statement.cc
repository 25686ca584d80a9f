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
                                     const std::string& sql, RowKind kind,
                                     LibpqStatementNames& libpq_statements) {
  if (dialect.is_sqlite()) {
    sqlite_ =
        std::make_unique<SqliteStatement>(session, sql, params_, Columns(kind));
  } else {
    postgres_ = std::make_unique<PostgresStatement>(
        session, sql, params_, Columns(kind), libpq_statements);
  }
}

std::vector<ColumnBinding> PreparedStatement::Columns(RowKind kind) {
  switch (kind) {
    case RowKind::kNone:
      return {};
    case RowKind::kTask:
      return TaskColumnBindings(task_);
    case RowKind::kProject:
      return ProjectColumnBindings(project_);
    case RowKind::kNumber:
      return {{ColumnBinding::Type::kInt64, &number_, nullptr}};
  }
  return {};
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
    const bool got_row = postgres_->Execute();
    postgres_->Finish();
    return got_row;
  });
}

bool PreparedStatement::Execute() {
  return Checked([this] {
    return sqlite_ != nullptr ? sqlite_->Execute() : postgres_->Execute();
  });
}

bool PreparedStatement::Fetch() {
  return Checked([this] {
    return sqlite_ != nullptr ? sqlite_->Fetch() : postgres_->Fetch();
  });
}

void PreparedStatement::Finish() {
  Checked([this] {
    if (sqlite_ != nullptr) {
      sqlite_->Finish();
    } else {
      postgres_->Finish();
    }
  });
}

}  // namespace tasks::storage
