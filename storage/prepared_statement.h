#ifndef TASKS_STORAGE_PREPARED_STATEMENT_H_
#define TASKS_STORAGE_PREPARED_STATEMENT_H_

#include <memory>
#include <string>
#include <vector>

#include "soci/soci.h"
#include "storage/dialect.h"
#include "storage/postgres_statement.h"
#include "storage/sqlite_statement.h"
#include "storage/statement_params.h"
#include "storage/task_rows.h"

namespace tasks::storage {

// What a statement's result rows are read into.
enum class RowKind {
  kNone,     // no rows
  kTask,     // kTaskColumns
  kProject,  // kProjectColumns
  kNumber,   // one integer column
};

// PreparedStatement
//
// A statement prepared once on one session and executed many times, bound
// to buffers it owns: set params(), execute, read the row buffers. Runs
// through the database's C API (SqliteStatement, PostgresStatement), on the
// session SOCI opened.
// Not thread-safe (neither is its session). Methods throw soci::soci_error.
class PreparedStatement {
 public:
  // Prepares `sql` on `session`, binding each named parameter it uses to
  // params() and the result columns of `kind` to the row buffers.
  // `libpq_statements`: the session's Connection::libpq_statements().
  PreparedStatement(soci::session& session, const Dialect& dialect,
                    const std::string& sql, RowKind kind,
                    LibpqStatementNames& libpq_statements);

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

  const TaskRow& task() const { return task_; }
  const ProjectRow& project() const { return project_; }
  long long number() const { return number_; }

  // True once an execution failed; the statement is then prepared afresh
  // (on SQLite it may be left mid-step).
  bool failed() const { return failed_; }

 private:
  // The row buffers of `kind`.
  std::vector<ColumnBinding> Columns(RowKind kind);

  // Runs `step`, remembering a failure.
  template <typename Step>
  auto Checked(Step&& step) -> decltype(step());

  StatementParams params_;
  // Exactly one of these.
  std::unique_ptr<SqliteStatement> sqlite_;
  std::unique_ptr<PostgresStatement> postgres_;
  TaskRow task_;
  ProjectRow project_;
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

#endif  // TASKS_STORAGE_PREPARED_STATEMENT_H_
