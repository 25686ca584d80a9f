#include "storage/soci_task_store.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "api/list_rules.h"
#include "api/metadata_limits.h"
#include "api/text_rules.h"
#include "api/validation.h"
#include "common/error_reason.h"
#include "common/status_macros.h"
#include "storage/dialect_for_connection.h"
#include "storage/engine/async_statements.h"
#include "storage/engine/change_signal.h"
#include "storage/engine/connection.h"
#include "storage/engine/database.h"
#include "storage/engine/db_error.h"
#include "storage/engine/dialect.h"
#include "storage/filter/filter_sql.h"
#include "storage/postgres/postgres_pipeline.h"
#include "storage/request_fingerprint.h"
#include "storage/run_blocking.h"
#include "storage/schema/migrations.h"
#include "storage/schema/task_rows.h"
#include "storage/schema/task_table.h"
#include "storage/sql/list_query.h"
#include "storage/sql/page_token.h"
#include "storage/sql/prepared_statement.h"
#include "storage/sql/queries.h"

namespace tasks::storage {
namespace {

using api::CheckMetadataJsonSize;
using api::CheckMetadataValues;
using api::CheckStruct;
using api::CheckText;
using api::ClampPageSize;
using schema::ColumnSet;
using schema::kProjectTable;
using schema::kTaskTable;

// The columns of `table` an update mask names.
absl::StatusOr<ColumnSet> MaskColumns(const google::protobuf::FieldMask& mask,
                                      const schema::Table& table) {
  ColumnSet columns;
  for (const std::string& path : mask.paths()) {
    const int column = schema::PathIndex(table, path);
    if (column < 0 || !table[column].updatable()) {
      return InvalidField("update_mask",
                          absl::StrCat("unknown or output-only path \"",
                                       absl::CHexEscape(path), "\""),
                          reason::kInvalidFieldMask);
    }
    columns.Add(column);
  }
  return columns;
}

// The project a task is in; nullopt when in none.
std::optional<int64_t> ProjectOf(const v1::Task& task) {
  if (!task.has_project_id()) return std::nullopt;
  return task.project_id();
}

// A replay's read that could not be queued: the insert it follows changed
// nothing, so the whole create may run again the blocking way.
absl::Status ReplayRefused() {
  return RunBlockingInstead("the request_id's replay could not be queued");
}

absl::Status TaskNotFound(long long id) {
  return WithReason(
      absl::NotFoundError(absl::StrCat("task ", id, " not found")),
      reason::kTaskNotFound);
}

absl::Status ProjectNotFound(long long id) {
  return WithReason(
      absl::NotFoundError(absl::StrCat("project ", id, " not found")),
      reason::kProjectNotFound);
}

absl::Status EtagMismatch(long long id, absl::string_view etag) {
  return WithReason(absl::AbortedError(absl::StrCat(
                        "task ", id, ": etag ", absl::CHexEscape(etag),
                        " does not match the current one")),
                    reason::kEtagMismatch);
}

absl::Status MoveOutOfScope(const v1::Task& task) {
  return WithReason(
      absl::PermissionDeniedError(
          task.has_project_id()
              ? absl::StrCat("task ", task.id(),
                             " may not be moved to project ", task.project_id())
              : absl::StrCat("task ", task.id(),
                             " may not be moved out of every project")),
      reason::kPermissionDenied);
}

absl::Status NoRowReturned(absl::string_view what) {
  return WithReason(absl::InternalError(absl::StrCat(what, " returned no row")),
                    reason::kInternal);
}

// The values of the `columns` of `message` (a row of `table`), checked and
// converted for the database; fields named "<prefix>.<path>" in errors.
// Metadata gets the API's limits on top of the text checks.
class CheckedColumns {
 public:
  CheckedColumns() = default;

  // Checks and converts; the values are then in values().
  absl::Status Check(const schema::Table& table,
                     const google::protobuf::Message& message,
                     absl::string_view prefix, ColumnSet columns) {
    columns_ = columns;
    // One buffer for every field name.
    std::string field;
    for (int i = 0; i < table.size; ++i) {
      if (!columns.Has(i)) continue;
      const schema::Column& column = table[i];
      field.assign(prefix.data(), prefix.size());
      absl::StrAppend(&field, ".", column.path);
      const bool metadata = &table == &kTaskTable && i == schema::kTaskMetadata;
      if (metadata) {
        const auto& task = static_cast<const v1::Task&>(message);
        // The value count first: it stops early, the full walks do not.
        RETURN_IF_ERROR(CheckMetadataValues(field, task.metadata()));
        RETURN_IF_ERROR(CheckStruct(field, task.metadata()));
      }
      schema::ColumnValue& value = values_[i];
      RETURN_IF_ERROR(schema::WriteColumn(table, i, message, field, value));
      if (metadata) {
        RETURN_IF_ERROR(CheckMetadataJsonSize(field, value.text));
      } else if (column.kind == schema::ValueKind::kText) {
        RETURN_IF_ERROR(CheckText(field, value.text));
      }
    }
    return absl::OkStatus();
  }

  ColumnSet columns() const { return columns_; }

  // Sets the parameters of the columns in `params`.
  void SetParams(StatementParams& params) const {
    for (int i = 0; i < schema::kMaxColumns; ++i) {
      if (columns_.Has(i)) params.columns[i] = values_[i];
    }
  }

