#ifndef TASKS_STORAGE_SQL_PREPARED_STATEMENT_H_
#define TASKS_STORAGE_SQL_PREPARED_STATEMENT_H_

#include <string>
#include <vector>

#include "soci/soci.h"
#include "storage/engine/dialect.h"
#include "storage/schema/column.h"
#include "storage/sql/extra_columns.h"
#include "storage/sql/statement_params.h"

namespace tasks::storage {

// What a statement's result rows are read into.
enum class RowKind {
  kNone,     // no rows
  kTask,     // schema::kTaskTable's columns
  kProject,  // schema::kProjectTable's columns
  kNumber,   // one integer column
  // A ListTasks page with the change position of its snapshot: kTask's
  // columns (all NULL in the one row of an empty page), then change_seq and
  // change_reflected (see kPositionExtras).
  kTaskPage,
  // change_seq and change_reflected alone.
  kPosition,
  // A change of the log: kTask's columns (all NULL in the one row of an
  // empty read), then the kChangeExtras columns.
  kTaskChange,
};

// The table whose rows (and column parameters) a statement of `kind` has;
// nullptr for kNone and kNumber.
const schema::Table* TableOf(RowKind kind);

// PreparedStatement
//
// A SOCI statement prepared once on one session and executed many times,
// bound to buffers it owns: set params(), execute, read the row buffers.
// Where the dialect keeps no prepared statements (a transaction pooler),
// only the parsing and binding are kept: each execution sends the SQL text.
// Not thread-safe (neither is its session). Methods throw soci::soci_error.
class PreparedStatement {
 public:
  // Prepares `sql` on `session`, binding each named parameter it uses to
  // params() and the result columns of `kind` to row(), in table order.
  PreparedStatement(soci::session& session, const Dialect& dialect,
                    const std::string& sql, RowKind kind);

  PreparedStatement(const PreparedStatement&) = delete;
  PreparedStatement& operator=(const PreparedStatement&) = delete;

  StatementParams& params() { return params_; }

  // Runs a statement yielding at most one row, to completion (a write is
  // committed unless a transaction is open). True when a row came back.
  bool ExecuteOnce();

  // Runs the statement; true when it yields a first row. Read the rest with
  // Fetch(), then call Finish().
  bool Execute();
  bool Fetch();
  void Finish();

  // The row read last (kTask, kProject), indexed by TableOf(kind).
  const schema::Row& row() const { return row_; }
  long long number() const { return number_; }
  // The columns after the table's (kPositionExtras, kChangeExtras).
  const schema::ColumnValue& extra(int i) const { return extras_[i]; }

  // True once an execution failed. SOCI may then keep stale parameter
  // buffers (PostgreSQL keeps the previous value where a NULL follows), so
  // the statement must be prepared afresh.
  bool failed() const { return failed_; }

 private:
  void Bind(const std::string& name);
  template <typename T>
  void UseParam(const T& value, soci::indicator* indicator,
                const std::string& name);

  // Sets the NULL indicators of the bound column parameters from their
  // values, before an execution.
  void SetParamIndicators();
  // Sets the `null` of the nullable row columns from their indicators,
  // after a row was read.
  bool ReadNulls(bool got_row);

  // Runs `step`, remembering a failure.
  template <typename Step>
  auto Checked(Step&& step) -> decltype(step());

  const Dialect& dialect_;
  const schema::Table* const table_;
  soci::statement statement_;
  StatementParams params_;
  std::vector<int> bound_columns_;     // the columns bound as parameters
  std::vector<int> nullable_columns_;  // the row's columns with an indicator
  schema::Row row_;
  soci::indicator row_indicators_[schema::kMaxColumns] = {};
  int extra_count_ = 0;
  schema::ColumnValue extras_[kMaxExtraColumns];
  soci::indicator extra_indicators_[kMaxExtraColumns] = {};
  long long number_ = 0;
  bool failed_ = false;
};

// The distinct named parameters (":name", not "::cast") of `sql`, in order of
// first use. Quoted text is skipped.
std::vector<std::string> ParameterNames(const std::string& sql);

// `sql` with each named parameter replaced by "$n", n its position in
// `names` (filled with ParameterNames(sql)): PostgreSQL's own form.
std::string PositionalSql(const std::string& sql,
                          std::vector<std::string>* names);

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_SQL_PREPARED_STATEMENT_H_
