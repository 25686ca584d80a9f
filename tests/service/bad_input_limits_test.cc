// Size limits at their edges: titles, names, descriptions and request ids
// exactly at the limit (counted in code points, multi-byte characters
// included) are stored byte for byte, one more is INVALID_ARGUMENT with the
// database untouched; requests over 1 MiB are RESOURCE_EXHAUSTED; metadata
// nesting and key sizes.
//
// Metadata limits (what this suite pins down):
//   - Size: at most 16 KiB of JSON text as the store writes it, and at most
//     1,000 values, nested ones included (api/metadata_limits.h). At the
//     caps (an 8,000-byte key and a string filling the rest) metadata is
//     stored, returned and matched by the filter exactly; one byte or one
//     value more is INVALID_ARGUMENT naming task.metadata, on create, update
//     and in a batch.
//   - Nesting: metadata nested up to kMaxMetadataDepth levels (objects and
//     lists alike, the metadata object itself included) is stored and
//     returned exactly. One level more is INVALID_ARGUMENT naming
//     task.metadata (protobuf's JSON conversion stops there), as is a filter
//     value nested as deep. Deeper still, protobuf's parser (at most 100
//     nested messages; each object level costs three: Struct, map entry,
//     Value) refuses the request itself: gRPC answers INTERNAL before the
//     service sees it (from 34 object levels in CreateTask, 33 in
//     BatchCreateTasks, whose tasks sit one message deeper). Nothing is
//     stored in either case, and everything accepted can be read back:
//     responses nest no deeper than requests.

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/metadata_limits.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "google/protobuf/message.h"
#include "google/protobuf/struct.pb.h"
#include "gtest/gtest.h"
#include "tests/service/bad_input_fixture.h"
#include "tests/testing/grpc_status_matchers.h"
#include "tests/testing/proto_matchers.h"
#include "tests/testing/task_builders.h"

