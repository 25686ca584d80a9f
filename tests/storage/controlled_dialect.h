#ifndef TASKS_TESTS_STORAGE_CONTROLLED_DIALECT_H_
#define TASKS_TESTS_STORAGE_CONTROLLED_DIALECT_H_

#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "storage/engine/dialect.h"

namespace tasks::storage {

// ControlledDialect
//
// The SQLite dialect on one database file, whose connects a test can count,
// refuse, or hold until it lets them go: for the engine's unit tests (pool,
// group committer) without a store around them. Every other method is the
// SQLite dialect's. Thread-safe.
class ControlledDialect final : public Dialect {
 public:
  // `path`: a SQLite file, so that every connection sees one database.
  // `serialize_writes` as the dialect reports it (SQLite's is true).
  explicit ControlledDialect(std::string path, bool serialize_writes = true);

  // While set, Connect() throws soci::soci_error ("connection refused").
  void RefuseConnects(bool refuse);

  // While held, Connect() waits (before connecting) until released.
  void HoldConnects(bool hold);

  // Connect() calls so far, and those waiting on HoldConnects now.
  int connects() const;
  int held_connects() const;

  // Waits until `count` connects wait on HoldConnects; false after `timeout`.
  bool AwaitHeldConnects(int count, absl::Duration timeout) const;

  absl::string_view name() const override { return "controlled sqlite"; }
  int default_pool_size() const override;
  int max_pool_size() const override;
  bool serialize_writes() const override { return serialize_writes_; }
  bool has_pipeline() const override;
  bool numbers_changes_on_write() const override;
  bool keeps_prepared_statements() const override;
  bool buffers_results() const override;
  std::unique_ptr<soci::session> Connect() const override;
  absl::Span<const MigrationScript> migration_scripts() const override;
  void ExecuteScript(soci::session& session,
                     absl::string_view script) const override;
  const char* begin_sql() const override;
  const char* migration_lock_sql() const override;
  const char* lock_rows_sql() const override;
  std::string AllowedIdsCondition(absl::string_view column) const override;
  std::string AllowedIdsParameter(
      const std::vector<int64_t>& ids) const override;
  const char* metadata_filter_sql() const override;
  filter::SqlDialect filter_dialect() const override;
  DbError ClassifyError(const std::exception& error,
                        soci::session* session) const override;
  void FinishStatement(soci::statement& statement) const override;
  uint64_t ArmDeadline(soci::session& session,
                       absl::Time deadline) const override;
  [[nodiscard]] bool DisarmDeadline(uint64_t id) const override;
  void ExpireDeadline(uint64_t id) const override;
  void CancelStatements() const override;
  bool InTransaction(soci::session& session) const override;
  void ResetStatements(soci::session& session) const override;
  bool Recover(soci::session& session) const override;

 private:
  const std::unique_ptr<Dialect> sqlite_;
  const bool serialize_writes_;
  mutable absl::Mutex mu_;
  bool refuse_ ABSL_GUARDED_BY(mu_) = false;
  bool hold_ ABSL_GUARDED_BY(mu_) = false;
  mutable int connects_ ABSL_GUARDED_BY(mu_) = 0;
  mutable int held_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tasks::storage

#endif  // TASKS_TESTS_STORAGE_CONTROLLED_DIALECT_H_
