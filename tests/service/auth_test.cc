// Bearer-token authentication and per-project authorization: the tokens file
// format, constant-time comparison, and every TaskService method through a
// real (in-process) channel to a TaskServer on in-memory SQLite with auth on,
// each refusal with its exact status code and reason, the data read back
// unchanged. Health and reflection stay open.

#include "service/auth.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/client_unary_call.h>
#include <grpcpp/impl/codegen/sync_stream.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "service/server.h"
#include "storage/soci_task_store.h"
#include "tasks/v1/tasks.grpc.pb.h"
#include "tests/service/service_test_fixture.h"
#include "tests/testing/grpc_status_matchers.h"
#include "tests/testing/mock_task_store.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/stderr_capture.h"

namespace tasks::service {
namespace {

using ::google::protobuf::Empty;
using ::tasks::testing::DescribeGrpcStatus;
using ::tasks::testing::GrpcErrorIs;
using ::tasks::testing::GrpcOk;
using ::tasks::testing::MockTaskStore;
using ::tasks::testing::StatusIs;
using ::testing::_;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Invoke;
using ::testing::IsEmpty;
using ::testing::NiceMock;
using ::testing::Not;
using ::testing::Property;
using ::testing::UnorderedElementsAre;
using Code = ::grpc::StatusCode;

constexpr char kAdminToken[] = "admin-token-0123456789";
constexpr char kBlueToken[] = "blue-token-abcdefghijk";
constexpr char kRedToken[] = "red-token-lmnopqrstuvw";
constexpr char kNobodyToken[] = "nobody-token-0000000000";
constexpr char kUnknownToken[] = "unknown-token-99999999";

// Projects 1 and 3 are blue's, 2 is red's; the fixture creates 1, 2, 3 in
// that order.
constexpr int64_t kBlueProject = 1;
constexpr int64_t kRedProject = 2;
constexpr int64_t kOtherBlueProject = 3;

// `blue_projects` as the tokens file spells them.
std::string TokensFile(const std::string& blue_projects = "1,3") {
  return absl::StrCat("# test tokens\n", kAdminToken, "  admin  *\n",
                      kBlueToken, "\tblue\t", blue_projects, "\n\n",
                      kNobodyToken, " nobody 999\n", kRedToken, " red 2\n");
}

// ---------------------------------------------------------------------------
// The tokens file and the token table.

TEST(TokenTableTest, ParsesTokensPrincipalsAndProjects) {
  ASSERT_OK_AND_ASSIGN(TokenTable table, TokenTable::Parse(TokensFile()));
  EXPECT_EQ(table.size(), 4);

  const Principal* admin = table.Find(kAdminToken);
  ASSERT_NE(admin, nullptr);
  EXPECT_EQ(admin->name(), "admin");
  EXPECT_TRUE(admin->all_projects());

  const Principal* blue = table.Find(kBlueToken);
  ASSERT_NE(blue, nullptr);
  EXPECT_EQ(blue->name(), "blue");
  EXPECT_FALSE(blue->all_projects());
  EXPECT_THAT(blue->project_ids(), ElementsAre(1, 3));

  EXPECT_EQ(table.Find(kUnknownToken), nullptr);
  EXPECT_EQ(table.Find(""), nullptr);
  // A prefix or an extension of a token is another token.
  EXPECT_EQ(table.Find(std::string(kBlueToken).substr(1)), nullptr);
  EXPECT_EQ(table.Find(absl::StrCat(kBlueToken, "x")), nullptr);
}

TEST(TokenTableTest, OnePrincipalMayHaveSeveralTokens) {
  ASSERT_OK_AND_ASSIGN(TokenTable table,
                       TokenTable::Parse("old-token-000000000000 ci 5\n"
                                         "new-token-000000000000 ci 5,6\n"));
  ASSERT_NE(table.Find("old-token-000000000000"), nullptr);
  ASSERT_NE(table.Find("new-token-000000000000"), nullptr);
  EXPECT_THAT(table.Find("new-token-000000000000")->project_ids(),
              ElementsAre(5, 6));
}

TEST(TokenTableTest, BadLinesAreInvalidArgumentNamingTheLineButNotTheToken) {
  const std::string token = "secret-token-0123456789";
  const struct {
    std::string line;
    std::string message;
  } kCases[] = {
      {token + " alice", "want 3 fields"},
      {token + " alice 1 extra", "want 3 fields"},
      {"short-token alice *", "shorter than 16 characters"},
      {"secret-token-01234567\"89 alice *", "characters a bearer token cannot"},
      {"=================== alice *", "characters a bearer token cannot"},
      {token + " al!ce *", "principal \"al!ce\""},
      {token + " alice 1,x", "comma-separated positive ids"},
      {token + " alice 0", "comma-separated positive ids"},
      {token + " alice -4", "comma-separated positive ids"},
      {token + " alice 1,,2", "comma-separated positive ids"},
      {token + " alice 99999999999999999999", "comma-separated positive ids"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.line);
    absl::StatusOr<TokenTable> table =
        TokenTable::Parse(absl::StrCat("# first line\n\n", c.line, "\n"));
    EXPECT_THAT(table.status(), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("tokens file line 3: ")));
    EXPECT_THAT(table.status().message(), HasSubstr(c.message));
    EXPECT_THAT(table.status().message(), Not(HasSubstr(token)));
  }
}

TEST(TokenTableTest, RepeatedTokenIsInvalidArgument) {
  EXPECT_THAT(TokenTable::Parse("same-token-0000000000 a *\n"
                                "same-token-0000000000 b 1\n")
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("line 2: the token is already used")));
}

TEST(TokenTableTest, FileWithoutTokensIsInvalidArgument) {
  EXPECT_THAT(TokenTable::Parse("").status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("defines no token")));
  EXPECT_THAT(TokenTable::Parse("# only\n   \n# comments\n").status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("defines no token")));
}

