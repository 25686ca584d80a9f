// The TaskStore contract on every selected backend (see
// task_store_fixture.h). Metadata: round trips, caps and the metadata filter.

#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "api/metadata_limits.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tasks/v1/tasks.pb.h"
#include "tests/storage/task_store_fixture.h"
#include "tests/testing/proto_matchers.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/task_builders.h"

namespace tasks::storage {
namespace {

using ::tasks::api::kMaxMetadataJsonBytes;
using ::tasks::api::kMaxMetadataValues;
using ::tasks::testing::CreateRequest;
using ::tasks::testing::EqualsProto;
using ::tasks::testing::IsOkAndHolds;
using ::tasks::testing::JsonOfBytes;
using ::tasks::testing::MaskOf;
using ::tasks::testing::NullList;
using ::tasks::testing::StatusIs;
using ::tasks::testing::StructFromJson;
using ::tasks::testing::TaskBuilder;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using Code = ::absl::StatusCode;

TEST_P(TaskStoreTest, MetadataRoundTripsNestedListsNumbersStringsBoolsAndNull) {
  const char* const kJson = R"({
    "tags": ["urgent", "review", ["nested", {"deep": [1, 2.5, null]}]],
    "estimate_hours": 4,
    "ratio": 0.1,
    "negative": -123456789.125,
    "tiny": 1e-7,
    "huge": 1e300,
    "name": "x \"quoted\" \\ back",
    "done": true,
    "blocked": false,
    "nothing": null,
    "empty_list": [],
    "empty_object": {},
    "object": {"a": {"b": {"c": "d"}}}
  })";
  v1::Task draft = TaskBuilder("With metadata").WithMetadataJson(kJson);

  ASSERT_OK_AND_ASSIGN(v1::Task task, CreateTask(draft));

  EXPECT_THAT(task.metadata(), EqualsProto(draft.metadata()));
  ASSERT_OK_AND_ASSIGN(v1::Task read, store().GetTask(task.id(), kEveryRow));
  EXPECT_THAT(read.metadata(), EqualsProto(draft.metadata()));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Task> listed, ListAllTasks());
  ASSERT_THAT(listed, SizeIs(1));
  EXPECT_THAT(listed[0].metadata(), EqualsProto(draft.metadata()));
}

// Whether any number in `value`, nested ones included, is -0.
bool HoldsNegativeZero(const google::protobuf::Value& value) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kNumberValue:
      return value.number_value() == 0 && std::signbit(value.number_value());
    case google::protobuf::Value::kListValue:
      for (const auto& item : value.list_value().values()) {
        if (HoldsNegativeZero(item)) return true;
      }
      return false;
    case google::protobuf::Value::kStructValue:
      for (const auto& [key, field] : value.struct_value().fields()) {
        if (HoldsNegativeZero(field)) return true;
      }
      return false;
    default:
      return false;
  }
}

bool HoldsNegativeZero(const google::protobuf::Struct& metadata) {
  google::protobuf::Value root;
  *root.mutable_struct_value() = metadata;
  return HoldsNegativeZero(root);
}

// PostgreSQL's jsonb has no negative zero; SQLite's JSON text would keep it.
// The same metadata comes back from both: -0 is stored as 0, on create and
// on update, and the metadata filter finds it by either spelling.
TEST_P(TaskStoreTest, NegativeZeroInMetadataIsStoredAsZeroOnEveryBackend) {
  v1::Task draft = TaskBuilder("Zero").WithMetadataJson(
      R"({"z": -0, "l": [-0, {"n": -0.0}], "m": -1})");
  ASSERT_TRUE(HoldsNegativeZero(draft.metadata()));

  ASSERT_OK_AND_ASSIGN(v1::Task task, CreateTask(draft));
  EXPECT_THAT(task.metadata(), EqualsProto(draft.metadata()));  // 0 == -0
  EXPECT_FALSE(HoldsNegativeZero(task.metadata()));
  EXPECT_EQ(task.metadata().fields().at("m").number_value(), -1);
  ASSERT_OK_AND_ASSIGN(v1::Task read, store().GetTask(task.id(), kEveryRow));
  EXPECT_FALSE(HoldsNegativeZero(read.metadata()));
  EXPECT_THAT(ListTitles(TasksWithMetadata("z", "0")),
              IsOkAndHolds(ElementsAre("Zero")));
  EXPECT_THAT(ListTitles(TasksWithMetadata("z", "-0")),
              IsOkAndHolds(ElementsAre("Zero")));

  v1::Task change;
  change.set_id(task.id());
  *change.mutable_metadata() = StructFromJson(R"({"y": -0.0})");
  ASSERT_TRUE(HoldsNegativeZero(change.metadata()));
  ASSERT_OK_AND_ASSIGN(
      v1::Task updated,
      store().UpdateTask(change, MaskOf({"metadata"}), kEveryRow));
  EXPECT_FALSE(HoldsNegativeZero(updated.metadata()));
  ASSERT_OK_AND_ASSIGN(read, store().GetTask(task.id(), kEveryRow));
  EXPECT_FALSE(HoldsNegativeZero(read.metadata()));
}

