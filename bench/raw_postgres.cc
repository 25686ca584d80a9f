// RawTaskTable on libpq: named server-side prepared statements, text
// parameters and results (as SOCI uses them).

#include <libpq-fe.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bench/raw_task_row.h"
#include "bench/raw_task_sql.h"
#include "bench/raw_task_table.h"

namespace tasks::bench {
namespace {

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Owns a PGresult.
struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

class RawPostgres final : public RawTaskTable {
 public:
  explicit RawPostgres(PGconn* conn) : conn_(conn) {}
  ~RawPostgres() override { PQfinish(conn_); }

  absl::Status Prepare() {
    const char* statements[][2] = {
        {"insert_project", sql::kInsertProject},
        {"insert_task", sql::kInsertTask},
        {"get_task", sql::kGetTask},
        {"list_tasks", sql::kListTasks},
        {"update_task", sql::kUpdateTask},
    };
    for (const auto& [name, text] : statements) {
      Result result(PQprepare(conn_, name, text, 0, nullptr));
      if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
        return Error(result.get(), name);
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<int64_t> InsertProject(absl::string_view name) override {
    const std::string name_text(name);
    const std::string now = absl::StrCat(NowMicros());
    const char* params[] = {name_text.c_str(), now.c_str()};
    Result result = Run("insert_project", 2, params);
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
      return Error(result.get(), "insert project");
    }
    return Int(result.get(), 0, 0);
  }

  absl::StatusOr<int64_t> InsertTask(int64_t project_id,
                                     absl::string_view title) override {
    const std::string project = absl::StrCat(project_id);
    const std::string title_text(title);
    const std::string priority = absl::StrCat(sql::kDraftPriority);
    const std::string now = absl::StrCat(NowMicros());
    const char* params[] = {
        project.c_str(),  title_text.c_str(),  sql::kDraftDescription,
        priority.c_str(), sql::kDraftMetadata, /*request_id=*/nullptr,
        now.c_str()};
    Result result = Run("insert_task", 7, params);
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
      return Error(result.get(), "insert task");
    }
    ReadRow(result.get(), 0);
    return row_.id;
  }

  absl::Status GetTask(int64_t id) override {
    const std::string id_text = absl::StrCat(id);
    const char* params[] = {id_text.c_str()};
    Result result = Run("get_task", 1, params);
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
      return Error(result.get(), "get task");
    }
    if (PQntuples(result.get()) == 0) {
      return absl::NotFoundError(absl::StrCat("task ", id));
    }
    ReadRow(result.get(), 0);
    return absl::OkStatus();
  }

  absl::StatusOr<int> ListTasks(int64_t project_id, int limit) override {
    const std::string project = absl::StrCat(project_id);
    const std::string limit_text = absl::StrCat(limit);
    const char* params[] = {project.c_str(), limit_text.c_str()};
    Result result = Run("list_tasks", 2, params);
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
      return Error(result.get(), "list tasks");
    }
    const int rows = PQntuples(result.get());
    for (int i = 0; i < rows; ++i) ReadRow(result.get(), i);
    return rows;
  }

  absl::Status UpdateTask(int64_t id, absl::string_view description) override {
    const std::string description_text(description);
    const std::string now = absl::StrCat(NowMicros());
    const std::string id_text = absl::StrCat(id);
    const char* params[] = {description_text.c_str(), now.c_str(),
                            id_text.c_str()};
    Result result = Run("update_task", 3, params);
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
      return Error(result.get(), "update task");
    }
    if (PQntuples(result.get()) == 0) {
      return absl::NotFoundError(absl::StrCat("task ", id));
    }
    ReadRow(result.get(), 0);
    return absl::OkStatus();
  }

  absl::Status Execute(const char* statement) override {
    Result result(PQexec(conn_, statement));
    if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
      return Error(result.get(), statement);
    }
    return absl::OkStatus();
  }

 private:
  Result Run(const char* statement, int count, const char* const* params) {
    return Result(PQexecPrepared(conn_, statement, count, params, nullptr,
                                 nullptr, /*resultFormat=*/0));
  }

  static int64_t Int(const PGresult* result, int row, int column) {
    return std::strtoll(PQgetvalue(result, row, column), nullptr, 10);
  }

  static void Text(const PGresult* result, int row, int column,
                   std::string& out) {
    out.assign(PQgetvalue(result, row, column),
               static_cast<size_t>(PQgetlength(result, row, column)));
  }

  void ReadRow(const PGresult* result, int row) {
    row_.id = Int(result, row, 0);
    row_.project_id = Int(result, row, 1);
    Text(result, row, 2, row_.title);
    Text(result, row, 3, row_.description);
    row_.status = static_cast<int>(Int(result, row, 4));
    row_.priority = static_cast<int>(Int(result, row, 5));
    Text(result, row, 6, row_.metadata);
    row_.due_time = PQgetisnull(result, row, 7)
                        ? std::nullopt
                        : std::optional<int64_t>(Int(result, row, 7));
    row_.create_time = Int(result, row, 8);
    row_.update_time = Int(result, row, 9);
    row_.revision = Int(result, row, 10);
  }

  absl::Status Error(const PGresult* result, absl::string_view what) const {
    const char* state = result != nullptr
                            ? PQresultErrorField(result, PG_DIAG_SQLSTATE)
                            : nullptr;
    std::string message =
        absl::StrCat("postgresql: ", what, ": ", PQerrorMessage(conn_));
    if (state == nullptr || absl::string_view(state).substr(0, 2) == "08") {
      return absl::UnavailableError(message);
    }
    if (absl::string_view(state).substr(0, 2) == "23") {
      return absl::AlreadyExistsError(message);
    }
    return absl::InternalError(message);
  }

  PGconn* conn_;
  RawTaskRow row_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RawTaskTable>> OpenRawPostgres(
    const std::string& conninfo) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  auto table =
      std::make_unique<RawPostgres>(conn);  // finishes conn on every path
  if (PQstatus(conn) != CONNECTION_OK) {
    return absl::UnavailableError(
        absl::StrCat("postgresql: cannot connect: ", PQerrorMessage(conn)));
  }
  if (absl::Status s = table->Prepare(); !s.ok()) return s;
  return table;
}

}  // namespace tasks::bench