 private:
  ColumnSet columns_;
  schema::Row values_;
};

ErrorContext TaskContext(std::string prefix, const v1::Task& task) {
  ErrorContext context;
  context.field_prefix = std::move(prefix);
  if (task.has_project_id()) context.project_id = task.project_id();
  context.title = task.title();
  return context;
}

// `status` with `prefix` before its message, payloads kept.
absl::Status PrefixMessage(const absl::Status& status,
                           absl::string_view prefix) {
  absl::Status result(status.code(), absl::StrCat(prefix, status.message()));
  status.ForEachPayload(
      [&result](absl::string_view url, const absl::Cord& payload) {
        result.SetPayload(url, payload);
      });
  return result;
}

// Calls `fn`, turning an escaping exception into INTERNAL.
template <typename Fn>
auto Guarded(Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::exception& error) {
    return WithReason(absl::InternalError(error.what()), reason::kInternal);
  } catch (...) {
    return WithReason(absl::InternalError("unknown exception"),
                      reason::kInternal);
  }
}

// A name for one store's numbering runs, unlikely to be another's.
std::string NewSenderId() {
  absl::BitGen random;
  return absl::StrCat(
      absl::Hex(absl::Uniform<uint64_t>(random), absl::kZeroPad16));
}

class SociTaskStore final : public TaskStore {
 public:
  SociTaskStore(std::unique_ptr<Dialect> dialect, int pool_size,
                absl::Duration wait_timeout, StoreObserver* observer)
      : observer_(observer),
        queries_(*dialect),
        sender_(NewSenderId()),
        listener_(dialect->NewChangeSignal(sender_)),
        database_(std::move(dialect), pool_size, wait_timeout, observer) {}

  // Applies migrations and loads the page token secret.
  absl::Status Init() {
    ErrorContext context;
    context.message_prefix = "migrating the schema: ";
    absl::StatusOr<std::string> secret = database_.Run(
        Access::kWrite, context,
        [](Connection& connection) { return MigrateSchema(connection); });
    if (!secret.ok()) return secret.status();
    tokens_ = std::make_unique<PageTokenCodec>(*std::move(secret));
    return absl::OkStatus();
  }

  absl::StatusOr<v1::Project> CreateProject(
      const v1::Project& project) override {
    return Guarded([&]() -> absl::StatusOr<v1::Project> {
      CheckedColumns values;
      RETURN_IF_ERROR(
          values.Check(kProjectTable, project, "project",
                       schema::InsertColumns(kProjectTable, project)));
      ErrorContext context;
      context.field_prefix = "project";
      return database_.Run(
          Access::kWrite, context,
          [&](Connection& connection) -> absl::StatusOr<v1::Project> {
            PreparedStatement& insert = connection.Statement(
                queries_.insert_project, RowKind::kProject);
            StatementParams& params = insert.params();
            values.SetParams(params);
            params.now = NowMicros();
            if (!insert.ExecuteOnce()) {
              return NoRowReturned("INSERT INTO projects");
            }
            return schema::ProjectFromRow(insert.row());
          });
    });
  }

  absl::StatusOr<v1::Project> GetProject(int64_t id) override {
    return Guarded([&]() -> absl::StatusOr<v1::Project> {
      ErrorContext context;
      return database_.Run(
          Access::kRead, context,
          [&](Connection& connection) -> absl::StatusOr<v1::Project> {
            PreparedStatement& get =
                connection.Statement(queries_.get_project, RowKind::kProject);
            get.params().id = id;
            if (!get.ExecuteOnce()) return ProjectNotFound(id);
            return schema::ProjectFromRow(get.row());
          });
    });
  }

  absl::StatusOr<v1::ListProjectsResponse> ListProjects(
      int page_size, absl::string_view page_token) override {
    return ListProjects(page_size, page_token, AccessScope::All());
  }

  absl::StatusOr<v1::ListProjectsResponse> ListProjects(
      int page_size, absl::string_view page_token,
      const AccessScope& scope) override {
    return Guarded([&]() -> absl::StatusOr<v1::ListProjectsResponse> {
      const int size = ClampPageSize(page_size);
      const std::optional<std::vector<int64_t>> allowed =
          AllowedProjects(scope);
      const std::string token_scope = ProjectListScope(allowed);
      PageCursor cursor;
      if (!page_token.empty()) {
        ASSIGN_OR_RETURN(cursor, tokens_->Decode(page_token, token_scope));
      }
      ErrorContext context;
      return database_.Run(
          Access::kRead, context,
          [&](Connection& connection)
              -> absl::StatusOr<v1::ListProjectsResponse> {
            PreparedStatement& list = connection.Statement(
                queries_.ListProjects(allowed.has_value()), RowKind::kProject);
            SetAllowedIds(allowed, list.params());
            list.params().after_id = cursor.id;
            list.params().limit = size + 1;
            v1::ListProjectsResponse response;
            PageBudget budget;
            for (bool row = list.Execute(); row; row = list.Fetch()) {
              if (response.projects_size() == size ||
                  !budget.Take(
                      schema::StoredBytes(kProjectTable, list.row()))) {
                PageCursor next;
                next.id = response.projects(response.projects_size() - 1).id();
                response.set_next_page_token(
                    tokens_->Encode(token_scope, next));
                break;
              }
              *response.add_projects() = schema::ProjectFromRow(list.row());
            }
            list.Finish();
            return response;
          });
    });
  }

  absl::StatusOr<v1::Project> UpdateProject(
      const v1::Project& project,
      const google::protobuf::FieldMask& mask) override {
    return Guarded([&]() -> absl::StatusOr<v1::Project> {
      ASSIGN_OR_RETURN(ColumnSet columns, MaskColumns(mask, kProjectTable));
      CheckedColumns values;
      RETURN_IF_ERROR(values.Check(kProjectTable, project, "project", columns));
      if (columns.empty()) return GetProject(project.id());
      ErrorContext context;
      context.field_prefix = "project";
      return database_.Run(
          Access::kWrite, context,
          [&](Connection& connection) -> absl::StatusOr<v1::Project> {
            PreparedStatement& update = connection.Statement(
                queries_.UpdateProject(columns), RowKind::kProject);
            StatementParams& params = update.params();
            values.SetParams(params);
            params.id = project.id();
            params.now = NowMicros();
            if (!update.ExecuteOnce()) {
              return ProjectNotFound(project.id());
            }
            return schema::ProjectFromRow(update.row());
          });
    });
  }

