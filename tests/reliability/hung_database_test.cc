// PostgreSQL hung but alive (SIGSTOP to the postmaster and its backends: the
// kernel still acknowledges TCP, so no keepalive or socket timeout fires)
// under a serving task_server: health turns NOT_SERVING within 2 s, calls
// end with UNAVAILABLE or DEADLINE_EXCEEDED within their deadline plus a
// bound by the server's own account, a health Check is never held up, and
// SIGTERM exits within --drain_timeout plus a bound. Batch creates and lists
// waiting on the frozen database end likewise, each batch stored whole or
// not at all, and give their slots back. Once PostgreSQL continues
// (SIGCONT) the server serves again.

#include <signal.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/reliability/call_log.h"
#include "tests/reliability/database_checks.h"
#include "tests/reliability/postgres_freeze.h"
#include "tests/reliability/reliability_test_base.h"
#include "tests/reliability/task_watcher.h"

namespace tasks::reliability {
namespace {

constexpr ServingStatus kServing =
    ::grpc::health::v1::HealthCheckResponse::SERVING;
constexpr ServingStatus kNotServing =
    ::grpc::health::v1::HealthCheckResponse::NOT_SERVING;

constexpr absl::Duration kNotServingWithin = absl::Seconds(2);
constexpr absl::Duration kCallDeadline = absl::Seconds(1);
// What a call may take past its deadline by the server's log: the cancel's
// grace period plus scheduling on a loaded machine.
constexpr absl::Duration kCallBound = absl::Seconds(1);
// A health Check is answered from the monitor's last outcome.
constexpr absl::Duration kHealthCheckWithin = absl::Milliseconds(500);
constexpr absl::Duration kDrainTimeout = absl::Seconds(1);
constexpr absl::Duration kExitBound = absl::Seconds(3);
// How long the test waits for what a hung server never does.
constexpr absl::Duration kGiveUp = absl::Seconds(8);

constexpr char kGetTaskMethod[] = "/tasks.v1.TaskService/GetTask";
constexpr char kCreateTaskMethod[] = "/tasks.v1.TaskService/CreateTask";
constexpr char kBatchCreateTasksMethod[] =
    "/tasks.v1.TaskService/BatchCreateTasks";
constexpr char kListTasksMethod[] = "/tasks.v1.TaskService/ListTasks";

// One call's outcome as the client saw it.
struct ClientCall {
  grpc::StatusCode code = grpc::StatusCode::OK;
  absl::Duration took;
};

std::string CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    default:
      return absl::StrCat("code ", static_cast<int>(code));
  }
}

bool FailedAsHung(const std::string& code) {
  return code == "UNAVAILABLE" || code == "DEADLINE_EXCEEDED";
}

constexpr int kTasksPerBatch = 5;

class HungDatabaseTest : public ReliabilityTest {
 protected:
  ClientCall GetTask(v1::TaskService::Stub& stub, int64_t id,
                     absl::Duration deadline) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    v1::GetTaskRequest request;
    request.set_id(id);
    v1::Task task;
    const absl::Time start = absl::Now();
    grpc::Status status = stub.GetTask(&context, request, &task);
    return {status.error_code(), absl::Now() - start};
  }

  ClientCall Batch(v1::TaskService::Stub& stub, int64_t project_id,
                   absl::string_view prefix, absl::Duration deadline) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    v1::BatchCreateTasksRequest request;
    for (int i = 0; i < kTasksPerBatch; ++i) {
      v1::Task* task = request.add_requests()->mutable_task();
      task->set_project_id(project_id);
      task->set_title(absl::StrCat(prefix, "-", i));
    }
    v1::BatchCreateTasksResponse response;
    const absl::Time start = absl::Now();
    grpc::Status status = stub.BatchCreateTasks(&context, request, &response);
    return {status.error_code(), absl::Now() - start};
  }

  ClientCall List(v1::TaskService::Stub& stub, absl::Duration deadline) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    v1::ListTasksRequest request;
    request.set_page_size(100);
    v1::ListTasksResponse response;
    const absl::Time start = absl::Now();
    grpc::Status status = stub.ListTasks(&context, request, &response);
    return {status.error_code(), absl::Now() - start};
  }

  ClientCall Create(v1::TaskService::Stub& stub, int64_t project_id,
                    const std::string& title, absl::Duration deadline) {
    const absl::Time start = absl::Now();
    grpc::Status status = CreateTask(stub, project_id, title, deadline);
    return {status.error_code(), absl::Now() - start};
  }

  // Waits up to kGiveUp for the server to log `count` calls of `method`
  // and returns the calls logged after the first `skip`.
  std::vector<LoggedCall> AwaitLogged(TaskServerProcess& server,
                                      absl::string_view method, size_t skip,
                                      size_t count) {
    std::vector<LoggedCall> logged;
    const absl::Time give_up = absl::Now() + kGiveUp;
    do {
      logged = LoggedCalls(server.log_path(), method);
      if (logged.size() >= skip + count) break;
      absl::SleepFor(absl::Milliseconds(20));
    } while (absl::Now() < give_up);
    if (logged.size() <= skip) return {};
    return std::vector<LoggedCall>(logged.begin() + skip, logged.end());
  }
};

