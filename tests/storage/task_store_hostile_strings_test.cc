// The TaskStore contract on every selected backend (see
// task_store_fixture.h). Hostile strings: NUL bytes, quotes and SQL, stored
// verbatim or refused.

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tasks/v1/tasks.pb.h"
#include "tests/storage/task_store_fixture.h"
#include "tests/testing/proto_matchers.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/task_builders.h"

namespace tasks::storage {
namespace {

using ::tasks::testing::EqualsProto;
using ::tasks::testing::IsOkAndHolds;
using ::tasks::testing::MaskOf;
using ::tasks::testing::ProjectNamed;
using ::tasks::testing::StatusIs;
using ::tasks::testing::TaskBuilder;
using ::testing::ElementsAre;
using ::testing::SizeIs;
using Code = ::absl::StatusCode;

TEST_P(TaskStoreTest, NulByteInAnyStringIsInvalidArgumentAndNothingStored) {
  const std::string kNul("before\0after", 12);
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Clean"));
  ASSERT_OK_AND_ASSIGN(
      v1::Task task, CreateTask(TaskBuilder("Clean").InProject(project.id())));

  std::vector<std::pair<std::string, v1::Task>> bad_tasks = {
      {"title", TaskBuilder(kNul)},
      {"description", TaskBuilder("t").WithDescription(kNul)},
  };
  v1::Task bad_value = TaskBuilder("t");
  (*bad_value.mutable_metadata()->mutable_fields())["k"].set_string_value(kNul);
  bad_tasks.emplace_back("metadata value", bad_value);
  v1::Task bad_key = TaskBuilder("t");
  (*bad_key.mutable_metadata()->mutable_fields())[kNul].set_bool_value(true);
  bad_tasks.emplace_back("metadata key", bad_key);
  for (const auto& [field, bad] : bad_tasks) {
    SCOPED_TRACE(field);
    EXPECT_THAT(CreateTask(bad), StatusIs(Code::kInvalidArgument));
    v1::Task change = bad;
    change.set_id(task.id());
    EXPECT_THAT(
        store().UpdateTask(change, MaskOf({"title", "description", "metadata"}),
                           kEveryRow),
        StatusIs(Code::kInvalidArgument));
  }
  EXPECT_THAT(store().CreateTask(TaskBuilder("t"), kNul),
              StatusIs(Code::kInvalidArgument));

  EXPECT_THAT(store().CreateProject(ProjectNamed(kNul)),
              StatusIs(Code::kInvalidArgument));
  EXPECT_THAT(store().CreateProject(ProjectNamed("p", kNul)),
              StatusIs(Code::kInvalidArgument));
  v1::Project bad_project = ProjectNamed(kNul, kNul);
  bad_project.set_id(project.id());
  EXPECT_THAT(
      store().UpdateProject(bad_project, MaskOf({"name", "description"})),
      StatusIs(Code::kInvalidArgument));

  EXPECT_THAT(ListAllTasks(), IsOkAndHolds(ElementsAre(EqualsProto(task))));
  EXPECT_THAT(store().GetProject(project.id()),
              IsOkAndHolds(EqualsProto(project)));
  ASSERT_OK_AND_ASSIGN(v1::ListProjectsResponse projects,
                       store().ListProjects(100, ""));
  EXPECT_THAT(projects.projects(), SizeIs(1));
}

TEST_P(TaskStoreTest, NulByteInMetadataFilterIsInvalidArgument) {
  ASSERT_OK(CreateTask(TaskBuilder("t").WithMetadataJson(R"({"k": "v"})")));
  const std::string kNul("k\0x", 3);
  EXPECT_THAT(store().ListTasks(TasksWithMetadata(kNul, R"("v")")),
              StatusIs(Code::kInvalidArgument));
  v1::ListTasksRequest request = TasksWithMetadata("k", R"("")");
  request.mutable_metadata_value()->set_string_value(std::string("v\0x", 3));
  EXPECT_THAT(store().ListTasks(request), StatusIs(Code::kInvalidArgument));
}

TEST_P(TaskStoreTest, HostileStringsAreStoredAndReturnedVerbatim) {
  const std::vector<std::string> kStrings = {
      "'; DROP TABLE tasks; --",
      "Robert'); DROP TABLE projects;--",
      "\" OR 1=1 --",
      "%",
      "_",
      "100% done_now",
      "\\",
      "\\'\\\"",
      "$1 :name ? @p",
      "{\"json\": [1, 2]}",
      "🚀 emoji ✅ 👩‍💻",
      "שלום עולם",
      "مرحبا بالعالم",
      "\u202Eevil\u202C",
      "e\u0301 combining",
      "tab\tnewline\ncarriage\r",
      "  leading and trailing  ",
  };
  for (const std::string& text : kStrings) {
    SCOPED_TRACE(text);
    ASSERT_OK_AND_ASSIGN(v1::Project project,
                         store().CreateProject(ProjectNamed(text, text)));
    v1::Task draft =
        TaskBuilder(text).InProject(project.id()).WithDescription(text);
    (*draft.mutable_metadata()->mutable_fields())[text].set_string_value(text);
    ASSERT_OK_AND_ASSIGN(v1::Task task, CreateTask(draft));

    EXPECT_EQ(project.name(), text);
    EXPECT_EQ(project.description(), text);
    EXPECT_EQ(task.title(), text);
    EXPECT_EQ(task.description(), text);
    EXPECT_THAT(task.metadata(), EqualsProto(draft.metadata()));
    EXPECT_THAT(store().GetProject(project.id()),
                IsOkAndHolds(EqualsProto(project)));
    EXPECT_THAT(store().GetTask(task.id(), kEveryRow),
                IsOkAndHolds(EqualsProto(task)));
    EXPECT_THAT(ListAllTasks(TasksInProject(project.id())),
                IsOkAndHolds(ElementsAre(EqualsProto(task))));
    v1::ListTasksRequest by_value = TasksWithMetadata("", "null");
    by_value.set_metadata_key(text);
    by_value.mutable_metadata_value()->set_string_value(text);
    if (text.find_first_of("\"\\") == std::string::npos) {
      EXPECT_THAT(ListAllTasks(by_value),
                  IsOkAndHolds(ElementsAre(EqualsProto(task))));
    }
  }
  EXPECT_THAT(ListAllTasks(), IsOkAndHolds(SizeIs(kStrings.size())));
}

}  // namespace
}  // namespace tasks::storage