  absl::Status DeleteProject(int64_t id, bool cascade) override {
    return Guarded([&]() -> absl::Status {
      ErrorContext context;
      return database_.Run(
          Access::kWrite, context, [&](Connection& connection) -> absl::Status {
            if (cascade) return DeleteProjectRow(connection, id);
            // Lock the project, then look for tasks: a task added
            // meanwhile waits for the lock and then finds no project.
            connection.Begin();
            PreparedStatement& lock =
                connection.Statement(queries_.lock_project, RowKind::kNumber);
            lock.params().id = id;
            if (!lock.ExecuteOnce()) return ProjectNotFound(id);
            PreparedStatement& has_tasks = connection.Statement(
                queries_.project_has_tasks, RowKind::kNumber);
            has_tasks.params().id = id;
            if (has_tasks.ExecuteOnce()) {
              return WithReason(absl::FailedPreconditionError(absl::StrCat(
                                    "project ", id,
                                    " still has tasks; delete them first or "
                                    "delete with cascade (force)")),
                                reason::kProjectHasTasks);
            }
            RETURN_IF_ERROR(DeleteProjectRow(connection, id));
            connection.Commit();
            return absl::OkStatus();
          });
    });
  }

  absl::StatusOr<v1::Task> CreateTask(const v1::Task& task,
                                      absl::string_view request_id,
                                      const Idempotency& idempotency) override {
    return Guarded([&]() -> absl::StatusOr<v1::Task> {
      CheckedColumns values;
      RETURN_IF_ERROR(values.Check(kTaskTable, task, "task",
                                   schema::InsertColumns(kTaskTable, task)));
      RETURN_IF_ERROR(CheckText("request_id", request_id));
      RETURN_IF_ERROR(CheckText("idempotency.scope", idempotency.scope));
      ErrorContext context = TaskContext("task", task);
      return database_.Run(
          Access::kWrite, context,
          [&](Connection& connection) -> absl::StatusOr<v1::Task> {
            return InsertTask(connection, task, values, request_id, idempotency,
                              "request_id");
          });
    });
  }

  absl::StatusOr<v1::BatchCreateTasksResponse> BatchCreateTasks(
      const v1::BatchCreateTasksRequest& request,
      const Idempotency& idempotency) override {
    return Guarded([&]() -> absl::StatusOr<v1::BatchCreateTasksResponse> {
      const int count = request.requests_size();
      std::vector<CheckedColumns> values(count);
      for (int i = 0; i < count; ++i) {
        const v1::CreateTaskRequest& item = request.requests(i);
        std::string prefix = absl::StrCat("requests[", i, "]");
        RETURN_IF_ERROR(values[i].Check(
            kTaskTable, item.task(), absl::StrCat(prefix, ".task"),
            schema::InsertColumns(kTaskTable, item.task())));
        RETURN_IF_ERROR(
            CheckText(absl::StrCat(prefix, ".request_id"), item.request_id()));
      }
      RETURN_IF_ERROR(CheckText("idempotency.scope", idempotency.scope));
      ErrorContext context;
      return database_.Run(
          Access::kWrite, context,
          [&](Connection& connection)
              -> absl::StatusOr<v1::BatchCreateTasksResponse> {
            v1::BatchCreateTasksResponse response;
            connection.Begin();
            if (database_.dialect().has_pipeline()) {
              RETURN_IF_ERROR(InsertTasksPipelined(
                  connection, request, values, idempotency, context, response));
              connection.Commit();
              return response;
            }
            for (int i = 0; i < count; ++i) {
              const v1::CreateTaskRequest& item = request.requests(i);
              // Names the failing request if the insert throws.
              context = ItemContext(i, item);
              absl::StatusOr<v1::Task> task = InsertTask(
                  connection, item.task(), values[i], item.request_id(),
                  idempotency, absl::StrCat("requests[", i, "].request_id"));
              if (!task.ok()) {
                return PrefixMessage(task.status(), context.message_prefix);
              }
              *response.add_tasks() = *std::move(task);
            }
            connection.Commit();
            return response;
          });
    });
  }

  absl::StatusOr<v1::Task> GetTask(int64_t id,
                                   const AccessScope& scope) override {
    return Guarded([&]() -> absl::StatusOr<v1::Task> {
      const std::optional<std::vector<int64_t>> allowed =
          AllowedProjects(scope);
      ErrorContext context;
      return database_.Run(
          Access::kRead, context,
          [&](Connection& connection) -> absl::StatusOr<v1::Task> {
            PreparedStatement& get = connection.Statement(
                queries_.GetTask(allowed.has_value()), RowKind::kTask);
            get.params().id = id;
            SetAllowedIds(allowed, get.params());
            if (!get.ExecuteOnce()) return TaskNotFound(id);
            return schema::TaskFromRow(get.row());
          });
    });
  }

  bool TryGetTaskAsync(int64_t id, const AccessScope& scope,
                       absl::Time deadline, TaskCallback done) override {
    AsyncStatements* async = Async();
    if (async == nullptr) return false;
    const std::optional<std::vector<int64_t>> allowed = AllowedProjects(scope);
    AsyncStatement read;
    read.sql = &queries_.GetTask(allowed.has_value());
    read.params.id = id;
    SetAllowedIds(allowed, read.params);
    read.table = &schema::kTaskTable;
    read.deadline = deadline;
    read.done = [id, done = std::move(done)](
                    absl::StatusOr<std::optional<schema::Row>> row) mutable {
      if (!row.ok()) return std::move(done)(row.status());
      if (!row->has_value()) return std::move(done)(TaskNotFound(id));
      std::move(done)(schema::TaskFromRow(**row));
    };
    return async->TrySend(std::move(read));
  }