TEST_P(HungDatabaseTest, FrozenDatabaseFailsCallsFastAndShutsDownInTime) {
  ASSERT_NO_FATAL_FAILURE(StartWithProject(
      ServerOptions({"--log_level=info",
                     absl::StrCat("--drain_timeout=",
                                  absl::FormatDuration(kDrainTimeout))}),
      "frozen"));
  ::tasks::testing::PostgresServer* postgres = Postgres();
  ASSERT_NE(postgres, nullptr);
  v1::Task task;
  ASSERT_TRUE(CreateTask(*stub_, project_id_, "before the freeze",
                         absl::Seconds(10), 0, &task)
                  .ok());
  ASSERT_EQ(GetTask(*stub_, task.id(), absl::Seconds(10)).code,
            grpc::StatusCode::OK);
  // A watcher keeps the change feed reading the frozen database.
  const std::string filter = absl::StrCat("project_id = ", project_id_);
  std::string token;
  ASSERT_TRUE(ListAll(*stub_, filter, &token).ok());
  TaskWatcher watcher(server_->NewChannel(), WatchFrom(token, filter));
  const size_t gets_before =
      LoggedCalls(server_->log_path(), kGetTaskMethod).size();
  const size_t creates_before =
      LoggedCalls(server_->log_path(), kCreateTaskMethod).size();

  absl::StatusOr<std::unique_ptr<PostgresFreeze>> freeze =
      PostgresFreeze::Freeze(postgres->data_dir());
  ASSERT_TRUE(freeze.ok()) << freeze.status();
  const absl::Time frozen = absl::Now();

  // A read and a write reach the frozen database while health is watched.
  ClientCall get;
  ClientCall create;
  std::thread get_thread(
      [&] { get = GetTask(*stub_, task.id(), kCallDeadline); });
  std::thread create_thread(
      [&] { create = Create(*stub_, project_id_, "frozen", kCallDeadline); });
  absl::Duration slowest_check;
  absl::Time not_serving_at = absl::InfiniteFuture();
  while (absl::Now() - frozen < kGiveUp) {
    const absl::Time asked = absl::Now();
    absl::StatusOr<ServingStatus> health = server_->Health(absl::Seconds(2));
    slowest_check = std::max(slowest_check, absl::Now() - asked);
    if (health.ok() && *health == kNotServing) {
      not_serving_at = absl::Now();
      break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  get_thread.join();
  create_thread.join();
  // Calls after those were cut short are not held up behind their cancels.
  const ClientCall second_get = GetTask(*stub_, task.id(), kCallDeadline);
  for (int check = 0; check < 5; ++check) {
    const absl::Time asked = absl::Now();
    absl::StatusOr<ServingStatus> health = server_->Health(absl::Seconds(2));
    slowest_check = std::max(slowest_check, absl::Now() - asked);
    EXPECT_TRUE(health.ok()) << health.status();
  }

  // The server's own account: it answered each call, within the bound.
  std::vector<LoggedCall> gets =
      AwaitLogged(*server_, kGetTaskMethod, gets_before, 2);
  std::vector<LoggedCall> creates =
      AwaitLogged(*server_, kCreateTaskMethod, creates_before, 1);
  double slowest_server_ms = 0;
  for (const std::vector<LoggedCall>* calls : {&gets, &creates}) {
    for (const LoggedCall& call : *calls) {
      EXPECT_TRUE(FailedAsHung(call.code)) << call.code;
      slowest_server_ms = std::max(slowest_server_ms, call.milliseconds);
    }
  }
  EXPECT_EQ(gets.size(), 2) << "the server never answered a GetTask";
  EXPECT_EQ(creates.size(), 1) << "the server never answered the CreateTask";
  EXPECT_LE(slowest_server_ms,
            absl::ToDoubleMilliseconds(kCallDeadline + kCallBound));
  const ClientCall* client_calls[] = {&get, &create, &second_get};
  for (const ClientCall* call : client_calls) {
    EXPECT_TRUE(FailedAsHung(CodeName(call->code))) << CodeName(call->code);
    EXPECT_LE(call->took, kCallDeadline + kCallBound);
  }

  const absl::Time signalled = absl::Now();
  ASSERT_TRUE(server_->Signal(SIGTERM).ok());
  absl::StatusOr<int> exit_code =
      server_->WaitForExit(kDrainTimeout + kExitBound + absl::Seconds(4));
  const absl::Time exited = absl::Now();
  (*freeze)->Thaw();

  auto server_ms = [](const std::vector<LoggedCall>& calls, size_t i) {
    return i < calls.size()
               ? absl::StrCat(calls[i].code, "/", calls[i].milliseconds, "ms")
               : std::string("none");
  };
  ReportFigure(absl::StrCat(
      "frozen_processes=", (*freeze)->processes(), " not_serving_after=",
      not_serving_at == absl::InfiniteFuture()
          ? absl::StrCat(">", Millis(kGiveUp))
          : Millis(not_serving_at - frozen),
      " slowest_health_check=", Millis(slowest_check), " call_deadline=",
      Millis(kCallDeadline), " get_client=", CodeName(get.code), "/",
      Millis(get.took), " get_server=", server_ms(gets, 0),
      " create_client=", CodeName(create.code), "/", Millis(create.took),
      " create_server=", server_ms(creates, 0),
      " second_get_client=", CodeName(second_get.code), "/",
      Millis(second_get.took), " second_get_server=", server_ms(gets, 1),
      " drain_timeout=", Millis(kDrainTimeout), " exit_after_sigterm=",
      exit_code.ok() ? Millis(exited - signalled)
                     : absl::StrCat(">", Millis(exited - signalled))));

  EXPECT_LE(not_serving_at - frozen, kNotServingWithin)
      << "health did not turn NOT_SERVING; " << server_->LogTail();
  EXPECT_LE(slowest_check, kHealthCheckWithin);
  ASSERT_TRUE(exit_code.ok())
      << exit_code.status() << "; " << server_->LogTail();
  EXPECT_EQ(*exit_code, 0);
  EXPECT_LE(exited - signalled, kDrainTimeout + kExitBound);
}

TEST_P(HungDatabaseTest, ServesAgainOnceTheDatabaseContinues) {
  ASSERT_NO_FATAL_FAILURE(StartWithProject(ServerOptions(), "thawed"));
  ::tasks::testing::PostgresServer* postgres = Postgres();
  ASSERT_NE(postgres, nullptr);

  absl::StatusOr<std::unique_ptr<PostgresFreeze>> freeze =
      PostgresFreeze::Freeze(postgres->data_dir());
  ASSERT_TRUE(freeze.ok()) << freeze.status();
  absl::StatusOr<absl::Duration> not_serving =
      server_->WaitForHealth(kNotServing, kGiveUp);
  const ClientCall frozen_call =
      Create(*stub_, project_id_, "while frozen", kCallDeadline);
  (*freeze)->Thaw();
  ASSERT_TRUE(not_serving.ok()) << not_serving.status();
  EXPECT_TRUE(FailedAsHung(CodeName(frozen_call.code)));

  absl::StatusOr<absl::Duration> serving =
      server_->WaitForHealth(kServing, absl::Seconds(15));
  ASSERT_TRUE(serving.ok()) << serving.status() << "; " << server_->LogTail();
  // Calls succeed again (a connection the freeze broke is replaced).
  ClientCall create;
  int attempts = 0;
  do {
    ++attempts;
    create = Create(*stub_, project_id_, absl::StrCat("thawed ", attempts),
                    absl::Seconds(5));
  } while (create.code != grpc::StatusCode::OK && attempts < 10);
  EXPECT_EQ(create.code, grpc::StatusCode::OK);
  v1::Task task;
  ASSERT_TRUE(
      CreateTask(*stub_, project_id_, "after", absl::Seconds(5), 0, &task)
          .ok());
  EXPECT_EQ(GetTask(*stub_, task.id(), absl::Seconds(5)).code,
            grpc::StatusCode::OK);

  ReportFigure(absl::StrCat("not_serving_after_freeze=", Millis(*not_serving),
                            " call_while_frozen=", CodeName(frozen_call.code),
                            "/", Millis(frozen_call.took),
                            " serving_after_thaw=", Millis(*serving),
                            " create_attempts_until_ok=", attempts));
}

TEST_P(HungDatabaseTest, FrozenBatchesAndListsEndAndGiveTheirSlotsBack) {
  // Two slots for lists and two for batches; 4 lists and 2 batches wait.
  ASSERT_NO_FATAL_FAILURE(
      StartWithProject(ServerOptions({"--max_concurrent_lists=2",
                                      "--max_threads=8", "--log_level=info"}),
                       "slots"));
  ::tasks::testing::PostgresServer* postgres = Postgres();
  ASSERT_NE(postgres, nullptr);
  // More of each than run and wait together.
  constexpr int kCalls = 10;

  absl::StatusOr<std::unique_ptr<PostgresFreeze>> freeze =
      PostgresFreeze::Freeze(postgres->data_dir());
  ASSERT_TRUE(freeze.ok()) << freeze.status();
  std::vector<ClientCall> calls(2 * kCalls);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCalls; ++i) {
    threads.emplace_back([&, i] {
      auto stub = v1::TaskService::NewStub(server_->NewChannel());
      calls[i] =
          Batch(*stub, project_id_, absl::StrCat("frozen-", i), kCallDeadline);
    });
    threads.emplace_back([&, i] {
      auto stub = v1::TaskService::NewStub(server_->NewChannel());
      calls[kCalls + i] = List(*stub, kCallDeadline);
    });
  }
  for (std::thread& thread : threads) thread.join();
  // The server's own account: it answered each call within the bound, the
  // database still frozen.
  std::vector<LoggedCall> batches =
      AwaitLogged(*server_, kBatchCreateTasksMethod, 0, kCalls);
  std::vector<LoggedCall> lists =
      AwaitLogged(*server_, kListTasksMethod, 0, kCalls);
  (*freeze)->Thaw();
  EXPECT_EQ(batches.size(), kCalls) << "batches the server never answered";
  EXPECT_EQ(lists.size(), kCalls) << "lists the server never answered";
  double slowest_server_ms = 0;
  for (const std::vector<LoggedCall>* logged : {&batches, &lists}) {
    for (const LoggedCall& call : *logged) {
      slowest_server_ms = std::max(slowest_server_ms, call.milliseconds);
    }
  }
  EXPECT_LE(slowest_server_ms,
            absl::ToDoubleMilliseconds(kCallDeadline + kCallBound));

  std::map<std::string, int> codes;
  for (const ClientCall& call : calls) {
    const std::string code = call.code == grpc::StatusCode::RESOURCE_EXHAUSTED
                                 ? "RESOURCE_EXHAUSTED"
                                 : CodeName(call.code);
    ++codes[code];
    EXPECT_TRUE(FailedAsHung(code) || code == "RESOURCE_EXHAUSTED") << code;
    EXPECT_LE(call.took, kCallDeadline + kCallBound);
  }

  ASSERT_TRUE(server_->WaitForHealth(kServing, absl::Seconds(15)).ok())
      << server_->LogTail();
  // Every slot is free again: as many batches as there are batch slots and
  // waiters (2 + 2), then as many lists (2 + 4), at once, all succeed (a
  // connection the freeze broke may fail a call).
  for (const auto& [kind, count] : {std::pair<const char*, int>{"batch", 4},
                                    std::pair<const char*, int>{"list", 6}}) {
    std::vector<ClientCall> after(count);
    threads.clear();
    for (int i = 0; i < count; ++i) {
      threads.emplace_back([&, i, batch = kind == std::string("batch")] {
        auto stub = v1::TaskService::NewStub(server_->NewChannel());
        do {
          after[i] = batch ? Batch(*stub, project_id_,
                                   absl::StrCat("after-", i), absl::Seconds(10))
                           : List(*stub, absl::Seconds(10));
        } while (after[i].code == grpc::StatusCode::UNAVAILABLE);
      });
    }
    for (std::thread& thread : threads) thread.join();
    for (const ClientCall& call : after) {
      EXPECT_EQ(call.code, grpc::StatusCode::OK)
          << kind << ": " << CodeName(call.code);
    }
  }
  // A batch is stored whole or not at all, whatever the freeze cut.
  absl::StatusOr<int64_t> frozen_rows =
      CountRows(backend(), database(),
                "SELECT count(*) FROM tasks WHERE title LIKE 'frozen-%'");
  ASSERT_TRUE(frozen_rows.ok()) << frozen_rows.status();
  EXPECT_EQ(*frozen_rows % kTasksPerBatch, 0) << *frozen_rows;

  std::string outcome;
  for (const auto& [code, count] : codes) {
    absl::StrAppend(&outcome, outcome.empty() ? "" : " ", code, "=", count);
  }
  ReportFigure(absl::StrCat(kCalls, " batches and ", kCalls,
                            " lists on the frozen database: ", outcome,
                            ", slowest by the server's log ", slowest_server_ms,
                            " ms; batch tasks stored ", *frozen_rows));
}

INSTANTIATE_RELIABILITY_TEST_SUITE(HungDatabaseTest);

}  // namespace
}  // namespace tasks::reliability
