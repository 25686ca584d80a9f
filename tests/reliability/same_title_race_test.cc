// Two task_server processes on one database (one SQLite file; one PostgreSQL
// database, as two replicas): round after round, 64 clients split across
// both create a task with the same title in one project at the same moment.
// Exactly one wins each round, every other gets ALREADY_EXISTS, and no
// "database is locked" or UNAVAILABLE reaches a client.

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/reliability/create_load.h"
#include "tests/reliability/database_checks.h"
#include "tests/reliability/reliability_test_base.h"

namespace tasks::reliability {
namespace {

constexpr int kServers = 2;
constexpr int kClientsPerRound = 64;
constexpr int kRounds = 50;

using SameTitleRaceTest = ReliabilityTest;

TEST_P(SameTitleRaceTest, TwoServersOneWinnerPerRoundRestAlreadyExists) {
  std::vector<TaskServerProcess*> servers;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < kServers; ++i) {
    servers.push_back(StartServer());
    ASSERT_NE(servers.back(), nullptr);
    channels.push_back(servers.back()->NewChannel());
  }
  auto first = v1::TaskService::NewStub(channels[0]);
  const int64_t project_id = CreateProject(*first, "race");
  ASSERT_NE(project_id, 0);

  std::vector<CreateOutcome> outcomes;
  int rounds_with_one_winner = 0;
  std::map<int, int> wins_by_server;
  int locked_messages = 0;
  for (int round = 0; round < kRounds; ++round) {
    const std::string title = absl::StrCat("same title ", round);
    std::vector<CreateOutcome> round_outcomes(kClientsPerRound);
    std::vector<std::thread> clients;
    absl::Notification go;
    std::atomic<int> ready{0};
    for (int client = 0; client < kClientsPerRound; ++client) {
      clients.emplace_back([&, client] {
        auto stub = v1::TaskService::NewStub(channels[client % kServers]);
        v1::CreateTaskRequest request;
        request.mutable_task()->set_project_id(project_id);
        request.mutable_task()->set_title(title);
        v1::Task task;
        grpc::ClientContext context;
        ++ready;
        go.WaitForNotification();
        CreateOutcome& outcome = round_outcomes[client];
        outcome.start = absl::Now();
        context.set_deadline(
            absl::ToChronoTime(outcome.start + absl::Seconds(30)));
        grpc::Status status = stub->CreateTask(&context, request, &task);
        outcome.end = absl::Now();
        outcome.code = status.error_code();
        outcome.message = status.error_message();
      });
    }
    while (ready < kClientsPerRound) absl::SleepFor(absl::Microseconds(100));
    go.Notify();
    for (std::thread& client : clients) client.join();

    int winners = 0;
    for (int client = 0; client < kClientsPerRound; ++client) {
      const CreateOutcome& outcome = round_outcomes[client];
      if (outcome.code == grpc::StatusCode::OK) {
        ++winners;
        ++wins_by_server[client % kServers];
      }
      locked_messages += absl::StrContains(outcome.message, "locked");
      outcomes.push_back(outcome);
    }
    EXPECT_EQ(winners, 1) << "round " << round;
    rounds_with_one_winner += winners == 1;
  }

  const OutcomeSummary summary = Summarize(outcomes, absl::Seconds(30));
  EXPECT_EQ(UnexpectedCodes(summary, {grpc::StatusCode::OK,
                                      grpc::StatusCode::ALREADY_EXISTS}),
            "");
  EXPECT_EQ(summary.count(grpc::StatusCode::OK), kRounds);
  EXPECT_EQ(summary.count(grpc::StatusCode::ALREADY_EXISTS),
            kRounds * (kClientsPerRound - 1));
  EXPECT_EQ(locked_messages, 0);
  absl::StatusOr<int64_t> stored = CountRows(
      backend(), database(),
      absl::StrCat(
          "SELECT count(DISTINCT title) FROM tasks WHERE project_id = ",
          project_id));
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(*stored, kRounds);
  for (TaskServerProcess* server : servers) {
    EXPECT_TRUE(server->Running()) << server->LogTail();
  }

  ReportFigure(absl::StrCat(
      "servers=", kServers, " rounds=", kRounds, " creates=", summary.calls,
      " rounds_with_one_winner=", rounds_with_one_winner,
      " wins_by_server=", wins_by_server[0], "/", wins_by_server[1],
      " locked_messages=", locked_messages, " calls: ", CodeCounts(summary),
      " max_latency=",
      absl::FormatDuration(
          absl::Trunc(summary.max_latency, absl::Milliseconds(1))),
      " rows=", *stored));
}

INSTANTIATE_RELIABILITY_TEST_SUITE(SameTitleRaceTest);

}  // namespace
}  // namespace tasks::reliability
