#include "storage/postgres/postgres_pipeline.h"

#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <memory>

#include "absl/strings/str_cat.h"
#include "soci/postgresql/soci-postgresql.h"
#include "storage/postgres/libpq_values.h"
#include "storage/schema/task_table.h"
#include "storage/sql/prepared_statement.h"

namespace tasks::storage {
namespace {

// Statements per round trip. Small enough that neither side's socket buffer
// fills while the other is still writing (libpq sends in blocking mode).
constexpr size_t kChunk = 64;

// SQLSTATE for failures libpq reports without one.
constexpr char kNoSqlState[] = "XX000";

PGconn* Handle(soci::session& session) {
  return static_cast<soci::postgresql_session_backend*>(session.get_backend())
      ->conn_;
}

using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

ResultPtr NextResult(PGconn* conn) {
  return ResultPtr(PQgetResult(conn), &PQclear);
}

// The first failure of a chunk.
struct Failure {
  int index = -1;
  std::string sqlstate;
  std::string message;
};

void RecordFailure(int index, const PGresult* result, PGconn* conn,
                   Failure& failure) {
  if (failure.index >= 0) return;
  failure.index = index;
  const char* state = result != nullptr
                          ? PQresultErrorField(result, PG_DIAG_SQLSTATE)
                          : nullptr;
  failure.sqlstate = state != nullptr ? state : kNoSqlState;
  const char* message = result != nullptr ? PQresultErrorMessage(result) : "";
  failure.message = absl::StrCat("Cannot execute query. ",
                                 (message != nullptr && *message != '\0')
                                     ? message
                                     : PQerrorMessage(conn));
}

// A statement name no other statement of the process ever had: a name
// forgotten after a failed Prepare is never handed out again, so it cannot
// clash with one still prepared on the session.
std::string NewStatementName() {
  static std::atomic<uint64_t> last{0};
  return absl::StrCat("pipelined_", last.fetch_add(1) + 1);
}

}  // namespace

std::vector<std::optional<schema::Row>> RunTaskPipeline(
    soci::session& session, const std::vector<PipelinedStatement>& statements,
    absl::flat_hash_map<std::string, std::string>* prepared, int* failed) {
  PGconn* conn = Handle(session);
  std::vector<std::optional<schema::Row>> rows(statements.size());
  if (PQenterPipelineMode(conn) != 1) {
    *failed = 0;
    throw soci::postgresql_soci_error(
        absl::StrCat("cannot enter pipeline mode: ", PQerrorMessage(conn)),
        kNoSqlState);
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
      const LibpqParams params(statements[i].params, names);
      if (prepared == nullptr) {
        if (PQsendQueryParams(conn, positional.c_str(), params.size(), nullptr,
                              params.values(), nullptr, nullptr, 0) != 1) {
          RecordFailure(static_cast<int>(i), nullptr, conn, failure);
          break;
        }
        sent.push_back(static_cast<int>(i));
        continue;
      }
      auto [it, added] = prepared->try_emplace(sql);
      if (added) it->second = NewStatementName();
      if (added) {
        if (PQsendPrepare(conn, it->second.c_str(), positional.c_str(),
                          static_cast<int>(names.size()), nullptr) != 1) {
          prepared->erase(it);
          RecordFailure(static_cast<int>(i), nullptr, conn, failure);
          break;
        }
        sent.push_back(-1 - static_cast<int>(i));
      }
      if (PQsendQueryPrepared(conn, it->second.c_str(), params.size(),
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
            rows[what] = RowOf(result.get(), schema::kTaskTable);
          }
          break;
        case PGRES_COMMAND_OK:
          break;
        case PGRES_PIPELINE_ABORTED:
          // A Prepare after the failure never ran.
          if (what < 0) prepared->erase(*statements[index].sql);
          break;
        default:
          if (what < 0) prepared->erase(*statements[index].sql);
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