  bool TryCreateTaskAsync(const v1::Task& task, absl::string_view request_id,
                          const Idempotency& idempotency, absl::Time deadline,
                          TaskCallback done) override {
    AsyncStatements* async = Async();
    if (async == nullptr) return false;
    CheckedColumns values;
    absl::Status checked = Guarded([&]() -> absl::Status {
      RETURN_IF_ERROR(values.Check(kTaskTable, task, "task",
                                   schema::InsertColumns(kTaskTable, task)));
      RETURN_IF_ERROR(CheckText("request_id", request_id));
      return CheckText("idempotency.scope", idempotency.scope);
    });
    if (!checked.ok()) {
      std::move(done)(std::move(checked));
      return true;
    }
    AsyncStatement insert;
    insert.sql = &queries_.InsertTask(values.columns());
    SetInsertParams(task, values, request_id, idempotency, insert.params);
    insert.table = &schema::kTaskTable;
    insert.writes = true;
    insert.deadline = deadline;
    insert.context = TaskContext("task", task);
    // The parameters a replay needs, kept apart from the insert's.
    StatementParams key;
    SetReplayParams(insert.params, key);
    insert.done = [this, async, key = std::move(key), deadline,
                   access = idempotency.access, done = std::move(done)](
                      absl::StatusOr<std::optional<schema::Row>> row) mutable {
      if (!row.ok()) return std::move(done)(row.status());
      if (row->has_value()) return std::move(done)(schema::TaskFromRow(**row));
      ReplayAsync(*async, key, deadline, std::move(access), std::move(done));
    };
    return async->TrySend(std::move(insert));
  }

  using TaskStore::ListTasks;
  absl::Status ListTasks(const v1::ListTasksRequest& request,
                         const AccessScope& scope,
                         v1::ListTasksResponse& page) override {
    return Guarded([&]() -> absl::Status {
      ASSIGN_OR_RETURN(TaskListQuery query, ParseTaskListQuery(request, scope));
      const int size = ClampPageSize(request.page_size());
      std::optional<PageCursor> cursor;
      if (!request.page_token().empty()) {
        ASSIGN_OR_RETURN(cursor,
                         tokens_->Decode(request.page_token(), query.scope));
      }
      const TaskOrder& order = TaskOrders()[query.order];
      const filter::SqlFilter filter =
          filter::ToSql(query.filter, database_.dialect().filter_dialect());
      // PostgreSQL reads the page and its change position in one statement;
      // SQLite in one read transaction (see Queries::PositionedListTasks).
      const bool one_statement = database_.dialect().buffers_results();
      const bool after = cursor.has_value();
      std::string filtered_sql;
      const std::string* sql;
      if (!filter.condition.empty()) {
        filtered_sql =
            one_statement
                ? queries_.PositionedListTasks(query.filters, query.order,
                                               after, filter.condition)
                : queries_.ListTasks(query.filters, query.order, after,
                                     filter.condition);
        sql = &filtered_sql;
      } else {
        sql = one_statement
                  ? &queries_.PositionedListTasks(query.filters, query.order,
                                                  after)
                  : &queries_.ListTasks(query.filters, query.order, after);
      }
      return WithChangePosition([&](bool& too_many) {
        ErrorContext context;
        return database_.Run(
            Access::kRead, context,
            [&](Connection& connection) -> absl::Status {
              page.Clear();  // of an attempt that failed
              if (!one_statement) {
                connection.Statement(queries_.begin_read, RowKind::kNone)
                    .ExecuteOnce();
              }
              PreparedStatement& list = connection.Statement(
                  *sql, one_statement ? RowKind::kTaskPage : RowKind::kTask);
              StatementParams& params = list.params();
              if (params.filter != nullptr) params.filter->Set(filter.params);
              params.columns[schema::kTaskProjectId].number = query.project_id;
              params.columns[schema::kTaskProjectId].null = false;
              params.columns[schema::kTaskStatus].number = query.status;
              params.columns[schema::kTaskPriority].number = query.priority;
              params.meta_key = query.meta_key;
              params.meta_value = query.meta_value;
              if (query.filters & kFilterAllowedProjects) {
                params.allowed_ids = database_.dialect().AllowedIdsParameter(
                    query.allowed_projects);
              }
              if (cursor.has_value()) {
                params.after_id = cursor->id;
                params.after_number = cursor->number;
                params.after_text = cursor->text;
              }
              params.limit = size + 1;
              std::optional<ChangePosition> position;
              PageBudget budget;
              for (bool row = list.Execute(); row; row = list.Fetch()) {
                if (one_statement) {
                  // Every row carries it; an empty page has one row
                  // without a task.
                  if (!position.has_value()) position = PositionOf(list);
                  if (list.row()[schema::kTaskId].null) break;
                }
                // Measured on the stored text, so a row that does not fit
                // is never parsed.
                if (page.tasks_size() == size ||
                    !budget.Take(schema::StoredBytes(kTaskTable, list.row()))) {
                  page.set_next_page_token(tokens_->Encode(
                      query.scope,
                      CursorAfter(order, page.tasks(page.tasks_size() - 1))));
                  break;
                }
                // Read in place: no task built and moved per row.
                absl::Status read =
                    schema::ReadRow(kTaskTable, list.row(), *page.add_tasks());
                if (!read.ok()) {
                  list.Finish();
                  return read;
                }
              }
              list.Finish();
              if (!one_statement) {
                PreparedStatement& latest = connection.Statement(
                    queries_.change_position, RowKind::kPosition);
                if (!latest.ExecuteOnce()) {
                  return NoRowReturned("the change position");
                }
                position = PositionOf(latest);
                connection.Commit();
              }
              if (!position.has_value()) {
                return NoRowReturned("the change position");
              }
              if (position->reflected_ids().size() > kMaxUnnumberedChanges) {
                too_many = true;
                return absl::OkStatus();
              }
              page.set_resume_token(position->Encode());
              return absl::OkStatus();
            });
      });
    });
  }

