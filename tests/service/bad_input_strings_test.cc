// Hostile strings through the whole stack: NUL bytes and invalid UTF-8 are
// refused with the database untouched, without crashing the server or
// flooding its log; SQL, LIKE wildcards, emoji and right-to-left text are
// stored and returned byte for byte, and match literally in filters.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "gtest/gtest.h"
#include "tests/service/bad_input_fixture.h"
#include "tests/testing/grpc_status_matchers.h"
#include "tests/testing/proto_matchers.h"
#include "tests/testing/stderr_capture.h"
#include "tests/testing/task_builders.h"

namespace tasks::service {
namespace {

using ::google::protobuf::Struct;
using ::google::protobuf::Value;
using ::tasks::testing::EqualsProto;
using ::tasks::testing::GrpcErrorIs;
using ::tasks::testing::GrpcInvalidField;
using ::tasks::testing::GrpcOk;
using ::tasks::testing::StderrCapture;
using ::tasks::testing::StructFromJson;
using ::tasks::testing::TaskBuilder;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using Code = ::grpc::StatusCode;

const std::string kNul("a\0b", 3);

Value StringValue(const std::string& text) {
  Value value;
  value.set_string_value(text);
  return value;
}

// {key: value}
Struct StructOf(const std::string& key, const Value& value) {
  Struct result;
  (*result.mutable_fields())[key] = value;
  return result;
}

// {"outer": {"list": [value]}}: a string two objects and a list deep.
Struct NestedStructWith(const std::string& text) {
  Value list;
  *list.mutable_list_value()->add_values() = StringValue(text);
  Value inner;
  *inner.mutable_struct_value() = StructOf("list", list);
  return StructOf("outer", inner);
}

// Strings that break naive SQL, LIKE patterns, JSON or text handling.
const std::vector<std::string>& HostileStrings() {
  static const auto* const kStrings = new std::vector<std::string>{
      "Robert'); DROP TABLE tasks;--",
      "' OR '1'='1",
      "\"; DELETE FROM projects; --",
      "1; UPDATE tasks SET title = 'x' WHERE 1=1",
      "' UNION SELECT value FROM settings --",
      "$1 :title ? @p %s {0}",
      "%",
      "_",
      "100% _done_ \\% \\_ [a-z]*",
      "\xF0\x9F\x9A\x80 emoji \xE2\x9C\x85 "
      "\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x92\xBB "
      "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD",  // ZWJ, skin tone
      "\xE2\x80\xAE"
      "evil"
      "\xE2\x80\xAC"
      " gnp.exe",  // RLO ... PDF
      "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D "
      "\xD7\xA2\xD7\x95\xD7\x9C\xD7\x9D",  // Hebrew
      "\xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7 "
      "\xD8\xA8\xD8\xA7\xD9\x84\xD8\xB9\xD8\xA7\xD9\x84\xD9\x85",  // Arabic
      "mixed \xD7\xA2\xD7\x91\xD7\xA8\xD7\x99\xD7\xAA and English",
      "e\xCC\x81 combining, \xF0\x9D\x84\x9E beyond the BMP",
      "tab\tnewline\ncarriage\r",
      "line\xE2\x80\xA8separator\xE2\x80\xA9paragraph",
      "back\\slash \"quote\" 'apos' `tick`",
      "{\"json\": [1, 2]} ]} \\u0000",
      "\x7F"
      "del \x01 \x1F controls",
      "NULL",
  };
  return *kStrings;
}

// True when ListTasks accepts `key` as metadata_key (tasks.proto).
bool UsableAsFilterKey(const std::string& key) {
  return key.find_first_of("\"\\") == std::string::npos;
}

// --- NUL bytes -----------------------------------------------------------

TEST_P(BadInputTest, NulByteInAnyProjectFieldIsInvalidArgumentNamingIt) {
  v1::CreateProjectRequest create;
  create.mutable_project()->set_name(kNul);
  ExpectRefused([&] { return Call(&Stub::CreateProject, create); },
                GrpcInvalidField("project.name", reason::kInvalidArgument),
                "CreateProject name");
  create.mutable_project()->set_name("fine");
  create.mutable_project()->set_description(kNul);
  ExpectRefused(
      [&] { return Call(&Stub::CreateProject, create); },
      GrpcInvalidField("project.description", reason::kInvalidArgument),
      "CreateProject description");

  for (const char* path : {"name", "description"}) {
    v1::UpdateProjectRequest update;
    update.mutable_project()->set_id(seed_project_.id());
    update.mutable_project()->set_name(path == std::string("name") ? kNul
                                                                   : "ok");
    update.mutable_project()->set_description(kNul);
    update.mutable_update_mask()->add_paths(path);
    ExpectRefused([&] { return Call(&Stub::UpdateProject, update); },
                  GrpcInvalidField(absl::StrCat("project.", path),
                                   reason::kInvalidArgument),
                  absl::StrCat("UpdateProject ", path));
  }
}

TEST_P(BadInputTest, NulByteInAnyTaskFieldIsInvalidArgumentNamingIt) {
  struct Case {
    std::string what;
    std::function<void(v1::Task&)> spoil;
    std::string field;  // as named to the client, after "task."
  };
  const std::vector<Case> cases = {
      {"title", [](v1::Task& t) { t.set_title(kNul); }, "title"},
      {"description", [](v1::Task& t) { t.set_description(kNul); },
       "description"},
      {"metadata key",
       [](v1::Task& t) {
         *t.mutable_metadata() = StructOf(kNul, StringValue("v"));
       },
       "metadata"},
      {"metadata value",
       [](v1::Task& t) {
         *t.mutable_metadata() = StructOf("k", StringValue(kNul));
       },
       "metadata"},
      {"nested metadata value",
       [](v1::Task& t) { *t.mutable_metadata() = NestedStructWith(kNul); },
       "metadata"},
  };
  for (const Case& c : cases) {
    v1::CreateTaskRequest create;
    create.mutable_task()->set_title("new");
    create.mutable_task()->set_project_id(seed_project_.id());
    c.spoil(*create.mutable_task());
    ExpectRefused([&] { return Call(&Stub::CreateTask, create); },
                  GrpcInvalidField("task." + c.field, reason::kInvalidArgument),
                  "CreateTask " + c.what);

    v1::UpdateTaskRequest update;
    update.mutable_task()->set_id(seed_task_.id());
    c.spoil(*update.mutable_task());
    update.mutable_update_mask()->add_paths(c.field);
    ExpectRefused([&] { return Call(&Stub::UpdateTask, update); },
                  GrpcInvalidField("task." + c.field, reason::kInvalidArgument),
                  "UpdateTask " + c.what);
  }

  v1::CreateTaskRequest with_request_id;
  with_request_id.mutable_task()->set_title("new");
  with_request_id.set_request_id(kNul);
  ExpectRefused([&] { return Call(&Stub::CreateTask, with_request_id); },
                GrpcInvalidField("request_id", reason::kInvalidArgument),
                "CreateTask request_id");
}

TEST_P(BadInputTest, NulByteInOneBatchRequestRefusesTheWholeBatch) {
  v1::BatchCreateTasksRequest batch;
  batch.add_requests()->mutable_task()->set_title("first is fine");
  v1::CreateTaskRequest* second = batch.add_requests();
  second->mutable_task()->set_title("second");
  second->set_request_id(kNul);
  ExpectRefused(
      [&] { return Call(&Stub::BatchCreateTasks, batch); },
      GrpcInvalidField("requests[1].request_id", reason::kInvalidArgument),
      "batch request_id");
  second->clear_request_id();
  *second->mutable_task()->mutable_metadata() =
      StructOf("k", StringValue(kNul));
  ExpectRefused(
      [&] { return Call(&Stub::BatchCreateTasks, batch); },
      GrpcInvalidField("requests[1].task.metadata", reason::kInvalidArgument),
      "batch metadata");
  second->mutable_task()->clear_metadata();
  second->mutable_task()->set_title(kNul);
  ExpectRefused(
      [&] { return Call(&Stub::BatchCreateTasks, batch); },
      GrpcInvalidField("requests[1].task.title", reason::kInvalidArgument),
      "batch title");
}

TEST_P(BadInputTest, NulByteInEtagIsAbortedAndInMaskPathIsInvalidFieldMask) {
  v1::UpdateTaskRequest update;
  update.mutable_task()->set_id(seed_task_.id());
  update.mutable_task()->set_title("changed");
  update.mutable_task()->set_etag(seed_task_.etag() + kNul);
  ExpectRefused([&] { return Call(&Stub::UpdateTask, update); },
                GrpcErrorIs(Code::ABORTED, reason::kEtagMismatch),
                "etag with NUL");

  update.mutable_task()->clear_etag();
  update.mutable_update_mask()->add_paths(std::string("title\0", 6));
  ExpectRefused([&] { return Call(&Stub::UpdateTask, update); },
                GrpcInvalidField("update_mask", reason::kInvalidFieldMask),
                "task mask path with NUL");

  v1::UpdateProjectRequest project;
  project.mutable_project()->set_id(seed_project_.id());
  project.mutable_project()->set_name("changed");
  project.mutable_update_mask()->add_paths(std::string("na\0me", 6));
  ExpectRefused([&] { return Call(&Stub::UpdateProject, project); },
                GrpcInvalidField("update_mask", reason::kInvalidFieldMask),
                "project mask path with NUL");
}

TEST_P(BadInputTest, NulByteInListArgumentsIsInvalidArgumentNamingIt) {
  v1::ListTasksRequest tasks;
  tasks.set_page_token(kNul);
  EXPECT_THAT(Call(&Stub::ListTasks, tasks),
              GrpcInvalidField("page_token", reason::kInvalidPageToken));
  v1::ListProjectsRequest projects;
  projects.set_page_token(kNul);
  EXPECT_THAT(Call(&Stub::ListProjects, projects),
              GrpcInvalidField("page_token", reason::kInvalidPageToken));

  tasks.Clear();
  tasks.set_metadata_key(kNul);
  *tasks.mutable_metadata_value() = StringValue("v");
  EXPECT_THAT(Call(&Stub::ListTasks, tasks),
              GrpcInvalidField("metadata_key", reason::kInvalidArgument));
  tasks.set_metadata_key("k");
  *tasks.mutable_metadata_value() = StringValue(kNul);
  EXPECT_THAT(Call(&Stub::ListTasks, tasks),
              GrpcInvalidField("metadata_value", reason::kInvalidArgument));
  tasks.Clear();
  tasks.set_order_by(std::string("title\0", 6));
  EXPECT_THAT(Call(&Stub::ListTasks, tasks),
              GrpcInvalidField("order_by", reason::kInvalidArgument));
}

TEST_P(BadInputTest, OutputOnlyEtagWithNulIsIgnoredOnCreate) {
  v1::CreateTaskRequest create;
  create.mutable_task()->set_title("etag ignored");
  create.mutable_task()->set_etag(kNul);
  v1::Task created = MakeTask(create);
  EXPECT_NE(created.etag(), kNul);
  EXPECT_FALSE(created.etag().empty());
  EXPECT_THAT(FetchTask(created.id()), EqualsProto(created));
}

// --- Invalid UTF-8 -------------------------------------------------------

// A request whose one string field holds `bad`: built with a same-length
// placeholder, serialized, and the placeholder's bytes replaced, since
// protobuf would not serialize invalid UTF-8 in a string field itself.
struct RawRequest {
  std::string what;
  std::string method;
  std::string bytes;
};

std::string Method(absl::string_view name) {
  return absl::StrCat("/tasks.v1.TaskService/", name);
}

// A request protobuf cannot parse: the client's INVALID_ARGUMENT naming the
// message type (parsed by the server's call, not by gRPC, whose answer would
// be INTERNAL "Unable to parse request").
::testing::Matcher<const grpc::Status&> Undecodable() {
  return ::testing::AllOf(
      GrpcErrorIs(Code::INVALID_ARGUMENT, reason::kInvalidArgument),
      ::testing::Property(
          &grpc::Status::error_message,
          ::testing::HasSubstr("does not decode as tasks.v1.")));
}

// Every string field of every request, each case holding `bad` in one field.
// `task_id` and `project_id` name existing rows.
std::vector<RawRequest> InvalidUtf8Requests(const std::string& bad,
                                            int64_t task_id,
                                            int64_t project_id) {
  const std::string mark(bad.size(), '\x7F');
  std::vector<RawRequest> requests;
  auto add = [&](std::string what, absl::string_view rpc,
                 const google::protobuf::Message& message) {
    std::string bytes = message.SerializeAsString();
    const size_t at = bytes.find(mark);
    EXPECT_NE(at, std::string::npos) << what;
    EXPECT_EQ(bytes.find(mark, at + 1), std::string::npos) << what;
    if (at != std::string::npos) bytes.replace(at, mark.size(), bad);
    requests.push_back({std::move(what), Method(rpc), std::move(bytes)});
  };

  v1::CreateProjectRequest create_project;
  create_project.mutable_project()->set_name(mark);
  add("CreateProject project.name", "CreateProject", create_project);
  create_project.mutable_project()->set_name("p");
  create_project.mutable_project()->set_description(mark);
  add("CreateProject project.description", "CreateProject", create_project);

  v1::UpdateProjectRequest update_project;
  update_project.mutable_project()->set_id(project_id);
  update_project.mutable_project()->set_name(mark);
  add("UpdateProject project.name", "UpdateProject", update_project);
  update_project.mutable_project()->set_name("p");
  update_project.mutable_update_mask()->add_paths(mark);
  add("UpdateProject update_mask", "UpdateProject", update_project);

  using TaskSpoiler = std::function<void(v1::Task&)>;
  const std::vector<std::pair<std::string, TaskSpoiler>> task_fields = {
      {"title", [&](v1::Task& t) { t.set_title(mark); }},
      {"description", [&](v1::Task& t) { t.set_description(mark); }},
      {"etag", [&](v1::Task& t) { t.set_etag(mark); }},
      {"metadata key",
       [&](v1::Task& t) {
         *t.mutable_metadata() = StructOf(mark, StringValue("v"));
       }},
      {"metadata value",
       [&](v1::Task& t) {
         *t.mutable_metadata() = StructOf("k", StringValue(mark));
       }},
      {"nested metadata value",
       [&](v1::Task& t) { *t.mutable_metadata() = NestedStructWith(mark); }},
  };
  for (const auto& [field, spoil] : task_fields) {
    v1::CreateTaskRequest create;
    create.mutable_task()->set_title("t");
    spoil(*create.mutable_task());
    add("CreateTask task." + field, "CreateTask", create);

    v1::UpdateTaskRequest update;
    update.mutable_task()->set_id(task_id);
    spoil(*update.mutable_task());
    add("UpdateTask task." + field, "UpdateTask", update);
  }
  v1::CreateTaskRequest with_request_id;
  with_request_id.mutable_task()->set_title("t");
  with_request_id.set_request_id(mark);
  add("CreateTask request_id", "CreateTask", with_request_id);

  v1::UpdateTaskRequest masked;
  masked.mutable_task()->set_id(task_id);
  masked.mutable_task()->set_title("t");
  masked.mutable_update_mask()->add_paths(mark);
  add("UpdateTask update_mask", "UpdateTask", masked);

  v1::BatchCreateTasksRequest batch;
  batch.add_requests()->mutable_task()->set_title("fine");
  batch.add_requests()->mutable_task()->set_title(mark);
  add("BatchCreateTasks requests[1].task.title", "BatchCreateTasks", batch);

  v1::ListTasksRequest list;
  list.set_page_token(mark);
  add("ListTasks page_token", "ListTasks", list);
  list.Clear();
  list.set_metadata_key(mark);
  *list.mutable_metadata_value() = StringValue("v");
  add("ListTasks metadata_key", "ListTasks", list);
  list.set_metadata_key("k");
  *list.mutable_metadata_value() = StringValue(mark);
  add("ListTasks metadata_value", "ListTasks", list);
  list.Clear();
  list.set_order_by(mark);
  add("ListTasks order_by", "ListTasks", list);

  v1::ListProjectsRequest projects;
  projects.set_page_token(mark);
  add("ListProjects page_token", "ListProjects", projects);

  // The streaming method's request, parsed the same way.
  v1::WatchTasksRequest watch;
  watch.set_filter(mark);
  add("WatchTasks filter", "WatchTasks", watch);
  return requests;
}

// An overlong encoding of '/', a UTF-16 surrogate, a truncated sequence, a
// lone continuation byte, bytes never valid, and a code point past U+10FFFF.
const std::vector<std::string>& InvalidUtf8Sequences() {
  static const auto* const kSequences = new std::vector<std::string>{
      "\xC0\xAF", "\xED\xA0\x80",     "ok\xE2\x82",     "\x80",
      "\xFE\xFF", "\xF4\x90\x80\x80", "\xC3\x28 mixed",
  };
  return *kSequences;
}

TEST_P(BadInputTest, InvalidUtf8InAnyStringFieldIsRefusedByTheParser) {
  for (const RawRequest& request : InvalidUtf8Requests(
           "\xC3\x28\xFF", seed_task_.id(), seed_project_.id())) {
    ExpectRefused([&] { return CallRaw(request.method, request.bytes); },
                  Undecodable(), request.what);
  }
  // The health service's Check and Watch too: field 1 (service), "\xC3(".
  for (const char* method :
       {"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch"}) {
    EXPECT_THAT(
        CallRaw(method, std::string("\x0A\x02\xC3(", 4)),
        AllOf(GrpcErrorIs(Code::INVALID_ARGUMENT, reason::kInvalidArgument),
              ::testing::Property(
                  &grpc::Status::error_message,
                  ::testing::HasSubstr("does not decode as "
                                       "grpc.health.v1.HealthCheckRequest"))))
        << method;
  }
  // The server still answers.
  EXPECT_THAT(FetchTask(seed_task_.id()), EqualsProto(seed_task_));
}

TEST_P(BadInputTest, EveryKindOfInvalidUtf8SequenceIsRefused) {
  for (const std::string& bad : InvalidUtf8Sequences()) {
    for (const RawRequest& request :
         InvalidUtf8Requests(bad, seed_task_.id(), seed_project_.id())) {
      if (request.what != "CreateTask task.title" &&
          request.what != "ListTasks metadata_value") {
        continue;
      }
      ExpectRefused([&] { return CallRaw(request.method, request.bytes); },
                    Undecodable(), absl::StrCat(request.what, " = ", Hex(bad)));
    }
  }
}

TEST_P(BadInputTest, InvalidUtf8IsLoggedInAFewShortLinesPerCall) {
  const std::string bad = Repeat("\xFF", 1000);
  const std::vector<RawRequest> requests =
      InvalidUtf8Requests(bad, seed_task_.id(), seed_project_.id());
  // Also one message with a thousand invalid strings.
  v1::BatchCreateTasksRequest batch;
  for (int i = 0; i < 1000; ++i) {
    batch.add_requests()->mutable_task()->set_title(absl::StrCat("\x7F", i));
  }
  // No length or tag in this message is 0x7F: only the titles change.
  std::string batch_bytes = batch.SerializeAsString();
  std::replace(batch_bytes.begin(), batch_bytes.end(), '\x7F', '\xFF');

  StderrCapture capture;
  int calls = 0;
  for (const RawRequest& request : requests) {
    EXPECT_THAT(CallRaw(request.method, request.bytes), Undecodable())
        << request.what;
    ++calls;
  }
  EXPECT_THAT(CallRaw(Method("BatchCreateTasks"), batch_bytes), Undecodable());
  ++calls;
  const std::string log = capture.Stop();

  std::vector<std::string> lines = absl::StrSplit(log, '\n', absl::SkipEmpty());
  // At most protobuf's parse error and the call's own line per call, and a
  // few lines from background threads (the store monitor).
  EXPECT_LE(lines.size(), 2u * calls + 5) << log;
  for (const std::string& line : lines) {
    EXPECT_LE(line.size(), 400u) << line;
    EXPECT_FALSE(absl::StrContains(line, "\xFF")) << Hex(line);
  }
  std::cerr << "invalid UTF-8: " << calls << " calls logged " << lines.size()
            << " lines, " << log.size() << " bytes\n";
}

// Refusals echo the client's text; a control character in it must not start
// a line of its own in the log, where it would pass for the server's.
TEST_P(BadInputTest, ControlCharactersInRefusedTextCannotForgeLogLines) {
  const std::string forged =
      "x\nI 2030-01-01T00:00:00.000000Z FAKE LINE\r\x1b[2J";
  v1::ListTasksRequest list;
  list.set_order_by(forged);
  v1::UpdateTaskRequest update;
  update.mutable_task()->set_id(seed_task_.id());
  update.mutable_update_mask()->add_paths(forged);

  StderrCapture capture;
  EXPECT_THAT(Call(&Stub::ListTasks, list),
              GrpcErrorIs(Code::INVALID_ARGUMENT, reason::kInvalidArgument));
  EXPECT_THAT(Call(&Stub::UpdateTask, update),
              GrpcErrorIs(Code::INVALID_ARGUMENT, reason::kInvalidFieldMask));
  const std::string log = capture.Stop();

  std::vector<std::string> lines = absl::StrSplit(log, '\n', absl::SkipEmpty());
  int call_lines = 0;  // the calls' own lines, the text escaped in them
  int forged_lines = 0;
  for (const std::string& line : lines) {
    if (absl::StrContains(line, "\"x\\nI 2030")) ++call_lines;
    if (absl::StartsWith(line, "I 2030")) ++forged_lines;
    EXPECT_FALSE(absl::StrContains(line, "\r")) << Hex(line);
    EXPECT_FALSE(absl::StrContains(line, "\x1b")) << Hex(line);
  }
  EXPECT_EQ(call_lines, 2) << log;
  EXPECT_EQ(forged_lines, 0) << log;
  std::cerr << "2 refused calls with a forged line in their text: "
            << call_lines << " lines name it, " << forged_lines
            << " forged lines\n";
}

TEST_P(BadInputTest, BytesThatAreNoRequestAreRefusedByTheParser) {
  v1::CreateTaskRequest valid;
  valid.mutable_task()->set_title("almost");
  valid.mutable_task()->set_description("cut short");
  const std::string whole = valid.SerializeAsString();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"garbage", "\xFF\xFF\xFF\xFF"},
      {"truncated", whole.substr(0, whole.size() - 3)},
      // Task with a length prefix longer than the message.
      {"overlong length", std::string("\x0A\x7F\x1A\x01t", 5)},
  };
  for (const auto& [what, bytes] : cases) {
    ExpectRefused([&] { return CallRaw(Method("CreateTask"), bytes); },
                  Undecodable(), what);
  }
  // Field 1 (task, a message) sent as a varint is an unknown field to
  // protobuf: the request parses, without a task.
  ExpectRefused(
      [&] { return CallRaw(Method("CreateTask"), std::string("\x08\x01", 2)); },
      GrpcInvalidField("task", reason::kInvalidArgument), "wrong wire type");
  EXPECT_THAT(FetchTask(loose_task_.id()), EqualsProto(loose_task_));
}