namespace tasks::service {
namespace {

using ::google::protobuf::Struct;
using ::google::protobuf::Value;
using ::tasks::testing::EqualsProto;
using ::tasks::testing::GrpcErrorIs;
using ::tasks::testing::GrpcInvalidField;
using ::tasks::testing::GrpcOk;
using ::tasks::testing::NullList;
using ::testing::Property;
using Code = ::grpc::StatusCode;

constexpr size_t kMaxMessageBytes = 1 << 20;

// Deepest metadata, in nested objects or lists, that is stored.
constexpr int kMaxMetadataDepth = 32;

// Strings of exactly `n` code points in characters of 1 to 4 bytes, and one
// whose code points are grouped into multi-code-point emoji.
std::vector<std::string> TextsOfLength(int n) {
  std::vector<std::string> texts = {
      Repeat("a", n), Repeat("\xC3\xA9", n),  // é
      Repeat("\xE2\x82\xAC", n),              // €
      Repeat("\xF0\x9F\x9A\x80", n),          // 🚀
  };
  // 👩‍💻 is three code points (woman, ZWJ, laptop).
  std::string grouped =
      Repeat("\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x92\xBB", n / 3);
  grouped += Repeat("z", n % 3);
  texts.push_back(grouped);
  return texts;
}

// Grows `*filler`, a string field of `message`, until `message` serializes
// to exactly `size` bytes. False when that size cannot be reached.
bool PadToSize(const google::protobuf::Message& message, std::string* filler,
               size_t size) {
  for (int i = 0; i < 8; ++i) {
    const size_t current = message.ByteSizeLong();
    if (current == size) return true;
    if (current < size) {
      filler->append(size - current, 'x');
    } else {
      filler->resize(filler->size() - std::min(filler->size(), current - size));
    }
  }
  return message.ByteSizeLong() == size;
}

// Metadata of `depth` nested objects: {"d": {"d": ... {"leaf": "bottom"}}}.
Struct NestedObjects(int depth) {
  Struct innermost;
  (*innermost.mutable_fields())["leaf"].set_string_value("bottom");
  for (int level = 1; level < depth; ++level) {
    Struct outer;
    *(*outer.mutable_fields())["d"].mutable_struct_value() =
        std::move(innermost);
    innermost = std::move(outer);
  }
  return innermost;
}

// Metadata of `depth` levels, all but the first lists: {"l": [[...["x"]]]}.
Struct NestedLists(int depth) {
  Value value;
  value.set_string_value("x");
  for (int level = 2; level < depth; ++level) {
    Value outer;
    *outer.mutable_list_value()->add_values() = std::move(value);
    value = std::move(outer);
  }
  Value list;
  *list.mutable_list_value()->add_values() = std::move(value);
  Struct metadata;
  (*metadata.mutable_fields())["l"] = std::move(list);
  return metadata;
}

// --- Titles, names, descriptions, request ids ------------------------------

TEST_P(BadInputTest, TitleOf200CharactersIsStoredByteForByteAnd201IsRefused) {
  const std::vector<std::string> at_limit = TextsOfLength(200);
  const std::vector<std::string> over_limit = TextsOfLength(201);
  for (size_t i = 0; i < at_limit.size(); ++i) {
    const std::string& title = at_limit[i];
    SCOPED_TRACE(title);
    v1::Task created = MakeTask(
        ::tasks::testing::TaskBuilder(title).InProject(seed_project_.id()));
    EXPECT_EQ(created.title(), title);
    EXPECT_EQ(StoredHex("tasks", "title", created.id()), Hex(title));
    // Surrounding blanks count: padded, the title is over the limit (which
    // also keeps it within PostgreSQL's index); shorter, they are kept.
    v1::CreateTaskRequest create;
    create.mutable_task()->set_title(" \t" + title + "\n ");
    ExpectRefused([&] { return Call(&Stub::CreateTask, create); },
                  GrpcInvalidField("task.title", reason::kInvalidArgument),
                  "CreateTask padded");
    const std::string padded = absl::StrCat(" \t", i, "\n ");
    EXPECT_EQ(MakeTask(::tasks::testing::TaskBuilder(padded)).title(), padded);

    create.mutable_task()->set_title(over_limit[i]);
    ExpectRefused([&] { return Call(&Stub::CreateTask, create); },
                  GrpcInvalidField("task.title", reason::kInvalidArgument),
                  "CreateTask 201");
    v1::BatchCreateTasksRequest batch;
    batch.add_requests()->mutable_task()->set_title("fine");
    batch.add_requests()->mutable_task()->set_title(over_limit[i]);
    ExpectRefused(
        [&] { return Call(&Stub::BatchCreateTasks, batch); },
        GrpcInvalidField("requests[1].task.title", reason::kInvalidArgument),
        "BatchCreateTasks 201");
    v1::UpdateTaskRequest update;
    update.mutable_task()->set_id(loose_task_.id());
    update.mutable_task()->set_title(over_limit[i]);
    ExpectRefused([&] { return Call(&Stub::UpdateTask, update); },
                  GrpcInvalidField("task.title", reason::kInvalidArgument),
                  "UpdateTask 201");
    update.mutable_task()->set_title(title);
    v1::Task updated;
    ASSERT_THAT(Call(&Stub::UpdateTask, update, &updated), GrpcOk());
    EXPECT_EQ(updated.title(), title);
  }
}

TEST_P(BadInputTest, ProjectNameOf200CharactersIsStoredAnd201IsRefused) {
  const std::vector<std::string> at_limit = TextsOfLength(200);
  const std::vector<std::string> over_limit = TextsOfLength(201);
  for (size_t i = 0; i < at_limit.size(); ++i) {
    SCOPED_TRACE(at_limit[i]);
    v1::Project project = MakeProject(at_limit[i]);
    EXPECT_EQ(project.name(), at_limit[i]);
    EXPECT_EQ(StoredHex("projects", "name", project.id()), Hex(at_limit[i]));

    v1::CreateProjectRequest create;
    create.mutable_project()->set_name(over_limit[i]);
    ExpectRefused([&] { return Call(&Stub::CreateProject, create); },
                  GrpcInvalidField("project.name", reason::kInvalidArgument),
                  "CreateProject 201");
    v1::UpdateProjectRequest update;
    update.mutable_project()->set_id(seed_project_.id());
    update.mutable_project()->set_name(over_limit[i]);
    ExpectRefused([&] { return Call(&Stub::UpdateProject, update); },
                  GrpcInvalidField("project.name", reason::kInvalidArgument),
                  "UpdateProject 201");
    update.mutable_project()->set_id(project.id());
    update.mutable_project()->set_name(at_limit[i] + " ");
    ExpectRefused([&] { return Call(&Stub::UpdateProject, update); },
                  GrpcInvalidField("project.name", reason::kInvalidArgument),
                  "UpdateProject padded");
    const std::string padded = absl::StrCat(" renamed ", i, " ");
    update.mutable_project()->set_name(padded);
    v1::Project renamed;
    ASSERT_THAT(Call(&Stub::UpdateProject, update, &renamed), GrpcOk());
    EXPECT_EQ(renamed.name(), padded);
  }
}

TEST_P(BadInputTest, DescriptionOf10000CharactersIsStoredAnd10001IsRefused) {
  for (const char* character : {"d", "\xC3\xBC", "\xF0\x9F\x93\x9D"}) {
    const std::string at_limit = Repeat(character, 10000);
    const std::string over_limit = Repeat(character, 10001);

    v1::Task task = MakeTask(::tasks::testing::TaskBuilder(
                                 absl::StrCat("described ", Hex(character)))
                                 .WithDescription(at_limit));
    EXPECT_EQ(task.description(), at_limit);
    EXPECT_EQ(StoredHex("tasks", "description", task.id()), Hex(at_limit));
    v1::Project project =
        MakeProject(absl::StrCat("p ", Hex(character)), at_limit);
    EXPECT_EQ(project.description(), at_limit);

    v1::CreateTaskRequest create;
    create.mutable_task()->set_title("too long");
    create.mutable_task()->set_description(over_limit);
    ExpectRefused(
        [&] { return Call(&Stub::CreateTask, create); },
        GrpcInvalidField("task.description", reason::kInvalidArgument),
        "CreateTask description");
    v1::UpdateTaskRequest update;
    update.mutable_task()->set_id(task.id());
    update.mutable_task()->set_description(over_limit);
    ExpectRefused(
        [&] { return Call(&Stub::UpdateTask, update); },
        GrpcInvalidField("task.description", reason::kInvalidArgument),
        "UpdateTask description");
    v1::CreateProjectRequest create_project;
    create_project.mutable_project()->set_name("too long");
    create_project.mutable_project()->set_description(over_limit);
    ExpectRefused(
        [&] { return Call(&Stub::CreateProject, create_project); },
        GrpcInvalidField("project.description", reason::kInvalidArgument),
        "CreateProject description");
    v1::UpdateProjectRequest update_project;
    update_project.mutable_project()->set_id(project.id());
    update_project.mutable_project()->set_description(over_limit);
    ExpectRefused(
        [&] { return Call(&Stub::UpdateProject, update_project); },
        GrpcInvalidField("project.description", reason::kInvalidArgument),
        "UpdateProject description");
  }
}

TEST_P(BadInputTest, RequestIdOf100CharactersIsAcceptedAnd101IsRefused) {
  const std::string at_limit = Repeat("\xE2\x9C\x93", 100);  // ✓
  v1::CreateTaskRequest create;
  create.mutable_task()->set_title("with request id");
  create.set_request_id(at_limit);
  v1::Task task = MakeTask(create);
  EXPECT_EQ(StoredHex("tasks", "request_id", task.id()), Hex(at_limit));

  create.mutable_task()->set_title("with a longer request id");
  create.set_request_id(at_limit + "x");
  ExpectRefused([&] { return Call(&Stub::CreateTask, create); },
                GrpcInvalidField("request_id", reason::kInvalidArgument),
                "request_id 101");
}

// --- Message size --------------------------------------------------------

TEST_P(BadInputTest, RequestOfOneMebibytePlusOneIsResourceExhausted) {
  auto tcp_stub = v1::TaskService::NewStub(TcpChannel());
  for (Stub* stub : {&this->stub(), tcp_stub.get()}) {
    const char* channel = stub == tcp_stub.get() ? "tcp" : "in-process";
    v1::CreateTaskRequest create;
    create.mutable_task()->set_title("big");
    ASSERT_TRUE(PadToSize(create, create.mutable_task()->mutable_description(),
                          kMaxMessageBytes + 1));
    ExpectRefused(
        [&] {
          v1::Task task;
          return Call(&Stub::CreateTask, create, &task, stub);
        },
        Property(&grpc::Status::error_code, Code::RESOURCE_EXHAUSTED),
        absl::StrCat("CreateTask of 1 MiB + 1 over ", channel));

    // Exactly 1 MiB passes the size check and reaches validation.
    ASSERT_TRUE(PadToSize(create, create.mutable_task()->mutable_description(),
                          kMaxMessageBytes));
    ExpectRefused(
        [&] {
          v1::Task task;
          return Call(&Stub::CreateTask, create, &task, stub);
        },
        GrpcInvalidField("task.description", reason::kInvalidArgument),
        absl::StrCat("CreateTask of 1 MiB over ", channel));

    v1::ListTasksRequest list;
    ASSERT_TRUE(PadToSize(list, list.mutable_order_by(), kMaxMessageBytes + 1));
    ExpectRefused(
        [&] {
          v1::ListTasksResponse response;
          return Call(&Stub::ListTasks, list, &response, stub);
        },
        Property(&grpc::Status::error_code, Code::RESOURCE_EXHAUSTED),
        absl::StrCat("ListTasks of 1 MiB + 1 over ", channel));
  }
}

TEST_P(BadInputTest, BatchOfExactlyOneMebibyteIsCreatedAndOneByteMoreIsNot) {
  v1::BatchCreateTasksRequest batch;
  // Full requests up to 9,500 bytes short; the last one fills the rest.
  while (batch.ByteSizeLong() < kMaxMessageBytes - 9500) {
    v1::CreateTaskRequest* request = batch.add_requests();
    request->mutable_task()->set_title(
        absl::StrCat("bulk ", batch.requests_size()));
    request->mutable_task()->set_description(Repeat("d", 9000));
  }
  v1::Task* last = batch.add_requests()->mutable_task();
  last->set_title("bulk last");
  ASSERT_TRUE(
      PadToSize(batch, last->mutable_description(), kMaxMessageBytes + 1));
  ExpectRefused([&] { return Call(&Stub::BatchCreateTasks, batch); },
                Property(&grpc::Status::error_code, Code::RESOURCE_EXHAUSTED),
                "BatchCreateTasks of 1 MiB + 1");

  ASSERT_TRUE(PadToSize(batch, last->mutable_description(), kMaxMessageBytes));
  v1::BatchCreateTasksResponse created;
  ASSERT_THAT(Call(&Stub::BatchCreateTasks, batch, &created), GrpcOk());
  ASSERT_EQ(created.tasks_size(), batch.requests_size());
  for (int i = 0; i < created.tasks_size(); ++i) {
    EXPECT_EQ(created.tasks(i).title(), batch.requests(i).task().title());
    EXPECT_EQ(created.tasks(i).description(),
              batch.requests(i).task().description());
  }
  EXPECT_THAT(FetchTask(created.tasks(0).id()), EqualsProto(created.tasks(0)));
}

// --- Metadata ------------------------------------------------------------

TEST_P(BadInputTest, MetadataNestedToTheLimitIsStoredExactly) {
  for (const Struct& deepest :
       {NestedObjects(kMaxMetadataDepth), NestedLists(kMaxMetadataDepth)}) {
    ExpectMetadataRoundTrips(deepest, "deep");
  }
}

TEST_P(BadInputTest, MetadataOneLevelTooDeepIsInvalidArgument) {
  for (const Struct& too_deep : {NestedObjects(kMaxMetadataDepth + 1),
                                 NestedLists(kMaxMetadataDepth + 1),
                                 NestedLists(kMaxMetadataDepth + 10)}) {
    ExpectMetadataRefused(too_deep, "too deep");
    v1::ListTasksRequest filter;
    filter.set_metadata_key("k");
    *filter.mutable_metadata_value()->mutable_struct_value() = too_deep;
    EXPECT_THAT(Call(&Stub::ListTasks, filter),
                GrpcInvalidField("metadata_value", reason::kInvalidArgument));
  }
}

TEST_P(BadInputTest, MetadataNestedPastTheParserLimitIsRefusedUnparsed) {
  for (int depth : {kMaxMetadataDepth + 2, 100, 1000}) {
    v1::CreateTaskRequest create;
    create.mutable_task()->set_title("far too deep");
    *create.mutable_task()->mutable_metadata() = NestedObjects(depth);
    ExpectRefused([&] { return Call(&Stub::CreateTask, create); },
                  GrpcErrorIs(Code::INVALID_ARGUMENT, reason::kInvalidArgument),
                  absl::StrCat("CreateTask, objects nested ", depth));
    *create.mutable_task()->mutable_metadata() = NestedLists(depth * 2);
    ExpectRefused([&] { return Call(&Stub::CreateTask, create); },
                  GrpcErrorIs(Code::INVALID_ARGUMENT, reason::kInvalidArgument),
                  absl::StrCat("CreateTask, lists nested ", depth * 2));
    v1::UpdateTaskRequest update;
    update.mutable_task()->set_id(seed_task_.id());
    *update.mutable_task()->mutable_metadata() = NestedObjects(depth);
    ExpectRefused([&] { return Call(&Stub::UpdateTask, update); },
                  GrpcErrorIs(Code::INVALID_ARGUMENT, reason::kInvalidArgument),
                  absl::StrCat("UpdateTask, objects nested ", depth));
  }
  v1::BatchCreateTasksRequest batch;
  v1::Task* task = batch.add_requests()->mutable_task();
  task->set_title("one level deeper in a batch");
  *task->mutable_metadata() = NestedObjects(kMaxMetadataDepth + 1);
  ExpectRefused([&] { return Call(&Stub::BatchCreateTasks, batch); },
                GrpcErrorIs(Code::INVALID_ARGUMENT, reason::kInvalidArgument),
                "BatchCreateTasks");
  EXPECT_THAT(FetchTask(seed_task_.id()), EqualsProto(seed_task_));
}

// {"<key>":"<value>","small":1} of exactly `json_bytes` bytes of JSON text
// (keys sort "k..." before "small"; none of the characters is escaped): an
// 8,000-byte key of mixed one- to four-byte characters, the value the rest.
Struct MetadataOfJsonBytes(size_t json_bytes) {
  std::string key;
  while (key.size() < 8000) key += "k\xC3\xA9\xE2\x82\xAC\xF0\x9F\x94\x91";
  const size_t value_bytes = json_bytes - key.size() - 17;
  const std::string value =
      Repeat("v\xD7\xA9", value_bytes / 3) + Repeat("v", value_bytes % 3);
  Struct metadata;
  (*metadata.mutable_fields())[key].set_string_value(value);
  (*metadata.mutable_fields())["small"].set_number_value(1);
  return metadata;
}

TEST_P(BadInputTest, MetadataAtTheCapsIsStoredReturnedAndMatchedExactly) {
  for (const Struct& metadata :
       {MetadataOfJsonBytes(api::kMaxMetadataJsonBytes),
        NullList(api::kMaxMetadataValues - 1)}) {
    ExpectMetadataRoundTrips(metadata, "at cap");
  }
}

TEST_P(BadInputTest, MetadataOverTheCapsIsInvalidArgument) {
  const std::vector<std::pair<std::string, Struct>> kOver = {
      {"16 KiB + 1 of JSON",
       MetadataOfJsonBytes(api::kMaxMetadataJsonBytes + 1)},
      {"1,001 values", NullList(api::kMaxMetadataValues)},
      {"250,000 values", NullList(250000)},
  };
  for (const auto& [what, metadata] : kOver) {
    ExpectMetadataRefused(metadata, what);
    v1::BatchCreateTasksRequest batch;
    batch.add_requests()->mutable_task()->set_title("fine");
    v1::Task* over = batch.add_requests()->mutable_task();
    over->set_title("over the caps");
    *over->mutable_metadata() = metadata;
    ExpectRefused(
        [&] { return Call(&Stub::BatchCreateTasks, batch); },
        GrpcInvalidField("requests[1].task.metadata", reason::kInvalidArgument),
        "BatchCreateTasks " + what);
  }
}

TEST_P(BadInputTest, MetadataKeyOverTheMessageLimitIsResourceExhausted) {
  v1::CreateTaskRequest create;
  create.mutable_task()->set_title("key too big");
  (*create.mutable_task()
        ->mutable_metadata()
        ->mutable_fields())[Repeat("k", kMaxMessageBytes)]
      .set_bool_value(true);
  ExpectRefused([&] { return Call(&Stub::CreateTask, create); },
                Property(&grpc::Status::error_code, Code::RESOURCE_EXHAUSTED),
                "1 MiB metadata key");
}

TEST_P(BadInputTest, MetadataJsonCannotHoldIsInvalidArgument) {
  const double kInfinity = std::numeric_limits<double>::infinity();
  std::vector<std::pair<std::string, Value>> values;
  for (double number : {std::nan(""), kInfinity, -kInfinity}) {
    Value value;
    value.set_number_value(number);
    values.emplace_back(absl::StrCat("number ", number), value);
  }
  values.emplace_back("a value of no kind", Value());
  Value in_list;
  in_list.mutable_list_value()->add_values()->set_number_value(kInfinity);
  values.emplace_back("infinity in a list", in_list);

  for (const auto& [what, value] : values) {
    Struct metadata;
    (*metadata.mutable_fields())["k"] = value;
    ExpectMetadataRefused(metadata, what);
    if (value.kind_case() == Value::KIND_NOT_SET) continue;  // no filter
    v1::ListTasksRequest filter;
    filter.set_metadata_key("k");
    *filter.mutable_metadata_value() = value;
    EXPECT_THAT(Call(&Stub::ListTasks, filter),
                GrpcInvalidField("metadata_value", reason::kInvalidArgument))
        << what;
  }
}

TEST_P(BadInputTest, ExtremeMetadataNumbersAreReturnedBitForBit) {
  const std::vector<double> numbers = {
      std::numeric_limits<double>::max(),
      std::numeric_limits<double>::lowest(),
      std::numeric_limits<double>::min(),         // smallest normal
      std::numeric_limits<double>::denorm_min(),  // smallest subnormal
      0.1,
      1e21,
      -1e-7,
      9007199254740993.0,  // 2^53 + 1, rounded to a double
      123456789.123456789,
  };
  Struct metadata;
  Value list;
  for (size_t i = 0; i < numbers.size(); ++i) {
    (*metadata.mutable_fields())[absl::StrCat("n", i)].set_number_value(
        numbers[i]);
    list.mutable_list_value()->add_values()->set_number_value(numbers[i]);
  }
  (*metadata.mutable_fields())["list"] = list;
  v1::Task created = MakeTask(::tasks::testing::TaskBuilder("numbers").Build());
  v1::UpdateTaskRequest update;
  update.mutable_task()->set_id(created.id());
  *update.mutable_task()->mutable_metadata() = metadata;
  v1::Task updated;
  ASSERT_THAT(Call(&Stub::UpdateTask, update, &updated), GrpcOk());
  const v1::Task fetched = FetchTask(created.id());
  for (const v1::Task& task : {updated, fetched}) {
    for (size_t i = 0; i < numbers.size(); ++i) {
      const double returned =
          task.metadata().fields().at(absl::StrCat("n", i)).number_value();
      EXPECT_EQ(std::memcmp(&returned, &numbers[i], sizeof(double)), 0)
          << "sent " << numbers[i] << ", got " << returned;
      const double in_list = task.metadata()
                                 .fields()
                                 .at("list")
                                 .list_value()
                                 .values(i)
                                 .number_value();
      EXPECT_EQ(std::memcmp(&in_list, &numbers[i], sizeof(double)), 0)
          << "sent " << numbers[i] << " in a list, got " << in_list;
    }
  }
  // Each number also matches itself in a filter.
  for (size_t i = 0; i < numbers.size(); ++i) {
    v1::ListTasksRequest filter;
    filter.set_metadata_key(absl::StrCat("n", i));
    filter.mutable_metadata_value()->set_number_value(numbers[i]);
    EXPECT_EQ(ListAllTasks(filter).size(), 1u) << numbers[i];
  }
}

}  // namespace
}  // namespace tasks::service
