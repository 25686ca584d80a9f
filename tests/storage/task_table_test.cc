#include "storage/schema/task_table.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "storage/schema/column.h"
#include "tasks/v1/tasks.pb.h"

namespace tasks::storage::schema {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Writes the `columns` of `task` into `row`, as the store does for an insert.
void WriteColumns(const Table& table, const google::protobuf::Message& message,
                  ColumnSet columns, Row& row) {
  for (int i = 0; i < table.size; ++i) {
    if (!columns.Has(i)) continue;
    ASSERT_TRUE(WriteColumn(table, i, message,
                            absl::StrCat("task.", table[i].path), row[i])
                    .ok())
        << table[i].name;
  }
}

v1::Task FullDraft() {
  v1::Task task;
  task.set_project_id(12);
  task.set_title("Write the report");
  task.set_description("by Friday");
  task.set_status(v1::Task::IN_PROGRESS);
  task.set_priority(v1::Task::HIGH);
  (*task.mutable_metadata()->mutable_fields())["owner"].set_string_value("ana");
  task.mutable_due_time()->set_seconds(1767225600);
  return task;
}

TEST(TaskTableTest, ColumnListIsTheTableOrder) {
  EXPECT_EQ(ColumnList(kTaskTable),
            "id, project_id, title, description, status, priority, metadata, "
            "due_time, create_time, update_time, revision");
  EXPECT_EQ(ColumnList(kProjectTable),
            "id, name, description, create_time, update_time");
}

TEST(TaskTableTest, TextColumnListReadsJsonAsText) {
  EXPECT_EQ(TextColumnList(kTaskTable),
            "id, project_id, title, description, status, priority, "
            "CAST(metadata AS text) AS metadata, due_time, create_time, "
            "update_time, revision");
  EXPECT_EQ(TextColumnList(kProjectTable), ColumnList(kProjectTable));
}

TEST(TaskTableTest, StoredBytesCountTheTextColumns) {
  EXPECT_EQ(StoredBytesSql(kTaskTable),
            "octet_length(title) + octet_length(description) + "
            "octet_length(metadata)");
  EXPECT_EQ(StoredBytesSql(kProjectTable),
            "octet_length(name) + octet_length(description)");
  Row row;
  row[kTaskId].number = 123456789;
  row[ColumnIndex(kTaskColumns, "title")].text = "abc";
  row[ColumnIndex(kTaskColumns, "description")].text = "de";
  row[kTaskMetadata].text = "{}";
  EXPECT_EQ(StoredBytes(kTaskTable, row), 7u);
}

TEST(TaskTableTest, NamedColumnsAreFoundByName) {
  EXPECT_STREQ(kTaskColumns[kTaskId].name, "id");
  EXPECT_STREQ(kTaskColumns[kTaskProjectId].name, "project_id");
  EXPECT_STREQ(kTaskColumns[kTaskStatus].name, "status");
  EXPECT_STREQ(kTaskColumns[kTaskPriority].name, "priority");
  EXPECT_STREQ(kTaskColumns[kTaskMetadata].name, "metadata");
  EXPECT_EQ(ColumnIndex(kTaskColumns, "nothing"), -1);
  EXPECT_EQ(ColumnIndex(kTaskTable, "revision"), kTaskTable.size - 1);
  EXPECT_EQ(PathIndex(kTaskTable, "etag"), kTaskTable.size - 1);
  EXPECT_EQ(PathIndex(kTaskTable, "revision"), -1);
}

TEST(TaskTableTest, MaskPaths) {
  EXPECT_THAT(TaskUpdatablePaths(),
              ElementsAre("project_id", "title", "description", "status",
                          "priority", "metadata", "due_time"));
  EXPECT_THAT(TaskOutputOnlyPaths(),
              ElementsAre("id", "create_time", "update_time", "etag"));
  EXPECT_THAT(ProjectUpdatablePaths(), ElementsAre("name", "description"));
  EXPECT_THAT(ProjectOutputOnlyPaths(),
              ElementsAre("id", "create_time", "update_time"));
}

TEST(TaskTableTest, PopulatedPathsAreTheSetFieldsInTableOrder) {
  v1::Task task;
  EXPECT_THAT(PopulatedPaths(kTaskTable, task), IsEmpty());
  task.set_priority(v1::Task::LOW);
  task.set_title("t");
  task.set_id(5);  // output only: never populated for a mask
  EXPECT_THAT(PopulatedPaths(kTaskTable, task),
              ElementsAre("title", "priority"));
  EXPECT_THAT(PopulatedPaths(kTaskTable, FullDraft()),
              ElementsAre("project_id", "title", "description", "status",
                          "priority", "metadata", "due_time"));
  v1::Project project;
  project.set_description("d");
  EXPECT_THAT(PopulatedPaths(kProjectTable, project),
              ElementsAre("description"));
}

TEST(TaskTableTest, InsertLeavesUnsetEnumsToTheColumnDefault) {
  v1::Task task;
  task.set_title("t");
  const ColumnSet columns = InsertColumns(kTaskTable, task);
  EXPECT_FALSE(columns.Has(kTaskStatus));
  EXPECT_FALSE(columns.Has(kTaskPriority));
  EXPECT_TRUE(columns.Has(kTaskProjectId));  // NULL when unset
  EXPECT_TRUE(columns.Has(kTaskMetadata));
  EXPECT_FALSE(columns.Has(kTaskId));
  task.set_status(v1::Task::PENDING);
  EXPECT_TRUE(InsertColumns(kTaskTable, task).Has(kTaskStatus));
}

TEST(TaskTableTest, RoundTripTaskToParamsToRowToTask) {
  const v1::Task draft = FullDraft();
  Row row;
  WriteColumns(kTaskTable, draft, InsertColumns(kTaskTable, draft), row);
  EXPECT_FALSE(row[kTaskProjectId].null);
  EXPECT_EQ(row[kTaskProjectId].number, 12);
  EXPECT_EQ(row[kTaskMetadata].text, R"({"owner":"ana"})");
  // What the database adds.
  row[kTaskId].number = 7;
  row[ColumnIndex(kTaskColumns, "create_time")].number = 1700000000123456;
  row[ColumnIndex(kTaskColumns, "update_time")].number = 1700000001000000;
  row[ColumnIndex(kTaskColumns, "revision")].number = 3;

  absl::StatusOr<v1::Task> read = TaskFromRow(row);
  ASSERT_TRUE(read.ok()) << read.status();
  v1::Task expected = draft;
  expected.set_id(7);
  expected.mutable_create_time()->set_seconds(1700000000);
  expected.mutable_create_time()->set_nanos(123456000);
  expected.mutable_update_time()->set_seconds(1700000001);
  expected.set_etag("\"3\"");
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals(*read, expected))
      << read->DebugString();
}

