// Connection-level limits of the real task_server: a flood of connections
// holding streams that never send their message is refused at the door (no
// token) and cannot starve a client with a token; idle connections are closed
// after --max_connection_idle; messages beyond --network_memory_mib are
// refused; a client pinging too often is cut off. Figures:
// the server's open descriptors and resident memory, the refusals, and the
// authenticated client's GetTask latency.

#include <dirent.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tasks/v1/tasks.grpc.pb.h"
#include "tests/reliability/process_memory.h"
#include "tests/reliability/reliability_test_base.h"

namespace tasks::reliability {
namespace {

using ::tasks::testing::FastReconnectChannelArguments;

constexpr char kToken[] = "connection-limits-token-0123";

// Open file descriptors of process `pid`: its connections among them.
int OpenDescriptors(pid_t pid) {
  DIR* dir = opendir(absl::StrCat("/proc/", pid, "/fd").c_str());
  if (dir == nullptr) return -1;
  int count = 0;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count;
}

// Resident memory of process `pid`, in MiB.
double ResidentMib(pid_t pid) { return ProcStatusKib(pid, "VmRSS") / 1024.0; }

// Polls every 50 ms until `pid` has at most `most` descriptors open; how long
// that took, or InfiniteDuration after `timeout`.
absl::Duration AwaitDescriptorsAtMost(pid_t pid, int most,
                                      absl::Duration timeout) {
  const absl::Time start = absl::Now();
  while (OpenDescriptors(pid) > most) {
    if (absl::Now() - start > timeout) return absl::InfiniteDuration();
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::Now() - start;
}

// A channel with a connection of its own, connected; null (and a test
// failure) when it does not connect within 10 s.
std::shared_ptr<grpc::Channel> Connect(
    const TaskServerProcess& server,
    grpc::ChannelArguments arguments = FastReconnectChannelArguments()) {
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
      server.address(), grpc::InsecureChannelCredentials(), arguments);
  if (!channel->WaitForConnected(
          absl::ToChronoTime(absl::Now() + absl::Seconds(10)))) {
    ADD_FAILURE() << "no connection to " << server.address();
    return nullptr;
  }
  return channel;
}

// Channels from `channels` still connected after `timeout`, each awaited
// until it leaves READY.
int StillConnectedAfter(
    const std::vector<std::shared_ptr<grpc::Channel>>& channels,
    absl::Duration timeout) {
  const auto deadline = absl::ToChronoTime(absl::Now() + timeout);
  int connected = 0;
  for (const auto& channel : channels) {
    if (channel->GetState(false) == GRPC_CHANNEL_READY &&
        !channel->WaitForStateChange(GRPC_CHANNEL_READY, deadline)) {
      ++connected;
    }
  }
  return connected;
}

// Percentile `p` (0..1) of `values`, which it sorts.
absl::Duration Percentile(std::vector<absl::Duration>& values, double p) {
  if (values.empty()) return absl::ZeroDuration();
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1,
                         static_cast<size_t>(p * values.size()))];
}

class ConnectionLimitsTest : public ReliabilityTest {
 protected:
  // Flags for a server with token auth on.
  std::vector<std::string> AuthFlags() {
    const std::string path =
        absl::StrCat(std::getenv("TEST_TMPDIR"), "/tokens");
    std::ofstream(path) << kToken << " admin *\n";
    return {absl::StrCat("--auth_tokens_file=", path)};
  }
};

// Streams that send their headers and then nothing, on one queue: what a
// client holding server resources without ever sending a message does.
class SilentStreams {
 public:
  SilentStreams(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                int per_channel, absl::Duration deadline) {
    for (const auto& channel : channels) {
      stubs_.push_back(std::make_unique<grpc::GenericStub>(channel));
    }
    for (size_t i = 0; i < channels.size() * per_channel; ++i) {
      calls_.push_back(std::make_unique<Call>());
    }
    // Ends are recorded as they come, while the calls are still starting.
    reaper_ = std::thread([this] {
      for (size_t ended = 0; ended < calls_.size();) {
        void* tag;
        bool ok;
        if (!queue_.Next(&tag, &ok)) return;
        const uintptr_t value = reinterpret_cast<uintptr_t>(tag);
        if (value % 2 == 1) {
          calls_[value / 2]->ended = absl::Now();
          ++ended;
        }
      }
    });
    start_ = absl::Now();
    for (size_t i = 0; i < calls_.size(); ++i) {
      Call& call = *calls_[i];
      call.context.set_deadline(absl::ToChronoTime(start_ + deadline));
      call.stream = stubs_[i / per_channel]->PrepareCall(
          &call.context, "/tasks.v1.TaskService/CreateTask", &queue_);
      call.stream->StartCall(Tag(i, false));
      call.stream->Finish(&call.status, Tag(i, true));
    }
  }
  ~SilentStreams() {
    for (const auto& call : calls_) call->context.TryCancel();
    if (reaper_.joinable()) reaper_.join();
    queue_.Shutdown();
    void* tag;
    bool ok;
    while (queue_.Next(&tag, &ok)) {
    }
  }