// {"a": {"a": ... 1}} with `depth` objects, and {"l": [[... 1]]} with `depth`
// lists. Built directly: protobuf's JSON parser stops at 100 levels.
google::protobuf::Struct NestedObjects(int depth) {
  google::protobuf::Value value;
  value.set_number_value(1);
  for (int i = 1; i < depth; ++i) {
    google::protobuf::Value outer;
    (*outer.mutable_struct_value()->mutable_fields())["a"] = value;
    value = outer;
  }
  google::protobuf::Struct root;
  (*root.mutable_fields())["a"] = value;
  return root;
}

google::protobuf::Struct NestedLists(int depth) {
  google::protobuf::Value value;
  value.set_number_value(1);
  for (int i = 0; i < depth; ++i) {
    google::protobuf::Value outer;
    *outer.mutable_list_value()->add_values() = value;
    value = outer;
  }
  google::protobuf::Struct root;
  (*root.mutable_fields())["l"] = value;
  return root;
}

// Deep metadata, and metadata over the size cap, is either refused up front
// or stored and read back exactly, never stored unreadable.
TEST_P(TaskStoreTest, DeepAndHugeMetadataRoundTripsOrIsRefusedWhole) {
  const std::string huge(100000, 'k');
  google::protobuf::Struct huge_entry;
  (*huge_entry.mutable_fields())[huge].set_string_value(huge);
  const std::vector<std::pair<std::string, google::protobuf::Struct>> kCases = {
      {"100 nested objects", NestedObjects(100)},
      {"100 nested lists", NestedLists(100)},
      {"100 kB key and value", huge_entry},
  };
  for (const auto& [name, metadata] : kCases) {
    SCOPED_TRACE(name);
    v1::Task draft = TaskBuilder(name);
    *draft.mutable_metadata() = metadata;
    absl::StatusOr<v1::Task> created = CreateTask(draft);
    if (created.ok()) {
      EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
          created->metadata(), metadata));
      absl::StatusOr<v1::Task> read = store().GetTask(created->id(), kEveryRow);
      ASSERT_OK(read);
      EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
          read->metadata(), metadata));
    } else {
      EXPECT_THAT(created, StatusIs(Code::kInvalidArgument));
      EXPECT_THAT(ListTitles(), IsOkAndHolds(Not(Contains(name))));
    }
  }
  EXPECT_OK(ListAllTasks());
}

// Matches an INVALID_ARGUMENT status naming `field` (a BadRequest field
// violation at the API) with reason INVALID_ARGUMENT.
MATCHER_P(IsInvalidField, field, "") {
  const absl::Status& status =
      ::tasks::testing::internal_status::GetStatus(arg);
  *result_listener << status;
  return status.code() == Code::kInvalidArgument &&
         ErrorField(status) == std::string(field) &&
         ErrorReason(status) == std::string(reason::kInvalidArgument);
}

TEST_P(TaskStoreTest, MetadataAtTheCapsIsStoredAndBeyondIsInvalidArgument) {
  // Every value counts, nested ones included: "a", "b" and the nulls.
  google::protobuf::Struct nested;
  *(*nested.mutable_fields())["a"].mutable_struct_value() =
      NullList(kMaxMetadataValues - 2, "b");
  const std::vector<std::pair<std::string, google::protobuf::Struct>> kAtCap = {
      {"1,000 values", NullList(kMaxMetadataValues - 1)},
      {"1,000 nested values", nested},
      {"16 KiB of JSON", JsonOfBytes(kMaxMetadataJsonBytes)},
  };
  for (const auto& [name, metadata] : kAtCap) {
    SCOPED_TRACE(name);
    v1::Task draft = TaskBuilder(name);
    *draft.mutable_metadata() = metadata;
    ASSERT_OK_AND_ASSIGN(v1::Task created, CreateTask(draft));
    EXPECT_THAT(created.metadata(), EqualsProto(metadata));
  }

  (*nested.mutable_fields())["c"].set_bool_value(true);
  const std::vector<std::pair<std::string, google::protobuf::Struct>> kOver = {
      {"1,001 values", NullList(kMaxMetadataValues)},
      {"1,001 nested values", nested},
      {"200,000 values", NullList(200000)},
      {"16 KiB + 1 of JSON", JsonOfBytes(kMaxMetadataJsonBytes + 1)},
      {"1 MB of JSON", JsonOfBytes(1000000)},
  };
  ASSERT_OK_AND_ASSIGN(v1::Task kept, CreateTask(TaskBuilder("kept")));
  for (const auto& [name, metadata] : kOver) {
    SCOPED_TRACE(name);
    v1::Task draft = TaskBuilder(name);
    *draft.mutable_metadata() = metadata;
    EXPECT_THAT(CreateTask(draft), IsInvalidField("task.metadata"));

    v1::Task change = TaskBuilder("kept").WithId(kept.id());
    *change.mutable_metadata() = metadata;
    EXPECT_THAT(store().UpdateTask(change, MaskOf({"metadata"}), kEveryRow),
                IsInvalidField("task.metadata"));

    v1::BatchCreateTasksRequest batch;
    *batch.add_requests() = CreateRequest(TaskBuilder("batch ok"), "");
    *batch.add_requests() = CreateRequest(draft, "");
    EXPECT_THAT(store().BatchCreateTasks(batch),
                IsInvalidField("requests[1].task.metadata"));
  }
  EXPECT_THAT(store().GetTask(kept.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(kept)));
  EXPECT_THAT(ListAllTasks(), IsOkAndHolds(SizeIs(kAtCap.size() + 1)));
}

