// RawTaskTable on the sqlite3 C API.

#include <sqlite3.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "bench/raw_task_row.h"
#include "bench/raw_task_sql.h"
#include "bench/raw_task_table.h"

namespace tasks::bench {
namespace {

constexpr int kBusyTimeoutMs = 5000;

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class RawSqlite final : public RawTaskTable {
 public:
  explicit RawSqlite(sqlite3* db) : db_(db) {}

  ~RawSqlite() override {
    for (sqlite3_stmt* stmt : {insert_project_, insert_task_, get_task_,
                               list_tasks_, update_task_}) {
      sqlite3_finalize(stmt);
    }
    sqlite3_close(db_);
  }

  absl::Status Configure(bool in_memory) {
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
    if (absl::Status s = Execute("PRAGMA foreign_keys = ON"); !s.ok()) return s;
    if (!in_memory) {
      if (absl::Status s = Execute("PRAGMA journal_mode = WAL"); !s.ok())
        return s;
      if (absl::Status s = Execute("PRAGMA synchronous = FULL"); !s.ok())
        return s;
    }
    return absl::OkStatus();
  }

  absl::Status CopySchemaFrom(const std::string& path) {
    sqlite3* source = nullptr;
    int rc =
        sqlite3_open_v2(path.c_str(), &source, SQLITE_OPEN_READONLY, nullptr);
    if (rc == SQLITE_OK) {
      sqlite3_backup* backup = sqlite3_backup_init(db_, "main", source, "main");
      if (backup == nullptr) {
        rc = sqlite3_errcode(db_);
      } else {
        sqlite3_backup_step(backup, -1);
        rc = sqlite3_backup_finish(backup);
      }
    }
    sqlite3_close(source);
    return rc == SQLITE_OK ? absl::OkStatus() : Error("copying the schema");
  }

  absl::Status Prepare() {
    struct {
      const char* sql;
      sqlite3_stmt** stmt;
    } statements[] = {
        {sql::kInsertProject, &insert_project_},
        {sql::kInsertTask, &insert_task_},
        {sql::kGetTask, &get_task_},
        {sql::kListTasks, &list_tasks_},
        {sql::kUpdateTask, &update_task_},
    };
    for (const auto& s : statements) {
      if (sqlite3_prepare_v3(db_, s.sql, -1, SQLITE_PREPARE_PERSISTENT, s.stmt,
                             nullptr) != SQLITE_OK) {
        return Error(s.sql);
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<int64_t> InsertProject(absl::string_view name) override {
    Reset reset(insert_project_);
    BindText(insert_project_, 1, name);
    sqlite3_bind_int64(insert_project_, 2, NowMicros());
    if (sqlite3_step(insert_project_) != SQLITE_ROW)
      return Error("insert project");
    const int64_t id = sqlite3_column_int64(insert_project_, 0);
    if (sqlite3_step(insert_project_) != SQLITE_DONE)
      return Error("insert project");
    return id;
  }

  absl::StatusOr<int64_t> InsertTask(int64_t project_id,
                                     absl::string_view title) override {
    Reset reset(insert_task_);
    sqlite3_bind_int64(insert_task_, 1, project_id);
    BindText(insert_task_, 2, title);
    BindText(insert_task_, 3, sql::kDraftDescription);
    sqlite3_bind_int(insert_task_, 4, sql::kDraftPriority);
    BindText(insert_task_, 5, sql::kDraftMetadata);
    sqlite3_bind_null(insert_task_, 6);
    sqlite3_bind_int64(insert_task_, 7, NowMicros());
    if (sqlite3_step(insert_task_) != SQLITE_ROW) return Error("insert task");
    ReadRow(insert_task_);
    // The commit happens when the statement runs to its end.
    if (sqlite3_step(insert_task_) != SQLITE_DONE) return Error("insert task");
    return row_.id;
  }

  absl::Status GetTask(int64_t id) override {
    Reset reset(get_task_);
    sqlite3_bind_int64(get_task_, 1, id);
    const int rc = sqlite3_step(get_task_);
    if (rc == SQLITE_DONE)
      return absl::NotFoundError(absl::StrCat("task ", id));
    if (rc != SQLITE_ROW) return Error("get task");
    ReadRow(get_task_);
    return absl::OkStatus();
  }

  absl::StatusOr<int> ListTasks(int64_t project_id, int limit) override {
    Reset reset(list_tasks_);
    sqlite3_bind_int64(list_tasks_, 1, project_id);
    sqlite3_bind_int(list_tasks_, 2, limit);
    int rows = 0;
    int rc;
    while ((rc = sqlite3_step(list_tasks_)) == SQLITE_ROW) {
      ReadRow(list_tasks_);
      ++rows;
    }
    if (rc != SQLITE_DONE) return Error("list tasks");
    return rows;
  }

  absl::Status UpdateTask(int64_t id, absl::string_view description) override {
    Reset reset(update_task_);
    BindText(update_task_, 1, description);
    sqlite3_bind_int64(update_task_, 2, NowMicros());
    sqlite3_bind_int64(update_task_, 3, id);
    const int rc = sqlite3_step(update_task_);
    if (rc == SQLITE_DONE)
      return absl::NotFoundError(absl::StrCat("task ", id));
    if (rc != SQLITE_ROW) return Error("update task");
    ReadRow(update_task_);
    if (sqlite3_step(update_task_) != SQLITE_DONE) return Error("update task");
    return absl::OkStatus();
  }

  absl::Status Execute(const char* statement) override {
    if (sqlite3_exec(db_, statement, nullptr, nullptr, nullptr) != SQLITE_OK) {
      return Error(statement);
    }
    return absl::OkStatus();
  }

 private:
  // Resets a statement (releasing its locks) when the call ends.
  class Reset {
   public:
    explicit Reset(sqlite3_stmt* stmt) : stmt_(stmt) {}
    ~Reset() { sqlite3_reset(stmt_); }

   private:
    sqlite3_stmt* stmt_;
  };

  static void BindText(sqlite3_stmt* stmt, int index, absl::string_view text) {
    sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()),
                      SQLITE_STATIC);
  }

  static void ReadText(sqlite3_stmt* stmt, int column, std::string& out) {
    out.assign(reinterpret_cast<const char*>(sqlite3_column_text(stmt, column)),
               static_cast<size_t>(sqlite3_column_bytes(stmt, column)));
  }

  void ReadRow(sqlite3_stmt* stmt) {
    row_.id = sqlite3_column_int64(stmt, 0);
    row_.project_id = sqlite3_column_int64(stmt, 1);
    ReadText(stmt, 2, row_.title);
    ReadText(stmt, 3, row_.description);
    row_.status = sqlite3_column_int(stmt, 4);
    row_.priority = sqlite3_column_int(stmt, 5);
    ReadText(stmt, 6, row_.metadata);
    row_.due_time = sqlite3_column_type(stmt, 7) == SQLITE_NULL
                        ? std::nullopt
                        : std::optional<int64_t>(sqlite3_column_int64(stmt, 7));
    row_.create_time = sqlite3_column_int64(stmt, 8);
    row_.update_time = sqlite3_column_int64(stmt, 9);
    row_.revision = sqlite3_column_int64(stmt, 10);
  }

  absl::Status Error(absl::string_view what) const {
    const int code = sqlite3_extended_errcode(db_);
    std::string message = absl::StrCat("sqlite: ", what, ": ",
                                       sqlite3_errmsg(db_), " (", code, ")");
    switch (code & 0xff) {
      case SQLITE_BUSY:
      case SQLITE_LOCKED:
        return absl::UnavailableError(message);
      case SQLITE_CONSTRAINT:
        return absl::AlreadyExistsError(message);
      default:
        return absl::InternalError(message);
    }
  }

  sqlite3* db_;
  sqlite3_stmt* insert_project_ = nullptr;
  sqlite3_stmt* insert_task_ = nullptr;
  sqlite3_stmt* get_task_ = nullptr;
  sqlite3_stmt* list_tasks_ = nullptr;
  sqlite3_stmt* update_task_ = nullptr;
  RawTaskRow row_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RawTaskTable>> OpenRawSqlite(
    const std::string& path, const std::string& schema_from) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
      nullptr);
  auto table = std::make_unique<RawSqlite>(db);  // closes db on every path
  if (rc != SQLITE_OK) {
    return absl::UnavailableError(
        absl::StrCat("sqlite: cannot open ", path, ": ", sqlite3_errstr(rc)));
  }
  if (!schema_from.empty()) {
    if (absl::Status s = table->CopySchemaFrom(schema_from); !s.ok()) return s;
  }
  if (absl::Status s = table->Configure(path == ":memory:"); !s.ok()) return s;
  if (absl::Status s = table->Prepare(); !s.ok()) return s;
  return table;
}

}  // namespace tasks::bench
