#include "tests/service/bad_input_fixture.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "storage/soci_task_store.h"
#include "tests/testing/grpc_status_matchers.h"
#include "tests/testing/proto_matchers.h"
#include "tests/testing/raw_sql.h"
#include "tests/testing/task_builders.h"

namespace tasks::service {

using ::tasks::testing::EqualsProto;
using ::tasks::testing::GrpcInvalidField;
using ::tasks::testing::GrpcOk;
using ::tasks::testing::StoreBackend;

namespace {

const bool kEnvironmentRegistered =
    ::tasks::testing::RegisterStoreBackendEnvironment();

// Portable to both backends: `||` turns numbers into text on each.
constexpr char kFingerprintSql[] =
    "SELECT (SELECT count(*) FROM projects) || '/' || "
    "(SELECT coalesce(max(id), 0) FROM projects) || '/' || "
    "(SELECT coalesce(max(update_time), 0) FROM projects) || '/' || "
    "(SELECT count(*) FROM tasks) || '/' || "
    "(SELECT coalesce(max(id), 0) FROM tasks) || '/' || "
    "(SELECT coalesce(sum(revision), 0) FROM tasks) || '/' || "
    "(SELECT coalesce(max(update_time), 0) FROM tasks) || '/' || "
    "(SELECT count(request_id) FROM tasks)";

}  // namespace

std::string Repeat(absl::string_view piece, int times) {
  std::string text;
  text.reserve(piece.size() * times);
  for (int i = 0; i < times; ++i) text.append(piece.data(), piece.size());
  return text;
}

std::string Hex(absl::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : bytes) {
    hex.push_back(kDigits[c >> 4]);
    hex.push_back(kDigits[c & 0xf]);
  }
  return hex;
}

void BadInputTest::SetUp() {
  absl::StatusOr<std::string> connection = ::tasks::testing::FreshStoreDatabase(
      backend(), ::tasks::testing::StoreLocation::kShared);
  ASSERT_TRUE(connection.ok()) << connection.status();
  connection_ = *connection;

  call_timeout_ = absl::Seconds(30);
  ServerConfig config;
  config.listen_address = "127.0.0.1:0";
  config.open_store = [connection = connection_] {
    return storage::OpenSociTaskStore(connection);
  };
  ASSERT_NO_FATAL_FAILURE(StartServer(std::move(config)));

  seed_project_ = MakeProject("Seed project", "seed");
  v1::CreateTaskRequest seed;
  *seed.mutable_task() = ::tasks::testing::TaskBuilder("seed task")
                             .InProject(seed_project_.id())
                             .WithDescription("seed")
                             .WithMetadataJson(R"({"k": "v", "n": 1})");
  seed.set_request_id("seed-request");
  seed_task_ = MakeTask(seed);
  loose_task_ = MakeTask(::tasks::testing::TaskBuilder("loose task").Build());
  ASSERT_GT(seed_task_.id(), 0);
  ASSERT_GT(loose_task_.id(), 0);
  // The raw read works, so comparing fingerprints means something.
  ASSERT_EQ(TakeSnapshot().fingerprint.substr(0, 2), "1/");
}

void BadInputTest::TearDown() {
  TaskServerTest::TearDown();
  ::tasks::testing::ReleaseFreshStoreDatabases();
}

grpc::Status BadInputTest::CallRaw(const std::string& method,
                                   const std::string& bytes) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + call_timeout_));
  return ::tasks::testing::CallRawUnary(server_->InProcessChannel(), &context,
                                        method, bytes);
}

v1::Project BadInputTest::MakeProject(const std::string& name,
                                      const std::string& description) {
  v1::CreateProjectRequest request;
  *request.mutable_project() =
      ::tasks::testing::ProjectNamed(name, description);
  v1::Project project;
  EXPECT_THAT(Call(&Stub::CreateProject, request, &project), GrpcOk()) << name;
  return project;
}

v1::Task BadInputTest::MakeTask(const v1::CreateTaskRequest& request) {
  v1::Task task;
  EXPECT_THAT(Call(&Stub::CreateTask, request, &task), GrpcOk())
      << request.ShortDebugString();
  return task;
}

v1::Task BadInputTest::MakeTask(const v1::Task& task) {
  v1::CreateTaskRequest request;
  *request.mutable_task() = task;
  return MakeTask(request);
}

v1::Task BadInputTest::FetchTask(int64_t id) {
  v1::GetTaskRequest request;
  request.set_id(id);
  v1::Task task;
  EXPECT_THAT(Call(&Stub::GetTask, request, &task), GrpcOk()) << "task " << id;
  return task;
}

v1::Project BadInputTest::FetchProject(int64_t id) {
  v1::GetProjectRequest request;
  request.set_id(id);
  v1::Project project;
  EXPECT_THAT(Call(&Stub::GetProject, request, &project), GrpcOk())
      << "project " << id;
  return project;
}