  int size() const { return static_cast<int>(calls_.size()); }

  // Waits until every stream has ended; how many ended with `code`, and
  // when the last of them did, counted from the start.
  int AwaitAll(grpc::StatusCode code, absl::Duration* last) {
    reaper_.join();
    int count = 0;
    *last = absl::ZeroDuration();
    for (const auto& call : calls_) {
      if (call->status.error_code() != code) continue;
      ++count;
      *last = std::max(*last, call->ended - start_);
    }
    return count;
  }

 private:
  struct Call {
    grpc::ClientContext context;
    std::unique_ptr<grpc::GenericClientAsyncReaderWriter> stream;
    grpc::Status status;
    absl::Time ended;
  };

  static void* Tag(size_t index, bool finish) {
    return reinterpret_cast<void*>(2 * index + (finish ? 1 : 0));
  }

  std::vector<std::unique_ptr<grpc::GenericStub>> stubs_;
  grpc::CompletionQueue queue_;
  std::vector<std::unique_ptr<Call>> calls_;
  absl::Time start_;
  std::thread reaper_;
};

TEST_P(ConnectionLimitsTest, FloodOfSilentStreamsCannotStarveATokenClient) {
  constexpr int kConnections = 500;
  constexpr int kStreamsPerConnection = 10;
  constexpr absl::Duration kIdleLimit = absl::Seconds(2);
  std::vector<std::string> flags = AuthFlags();
  flags.push_back(
      absl::StrCat("--max_connection_idle=", absl::FormatDuration(kIdleLimit)));
  TaskServerProcess* server = StartServer(ServerOptions(flags));
  ASSERT_NE(server, nullptr);
  const pid_t pid = server->pid();

  std::shared_ptr<grpc::Channel> own = Connect(*server);
  ASSERT_NE(own, nullptr);
  auto stub = v1::TaskService::NewStub(own);
  auto with_token = [](grpc::ClientContext& context) {
    context.AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  };
  v1::Task task;
  {
    grpc::ClientContext context;
    with_token(context);
    v1::CreateTaskRequest request;
    request.mutable_task()->set_title("the one to read");
    ASSERT_TRUE(stub->CreateTask(&context, request, &task).ok());
  }
  const int descriptors_before = OpenDescriptors(pid);
  const double rss_before = ResidentMib(pid);

  std::vector<std::shared_ptr<grpc::Channel>> flood;
  for (int i = 0; i < kConnections; ++i) {
    flood.push_back(Connect(*server));
    ASSERT_NE(flood.back(), nullptr);
  }
  const int descriptors_flooded = OpenDescriptors(pid);
  auto streams = std::make_unique<SilentStreams>(flood, kStreamsPerConnection,
                                                 absl::Seconds(20));

  // The token client keeps reading while the streams arrive and sit.
  std::vector<absl::Duration> latencies;
  int failures = 0;
  double rss_peak = rss_before;
  const absl::Time reading_until = absl::Now() + absl::Seconds(3);
  while (absl::Now() < reading_until) {
    grpc::ClientContext context;
    with_token(context);
    v1::GetTaskRequest request;
    request.set_id(task.id());
    v1::Task read;
    const absl::Time start = absl::Now();
    if (!stub->GetTask(&context, request, &read).ok()) ++failures;
    latencies.push_back(absl::Now() - start);
    rss_peak = std::max(rss_peak, ResidentMib(pid));
  }
  absl::Duration last_refusal;
  const int refused =
      streams->AwaitAll(grpc::StatusCode::UNAUTHENTICATED, &last_refusal);
  rss_peak = std::max(rss_peak, ResidentMib(pid));
  const int total = streams->size();
  streams.reset();

  // The flood's connections, idle now, are closed by the server.
  const absl::Duration closed =
      AwaitDescriptorsAtMost(pid, descriptors_before + 10, absl::Seconds(15));
  // The server has closed them (its descriptors say so); each client learns
  // it when its channel's thread gets to it, which on a busy machine with
  // 500 channels in this process can take more than a second.
  const int still_connected = StillConnectedAfter(flood, absl::Seconds(10));

  const size_t calls = latencies.size();
  ReportFigure(absl::StrFormat(
      "%d connections x %d silent streams without token: %d/%d refused "
      "UNAUTHENTICATED (last after %s); token client: %d GetTask, %d failed, "
      "p50 %s p99 %s max %s; server RSS %.1f -> peak %.1f MiB; server fds "
      "%d -> %d flooded -> %d, idle connections closed %s after the flood "
      "(idle limit %s), %d flood channels still connected",
      kConnections, kStreamsPerConnection, refused, total, Millis(last_refusal),
      static_cast<int>(calls), failures, Millis(Percentile(latencies, 0.5)),
      Millis(Percentile(latencies, 0.99)), Millis(Percentile(latencies, 1.0)),
      rss_before, rss_peak, descriptors_before, descriptors_flooded,
      OpenDescriptors(pid),
      closed == absl::InfiniteDuration() ? "never" : Millis(closed),
      absl::FormatDuration(kIdleLimit), still_connected));
  EXPECT_EQ(refused, total);
  EXPECT_LT(last_refusal, absl::Seconds(10));
  EXPECT_EQ(failures, 0);
  EXPECT_GT(calls, 0u);
  EXPECT_LT(Percentile(latencies, 1.0), absl::Seconds(3));
  EXPECT_LT(rss_peak - rss_before, 64);
  EXPECT_LT(closed, absl::Seconds(10));
  EXPECT_EQ(still_connected, 0);
}

