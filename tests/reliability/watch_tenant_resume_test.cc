// WatchTasks' resume_token against a tenant on the real binary (tokens file,
// one principal limited to one project): a token ahead of the change log or
// spelled otherwise than the server writes it is refused, on a server whose
// feed has read nothing yet and on one whose feed is reading; the tenant's
// own token resumes with only its project's changes; a client without a
// token is refused. The position in a token is the database's, which the
// tenant's list tokens carry anyway: refusing one ahead tells it nothing
// new.

#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/task_changes.h"
#include "tests/reliability/reliability_test_base.h"
#include "tests/testing/grpc_status_matchers.h"

namespace tasks::reliability {
namespace {

using ::tasks::testing::GrpcErrorIs;
using Stub = v1::TaskService::Stub;

constexpr char kAdmin[] = "watch-tenant-admin-token-01";
constexpr char kTeam[] = "watch-tenant-team-token-012";
constexpr absl::Duration kWait = absl::Seconds(20);

void Authorize(grpc::ClientContext& context, const char* token) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + kWait));
  if (token != nullptr) {
    context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  }
}

int64_t CreateAsAdmin(Stub& stub, int64_t project_id,
                      const std::string& title) {
  v1::CreateTaskRequest request;
  request.mutable_task()->set_project_id(project_id);
  request.mutable_task()->set_title(title);
  v1::Task task;
  grpc::ClientContext context;
  Authorize(context, kAdmin);
  const grpc::Status status = stub.CreateTask(&context, request, &task);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return task.id();
}

// One WatchTasks stream of `token` from `resume_token`.
class Stream {
 public:
  Stream(Stub& stub, const char* token, const std::string& resume_token) {
    Authorize(context_, token);
    v1::WatchTasksRequest request;
    request.set_resume_token(resume_token);
    reader_ = stub.WatchTasks(&context_, request);
  }
  ~Stream() {
    if (finished_) return;
    context_.TryCancel();
    Finish();
  }
  // The next event; false once the stream has ended (see Finish).
  bool Next(v1::TaskEvent& event) { return reader_->Read(&event); }
  grpc::Status Finish() {
    v1::TaskEvent ignored;
    while (reader_->Read(&ignored)) {
    }
    finished_ = true;
    return reader_->Finish();
  }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::TaskEvent>> reader_;
  bool finished_ = false;  // Finish() may be called once
};

using WatchTenantResumeTest = ReliabilityTest;

TEST_P(WatchTenantResumeTest, ATenantsTokenAheadOrRespelledIsRefused) {
  const std::string tokens =
      absl::StrCat(std::getenv("TEST_TMPDIR"), "/watch_tenant_tokens");
  std::ofstream(tokens) << kAdmin << " admin *\n" << kTeam << " team 1\n";
  TaskServerProcess* server =
      StartServer(ServerOptions({absl::StrCat("--auth_tokens_file=", tokens)}));
  ASSERT_NE(server, nullptr);
  auto stub = v1::TaskService::NewStub(server->NewChannel());
  for (const char* name : {"Team's", "Another"}) {
    v1::CreateProjectRequest create;
    create.mutable_project()->set_name(name);
    v1::Project project;
    grpc::ClientContext context;
    Authorize(context, kAdmin);
    ASSERT_TRUE(stub->CreateProject(&context, create, &project).ok());
  }
  CreateAsAdmin(*stub, 1, "before");

  v1::ListTasksResponse page;
  {
    grpc::ClientContext context;
    Authorize(context, kTeam);
    ASSERT_TRUE(stub->ListTasks(&context, v1::ListTasksRequest(), &page).ok());
  }
  absl::StatusOr<storage::ChangePosition> listed =
      storage::ChangePosition::Decode(page.resume_token());
  ASSERT_TRUE(listed.ok()) << listed.status();
  const std::string ahead =
      storage::ChangePosition(listed->seq() + 1000, {}).Encode();
  const std::string respelled =
      absl::WebSafeBase64Escape(absl::StrCat("c1.0", listed->seq()));
  auto expect_refused = [&](const char* when) {
    for (const std::string& token : {ahead, respelled}) {
      Stream stream(*stub, kTeam, token);
      EXPECT_THAT(stream.Finish(),
                  GrpcErrorIs(grpc::StatusCode::INVALID_ARGUMENT,
                              reason::kInvalidResumeToken))
          << when;
    }
  };
  expect_refused("the feed has read nothing");
  {
    Stream no_token(*stub, nullptr, page.resume_token());
    EXPECT_EQ(no_token.Finish().error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }

  // The tenant's own token: only its project's changes, the feed reading.
  Stream own(*stub, kTeam, page.resume_token());
  CreateAsAdmin(*stub, 2, "another project's");
  const int64_t mine = CreateAsAdmin(*stub, 1, "mine");
  v1::TaskEvent event;
  ASSERT_TRUE(own.Next(event));
  EXPECT_EQ(event.type(), v1::TaskEvent::CREATED);
  EXPECT_EQ(event.task().id(), mine);
  expect_refused("the feed is reading");
  ReportFigure(absl::StrCat("listed at seq ", listed->seq(),
                            "; ahead and respelled tokens refused with and "
                            "without a reading feed; own token resumed at ",
                            event.task().title()));
}

INSTANTIATE_RELIABILITY_TEST_SUITE(WatchTenantResumeTest);

}  // namespace
}  // namespace tasks::reliability