TEST(TokenTableTest, UnreadableFileIsInvalidArgumentNamingIt) {
  EXPECT_THAT(TokenTable::Load("/nonexistent/tokens").status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("/nonexistent/tokens"),
                             HasSubstr("No such file"))));
}

TEST(TokensEqualTest, EqualOnlyForTheSameBytes) {
  EXPECT_TRUE(TokensEqual("", ""));
  EXPECT_TRUE(TokensEqual(kBlueToken, kBlueToken));
  EXPECT_TRUE(TokensEqual(std::string("a\0b", 3), std::string("a\0b", 3)));
  EXPECT_FALSE(TokensEqual(kBlueToken, kAdminToken));
  EXPECT_FALSE(TokensEqual("abc", "abd"));   // Last byte differs.
  EXPECT_FALSE(TokensEqual("xbc", "abc"));   // First byte differs.
  EXPECT_FALSE(TokensEqual("abc", "abcd"));  // Prefix.
  EXPECT_FALSE(TokensEqual("", "a"));
  EXPECT_FALSE(TokensEqual(std::string("a\0b", 3), std::string("a\0c", 3)));
  EXPECT_FALSE(TokensEqual("Token", "token"));
}

TEST(TokenTableTest, AuthenticateNeedsOneBearerAuthorization) {
  ASSERT_OK_AND_ASSIGN(TokenTable table, TokenTable::Parse(TokensFile()));
  using Metadata = TokenTable::Metadata;
  auto authenticate =
      [&](std::vector<std::pair<std::string, std::string>> entries) {
        Metadata metadata;
        for (const auto& [key, value] : entries) {
          metadata.emplace(grpc::string_ref(key), grpc::string_ref(value));
        }
        return table.Authenticate(metadata);
      };
  const std::string bearer = absl::StrCat("Bearer ", kBlueToken);

  const std::vector<std::vector<std::pair<std::string, std::string>>>
      kAccepted = {
          {{"authorization", bearer}},
          {{"authorization", absl::StrCat("bEaReR ", kBlueToken)}},
          {{"authorization", bearer}, {"x-other", "value"}},
      };
  for (const auto& entries : kAccepted) {
    ASSERT_OK_AND_ASSIGN(const Principal* blue, authenticate(entries));
    EXPECT_EQ(blue->name(), "blue");
  }

  const std::vector<std::vector<std::pair<std::string, std::string>>> kRefused =
      {
          {},
          {{"x-token", kBlueToken}},
          {{"authorization", kBlueToken}},
          {{"authorization", absl::StrCat("Basic ", kBlueToken)}},
          {{"authorization", "Bearer "}},
          {{"authorization", absl::StrCat("Bearer ", kUnknownToken)}},
          {{"authorization", bearer}, {"authorization", bearer}},
      };
  for (const auto& entries : kRefused) {
    absl::StatusOr<const Principal*> caller = authenticate(entries);
    EXPECT_THAT(caller.status(), StatusIs(absl::StatusCode::kUnauthenticated));
    EXPECT_EQ(ErrorReason(caller.status()), reason::kUnauthenticated);
    EXPECT_THAT(caller.status().message(), Not(HasSubstr(kBlueToken)));
    EXPECT_THAT(caller.status().message(), Not(HasSubstr(kUnknownToken)));
  }
}

TEST(PrincipalTest, RestrictedPrincipalMayUseOnlyItsProjects) {
  const Principal blue = Principal::Restricted("blue", {3, 1, 3});
  EXPECT_THAT(blue.project_ids(), ElementsAre(1, 3));
  EXPECT_OK(blue.CheckProject(1));
  EXPECT_OK(blue.CheckProject(3));
  absl::Status denied = blue.CheckProject(2);
  EXPECT_THAT(denied, StatusIs(absl::StatusCode::kPermissionDenied,
                               HasSubstr("may not use project 2")));
  EXPECT_EQ(ErrorReason(denied), reason::kPermissionDenied);
  EXPECT_THAT(blue.CheckAllProjects("create projects"),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("principal \"blue\" may not create projects: "
                                 "that needs access to every project")));

  const Principal admin = Principal::Unrestricted("admin");
  EXPECT_OK(admin.CheckProject(2));
  EXPECT_OK(admin.CheckAllProjects("create projects"));
}

// ---------------------------------------------------------------------------
// The service with authentication on.

