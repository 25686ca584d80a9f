// One task_server with a tokens file: alice may use project A only, bob
// project B only. 32 clients, half with alice's token and half with bob's,
// read and create tasks at once, so that on PostgreSQL calls of both
// principals share the pipelined connections' batches (one transaction per
// batch, storage/postgres/pipelined_statements.cc). Every call must stay
// inside its caller's project: its own tasks read back as stored, the other's
// are NOT_FOUND, a create in the other's project is PERMISSION_DENIED, and a
// request_id the other principal used before, or sends too, gives the caller
// a task of its own. Afterwards updates, deletes and lists across the
// boundary change and show nothing, nor does a title clash's message.

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/reliability/create_load.h"  // CodeName
#include "tests/reliability/reliability_test_base.h"
#include "tests/testing/grpc_status_matchers.h"
#include "tests/testing/loopback_port.h"
#include "tests/testing/metrics_scrape.h"
#include "tests/testing/unary_call.h"

namespace tasks::reliability {
namespace {

using ::tasks::testing::CallUnary;
using ::tasks::testing::MetricSamples;
using ::tasks::testing::ParseRpcErrorDetails;
using Stub = v1::TaskService::Stub;

constexpr char kAdminToken[] = "admin-4f9c2e7b1d8a6035";
constexpr char kAliceToken[] = "alice-7b1d8a60354f9c2e";
constexpr char kBobToken[] = "bob-8a60354f9c2e7b1d5";
constexpr int kClientsPerTenant = 16;
// Client c owns its tenant's tasks c, c + 16 and c + 32 (and the other's
// request_ids of the same numbers): no two clients of one principal ever
// create with one request_id, so every answer is predictable.
constexpr int kTasksPerTenant = 3 * kClientsPerTenant;
constexpr int kRounds = 20;
constexpr absl::Duration kDeadline = absl::Seconds(30);

// What a client does in each round, each once, in an order of its own.
enum Kind {
  kGetOwn,                // OK, the task as stored
  kGetOther,              // NOT_FOUND (TASK_NOT_FOUND)
  kCreateInOtherProject,  // PERMISSION_DENIED
  kCreateWithOtherKey,    // the other's request_id: OK, a task of its own
  kCreateWithSharedKey,   // a new request_id the other sends too: OK, its own
  kReplayOwn,             // its own request_id again: OK, its earlier task
  kKinds,
};
constexpr const char* kKindNames[kKinds] = {
    "get_own",          "get_other",         "create_in_other_project",
    "create_other_key", "create_shared_key", "replay_own"};
constexpr const char* kExpected[kKinds] = {
    "OK", "NOT_FOUND/TASK_NOT_FOUND", "PERMISSION_DENIED", "OK", "OK", "OK"};

// A principal limited to one project, and the tasks it created before the
// concurrent phase: task i with request_id RequestId(tenant, i).
struct Tenant {
  std::string name;
  std::string token;
  int64_t project_id = 0;
  std::vector<v1::Task> tasks;
};

std::string RequestId(const Tenant& tenant, int i) {
  return absl::StrCat(tenant.name, "-req-", i);
}

// A call's status code and its ErrorInfo reason when that says more
// ("NOT_FOUND/TASK_NOT_FOUND", "OK"), to count answers by.
std::string Answer(const grpc::Status& status) {
  std::string answer = CodeName(status.error_code());
  auto reason = ParseRpcErrorDetails(status).reason;
  if (reason.has_value() && *reason != answer) {
    absl::StrAppend(&answer, "/", *reason);
  }
  return answer;
}

// What one client saw.
struct ClientRecord {
  std::map<std::string, int> answers[kKinds];
  // Answers that crossed into the other tenant, and answers wrong otherwise.
  std::vector<std::string> leaks;
  std::vector<std::string> wrong;
  // The task of each request_id it created with.
  std::map<std::string, int64_t> created;
};

grpc::Status Get(Stub& stub, const std::string& token, int64_t id,
                 v1::Task* task) {
  v1::GetTaskRequest request;
  request.set_id(id);
  return CallUnary(stub, &Stub::GetTask, request, task, kDeadline, token);
}

grpc::Status Create(Stub& stub, const std::string& token, int64_t project_id,
                    const std::string& title, const std::string& request_id,
                    v1::Task* task) {
  v1::CreateTaskRequest request;
  request.mutable_task()->set_project_id(project_id);
  request.mutable_task()->set_title(title);
  request.set_request_id(request_id);
  return CallUnary(stub, &Stub::CreateTask, request, task, kDeadline, token);
}

// Every page of ListTasks `request` as `token` sees it.
grpc::Status ListAll(Stub& stub, const std::string& token,
                     v1::ListTasksRequest request, std::vector<v1::Task>* all) {
  request.set_page_size(1000);
  v1::ListTasksResponse page;
  do {
    request.set_page_token(page.next_page_token());
    page.Clear();
    grpc::Status status =
        CallUnary(stub, &Stub::ListTasks, request, &page, kDeadline, token);
    if (!status.ok()) return status;
    all->insert(all->end(), page.tasks().begin(), page.tasks().end());
  } while (!page.next_page_token().empty());
  return grpc::Status::OK;
}

bool SameTask(const v1::Task& a, const v1::Task& b) {
  return a.id() == b.id() && a.project_id() == b.project_id() &&
         a.title() == b.title() && a.etag() == b.etag();
}

// One client of `me`: kRounds rounds of every Kind.
void RunClient(Stub& stub, const Tenant& me, const Tenant& other, int client,
               ClientRecord& record) {
  for (int round = 0; round < kRounds; ++round) {
    const int i = client + kClientsPerTenant * (round % 3);
    const v1::Task& mine = me.tasks[i];
    const v1::Task& theirs = other.tasks[i];
    for (int step = 0; step < kKinds; ++step) {
      const Kind kind = static_cast<Kind>((step + client + round) % kKinds);
      std::string title;
      std::string request_id;
      v1::Task task;
      grpc::Status status;
      switch (kind) {
        case kGetOwn:
          status = Get(stub, me.token, mine.id(), &task);
          break;
        case kGetOther:
          status = Get(stub, me.token, theirs.id(), &task);
          break;
        case kCreateInOtherProject:
          title = absl::StrCat(me.name, " planted ", client, "/", round);
          status = Create(stub, me.token, other.project_id, title, "", &task);
          break;
        case kCreateWithOtherKey:
          title = absl::StrCat(me.name, " with ", RequestId(other, i));
          request_id = RequestId(other, i);
          status =
              Create(stub, me.token, me.project_id, title, request_id, &task);
          break;
        case kCreateWithSharedKey:
          title = absl::StrCat(me.name, " shared ", client, "/", round);
          request_id = absl::StrCat("shared-", client, "-", round);
          status =
              Create(stub, me.token, me.project_id, title, request_id, &task);
          break;
        case kReplayOwn:
          request_id = RequestId(me, i);
          status = Create(stub, me.token, me.project_id, mine.title(),
                          request_id, &task);
          break;
        case kKinds:
          break;
      }
      ++record.answers[kind][Answer(status)];
      if (!status.ok()) continue;
      const std::string what =
          absl::StrCat(me.name, " ", kKindNames[kind], " (client ", client,
                       ", round ", round, "): ");
      if (kind == kGetOther || kind == kCreateInOtherProject ||
          task.project_id() != me.project_id || task.id() == theirs.id()) {
        record.leaks.push_back(absl::StrCat(what, task.ShortDebugString()));
        continue;
      }
      bool right = true;
      if (kind == kGetOwn) right = SameTask(task, mine);
      if (kind == kReplayOwn) right = task.id() == mine.id();
      if (!request_id.empty() && kind != kReplayOwn) {
        // The first answer for a request_id is the task; later ones repeat it.
        right = task.title() == title &&
                record.created.emplace(request_id, task.id()).first->second ==
                    task.id();
      }
      if (!right) {
        record.wrong.push_back(absl::StrCat(what, task.ShortDebugString()));
      }
    }
  }
}

// The server log's ERROR lines: its own ("E ...") and gRPC's ("E0423 ...").
std::vector<std::string> ErrorLines(const std::string& log_path) {
  std::vector<std::string> errors;
  std::ifstream log(log_path);
  for (std::string line; std::getline(log, line);) {
    if (absl::StartsWith(line, "E ") ||
        (line.size() > 1 && line[0] == 'E' && absl::ascii_isdigit(line[1]))) {
      errors.push_back(line);
    }
  }
  return errors;
}

using TenantIsolationTest = ReliabilityTest;

TEST_P(TenantIsolationTest, ConcurrentPrincipalsStayInsideTheirProjects) {
  // The projects come first: the tokens name them, and only `*` creates one.
  const std::string tokens =
      absl::StrCat(std::getenv("TEST_TMPDIR"), "/tokens");
  std::ofstream(tokens) << kAdminToken << " admin *\n";
  absl::StatusOr<int> metrics_port = ::tasks::testing::FreeLoopbackPort();
  ASSERT_TRUE(metrics_port.ok()) << metrics_port.status();
  TaskServerProcess* server = StartServer(ServerOptions(
      {"--auth_tokens_file=" + tokens,
       absl::StrCat("--metrics_listen=127.0.0.1:", *metrics_port)}));
  ASSERT_NE(server, nullptr);
  auto admin = v1::TaskService::NewStub(server->NewChannel());
  Tenant tenants[2] = {{"alice", kAliceToken}, {"bob", kBobToken}};
  for (Tenant& tenant : tenants) {
    v1::CreateProjectRequest request;
    request.mutable_project()->set_name(tenant.name + "'s project");
    v1::Project project;
    ASSERT_TRUE(CallUnary(*admin, &Stub::CreateProject, request, &project,
                          kDeadline, kAdminToken)
                    .ok());
    tenant.project_id = project.id();
  }
  std::ofstream(tokens) << kAdminToken << " admin *\n"
                        << kAliceToken << " alice " << tenants[0].project_id
                        << "\n"
                        << kBobToken << " bob " << tenants[1].project_id
                        << "\n";
  // Read at start only.
  ASSERT_TRUE(server->Kill().ok());
  ASSERT_TRUE(RestartServer(*server));

  auto stub = v1::TaskService::NewStub(server->NewChannel());
  for (Tenant& tenant : tenants) {
    for (int i = 0; i < kTasksPerTenant; ++i) {
      v1::Task task;
      grpc::Status status = Create(*stub, tenant.token, tenant.project_id,
                                   absl::StrCat(tenant.name, " task ", i),
                                   RequestId(tenant, i), &task);
      ASSERT_TRUE(status.ok()) << status.error_message();
      tenant.tasks.push_back(task);
    }
  }

  // The concurrent phase: each client with a channel of its own.
  ClientRecord records[2][kClientsPerTenant];
  std::vector<std::thread> clients;
  for (int t = 0; t < 2; ++t) {
    for (int c = 0; c < kClientsPerTenant; ++c) {
      clients.emplace_back([&, t, c] {
        auto client_stub = v1::TaskService::NewStub(server->NewChannel());
        RunClient(*client_stub, tenants[t], tenants[1 - t], c, records[t][c]);
      });
    }
  }
  for (std::thread& client : clients) client.join();

  // Creates per committed transaction: on PostgreSQL, a pipelined batch.
  absl::StatusOr<MetricSamples> metrics = MetricSamples::Scrape(*metrics_port);
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  const double commits = metrics->Value("tasks_db_group_commit_writes_count");
  const double shared_commits =
      commits -
      metrics->Value("tasks_db_group_commit_writes_bucket", {{"le", "1"}});

  std::vector<std::string> figure = {
      absl::StrCat("clients=", 2 * kClientsPerTenant)};
  std::vector<std::string> leaks;
  std::vector<std::string> wrong;
  for (int kind = 0; kind < kKinds; ++kind) {
    std::map<std::string, int> both;
    for (int t = 0; t < 2; ++t) {
      std::map<std::string, int> answers;
      for (const ClientRecord& record : records[t]) {
        for (const auto& [answer, count] : record.answers[kind]) {
          answers[answer] += count;
          both[answer] += count;
        }
      }
      EXPECT_EQ(answers, (std::map<std::string, int>{
                             {kExpected[kind], kClientsPerTenant * kRounds}}))
          << tenants[t].name << " " << kKindNames[kind];
    }
    figure.push_back(
        absl::StrCat(kKindNames[kind], ":",
                     absl::StrJoin(both, " ", absl::PairFormatter("="))));
  }
  for (const auto& tenant_records : records) {
    for (const ClientRecord& record : tenant_records) {
      leaks.insert(leaks.end(), record.leaks.begin(), record.leaks.end());
      wrong.insert(wrong.end(), record.wrong.begin(), record.wrong.end());
    }
  }
  EXPECT_EQ(leaks.size(), 0u) << absl::StrJoin(leaks, "\n");
  EXPECT_EQ(wrong.size(), 0u) << absl::StrJoin(wrong, "\n");
  // On PostgreSQL the point of the test: batches held several creates.
  if (backend() != ::tasks::testing::StoreBackend::kSqlite) {
    EXPECT_GT(shared_commits, 0);
  }
  figure.push_back(absl::StrCat(
      "leaks=", leaks.size(), " wrong=", wrong.size(), " commits=", commits,
      " of_several_creates=", shared_commits, "; then"));

  // Across the boundary afterwards: nothing changes, nothing shows.
  std::map<std::string, std::map<std::string, int>> after;
  const auto note = [&](const std::string& what, const grpc::Status& status) {
    ++after[what][Answer(status)];
  };
  for (int t = 0; t < 2; ++t) {
    const Tenant& me = tenants[t];
    const Tenant& other = tenants[1 - t];
    for (const v1::Task& theirs : other.tasks) {
      v1::UpdateTaskRequest update;
      update.mutable_task()->set_id(theirs.id());
      update.mutable_task()->set_title("hijacked by " + me.name);
      update.mutable_update_mask()->add_paths("title");
      note("update_other",
           CallUnary(*stub, &Stub::UpdateTask, update,
                     static_cast<v1::Task*>(nullptr), kDeadline, me.token));
      v1::DeleteTaskRequest remove;
      remove.set_id(theirs.id());
      note("delete_other",
           CallUnary(*stub, &Stub::DeleteTask, remove,
                     static_cast<google::protobuf::Empty*>(nullptr), kDeadline,
                     me.token));
      v1::Task now;
      note("get_own_after", Get(*stub, other.token, theirs.id(), &now));
      EXPECT_TRUE(SameTask(now, theirs)) << now.ShortDebugString();
    }

    // A title clash in its own project, the other's project_id sent
    // outside the mask: the message names the caller's project and the
    // title that clashes, never the project it sent. A move into the other's
    // project is refused.
    v1::UpdateTaskRequest clash;
    clash.mutable_task()->set_id(me.tasks[0].id());
    clash.mutable_task()->set_title(me.tasks[1].title());
    clash.mutable_task()->set_project_id(other.project_id);
    clash.mutable_update_mask()->add_paths("title");
    const grpc::Status clashed =
        CallUnary(*stub, &Stub::UpdateTask, clash,
                  static_cast<v1::Task*>(nullptr), kDeadline, me.token);
    note("title_clash_other_project_sent", clashed);
    EXPECT_EQ(clashed.error_message(),
              absl::StrCat("project ", me.project_id,
                           " already has a task titled \"", me.tasks[1].title(),
                           "\" (unique constraint tasks_project_title_key)"));
    clash.mutable_update_mask()->set_paths(0, "project_id");
    note("move_into_other",
         CallUnary(*stub, &Stub::UpdateTask, clash,
                   static_cast<v1::Task*>(nullptr), kDeadline, me.token));

    // The typed project_id of another project is refused. In the filter
    // language a project_id is ANDed with the caller's projects instead, so
    // another project's matches nothing.
    v1::ListTasksRequest request;
    request.set_project_id(other.project_id);
    note("list_other_project_id",
         CallUnary(*stub, &Stub::ListTasks, request,
                   static_cast<v1::ListTasksResponse*>(nullptr), kDeadline,
                   me.token));
    request.clear_project_id();
    const std::string mine = absl::StrCat("project_id = ", me.project_id);
    const std::string theirs = absl::StrCat("project_id = ", other.project_id);
    // Its setup tasks, one per other's request_id, one per shared one.
    const size_t owned = 2 * kTasksPerTenant + kClientsPerTenant * kRounds;
    const struct {
      const char* what;
      std::string filter;
      size_t listed;
    } kLists[] = {
        {"list", "", owned},
        {"list_mine_or_theirs", absl::StrCat(mine, " OR ", theirs), owned},
        {"list_not_mine", absl::StrCat("NOT ", mine), 0},
        {"list_theirs", theirs, 0}};
    for (const auto& list : kLists) {
      request.set_filter(list.filter);
      std::vector<v1::Task> all;
      note(list.what, ListAll(*stub, me.token, request, &all));
      int others = 0;
      for (const v1::Task& task : all) {
        others += task.project_id() != me.project_id;
      }
      EXPECT_EQ(others, 0) << me.name << " " << list.what;
      EXPECT_EQ(all.size(), list.listed) << me.name << " " << list.what;
    }
  }
  const std::map<std::string, int> kNotFound = {
      {"NOT_FOUND/TASK_NOT_FOUND", 2 * kTasksPerTenant}};
  const std::map<std::string, int> kListed = {{"OK", 2}};
  EXPECT_EQ(after, (std::map<std::string, std::map<std::string, int>>{
                       {"update_other", kNotFound},
                       {"delete_other", kNotFound},
                       {"get_own_after", {{"OK", 2 * kTasksPerTenant}}},
                       {"list_other_project_id", {{"PERMISSION_DENIED", 2}}},
                       {"title_clash_other_project_sent",
                        {{"ALREADY_EXISTS/TASK_TITLE_TAKEN", 2}}},
                       {"move_into_other", {{"PERMISSION_DENIED", 2}}},
                       {"list", kListed},
                       {"list_mine_or_theirs", kListed},
                       {"list_not_mine", kListed},
                       {"list_theirs", kListed}}));
  for (const auto& [what, answers] : after) {
    figure.push_back(absl::StrCat(
        what, ":", absl::StrJoin(answers, " ", absl::PairFormatter("="))));
  }

  const std::vector<std::string> errors = ErrorLines(server->log_path());
  EXPECT_TRUE(errors.empty()) << absl::StrJoin(errors, "\n");
  EXPECT_TRUE(server->Running()) << server->LogTail();
  figure.push_back(absl::StrCat("error_lines=", errors.size()));
  ReportFigure(absl::StrJoin(figure, " "));
}

INSTANTIATE_RELIABILITY_TEST_SUITE(TenantIsolationTest);

}  // namespace
}  // namespace tasks::reliability