TEST_P(TaskStoreTest, NonFiniteMetadataNumberIsInvalidArgument) {
  // JSON has no NaN or infinity.
  for (double number : {std::numeric_limits<double>::quiet_NaN(),
                        std::numeric_limits<double>::infinity()}) {
    SCOPED_TRACE(number);
    v1::Task task = TaskBuilder("t");
    (*task.mutable_metadata()->mutable_fields())["n"].set_number_value(number);
    EXPECT_THAT(CreateTask(task), StatusIs(Code::kInvalidArgument));
  }
  EXPECT_THAT(ListAllTasks(), IsOkAndHolds(IsEmpty()));
}

TEST_P(TaskStoreTest, MetadataFilterMatchesStringValueOnly) {
  ASSERT_OK(
      CreateTask(TaskBuilder("prod").WithMetadataJson(R"({"env": "prod"})")));
  ASSERT_OK(
      CreateTask(TaskBuilder("dev").WithMetadataJson(R"({"env": "dev"})")));
  ASSERT_OK(CreateTask(
      TaskBuilder("other key").WithMetadataJson(R"({"other": "prod"})")));
  ASSERT_OK(CreateTask(
      TaskBuilder("nested").WithMetadataJson(R"({"x": {"env": "prod"}})")));
  ASSERT_OK(CreateTask(TaskBuilder("none")));

  EXPECT_THAT(ListTitles(TasksWithMetadata("env", R"("prod")")),
              IsOkAndHolds(ElementsAre("prod")));
}

TEST_P(TaskStoreTest, MetadataFilterMatchesNumberNotItsString) {
  ASSERT_OK(
      CreateTask(TaskBuilder("three").WithMetadataJson(R"({"points": 3})")));
  ASSERT_OK(
      CreateTask(TaskBuilder("five").WithMetadataJson(R"({"points": 5})")));
  ASSERT_OK(CreateTask(
      TaskBuilder("string three").WithMetadataJson(R"({"points": "3"})")));
  ASSERT_OK(
      CreateTask(TaskBuilder("half").WithMetadataJson(R"({"points": 2.5})")));

  EXPECT_THAT(ListTitles(TasksWithMetadata("points", "3")),
              IsOkAndHolds(ElementsAre("three")));
  EXPECT_THAT(ListTitles(TasksWithMetadata("points", "2.5")),
              IsOkAndHolds(ElementsAre("half")));
  EXPECT_THAT(ListTitles(TasksWithMetadata("points", R"("3")")),
              IsOkAndHolds(ElementsAre("string three")));
}

TEST_P(TaskStoreTest, MetadataFilterMatchesBooleanNotNumberOrString) {
  ASSERT_OK(
      CreateTask(TaskBuilder("true").WithMetadataJson(R"({"done": true})")));
  ASSERT_OK(
      CreateTask(TaskBuilder("false").WithMetadataJson(R"({"done": false})")));
  ASSERT_OK(CreateTask(TaskBuilder("one").WithMetadataJson(R"({"done": 1})")));
  ASSERT_OK(CreateTask(TaskBuilder("zero").WithMetadataJson(R"({"done": 0})")));
  ASSERT_OK(CreateTask(
      TaskBuilder("string").WithMetadataJson(R"({"done": "true"})")));

  EXPECT_THAT(ListTitles(TasksWithMetadata("done", "true")),
              IsOkAndHolds(ElementsAre("true")));
  EXPECT_THAT(ListTitles(TasksWithMetadata("done", "false")),
              IsOkAndHolds(ElementsAre("false")));
  EXPECT_THAT(ListTitles(TasksWithMetadata("done", "1")),
              IsOkAndHolds(ElementsAre("one")));
}