// --- SQL, wildcards, emoji, right-to-left text -----------------------------

TEST_P(BadInputTest, HostileStringsInEveryFieldAreReturnedByteForByte) {
  for (const std::string& text : HostileStrings()) {
    SCOPED_TRACE(Hex(text));
    const v1::Project project = MakeProject(text, text);
    EXPECT_EQ(project.name(), text);
    EXPECT_EQ(project.description(), text);
    EXPECT_THAT(FetchProject(project.id()), EqualsProto(project));
    EXPECT_EQ(StoredHex("projects", "name", project.id()), Hex(text));
    EXPECT_EQ(StoredHex("projects", "description", project.id()), Hex(text));

    v1::CreateTaskRequest create;
    *create.mutable_task() =
        TaskBuilder(text).InProject(project.id()).WithDescription(text).Build();
    Struct metadata = NestedStructWith(text);
    (*metadata.mutable_fields())[text] = StringValue(text);
    *create.mutable_task()->mutable_metadata() = metadata;
    create.set_request_id(text);
    const v1::Task task = MakeTask(create);
    EXPECT_EQ(task.title(), text);
    EXPECT_EQ(task.description(), text);
    EXPECT_THAT(task.metadata(), EqualsProto(metadata));
    EXPECT_THAT(FetchTask(task.id()), EqualsProto(task));
    EXPECT_EQ(StoredHex("tasks", "title", task.id()), Hex(text));
    EXPECT_EQ(StoredHex("tasks", "description", task.id()), Hex(text));
    EXPECT_EQ(StoredHex("tasks", "request_id", task.id()), Hex(text));

    v1::ListTasksRequest in_project;
    in_project.set_project_id(project.id());
    std::vector<v1::Task> listed = ListAllTasks(in_project);
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_THAT(listed[0], EqualsProto(task));

    // A retry with the same request id returns the first task.
    v1::Task retried;
    EXPECT_THAT(Call(&Stub::CreateTask, create, &retried), GrpcOk());
    EXPECT_THAT(retried, EqualsProto(task));
  }
  // Nothing was executed: every table is still there, rows intact.
  EXPECT_THAT(FetchTask(seed_task_.id()), EqualsProto(seed_task_));
  EXPECT_THAT(FetchProject(seed_project_.id()), EqualsProto(seed_project_));
}

