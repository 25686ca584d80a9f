#include "storage/connection.h"

#include <utility>

namespace tasks::storage {
namespace {

// Distinct SQL texts are few (list and update variants); this only bounds
// memory should that ever change.
constexpr size_t kMaxStatements = 1024;

}  // namespace

Connection::Connection(const Dialect& dialect)
    : dialect_(dialect),
      begin_sql_(dialect.begin_sql()),
      commit_sql_("COMMIT"),
      session_(dialect.Connect()) {}

PreparedStatement& Connection::Statement(const std::string& sql,
                                         RowKind kind) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) {
    if (!it->second->failed()) return *it->second;
    statements_.erase(it);
  }
  if (statements_.size() >= kMaxStatements) statements_.clear();
  auto statement =
      std::make_unique<PreparedStatement>(*session_, dialect_, sql, kind);
  PreparedStatement& result = *statement;
  statements_.emplace(sql, std::move(statement));
  return result;
}

void Connection::Begin() {
  Statement(begin_sql_, RowKind::kNone).ExecuteOnce();
}

void Connection::Commit() {
  Statement(commit_sql_, RowKind::kNone).ExecuteOnce();
}

void Connection::Recover() {
  if (!dialect_.Recover(*session_)) broken_ = true;
}

}  // namespace tasks::storage
