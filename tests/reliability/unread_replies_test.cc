// A client that sends calls and never reads their replies cannot take the
// server's memory: each reply waits in the server until its client reads it
// (HTTP/2 flow control), and 1,200 unread ListTasks pages of the heaviest
// rows took 348 MiB. The server refuses a connection's further calls once
// it holds its budget of unread replies, and a read's reply once built when
// it would pass the budget (a burst of GetTasks answered together); once
// the server holds its total, the read replies left unread longest are
// dropped, so that clients spread over many connections cannot keep it
// full. Its peak RSS stays within the memory target while a well-behaved
// client on another connection is still served, even one reading large
// pages several at once. Once the replies are read, they are all whole
// and the server holds nothing.

#include <grpcpp/generic/generic_stub.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/error_reason.h"
#include "gtest/gtest.h"
#include "tests/reliability/process_memory.h"
#include "tests/reliability/reliability_test_base.h"
#include "tests/reliability/worst_task.h"
#include "tests/testing/grpc_status_matchers.h"
#include "tests/testing/loopback_port.h"
#include "tests/testing/metrics_scrape.h"

namespace tasks::reliability {
namespace {

using ::tasks::testing::MetricSamples;

// The memory target of the issue: a server's peak RSS, whatever clients ask.
constexpr int64_t kPeakRssLimitKib = 256 * 1024;

constexpr int kWorstTasks = 1000;  // the largest page

// The server's defaults (--max_unread_reply_mib_per_connection,
// --max_unread_reply_mib).
constexpr int64_t kPerConnectionBudget = int64_t{8} << 20;
constexpr int64_t kTotalBudget = int64_t{32} << 20;

// A call refused for its connection's unread replies, or the server's.
const std::string kRefused = absl::StrCat(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                          "/", reason::kUnreadReplies);
// A call whose reply the server dropped, unread.
const std::string kDropped = absl::StrCat(grpc::StatusCode::CANCELLED, "/-");

constexpr char kListTasks[] = "/tasks.v1.TaskService/ListTasks";
constexpr char kGetTask[] = "/tasks.v1.TaskService/GetTask";

std::string Mib(int64_t bytes) { return absl::StrCat(bytes >> 20, " MiB"); }

// UnreadCalls
//
// Calls on a connection of their own whose requests are sent and whose
// replies are not read until ReadAll(): a client that asks and never reads.
class UnreadCalls {
 public:
  explicit UnreadCalls(const TaskServerProcess& server)
      : stub_(SmallWindowChannel(server)) {
    poller_ = std::thread([this] {
      void* tag;
      bool ok;
      while (queue_.Next(&tag, &ok)) {
        const uintptr_t value = reinterpret_cast<uintptr_t>(tag);
        switch (value % kSteps) {
          case kRead: {  // the reply, or none for an error; Send is done
            Call& call = *calls_[value / kSteps];
            call.stream->Finish(&call.status, Tag(value / kSteps, kFinish));
            break;
          }
          case kFinish:
            ++finished_;
            break;
          default:  // its request went
            break;
        }
      }
    });
  }
  ~UnreadCalls() {
    for (const auto& call : calls_) call->context.TryCancel();
    queue_.Shutdown();
    poller_.join();
  }

  // Starts `count` calls of `method` with `request`; their replies stay
  // unread.
  void Send(const std::string& method, const google::protobuf::Message& request,
            int count) {
    grpc::Slice serialized(request.SerializeAsString());
    grpc::ByteBuffer buffer(&serialized, 1);
    for (int i = 0; i < count; ++i) {
      auto call = std::make_unique<Call>();
      call->context.set_deadline(
          absl::ToChronoTime(absl::Now() + absl::Minutes(5)));
      // Headers, request and end of stream in one batch, from WriteLast.
      call->context.set_initial_metadata_corked(true);
      call->stream = stub_.PrepareCall(&call->context, method, &queue_);
      const size_t index = calls_.size();
      Call& started = *call;
      calls_.push_back(std::move(call));
      started.stream->StartCall(nullptr);
      started.stream->WriteLast(buffer, grpc::WriteOptions(),
                                Tag(index, kWrite));
    }
  }