class AuthServiceTest : public TaskServerTest<> {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(StartServer(OpenStore(), TokensFile()));
    ASSERT_NO_FATAL_FAILURE(MakeProjectsAndTasks());
  }

  // Serves the store of `open_store` with the tokens file `tokens_file`, in
  // place of the server running so far.
  void StartServer(StoreFactory open_store, const std::string& tokens_file) {
    absl::StatusOr<TokenTable> tokens = TokenTable::Parse(tokens_file);
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    ServerConfig config;
    config.open_store = std::move(open_store);
    config.auth_tokens = std::make_shared<const TokenTable>(*std::move(tokens));
    TaskServerTest::StartServer(std::move(config));
  }

  // Projects 1, 2, 3 and a task in each of the first two and in none.
  void MakeProjectsAndTasks() {
    ASSERT_EQ(MakeProject("blue"), kBlueProject);
    ASSERT_EQ(MakeProject("red"), kRedProject);
    ASSERT_EQ(MakeProject("blue too"), kOtherBlueProject);
    blue_task_ = MakeTask(kAdminToken, TaskIn(kBlueProject, "blue task"));
    red_task_ = MakeTask(kAdminToken, TaskIn(kRedProject, "red task"));
    loose_task_ = MakeTask(kAdminToken, Task("task without a project"));
  }

  // The server's store: in-memory SQLite.
  virtual StoreFactory OpenStore() { return InMemorySqliteStore(); }

  static v1::Task Task(const std::string& title) {
    v1::Task task;
    task.set_title(title);
    return task;
  }

  static v1::Task TaskIn(int64_t project_id, const std::string& title) {
    v1::Task task = Task(title);
    task.set_project_id(project_id);
    return task;
  }

  int64_t MakeProject(const std::string& name) {
    v1::CreateProjectRequest request;
    request.mutable_project()->set_name(name);
    v1::Project project;
    EXPECT_THAT(Call(kAdminToken, &Stub::CreateProject, request, &project),
                GrpcOk());
    return project.id();
  }

  v1::Task MakeTask(const std::string& token, const v1::Task& task,
                    const std::string& request_id = "") {
    v1::CreateTaskRequest request;
    *request.mutable_task() = task;
    request.set_request_id(request_id);
    v1::Task created;
    EXPECT_THAT(Call(token, &Stub::CreateTask, request, &created), GrpcOk());
    return created;
  }

  // CreateTask of `task` with `request_id` as `token`.
  grpc::Status CreateTask(const std::string& token, const v1::Task& task,
                          const std::string& request_id,
                          v1::Task* created = nullptr) {
    v1::CreateTaskRequest request;
    *request.mutable_task() = task;
    request.set_request_id(request_id);
    return Call(token, &Stub::CreateTask, request, created);
  }

  // Task `id` as the admin sees it.
  v1::Task AdminGetTask(int64_t id) {
    v1::GetTaskRequest request;
    request.set_id(id);
    v1::Task task;
    EXPECT_THAT(Call(kAdminToken, &Stub::GetTask, request, &task), GrpcOk());
    return task;
  }

  grpc::Status GetProject(const std::string& token, int64_t id) {
    v1::GetProjectRequest request;
    request.set_id(id);
    return Call(token, &Stub::GetProject, request);
  }

  grpc::Status GetTask(const std::string& token, int64_t id) {
    v1::GetTaskRequest request;
    request.set_id(id);
    return Call(token, &Stub::GetTask, request);
  }

  grpc::Status UpdateTask(const std::string& token, const v1::Task& task,
                          std::vector<std::string> paths,
                          v1::Task* updated = nullptr) {
    v1::UpdateTaskRequest request;
    *request.mutable_task() = task;
    for (const std::string& path : paths) {
      request.mutable_update_mask()->add_paths(path);
    }
    v1::Task response;
    grpc::Status status = Call(token, &Stub::UpdateTask, request, &response);
    if (updated != nullptr) *updated = response;
    return status;
  }

  grpc::Status DeleteTask(const std::string& token, int64_t id) {
    v1::DeleteTaskRequest request;
    request.set_id(id);
    return Call(token, &Stub::DeleteTask, request);
  }

  // Every project id of a full ListProjects as `token`, in pages of
  // `page_size`.
  std::vector<int64_t> ListedProjects(const std::string& token, int page_size) {
    std::vector<int64_t> ids;
    v1::ListProjectsRequest request;
    request.set_page_size(page_size);
    do {
      v1::ListProjectsResponse response;
      EXPECT_THAT(Call(token, &Stub::ListProjects, request, &response),
                  GrpcOk());
      for (const v1::Project& project : response.projects()) {
        ids.push_back(project.id());
      }
      request.set_page_token(response.next_page_token());
    } while (!request.page_token().empty());
    return ids;
  }

  // Every task title of a full ListTasks as `token`, in pages of `page_size`.
  std::vector<std::string> ListedTasks(const std::string& token,
                                       int page_size) {
    std::vector<std::string> titles;
    v1::ListTasksRequest request;
    request.set_page_size(page_size);
    do {
      v1::ListTasksResponse response;
      EXPECT_THAT(Call(token, &Stub::ListTasks, request, &response), GrpcOk());
      for (const v1::Task& task : response.tasks()) {
        titles.push_back(task.title());
      }
      request.set_page_token(response.next_page_token());
    } while (!request.page_token().empty());
    return titles;
  }

  // One call of each TaskService method, on resources the token would be
  // allowed to use, so only authentication can refuse it.
  using MethodCall = std::function<grpc::Status(const std::string& token)>;
  std::vector<std::pair<std::string, MethodCall>> EveryMethod() {
    return {
        {"CreateProject",
         [this](const std::string& token) {
           v1::CreateProjectRequest request;
           request.mutable_project()->set_name("new");
           return Call(token, &Stub::CreateProject, request);
         }},
        {"GetProject",
         [this](const std::string& token) {
           return GetProject(token, kBlueProject);
         }},
        {"ListProjects",
         [this](const std::string& token) {
           return Call(token, &Stub::ListProjects, v1::ListProjectsRequest());
         }},
        {"UpdateProject",
         [this](const std::string& token) {
           v1::UpdateProjectRequest request;
           request.mutable_project()->set_id(kBlueProject);
           request.mutable_project()->set_description("changed");
           return Call(token, &Stub::UpdateProject, request);
         }},
        {"DeleteProject",
         [this](const std::string& token) {
           v1::DeleteProjectRequest request;
           request.set_id(kOtherBlueProject);
           return Call(token, &Stub::DeleteProject, request);
         }},
        {"CreateTask",
         [this](const std::string& token) {
           v1::CreateTaskRequest request;
           *request.mutable_task() = TaskIn(kBlueProject, "new");
           return Call(token, &Stub::CreateTask, request);
         }},
        {"BatchCreateTasks",
         [this](const std::string& token) {
           v1::BatchCreateTasksRequest request;
           *request.add_requests()->mutable_task() =
               TaskIn(kBlueProject, "batch");
           return Call(token, &Stub::BatchCreateTasks, request);
         }},
        {"GetTask",
         [this](const std::string& token) {
           return GetTask(token, blue_task_.id());
         }},
        {"ListTasks",
         [this](const std::string& token) {
           return Call(token, &Stub::ListTasks, v1::ListTasksRequest());
         }},
        {"UpdateTask",
         [this](const std::string& token) {
           v1::Task task;
           task.set_id(blue_task_.id());
           task.set_description("changed");
           return UpdateTask(token, task, {"description"});
         }},
        {"DeleteTask",
         [this](const std::string& token) {
           return DeleteTask(token, blue_task_.id());
         }},
    };
  }

  v1::Task blue_task_;
  v1::Task red_task_;
  v1::Task loose_task_;
};