  absl::StatusOr<v1::Task> UpdateTask(const v1::Task& task,
                                      const google::protobuf::FieldMask& mask,
                                      const AccessScope& scope) override {
    return Guarded([&]() -> absl::StatusOr<v1::Task> {
      ASSIGN_OR_RETURN(ColumnSet columns, MaskColumns(mask, kTaskTable));
      if (columns.Has(schema::kTaskProjectId) &&
          !scope.Allows(ProjectOf(task))) {
        return MoveOutOfScope(task);
      }
      CheckedColumns values;
      RETURN_IF_ERROR(values.Check(kTaskTable, task, "task", columns));
      const bool check_etag = !task.etag().empty();
      // A malformed etag matches no revision: ABORTED like any stale one.
      const long long revision =
          check_etag ? ParseEtag(task.etag()).value_or(-1) : 0;
      if (columns.empty()) {
        ASSIGN_OR_RETURN(v1::Task current, GetTask(task.id(), scope));
        if (check_etag && current.etag() != task.etag()) {
          return EtagMismatch(task.id(), task.etag());
        }
        return current;
      }
      const std::optional<std::vector<int64_t>> allowed =
          AllowedProjects(scope);
      ErrorContext context = TaskContext("task", task);
      absl::StatusOr<v1::Task> updated = database_.Run(
          Access::kWrite, context,
          [&](Connection& connection) -> absl::StatusOr<v1::Task> {
            PreparedStatement& update = connection.Statement(
                queries_.UpdateTask(columns, check_etag, allowed.has_value()),
                RowKind::kTask);
            StatementParams& params = update.params();
            values.SetParams(params);
            params.id = task.id();
            params.revision = revision;
            params.now = NowMicros();
            SetAllowedIds(allowed, params);
            if (update.ExecuteOnce()) return schema::TaskFromRow(update.row());
            // Without an etag nothing but the scope could stop the update:
            // the task was out of reach, even if it is back by now.
            if (!check_etag) return TaskNotFound(task.id());
            // Only a task the scope reaches may answer ABORTED: any other
            // answer would tell that it exists.
            PreparedStatement& exists = connection.Statement(
                queries_.TaskRevision(allowed.has_value()), RowKind::kNumber);
            exists.params().id = task.id();
            SetAllowedIds(allowed, exists.params());
            if (exists.ExecuteOnce()) {
              return EtagMismatch(task.id(), task.etag());
            }
            return TaskNotFound(task.id());
          });
      if (!updated.ok() &&
          ErrorReason(updated.status()) == reason::kTitleTaken) {
        return TitleTakenByUpdate(task, columns, scope);
      }
      return updated;
    });
  }

  // The title clash of an update, named by the row it would have made: the
  // request's project and title only where the mask sets them, the stored
  // task's elsewhere (the request's others are not what clashed, and may
  // name a project the caller cannot see). Read again after the update
  // failed: a task deleted or moved out of reach since is named by what the
  // mask sets alone.
  absl::Status TitleTakenByUpdate(const v1::Task& task, ColumnSet columns,
                                  const AccessScope& scope) {
    absl::StatusOr<v1::Task> stored = GetTask(task.id(), scope);
    v1::Task merged = stored.ok() ? *std::move(stored) : v1::Task();
    if (columns.Has(schema::kTaskTitle)) merged.set_title(task.title());
    if (columns.Has(schema::kTaskProjectId)) {
      if (task.has_project_id()) {
        merged.set_project_id(task.project_id());
      } else {
        merged.clear_project_id();
      }
    }
    DbError error;
    error.kind = DbErrorKind::kUniqueViolation;
    error.constraint = constraint::kTaskTitleUnique;
    return DbErrorToStatus(error, TaskContext("task", merged));
  }

  absl::Status DeleteTask(int64_t id, const AccessScope& scope) override {
    return Guarded([&]() -> absl::Status {
      const std::optional<std::vector<int64_t>> allowed =
          AllowedProjects(scope);
      ErrorContext context;
      return database_.Run(
          Access::kWrite, context, [&](Connection& connection) -> absl::Status {
            PreparedStatement& remove = connection.Statement(
                queries_.DeleteTask(allowed.has_value()), RowKind::kNumber);
            remove.params().id = id;
            SetAllowedIds(allowed, remove.params());
            if (!remove.ExecuteOnce()) return TaskNotFound(id);
            return absl::OkStatus();
          });
    });
  }

  absl::Status CheckHealth() override {
    return Guarded([&]() -> absl::Status {
      RETURN_IF_ERROR(database_.dialect().CheckStillAttached());
      ErrorContext context;
      return database_.Run(
          Access::kRead, context, [&](Connection& connection) -> absl::Status {
            PreparedStatement& version =
                connection.Statement(queries_.health, RowKind::kNumber);
            if (!version.ExecuteOnce()) {
              return NoRowReturned("the schema version");
            }
            // A database replaced under the server (recreated empty,
            // restored from an older backup) answers, but every call would
            // fail on it: not healthy.
            const long long needed =
                LatestVersion(database_.dialect().migration_scripts());
            if (version.number() < needed) {
              return WithReason(
                  absl::FailedPreconditionError(absl::StrCat(
                      "the database schema is at version ", version.number(),
                      ", this server needs ", needed,
                      ": was the database replaced? Restart the server to "
                      "migrate it")),
                  reason::kInternal);
            }
            return absl::OkStatus();
          });
    });
  }

  absl::StatusOr<ChangePosition> LatestChangePosition() override {
    return Guarded([&]() -> absl::StatusOr<ChangePosition> {
      return WithChangePosition([&](bool& too_many) {
        ErrorContext context;
        return database_.Run(
            Access::kRead, context,
            [&](Connection& connection) -> absl::StatusOr<ChangePosition> {
              PreparedStatement& latest = connection.Statement(
                  queries_.change_position, RowKind::kPosition);
              if (!latest.ExecuteOnce()) {
                return NoRowReturned("the change position");
              }
              ChangePosition position = PositionOf(latest);
              too_many =
                  position.reflected_ids().size() > kMaxUnnumberedChanges;
              return position;
            });
      });
    });
  }