TEST_P(BadInputTest, HostileStringsSetByUpdatesAreReturnedByteForByte) {
  for (const std::string& text : HostileStrings()) {
    SCOPED_TRACE(Hex(text));
    v1::UpdateTaskRequest update;
    v1::Task* task = update.mutable_task();
    task->set_id(seed_task_.id());
    task->set_title(text);
    task->set_description(text);
    *task->mutable_metadata() = StructOf(text, StringValue(text));
    update.mutable_update_mask()->add_paths("*");
    task->set_status(v1::Task::IN_PROGRESS);
    task->set_priority(v1::Task::HIGH);
    task->set_project_id(seed_project_.id());
    v1::Task updated;
    ASSERT_THAT(Call(&Stub::UpdateTask, update, &updated), GrpcOk());
    EXPECT_EQ(updated.title(), text);
    EXPECT_EQ(updated.description(), text);
    EXPECT_THAT(updated.metadata(), EqualsProto(task->metadata()));
    EXPECT_THAT(FetchTask(seed_task_.id()), EqualsProto(updated));
    EXPECT_EQ(StoredHex("tasks", "title", seed_task_.id()), Hex(text));

    v1::UpdateProjectRequest project;
    project.mutable_project()->set_id(seed_project_.id());
    project.mutable_project()->set_name(text);
    project.mutable_project()->set_description(text);
    v1::Project renamed;
    ASSERT_THAT(Call(&Stub::UpdateProject, project, &renamed), GrpcOk());
    EXPECT_EQ(renamed.name(), text);
    EXPECT_EQ(renamed.description(), text);
    EXPECT_EQ(StoredHex("projects", "name", seed_project_.id()), Hex(text));
  }
}

