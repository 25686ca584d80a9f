// The largest refusal a client can provoke, on the real task_server: a
// ListTasks whose order_by is as long as a message may be (1 MB) is
// INVALID_ARGUMENT with a short message, short trailers and a short log
// line, and sixteen clients sending them at once cost the server little
// memory beyond the requests themselves.

#include <signal.h>

#include <atomic>
#include <cstdint>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/error_reason.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "service/status_util.h"
#include "tasks/v1/tasks.grpc.pb.h"
#include "tests/ops/ops_test_fixture.h"

namespace tasks::ops {
namespace {

// Under the server's 1 MiB message limit, with the request's framing.
constexpr size_t kOrderByBytes = 1000000;
constexpr int kClients = 16;
constexpr int kCallsPerClient = 8;
constexpr char kListTasks[] = "/tasks.v1.TaskService/ListTasks";

// The server's peak resident set (VmHWM) in KiB, 0 when unreadable.
int64_t PeakRssKib(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (!absl::StartsWith(line, "VmHWM:")) continue;
    int64_t kib = 0;
    std::string number = line.substr(6);
    number.erase(number.find("kB"));
    if (absl::SimpleAtoi(number, &kib)) return kib;
  }
  return 0;
}

using LargeRefusalTest = OpsTest;

TEST_F(LargeRefusalTest, AMegabyteOrderByIsAShortRefusalAndAShortLogLine) {
  ::tasks::testing::TaskServerProcess* server = StartServer({});
  ASSERT_NE(server, nullptr);
  const int64_t peak_before = PeakRssKib(server->pid());

  v1::ListTasksRequest request;
  request.set_order_by(std::string(kOrderByBytes, 'a'));
  std::atomic<int> refused{0};
  std::atomic<size_t> longest_message{0}, longest_details{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&] {
      std::unique_ptr<v1::TaskService::Stub> stub = NewStub();
      for (int i = 0; i < kCallsPerClient; ++i) {
        grpc::ClientContext context;
        context.set_deadline(
            absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
        v1::ListTasksResponse response;
        const grpc::Status status =
            stub->ListTasks(&context, request, &response);
        if (status.error_code() != grpc::StatusCode::INVALID_ARGUMENT) {
          ADD_FAILURE() << status.error_code() << " "
                        << status.error_message().substr(0, 200);
          continue;
        }
        ++refused;
        size_t seen = longest_message.load();
        while (status.error_message().size() > seen &&
               !longest_message.compare_exchange_weak(
                   seen, status.error_message().size())) {
        }
        seen = longest_details.load();
        while (status.error_details().size() > seen &&
               !longest_details.compare_exchange_weak(
                   seen, status.error_details().size())) {
        }
        if (i == 0) {
          EXPECT_TRUE(absl::StrContains(status.error_message(), "; use \""))
              << "the accepted orderings were cut off";
        }
      }
    });
  }
  for (std::thread& client : clients) client.join();
  const int64_t peak_after = PeakRssKib(server->pid());
  EXPECT_EQ(refused.load(), kClients * kCallsPerClient);
  EXPECT_LE(longest_message.load(), service::kMaxStatusMessageBytes);
  EXPECT_LE(longest_details.load(), 3 * service::kMaxStatusMessageBytes);
  // The requests themselves: 16 in flight at most, a megabyte each, parsed.
  EXPECT_LE(peak_after - peak_before, 128 * 1024)
      << "peak RSS " << peak_before << " -> " << peak_after << " KiB";

  // The server's own lines: all there (SIGTERM flushes), all short.
  ASSERT_TRUE(server->Signal(SIGTERM).ok());
  ASSERT_TRUE(server->WaitForExit(absl::Seconds(30)).ok());
  std::ifstream log(server->log_path());
  std::string line;
  int call_lines = 0;
  size_t longest_line = 0;
  while (std::getline(log, line)) {
    if (absl::StartsWith(line, "=== ")) continue;  // the harness's own
    longest_line = std::max(longest_line, line.size());
    if (absl::StrContains(line, kListTasks)) {
      ++call_lines;
      EXPECT_TRUE(absl::StrContains(line, "INVALID_ARGUMENT")) << line;
      EXPECT_TRUE(absl::StrContains(line, " bytes left out)")) << line;
    }
  }
  EXPECT_EQ(call_lines, kClients * kCallsPerClient);
  EXPECT_LE(longest_line, 2 * service::kMaxStatusMessageBytes);
  ReportFigure(absl::StrCat(
      kClients * kCallsPerClient, " ListTasks with a ", kOrderByBytes,
      "-byte order_by: message <= ", longest_message.load(), " B, details <= ",
      longest_details.load(), " B, log line <= ", longest_line, " B, peak RSS ",
      peak_before / 1024, " -> ", peak_after / 1024, " MiB"));
}

// gRPC 1.51 inflates a compressed message whole before it checks its size:
// 64 KB of gzip is 64 MiB in the server. Compressed requests are refused
// before their message is read, the unauthenticated health check's too.
TEST_F(LargeRefusalTest, ACompressedRequestIsRefusedBeforeItIsInflated) {
  ::tasks::testing::TaskServerProcess* server = StartServer({});
  ASSERT_NE(server, nullptr);
  const int64_t peak_before = PeakRssKib(server->pid());
  const std::string inflates(64 << 20, 'a');
  const std::string refused_because =
      "Compression algorithm 'gzip' is disabled";
  auto compressed = [](grpc::ClientContext& context) {
    context.set_compression_algorithm(GRPC_COMPRESS_GZIP);
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  };
  {
    v1::CreateTaskRequest request;
    request.mutable_task()->set_title("bomb");
    request.mutable_task()->set_description(inflates);
    grpc::ClientContext context;
    compressed(context);
    v1::Task task;
    const grpc::Status status = NewStub()->CreateTask(&context, request, &task);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED)
        << status.error_message();
    EXPECT_TRUE(absl::StrContains(status.error_message(), refused_because))
        << status.error_message();
  }
  {
    ::grpc::health::v1::HealthCheckRequest request;
    request.set_service(inflates);
    grpc::ClientContext context;
    compressed(context);
    ::grpc::health::v1::HealthCheckResponse response;
    const grpc::Status status =
        ::grpc::health::v1::Health::NewStub(server->NewChannel())
            ->Check(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED)
        << status.error_message();
  }
  const int64_t peak_after = PeakRssKib(server->pid());
  EXPECT_LE(peak_after - peak_before, 16 * 1024)
      << "peak RSS " << peak_before << " -> " << peak_after << " KiB";
  // Uncompressed calls still work.
  grpc::ClientContext context;
  v1::CreateTaskRequest request;
  request.mutable_task()->set_title("plain");
  v1::Task task;
  EXPECT_TRUE(NewStub()->CreateTask(&context, request, &task).ok());
  ReportFigure(absl::StrCat("two requests inflating to 64 MiB: peak RSS ",
                            peak_before / 1024, " -> ", peak_after / 1024,
                            " MiB"));
}

}  // namespace
}  // namespace tasks::ops
