#include "storage/sqlite_statement.h"

#include <utility>

// Declares the SQLite C API inside namespace sqlite_api: include it instead
// of <sqlite3.h>, which would then be skipped.
#include "soci/sqlite3/soci-sqlite3.h"
#include "storage/prepared_statement.h"

namespace tasks::storage {
namespace {

using namespace sqlite_api;  // NOLINT: the C API's functions

sqlite3* Handle(soci::session& session) {
  return static_cast<soci::sqlite3_session_backend*>(session.get_backend())
      ->conn_;
}

}  // namespace

SqliteStatement::SqliteStatement(soci::session& session, const std::string& sql,
                                 StatementParams& params,
                                 std::vector<Column> columns)
    : columns_(std::move(columns)) {
  sqlite3* db = Handle(session);
  int rc = sqlite3_prepare_v3(db, sql.c_str(), static_cast<int>(sql.size() + 1),
                              SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) {
    throw soci::sqlite3_soci_error(
        std::string("sqlite3 prepare: ") + sqlite3_errmsg(db), rc);
  }
  try {
    for (const std::string& name : ParameterNames(sql)) {
      const int index =
          sqlite3_bind_parameter_index(stmt_, (":" + name).c_str());
      if (index > 0) params_.emplace_back(index, ParamFor(params, name));
    }
  } catch (...) {
    sqlite3_finalize(stmt_);  // no destructor runs for a failed constructor
    throw;
  }
}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }

bool SqliteStatement::Execute() {
  sqlite3_reset(stmt_);
  for (const auto& [index, param] : params_) {
    int rc;
    if (param.indicator != nullptr && *param.indicator == soci::i_null) {
      rc = sqlite3_bind_null(stmt_, index);
    } else if (param.type == ParamRef::Type::kInt64) {
      rc = sqlite3_bind_int64(stmt_, index,
                              *static_cast<const long long*>(param.value));
    } else if (param.type == ParamRef::Type::kInt) {
      rc =
          sqlite3_bind_int(stmt_, index, *static_cast<const int*>(param.value));
    } else {
      // The text stays put until the statement is reset or run again.
      const auto& text = *static_cast<const std::string*>(param.value);
      rc = sqlite3_bind_text64(stmt_, index, text.data(), text.size(),
                               SQLITE_STATIC, SQLITE_UTF8);
    }
    if (rc != SQLITE_OK) Throw(rc);
  }
  return Step();
}

bool SqliteStatement::Fetch() { return Step(); }

void SqliteStatement::Finish() {
  if (sqlite3_stmt_busy(stmt_) && !sqlite3_stmt_readonly(stmt_)) {
    int rc;
    while ((rc = sqlite3_step(stmt_)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) Throw(rc);
  }
  sqlite3_reset(stmt_);
}

bool SqliteStatement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_DONE) return false;
  if (rc != SQLITE_ROW) Throw(rc);
  for (size_t i = 0; i < columns_.size(); ++i) {
    const Column& column = columns_[i];
    const int index = static_cast<int>(i);
    // Each sqlite3_column_* call takes the connection's mutex: the type is
    // asked only where a NULL is expected. A NULL text column without an
    // indicator is refused as SOCI refuses it; integer columns without one
    // are NOT NULL in the schema.
    if (column.indicator != nullptr) {
      const bool null = sqlite3_column_type(stmt_, index) == SQLITE_NULL;
      *column.indicator = null ? soci::i_null : soci::i_ok;
      if (null) continue;
    }
    switch (column.type) {
      case Column::Type::kInt64:
        *static_cast<long long*>(column.value) =
            sqlite3_column_int64(stmt_, index);
        break;
      case Column::Type::kInt:
        *static_cast<int*>(column.value) = sqlite3_column_int(stmt_, index);
        break;
      case Column::Type::kText: {
        const unsigned char* text = sqlite3_column_text(stmt_, index);
        if (text == nullptr) {
          throw soci::soci_error(
              "Null value fetched and no indicator defined.");
        }
        const int size = sqlite3_column_bytes(stmt_, index);
        static_cast<std::string*>(column.value)
            ->assign(reinterpret_cast<const char*>(text), size);
        break;
      }
    }
  }
  return true;
}

void SqliteStatement::Throw(int rc) {
  // Not reset: the session keeps this statement's error code for
  // ClassifyError; the caller's recovery resets it.
  throw soci::sqlite3_soci_error(std::string("sqlite3 statement: ") +
                                     sqlite3_errmsg(sqlite3_db_handle(stmt_)),
                                 rc);
}

}  // namespace tasks::storage