  // Reads every reply and waits for every call's status; how many ended
  // with each code and, for the errors, each reason ("OK", or
  // "RESOURCE_EXHAUSTED/UNREAD_REPLIES"), and the most bytes of one reply.
  std::map<std::string, int> ReadAll(int64_t* largest_reply) {
    for (size_t i = 0; i < calls_.size(); ++i) {
      calls_[i]->stream->Read(&calls_[i]->reply, Tag(i, kRead));
    }
    const absl::Time give_up = absl::Now() + absl::Minutes(1);
    while (finished_.load() < static_cast<int>(calls_.size())) {
      if (absl::Now() > give_up) {
        ADD_FAILURE() << finished_.load() << " of " << calls_.size()
                      << " calls ended within a minute of reading";
        return {};
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
    std::map<std::string, int> outcomes;
    *largest_reply = 0;
    for (const auto& call : calls_) {
      if (call->status.ok()) {
        EXPECT_GT(call->reply.Length(), 0u);
        *largest_reply =
            std::max<int64_t>(*largest_reply, call->reply.Length());
        ++outcomes["OK"];
        continue;
      }
      const auto details = ::tasks::testing::ParseRpcErrorDetails(call->status);
      ++outcomes[absl::StrCat(call->status.error_code(), "/",
                              details.reason.value_or("-"))];
    }
    return outcomes;
  }

 private:
  enum Step { kWrite, kRead, kFinish, kSteps };
  struct Call {
    grpc::ClientContext context;
    std::unique_ptr<grpc::GenericClientAsyncReaderWriter> stream;
    grpc::ByteBuffer reply;
    grpc::Status status;
  };

  // A client window as small as HTTP/2 allows to grow: the replies wait in
  // the server, not in this process (a gRPC client on loopback otherwise
  // widens its window to take megabytes of each).
  static std::shared_ptr<grpc::Channel> SmallWindowChannel(
      const TaskServerProcess& server) {
    grpc::ChannelArguments args =
        ::tasks::testing::WaitForReadyChannelArguments();
    args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
    args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 1);
    return grpc::CreateCustomChannel(server.address(),
                                     grpc::InsecureChannelCredentials(), args);
  }

  static void* Tag(size_t index, Step step) {
    return reinterpret_cast<void*>(index * kSteps + step);
  }

  grpc::GenericStub stub_;
  grpc::CompletionQueue queue_;
  // Grown by Send, read by the poller only once ReadAll asks for replies.
  std::vector<std::unique_ptr<Call>> calls_;
  std::atomic<int> finished_{0};
  std::thread poller_;
};

int Count(const std::map<std::string, int>& outcomes,
          const std::string& outcome) {
  auto found = outcomes.find(outcome);
  return found != outcomes.end() ? found->second : 0;
}

std::string Describe(const std::map<std::string, int>& outcomes) {
  std::string text;
  for (const auto& [outcome, count] : outcomes) {
    absl::StrAppend(&text, text.empty() ? "" : " ", outcome, "=", count);
  }
  return text;
}

// How the well-behaved client lists while the others do not read: `calls`
// at once on its one connection, pages of `page_size`.
struct Reader {
  int page_size = 5;
  int calls = 1;
};

class UnreadRepliesTest : public ReliabilityTest {
 protected:
  // A server holding kWorstTasks of the heaviest metadata, with metrics
  // and `flags`.
  void SetUpHeavyServer(std::vector<std::string> flags = {}) {
    absl::StatusOr<int> port = ::tasks::testing::FreeLoopbackPort();
    ASSERT_TRUE(port.ok()) << port.status();
    metrics_port_ = *port;
    flags.push_back(absl::StrCat("--metrics_listen=127.0.0.1:", metrics_port_));
    server_ = StartServer(ServerOptions(flags));
    ASSERT_NE(server_, nullptr);
    auto stub = v1::TaskService::NewStub(server_->NewChannel());
    const int64_t project_id = CreateProject(*stub, "heavy");
    ASSERT_NE(project_id, 0);
    const grpc::Status filled =
        CreateWorstMetadataTasks(*stub, project_id, kWorstTasks);
    ASSERT_TRUE(filled.ok()) << filled.error_message();
    // And one task as large as the caps allow, for GetTask.
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Minutes(1)));
    v1::CreateTaskRequest create;
    v1::Task* task = create.mutable_task();
    task->set_project_id(project_id);
    task->set_title("heaviest");
    SetWorstDescription(task);
    SetWorstMetadata(task->mutable_metadata());
    v1::Task created;
    grpc::Status status = stub->CreateTask(&context, create, &created);
    ASSERT_TRUE(status.ok()) << status.error_message();
    heaviest_task_id_ = created.id();
  }

  // One list of `page_size` by a client on a connection of its own.
  grpc::Status ListOnNewConnection(int page_size) {
    auto stub = v1::TaskService::NewStub(server_->NewChannel());
    grpc::ClientContext context;
    v1::ListTasksRequest request;
    request.set_page_size(page_size);
    v1::ListTasksResponse page;
    return stub->ListTasks(&context, request, &page);
  }