TEST_F(AuthServiceTest, EveryMethodWithoutTokenIsUnauthenticated) {
  for (const auto& [name, call] : EveryMethod()) {
    SCOPED_TRACE(name);
    EXPECT_THAT(call(""),
                GrpcErrorIs(Code::UNAUTHENTICATED, reason::kUnauthenticated));
  }
}

TEST_F(AuthServiceTest, EveryMethodWithUnknownTokenIsUnauthenticated) {
  for (const auto& [name, call] : EveryMethod()) {
    SCOPED_TRACE(name);
    grpc::Status status = call(kUnknownToken);
    EXPECT_THAT(status,
                GrpcErrorIs(Code::UNAUTHENTICATED, reason::kUnauthenticated));
    EXPECT_THAT(status.error_message(), Not(HasSubstr(kUnknownToken)));
  }
}

TEST_F(AuthServiceTest, EveryMethodWithAdminTokenSucceeds) {
  // In this order each call finds what it needs (DeleteTask comes after the
  // task's other uses; DeleteProject removes an empty project).
  for (const auto& [name, call] : EveryMethod()) {
    SCOPED_TRACE(name);
    EXPECT_THAT(call(kAdminToken), GrpcOk());
  }
}

TEST_F(AuthServiceTest, UnauthenticatedRequestIsRefusedBeforeValidation) {
  v1::CreateTaskRequest blank;  // Invalid: no title.
  EXPECT_THAT(Call("", &Stub::CreateTask, blank),
              GrpcErrorIs(Code::UNAUTHENTICATED, reason::kUnauthenticated));
}

TEST_F(AuthServiceTest, NonBearerAuthorizationIsUnauthenticated) {
  grpc::ClientContext context;
  context.AddMetadata("authorization", absl::StrCat("Basic ", kAdminToken));
  v1::GetProjectRequest request;
  request.set_id(kBlueProject);
  v1::Project project;
  EXPECT_THAT(stub_->GetProject(&context, request, &project),
              GrpcErrorIs(Code::UNAUTHENTICATED, reason::kUnauthenticated));
}

TEST_F(AuthServiceTest, ProjectOfAnotherPrincipalIsPermissionDenied) {
  EXPECT_THAT(GetProject(kBlueToken, kBlueProject), GrpcOk());
  EXPECT_THAT(GetProject(kBlueToken, kOtherBlueProject), GrpcOk());
  EXPECT_THAT(GetProject(kBlueToken, kRedProject),
              GrpcErrorIs(Code::PERMISSION_DENIED, reason::kPermissionDenied));
  // A project that does not exist is no different: its existence stays
  // unknown to the principal.
  EXPECT_THAT(GetProject(kBlueToken, 12345),
              GrpcErrorIs(Code::PERMISSION_DENIED, reason::kPermissionDenied));
  EXPECT_THAT(GetProject(kNobodyToken, kBlueProject),
              GrpcErrorIs(Code::PERMISSION_DENIED, reason::kPermissionDenied));
}

TEST_F(AuthServiceTest,
       UpdateAndDeleteOfForbiddenProjectAreDeniedAndChangeNothing) {
  v1::UpdateProjectRequest update;
  update.mutable_project()->set_id(kRedProject);
  update.mutable_project()->set_name("taken over");
  EXPECT_THAT(Call(kBlueToken, &Stub::UpdateProject, update),
              GrpcErrorIs(Code::PERMISSION_DENIED, reason::kPermissionDenied));

  v1::DeleteProjectRequest remove;
  remove.set_id(kRedProject);
  remove.set_force(true);
  EXPECT_THAT(Call(kBlueToken, &Stub::DeleteProject, remove),
              GrpcErrorIs(Code::PERMISSION_DENIED, reason::kPermissionDenied));

  v1::GetProjectRequest get;
  get.set_id(kRedProject);
  v1::Project red;
  ASSERT_THAT(Call(kAdminToken, &Stub::GetProject, get, &red), GrpcOk());
  EXPECT_EQ(red.name(), "red");
  EXPECT_EQ(AdminGetTask(red_task_.id()).title(), "red task");
}

TEST_F(AuthServiceTest, UpdateAndDeleteOfOwnProjectSucceed) {
  v1::UpdateProjectRequest update;
  update.mutable_project()->set_id(kOtherBlueProject);
  update.mutable_project()->set_name("renamed");
  EXPECT_THAT(Call(kBlueToken, &Stub::UpdateProject, update), GrpcOk());
  v1::DeleteProjectRequest remove;
  remove.set_id(kOtherBlueProject);
  EXPECT_THAT(Call(kBlueToken, &Stub::DeleteProject, remove), GrpcOk());
}

TEST_F(AuthServiceTest, CreateProjectNeedsEveryProject) {
  v1::CreateProjectRequest request;
  request.mutable_project()->set_name("mine");
  EXPECT_THAT(Call(kBlueToken, &Stub::CreateProject, request),
              GrpcErrorIs(Code::PERMISSION_DENIED, reason::kPermissionDenied));
  EXPECT_THAT(ListedProjects(kAdminToken, 50),
              ElementsAre(kBlueProject, kRedProject, kOtherBlueProject));
}

TEST_F(AuthServiceTest, CreateTaskOnlyInAllowedProjects) {
  v1::CreateTaskRequest request;
  *request.mutable_task() = TaskIn(kBlueProject, "allowed");
  EXPECT_THAT(Call(kBlueToken, &Stub::CreateTask, request), GrpcOk());

  *request.mutable_task() = TaskIn(kRedProject, "planted");
  EXPECT_THAT(Call(kBlueToken, &Stub::CreateTask, request),
              GrpcErrorIs(Code::PERMISSION_DENIED, reason::kPermissionDenied));

  *request.mutable_task() = Task("loose");
  EXPECT_THAT(Call(kBlueToken, &Stub::CreateTask, request),
              GrpcErrorIs(Code::PERMISSION_DENIED, reason::kPermissionDenied));
  EXPECT_THAT(Call(kAdminToken, &Stub::CreateTask, request), GrpcOk());

  EXPECT_THAT(
      ListedTasks(kAdminToken, 50),
      UnorderedElementsAre("blue task", "red task", "task without a project",
                           "allowed", "loose"));
}

