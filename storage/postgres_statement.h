#ifndef TASKS_STORAGE_POSTGRES_STATEMENT_H_
#define TASKS_STORAGE_POSTGRES_STATEMENT_H_

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "soci/soci.h"
#include "storage/column_binding.h"
#include "storage/statement_params.h"

namespace tasks::storage {

// The statements prepared on one PostgreSQL session through libpq, by SQL
// text. Each gets a name no other statement of the session ever had, so a
// statement forgotten after a failed preparation never clashes with one
// that exists.
class LibpqStatementNames {
 public:
  // The name `sql` was prepared under; nullptr when it was not.
  const std::string* Find(const std::string& sql) const;

  // Records `sql` as prepared under a new name, which it returns.
  const std::string& Add(const std::string& sql);

  // Forgets `sql` (its preparation failed or never ran).
  void Remove(const std::string& sql) { names_.erase(sql); }

 private:
  absl::flat_hash_map<std::string, std::string> names_;
  int next_ = 1;
};

// PostgresStatement
//
// A statement prepared once per PostgreSQL session (a named server-side
// statement) and run through libpq: PQexecPrepared with the parameters as
// text straight from StatementParams, the result's columns read straight
// into the row buffers. One round trip per execution. SOCI's statements did
// the same round trip with several times the client-side work (per-call
// parameter formatting and result bookkeeping). Not thread-safe. Methods
// throw soci::postgresql_soci_error with the server's SQLSTATE and message.
class PostgresStatement {
 public:
  // Prepares `sql` (named parameters) on `session` unless `prepared` (the
  // session's, see Connection::libpq_statements) has it already, binding its
  // parameters to `params` and its result columns to `columns`; both must
  // outlive the statement.
  PostgresStatement(soci::session& session, const std::string& sql,
                    StatementParams& params, std::vector<ColumnBinding> columns,
                    LibpqStatementNames& prepared);

  PostgresStatement(const PostgresStatement&) = delete;
  PostgresStatement& operator=(const PostgresStatement&) = delete;

  // Runs the statement with the current parameter values; true when it
  // returned a row (its columns are then read).
  bool Execute();

  // The next row; false at the end.
  bool Fetch();

  // Releases the result.
  void Finish();

 private:
  bool ReadRow();

  PGconn* const conn_;
  std::string name_;
  std::vector<std::string> names_;  // parameter names, in $n order
  StatementParams& params_;
  std::vector<ColumnBinding> columns_;
  std::unique_ptr<PGresult, decltype(&PQclear)> result_{nullptr, &PQclear};
  int row_ = 0;
};

// Throws soci::postgresql_soci_error for `result` (null when libpq returned
// none) on `conn`, as SOCI reports a failed statement.
[[noreturn]] void ThrowPostgresError(PGconn* conn, const PGresult* result);

// The parameters `names` of `params` as libpq text values (null for NULL).
class PostgresTextParams {
 public:
  PostgresTextParams(const StatementParams& params,
                     const std::vector<std::string>& names);

  PostgresTextParams(const PostgresTextParams&) = delete;
  PostgresTextParams& operator=(const PostgresTextParams&) = delete;

  int size() const { return static_cast<int>(values_.size()); }
  const char* const* values() const { return values_.data(); }

 private:
  std::vector<std::string> texts_;  // reserved: c_str() pointers stay valid
  std::vector<const char*> values_;
};

// Reads row `row` of `result` into `columns`.
void ReadPostgresRow(const PGresult* result, int row,
                     const std::vector<ColumnBinding>& columns);

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_POSTGRES_STATEMENT_H_