TEST(TaskTableTest, UnsetOptionalFieldsAreNull) {
  v1::Task draft;  // no project, no title, no metadata
  Row row;
  WriteColumns(kTaskTable, draft, InsertColumns(kTaskTable, draft), row);
  EXPECT_TRUE(row[kTaskProjectId].null);
  // An empty title is NULL, so that the NOT NULL column refuses it.
  EXPECT_TRUE(row[ColumnIndex(kTaskColumns, "title")].null);
  EXPECT_FALSE(row[ColumnIndex(kTaskColumns, "description")].null);
  EXPECT_EQ(row[kTaskMetadata].text, "{}");

  absl::StatusOr<v1::Task> read = TaskFromRow(row);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_FALSE(read->has_project_id());
  EXPECT_FALSE(read->has_metadata());
}

TEST(TaskTableTest, StoredMetadataThatIsNotAnObjectIsInternal) {
  Row row;
  row[kTaskId].number = 9;
  row[kTaskMetadata].text = "[1]";
  absl::StatusOr<v1::Task> read = TaskFromRow(row);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(read.status().message()),
              HasSubstr("task 9: stored metadata is not a JSON object"));
}

TEST(TaskTableTest, ProjectRoundTrip) {
  v1::Project project;
  project.set_name("Home");
  project.set_description("chores");
  Row row;
  WriteColumns(kProjectTable, project, InsertColumns(kProjectTable, project),
               row);
  row[0].number = 4;
  v1::Project read = ProjectFromRow(row);
  EXPECT_EQ(read.id(), 4);
  EXPECT_EQ(read.name(), "Home");
  EXPECT_EQ(read.description(), "chores");
  EXPECT_TRUE(read.has_create_time());
}

TEST(TaskTableTest, MicrosBeforeTheEpochKeepNanosPositive) {
  google::protobuf::Timestamp timestamp;
  SetTimestampFromMicros(-1, &timestamp);
  EXPECT_EQ(timestamp.seconds(), -1);
  EXPECT_EQ(timestamp.nanos(), 999999000);
  EXPECT_EQ(TimestampToMicros(timestamp), -1);
}

// A table with a nullable timestamp that the API sets on create and by
// update mask: what a column like Task.due_time takes (one entry). Task's
// create_time stands in for the field.
constexpr Column kFakeColumns[] = {
    {"id", "id", ValueKind::kInt64, 0, kOutputOnly,
     Int64Field<&v1::Task::id, &v1::Task::set_id>()},
    {"due", "create_time", ValueKind::kMicros, kNullable, kWritable,
     TimestampField<&v1::Task::has_create_time, &v1::Task::create_time,
                    &v1::Task::mutable_create_time>()},
};
constexpr Table kFakeTable = {"fake", kFakeColumns, 2};
constexpr int kDue = ColumnIndex(kFakeColumns, "due");
static_assert(kDue == 1);

TEST(TaskTableTest, NullableTimestampColumn) {
  EXPECT_EQ(ColumnList(kFakeTable), "id, due");
  EXPECT_EQ(StoredBytesSql(kFakeTable), "");
  EXPECT_THAT(UpdatablePaths(kFakeTable), ElementsAre("create_time"));
  EXPECT_THAT(OutputOnlyPaths(kFakeTable), ElementsAre("id"));

  v1::Task unset;
  EXPECT_THAT(PopulatedPaths(kFakeTable, unset), IsEmpty());
  // Nullable, not kDefaultWhenUnset: an insert writes NULL.
  EXPECT_TRUE(InsertColumns(kFakeTable, unset).Has(kDue));
  Row row;
  WriteColumns(kFakeTable, unset, InsertColumns(kFakeTable, unset), row);
  EXPECT_TRUE(row[kDue].null);
  v1::Task read;
  ASSERT_TRUE(ReadRow(kFakeTable, row, read).ok());
  EXPECT_FALSE(read.has_create_time());

  v1::Task set;
  set.mutable_create_time()->set_seconds(1800000000);
  set.mutable_create_time()->set_nanos(5000);
  EXPECT_THAT(PopulatedPaths(kFakeTable, set), ElementsAre("create_time"));
  WriteColumns(kFakeTable, set, InsertColumns(kFakeTable, set), row);
  EXPECT_FALSE(row[kDue].null);
  EXPECT_EQ(row[kDue].number, 1800000000000005);
  read.Clear();
  ASSERT_TRUE(ReadRow(kFakeTable, row, read).ok());
  EXPECT_TRUE(read.has_create_time());
  EXPECT_EQ(read.create_time().seconds(), 1800000000);
  EXPECT_EQ(read.create_time().nanos(), 5000);
}

}  // namespace
}  // namespace tasks::storage::schema