TEST_P(BadInputTest, HostileMetadataKeysAndValuesMatchOnlyThemselves) {
  std::vector<v1::Task> tasks;
  for (const std::string& text : HostileStrings()) {
    v1::Task task;
    task.set_title(absl::StrCat("meta ", tasks.size()));
    *task.mutable_metadata() = StructOf(text, StringValue(text));
    tasks.push_back(MakeTask(task));
  }
  for (size_t i = 0; i < tasks.size(); ++i) {
    const std::string& text = HostileStrings()[i];
    SCOPED_TRACE(Hex(text));
    v1::ListTasksRequest filter;
    filter.set_metadata_key(text);
    *filter.mutable_metadata_value() = StringValue(text);
    if (!UsableAsFilterKey(text)) {
      EXPECT_THAT(Call(&Stub::ListTasks, filter),
                  GrpcInvalidField("metadata_key", reason::kInvalidArgument));
      continue;
    }
    std::vector<v1::Task> found = ListAllTasks(filter);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_THAT(found[0], EqualsProto(tasks[i]));
  }
}

TEST_P(BadInputTest, PercentAndUnderscoreInMetadataFiltersAreNotWildcards) {
  auto make = [&](const std::string& title, const std::string& json) {
    return MakeTask(TaskBuilder(title).WithMetadataJson(json).Build()).id();
  };
  const int64_t percent = make("percent", R"({"code": "a%c", "k%": 1})");
  const int64_t plain = make("plain", R"({"code": "abc", "kx": 1})");
  const int64_t underscore = make("underscore", R"({"code": "a_c", "k_": 1})");
  const int64_t escaped = make("escaped", R"({"code": "a\\%c"})");

  auto ids = [&](const std::string& key, const std::string& value_json) {
    v1::ListTasksRequest filter;
    filter.set_metadata_key(key);
    *filter.mutable_metadata_value() =
        ::tasks::testing::ValueFromJson(value_json);
    std::vector<int64_t> found;
    for (const v1::Task& task : ListAllTasks(filter))
      found.push_back(task.id());
    return found;
  };
  EXPECT_THAT(ids("code", R"("a%c")"), ElementsAre(percent));
  EXPECT_THAT(ids("code", R"("a_c")"), ElementsAre(underscore));
  EXPECT_THAT(ids("code", R"("a\\%c")"), ElementsAre(escaped));
  EXPECT_THAT(ids("code", R"("abc")"), ElementsAre(plain));
  EXPECT_THAT(ids("code", R"("%")"), IsEmpty());
  EXPECT_THAT(ids("code", R"("a%")"), IsEmpty());
  EXPECT_THAT(ids("code", R"("___")"), IsEmpty());
  EXPECT_THAT(ids("k%", "1"), ElementsAre(percent));
  EXPECT_THAT(ids("k_", "1"), ElementsAre(underscore));
  EXPECT_THAT(ids("k%", "1"), ElementsAre(percent));
  EXPECT_THAT(ids("%", "1"), IsEmpty());
  EXPECT_THAT(ids("_", "1"), IsEmpty());
  EXPECT_THAT(ids("k_", R"("%")"), IsEmpty());
}

TEST_P(BadInputTest, SqlInListArgumentsIsRefusedNotExecuted) {
  const std::vector<std::string> injections = {
      "id; DROP TABLE tasks",
      "title' OR '1'='1",
      "title; --",
      "(SELECT 1)",
      "title desc, (SELECT value FROM settings)",
  };
  for (const std::string& injection : injections) {
    v1::ListTasksRequest list;
    list.set_order_by(injection);
    ExpectRefused([&] { return Call(&Stub::ListTasks, list); },
                  GrpcInvalidField("order_by", reason::kInvalidArgument),
                  "order_by " + injection);
    list.Clear();
    list.set_page_token(injection);
    ExpectRefused([&] { return Call(&Stub::ListTasks, list); },
                  GrpcInvalidField("page_token", reason::kInvalidPageToken),
                  "page_token " + injection);
    v1::ListProjectsRequest projects;
    projects.set_page_token(injection);
    ExpectRefused([&] { return Call(&Stub::ListProjects, projects); },
                  GrpcInvalidField("page_token", reason::kInvalidPageToken),
                  "projects page_token " + injection);
  }
  EXPECT_THAT(FetchTask(seed_task_.id()), EqualsProto(seed_task_));
}

}  // namespace
}  // namespace tasks::service
