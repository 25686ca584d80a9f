#include "tests/storage/controlled_dialect.h"

#include <utility>

#include "soci/soci.h"
#include "storage/sqlite/sqlite_dialect.h"

namespace tasks::storage {

ControlledDialect::ControlledDialect(std::string path, bool serialize_writes)
    : sqlite_(MakeSqliteDialect(std::move(path), absl::Seconds(30))),
      serialize_writes_(serialize_writes) {}

void ControlledDialect::RefuseConnects(bool refuse) {
  absl::MutexLock lock(&mu_);
  refuse_ = refuse;
}

void ControlledDialect::HoldConnects(bool hold) {
  absl::MutexLock lock(&mu_);
  hold_ = hold;
}

int ControlledDialect::connects() const {
  absl::MutexLock lock(&mu_);
  return connects_;
}

int ControlledDialect::held_connects() const {
  absl::MutexLock lock(&mu_);
  return held_;
}

bool ControlledDialect::AwaitHeldConnects(int count,
                                          absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto reached = [this, count]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return held_ >= count;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

std::unique_ptr<soci::session> ControlledDialect::Connect() const {
  {
    absl::MutexLock lock(&mu_);
    ++connects_;
    ++held_;
    auto released = [this]()
                        ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !hold_; };
    mu_.Await(absl::Condition(&released));
    --held_;
    if (refuse_) throw soci::soci_error("connection refused");
  }
  return sqlite_->Connect();
}

int ControlledDialect::default_pool_size() const {
  return sqlite_->default_pool_size();
}
int ControlledDialect::max_pool_size() const {
  return sqlite_->max_pool_size();
}
bool ControlledDialect::has_pipeline() const { return sqlite_->has_pipeline(); }
bool ControlledDialect::numbers_changes_on_write() const {
  return sqlite_->numbers_changes_on_write();
}
bool ControlledDialect::keeps_prepared_statements() const {
  return sqlite_->keeps_prepared_statements();
}
bool ControlledDialect::buffers_results() const {
  return sqlite_->buffers_results();
}
absl::Span<const MigrationScript> ControlledDialect::migration_scripts() const {
  return sqlite_->migration_scripts();
}
void ControlledDialect::ExecuteScript(soci::session& session,
                                      absl::string_view script) const {
  sqlite_->ExecuteScript(session, script);
}
const char* ControlledDialect::begin_sql() const {
  return sqlite_->begin_sql();
}
const char* ControlledDialect::migration_lock_sql() const {
  return sqlite_->migration_lock_sql();
}
const char* ControlledDialect::lock_rows_sql() const {
  return sqlite_->lock_rows_sql();
}
std::string ControlledDialect::AllowedIdsCondition(
    absl::string_view column) const {
  return sqlite_->AllowedIdsCondition(column);
}
std::string ControlledDialect::AllowedIdsParameter(
    const std::vector<int64_t>& ids) const {
  return sqlite_->AllowedIdsParameter(ids);
}
const char* ControlledDialect::metadata_filter_sql() const {
  return sqlite_->metadata_filter_sql();
}
filter::SqlDialect ControlledDialect::filter_dialect() const {
  return sqlite_->filter_dialect();
}
DbError ControlledDialect::ClassifyError(const std::exception& error,
                                         soci::session* session) const {
  return sqlite_->ClassifyError(error, session);
}
void ControlledDialect::FinishStatement(soci::statement& statement) const {
  sqlite_->FinishStatement(statement);
}
uint64_t ControlledDialect::ArmDeadline(soci::session& session,
                                        absl::Time deadline) const {
  return sqlite_->ArmDeadline(session, deadline);
}
bool ControlledDialect::DisarmDeadline(uint64_t id) const {
  return sqlite_->DisarmDeadline(id);
}
void ControlledDialect::ExpireDeadline(uint64_t id) const {
  sqlite_->ExpireDeadline(id);
}
void ControlledDialect::CancelStatements() const {
  sqlite_->CancelStatements();
}
bool ControlledDialect::InTransaction(soci::session& session) const {
  return sqlite_->InTransaction(session);
}
void ControlledDialect::ResetStatements(soci::session& session) const {
  sqlite_->ResetStatements(session);
}
bool ControlledDialect::Recover(soci::session& session) const {
  return sqlite_->Recover(session);
}

}  // namespace tasks::storage
