// The TaskStore contract on every selected backend (see
// task_store_fixture.h). Integrity rules: uniqueness, references, domains,
// enforced by the schema too.

#include <cmath>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "storage/soci_task_store.h"
#include "storage/task_store.h"
#include "tasks/v1/tasks.pb.h"
#include "tests/storage/task_store_fixture.h"
#include "tests/testing/proto_matchers.h"
#include "tests/testing/raw_sql.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/store_backends.h"
#include "tests/testing/task_builders.h"

namespace tasks::storage {
namespace {

using ::google::protobuf::util::TimeUtil;
using ::tasks::testing::EqualsProto;
using ::tasks::testing::FreshStoreDatabase;
using ::tasks::testing::IsOkAndHolds;
using ::tasks::testing::MaskOf;
using ::tasks::testing::ProjectNamed;
using ::tasks::testing::QueryRawSql;
using ::tasks::testing::ReasonIs;
using ::tasks::testing::StatusIs;
using ::tasks::testing::StoreLocation;
using ::tasks::testing::TaskBuilder;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using Code = ::absl::StatusCode;

TEST_P(TaskStoreTest, DuplicateTitleInSameProjectIsAlreadyExistsNamingIt) {
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Constraint Test"));
  ASSERT_OK(CreateTask(TaskBuilder("Unique Title").InProject(project.id())));

  EXPECT_THAT(CreateTask(TaskBuilder("Unique Title").InProject(project.id())),
              AllOf(StatusIs(Code::kAlreadyExists,
                             AllOf(HasSubstr("\"Unique Title\""),
                                   HasSubstr("tasks_project_title_key"))),
                    ReasonIs(reason::kTitleTaken)));

  EXPECT_THAT(ListTitles(TasksInProject(project.id())),
              IsOkAndHolds(ElementsAre("Unique Title")));
}

TEST_P(TaskStoreTest, SameTitleInDifferentProjectsIsAllowed) {
  ASSERT_OK_AND_ASSIGN(v1::Project first, CreateProject("First"));
  ASSERT_OK_AND_ASSIGN(v1::Project second, CreateProject("Second"));
  EXPECT_OK(CreateTask(TaskBuilder("Same Title").InProject(first.id())));
  EXPECT_OK(CreateTask(TaskBuilder("Same Title").InProject(second.id())));
}

// NULL project ids are distinct in a UNIQUE constraint on both backends.
TEST_P(TaskStoreTest, TasksWithoutProjectMayShareATitle) {
  ASSERT_OK(CreateTask(TaskBuilder("Inbox item")));
  EXPECT_OK(CreateTask(TaskBuilder("Inbox item")));
  EXPECT_THAT(ListTitles(),
              IsOkAndHolds(ElementsAre("Inbox item", "Inbox item")));
}

TEST_P(TaskStoreTest, TitlesWithLikeWildcardsDoNotCollide) {
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Wildcards"));
  for (const char* title : {"a", "_", "%", "a%", "ab", "a_"}) {
    EXPECT_OK(CreateTask(TaskBuilder(title).InProject(project.id()))) << title;
  }
}

TEST_P(TaskStoreTest, TaskInMissingProjectIsFailedPreconditionNamingTheId) {
  EXPECT_THAT(CreateTask(TaskBuilder("Orphan Task").InProject(987654)),
              AllOf(StatusIs(Code::kFailedPrecondition, HasSubstr("987654")),
                    ReasonIs(reason::kProjectMissing)));
  EXPECT_THAT(ListAllTasks(), IsOkAndHolds(IsEmpty()));
}

TEST_P(TaskStoreTest, UnknownEnumValuesAreInvalidArgumentAndNothingStored) {
  v1::Task bad_status = TaskBuilder("Bad status");
  bad_status.set_status(static_cast<v1::Task::Status>(42));
  v1::Task bad_priority = TaskBuilder("Bad priority");
  bad_priority.set_priority(static_cast<v1::Task::Priority>(-1));

  EXPECT_THAT(CreateTask(bad_status), StatusIs(Code::kInvalidArgument));
  EXPECT_THAT(CreateTask(bad_priority), StatusIs(Code::kInvalidArgument));
  EXPECT_THAT(ListAllTasks(), IsOkAndHolds(IsEmpty()));
}

TEST_P(TaskStoreTest, InvalidUtf8IsInvalidArgumentAndNothingStored) {
  // PostgreSQL refuses invalid UTF-8 and SQLite stores it: the store refuses
  // it first so both backends agree.
  const std::string kBad = "bad \xff\xfe";
  v1::Task in_metadata = TaskBuilder("t");
  (*in_metadata.mutable_metadata()->mutable_fields())["k"].set_string_value(
      kBad);
  for (const v1::Task& bad :
       {TaskBuilder(kBad).Build(),
        TaskBuilder("t").WithDescription(kBad).Build(), in_metadata}) {
    SCOPED_TRACE(bad.ShortDebugString());
    EXPECT_THAT(CreateTask(bad), StatusIs(Code::kInvalidArgument));
  }
  EXPECT_THAT(store().CreateProject(ProjectNamed(kBad)),
              StatusIs(Code::kInvalidArgument));
  EXPECT_THAT(ListAllTasks(), IsOkAndHolds(IsEmpty()));
}

// The schema itself enforces the rules, so a program writing SQL by hand
// cannot break them either.
TEST_P(TaskStoreTest, SchemaRefusesNullTitleAndOutOfDomainValuesFromRawSql) {
  ASSERT_OK_AND_ASSIGN(std::string connection,
                       FreshStoreDatabase(backend(), StoreLocation::kShared));
  ASSERT_OK_AND_ASSIGN(TaskStorePtr store, OpenSociTaskStore(connection));
  ASSERT_OK_AND_ASSIGN(v1::Project project,
                       store->CreateProject(ProjectNamed("p")));
  ASSERT_OK_AND_ASSIGN(
      v1::Task task,
      store->CreateTask(TaskBuilder("taken").InProject(project.id()), ""));

  const std::string kRefused[] = {
      "INSERT INTO tasks (title) VALUES (NULL)",
      "INSERT INTO tasks (title, status) VALUES ('bad status', 4)",
      "INSERT INTO tasks (title, priority) VALUES ('bad priority', 0)",
      "INSERT INTO tasks (title, metadata) VALUES ('bad metadata', '[1]')",
      absl::StrCat("INSERT INTO tasks (project_id, title) VALUES (",
                   project.id(), ", 'taken')"),
  };
  for (const std::string& sql : kRefused) {
    SCOPED_TRACE(sql);
    EXPECT_THAT(QueryRawSql(backend(), connection, sql),
                StatusIs(Code::kInternal));
  }
  EXPECT_THAT(ListAllTasks(*store, v1::ListTasksRequest()),
              IsOkAndHolds(ElementsAre(EqualsProto(task))));
}

// Metadata the schema accepts but no Struct can hold (a number beyond a
// double's range) is reported as the store's fault, not passed on.
TEST_P(TaskStoreTest, StoredMetadataNoStructCanHoldReadsAsInternal) {
  ASSERT_OK_AND_ASSIGN(std::string connection,
                       FreshStoreDatabase(backend(), StoreLocation::kShared));
  ASSERT_OK_AND_ASSIGN(TaskStorePtr store, OpenSociTaskStore(connection));
  ASSERT_OK(QueryRawSql(
      backend(), connection,
      R"(INSERT INTO tasks (title, metadata) VALUES ('raw', '{"n":1e400}'))"));
  EXPECT_THAT(ListAllTasks(*store, v1::ListTasksRequest()),
              StatusIs(Code::kInternal));
}

// A -0 stored before the store wrote it as 0 (SQLite keeps JSON text as
// written) reads as 0, as PostgreSQL's jsonb gives it.
TEST_P(TaskStoreTest, StoredMetadataMinusZeroReadsAsZero) {
  ASSERT_OK_AND_ASSIGN(std::string connection,
                       FreshStoreDatabase(backend(), StoreLocation::kShared));
  ASSERT_OK_AND_ASSIGN(TaskStorePtr store, OpenSociTaskStore(connection));
  ASSERT_OK(QueryRawSql(backend(), connection,
                        R"(INSERT INTO tasks (title, metadata) )"
                        R"(VALUES ('raw', '{"l":[-0.0],"n":-0}'))"));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Task> tasks,
                       ListAllTasks(*store, v1::ListTasksRequest()));
  ASSERT_THAT(tasks, SizeIs(1));
  const auto& fields = tasks[0].metadata().fields();
  ASSERT_TRUE(fields.contains("n") && fields.contains("l"));
  EXPECT_EQ(fields.at("n").number_value(), 0);
  EXPECT_FALSE(std::signbit(fields.at("n").number_value()));
  ASSERT_EQ(fields.at("l").list_value().values_size(), 1);
  EXPECT_FALSE(
      std::signbit(fields.at("l").list_value().values(0).number_value()));
}

TEST_P(TaskStoreTest, SchemaDefaultsApplyToRawSqlInsert) {
  ASSERT_OK_AND_ASSIGN(std::string connection,
                       FreshStoreDatabase(backend(), StoreLocation::kShared));
  ASSERT_OK_AND_ASSIGN(TaskStorePtr store, OpenSociTaskStore(connection));
  const absl::Time before = absl::Now();
  ASSERT_OK(QueryRawSql(backend(), connection,
                        "INSERT INTO tasks (title) VALUES ('raw')"));
  const absl::Time after = absl::Now();

  ASSERT_OK_AND_ASSIGN(std::vector<v1::Task> tasks,
                       ListAllTasks(*store, v1::ListTasksRequest()));
  ASSERT_THAT(tasks, SizeIs(1));
  const v1::Task& task = tasks[0];
  EXPECT_EQ(task.title(), "raw");
  EXPECT_EQ(task.status(), v1::Task::PENDING);
  EXPECT_EQ(task.priority(), v1::Task::MEDIUM);
  EXPECT_EQ(task.metadata().fields_size(), 0);
  EXPECT_FALSE(task.has_project_id());
  const absl::Time created = absl::FromUnixMicros(
      TimeUtil::TimestampToMicroseconds(task.create_time()));
  EXPECT_GE(created, before - absl::Seconds(1)) << task.create_time();
  EXPECT_LE(created, after + absl::Seconds(1)) << task.create_time();
  // A task written past the store is still updatable with its etag.
  EXPECT_OK(store->UpdateTask(TaskBuilder("raw")
                                  .WithId(task.id())
                                  .WithStatus(v1::Task::COMPLETED)
                                  .WithEtag(task.etag()),
                              MaskOf({"status"}), kEveryRow));
}

TEST_P(TaskStoreTest, ConstraintsBecomeStatusesNamingTheField) {
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("p"));
  ASSERT_OK(CreateTask(TaskBuilder("t").InProject(project.id())));
  EXPECT_THAT(CreateTask(TaskBuilder("t").InProject(project.id())),
              AllOf(StatusIs(Code::kAlreadyExists,
                             HasSubstr("tasks_project_title_key")),
                    ReasonIs(reason::kTitleTaken)));
  EXPECT_THAT(CreateTask(TaskBuilder("t").InProject(424242)),
              AllOf(StatusIs(Code::kFailedPrecondition, HasSubstr("424242")),
                    ReasonIs(reason::kProjectMissing)));
  const absl::Status untitled = CreateTask(TaskBuilder("")).status();
  EXPECT_THAT(untitled, StatusIs(Code::kInvalidArgument));
  EXPECT_EQ(ErrorField(untitled), "task.title");
  const absl::Status bad_status =
      CreateTask(TaskBuilder("s").WithStatus(static_cast<v1::Task::Status>(7)))
          .status();
  EXPECT_EQ(ErrorField(bad_status), "task.status");
  const absl::Status nul =
      CreateTask(TaskBuilder(std::string("a\0b", 3))).status();
  EXPECT_EQ(ErrorField(nul), "task.title");
  // The failures left the store usable.
  EXPECT_OK(CreateTask(TaskBuilder("after failures")));
}

}  // namespace
}  // namespace tasks::storage
