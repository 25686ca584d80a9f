#include "tests/reliability/database_checks.h"

#include <algorithm>
#include <iterator>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/testing/raw_sql.h"

namespace tasks::reliability {
namespace {

using ::tasks::testing::QueryRawSql;
using ::tasks::testing::StoreBackend;

constexpr int kPairsPerQuery = 200;

std::string SqlString(const std::string& text) {
  return absl::StrCat("'", absl::StrReplaceAll(text, {{"'", "''"}}), "'");
}

absl::Status CheckByRpc(const std::map<int64_t, std::string>& acknowledged,
                        v1::TaskService::Stub& stub, LossReport& report) {
  for (const auto& [id, title] : acknowledged) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::GetTaskRequest request;
    request.set_id(id);
    v1::Task task;
    grpc::Status status = stub.GetTask(&context, request, &task);
    if (status.error_code() == grpc::StatusCode::NOT_FOUND ||
        (status.ok() && task.title() != title)) {
      report.missing_by_rpc.push_back(id);
    } else if (!status.ok()) {
      return absl::UnavailableError(
          absl::StrCat("GetTask(", id, ") failed: ", status.error_message()));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckBySql(const std::map<int64_t, std::string>& acknowledged,
                        StoreBackend backend, const std::string& connection,
                        LossReport& report) {
  std::vector<std::string> pairs;
  auto flush = [&]() -> absl::Status {
    if (pairs.empty()) return absl::OkStatus();
    absl::StatusOr<int64_t> found = CountRows(
        backend, connection,
        absl::StrCat("SELECT count(*) FROM tasks WHERE (id, title) IN (VALUES ",
                     absl::StrJoin(pairs, ","), ")"));
    if (!found.ok()) return found.status();
    report.missing_by_sql += static_cast<int64_t>(pairs.size()) - *found;
    pairs.clear();
    return absl::OkStatus();
  };
  for (const auto& [id, title] : acknowledged) {
    pairs.push_back(absl::StrCat("(", id, ",", SqlString(title), ")"));
    if (static_cast<int>(pairs.size()) == kPairsPerQuery) {
      if (absl::Status status = flush(); !status.ok()) return status;
    }
  }
  return flush();
}

}  // namespace

absl::StatusOr<int64_t> CountRows(StoreBackend backend,
                                  const std::string& connection,
                                  const std::string& sql) {
  absl::StatusOr<std::string> value = QueryRawSql(backend, connection, sql);
  if (!value.ok()) return value.status();
  int64_t count = 0;
  if (!absl::SimpleAtoi(*value, &count)) {
    return absl::InternalError(
        absl::StrCat(sql, " returned \"", *value, "\", not a number"));
  }
  return count;
}

absl::StatusOr<LossReport> CheckAcknowledgedTasks(
    const std::map<int64_t, std::string>& acknowledged,
    v1::TaskService::Stub& stub, StoreBackend backend,
    const std::string& connection) {
  LossReport report;
  report.acknowledged = static_cast<int64_t>(acknowledged.size());
  if (absl::Status status = CheckByRpc(acknowledged, stub, report);
      !status.ok()) {
    return status;
  }
  if (absl::Status status =
          CheckBySql(acknowledged, backend, connection, report);
      !status.ok()) {
    return status;
  }
  return report;
}

absl::StatusOr<std::string> IntegrityCheck(StoreBackend backend,
                                           const std::string& connection) {
  if (backend == StoreBackend::kSqlite) {
    // The first row is "ok", or the first problem found.
    return QueryRawSql(backend, connection, "PRAGMA integrity_check");
  }
  absl::StatusOr<std::string> created = QueryRawSql(
      backend, connection, "CREATE EXTENSION IF NOT EXISTS amcheck");
  if (!created.ok()) return created.status();
  // verify_heapam returns one row per corruption found.
  absl::StatusOr<int64_t> heap_problems = CountRows(
      backend, connection,
      "SELECT count(*) FROM (SELECT * FROM verify_heapam('tasks') UNION ALL "
      "SELECT * FROM verify_heapam('projects')) AS problems");
  if (!heap_problems.ok()) return heap_problems.status();
  if (*heap_problems != 0) {
    return absl::StrCat("verify_heapam found ", *heap_problems, " problems");
  }
  // bt_index_check raises an error on a corrupt index.
  absl::StatusOr<std::string> indexes = QueryRawSql(
      backend, connection,
      "SELECT count(bt_index_check(i.indexrelid, true)) FROM pg_index i "
      "JOIN pg_class t ON t.oid = i.indrelid "
      "WHERE t.relname IN ('tasks', 'projects')");
  if (!indexes.ok()) return std::string(indexes.status().message());
  return std::string("ok");
}

}  // namespace tasks::reliability