  double UnreadBytes() {
    absl::StatusOr<MetricSamples> samples =
        MetricSamples::Scrape(metrics_port_);
    EXPECT_TRUE(samples.ok()) << samples.status();
    return samples.ok() ? samples->Value("tasks_unread_reply_bytes") : -1;
  }

  // Polls until the server holds no unread reply (its queue threads may
  // not have seen the last replies sent yet); what it last reported.
  double AwaitNoUnreadBytes() {
    double unread = UnreadBytes();
    for (int poll = 0; poll < 50 && unread != 0; ++poll) {
      absl::SleepFor(absl::Milliseconds(100));
      unread = UnreadBytes();
    }
    return unread;
  }

  // Sends `waves` waves of calls (`wave` sends one) on each of `clients`,
  // a wave every 300 ms, while another client lists and reads its pages:
  // its outcomes, the most unread bytes the server reported, and each
  // unread call's outcome.
  struct Run {
    std::map<std::string, int> reader;
    std::map<std::string, int> unread;
    double most_unread_bytes = 0;
    int64_t largest_reply = 0;
    int64_t peak_kib = 0;
    int64_t before_kib = 0;
    int64_t after_kib = 0;
    int64_t client_kib = 0;
  };
  Run SendUnread(int clients, int waves,
                 absl::FunctionRef<void(UnreadCalls&)> wave,
                 Reader reader_calls = Reader()) {
    std::vector<std::unique_ptr<UnreadCalls>> unread;
    for (int i = 0; i < clients; ++i) {
      unread.push_back(std::make_unique<UnreadCalls>(*server_));
    }
    Run run;
    run.before_kib = ProcStatusKib(server_->pid(), "VmRSS");
    std::atomic<bool> sending{true};
    auto reader_stub = v1::TaskService::NewStub(server_->NewChannel());
    std::vector<std::map<std::string, int>> outcomes(reader_calls.calls);
    std::vector<std::thread> readers;
    for (auto& reader_outcomes : outcomes) {
      readers.emplace_back([&] {
        while (sending.load()) {
          grpc::ClientContext context;
          context.set_deadline(
              absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
          v1::ListTasksRequest request;
          request.set_page_size(reader_calls.page_size);
          v1::ListTasksResponse page;
          const grpc::Status status =
              reader_stub->ListTasks(&context, request, &page);
          const auto details = ::tasks::testing::ParseRpcErrorDetails(status);
          ++reader_outcomes[status.ok()
                                ? "OK"
                                : absl::StrCat(status.error_code(), "/",
                                               details.reason.value_or("-"))];
          absl::SleepFor(absl::Milliseconds(50));
        }
      });
    }
    for (int sent = 0; sent < waves; ++sent) {
      for (auto& calls : unread) wave(*calls);
      for (int poll = 0; poll < 3; ++poll) {
        absl::SleepFor(absl::Milliseconds(100));
        run.most_unread_bytes = std::max(run.most_unread_bytes, UnreadBytes());
      }
    }
    absl::SleepFor(absl::Seconds(1));  // the last wave answered
    run.most_unread_bytes = std::max(run.most_unread_bytes, UnreadBytes());
    sending = false;
    for (std::thread& reader : readers) reader.join();
    for (const auto& reader_outcomes : outcomes) {
      for (const auto& [outcome, count] : reader_outcomes) {
        run.reader[outcome] += count;
      }
    }
    run.peak_kib = ProcStatusKib(server_->pid(), "VmHWM");
    run.after_kib = ProcStatusKib(server_->pid(), "VmRSS");
    run.client_kib = ProcStatusKib(getpid(), "VmRSS");
    for (auto& calls : unread) {
      int64_t largest = 0;
      for (const auto& [outcome, count] : calls->ReadAll(&largest)) {
        run.unread[outcome] += count;
      }
      run.largest_reply = std::max(run.largest_reply, largest);
    }
    return run;
  }

  // `may_drop`: whether the server may have held its total of unread
  // replies, and so dropped some.
  void ExpectBoundedAndDrained(const Run& run, absl::string_view what,
                               bool may_drop) {
    ReportFigure(absl::StrCat(
        what, ": unread calls ", Describe(run.unread), "; reader ",
        Describe(run.reader), "; largest reply ", run.largest_reply >> 10,
        " KiB, most unread ", Mib(static_cast<int64_t>(run.most_unread_bytes)),
        ", RSS before ", run.before_kib >> 10, " MiB, unread ",
        run.after_kib >> 10, " MiB (client ", run.client_kib >> 10,
        " MiB), peak RSS ", run.peak_kib >> 10, " MiB (limit ",
        kPeakRssLimitKib >> 10, " MiB)"));
    EXPECT_LE(run.peak_kib, kPeakRssLimitKib);
    EXPECT_GT(Count(run.unread, "OK"), 0);
    // A list beyond the slots' waiters is busy, and a reply left unread
    // longest once the server holds its total is dropped (its call
    // cancelled); nothing else is expected.
    const std::string busy = absl::StrCat(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                          "/", reason::kResourceExhausted);
    for (const auto& [outcome, count] : run.unread) {
      EXPECT_TRUE(outcome == "OK" || outcome == kRefused || outcome == busy ||
                  (may_drop && outcome == kDropped))
          << outcome << "=" << count;
    }
    // The reader on its own connection was served throughout: its replies
    // are read (its lists may find every list slot taken, as any list may).
    EXPECT_EQ(Count(run.reader, kRefused), 0) << Describe(run.reader);
    EXPECT_GT(Count(run.reader, "OK"), 0);
    // Its replies are the newest: one is dropped only when the server sees
    // it sent later than it builds the total's worth of others' pages.
    EXPECT_LE(Count(run.reader, kDropped), Count(run.reader, "OK") / 10)
        << Describe(run.reader);
    // Read: the server holds nothing any more.
    EXPECT_EQ(AwaitNoUnreadBytes(), 0);
  }

  // Sends a wave of `count` unread ListTasks of the largest page.
  static auto HeaviestPages(int count) {
    return [count](UnreadCalls& calls) {
      v1::ListTasksRequest heaviest;
      heaviest.set_page_size(1000);
      calls.Send(kListTasks, heaviest, count);
    };
  }

  TaskServerProcess* server_ = nullptr;
  int metrics_port_ = 0;
  int64_t heaviest_task_id_ = 0;
};

// The lines of the log at `path` containing `text`.
int LogLinesWith(const std::string& path, absl::string_view text) {
  std::ifstream in(path);
  int count = 0;
  for (std::string line; std::getline(in, line);) {
    count += absl::StrContains(line, text);
  }
  return count;
}

// Replies finished at once (on as many threads as the server answers on)
// may each pass a check the others have not been counted in yet.
constexpr int kRacingReplies = 8;

TEST_P(UnreadRepliesTest, OneConnectionNeverReadingIsRefusedOthersServed) {
  ASSERT_NO_FATAL_FAILURE(SetUpHeavyServer());
  const Run run = SendUnread(/*clients=*/1, /*waves=*/30, HeaviestPages(40));
  ExpectBoundedAndDrained(run, "1 connection x 1,200 unread heaviest pages",
                          /*may_drop=*/false);
  EXPECT_GT(Count(run.unread, kRefused), 0) << Describe(run.unread);
  // Its own budget: the pages being built when it was reached are refused
  // once built.
  EXPECT_LE(run.most_unread_bytes,
            kPerConnectionBudget + kRacingReplies * run.largest_reply);
}

TEST_P(UnreadRepliesTest, ABurstOfReadsAnsweredTogetherStaysWithinTheBudget) {
  ASSERT_NO_FATAL_FAILURE(SetUpHeavyServer());
  // On PostgreSQL the store answers GetTasks in batches: all 1,000 are
  // admitted before the first reply is counted.
  const Run run =
      SendUnread(/*clients=*/1, /*waves=*/1, [this](UnreadCalls& calls) {
        v1::GetTaskRequest request;
        request.set_id(heaviest_task_id_);
        calls.Send(kGetTask, request, 1000);
      });
  ExpectBoundedAndDrained(run, "1 connection x 1,000 unread heaviest tasks",
                          /*may_drop=*/false);
  EXPECT_GT(Count(run.unread, kRefused), 0) << Describe(run.unread);
  EXPECT_LE(run.most_unread_bytes,
            kPerConnectionBudget + kRacingReplies * run.largest_reply);
}

TEST_P(UnreadRepliesTest, ManyConnectionsNeverReadingStayWithinTheTotal) {
  ASSERT_NO_FATAL_FAILURE(SetUpHeavyServer());
  const Run run = SendUnread(/*clients=*/12, /*waves=*/30, HeaviestPages(4));
  ExpectBoundedAndDrained(run, "12 connections x 120 unread heaviest pages",
                          /*may_drop=*/true);
  EXPECT_GT(Count(run.unread, kRefused) + Count(run.unread, kDropped), 0)
      << Describe(run.unread);
  EXPECT_LE(run.most_unread_bytes, kTotalBudget + run.largest_reply);
  // And once they are read, the reader is served again.
  EXPECT_THAT(ListOnNewConnection(5), ::tasks::testing::GrpcOk());
}

TEST_P(UnreadRepliesTest, ConnectionsNeverReadingCannotStarveALargeReader) {
  // At info, the level of the lines saying a reply was dropped.
  ASSERT_NO_FATAL_FAILURE(SetUpHeavyServer({"--log_level=info"}));
  // Each connection holds a few pages, far under its own budget; together
  // they reach the total. Before their oldest replies were dropped, they
  // kept it full, and a client reading pages this large, several at once,
  // was refused whenever one of its own was still on its way.
  const Run run = SendUnread(/*clients=*/40, /*waves=*/20, HeaviestPages(2),
                             Reader{.page_size = 1000, .calls = 4});
  ExpectBoundedAndDrained(run, "40 connections x 40 unread heaviest pages",
                          /*may_drop=*/true);
  EXPECT_GT(Count(run.unread, kDropped), 0) << Describe(run.unread);
  // A reply counts before the oldest make room for it.
  EXPECT_LE(run.most_unread_bytes, kTotalBudget + run.largest_reply);
  // Each dropped reply is counted where an operator sees it (one that was
  // on its way out as it was dropped may still arrive whole).
  absl::StatusOr<MetricSamples> samples = MetricSamples::Scrape(metrics_port_);
  ASSERT_TRUE(samples.ok()) << samples.status();
  const double dropped =
      samples->Value("tasks_unread_reply_dropped_calls_total");
  EXPECT_GE(dropped, Count(run.unread, kDropped));
  // And in the log, whose call lines say OK: one line each, once the
  // logger's last batch is written (none of its lines dropped).
  int logged = 0;
  for (int poll = 0; poll < 50 && logged != dropped; ++poll) {
    absl::SleepFor(absl::Milliseconds(100));
    logged = LogLinesWith(server_->log_path(),
                          "/tasks.v1.TaskService/ListTasks reply of ");
  }
  EXPECT_EQ(logged, dropped) << server_->LogTail();
  samples = MetricSamples::Scrape(metrics_port_);
  ASSERT_TRUE(samples.ok()) << samples.status();
  EXPECT_EQ(samples->Value("tasks_log_lines_dropped_total"), 0);
  // And their calls count as CANCELLED, what their clients saw, not as the
  // OK their handler returned: counted once gRPC is done with each (a reply
  // dropped on its way out that still arrived counts OK).
  const MetricSamples::Labels cancelled = {{"grpc_method", "ListTasks"},
                                           {"grpc_code", "CANCELLED"}};
  const int seen_cancelled =
      Count(run.unread, kDropped) + Count(run.reader, kDropped);
  double counted = -1;
  for (int poll = 0; poll < 50 && counted < seen_cancelled; ++poll) {
    samples = MetricSamples::Scrape(metrics_port_);
    ASSERT_TRUE(samples.ok()) << samples.status();
    counted = samples->Value("grpc_server_handled_total", cancelled);
    if (counted < seen_cancelled) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_GE(counted, seen_cancelled);
  EXPECT_LE(counted, dropped);
}

TEST_P(UnreadRepliesTest, AClientThatGoesAwayLeavesNothingHeld) {
  ASSERT_NO_FATAL_FAILURE(SetUpHeavyServer());
  auto calls = std::make_unique<UnreadCalls>(*server_);
  double held = 0;
  for (int wave = 0; wave < 10 && held < kPerConnectionBudget; ++wave) {
    HeaviestPages(20)(*calls);
    absl::SleepFor(absl::Milliseconds(300));
    held = UnreadBytes();
  }
  EXPECT_GE(held, kPerConnectionBudget);
  // It cancels its calls and closes its connection without reading.
  calls.reset();
  EXPECT_EQ(AwaitNoUnreadBytes(), 0);
  // And the server serves a new client as before.
  EXPECT_THAT(ListOnNewConnection(1000), ::tasks::testing::GrpcOk());
  ReportFigure(absl::StrCat("held ", Mib(static_cast<int64_t>(held)),
                            " unread before the client went"));
}

INSTANTIATE_RELIABILITY_TEST_SUITE(UnreadRepliesTest);

}  // namespace
}  // namespace tasks::reliability
