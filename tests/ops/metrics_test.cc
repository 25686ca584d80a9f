// Prometheus metrics of the real task_server (--metrics_listen), scraped over
// HTTP while calls run: the counters move by exactly the calls made.

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tasks/v1/tasks.grpc.pb.h"
#include "tests/ops/ops_test_fixture.h"
#include "tests/reliability/process_memory.h"
#include "tests/testing/loopback_port.h"
#include "tests/testing/metrics_scrape.h"
#include "tests/testing/unary_call.h"

namespace tasks::ops {
namespace {

using ::tasks::testing::CallUnary;
using ::tasks::testing::FreeLoopbackPort;
using ::tasks::testing::MetricSamples;
using Labels = MetricSamples::Labels;

constexpr absl::Duration kCallTimeout = absl::Seconds(20);

Labels Method(const std::string& method) {
  return {{"grpc_service", "tasks.v1.TaskService"}, {"grpc_method", method}};
}

Labels MethodCode(const std::string& method, const std::string& code) {
  Labels labels = Method(method);
  labels["grpc_code"] = code;
  return labels;
}

class MetricsTest : public OpsTest {
 protected:
  // Starts the server with metrics on a free port, and `flags`.
  bool StartWithMetrics(std::vector<std::string> flags = {}) {
    absl::StatusOr<int> port = FreeLoopbackPort();
    if (!port.ok()) {
      ADD_FAILURE() << port.status();
      return false;
    }
    metrics_port_ = *port;
    flags.push_back(absl::StrCat("--metrics_listen=127.0.0.1:", *port));
    server_process_ = StartServer(flags);
    return server_process_ != nullptr;
  }

  MetricSamples Scrape() {
    absl::StatusOr<MetricSamples> samples =
        MetricSamples::Scrape(metrics_port_);
    EXPECT_TRUE(samples.ok()) << samples.status();
    return samples.ok() ? *samples : MetricSamples();
  }

  // Scrapes until `done(samples)` or `timeout`; the last scrape.
  template <typename Done>
  MetricSamples ScrapeUntil(Done done, absl::Duration timeout) {
    const absl::Time give_up = absl::Now() + timeout;
    MetricSamples samples = Scrape();
    while (!done(samples) && absl::Now() < give_up) samples = Scrape();
    return samples;
  }

  int64_t CreateProjectAndTask(v1::TaskService::Stub& stub) {
    v1::CreateProjectRequest project_request;
    project_request.mutable_project()->set_name("Metrics");
    v1::Project project;
    grpc::Status status = CallUnary(stub, &v1::TaskService::Stub::CreateProject,
                                    project_request, &project, kCallTimeout);
    EXPECT_TRUE(status.ok()) << status.error_message();
    v1::CreateTaskRequest task_request;
    task_request.mutable_task()->set_project_id(project.id());
    task_request.mutable_task()->set_title("Counted");
    v1::Task task;
    status = CallUnary(stub, &v1::TaskService::Stub::CreateTask, task_request,
                       &task, kCallTimeout);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return task.id();
  }

  int metrics_port_ = 0;
  ::tasks::testing::TaskServerProcess* server_process_ = nullptr;
};

// Another connection holding SQLite's one write lock: the server's writes
// wait for it (up to its 5 s busy timeout), reads do not.
class SqliteWriteLock {
 public:
  explicit SqliteWriteLock(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db_);
  }
  ~SqliteWriteLock() { Release(); }
  void Release() {
    if (db_ == nullptr) return;
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
    db_ = nullptr;
  }