TEST_F(AuthServiceTest, BatchWithOneForbiddenProjectIsDeniedAndCreatesNothing) {
  v1::BatchCreateTasksRequest request;
  *request.add_requests()->mutable_task() = TaskIn(kBlueProject, "one");
  *request.add_requests()->mutable_task() = TaskIn(kRedProject, "two");
  EXPECT_THAT(Call(kBlueToken, &Stub::BatchCreateTasks, request),
              GrpcErrorIs(Code::PERMISSION_DENIED, reason::kPermissionDenied));
  EXPECT_THAT(
      ListedTasks(kAdminToken, 50),
      UnorderedElementsAre("blue task", "red task", "task without a project"));
}

// A task the principal may not use is answered exactly like one that does not
// exist: the answer must not tell "elsewhere" from "nowhere".
TEST_F(AuthServiceTest, TaskOutsideOwnProjectsIsNotFoundLikeAMissingOne) {
  EXPECT_THAT(GetTask(kBlueToken, blue_task_.id()), GrpcOk());
  constexpr int64_t kMissing = 9999;
  const struct {
    const char* what;
    int64_t id;
  } kCases[] = {{"in another project", red_task_.id()},
                {"in no project", loose_task_.id()},
                {"missing", kMissing}};
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.what);
    const auto not_found =
        AllOf(GrpcErrorIs(Code::NOT_FOUND, reason::kTaskNotFound),
              Property(&grpc::Status::error_message,
                       absl::StrCat("task ", c.id, " not found")));
    v1::Task change;
    change.set_id(c.id);
    change.set_title("hijacked");
    const grpc::Status get = GetTask(kBlueToken, c.id);
    EXPECT_THAT(get, not_found);
    EXPECT_THAT(UpdateTask(kBlueToken, change, {"title"}), not_found);
    // A client etag must not turn the answer into ABORTED.
    change.set_etag(red_task_.etag());
    EXPECT_THAT(UpdateTask(kBlueToken, change, {"title"}), not_found);
    EXPECT_THAT(DeleteTask(kBlueToken, c.id), not_found);
    std::cerr << "GetTask of a task " << c.what << ": " << get.error_code()
              << " \"" << get.error_message() << "\"\n";
  }

  const v1::Task red = AdminGetTask(red_task_.id());
  EXPECT_EQ(red.title(), "red task");
  EXPECT_EQ(red.etag(), red_task_.etag());
  EXPECT_EQ(AdminGetTask(loose_task_.id()).etag(), loose_task_.etag());
}

TEST_F(AuthServiceTest, MovingTaskIntoForbiddenProjectIsDenied) {
  v1::Task move;
  move.set_id(blue_task_.id());
  move.set_project_id(kRedProject);
  EXPECT_THAT(UpdateTask(kBlueToken, move, {"project_id"}),
              GrpcErrorIs(Code::PERMISSION_DENIED, reason::kPermissionDenied));
  // Clearing the project makes it a task without one: also denied.
  v1::Task detach;
  detach.set_id(blue_task_.id());
  EXPECT_THAT(UpdateTask(kBlueToken, detach, {"project_id"}),
              GrpcErrorIs(Code::PERMISSION_DENIED, reason::kPermissionDenied));
  EXPECT_EQ(AdminGetTask(blue_task_.id()).project_id(), kBlueProject);

  move.set_project_id(kOtherBlueProject);
  v1::Task moved;
  EXPECT_THAT(UpdateTask(kBlueToken, move, {"project_id"}, &moved), GrpcOk());
  EXPECT_EQ(moved.project_id(), kOtherBlueProject);
}

TEST_F(AuthServiceTest, RestrictedUpdateWithoutEtagUpdatesAndChangesEtag) {
  v1::Task change;
  change.set_id(blue_task_.id());
  change.set_description("done by blue");
  v1::Task updated;
  ASSERT_THAT(UpdateTask(kBlueToken, change, {"description"}, &updated),
              GrpcOk());
  EXPECT_EQ(updated.description(), "done by blue");
  EXPECT_NE(updated.etag(), blue_task_.etag());

  // With a stale etag of its own the client still gets ABORTED.
  change.set_etag(blue_task_.etag());
  EXPECT_THAT(UpdateTask(kBlueToken, change, {"description"}),
              GrpcErrorIs(Code::ABORTED, reason::kEtagMismatch));
}

TEST_F(AuthServiceTest, DeleteTaskInOwnProjectSucceeds) {
  EXPECT_THAT(DeleteTask(kBlueToken, blue_task_.id()), GrpcOk());
  EXPECT_THAT(GetTask(kAdminToken, blue_task_.id()),
              GrpcErrorIs(Code::NOT_FOUND, reason::kTaskNotFound));
}

TEST_F(AuthServiceTest, ListProjectsReturnsOnlyAllowedProjectsOnEveryPage) {
  EXPECT_THAT(ListedProjects(kBlueToken, 50),
              ElementsAre(kBlueProject, kOtherBlueProject));
  EXPECT_THAT(ListedProjects(kBlueToken, 1),
              ElementsAre(kBlueProject, kOtherBlueProject));
  EXPECT_THAT(ListedProjects(kNobodyToken, 50), IsEmpty());
  EXPECT_THAT(ListedProjects(kAdminToken, 1),
              ElementsAre(kBlueProject, kRedProject, kOtherBlueProject));
}

