#include "storage/postgres_pipeline.h"

#include <libpq-fe.h>

#include <algorithm>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "soci/postgresql/soci-postgresql.h"
#include "storage/column_binding.h"
#include "storage/postgres_statement.h"
#include "storage/prepared_statement.h"

namespace tasks::storage {
namespace {

// Statements per round trip. Small enough that neither side's socket buffer
// fills while the other is still writing (libpq sends in blocking mode).
constexpr size_t kChunk = 64;

// SQLSTATE for a returned row that cannot be read (internal error).
constexpr char kUnreadableRow[] = "XX000";

PGconn* Handle(soci::session& session) {
  return static_cast<soci::postgresql_session_backend*>(session.get_backend())
      ->conn_;
}

using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

ResultPtr NextResult(PGconn* conn) {
  return ResultPtr(PQgetResult(conn), &PQclear);
}

// The first failure of a chunk, as ThrowPostgresError reports it.
struct Failure {
  int index = -1;
  std::string sqlstate;
  std::string message;
};

void RecordFailure(int index, const PGresult* result, PGconn* conn,
                   Failure& failure) {
  if (failure.index >= 0) return;
  failure.index = index;
  try {
    ThrowPostgresError(conn, result);
  } catch (const soci::postgresql_soci_error& error) {
    failure.sqlstate = error.sqlstate();
    failure.message = error.what();
  }
}

}  // namespace

std::vector<std::optional<TaskRow>> RunTaskPipeline(
    soci::session& session, const std::vector<PipelinedStatement>& statements,
    LibpqStatementNames& prepared, int* failed) {
  PGconn* conn = Handle(session);
  std::vector<std::optional<TaskRow>> rows(statements.size());
  if (PQenterPipelineMode(conn) != 1) {
    *failed = 0;
    ThrowPostgresError(conn, nullptr);
  }
  Failure failure;
  for (size_t start = 0; start < statements.size() && failure.index < 0;
       start += kChunk) {
    const size_t end = std::min(statements.size(), start + kChunk);
    // What was sent, in order: a statement index, or -1 for a Prepare
    // (failing, it fails the statement after it).
    std::vector<int> sent;
    for (size_t i = start; i < end; ++i) {
      const std::string& sql = *statements[i].sql;
      std::vector<std::string> names;
      const std::string positional = PositionalSql(sql, &names);
      const std::string* name = prepared.Find(sql);
      if (name == nullptr) {
        name = &prepared.Add(sql);
        if (PQsendPrepare(conn, name->c_str(), positional.c_str(),
                          static_cast<int>(names.size()), nullptr) != 1) {
          prepared.Remove(sql);
          RecordFailure(static_cast<int>(i), nullptr, conn, failure);
          break;
        }
        sent.push_back(-1 - static_cast<int>(i));
      }
      const PostgresTextParams params(statements[i].params, names);
      if (PQsendQueryPrepared(conn, name->c_str(), params.size(),
                              params.values(), nullptr, nullptr, 0) != 1) {
        RecordFailure(static_cast<int>(i), nullptr, conn, failure);
        break;
      }
      sent.push_back(static_cast<int>(i));
    }
    if (PQpipelineSync(conn) != 1) {
      RecordFailure(static_cast<int>(start), nullptr, conn, failure);
      break;
    }
    for (int what : sent) {
      ResultPtr result = NextResult(conn);
      const int index = what >= 0 ? what : -1 - what;
      if (result == nullptr) {  // the connection is gone
        RecordFailure(index, nullptr, conn, failure);
        break;
      }
      switch (PQresultStatus(result.get())) {
        case PGRES_TUPLES_OK:
          if (what >= 0 && PQntuples(result.get()) > 0) {
            TaskRow& row = rows[what].emplace();
            try {
              ReadPostgresRow(result.get(), 0, TaskColumnBindings(row));
            } catch (const soci::soci_error& error) {
              // Thrown once every result is read, out of pipeline mode.
              if (failure.index < 0) {
                failure.index = what;
                failure.sqlstate = kUnreadableRow;
                failure.message = error.what();
              }
            }
          }
          break;
        case PGRES_COMMAND_OK:
          break;
        case PGRES_PIPELINE_ABORTED:
          // A Prepare after the failure never ran.
          if (what < 0) prepared.Remove(*statements[index].sql);
          break;
        default:
          if (what < 0) prepared.Remove(*statements[index].sql);
          RecordFailure(index, result.get(), conn, failure);
          break;
      }
      NextResult(conn);  // the null that ends each statement's results
    }
    // The chunk's sync point; the connection is lost without one.
    ResultPtr sync = NextResult(conn);
    if (sync == nullptr || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC) {
      RecordFailure(static_cast<int>(start), sync.get(), conn, failure);
      break;
    }
  }
  PQexitPipelineMode(conn);
  if (failure.index >= 0) {
    *failed = failure.index;
    throw soci::postgresql_soci_error(failure.message,
                                      failure.sqlstate.c_str());
  }
  return rows;
}

}  // namespace tasks::storage
