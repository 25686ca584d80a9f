#include "storage/engine/connection.h"

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
      session_(dialect.Connect()) {}

PreparedStatement& Connection::Statement(const std::string& sql, RowKind kind) {
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
  if (!grouped_) BeginAlways();
}

void Connection::Commit() {
  if (!grouped_) CommitAlways();
}

void Connection::BeginAlways() {
  Statement(begin_sql_, RowKind::kNone).ExecuteOnce();
}

void Connection::CommitAlways() {
  static const auto* const kCommit = new std::string("COMMIT");
  Statement(*kCommit, RowKind::kNone).ExecuteOnce();
}

void Connection::Savepoint() {
  static const auto* const kSavepoint = new std::string("SAVEPOINT w");
  Statement(*kSavepoint, RowKind::kNone).ExecuteOnce();
}

void Connection::RollbackToSavepoint() {
  static const auto* const kRollbackTo = new std::string("ROLLBACK TO w");
  Statement(*kRollbackTo, RowKind::kNone).ExecuteOnce();
}

void Connection::ReleaseSavepoint() {
  static const auto* const kRelease = new std::string("RELEASE w");
  Statement(*kRelease, RowKind::kNone).ExecuteOnce();
}

void Connection::Recover() {
  // A broken session is dropped, not rolled back: that could wait on it.
  if (!broken_ && !dialect_.Recover(*session_)) broken_ = true;
}

}  // namespace tasks::storage