TEST_F(AuthServiceTest, ListTasksReturnsOnlyTasksOfAllowedProjects) {
  MakeTask(kAdminToken, TaskIn(kOtherBlueProject, "second blue task"));
  MakeTask(kAdminToken, TaskIn(kRedProject, "second red task"));
  EXPECT_THAT(ListedTasks(kBlueToken, 50),
              UnorderedElementsAre("blue task", "second blue task"));
  EXPECT_THAT(ListedTasks(kBlueToken, 1),
              UnorderedElementsAre("blue task", "second blue task"));
  EXPECT_THAT(ListedTasks(kNobodyToken, 50), IsEmpty());
  EXPECT_THAT(
      ListedTasks(kAdminToken, 2),
      UnorderedElementsAre("blue task", "red task", "task without a project",
                           "second blue task", "second red task"));
}

TEST_F(AuthServiceTest, ListTasksFilteredByForbiddenProjectIsDenied) {
  v1::ListTasksRequest request;
  request.set_project_id(kRedProject);
  EXPECT_THAT(Call(kBlueToken, &Stub::ListTasks, request),
              GrpcErrorIs(Code::PERMISSION_DENIED, reason::kPermissionDenied));
  request.set_project_id(kBlueProject);
  v1::ListTasksResponse response;
  EXPECT_THAT(Call(kBlueToken, &Stub::ListTasks, request, &response), GrpcOk());
  ASSERT_EQ(response.tasks_size(), 1);
  EXPECT_EQ(response.tasks(0).title(), "blue task");
}

TEST_F(AuthServiceTest, PageTokenOfAdminListDoesNotWidenRestrictedList) {
  v1::ListTasksRequest request;
  request.set_page_size(1);
  v1::ListTasksResponse admin_page;
  ASSERT_THAT(Call(kAdminToken, &Stub::ListTasks, request, &admin_page),
              GrpcOk());
  ASSERT_FALSE(admin_page.next_page_token().empty());
  request.set_page_token(admin_page.next_page_token());
  v1::ListTasksResponse blue_page;
  grpc::Status status = Call(kBlueToken, &Stub::ListTasks, request, &blue_page);
  if (status.ok()) {
    for (const v1::Task& task : blue_page.tasks()) {
      EXPECT_EQ(task.project_id(), kBlueProject) << task.title();
    }
  } else {
    EXPECT_THAT(status,
                GrpcErrorIs(Code::INVALID_ARGUMENT, reason::kInvalidPageToken));
  }
}

// ---------------------------------------------------------------------------
// request_id: each principal's keys are its own, and a replay never returns a
// task the caller may not read.

// The attack of issue 9: red creates a task with request_id "req-42"; blue
// sends a create of its own with that key and must get a new task of its own,
// never red's.
TEST_F(AuthServiceTest, RequestIdUsedByAnotherPrincipalCreatesTheCallersOwn) {
  v1::Task secret = TaskIn(kRedProject, "red secret");
  secret.set_description("red's plans");
  (*secret.mutable_metadata()->mutable_fields())["budget"].set_number_value(7);
  const v1::Task red = MakeTask(kRedToken, secret, "req-42");
  const v1::Task red_other =
      MakeTask(kRedToken, TaskIn(kRedProject, "red other"), "req-43");

  v1::Task blue;
  EXPECT_THAT(
      CreateTask(kBlueToken, TaskIn(kBlueProject, "x"), "req-42", &blue),
      GrpcOk());
  std::cout << "FIGURE blue's CreateTask with red's request_id: task "
            << blue.id() << " in project " << blue.project_id() << " titled \""
            << blue.title() << "\" (red's task: " << red.id() << ")\n";
  EXPECT_NE(blue.id(), red.id());
  EXPECT_EQ(blue.project_id(), kBlueProject);
  EXPECT_EQ(blue.title(), "x");
  EXPECT_EQ(blue.description(), "");
  EXPECT_EQ(blue.metadata().fields_size(), 0);

  // Each principal's retry replays its own task.
  v1::Task again;
  EXPECT_THAT(
      CreateTask(kBlueToken, TaskIn(kBlueProject, "x"), "req-42", &again),
      GrpcOk());
  EXPECT_EQ(again.id(), blue.id());
  EXPECT_THAT(CreateTask(kRedToken, secret, "req-42", &again), GrpcOk());
  EXPECT_EQ(again.id(), red.id());

  // BatchCreateTasks keeps the keys apart the same way.
  v1::BatchCreateTasksRequest batch;
  v1::CreateTaskRequest* item = batch.add_requests();
  *item->mutable_task() = TaskIn(kBlueProject, "y");
  item->set_request_id("req-43");
  v1::BatchCreateTasksResponse created;
  ASSERT_THAT(Call(kBlueToken, &Stub::BatchCreateTasks, batch, &created),
              GrpcOk());
  ASSERT_EQ(created.tasks_size(), 1);
  std::cout << "FIGURE blue's BatchCreateTasks with red's request_id: task "
            << created.tasks(0).id() << " in project "
            << created.tasks(0).project_id()
            << " (red's task: " << red_other.id() << ")\n";
  EXPECT_NE(created.tasks(0).id(), red_other.id());
  EXPECT_EQ(created.tasks(0).project_id(), kBlueProject);
  EXPECT_EQ(created.tasks(0).title(), "y");
  EXPECT_EQ(AdminGetTask(red.id()).title(), "red secret");
}