TEST_P(TaskStoreTest, MetadataFilterMatchesListObjectAndNullValuesExactly) {
  ASSERT_OK(
      CreateTask(TaskBuilder("list").WithMetadataJson(R"({"v": ["a", "b"]})")));
  ASSERT_OK(CreateTask(
      TaskBuilder("reversed list").WithMetadataJson(R"({"v": ["b", "a"]})")));
  ASSERT_OK(CreateTask(
      TaskBuilder("object").WithMetadataJson(R"({"v": {"x": 1, "y": [2]}})")));
  ASSERT_OK(CreateTask(
      TaskBuilder("bigger object")
          .WithMetadataJson(R"({"v": {"x": 1, "y": [2], "z": 3}})")));
  ASSERT_OK(CreateTask(TaskBuilder("null").WithMetadataJson(R"({"v": null})")));
  ASSERT_OK(CreateTask(TaskBuilder("absent")));

  EXPECT_THAT(ListTitles(TasksWithMetadata("v", R"(["a", "b"])")),
              IsOkAndHolds(ElementsAre("list")));
  // Objects are equal whatever their key order.
  EXPECT_THAT(ListTitles(TasksWithMetadata("v", R"({"y": [2], "x": 1})")),
              IsOkAndHolds(ElementsAre("object")));
  EXPECT_THAT(ListTitles(TasksWithMetadata("v", "null")),
              IsOkAndHolds(ElementsAre("null")));
}

TEST_P(TaskStoreTest, MetadataFilterOnAbsentKeyMatchesNothing) {
  ASSERT_OK(CreateTask(TaskBuilder("with").WithMetadataJson(R"({"k": "v"})")));
  ASSERT_OK(CreateTask(TaskBuilder("without")));

  EXPECT_THAT(ListTitles(TasksWithMetadata("missing", R"("v")")),
              IsOkAndHolds(IsEmpty()));
}

TEST_P(TaskStoreTest, MetadataFilterTreatsWildcardsLiterally) {
  ASSERT_OK(
      CreateTask(TaskBuilder("percent").WithMetadataJson(R"({"k": "%"})")));
  ASSERT_OK(
      CreateTask(TaskBuilder("underscore").WithMetadataJson(R"({"k": "_"})")));
  ASSERT_OK(
      CreateTask(TaskBuilder("letter").WithMetadataJson(R"({"k": "a"})")));

  EXPECT_THAT(ListTitles(TasksWithMetadata("k", R"("%")")),
              IsOkAndHolds(ElementsAre("percent")));
  EXPECT_THAT(ListTitles(TasksWithMetadata("k", R"("_")")),
              IsOkAndHolds(ElementsAre("underscore")));
}

TEST_P(TaskStoreTest, MetadataFilterKeyWithQuoteOrBackslashIsInvalidArgument) {
  ASSERT_OK(CreateTask(TaskBuilder("task").WithMetadataJson(R"({"k": "v"})")));
  for (const char* key : {"k\"", "k\\", "\") OR 1=1 --"}) {
    SCOPED_TRACE(key);
    EXPECT_THAT(store().ListTasks(TasksWithMetadata(key, R"("v")")),
                StatusIs(Code::kInvalidArgument));
  }
}

TEST_P(TaskStoreTest, MetadataFilterMatchesJsonValuesOfEscapedKeys) {
  const std::string key = "tab\t\u202e";
  ASSERT_OK(CreateTask(TaskBuilder("m").WithMetadataJson(absl::StrCat(
      R"({")", key, R"(": {"z": [1, true], "a": null}, "n": 1, "b": true})"))));
  ASSERT_OK(CreateTask(
      TaskBuilder("other").WithMetadataJson(R"({"n": "1", "b": 1})")));
  struct Case {
    std::string key;
    std::string value;
    int matches;
  };
  for (const Case& c :
       std::vector<Case>{{key, R"({"a": null, "z": [1, true]})", 1},
                         {"n", "1", 1},
                         {"n", "1.0", 1},
                         {"n", R"("1")", 1},
                         {"b", "true", 1},
                         {"b", "1", 1},
                         {"b", "false", 0},
                         {"missing", "null", 0}}) {
    SCOPED_TRACE(absl::StrCat(c.key, " = ", c.value));
    // The key as the JSON parser reads it, as the stored one was.
    const std::string parsed_key =
        StructFromJson(absl::StrCat(R"({")", c.key, R"(": 0})"))
            .fields()
            .begin()
            ->first;
    ASSERT_OK_AND_ASSIGN(
        v1::ListTasksResponse listed,
        store().ListTasks(TasksWithMetadata(parsed_key, c.value)));
    EXPECT_EQ(listed.tasks_size(), c.matches);
  }
}

}  // namespace
}  // namespace tasks::storage
