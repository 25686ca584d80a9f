#include "storage/postgres_statement.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "soci/postgresql/soci-postgresql.h"
#include "storage/prepared_statement.h"

namespace tasks::storage {
namespace {

// SQLSTATE for failures libpq reports without one.
constexpr char kNoSqlState[] = "XX000";

PGconn* Handle(soci::session& session) {
  return static_cast<soci::postgresql_session_backend*>(session.get_backend())
      ->conn_;
}

}  // namespace

const std::string* LibpqStatementNames::Find(const std::string& sql) const {
  auto found = names_.find(sql);
  return found != names_.end() ? &found->second : nullptr;
}

const std::string& LibpqStatementNames::Add(const std::string& sql) {
  return names_.insert_or_assign(sql, absl::StrCat("libpq_", next_++))
      .first->second;
}

void ThrowPostgresError(PGconn* conn, const PGresult* result) {
  const char* state = result != nullptr
                          ? PQresultErrorField(result, PG_DIAG_SQLSTATE)
                          : nullptr;
  const char* message = result != nullptr ? PQresultErrorMessage(result) : "";
  if (message == nullptr || *message == '\0') message = PQerrorMessage(conn);
  throw soci::postgresql_soci_error(
      absl::StrCat("Cannot execute query. ", message),
      state != nullptr ? state : kNoSqlState);
}

PostgresTextParams::PostgresTextParams(const StatementParams& params,
                                       const std::vector<std::string>& names) {
  // ParamFor hands out mutable indicators; nothing here writes them.
  auto& fields = const_cast<StatementParams&>(params);
  texts_.reserve(names.size());
  for (const std::string& name : names) {
    const ParamRef ref = ParamFor(fields, name);
    if (ref.indicator != nullptr && *ref.indicator == soci::i_null) {
      texts_.emplace_back();
      values_.push_back(nullptr);
      continue;
    }
    switch (ref.type) {
      case ParamRef::Type::kInt64:
        texts_.push_back(
            absl::StrCat(*static_cast<const long long*>(ref.value)));
        break;
      case ParamRef::Type::kInt:
        texts_.push_back(absl::StrCat(*static_cast<const int*>(ref.value)));
        break;
      case ParamRef::Type::kText:
        texts_.push_back(*static_cast<const std::string*>(ref.value));
        break;
    }
    values_.push_back(texts_.back().c_str());
  }
}

void ReadPostgresRow(const PGresult* result, int row,
                     const std::vector<ColumnBinding>& columns) {
  for (size_t i = 0; i < columns.size(); ++i) {
    const ColumnBinding& column = columns[i];
    const int index = static_cast<int>(i);
    if (PQgetisnull(result, row, index)) {
      if (column.indicator == nullptr) {
        throw soci::soci_error("Null value fetched and no indicator defined.");
      }
      *column.indicator = soci::i_null;
      continue;
    }
    if (column.indicator != nullptr) *column.indicator = soci::i_ok;
    const char* text = PQgetvalue(result, row, index);
    switch (column.type) {
      case ColumnBinding::Type::kInt64: {
        long long value = 0;
        if (!absl::SimpleAtoi(text, &value)) {
          throw soci::soci_error(
              absl::StrCat("Cannot convert data: \"", text, "\""));
        }
        *static_cast<long long*>(column.value) = value;
        break;
      }
      case ColumnBinding::Type::kInt: {
        int value = 0;
        if (!absl::SimpleAtoi(text, &value)) {
          throw soci::soci_error(
              absl::StrCat("Cannot convert data: \"", text, "\""));
        }
        *static_cast<int*>(column.value) = value;
        break;
      }
      case ColumnBinding::Type::kText:
        static_cast<std::string*>(column.value)
            ->assign(text, PQgetlength(result, row, index));
        break;
    }
  }
}

PostgresStatement::PostgresStatement(soci::session& session,
                                     const std::string& sql,
                                     StatementParams& params,
                                     std::vector<ColumnBinding> columns,
                                     LibpqStatementNames& prepared)
    : conn_(Handle(session)), params_(params), columns_(std::move(columns)) {
  const std::string positional = PositionalSql(sql, &names_);
  if (const std::string* name = prepared.Find(sql)) {
    name_ = *name;
    return;
  }
  name_ = prepared.Add(sql);
  std::unique_ptr<PGresult, decltype(&PQclear)> result(
      PQprepare(conn_, name_.c_str(), positional.c_str(),
                static_cast<int>(names_.size()), nullptr),
      &PQclear);
  if (result == nullptr || PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
    prepared.Remove(sql);
    ThrowPostgresError(conn_, result.get());
  }
}

bool PostgresStatement::Execute() {
  const PostgresTextParams params(params_, names_);
  result_.reset(PQexecPrepared(conn_, name_.c_str(), params.size(),
                               params.values(), nullptr, nullptr, 0));
  const ExecStatusType status =
      result_ != nullptr ? PQresultStatus(result_.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    auto failed = std::move(result_);
    ThrowPostgresError(conn_, failed.get());
  }
  row_ = 0;
  return ReadRow();
}

bool PostgresStatement::Fetch() {
  ++row_;
  return ReadRow();
}

void PostgresStatement::Finish() { result_.reset(); }

bool PostgresStatement::ReadRow() {
  if (result_ == nullptr || row_ >= PQntuples(result_.get())) return false;
  ReadPostgresRow(result_.get(), row_, columns_);
  return true;
}

}  // namespace tasks::storage