std::vector<v1::Task> BadInputTest::ListAllTasks(v1::ListTasksRequest request) {
  std::vector<v1::Task> tasks;
  for (int pages = 0; pages < 10000; ++pages) {
    v1::ListTasksResponse page;
    grpc::Status status = Call(&Stub::ListTasks, request, &page);
    EXPECT_THAT(status, GrpcOk()) << request.ShortDebugString();
    if (!status.ok()) break;
    tasks.insert(tasks.end(), page.tasks().begin(), page.tasks().end());
    if (page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  return tasks;
}

void BadInputTest::ExpectMetadataRoundTrips(
    const google::protobuf::Struct& metadata, absl::string_view label) {
  v1::Task task = MakeTask(::tasks::testing::TaskBuilder(label).Build());
  v1::CreateTaskRequest create;
  create.mutable_task()->set_title(absl::StrCat(label, " created"));
  *create.mutable_task()->mutable_metadata() = metadata;
  v1::Task created = MakeTask(create);
  EXPECT_THAT(created.metadata(), EqualsProto(metadata));
  EXPECT_THAT(FetchTask(created.id()), EqualsProto(created));

  v1::UpdateTaskRequest update;
  update.mutable_task()->set_id(task.id());
  *update.mutable_task()->mutable_metadata() = metadata;
  v1::Task updated;
  ASSERT_THAT(Call(&Stub::UpdateTask, update, &updated), GrpcOk());
  EXPECT_THAT(updated.metadata(), EqualsProto(metadata));

  v1::ListTasksRequest filter;
  filter.set_metadata_key(metadata.fields().begin()->first);
  *filter.mutable_metadata_value() = metadata.fields().begin()->second;
  std::vector<v1::Task> found = ListAllTasks(filter);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_THAT(found[0], EqualsProto(updated));
  EXPECT_THAT(found[1], EqualsProto(created));

  v1::BatchCreateTasksRequest batch;
  *batch.add_requests() = create;
  batch.mutable_requests(0)->mutable_task()->set_title(
      absl::StrCat(label, " in a batch"));
  v1::BatchCreateTasksResponse batched;
  ASSERT_THAT(Call(&Stub::BatchCreateTasks, batch, &batched), GrpcOk());
  EXPECT_THAT(batched.tasks(0).metadata(), EqualsProto(metadata));
  for (int64_t id : {task.id(), created.id(), batched.tasks(0).id()}) {
    v1::DeleteTaskRequest remove;
    remove.set_id(id);
    EXPECT_THAT(Call(&Stub::DeleteTask, remove), GrpcOk());
  }
}

void BadInputTest::ExpectMetadataRefused(
    const google::protobuf::Struct& metadata, absl::string_view what) {
  v1::CreateTaskRequest create;
  create.mutable_task()->set_title("refused metadata");
  *create.mutable_task()->mutable_metadata() = metadata;
  ExpectRefused([&] { return Call(&Stub::CreateTask, create); },
                GrpcInvalidField("task.metadata", reason::kInvalidArgument),
                absl::StrCat("CreateTask ", what));
  v1::UpdateTaskRequest update;
  update.mutable_task()->set_id(seed_task_.id());
  *update.mutable_task()->mutable_metadata() = metadata;
  ExpectRefused([&] { return Call(&Stub::UpdateTask, update); },
                GrpcInvalidField("task.metadata", reason::kInvalidArgument),
                absl::StrCat("UpdateTask ", what));
}

DatabaseSnapshot BadInputTest::TakeSnapshot() {
  DatabaseSnapshot snapshot;
  v1::ListProjectsRequest projects;
  projects.set_page_size(1000);
  for (int pages = 0; pages < 10000; ++pages) {
    v1::ListProjectsResponse page;
    grpc::Status status = Call(&Stub::ListProjects, projects, &page);
    EXPECT_THAT(status, GrpcOk()) << "listing projects for a snapshot";
    if (!status.ok()) break;
    for (v1::Project& project : *page.mutable_projects()) {
      *snapshot.projects.add_projects() = std::move(project);
    }
    if (page.next_page_token().empty()) break;
    projects.set_page_token(page.next_page_token());
  }
  v1::ListTasksRequest tasks;
  tasks.set_page_size(1000);
  for (v1::Task& task : ListAllTasks(tasks)) {
    *snapshot.tasks.add_tasks() = std::move(task);
  }
  absl::StatusOr<std::string> fingerprint = RawSql(kFingerprintSql);
  EXPECT_TRUE(fingerprint.ok()) << fingerprint.status();
  if (fingerprint.ok()) snapshot.fingerprint = *fingerprint;
  return snapshot;
}

void BadInputTest::ExpectUnchanged(const DatabaseSnapshot& before,
                                   absl::string_view what) {
  const DatabaseSnapshot after = TakeSnapshot();
  EXPECT_THAT(after.projects, EqualsProto(before.projects))
      << "projects changed by " << what;
  EXPECT_THAT(after.tasks, EqualsProto(before.tasks))
      << "tasks changed by " << what;
  EXPECT_EQ(after.fingerprint, before.fingerprint)
      << "rows changed by " << what;
}

absl::StatusOr<std::string> BadInputTest::RawSql(const std::string& sql) const {
  return ::tasks::testing::QueryRawSql(backend(), connection_, sql);
}

std::string BadInputTest::StoredHex(absl::string_view table,
                                    absl::string_view column,
                                    int64_t id) const {
  const std::string bytes =
      backend() == StoreBackend::kSqlite
          ? absl::StrCat("lower(hex(CAST(", column, " AS BLOB)))")
          : absl::StrCat("encode(convert_to(", column, ", 'UTF8'), 'hex')");
  absl::StatusOr<std::string> hex = RawSql(
      absl::StrCat("SELECT ", bytes, " FROM ", table, " WHERE id = ", id));
  EXPECT_TRUE(hex.ok()) << hex.status();
  return hex.ok() ? *hex : "";
}

INSTANTIATE_TEST_SUITE_P(
    Backends, BadInputTest,
    ::testing::ValuesIn(::tasks::testing::SelectedStoreBackends()),
    [](const ::testing::TestParamInfo<StoreBackend>& info) {
      return ::tasks::testing::StoreBackendName(info.param);
    });

}  // namespace tasks::service
