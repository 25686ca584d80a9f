#include "bench/load_generator.h"

#include <chrono>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/completion_queue.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "tasks/v1/tasks.grpc.pb.h"

namespace tasks::bench {
namespace {

using Clock = std::chrono::steady_clock;

absl::Status ToAbslStatus(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

std::string ByteBufferText(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string text;
  if (!buffer.Dump(&slices).ok()) return text;
  for (const grpc::Slice& slice : slices) {
    text.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return text;
}

std::string CodeName(grpc::StatusCode code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

// One call in flight; reused for the next call when it completes.
struct CallSlot {
  std::unique_ptr<grpc::ClientContext> context;
  std::unique_ptr<grpc::ClientAsyncResponseReader<grpc::ByteBuffer>> reader;
  grpc::ByteBuffer response;
  grpc::Status status;
  Clock::time_point started;
};

// The calls of one client thread: `slots` in flight on its own completion
// queue until `measure_end`.
RunStats DriveCalls(const std::shared_ptr<grpc::Channel>& channel,
                    const Workload& workload, const LoadOptions& options,
                    const std::string& title_prefix, int slots,
                    Clock::time_point warm_end, Clock::time_point measure_end) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  RequestFactory requests(options.method, workload, title_prefix,
                          std::hash<std::string>()(title_prefix),
                          options.list_query);
  const std::string& path = MethodPath(options.method);
  const auto deadline = absl::ToChronoNanoseconds(options.call_deadline);

  auto start_call = [&](CallSlot& slot) {
    slot.context = NewCallContext(options.bearer_token);
    slot.started = Clock::now();
    slot.context->set_deadline(std::chrono::system_clock::now() + deadline);
    slot.reader =
        stub.PrepareUnaryCall(slot.context.get(), path, requests.Next(), &cq);
    slot.reader->StartCall();
    slot.reader->Finish(&slot.response, &slot.status, &slot);
  };

  std::vector<CallSlot> calls(slots);
  for (CallSlot& slot : calls) start_call(slot);

  RunStats stats;
  int in_flight = slots;
  void* tag;
  bool ok;
  while (in_flight > 0 && cq.Next(&tag, &ok)) {
    CallSlot& slot = *static_cast<CallSlot*>(tag);
    const Clock::time_point now = Clock::now();
    if (now >= warm_end && now <= measure_end) {
      if (slot.status.ok()) {
        ++stats.ok;
        stats.latency.Record(absl::FromChrono(now - slot.started));
        stats.response_bytes += static_cast<int64_t>(slot.response.Length());
      } else {
        ++stats.errors[CodeName(slot.status.error_code())];
      }
    }
    if (now < measure_end) {
      start_call(slot);
    } else {
      --in_flight;
    }
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return stats;
}

}  // namespace

std::shared_ptr<grpc::Channel> MakeBenchChannel(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(),
                                   args);
}

absl::Status WaitForServer(const std::shared_ptr<grpc::Channel>& channel,
                           absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  grpc::GenericStub stub(channel);
  const std::string serving = SampleResponseBytes(Method::kNoop);
  grpc::Status last;
  while (absl::Now() < give_up) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
    context.set_wait_for_ready(true);
    grpc::ByteBuffer response;
    grpc::CompletionQueue cq;
    grpc::ByteBuffer request =
        RequestFactory(Method::kNoop, Workload(), "", 0).Next();
    auto reader = stub.PrepareUnaryCall(&context, MethodPath(Method::kNoop),
                                        request, &cq);
    reader->StartCall();
    reader->Finish(&response, &last, nullptr);
    void* tag;
    bool ok;
    cq.Next(&tag, &ok);
    if (last.ok() && ByteBufferText(response) == serving)
      return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::UnavailableError(
      absl::StrCat("server did not report SERVING to a health check: ",
                   last.ok() ? "NOT_SERVING" : last.error_message()));
}

std::unique_ptr<grpc::ClientContext> NewCallContext(
    const std::string& bearer_token) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!bearer_token.empty()) {
    context->AddMetadata("authorization",
                         absl::StrCat("Bearer ", bearer_token));
  }
  return context;
}

absl::StatusOr<Workload> PrepareWorkload(
    const std::shared_ptr<grpc::Channel>& channel, int task_count,
    const std::string& bearer_token) {
  constexpr int kBatch = 1000;
  auto stub = v1::TaskService::NewStub(channel);
  Workload workload;
  workload.tag = NewWorkloadTag();

  v1::CreateProjectRequest create_project;
  create_project.mutable_project()->set_name(workload.tag);
  v1::Project project;
  grpc::Status status = stub->CreateProject(NewCallContext(bearer_token).get(),
                                            create_project, &project);
  if (!status.ok()) return ToAbslStatus(status);
  workload.project_id = project.id();

  for (int first = 0; first < task_count; first += kBatch) {
    v1::BatchCreateTasksRequest batch;
    for (int i = first; i < std::min(task_count, first + kBatch); ++i) {
      *batch.add_requests()->mutable_task() =
          DraftTask(workload.project_id, SeedTitle(workload.tag, i));
    }
    v1::BatchCreateTasksResponse created;
    status = stub->BatchCreateTasks(NewCallContext(bearer_token).get(), batch,
                                    &created);
    if (!status.ok()) return ToAbslStatus(status);
    for (const v1::Task& task : created.tasks()) {
      workload.task_ids.push_back(task.id());
    }
  }
  return workload;
}

Workload SyntheticWorkload(int task_count) {
  Workload workload;
  workload.project_id = 1;
  workload.tag = NewWorkloadTag();
  for (int i = 1; i <= task_count; ++i) workload.task_ids.push_back(i);
  return workload;
}

RunStats RunLoad(const std::shared_ptr<grpc::Channel>& channel,
                 const Workload& workload, const LoadOptions& options) {
  const int threads =
      std::max(1, std::min(options.client_threads, options.concurrency));
  const Clock::time_point warm_end =
      Clock::now() + absl::ToChronoNanoseconds(options.warmup);
  const Clock::time_point measure_end =
      warm_end + absl::ToChronoNanoseconds(options.duration);

  std::vector<RunStats> per_thread(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    const int slots = options.concurrency / threads +
                      (t < options.concurrency % threads ? 1 : 0);
    workers.emplace_back([&, t, slots] {
      per_thread[t] = DriveCalls(channel, workload, options,
                                 CreateTitlePrefix(workload.tag, t), slots,
                                 warm_end, measure_end);
    });
  }
  // CPU clocks read at the window's edges (while calls are in flight).
  std::this_thread::sleep_until(warm_end);
  const absl::Duration client_start = ProcessCpuTime();
  const absl::Duration server_start = options.server_cpu_clock
                                          ? options.server_cpu_clock()
                                          : absl::ZeroDuration();
  std::this_thread::sleep_until(measure_end);
  const absl::Duration client_end = ProcessCpuTime();
  const absl::Duration server_end = options.server_cpu_clock
                                        ? options.server_cpu_clock()
                                        : absl::ZeroDuration();
  for (std::thread& worker : workers) worker.join();

  RunStats total;
  for (const RunStats& stats : per_thread) total.Merge(stats);
  total.elapsed = options.duration;
  total.client_cpu = client_end - client_start;
  total.server_cpu = server_end - server_start;
  return total;
}

}  // namespace tasks::bench