TEST_P(ConnectionLimitsTest, MessagesBeyondTheMemoryLimitAreRefused) {
  // Connections enough that their messages at once pass the limit however
  // quickly the server reads them (on 8, a quiet server could read all).
  constexpr int kConnections = 32;
  constexpr int kCalls = 200;
  constexpr int kMessageBytes = 900 * 1000;
  std::vector<std::string> flags = AuthFlags();
  flags.push_back("--network_memory_mib=16");
  TaskServerProcess* server = StartServer(ServerOptions(flags));
  ASSERT_NE(server, nullptr);
  const pid_t pid = server->pid();
  std::vector<std::unique_ptr<v1::TaskService::Stub>> stubs;
  for (int i = 0; i < kConnections; ++i) {
    std::shared_ptr<grpc::Channel> channel = Connect(*server);
    ASSERT_NE(channel, nullptr);
    stubs.push_back(v1::TaskService::NewStub(channel));
  }
  const double rss_before = ResidentMib(pid);
  std::atomic<bool> sampling{true};
  std::atomic<double> rss_peak{rss_before};
  std::thread sampler([&] {
    while (sampling) {
      rss_peak = std::max(rss_peak.load(), ResidentMib(pid));
      absl::SleepFor(absl::Milliseconds(5));
    }
  });

  // Each call's message is read whole and parsed (then refused for its
  // description's length) unless gRPC refuses it first for lack of memory.
  v1::CreateTaskRequest request;
  request.mutable_task()->set_title("large");
  request.mutable_task()->set_description(std::string(kMessageBytes, 'x'));
  struct Call {
    grpc::ClientContext context;
    v1::Task task;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<v1::Task>> reader;
  };
  grpc::CompletionQueue queue;
  std::vector<std::unique_ptr<Call>> calls;
  for (int i = 0; i < kCalls; ++i) {
    Call& call = *calls.emplace_back(std::make_unique<Call>());
    call.context.AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
    call.context.set_deadline(
        absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    call.reader = stubs[i % kConnections]->AsyncCreateTask(&call.context,
                                                           request, &queue);
    call.reader->Finish(&call.task, &call.status, &call);
  }
  for (int i = 0; i < kCalls; ++i) {
    void* tag;
    bool ok;
    ASSERT_TRUE(queue.Next(&tag, &ok));
  }
  sampling = false;
  sampler.join();
  int refused = 0;
  int read = 0;
  // Calls on a connection gRPC closed to free memory (README: UNAVAILABLE,
  // "GOAWAY received"; never run).
  int closed = 0;
  std::string other;  // any other answer: each one's code and message
  for (const auto& call : calls) {
    switch (call->status.error_code()) {
      case grpc::StatusCode::RESOURCE_EXHAUSTED:
        ++refused;
        break;
      case grpc::StatusCode::INVALID_ARGUMENT:
        ++read;
        break;
      case grpc::StatusCode::UNAVAILABLE:
        ++closed;
        break;
      default:
        absl::StrAppend(&other, " ",
                        static_cast<int>(call->status.error_code()), ": ",
                        call->status.error_message(), ";");
    }
  }

  // The server recovers: a small call goes through.
  grpc::ClientContext context;
  context.AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::ListProjectsRequest list;
  v1::ListProjectsResponse listed;
  const grpc::Status after =
      stubs.front()->ListProjects(&context, list, &listed);

  ReportFigure(absl::StrFormat(
      "%d concurrent %d kB messages on %d connections, "
      "--network_memory_mib=16: "
      "%d read, %d refused RESOURCE_EXHAUSTED, %d on connections closed to "
      "free memory (UNAVAILABLE); server RSS %.1f -> peak %.1f MiB; a call "
      "afterwards: %s",
      kCalls, kMessageBytes / 1000, kConnections, read, refused, closed,
      rss_before, rss_peak.load(), after.ok() ? "OK" : after.error_message()));
  EXPECT_GT(refused, 0);
  EXPECT_EQ(read + refused + closed, kCalls) << "other answers:" << other;
  // Without the limit all are read, and the peak is 45-60 MiB higher (with
  // it, some 22).
  EXPECT_LT(rss_peak - rss_before, 36);
  EXPECT_TRUE(after.ok()) << after.error_message();
}

TEST_P(ConnectionLimitsTest, IdleConnectionsAreClosedAfterTheIdleLimit) {
  constexpr int kConnections = 200;
  TaskServerProcess* server =
      StartServer(ServerOptions({"--max_connection_idle=1s"}));
  ASSERT_NE(server, nullptr);
  const pid_t pid = server->pid();
  const int descriptors_before = OpenDescriptors(pid);

  std::vector<std::shared_ptr<grpc::Channel>> idle;
  for (int i = 0; i < kConnections; ++i) {
    idle.push_back(Connect(*server));
    ASSERT_NE(idle.back(), nullptr);
  }
  const absl::Time connected = absl::Now();
  const int descriptors_connected = OpenDescriptors(pid);
  const int still_connected = StillConnectedAfter(idle, absl::Seconds(10));
  const absl::Duration all_closed = absl::Now() - connected;
  const absl::Duration descriptors_back =
      AwaitDescriptorsAtMost(pid, descriptors_before + 5, absl::Seconds(5));

  // A closed connection is no harm to the client: its next call reconnects.
  auto stub = v1::TaskService::NewStub(idle.front());
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::ListProjectsRequest request;
  v1::ListProjectsResponse response;
  const grpc::Status again = stub->ListProjects(&context, request, &response);

  ReportFigure(absl::StrFormat(
      "%d idle connections (idle limit 1s): %d still connected after %s; "
      "server fds %d -> %d connected -> %d",
      kConnections, still_connected, Millis(all_closed), descriptors_before,
      descriptors_connected, OpenDescriptors(pid)));
  EXPECT_EQ(still_connected, 0);
  EXPECT_LT(descriptors_back, absl::Seconds(5));
  EXPECT_TRUE(again.ok()) << again.error_message();
}

TEST_P(ConnectionLimitsTest, ClientPingingTooOftenIsCutOff) {
  // The server's defaults: a ping without calls at most every 10 s, and 2
  // strikes. This client pings every 100 ms.
  TaskServerProcess* server = StartServer();
  ASSERT_NE(server, nullptr);
  grpc::ChannelArguments arguments = FastReconnectChannelArguments();
  arguments.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 100);
  arguments.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  arguments.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  arguments.SetInt(GRPC_ARG_HTTP2_MIN_SENT_PING_INTERVAL_WITHOUT_DATA_MS, 100);
  std::shared_ptr<grpc::Channel> pinging = Connect(*server, arguments);
  ASSERT_NE(pinging, nullptr);
  const absl::Time connected = absl::Now();
  const int still_connected = StillConnectedAfter({pinging}, absl::Seconds(10));
  const absl::Duration cut_off = absl::Now() - connected;

  ReportFigure(
      absl::StrFormat("client pinging every 100ms without calls: %s after %s",
                      still_connected == 0 ? "disconnected" : "still connected",
                      Millis(cut_off)));
  EXPECT_EQ(still_connected, 0);
}

INSTANTIATE_RELIABILITY_TEST_SUITE(ConnectionLimitsTest);

}  // namespace
}  // namespace tasks::reliability
