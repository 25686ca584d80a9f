#ifndef TASKS_STORAGE_SQLITE_STATEMENT_H_
#define TASKS_STORAGE_SQLITE_STATEMENT_H_

#include <string>
#include <utility>
#include <vector>

#include "soci/soci.h"
#include "storage/column_binding.h"
#include "storage/statement_params.h"
#include "storage/task_rows.h"

namespace sqlite_api {
struct sqlite3_stmt;
}  // namespace sqlite_api

namespace tasks::storage {

// SqliteStatement
//
// A statement prepared once on a SOCI SQLite session and run through the
// sqlite3 C API: parameters bound straight from StatementParams, columns
// read straight into the row buffers. SOCI's own statements copy every row
// twice on the way (into a row set, then into the buffers), which cost as
// much as SQLite's own work for a point read. Not thread-safe. Methods throw
// soci::sqlite3_soci_error; the session's extended error code is then the
// statement's (see Dialect::ClassifyError).
class SqliteStatement {
 public:
  // Where each result column goes, in column order.
  using Column = ColumnBinding;

  // Prepares `sql` on `session` (a SOCI sqlite3 session), binding each named
  // parameter it uses to its field of `params` and the result columns to
  // `columns`. Both must outlive the statement.
  SqliteStatement(soci::session& session, const std::string& sql,
                  StatementParams& params, std::vector<Column> columns);
  ~SqliteStatement();

  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  // Binds the current parameter values and runs to the first row; true when
  // there is one (its columns are then read).
  bool Execute();

  // The next row; false at the end.
  bool Fetch();

  // Runs a write to its end (an autocommit write commits only then) and
  // releases the statement's locks.
  void Finish();

 private:
  bool Step();
  [[noreturn]] void Throw(int rc);

  sqlite_api::sqlite3_stmt* stmt_ = nullptr;
  std::vector<std::pair<int, ParamRef>> params_;  // (index, field)
  std::vector<Column> columns_;
};

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_SQLITE_STATEMENT_H_