TEST_F(AuthServiceTest,
       ReplayOfTaskMovedOutOfReachIsNotFoundAndRevealsNothing) {
  const v1::Task mine =
      MakeTask(kBlueToken, TaskIn(kBlueProject, "mine"), "req-moved");
  v1::Task move;
  move.set_id(mine.id());
  move.set_project_id(kRedProject);
  ASSERT_THAT(UpdateTask(kAdminToken, move, {"project_id"}), GrpcOk());

  v1::Task replayed;
  const grpc::Status status = CreateTask(
      kBlueToken, TaskIn(kBlueProject, "mine"), "req-moved", &replayed);
  std::cout << "FIGURE replay of a task moved to red's project: "
            << ::tasks::testing::DescribeGrpcStatus(status) << ", task "
            << replayed.id() << " in project " << replayed.project_id() << "\n";
  EXPECT_THAT(status, GrpcErrorIs(Code::NOT_FOUND, reason::kTaskNotFound));
  EXPECT_FALSE(replayed.has_project_id());
  EXPECT_THAT(status.error_message(),
              Not(HasSubstr(absl::StrCat("task ", mine.id()))));
  EXPECT_THAT(status.error_message(), Not(HasSubstr("project")));

  // In a batch the same replay refuses the whole batch.
  v1::BatchCreateTasksRequest batch;
  *batch.add_requests()->mutable_task() = TaskIn(kBlueProject, "fresh");
  v1::CreateTaskRequest* replay = batch.add_requests();
  *replay->mutable_task() = TaskIn(kBlueProject, "mine");
  replay->set_request_id("req-moved");
  const grpc::Status batch_status =
      Call(kBlueToken, &Stub::BatchCreateTasks, batch);
  EXPECT_THAT(batch_status,
              GrpcErrorIs(Code::NOT_FOUND, reason::kTaskNotFound));
  EXPECT_THAT(batch_status.error_message(), HasSubstr("requests[1]"));
  EXPECT_THAT(ListedTasks(kAdminToken, 50),
              UnorderedElementsAre("blue task", "red task",
                                   "task without a project", "mine"));

  // Back in reach, the replay returns it again.
  move.set_project_id(kOtherBlueProject);
  ASSERT_THAT(UpdateTask(kAdminToken, move, {"project_id"}), GrpcOk());
  EXPECT_THAT(CreateTask(kBlueToken, TaskIn(kBlueProject, "mine"), "req-moved",
                         &replayed),
              GrpcOk());
  EXPECT_EQ(replayed.id(), mine.id());
  EXPECT_EQ(replayed.project_id(), kOtherBlueProject);
}

TEST_F(AuthServiceTest, ReplayAfterLosingTheProjectNeverReturnsTheTask) {
  // A database that outlives the server: the tokens file changes between
  // the create and the replay.
  const std::string db =
      absl::StrCat(std::getenv("TEST_TMPDIR"), "/replay_after_losing.db");
  std::remove(db.c_str());
  const StoreFactory open_db = [db] { return storage::OpenSociTaskStore(db); };
  ASSERT_NO_FATAL_FAILURE(StartServer(open_db, TokensFile("1,3")));
  ASSERT_NO_FATAL_FAILURE(MakeProjectsAndTasks());
  const v1::Task earlier =
      MakeTask(kBlueToken, TaskIn(kOtherBlueProject, "before"), "req-lost");

  ASSERT_NO_FATAL_FAILURE(StartServer(open_db, TokensFile("1")));
  // The same request is refused like any create in that project.
  EXPECT_THAT(
      CreateTask(kBlueToken, TaskIn(kOtherBlueProject, "before"), "req-lost"),
      GrpcErrorIs(Code::PERMISSION_DENIED, reason::kPermissionDenied));
  // The key with a request blue may still send: never the earlier task.
  v1::Task got;
  const grpc::Status status =
      CreateTask(kBlueToken, TaskIn(kBlueProject, "before"), "req-lost", &got);
  std::cout << "FIGURE replay after losing project 3: "
            << ::tasks::testing::DescribeGrpcStatus(status) << ", task "
            << got.id() << " in project " << got.project_id()
            << " (the earlier task: " << earlier.id() << " in project "
            << earlier.project_id() << ")\n";
  EXPECT_THAT(status,
              GrpcErrorIs(Code::ALREADY_EXISTS, reason::kRequestIdReused));
  EXPECT_NE(got.id(), earlier.id());
  EXPECT_EQ(AdminGetTask(earlier.id()).project_id(), kOtherBlueProject);
}

