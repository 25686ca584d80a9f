#include "storage/sql/queries.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/engine/dialect.h"
#include "storage/postgres/postgres_dialect.h"
#include "storage/schema/task_table.h"
#include "storage/sql/extra_columns.h"
#include "storage/sql/prepared_statement.h"
#include "storage/sql/statement_params.h"
#include "storage/sqlite/sqlite_dialect.h"

namespace tasks::storage {
namespace {

using schema::ColumnSet;
using schema::kTaskTable;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kTaskColumnList[] =
    "id, project_id, title, description, status, priority, metadata, "
    "due_time, create_time, update_time, revision";

ColumnSet Columns(std::initializer_list<const char*> names) {
  ColumnSet columns;
  for (const char* name : names) {
    const int column = schema::ColumnIndex(kTaskTable, name);
    EXPECT_GE(column, 0) << name;
    columns.Add(column);
  }
  return columns;
}

// Every parameter of `sql` binds to a field of StatementParams.
void ExpectParamsBind(const std::string& sql, const schema::Table* table) {
  StatementParams params;
  for (const std::string& name : ParameterNames(sql)) {
    EXPECT_NO_THROW(ParamFor(params, name, table)) << name << " in " << sql;
  }
}

class QueriesTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      dialect_ = MakeSqliteDialect(":memory:", absl::Seconds(1));
    } else {
      absl::StatusOr<std::unique_ptr<Dialect>> dialect =
          MakePostgresDialect("postgresql://localhost/none", absl::Seconds(1));
      ASSERT_TRUE(dialect.ok()) << dialect.status();
      dialect_ = *std::move(dialect);
    }
    queries_ = std::make_unique<Queries>(*dialect_);
  }

  std::unique_ptr<Dialect> dialect_;
  std::unique_ptr<Queries> queries_;
};

TEST_P(QueriesTest, InsertTaskSetsTheColumnsOfItsSet) {
  EXPECT_EQ(queries_->InsertTask(
                Columns({"project_id", "title", "description", "metadata"})),
            absl::StrCat(
                "INSERT INTO tasks (project_id, title, description, metadata, "
                "request_id, idempotency_scope, request_fingerprint, "
                "create_time, update_time) VALUES (:project_id, :title, "
                ":description, :metadata, :request_id, :idempotency_scope, "
                ":request_fingerprint, :now, :now) ON CONFLICT "
                "(idempotency_scope, request_id) DO NOTHING RETURNING ",
                kTaskColumnList));
  const std::string& with_enums =
      queries_->InsertTask(Columns({"project_id", "title", "description",
                                    "status", "priority", "metadata"}));
  EXPECT_THAT(with_enums,
              HasSubstr("(project_id, title, description, status, priority, "
                        "metadata, request_id,"));
  EXPECT_THAT(with_enums, HasSubstr(":status, :priority, :metadata"));
  ExpectParamsBind(with_enums, &kTaskTable);
}

TEST_P(QueriesTest, UpdateTaskSetsTheColumnsOfItsSet) {
  EXPECT_EQ(queries_->UpdateTask(Columns({"title", "priority"}),
                                 /*check_revision=*/true,
                                 /*restricted=*/false),
            absl::StrCat("UPDATE tasks SET title = :title, priority = "
                         ":priority, revision = revision + 1, update_time = "
                         ":now WHERE id = :id AND revision = :revision "
                         "RETURNING ",
                         kTaskColumnList));
  EXPECT_EQ(queries_->UpdateTask(Columns({"metadata"}), false, true),
            absl::StrCat("UPDATE tasks SET metadata = :metadata, revision = "
                         "revision + 1, update_time = :now WHERE id = :id AND ",
                         dialect_->AllowedIdsCondition("project_id"),
                         " RETURNING ", kTaskColumnList));
}

TEST_P(QueriesTest, UpdateProjectSetsTheColumnsOfItsSet) {
  ColumnSet description;
  description.Add(schema::ColumnIndex(schema::kProjectTable, "description"));
  EXPECT_EQ(queries_->UpdateProject(description),
            "UPDATE projects SET description = :description, update_time = "
            ":now WHERE id = :id RETURNING id, name, description, "
            "create_time, update_time");
  EXPECT_EQ(queries_->insert_project,
            "INSERT INTO projects (name, description, create_time, "
            "update_time) VALUES (:name, :description, :now, :now) RETURNING "
            "id, name, description, create_time, update_time");
}

TEST_P(QueriesTest, SameSetIsTheSameStatement) {
  const ColumnSet set = Columns({"title"});
  const std::string& first = queries_->UpdateTask(set, false, false);
  EXPECT_EQ(&queries_->UpdateTask(set, false, false), &first);
  EXPECT_NE(queries_->UpdateTask(set, true, false), first);
  EXPECT_NE(queries_->UpdateTask(Columns({"description"}), false, false),
            first);
  EXPECT_NE(queries_->InsertTask(set), first);
  // Lists: one statement per filters, order and cursor.
  const std::string& list = queries_->ListTasks(kFilterStatus, 1, true);
  EXPECT_EQ(&queries_->ListTasks(kFilterStatus, 1, true), &list);
  EXPECT_NE(queries_->ListTasks(kFilterStatus, 1, false), list);
  EXPECT_NE(queries_->ListTasks(kFilterStatus, 2, true), list);
  EXPECT_NE(queries_->ListTasks(kFilterPriority, 1, true), list);
}

