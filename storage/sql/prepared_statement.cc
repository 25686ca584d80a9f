#include "storage/sql/prepared_statement.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <stdexcept>
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
    : dialect_(dialect), statement_(session) {
  switch (kind) {
    case RowKind::kNone:
      break;
    case RowKind::kTask:
      statement_.exchange(soci::into(task_.id));
      statement_.exchange(
          soci::into(task_.project_id, task_.project_id_indicator));
      statement_.exchange(soci::into(task_.title));
      statement_.exchange(soci::into(task_.description));
      statement_.exchange(soci::into(task_.status));
      statement_.exchange(soci::into(task_.priority));
      statement_.exchange(soci::into(task_.metadata));
      statement_.exchange(soci::into(task_.create_time));
      statement_.exchange(soci::into(task_.update_time));
      statement_.exchange(soci::into(task_.revision));
      break;
    case RowKind::kProject:
      statement_.exchange(soci::into(project_.id));
      statement_.exchange(soci::into(project_.name));
      statement_.exchange(soci::into(project_.description));
      statement_.exchange(soci::into(project_.create_time));
      statement_.exchange(soci::into(project_.update_time));
      break;
    case RowKind::kNumber:
      statement_.exchange(soci::into(number_));
      break;
  }
  for (const std::string& name : ParameterNames(sql)) Bind(name);
  statement_.alloc();
  statement_.prepare(sql, dialect.keeps_prepared_statements()
                              ? soci::details::st_repeatable_query
                              : soci::details::st_one_time_query);
  statement_.define_and_bind();
}

void PreparedStatement::Bind(const std::string& name) {
  // Const references: SOCI only reads them.
  const StatementParams& p = params_;
  StatementParams& m = params_;
  if (name == "id") {
    statement_.exchange(soci::use(p.id, name));
  } else if (name == "project_id") {
    statement_.exchange(soci::use(p.project_id, m.project_id_indicator, name));
  } else if (name == "name") {
    statement_.exchange(soci::use(p.name, m.name_indicator, name));
  } else if (name == "title") {
    statement_.exchange(soci::use(p.title, m.title_indicator, name));
  } else if (name == "description") {
    statement_.exchange(soci::use(p.description, name));
  } else if (name == "status") {
    statement_.exchange(soci::use(p.status, name));
  } else if (name == "priority") {
    statement_.exchange(soci::use(p.priority, name));
  } else if (name == "metadata") {
    statement_.exchange(soci::use(p.metadata, name));
  } else if (name == "now") {
    statement_.exchange(soci::use(p.now, name));
  } else if (name == "revision") {
    statement_.exchange(soci::use(p.revision, name));
  } else if (name == "request_id") {
    statement_.exchange(soci::use(p.request_id, m.request_id_indicator, name));
  } else if (name == "idempotency_scope") {
    statement_.exchange(soci::use(p.idempotency_scope, name));
  } else if (name == "request_fingerprint") {
    statement_.exchange(soci::use(p.request_fingerprint,
                                  m.request_fingerprint_indicator, name));
  } else if (name == "after_id") {
    statement_.exchange(soci::use(p.after_id, name));
  } else if (name == "after_number") {
    statement_.exchange(soci::use(p.after_number, name));
  } else if (name == "after_text") {
    statement_.exchange(soci::use(p.after_text, name));
  } else if (name == "limit") {
    statement_.exchange(soci::use(p.limit, name));
  } else if (name == "allowed_ids") {
    statement_.exchange(soci::use(p.allowed_ids, name));
  } else if (name == "meta_key") {
    statement_.exchange(soci::use(p.meta_key, name));
  } else if (name == "meta_value") {
    statement_.exchange(soci::use(p.meta_value, name));
  } else if (std::optional<FilterParamSlot> slot = FilterParamFor(name)) {
    if (m.filter == nullptr) m.filter = std::make_unique<FilterParamValues>();
    const FilterParamValues& f = *p.filter;
    if (slot->type == 'i') {
      statement_.exchange(soci::use(f.integers[slot->index], name));
    } else if (slot->type == 'r') {
      statement_.exchange(soci::use(f.reals[slot->index], name));
    } else {
      statement_.exchange(soci::use(f.texts[slot->index], name));
    }
  } else {
    throw std::logic_error("no statement parameter named :" + name);
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
    bool got_row = statement_.execute(true);
    dialect_.FinishStatement(statement_);
    return got_row;
  });
}

bool PreparedStatement::Execute() {
  return Checked([this] { return statement_.execute(true); });
}

bool PreparedStatement::Fetch() {
  return Checked([this] { return statement_.fetch(); });
}

void PreparedStatement::Finish() {
  Checked([this] { dialect_.FinishStatement(statement_); });
}

}  // namespace tasks::storage