TEST_F(AuthServiceTest, HealthNeedsNoToken) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service("tasks.v1.TaskService");
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status;
  // The store is probed in the background: wait for SERVING.
  for (int i = 0; i < 200; ++i) {
    grpc::ClientContext context;
    status = health->Check(&context, request, &response);
    if (status.ok() &&
        response.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_THAT(status, GrpcOk());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(AuthServiceTest, ReflectionNeedsNoToken) {
  // grpc.reflection.v1alpha.ServerReflectionRequest{list_services: ""}, by
  // hand: Debian ships no generated code for the reflection service.
  const std::string list_services("\x3a\x00", 2);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  const grpc::internal::RpcMethod method(
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
      grpc::internal::RpcMethod::BIDI_STREAMING, channel_);
  std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>>
      stream(grpc::internal::ClientReaderWriterFactory<
             grpc::ByteBuffer, grpc::ByteBuffer>::Create(channel_.get(), method,
                                                         &context));
  grpc::Slice slice(list_services);
  ASSERT_TRUE(stream->Write(grpc::ByteBuffer(&slice, 1)));
  ASSERT_TRUE(stream->WritesDone());
  grpc::ByteBuffer reply;
  ASSERT_TRUE(stream->Read(&reply));
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(reply.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& s : slices) {
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  EXPECT_THAT(bytes, HasSubstr("tasks.v1.TaskService"));
  while (stream->Read(&reply)) {
  }
  EXPECT_THAT(stream->Finish(), GrpcOk());
}

TEST_F(AuthServiceTest, CallLogNamesPrincipalButNeverToken) {
  testing::StderrCapture capture;
  EXPECT_THAT(GetProject(kBlueToken, kBlueProject), GrpcOk());
  EXPECT_THAT(GetProject(kUnknownToken, kBlueProject),
              GrpcErrorIs(Code::UNAUTHENTICATED, reason::kUnauthenticated));
  const std::string log = capture.Stop();
  EXPECT_THAT(log, HasSubstr("GetProject OK"));
  EXPECT_THAT(log, HasSubstr("principal=blue"));
  EXPECT_THAT(log, HasSubstr("UNAUTHENTICATED"));
  EXPECT_THAT(log, HasSubstr("principal=-"));
  EXPECT_THAT(log, Not(HasSubstr(kBlueToken)));
  EXPECT_THAT(log, Not(HasSubstr(kUnknownToken)));
}

// ---------------------------------------------------------------------------
// The same server over a store that reaches in-memory SQLite through a mock,
// so that a test can see the store's calls or act between them.

class AuthStoreCallsTest : public AuthServiceTest {
 protected:
  StoreFactory OpenStore() override {
    absl::StatusOr<storage::TaskStorePtr> real =
        storage::OpenSociTaskStore(":memory:");
    EXPECT_TRUE(real.ok()) << real.status();
    real_ = *std::move(real);
    auto store = std::make_unique<NiceMock<MockTaskStore>>();
    store->DelegateTo(real_.get());
    store_ = store.get();
    auto holder = std::make_shared<storage::TaskStorePtr>(std::move(store));
    return [holder]() -> absl::StatusOr<storage::TaskStorePtr> {
      if (*holder == nullptr) return absl::InternalError("store handed out");
      return std::move(*holder);
    };
  }

  void TearDown() override {
    AuthServiceTest::TearDown();
    server_.reset();  // The mock reaches real_.
  }

  // Moves the blue task to `project_id` behind the service's back, as an
  // admin's UpdateTask may at any moment; false if the store refused.
  bool MoveBlueTaskTo(int64_t project_id) {
    v1::Task move;
    move.set_id(blue_task_.id());
    move.set_project_id(project_id);
    google::protobuf::FieldMask mask;
    mask.add_paths("project_id");
    return real_->UpdateTask(move, mask, storage::AccessScope::All()).ok();
  }

  storage::TaskStorePtr real_;
  NiceMock<MockTaskStore>* store_ = nullptr;  // Owned by the server.
};

// The principal knows its own list: a project outside it is refused before
// the store is asked, alike for one that exists and one that does not.
TEST_F(AuthStoreCallsTest, ProjectOutsideOwnListIsDeniedAlikeWithoutTheStore) {
  EXPECT_CALL(*store_, GetProject(_)).Times(0);
  EXPECT_CALL(*store_, UpdateProject(_, _)).Times(0);
  EXPECT_CALL(*store_, DeleteProject(_, _)).Times(0);
  constexpr int64_t kMissing = 9999;
  for (int64_t id : {kRedProject, kMissing}) {
    SCOPED_TRACE(id);
    const auto denied =
        AllOf(GrpcErrorIs(Code::PERMISSION_DENIED, reason::kPermissionDenied),
              Property(&grpc::Status::error_message,
                       HasSubstr(absl::StrCat("may not use project ", id))));
    EXPECT_THAT(GetProject(kBlueToken, id), denied);
    v1::UpdateProjectRequest update;
    update.mutable_project()->set_id(id);
    update.mutable_project()->set_name("renamed");
    EXPECT_THAT(Call(kBlueToken, &Stub::UpdateProject, update), denied);
    v1::DeleteProjectRequest remove;
    remove.set_id(id);
    remove.set_force(true);
    EXPECT_THAT(Call(kBlueToken, &Stub::DeleteProject, remove), denied);
    std::cerr << "GetProject " << id << " outside the list: "
              << DescribeGrpcStatus(GetProject(kBlueToken, id)) << "\n";
  }
}

// The known DeleteTask race: the task is moved to a project the caller may not
// use after the caller was authorized for it and before the delete.
TEST_F(AuthStoreCallsTest, TaskMovedAwayBeforeDeleteIsNotDeleted) {
  EXPECT_CALL(*store_, DeleteTask(_, _))
      .WillOnce(Invoke([this](int64_t id, const storage::AccessScope& scope) {
        EXPECT_TRUE(MoveBlueTaskTo(kRedProject));
        return real_->DeleteTask(id, scope);
      }));
  const grpc::Status status = DeleteTask(kBlueToken, blue_task_.id());
  EXPECT_THAT(status, GrpcErrorIs(Code::NOT_FOUND, reason::kTaskNotFound));
  const grpc::Status kept = GetTask(kAdminToken, blue_task_.id());
  EXPECT_THAT(kept, GrpcOk());
  std::cerr << "delete of a task moved away meanwhile: "
            << DescribeGrpcStatus(status) << "; the task "
            << (kept.ok() ? "still exists" : "was deleted") << "\n";
}

// The same race for UpdateTask, with and without the client's own etag.
TEST_F(AuthStoreCallsTest, TaskMovedAwayBeforeUpdateIsNotUpdated) {
  for (bool with_etag : {false, true}) {
    SCOPED_TRACE(with_etag ? "with etag" : "without etag");
    const v1::Task before = AdminGetTask(blue_task_.id());
    // Back in blue for the next round.
    ASSERT_TRUE(MoveBlueTaskTo(kBlueProject));
    const v1::Task current = AdminGetTask(blue_task_.id());

    EXPECT_CALL(*store_, UpdateTask(_, _, _))
        .WillOnce(Invoke([this](const v1::Task& task,
                                const google::protobuf::FieldMask& mask,
                                const storage::AccessScope& scope) {
          EXPECT_TRUE(MoveBlueTaskTo(kRedProject));
          return real_->UpdateTask(task, mask, scope);
        }))
        .WillRepeatedly(Invoke(real_.get(), &storage::TaskStore::UpdateTask));
    v1::Task change;
    change.set_id(blue_task_.id());
    change.set_title("changed by blue");
    if (with_etag) change.set_etag(current.etag());
    const grpc::Status status = UpdateTask(kBlueToken, change, {"title"});
    EXPECT_THAT(status, GrpcErrorIs(Code::NOT_FOUND, reason::kTaskNotFound));
    const v1::Task after = AdminGetTask(blue_task_.id());
    EXPECT_EQ(after.title(), before.title());
    EXPECT_EQ(after.project_id(), kRedProject);
    std::cerr << "update " << (with_etag ? "with" : "without")
              << " etag of a task moved away meanwhile: "
              << DescribeGrpcStatus(status) << "; title now \"" << after.title()
              << "\"\n";
    ::testing::Mock::VerifyAndClearExpectations(store_);
  }
}

}  // namespace
}  // namespace tasks::service
