// SIGTERM while clients create tasks, with calls held in flight by another
// connection's write lock: health turns NOT_SERVING at once (seen by a Watch
// stream), the held calls complete with OK once the lock goes, the process
// exits 0 within its drain deadline, and every acknowledged create is stored.
// And SIGTERM with a connection that never reads: the process exits at once.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/reliability/create_load.h"
#include "tests/reliability/database_checks.h"
#include "tests/reliability/database_lock.h"
#include "tests/reliability/health_watcher.h"
#include "tests/reliability/reliability_test_base.h"
#include "tests/testing/loopback_port.h"
#include "tests/testing/metrics_scrape.h"

namespace tasks::reliability {
namespace {

using ::tasks::testing::MetricSamples;

constexpr int kClients = 8;
constexpr absl::Duration kDrainTimeout = absl::Seconds(5);
// How long the calls stay held after SIGTERM: well inside the drain timeout
// and SQLite's 5 s busy timeout.
constexpr absl::Duration kHeldAfterSignal = absl::Milliseconds(500);

using SigtermDrainTest = ReliabilityTest;

TEST_P(SigtermDrainTest, InFlightCallsCompleteAndProcessExitsZero) {
  absl::StatusOr<int> metrics_port = ::tasks::testing::FreeLoopbackPort();
  ASSERT_TRUE(metrics_port.ok()) << metrics_port.status();
  ASSERT_NO_FATAL_FAILURE(StartWithProject(
      ServerOptions(
          {absl::StrCat("--drain_timeout=",
                        absl::FormatDuration(kDrainTimeout)),
           absl::StrCat("--metrics_listen=127.0.0.1:", *metrics_port)}),
      "drain"));
  HealthWatcher watcher(server_->NewChannel());
  ASSERT_TRUE(watcher.AwaitServing(absl::Seconds(10)));

  CreateLoadOptions options;
  options.clients = kClients;
  options.project_id = project_id_;
  options.call_deadline = absl::Seconds(30);
  CreateLoad load([this] { return server_->NewFailFastChannel(); }, options);
  load.Start();
  while (load.acknowledged_count() < 100) absl::SleepFor(absl::Milliseconds(5));

  // Every client's next create waits for the lock.
  absl::StatusOr<std::unique_ptr<DatabaseWriteLock>> lock =
      DatabaseWriteLock::Acquire(backend(), database());
  ASSERT_TRUE(lock.ok()) << lock.status();
  const absl::Time locked = absl::Now();
  while (load.in_flight() < kClients &&
         absl::Now() - locked < absl::Seconds(2)) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  // Sent is not yet received: wait until the server holds every call, so
  // that none arrives after SIGTERM (and is refused) on a busy machine.
  double server_in_flight = 0;
  while (absl::Now() - locked < absl::Seconds(10)) {
    absl::StatusOr<MetricSamples> samples =
        MetricSamples::Scrape(*metrics_port);
    ASSERT_TRUE(samples.ok()) << samples.status();
    server_in_flight = samples->Value("grpc_server_calls_in_flight",
                                      {{"grpc_method", "CreateTask"}});
    if (server_in_flight >= kClients) break;
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(server_in_flight, kClients);
  // A call committed just before the lock was taken may still be on its way
  // back; its client's next call is the one held. Wait until none finishes.
  for (int64_t finished = load.Outcomes().size();;) {
    absl::SleepFor(absl::Milliseconds(200));
    const int64_t now_finished = load.Outcomes().size();
    if (now_finished == finished && load.in_flight() == kClients) break;
    ASSERT_LT(absl::Now() - locked, absl::Seconds(10))
        << "calls keep finishing while the database is locked";
    finished = now_finished;
  }
  const int in_flight_at_signal = load.in_flight();
  EXPECT_EQ(in_flight_at_signal, kClients);

  const absl::Time signalled = absl::Now();
  ASSERT_TRUE(server_->Signal(SIGTERM).ok());
  const absl::Time not_serving_at = watcher.AwaitNotServing(absl::Seconds(2));
  absl::SleepFor(kHeldAfterSignal - (absl::Now() - signalled));
  EXPECT_TRUE(server_->Running()) << "exited before its calls finished";
  // The held calls may complete before Release() returns.
  const absl::Time released = absl::Now();
  (*lock)->Release();
  absl::StatusOr<int> exit_code =
      server_->WaitForExit(kDrainTimeout + absl::Seconds(5));
  const absl::Time exited = absl::Now();
  load.Stop();

  ASSERT_TRUE(exit_code.ok())
      << exit_code.status() << "; " << server_->LogTail();
  EXPECT_EQ(*exit_code, 0);
  EXPECT_LT(not_serving_at - signalled, absl::Milliseconds(500))
      << "health did not turn NOT_SERVING at once";
  EXPECT_LT(exited - signalled, kDrainTimeout);

  // Calls sent before the signal all completed, with OK.
  const std::vector<CreateOutcome> outcomes = load.Outcomes();
  int64_t started_before_signal = 0;
  int64_t ok_before_signal = 0;
  for (const CreateOutcome& outcome : outcomes) {
    if (outcome.start >= signalled) continue;
    ++started_before_signal;
    if (outcome.code == grpc::StatusCode::OK) {
      ++ok_before_signal;
    } else {
      ADD_FAILURE() << "a call sent before SIGTERM ended "
                    << CodeName(outcome.code) << ": " << outcome.message;
    }
  }
  // The held calls ended only once the lock was released.
  int64_t held_completed = 0;
  for (const CreateOutcome& outcome : outcomes) {
    held_completed += outcome.start < signalled && outcome.end >= released &&
                      outcome.code == grpc::StatusCode::OK;
  }
  EXPECT_EQ(held_completed, in_flight_at_signal);
  const OutcomeSummary summary = Summarize(outcomes, options.call_deadline);
  EXPECT_EQ(UnexpectedCodes(
                summary, {grpc::StatusCode::OK, grpc::StatusCode::UNAVAILABLE}),
            "");

  ASSERT_TRUE(RestartServer(*server_));
  auto restarted = v1::TaskService::NewStub(server_->NewChannel());
  absl::StatusOr<LossReport> loss = CheckAcknowledgedTasks(
      load.Acknowledged(), *restarted, backend(), database());
  ASSERT_TRUE(loss.ok()) << loss.status();
  EXPECT_EQ(loss->lost(), 0);

  ReportFigure(absl::StrCat(
      "in_flight_at_sigterm=", in_flight_at_signal,
      " held_calls_completed_ok=", held_completed,
      " not_serving_after_sigterm=", Millis(not_serving_at - signalled),
      " exit_code=", *exit_code,
      " exit_after_sigterm=", Millis(exited - signalled),
      " exit_after_release=", Millis(exited - released), " drain_timeout=",
      Millis(kDrainTimeout), " acknowledged=", loss->acknowledged,
      " lost=", loss->lost(), " calls: ", CodeCounts(summary)));
}

// A connection whose client stopped (here one that sent HTTP/2's preface and
// never reads again, so gRPC's closing handshake never ends) does not hold
// the drain up: with no call left, the process exits at once, not at the
// drain timeout, when gRPC gives up on the connection.
TEST_P(SigtermDrainTest, AConnectionThatNeverReadsDoesNotHoldTheDrain) {
  ASSERT_NO_FATAL_FAILURE(StartWithProject(
      ServerOptions({absl::StrCat("--drain_timeout=",
                                  absl::FormatDuration(kDrainTimeout))}),
      "idle"));
  const int stalled = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(stalled, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(server_->port());
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(stalled, reinterpret_cast<const sockaddr*>(&address),
                    sizeof(address)),
            0);
  // The client preface, then an empty SETTINGS frame.
  const std::string preface = std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") +
                              std::string("\0\0\0\x04\0\0\0\0\0", 9);
  ASSERT_EQ(send(stalled, preface.data(), preface.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(preface.size()));
  // Served calls on another connection, so that the server is not new.
  ASSERT_TRUE(
      CreateTask(*stub_, project_id_, "before", absl::Seconds(10)).ok());

  const absl::Time signalled = absl::Now();
  ASSERT_TRUE(server_->Signal(SIGTERM).ok());
  absl::StatusOr<int> exit_code = server_->WaitForExit(absl::Seconds(30));
  const absl::Time exited = absl::Now();
  close(stalled);
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
  ReportFigure(absl::StrCat("exit_after_sigterm=", Millis(exited - signalled),
                            " with a connection that never reads; "
                            "drain_timeout=",
                            Millis(kDrainTimeout)));
  EXPECT_LT(exited - signalled, kDrainTimeout / 2);
}

INSTANTIATE_RELIABILITY_TEST_SUITE(SigtermDrainTest);

}  // namespace
}  // namespace tasks::reliability