 private:
  sqlite3* db_ = nullptr;
};

TEST_F(MetricsTest, CountsEachCallByMethodAndCodeWhileCallsRun) {
  ASSERT_TRUE(StartWithMetrics({"--pool_size=3"}));
  auto stub = NewStub();
  const int64_t task_id = CreateProjectAndTask(*stub);
  ASSERT_GT(task_id, 0);
  const MetricSamples before = Scrape();

  // 5 GetTask OK and 2 NOT_FOUND, interleaved, while this thread scrapes.
  std::atomic<bool> calls_done{false};
  std::vector<grpc::StatusCode> codes;
  std::thread caller([&] {
    for (int i = 0; i < 7; ++i) {
      v1::GetTaskRequest request;
      request.set_id(i % 3 == 1 ? 999999 : task_id);
      codes.push_back(CallUnary(*stub, &v1::TaskService::Stub::GetTask, request,
                                static_cast<v1::Task*>(nullptr), kCallTimeout)
                          .error_code());
    }
    calls_done = true;
  });
  int scrapes_during_calls = 0;
  double last_seen =
      before.Value("grpc_server_handled_total", Method("GetTask"));
  while (!calls_done) {
    const MetricSamples during = Scrape();
    const double seen =
        during.Value("grpc_server_handled_total", Method("GetTask"));
    EXPECT_GE(seen, last_seen) << "a counter went down";
    last_seen = seen;
    ++scrapes_during_calls;
  }
  caller.join();
  ASSERT_EQ(codes.size(), 7u);
  EXPECT_EQ(std::count(codes.begin(), codes.end(), grpc::StatusCode::NOT_FOUND),
            2);

  const MetricSamples after = Scrape();
  auto moved = [&](const std::string& name, const Labels& labels) {
    return after.Value(name, labels) - before.Value(name, labels);
  };
  const double ok =
      moved("grpc_server_handled_total", MethodCode("GetTask", "OK"));
  const double not_found =
      moved("grpc_server_handled_total", MethodCode("GetTask", "NOT_FOUND"));
  const double all_codes =
      moved("grpc_server_handled_total", Method("GetTask"));
  const double ok_timed =
      moved("grpc_server_handling_seconds_count", MethodCode("GetTask", "OK"));
  const double not_found_timed = moved("grpc_server_handling_seconds_count",
                                       MethodCode("GetTask", "NOT_FOUND"));
  const double pool_waits = moved("tasks_db_pool_wait_seconds_count", {});
  EXPECT_EQ(ok, 5);
  EXPECT_EQ(not_found, 2);
  EXPECT_EQ(all_codes, 7);
  EXPECT_EQ(ok_timed, 5);
  EXPECT_EQ(not_found_timed, 2);
  EXPECT_GT(
      moved("grpc_server_handling_seconds_sum", MethodCode("GetTask", "OK")),
      0);
  // Each read leases one pooled connection.
  EXPECT_EQ(pool_waits, 7);
  EXPECT_EQ(after.Value("grpc_server_calls_in_flight", Method("GetTask")), 0);
  EXPECT_EQ(after.Value("tasks_db_pool_in_use_connections"), 0);
  EXPECT_EQ(after.Value("tasks_db_pool_max_connections"), 3);
  EXPECT_EQ(after.Value("tasks_health_serving"), 1);
  EXPECT_EQ(
      after.Value("grpc_server_handled_total", MethodCode("CreateTask", "OK")),
      1);
  EXPECT_TRUE(after.Has("tasks_worker_rejected_calls_total"));
  EXPECT_TRUE(after.Has("tasks_worker_share_refused_calls_total"));
  for (const char* slot : {"list", "batch"}) {
    EXPECT_EQ(after.Value("tasks_slots_in_use", {{"slot", slot}}), 0) << slot;
    EXPECT_TRUE(after.Has("tasks_slot_refused_calls_total",
                          {{"slot", slot}, {"reason", "share"}}))
        << slot;
  }
  // At 0 from the start, so that an alert on its rate works at once.
  EXPECT_TRUE(after.Has("tasks_log_lines_dropped_total"));
  EXPECT_EQ(after.Value("tasks_log_lines_dropped_total"), 0);
  EXPECT_EQ(after.Value("tasks_build_info", {{"api", "tasks.v1"}}), 1);
  ReportFigure(absl::StrCat(
      "GetTask handled OK +", ok, " NOT_FOUND +", not_found, " (all codes +",
      all_codes, "), histogram count OK +", ok_timed, " NOT_FOUND +",
      not_found_timed, ", pool waits +", pool_waits, ", in flight after ",
      after.Value("grpc_server_calls_in_flight", Method("GetTask")), "; ",
      scrapes_during_calls, " scrapes during the calls"));
}

TEST_F(MetricsTest, WritesWaitingOnTheDatabaseAreInFlightAndExtraOnesRejected) {
  // Two workers: two blocked writes take both, a third is refused.
  ASSERT_TRUE(StartWithMetrics({"--max_threads=2"}));
  auto stub = NewStub();
  ASSERT_GT(CreateProjectAndTask(*stub), 0);
  const MetricSamples before = Scrape();

  SqliteWriteLock lock(database());
  std::vector<grpc::Status> blocked(2);
  std::vector<std::thread> writers;
  for (int i = 0; i < 2; ++i) {
    writers.emplace_back([&, i] {
      v1::CreateProjectRequest request;
      request.mutable_project()->set_name(absl::StrCat("Blocked ", i));
      blocked[i] =
          CallUnary(*stub, &v1::TaskService::Stub::CreateProject, request,
                    static_cast<v1::Project*>(nullptr), kCallTimeout);
    });
  }
  const absl::Time waiting_since = absl::Now();
  const MetricSamples waiting = ScrapeUntil(
      [](const MetricSamples& s) {
        return s.Value("grpc_server_calls_in_flight",
                       Method("CreateProject")) == 2 &&
               s.Value("tasks_worker_threads_busy") == 2;
      },
      absl::Seconds(4));
  const absl::Duration seen_after = absl::Now() - waiting_since;
  v1::CreateProjectRequest extra;
  extra.mutable_project()->set_name("Refused");
  const grpc::Status refused =
      CallUnary(*stub, &v1::TaskService::Stub::CreateProject, extra,
                static_cast<v1::Project*>(nullptr), kCallTimeout);
  lock.Release();
  for (std::thread& writer : writers) writer.join();

  EXPECT_EQ(
      waiting.Value("grpc_server_calls_in_flight", Method("CreateProject")), 2);
  EXPECT_EQ(waiting.Value("tasks_worker_threads_busy"), 2);
  EXPECT_GE(waiting.Value("tasks_db_pool_in_use_connections"), 1);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << refused.error_message();
  for (const grpc::Status& status : blocked) {
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  // A worker goes back to idle just after its answer is sent.
  const MetricSamples after = ScrapeUntil(
      [](const MetricSamples& s) {
        return s.Value("tasks_worker_threads_busy") == 0;
      },
      absl::Seconds(5));
  auto moved = [&](const std::string& name, const Labels& labels) {
    return after.Value(name, labels) - before.Value(name, labels);
  };
  const double rejected = moved("tasks_worker_rejected_calls_total", {});
  const double exhausted =
      moved("grpc_server_handled_total",
            MethodCode("CreateProject", "RESOURCE_EXHAUSTED"));
  const double ok =
      moved("grpc_server_handled_total", MethodCode("CreateProject", "OK"));
  // Every write goes through the group committer, in exactly one group.
  const double grouped = moved("tasks_db_group_commit_writes_sum", {});
  EXPECT_EQ(rejected, 1);
  EXPECT_EQ(exhausted, 1);
  EXPECT_EQ(ok, 2);
  EXPECT_EQ(grouped, 2);
  EXPECT_EQ(after.Value("grpc_server_calls_in_flight", Method("CreateProject")),
            0);
  EXPECT_EQ(after.Value("tasks_worker_threads_busy"), 0);
  EXPECT_EQ(after.Value("tasks_db_pool_in_use_connections"), 0);
  ReportFigure(absl::StrCat(
      "while locked (seen after ", absl::FormatDuration(seen_after),
      "): in flight ",
      waiting.Value("grpc_server_calls_in_flight", Method("CreateProject")),
      ", workers busy ", waiting.Value("tasks_worker_threads_busy"),
      ", pool in use ", waiting.Value("tasks_db_pool_in_use_connections"),
      "; after: rejected +", rejected, ", RESOURCE_EXHAUSTED +", exhausted,
      ", OK +", ok, ", grouped writes +", grouped, ", in flight ",
      after.Value("grpc_server_calls_in_flight", Method("CreateProject"))));
}

// Calls without a known token are refused at the front door, before any
// handler: counted there, never in grpc_server_handled_total. A tenant
// limited to one project reaching for another is refused by its handler,
// and counted as handled.
TEST_F(MetricsTest, CallsRefusedAtTheTokenDoorHaveACounterOfTheirOwn) {
  constexpr char kAdmin[] = "metrics-admin-token-0123";
  constexpr char kTeam[] = "metrics-team-token-01234";
  const std::string tokens =
      absl::StrCat(std::getenv("TEST_TMPDIR"), "/metrics_tokens");
  std::ofstream(tokens) << kAdmin << " admin *\n" << kTeam << " team 1\n";
  ASSERT_TRUE(StartWithMetrics({absl::StrCat("--auth_tokens_file=", tokens)}));
  auto stub = NewStub();
  // The team's project (1), then another.
  v1::Project project;
  for (const char* name : {"Team's", "Another"}) {
    v1::CreateProjectRequest create;
    create.mutable_project()->set_name(name);
    ASSERT_TRUE(CallUnary(*stub, &v1::TaskService::Stub::CreateProject, create,
                          &project, kCallTimeout, kAdmin)
                    .ok());
  }
  ASSERT_NE(project.id(), 1);
  const MetricSamples before = Scrape();
  EXPECT_TRUE(before.Has("tasks_unauthenticated_refused_calls_total"));

  v1::GetProjectRequest get;
  get.set_id(project.id());
  const grpc::Status no_token =
      CallUnary(*stub, &v1::TaskService::Stub::GetProject, get,
                static_cast<v1::Project*>(nullptr), kCallTimeout);
  const grpc::Status unknown =
      CallUnary(*stub, &v1::TaskService::Stub::GetProject, get,
                static_cast<v1::Project*>(nullptr), kCallTimeout,
                "metrics-unknown-token-01");
  const grpc::Status other_project =
      CallUnary(*stub, &v1::TaskService::Stub::GetProject, get,
                static_cast<v1::Project*>(nullptr), kCallTimeout, kTeam);
  EXPECT_EQ(no_token.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(other_project.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << other_project.error_message();

  const MetricSamples after = ScrapeUntil(
      [&](const MetricSamples& s) {
        return s.Value("grpc_server_handled_total", Method("GetProject")) >=
               before.Value("grpc_server_handled_total", Method("GetProject")) +
                   1;
      },
      absl::Seconds(5));
  const double at_the_door =
      after.Value("tasks_unauthenticated_refused_calls_total") -
      before.Value("tasks_unauthenticated_refused_calls_total");
  const double handled_unauthenticated = after.Value(
      "grpc_server_handled_total", MethodCode("GetProject", "UNAUTHENTICATED"));
  const double handled_denied =
      after.Value("grpc_server_handled_total",
                  MethodCode("GetProject", "PERMISSION_DENIED")) -
      before.Value("grpc_server_handled_total",
                   MethodCode("GetProject", "PERMISSION_DENIED"));
  EXPECT_EQ(at_the_door, 2);
  EXPECT_EQ(handled_unauthenticated, 0);
  EXPECT_EQ(handled_denied, 1);
  ReportFigure(absl::StrCat("refused at the token door +", at_the_door,
                            ", handled UNAUTHENTICATED ",
                            handled_unauthenticated,
                            ", handled PERMISSION_DENIED +", handled_denied));
}

// A request that does not decode, at nearly the largest size the server
// reads (1 MiB): from a tenant limited to one project it is that client's
// INVALID_ARGUMENT, handled and counted; without a token it is refused at
// the door, unread. Many at once cost the server little more than their
// bytes while they last.
TEST_F(MetricsTest, UndecodableRequestsAreTheClientsInvalidArgumentAndCounted) {
  constexpr char kTeam[] = "metrics-team-token-01234";
  const std::string tokens =
      absl::StrCat(std::getenv("TEST_TMPDIR"), "/undecodable_tokens");
  std::ofstream(tokens) << kTeam << " team 1\n";
  ASSERT_TRUE(StartWithMetrics({absl::StrCat("--auth_tokens_file=", tokens)}));
  // A title of ~1,000,000 bytes whose last byte is not UTF-8.
  v1::CreateTaskRequest create;
  create.mutable_task()->set_project_id(1);
  create.mutable_task()->set_title(std::string(1000000, 'a'));
  std::string bytes = create.SerializeAsString();
  bytes.back() = '\xFF';
  const std::shared_ptr<grpc::Channel> channel = server_process_->NewChannel();
  auto call = [&](const char* token) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
    if (token != nullptr) {
      context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
    }
    return ::tasks::testing::CallRawUnary(
        channel, &context, "/tasks.v1.TaskService/CreateTask", bytes);
  };
  const MetricSamples before = Scrape();
  const int64_t start_kib =
      ::tasks::reliability::ProcStatusKib(server_process_->pid(), "VmRSS");

  const grpc::Status unauthenticated = call(nullptr);
  EXPECT_EQ(unauthenticated.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  constexpr int kThreads = 32;
  constexpr int kCallsEach = 4;
  std::atomic<int> invalid{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < kCallsEach; ++j) {
        const grpc::Status status = call(kTeam);
        if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT &&
            status.error_message().find("does not decode as "
                                        "tasks.v1.CreateTaskRequest") !=
                std::string::npos) {
          ++invalid;
        } else {
          ADD_FAILURE() << status.error_code() << " " << status.error_message();
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const int64_t peak_kib =
      ::tasks::reliability::ProcStatusKib(server_process_->pid(), "VmHWM");

  EXPECT_EQ(invalid, kThreads * kCallsEach);
  const MetricSamples after = ScrapeUntil(
      [&](const MetricSamples& s) {
        return s.Value("grpc_server_handled_total",
                       MethodCode("CreateTask", "INVALID_ARGUMENT")) >=
               before.Value("grpc_server_handled_total",
                            MethodCode("CreateTask", "INVALID_ARGUMENT")) +
                   kThreads * kCallsEach;
      },
      absl::Seconds(5));
  EXPECT_EQ(after.Value("grpc_server_handled_total",
                        MethodCode("CreateTask", "INVALID_ARGUMENT")) -
                before.Value("grpc_server_handled_total",
                             MethodCode("CreateTask", "INVALID_ARGUMENT")),
            kThreads * kCallsEach);
  EXPECT_EQ(after.Value("tasks_unauthenticated_refused_calls_total") -
                before.Value("tasks_unauthenticated_refused_calls_total"),
            1);
  // 32 requests of 1 MiB in flight, each held as received and as parsed
  // so far: well within the loaded bound of 256 MiB.
  EXPECT_GT(peak_kib, 0);
  EXPECT_LE(peak_kib, 256 * 1024);
  // The server still serves the tenant.
  auto stub = NewStub();
  v1::ListTasksRequest list;
  grpc::ClientContext context;
  context.AddMetadata("authorization", absl::StrCat("Bearer ", kTeam));
  context.set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
  v1::ListTasksResponse page;
  EXPECT_TRUE(stub->ListTasks(&context, list, &page).ok());
  ReportFigure(absl::StrCat(
      kThreads * kCallsEach, " undecodable 1 MB requests, ", kThreads,
      " at once: INVALID_ARGUMENT ", invalid.load(), "; server RSS before ",
      start_kib / 1024, " MiB, peak ", peak_kib / 1024, " MiB"));
}

}  // namespace
}  // namespace tasks::ops
