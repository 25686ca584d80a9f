#include "service/request_validation.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/list_rules.h"
#include "api/metadata_limits.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/task_builders.h"

namespace tasks::service {
namespace {

using ::google::protobuf::FieldMask;
using ::tasks::api::ResolvePageSize;
using ::tasks::testing::IsOk;
using ::tasks::testing::IsOkAndHolds;
using ::tasks::testing::JsonOfBytes;
using ::tasks::testing::NullList;
using ::tasks::testing::ReasonIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Property;

// Matches an INVALID_ARGUMENT naming `field`.
MATCHER_P(IsInvalidField, field,
          "is INVALID_ARGUMENT naming " + std::string(field)) {
  const absl::Status& status = arg.status();
  *result_listener << "which is " << status;
  return status.code() == absl::StatusCode::kInvalidArgument &&
         ErrorField(status) == std::string(field);
}

// Wraps a plain Status so IsInvalidField can read .status().
absl::StatusOr<int> Wrap(absl::Status status) {
  if (status.ok()) return 0;
  return status;
}

::testing::Matcher<absl::StatusOr<FieldMask>> HoldsPaths(
    std::vector<std::string> paths) {
  return IsOkAndHolds(
      Property(&FieldMask::paths, ::testing::ElementsAreArray(paths)));
}

v1::CreateTaskRequest CreateTask(const std::string& title) {
  v1::CreateTaskRequest request;
  request.mutable_task()->set_title(title);
  return request;
}

std::string Repeat(const std::string& piece, int times) {
  std::string text;
  for (int i = 0; i < times; ++i) text += piece;
  return text;
}

TEST(ValidateIdTest, PositiveIsOkZeroAndNegativeAreInvalid) {
  EXPECT_THAT(ValidateId(1, "id"), IsOk());
  EXPECT_THAT(Wrap(ValidateId(0, "id")), IsInvalidField("id"));
  EXPECT_THAT(Wrap(ValidateId(-1, "id")), IsInvalidField("id"));
  EXPECT_THAT(Wrap(ValidateId(INT64_MIN, "task.id")),
              IsInvalidField("task.id"));
}

TEST(ResolvePageSizeTest, ZeroIsFiftyLargeIsCappedNegativeIsInvalid) {
  EXPECT_THAT(ResolvePageSize(0), IsOkAndHolds(50));
  EXPECT_THAT(ResolvePageSize(7), IsOkAndHolds(7));
  EXPECT_THAT(ResolvePageSize(1000), IsOkAndHolds(1000));
  EXPECT_THAT(ResolvePageSize(1001), IsOkAndHolds(1000));
  EXPECT_THAT(ResolvePageSize(INT32_MAX), IsOkAndHolds(1000));
  EXPECT_THAT(ResolvePageSize(-1), IsInvalidField("page_size"));
}

TEST(ValidateCreateTaskTest, TitleLengthCountsCodePointsNotBytes) {
  // "é" is 2 bytes, "😀" 4: 200 of them are 200 characters.
  EXPECT_THAT(ValidateCreateTask(CreateTask(Repeat("\xC3\xA9", 200))), IsOk());
  EXPECT_THAT(ValidateCreateTask(CreateTask(Repeat("\xF0\x9F\x98\x80", 200))),
              IsOk());
  EXPECT_THAT(
      Wrap(ValidateCreateTask(CreateTask(Repeat("\xF0\x9F\x98\x80", 201)))),
      IsInvalidField("task.title"));
}

TEST(ValidateCreateTaskTest, TitleIsMeasuredWithItsWhitespace) {
  EXPECT_THAT(ValidateCreateTask(CreateTask("  " + Repeat("a", 196) + "\t\n")),
              IsOk());
  EXPECT_THAT(
      Wrap(ValidateCreateTask(CreateTask("  " + Repeat("a", 200) + "\t\n"))),
      IsInvalidField("task.title"));
  EXPECT_THAT(Wrap(ValidateCreateTask(CreateTask(" \t\n "))),
              IsInvalidField("task.title"));
  EXPECT_THAT(Wrap(ValidateCreateTask(CreateTask("\u3000\u00a0"))),
              IsInvalidField("task.title"));
  EXPECT_THAT(Wrap(ValidateCreateTask(CreateTask(""))),
              IsInvalidField("task.title"));
}

TEST(ValidateCreateTaskTest, MissingTaskIsInvalid) {
  EXPECT_THAT(Wrap(ValidateCreateTask(v1::CreateTaskRequest())),
              IsInvalidField("task"));
}

TEST(ValidateCreateTaskTest, DescriptionUpToTenThousandCharacters) {
  v1::CreateTaskRequest request = CreateTask("t");
  request.mutable_task()->set_description(Repeat("\xC3\xA9", 10000));
  EXPECT_THAT(ValidateCreateTask(request), IsOk());
  request.mutable_task()->set_description(Repeat("a", 10001));
  EXPECT_THAT(Wrap(ValidateCreateTask(request)),
              IsInvalidField("task.description"));
}

TEST(ValidateCreateTaskTest, UnknownEnumNumbersAreInvalid) {
  v1::CreateTaskRequest request = CreateTask("t");
  request.mutable_task()->set_status(static_cast<v1::Task::Status>(42));
  EXPECT_THAT(Wrap(ValidateCreateTask(request)), IsInvalidField("task.status"));
  request = CreateTask("t");
  request.mutable_task()->set_priority(static_cast<v1::Task::Priority>(-1));
  EXPECT_THAT(Wrap(ValidateCreateTask(request)),
              IsInvalidField("task.priority"));
}

TEST(ValidateCreateTaskTest, NonPositiveProjectIdIsInvalid) {
  v1::CreateTaskRequest request = CreateTask("t");
  request.mutable_task()->set_project_id(0);
  EXPECT_THAT(Wrap(ValidateCreateTask(request)),
              IsInvalidField("task.project_id"));
}

TEST(ValidateCreateTaskTest, NulCharacterIsInvalid) {
  EXPECT_THAT(Wrap(ValidateCreateTask(CreateTask(std::string("a\0b", 3)))),
              IsInvalidField("task.title"));
}

TEST(ValidateCreateTaskTest, RequestIdUpToHundredCharacters) {
  v1::CreateTaskRequest request = CreateTask("t");
  request.set_request_id(Repeat("r", 100));
  EXPECT_THAT(ValidateCreateTask(request), IsOk());
  request.set_request_id(Repeat("r", 101));
  EXPECT_THAT(Wrap(ValidateCreateTask(request)), IsInvalidField("request_id"));
}

v1::CreateTaskRequest CreateTaskWithMetadata(
    google::protobuf::Struct metadata) {
  v1::CreateTaskRequest request = CreateTask("t");
  *request.mutable_task()->mutable_metadata() = std::move(metadata);
  return request;
}

TEST(ValidateCreateTaskTest, MetadataUpToThousandValuesNestedOnesCounted) {
  EXPECT_THAT(ValidateCreateTask(CreateTaskWithMetadata(NullList(999))),
              IsOk());
  EXPECT_THAT(Wrap(ValidateCreateTask(CreateTaskWithMetadata(NullList(1000)))),
              AllOf(IsInvalidField("task.metadata"),
                    ReasonIs(reason::kInvalidArgument)));
  // {"o": {"a": [998 nulls]}}: 1,000 values; one more key makes 1,001.
  google::protobuf::Struct nested;
  *(*nested.mutable_fields())["o"].mutable_struct_value() = NullList(998);
  EXPECT_THAT(ValidateCreateTask(CreateTaskWithMetadata(nested)), IsOk());
  (*nested.mutable_fields())["p"].set_string_value("");
  EXPECT_THAT(Wrap(ValidateCreateTask(CreateTaskWithMetadata(nested))),
              IsInvalidField("task.metadata"));
  // Far over: refused all the same (the count stops at the first over).
  EXPECT_THAT(
      Wrap(ValidateCreateTask(CreateTaskWithMetadata(NullList(250000)))),
      IsInvalidField("task.metadata"));
}

TEST(ValidateCreateTaskTest, MetadataUpTo16KiBOfJson) {
  EXPECT_THAT(ValidateCreateTask(CreateTaskWithMetadata(JsonOfBytes(16384))),
              IsOk());
  EXPECT_THAT(
      Wrap(ValidateCreateTask(CreateTaskWithMetadata(JsonOfBytes(16385)))),
      AllOf(IsInvalidField("task.metadata"),
            ReasonIs(reason::kInvalidArgument)));
  // Escapes count as written: 3,000 control characters are 18,000 bytes
  // of "\u0001".
  google::protobuf::Struct escaped;
  (*escaped.mutable_fields())["k"].set_string_value(std::string(3000, '\1'));
  EXPECT_THAT(Wrap(ValidateCreateTask(CreateTaskWithMetadata(escaped))),
              IsInvalidField("task.metadata"));
  // Keys count too.
  google::protobuf::Struct long_key;
  (*long_key.mutable_fields())[std::string(20000, 'k')].set_bool_value(true);
  EXPECT_THAT(Wrap(ValidateCreateTask(CreateTaskWithMetadata(long_key))),
              IsInvalidField("task.metadata"));
}

TEST(ValidateBatchCreateTasksTest, MetadataOverTheCapsNamesTheRequest) {
  v1::BatchCreateTasksRequest batch;
  for (int i = 0; i < 3; ++i) {
    *batch.add_requests() = CreateTask(absl::StrCat("task ", i));
  }
  *batch.mutable_requests(2)->mutable_task()->mutable_metadata() =
      JsonOfBytes(16385);
  EXPECT_THAT(Wrap(ValidateBatchCreateTasks(batch)),
              IsInvalidField("requests[2].task.metadata"));
  *batch.mutable_requests(2)->mutable_task()->mutable_metadata() =
      NullList(1000);
  EXPECT_THAT(Wrap(ValidateBatchCreateTasks(batch)),
              IsInvalidField("requests[2].task.metadata"));
}

TEST(ValidateBatchCreateTasksTest, MetadataOverTheBatchCapIsInvalid) {
  // NullList(n) is n + 1 values: ten tasks of 1,000 make the cap.
  v1::BatchCreateTasksRequest batch;
  for (int i = 0; i < 10; ++i) {
    *batch.add_requests() =
        CreateTaskWithMetadata(NullList(api::kMaxMetadataValues - 1));
  }
  EXPECT_THAT(ValidateBatchCreateTasks(batch), IsOk());
  *batch.add_requests() = CreateTaskWithMetadata(NullList(0));
  EXPECT_THAT(Wrap(ValidateBatchCreateTasks(batch)),
              IsInvalidField("requests"));
  // Counted before each task's own checks.
  batch.mutable_requests(3)->mutable_task()->set_title(" ");
  EXPECT_THAT(Wrap(ValidateBatchCreateTasks(batch)),
              IsInvalidField("requests"));
}

TEST(ValidateBatchCreateTasksTest, NamesTheFieldOfTheFailingRequest) {
  v1::BatchCreateTasksRequest batch;
  for (int i = 0; i < 5; ++i) {
    *batch.add_requests() = CreateTask(absl::StrCat("task ", i));
  }
  EXPECT_THAT(ValidateBatchCreateTasks(batch), IsOk());
  batch.mutable_requests(3)->mutable_task()->set_title(" ");
  EXPECT_THAT(Wrap(ValidateBatchCreateTasks(batch)),
              IsInvalidField("requests[3].task.title"));
}

TEST(ValidateBatchCreateTasksTest, EmptyAndOverThousandAreInvalid) {
  v1::BatchCreateTasksRequest batch;
  EXPECT_THAT(Wrap(ValidateBatchCreateTasks(batch)),
              IsInvalidField("requests"));
  for (int i = 0; i < 1000; ++i) *batch.add_requests() = CreateTask("t");
  EXPECT_THAT(ValidateBatchCreateTasks(batch), IsOk());
  *batch.add_requests() = CreateTask("t");
  EXPECT_THAT(Wrap(ValidateBatchCreateTasks(batch)),
              IsInvalidField("requests"));
}

TEST(ValidateListTasksTest, ResolvesPageSize) {
  v1::ListTasksRequest request;
  EXPECT_THAT(ValidateListTasks(request),
              IsOkAndHolds(Property(&v1::ListTasksRequest::page_size, 50)));
}

TEST(ValidateListTasksTest, UnknownOrderByIsInvalid) {
  v1::ListTasksRequest request;
  for (const char* order_by :
       {"create_time", "create_time desc", "priority desc", "title"}) {
    request.set_order_by(order_by);
    EXPECT_THAT(ValidateListTasks(request), IsOk()) << order_by;
  }
  request.set_order_by("title; DROP TABLE task");
  EXPECT_THAT(ValidateListTasks(request), IsInvalidField("order_by"));
}

TEST(ValidateListTasksTest, FilterMustParse) {
  v1::ListTasksRequest request;
  request.set_filter("status = PENDING AND metadata.owner = \"ana\"");
  EXPECT_THAT(ValidateListTasks(request), IsOk());
  request.set_filter("status = PENDING AND");
  EXPECT_THAT(ValidateListTasks(request), IsInvalidField("filter"));
}

TEST(ValidateListTasksTest, MetadataKeyNeedsValueAndValueNeedsKey) {
  v1::ListTasksRequest request;
  request.set_metadata_key("team");
  EXPECT_THAT(ValidateListTasks(request), IsInvalidField("metadata_value"));
  request.mutable_metadata_value()->set_string_value("core");
  EXPECT_THAT(ValidateListTasks(request), IsOk());
  request.set_metadata_key("te\"am");
  EXPECT_THAT(ValidateListTasks(request), IsInvalidField("metadata_key"));
  request.clear_metadata_key();
  EXPECT_THAT(ValidateListTasks(request), IsInvalidField("metadata_value"));
}

// A filter value larger than a task's whole metadata may be matches nothing,
// and a list call waiting for a slot holds it parsed (~60 bytes a value).
TEST(ValidateListTasksTest, MetadataValueWithinTheMetadataCaps) {
  v1::ListTasksRequest request;
  request.set_metadata_key("k");
  google::protobuf::ListValue* list =
      request.mutable_metadata_value()->mutable_list_value();
  for (int i = 0; i < 999; ++i) {
    list->add_values()->set_null_value(google::protobuf::NULL_VALUE);
  }
  EXPECT_THAT(ValidateListTasks(request), IsOk());  // 1,000 values with it
  list->add_values()->set_null_value(google::protobuf::NULL_VALUE);
  EXPECT_THAT(ValidateListTasks(request), IsInvalidField("metadata_value"));
  request.mutable_metadata_value()->set_string_value(std::string(17000, 'x'));
  EXPECT_THAT(ValidateListTasks(request), IsInvalidField("metadata_value"));
}

TEST(ValidateListTasksTest, UnknownEnumFilterAndBadProjectIdAreInvalid) {
  v1::ListTasksRequest request;
  request.set_status(static_cast<v1::Task::Status>(9));
  EXPECT_THAT(ValidateListTasks(request), IsInvalidField("status"));
  request = v1::ListTasksRequest();
  request.set_project_id(-3);
  EXPECT_THAT(ValidateListTasks(request), IsInvalidField("project_id"));
}

class ValidateUpdateTaskTest : public ::testing::Test {
 protected:
  ValidateUpdateTaskTest() { request_.mutable_task()->set_id(1); }
  v1::UpdateTaskRequest request_;
};

TEST_F(ValidateUpdateTaskTest, AbsentMaskMeansPopulatedFields) {
  request_.mutable_task()->set_title("new");
  request_.mutable_task()->set_priority(v1::Task::HIGH);
  request_.mutable_task()->mutable_metadata();
  EXPECT_THAT(ValidateUpdateTask(request_),
              HoldsPaths({"title", "priority", "metadata"}));
}

TEST_F(ValidateUpdateTaskTest, MetadataOverTheCapsIsInvalidOnlyInTheMask) {
  *request_.mutable_task()->mutable_metadata() = NullList(1000);
  EXPECT_THAT(ValidateUpdateTask(request_), IsInvalidField("task.metadata"));
  *request_.mutable_task()->mutable_metadata() = JsonOfBytes(16385);
  EXPECT_THAT(ValidateUpdateTask(request_), IsInvalidField("task.metadata"));
  // Outside the mask the field is ignored.
  request_.mutable_task()->set_title("new");
  request_.mutable_update_mask()->add_paths("title");
  EXPECT_THAT(ValidateUpdateTask(request_), HoldsPaths({"title"}));
}

TEST_F(ValidateUpdateTaskTest, EmptyMaskMeansPopulatedFields) {
  request_.mutable_task()->set_project_id(4);
  request_.mutable_update_mask();
  EXPECT_THAT(ValidateUpdateTask(request_), HoldsPaths({"project_id"}));
}

TEST_F(ValidateUpdateTaskTest, NothingToUpdateIsInvalidMask) {
  EXPECT_THAT(ValidateUpdateTask(request_),
              AllOf(IsInvalidField("update_mask"),
                    ReasonIs(reason::kInvalidFieldMask)));
}

TEST_F(ValidateUpdateTaskTest, StarMeansEveryMutableField) {
  request_.mutable_task()->set_title("t");
  request_.mutable_task()->set_status(v1::Task::COMPLETED);
  request_.mutable_task()->set_priority(v1::Task::LOW);
  request_.mutable_update_mask()->add_paths("*");
  EXPECT_THAT(ValidateUpdateTask(request_),
              HoldsPaths({"project_id", "title", "description", "status",
                          "priority", "metadata", "due_time"}));
}

TEST_F(ValidateUpdateTaskTest, StarWithOtherPathsIsInvalid) {
  request_.mutable_task()->set_title("t");
  request_.mutable_update_mask()->add_paths("*");
  request_.mutable_update_mask()->add_paths("title");
  EXPECT_THAT(ValidateUpdateTask(request_),
              AllOf(IsInvalidField("update_mask"),
                    ReasonIs(reason::kInvalidFieldMask)));
}

TEST_F(ValidateUpdateTaskTest, DuplicatePathsAreDropped) {
  request_.mutable_task()->set_title("t");
  for (const char* path : {"title", "description", "title"}) {
    request_.mutable_update_mask()->add_paths(path);
  }
  EXPECT_THAT(ValidateUpdateTask(request_),
              HoldsPaths({"title", "description"}));
}

TEST_F(ValidateUpdateTaskTest, UnknownAndOutputOnlyPathsAreInvalid) {
  for (const char* path :
       {"id", "etag", "create_time", "update_time", "titel", "metadata.a"}) {
    request_.mutable_update_mask()->clear_paths();
    request_.mutable_update_mask()->add_paths(path);
    EXPECT_THAT(ValidateUpdateTask(request_),
                AllOf(IsInvalidField("update_mask"),
                      ReasonIs(reason::kInvalidFieldMask)))
        << path;
  }
}

TEST_F(ValidateUpdateTaskTest, MaskedFieldsAreValidated) {
  request_.mutable_update_mask()->add_paths("title");
  EXPECT_THAT(ValidateUpdateTask(request_), IsInvalidField("task.title"));
  request_.mutable_update_mask()->set_paths(0, "status");
  EXPECT_THAT(ValidateUpdateTask(request_), IsInvalidField("task.status"));
}

TEST_F(ValidateUpdateTaskTest, UnknownEnumOutsideTheMaskIsInvalid) {
  request_.mutable_task()->set_title("t");
  request_.mutable_task()->set_priority(static_cast<v1::Task::Priority>(7));
  request_.mutable_update_mask()->add_paths("title");
  EXPECT_THAT(ValidateUpdateTask(request_), IsInvalidField("task.priority"));
}

TEST_F(ValidateUpdateTaskTest, NonPositiveIdIsInvalid) {
  request_.mutable_task()->set_id(0);
  request_.mutable_task()->set_title("t");
  EXPECT_THAT(ValidateUpdateTask(request_), IsInvalidField("task.id"));
}

TEST(ValidateUpdateProjectTest, ResolvesAndValidatesMask) {
  v1::UpdateProjectRequest request;
  request.mutable_project()->set_id(2);
  request.mutable_project()->set_description("d");
  EXPECT_THAT(ValidateUpdateProject(request), HoldsPaths({"description"}));
  request.mutable_update_mask()->add_paths("*");
  EXPECT_THAT(ValidateUpdateProject(request), IsInvalidField("project.name"));
  request.mutable_project()->set_name("n");
  EXPECT_THAT(ValidateUpdateProject(request),
              HoldsPaths({"name", "description"}));
  request.mutable_update_mask()->set_paths(0, "create_time");
  EXPECT_THAT(ValidateUpdateProject(request), IsInvalidField("update_mask"));
}

TEST(ValidateCreateProjectTest, NameRequiredAndBounded) {
  v1::CreateProjectRequest request;
  EXPECT_THAT(Wrap(ValidateCreateProject(request)), IsInvalidField("project"));
  request.mutable_project()->set_name(Repeat("n", 200));
  EXPECT_THAT(ValidateCreateProject(request), IsOk());
  request.mutable_project()->set_name(Repeat("n", 201));
  EXPECT_THAT(Wrap(ValidateCreateProject(request)),
              IsInvalidField("project.name"));
  request.mutable_project()->set_name("   ");
  EXPECT_THAT(Wrap(ValidateCreateProject(request)),
              IsInvalidField("project.name"));
}

}  // namespace
}  // namespace tasks::service