  absl::StatusOr<std::vector<TaskChange>> ReadChanges(
      const ChangePosition& after, int limit) override {
    return Guarded([&]() -> absl::StatusOr<std::vector<TaskChange>> {
      ErrorContext context;
      return database_.Run(
          Access::kRead, context,
          [&](Connection& connection)
              -> absl::StatusOr<std::vector<TaskChange>> {
            PreparedStatement& read = connection.Statement(
                queries_.read_changes, RowKind::kTaskChange);
            read.params().after_number = after.seq();
            read.params().limit = std::clamp(limit, 1, kMaxChangesPerRead);
            std::vector<TaskChange> changes;
            bool row = read.Execute();
            if (!row) {
              read.Finish();
              return NoRowReturned("reading changes");
            }
            // The bounds come with every row, from the read's snapshot.
            if (absl::Status ahead =
                    after.CheckNotAhead(read.extra(kChangeLatest).number);
                !ahead.ok()) {
              read.Finish();
              return ahead;
            }
            if (after.seq() < read.extra(kChangeHorizon).number) {
              read.Finish();
              return WithReason(
                  absl::OutOfRangeError(
                      "the changes after this resume token are past the "
                      "retention; list again and continue from the list's "
                      "resume_token"),
                  reason::kResumeTokenExpired);
            }
            for (; row && !read.row()[schema::kTaskId].null;
                 row = read.Fetch()) {
              TaskChange& change = changes.emplace_back();
              change.seq = read.extra(kChangeSeq).number;
              change.change_id = read.extra(kChangeId).number;
              change.type = static_cast<v1::TaskEvent::Type>(
                  read.extra(kChangeType).number);
              absl::Status task =
                  schema::ReadRow(kTaskTable, read.row(), change.task);
              if (!task.ok()) {
                read.Finish();
                return task;
              }
            }
            read.Finish();
            return changes;
          });
    });
  }

  absl::StatusOr<int> SequenceChanges() override {
    return Guarded([&]() -> absl::StatusOr<int> {
      if (queries_.sequence_changes.empty()) return 0;
      ErrorContext context;
      return database_.Run(Access::kWrite, context,
                           [&](Connection& connection) -> absl::StatusOr<int> {
                             PreparedStatement& number = connection.Statement(
                                 queries_.sequence_changes, RowKind::kNumber);
                             number.params().sender = sender_;
                             if (!number.ExecuteOnce()) {
                               return NoRowReturned("numbering changes");
                             }
                             return static_cast<int>(number.number());
                           });
    });
  }

  absl::StatusOr<bool> WaitForChanges(absl::Duration timeout) override {
    return Guarded([&]() -> absl::StatusOr<bool> {
      if (listener_ != nullptr) return listener_->Wait(timeout);
      // No signal to wait for: the timeout, or shutdown.
      absl::MutexLock lock(&wait_mu_);
      if (wait_mu_.AwaitWithTimeout(absl::Condition(&waits_cancelled_),
                                    std::max(timeout, absl::ZeroDuration()))) {
        return WithReason(absl::UnavailableError("the store is shutting down"),
                          reason::kDatabaseUnavailable);
      }
      return false;
    });
  }

  absl::Status TrimChanges(absl::Time before) override {
    return Guarded([&]() -> absl::Status {
      ErrorContext context;
      return database_.Run(
          Access::kWrite, context, [&](Connection& connection) -> absl::Status {
            connection.Begin();
            PreparedStatement& raise = connection.Statement(
                queries_.raise_change_horizon, RowKind::kNone);
            raise.params().now = absl::ToUnixMicros(before);
            raise.ExecuteOnce();
            connection
                .Statement(queries_.delete_trimmed_changes, RowKind::kNone)
                .ExecuteOnce();
            connection.Commit();
            return absl::OkStatus();
          });
    });
  }

  void CancelCalls() override {
    {
      absl::MutexLock lock(&wait_mu_);
      waits_cancelled_ = true;
    }
    if (listener_ != nullptr) listener_->Cancel();
    {
      absl::MutexLock lock(&async_mu_);
      async_cancelled_ = true;
      if (async_ != nullptr) async_->Cancel();
    }
    database_.CancelCalls();
  }

 private:
  // The dialect's AsyncStatements, made on first use (its connections are
  // only worth opening for a server); null where the dialect has none, and
  // once calls are cancelled.
  AsyncStatements* Async() {
    if (async_made_.load(std::memory_order_acquire)) return async_.get();
    absl::MutexLock lock(&async_mu_);
    if (!async_made_.load(std::memory_order_relaxed) && !async_cancelled_) {
      async_ = database_.dialect().NewAsyncStatements(observer_);
      async_made_.store(true, std::memory_order_release);
    }
    return async_made_.load(std::memory_order_relaxed) ? async_.get() : nullptr;
  }

  // The most changes one ReadChanges returns.
  static constexpr int kMaxChangesPerRead = 1000;

  // The change position in the extra columns of `statement`'s row
  // (kTaskPage, kPosition).
  static ChangePosition PositionOf(const PreparedStatement& statement) {
    absl::flat_hash_set<int64_t> reflected;
    const schema::ColumnValue& ids = statement.extra(kPositionReflected);
    if (!ids.null) {
      for (absl::string_view id : absl::StrSplit(ids.text, ',')) {
        int64_t change_id = 0;
        if (absl::SimpleAtoi(id, &change_id)) reflected.insert(change_id);
      }
    }
    return ChangePosition(statement.extra(kPositionSeq).number,
                          std::move(reflected));
  }