TEST_P(QueriesTest, EverySetBuiltFromManyThreadsIsOneStatement) {
  // Each updatable column set, with and without the revision check and the
  // scope: 64 sets x 4 today.
  std::vector<ColumnSet> sets;
  std::vector<int> updatable;
  for (int i = 0; i < kTaskTable.size; ++i) {
    if (kTaskTable[i].updatable()) updatable.push_back(i);
  }
  for (int bits = 1; bits < (1 << updatable.size()); ++bits) {
    ColumnSet set;
    for (size_t j = 0; j < updatable.size(); ++j) {
      if (bits & (1 << j)) set.Add(updatable[j]);
    }
    sets.push_back(set);
  }
  constexpr int kThreads = 4;
  std::vector<std::vector<const std::string*>> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (ColumnSet set : sets) {
        for (int flags = 0; flags < 4; ++flags) {
          seen[t].push_back(
              &queries_->UpdateTask(set, flags & 1, (flags & 2) != 0));
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 1; t < kThreads; ++t) EXPECT_EQ(seen[t], seen[0]);
  for (const std::string* sql : seen[0]) ExpectParamsBind(*sql, &kTaskTable);
}

TEST_P(QueriesTest, ReadsReturnTheTableColumns) {
  EXPECT_EQ(
      queries_->GetTask(false),
      absl::StrCat("SELECT ", kTaskColumnList, " FROM tasks WHERE id = :id"));
  const std::string& list = queries_->ListTasks(kAllTaskFilters, 0, true);
  EXPECT_TRUE(absl::StartsWith(
      list, absl::StrCat("SELECT ", kTaskColumnList, " FROM ")))
      << list;
  ExpectParamsBind(list, &kTaskTable);
  if (dialect_->buffers_results()) {
    EXPECT_THAT(list, HasSubstr("CAST(metadata AS text) AS metadata"));
    EXPECT_THAT(list, HasSubstr("sum(octet_length(title) + "
                                "octet_length(description) + "
                                "octet_length(metadata))"));
  } else {
    EXPECT_THAT(list, Not(HasSubstr("CAST(")));
  }
}

// The change statements select the columns after the table's in the order
// the row reads them (kPositionExtras, kChangeExtras).
TEST_P(QueriesTest, ChangeStatementsEndWithTheirExtraColumnsInOrder) {
  EXPECT_TRUE(absl::StartsWith(
      queries_->read_changes,
      absl::StrCat("SELECT ", kTaskColumnList,
                   ", seq, change_id, change_type, horizon, latest FROM ")))
      << queries_->read_changes;
  EXPECT_EQ(ExtraColumnList(kChangeExtras),
            "seq, change_id, change_type, horizon, latest");
  EXPECT_EQ(ExtraColumnList(kPositionExtras), "change_seq, change_reflected");
  EXPECT_THAT(queries_->change_position, HasSubstr(" AS change_seq, "));
  EXPECT_TRUE(absl::EndsWith(queries_->change_position, " AS change_reflected"))
      << queries_->change_position;
  if (dialect_->buffers_results()) {
    const std::string& page =
        queries_->PositionedListTasks(kAllTaskFilters, 0, true);
    EXPECT_TRUE(absl::StartsWith(
        page, absl::StrCat("SELECT ", kTaskColumnList, ", change_seq, CASE ")))
        << page;
    EXPECT_THAT(page, HasSubstr(" END AS change_reflected FROM ("));
  }
}

// A nullable column's orders: rows without a value last either way, and a
// bound on the key next to the row-value comparison so that an index on the
// expression is sought, not scanned from its start.
TEST_P(QueriesTest, NullableOrdersSortMissingValuesLast) {
  int ascending = -1;
  int descending = -1;
  for (size_t i = 0; i < TaskOrders().size(); ++i) {
    const TaskOrder& order = TaskOrders()[i];
    if (order.column == nullptr ||
        !kTaskTable[order.column_index].has(schema::kNullable)) {
      continue;
    }
    (order.descending ? descending : ascending) = static_cast<int>(i);
  }
  ASSERT_GE(ascending, 0) << "no order on a nullable column";
  ASSERT_GE(descending, 0);
  const std::string& up = queries_->ListTasks(0, ascending, true);
  EXPECT_THAT(up, HasSubstr("COALESCE(due_time, 9223372036854775807) >= "
                            ":after_number AND (COALESCE(due_time, "
                            "9223372036854775807), id) > (:after_number, "
                            ":after_id)"));
  EXPECT_THAT(up, HasSubstr("ORDER BY COALESCE(due_time, 9223372036854775807), "
                            "id LIMIT :limit"));
  const std::string& down = queries_->ListTasks(0, descending, true);
  EXPECT_THAT(down, HasSubstr("COALESCE(due_time, -9223372036854775807) <= "
                              ":after_number AND (COALESCE(due_time, "
                              "-9223372036854775807), id) < (:after_number, "
                              ":after_id)"));
  EXPECT_THAT(down, HasSubstr("ORDER BY COALESCE(due_time, "
                              "-9223372036854775807) DESC, id DESC"));
  ExpectParamsBind(up, &kTaskTable);
}

INSTANTIATE_TEST_SUITE_P(Dialects, QueriesTest,
                         ::testing::Values("sqlite", "postgres"));

}  // namespace
}  // namespace tasks::storage