  // Runs `read(too_many)`, which reads a change position; when it sets
  // `too_many` (more unnumbered changes than a position may reflect: no
  // replica is numbering them), numbers them and reads once more.
  template <typename Read>
  auto WithChangePosition(Read read) -> decltype(read(std::declval<bool&>())) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      bool too_many = false;
      auto result = read(too_many);
      if (!result.ok() || !too_many) return result;
      if (attempt == 0) RETURN_IF_ERROR(SequenceChanges().status());
    }
    return WithReason(absl::UnavailableError(
                          "too many changes are waiting to be numbered; retry"),
                      reason::kDatabaseUnavailable);
  }

  // Binds :allowed_ids of a statement made for a restricted scope.
  void SetAllowedIds(const std::optional<std::vector<int64_t>>& allowed,
                     StatementParams& params) const {
    if (allowed.has_value()) {
      params.allowed_ids = database_.dialect().AllowedIdsParameter(*allowed);
    }
  }

  absl::Status DeleteProjectRow(Connection& connection, long long id) {
    PreparedStatement& remove =
        connection.Statement(queries_.delete_project, RowKind::kNumber);
    remove.params().id = id;
    if (!remove.ExecuteOnce()) return ProjectNotFound(id);
    return absl::OkStatus();
  }

  // Inserts `task`; when its request_id was used before, returns that
  // task (see ReplayedTask). `field` names the request_id in errors.
  // Throws soci::soci_error.
  absl::StatusOr<v1::Task> InsertTask(Connection& connection,
                                      const v1::Task& task,
                                      const CheckedColumns& values,
                                      absl::string_view request_id,
                                      const Idempotency& idempotency,
                                      absl::string_view field) {
    PreparedStatement& insert = connection.Statement(
        queries_.InsertTask(values.columns()), RowKind::kTask);
    SetInsertParams(task, values, request_id, idempotency, insert.params());
    if (insert.ExecuteOnce()) return schema::TaskFromRow(insert.row());
    return ReplayedTask(connection, insert.params(), idempotency, field);
  }

  // The parameters of an insert of `task`. Without a request_id the row
  // has no scope ("") and no fingerprint.
  void SetInsertParams(const v1::Task& task, const CheckedColumns& values,
                       absl::string_view request_id,
                       const Idempotency& idempotency,
                       StatementParams& params) {
    values.SetParams(params);
    const bool keyed = !request_id.empty();
    params.request_id.assign(request_id.data(), request_id.size());
    params.request_id_indicator = keyed ? soci::i_ok : soci::i_null;
    params.idempotency_scope = keyed ? idempotency.scope : "";
    RequestFingerprints fingerprints =
        keyed ? FingerprintRequest(task) : RequestFingerprints();
    params.request_fingerprint = std::move(fingerprints.row);
    params.request_fingerprint_indicator = keyed ? soci::i_ok : soci::i_null;
    params.sent_fingerprint = std::move(fingerprints.sent);
    params.now = NowMicros();
  }

  // The task an earlier create with the request_id of `insert` (its
  // parameters) made, after the insert did nothing: the same draft's task,
  // when it is within idempotency.access. Throws soci::soci_error.
  absl::StatusOr<v1::Task> ReplayedTask(Connection& connection,
                                        const StatementParams& insert,
                                        const Idempotency& idempotency,
                                        absl::string_view field) {
    PreparedStatement& earlier =
        connection.Statement(queries_.task_by_request_id, RowKind::kTask);
    SetReplayParams(insert, earlier.params());
    if (earlier.ExecuteOnce()) {
      return EarlierTask(earlier.row(), idempotency.access);
    }
    PreparedStatement& taken =
        connection.Statement(queries_.request_id_taken, RowKind::kNumber);
    SetRequestKey(insert, taken.params());
    return NoEarlierTask(taken.ExecuteOnce(), insert.request_id, field);
  }

  // ReplayedTask through `async`, answering `done` on its thread: the two
  // statements, each sent once the previous one is answered.
  void ReplayAsync(AsyncStatements& async, const StatementParams& insert,
                   absl::Time deadline, AccessScope access, TaskCallback done) {
    // Shared: a statement refused is dropped with its callback.
    auto answer = std::make_shared<TaskCallback>(std::move(done));
    AsyncStatement earlier;
    earlier.sql = &queries_.task_by_request_id;
    SetReplayParams(insert, earlier.params);
    earlier.table = &schema::kTaskTable;
    earlier.deadline = deadline;
    AsyncStatement taken;
    taken.sql = &queries_.request_id_taken;
    SetRequestKey(insert, taken.params);
    taken.deadline = deadline;
    taken.done = [request_id = insert.request_id,
                  answer](absl::StatusOr<std::optional<schema::Row>> row) {
      if (!row.ok()) return std::move(*answer)(row.status());
      std::move (*answer)(
          NoEarlierTask(row->has_value(), request_id, "request_id"));
    };
    earlier.done =
        [&async, taken = std::move(taken), access = std::move(access),
         answer](absl::StatusOr<std::optional<schema::Row>> row) mutable {
          if (!row.ok()) return std::move(*answer)(row.status());
          if (row->has_value()) {
            return std::move(*answer)(EarlierTask(**row, access));
          }
          if (!async.TrySend(std::move(taken)))
            std::move (*answer)(ReplayRefused());
        };
    if (!async.TrySend(std::move(earlier)))
      std::move (*answer)(ReplayRefused());
  }

  // The earlier create's task, `row`, when `access` allows it.
  static absl::StatusOr<v1::Task> EarlierTask(const schema::Row& row,
                                              const AccessScope& access) {
    ASSIGN_OR_RETURN(v1::Task task, schema::TaskFromRow(row));
    if (!access.Allows(ProjectOf(task))) {
      // As if it did not exist, naming neither the task nor its project.
      return WithReason(absl::NotFoundError("the task created with this "
                                            "request_id was not found"),
                        reason::kTaskNotFound);
    }
    return task;
  }

  // No earlier task of the draft: the request_id is `taken` by another
  // draft's task, or its task went meanwhile.
  static absl::Status NoEarlierTask(bool taken, absl::string_view request_id,
                                    absl::string_view field) {
    if (taken) return RequestIdReused(request_id, field);
    // Deleted between the two statements: the caller may simply retry.
    return WithReason(
        absl::AbortedError(absl::StrCat("the task of request_id \"",
                                        absl::CHexEscape(request_id),
                                        "\" changed concurrently; retry")),
        reason::kInternal);
  }

  // The parameters of task_by_request_id for the insert of `insert`.
  static void SetReplayParams(const StatementParams& insert,
                              StatementParams& to) {
    SetRequestKey(insert, to);
    to.request_fingerprint = insert.request_fingerprint;
    to.request_fingerprint_indicator = soci::i_ok;
    to.sent_fingerprint = insert.sent_fingerprint;
  }

  static void SetRequestKey(const StatementParams& from, StatementParams& to) {
    to.request_id = from.request_id;
    to.request_id_indicator = soci::i_ok;
    to.idempotency_scope = from.idempotency_scope;
  }

  // ALREADY_EXISTS rather than INVALID_ARGUMENT or FAILED_PRECONDITION: as
  // with a taken title, the request is valid and it is stored state (the
  // key's first request, AIP-155's "previously successful request") that
  // refuses it; retrying the same call cannot succeed, a new request_id can.
  static absl::Status RequestIdReused(absl::string_view request_id,
                                      absl::string_view field) {
    return WithField(
        WithReason(
            absl::AlreadyExistsError(absl::StrCat(
                "request_id \"", absl::CHexEscape(request_id),
                "\" was already used for another task; a retry must repeat "
                "its request exactly, a new request needs a new request_id")),
            reason::kRequestIdReused),
        field);
  }

  // The inserts of a batch (in the open transaction) through one libpq
  // pipeline, a few dozen per round trip, with the outcome and errors the
  // one-by-one inserts would give: `context` names the failing request when
  // one throws. PostgreSQL only. Throws soci::soci_error.
  absl::Status InsertTasksPipelined(Connection& connection,
                                    const v1::BatchCreateTasksRequest& request,
                                    const std::vector<CheckedColumns>& values,
                                    const Idempotency& idempotency,
                                    ErrorContext& context,
                                    v1::BatchCreateTasksResponse& response) {
    const int count = request.requests_size();
    std::vector<PipelinedStatement> statements(count);
    for (int i = 0; i < count; ++i) {
      const v1::CreateTaskRequest& item = request.requests(i);
      const v1::Task& task = item.task();
      statements[i].sql = &queries_.InsertTask(values[i].columns());
      SetInsertParams(task, values[i], item.request_id(), idempotency,
                      statements[i].params);
    }
    int failed = -1;
    std::vector<std::optional<schema::Row>> rows;
    try {
      rows = RunTaskPipeline(connection.session(), statements,
                             connection.dialect().keeps_prepared_statements()
                                 ? &connection.pipelined_statements()
                                 : nullptr,
                             &failed);
    } catch (...) {
      if (failed >= 0) context = ItemContext(failed, request.requests(failed));
      throw;
    }
    for (int i = 0; i < count; ++i) {
      const v1::CreateTaskRequest& item = request.requests(i);
      context = ItemContext(i, item);
      absl::StatusOr<v1::Task> task =
          rows[i].has_value()
              ? schema::TaskFromRow(*rows[i])
              : ReplayedTask(connection, statements[i].params, idempotency,
                             absl::StrCat("requests[", i, "].request_id"));
      if (!task.ok()) {
        return PrefixMessage(task.status(), context.message_prefix);
      }
      *response.add_tasks() = *std::move(task);
    }
    return absl::OkStatus();
  }

  // Names request `i` of a batch in errors.
  static ErrorContext ItemContext(int i, const v1::CreateTaskRequest& item) {
    ErrorContext context =
        TaskContext(absl::StrCat("requests[", i, "].task"), item.task());
    context.message_prefix = absl::StrCat("requests[", i, "]: ");
    return context;
  }

  StoreObserver* const observer_;  // may be null
  const Queries queries_;
  // Names this store's SequenceChanges runs in their NOTIFY.
  const std::string sender_;
  // WaitForChanges' signal; nullptr where the backend has none.
  const std::unique_ptr<ChangeSignal> listener_;
  absl::Mutex wait_mu_;
  bool waits_cancelled_ ABSL_GUARDED_BY(wait_mu_) = false;
  Database database_;
  std::unique_ptr<PageTokenCodec> tokens_;
  absl::Mutex async_mu_;
  bool async_cancelled_ ABSL_GUARDED_BY(async_mu_) = false;
  // Set once, under async_mu_, before async_made_; closed before the
  // database (declared after it).
  std::unique_ptr<AsyncStatements> async_;
  std::atomic<bool> async_made_{false};
};

}  // namespace

absl::StatusOr<TaskStorePtr> OpenSociTaskStore(
    absl::string_view connection, const SociTaskStoreOptions& options) {
  return Guarded([&]() -> absl::StatusOr<TaskStorePtr> {
    if (options.pool_size < 0) {
      return absl::InvalidArgumentError("pool_size must not be negative");
    }
    const absl::Duration wait_timeout =
        std::max(options.wait_timeout, absl::ZeroDuration());
    ASSIGN_OR_RETURN(std::unique_ptr<Dialect> dialect,
                     DialectForConnection(connection, wait_timeout));
    int pool_size = options.pool_size > 0 ? options.pool_size
                                          : dialect->default_pool_size();
    pool_size = std::min(pool_size, dialect->max_pool_size());
    auto store = std::make_unique<SociTaskStore>(
        std::move(dialect), pool_size, wait_timeout, options.observer);
    RETURN_IF_ERROR(store->Init());
    return TaskStorePtr(std::move(store));
  });
}

}  // namespace tasks::storage
