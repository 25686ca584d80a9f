#include "bench/watch_load.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/types/optional.h"
#include "grpcpp/client_context.h"
#include "tasks/v1/tasks.grpc.pb.h"

namespace tasks::bench {
namespace {

constexpr absl::Duration kCallDeadline = absl::Seconds(10);
constexpr absl::Duration kOpenTimeout = absl::Seconds(30);

absl::Status ToAbslStatus(const grpc::Status& status, absl::string_view what) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(what, ": ", status.error_message()));
}

std::string CodeName(grpc::StatusCode code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

// The resume_token of a one-task page of `filter`: where a watch of it
// starts, so that no write after this call is missed.
absl::StatusOr<std::string> ResumeToken(v1::TaskService::Stub& stub,
                                        const std::string& filter) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
  v1::ListTasksRequest request;
  request.set_filter(filter);
  request.set_page_size(1);
  v1::ListTasksResponse response;
  grpc::Status status = stub.ListTasks(&context, request, &response);
  if (!status.ok()) return ToAbslStatus(status, "ListTasks");
  if (response.resume_token().empty()) {
    return absl::FailedPreconditionError(
        "ListTasks returned no resume_token: the server has no WatchTasks");
  }
  return response.resume_token();
}

std::string ProjectFilter(int64_t project_id) {
  return absl::StrCat("project_id = ", project_id);
}

}  // namespace

absl::StatusOr<int64_t> CreateBenchProject(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& name) {
  auto stub = v1::TaskService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
  v1::CreateProjectRequest request;
  request.mutable_project()->set_name(name);
  v1::Project project;
  grpc::Status status = stub->CreateProject(&context, request, &project);
  if (!status.ok()) return ToAbslStatus(status, "CreateProject");
  return project.id();
}

// One stream; its own address is the tag of its one operation in flight.
struct IdleWatchers::Stream {
  enum class Step { kStarting, kReading, kFinishing };
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientAsyncReader<v1::TaskEvent>> reader;
  v1::TaskEvent event;
  grpc::Status status;
  Step step = Step::kStarting;
  bool received = false;
};

absl::StatusOr<std::unique_ptr<IdleWatchers>> IdleWatchers::Open(
    const std::shared_ptr<grpc::Channel>& channel, int count,
    int64_t project_id) {
  auto stub = v1::TaskService::NewStub(channel);
  absl::StatusOr<std::string> token =
      ResumeToken(*stub, ProjectFilter(project_id));
  if (!token.ok()) return token.status();
  std::unique_ptr<IdleWatchers> watchers(new IdleWatchers());
  v1::WatchTasksRequest request;
  request.set_filter(ProjectFilter(project_id));
  request.set_resume_token(*token);
  for (int i = 0; i < count; ++i) {
    auto stream = std::make_unique<Stream>();
    stream->reader =
        stub->PrepareAsyncWatchTasks(&stream->context, request, &watchers->cq_);
    stream->reader->StartCall(stream.get());
    watchers->streams_.push_back(std::move(stream));
  }
  watchers->thread_ = std::thread([w = watchers.get()] { w->Drive(); });

  // One event for every stream: each is established at the server.
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
  v1::CreateTaskRequest marker;
  marker.mutable_task()->set_project_id(project_id);
  marker.mutable_task()->set_title(NewWorkloadTag());
  v1::Task created;
  grpc::Status status = stub->CreateTask(&context, marker, &created);
  if (!status.ok()) return ToAbslStatus(status, "CreateTask (marker)");
  absl::MutexLock lock(&watchers->mu_);
  IdleWatchers* w = watchers.get();
  auto settled = [w, count]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(w->mu_) {
    return w->with_event_ + w->ended_ >= count;
  };
  w->mu_.AwaitWithTimeout(absl::Condition(&settled), kOpenTimeout);
  if (w->with_event_ < count) {
    return absl::UnavailableError(absl::StrCat(
        w->with_event_, " of ", count, " watches received their first event; ",
        w->ended_, " ended"));
  }
  return watchers;
}

void IdleWatchers::Drive() {
  void* tag;
  bool ok;
  while (cq_.Next(&tag, &ok)) {
    Stream& stream = *static_cast<Stream*>(tag);
    if (stream.step == Stream::Step::kFinishing) {
      absl::MutexLock lock(&mu_);
      ++finished_;
      if (!cancelling_) ++ended_;
      continue;
    }
    if (stream.step == Stream::Step::kReading && ok && !stream.received) {
      stream.received = true;
      absl::MutexLock lock(&mu_);
      ++with_event_;
    }
    if (ok) {
      stream.step = Stream::Step::kReading;
      stream.reader->Read(&stream.event, &stream);
    } else {
      stream.step = Stream::Step::kFinishing;
      stream.reader->Finish(&stream.status, &stream);
    }
  }
}

int IdleWatchers::ended() const {
  absl::MutexLock lock(&mu_);
  return ended_;
}

IdleWatchers::~IdleWatchers() {
  {
    absl::MutexLock lock(&mu_);
    cancelling_ = true;
  }
  for (auto& stream : streams_) stream->context.TryCancel();
  if (thread_.joinable()) {
    // Each stream's Finish completes once it is cancelled; no operation may
    // start on the queue after Shutdown().
    absl::MutexLock lock(&mu_);
    auto all_finished = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return finished_ == static_cast<int>(streams_.size());
    };
    mu_.Await(absl::Condition(&all_finished));
  }
  cq_.Shutdown();
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<RunStats> RunEventLatency(
    const std::shared_ptr<grpc::Channel>& channel, const Workload& workload,
    const EventLatencyOptions& options) {
  using Clock = std::chrono::steady_clock;
  auto stub = v1::TaskService::NewStub(channel);
  const std::string filter = ProjectFilter(workload.project_id);
  absl::StatusOr<std::string> token = ResumeToken(*stub, filter);
  if (!token.ok()) return token.status();

  // The watcher: when each task's CREATED event arrived.
  absl::Mutex mu;
  absl::flat_hash_map<int64_t, Clock::time_point> arrived;
  int64_t duplicates = 0;
  grpc::ClientContext watch_context;
  v1::WatchTasksRequest watch;
  watch.set_filter(filter);
  watch.set_resume_token(*token);
  std::unique_ptr<grpc::ClientReader<v1::TaskEvent>> reader =
      stub->WatchTasks(&watch_context, watch);
  std::thread watching([&] {
    v1::TaskEvent event;
    while (reader->Read(&event)) {
      const Clock::time_point now = Clock::now();
      if (event.type() != v1::TaskEvent::CREATED) continue;
      absl::MutexLock lock(&mu);
      duplicates += !arrived.emplace(event.task().id(), now).second;
    }
  });

  // The writer: calls started on schedule, their replies' times by task id.
  struct Call {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientAsyncResponseReader<v1::Task>> reader;
    v1::Task task;
    grpc::Status status;
  };
  grpc::CompletionQueue cq;
  std::map<int64_t, Clock::time_point> replied;  // in the window
  RunStats stats;
  const std::string title_prefix = CreateTitlePrefix(workload.tag, 0);
  const Clock::duration interval = std::chrono::nanoseconds(
      1'000'000'000 / std::max(1, options.writes_per_second));
  const Clock::time_point start = Clock::now();
  const Clock::time_point warm_end =
      start + absl::ToChronoNanoseconds(options.warmup);
  const Clock::time_point end =
      warm_end + absl::ToChronoNanoseconds(options.duration);
  Clock::time_point next = start;
  int64_t sequence = 0;
  int in_flight = 0;
  // CPU clocks read at the window's edges, as RunLoad does.
  auto server_cpu = [&options] {
    return options.server_cpu_clock ? options.server_cpu_clock()
                                    : absl::ZeroDuration();
  };
  absl::optional<std::pair<absl::Duration, absl::Duration>> cpu_at_start;
  while (true) {
    Clock::time_point now = Clock::now();
    if (!cpu_at_start && now >= warm_end) {
      cpu_at_start.emplace(ProcessCpuTime(), server_cpu());
    }
    while (next <= now && next < end) {
      if (in_flight >= options.max_in_flight) {
        if (next >= warm_end) ++stats.errors["BEHIND_PACE"];
      } else {
        auto* call = new Call();
        call->context.set_deadline(
            absl::ToChronoTime(absl::Now() + kCallDeadline));
        v1::CreateTaskRequest request;
        *request.mutable_task() = DraftTask(
            workload.project_id, absl::StrCat(title_prefix, ++sequence));
        call->reader = stub->AsyncCreateTask(&call->context, request, &cq);
        call->reader->Finish(&call->task, &call->status, call);
        ++in_flight;
      }
      next += interval;
    }
    if (next >= end && in_flight == 0) break;
    void* tag;
    bool ok;
    // The next call's time, or, once all are started, the last replies'
    // deadline.
    const Clock::duration wait =
        (next < end ? next : end + absl::ToChronoNanoseconds(kCallDeadline)) -
        Clock::now();
    if (cq.AsyncNext(&tag, &ok, std::chrono::system_clock::now() + wait) !=
        grpc::CompletionQueue::GOT_EVENT) {
      if (next >= end) break;  // Replies overdue past their deadline.
      continue;
    }
    std::unique_ptr<Call> call(static_cast<Call*>(tag));
    --in_flight;
    now = Clock::now();
    if (now < warm_end || now > end) continue;
    if (call->status.ok()) {
      replied[call->task.id()] = now;
    } else {
      ++stats.errors[CodeName(call->status.error_code())];
    }
  }
  if (cpu_at_start) {
    stats.client_cpu = ProcessCpuTime() - cpu_at_start->first;
    stats.server_cpu = server_cpu() - cpu_at_start->second;
  }
  stats.elapsed = options.duration;

  // Every replied write's event, or `settle` to get there.
  auto all_arrived = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    for (const auto& [id, at] : replied) {
      if (!arrived.contains(id)) return false;
    }
    return true;
  };
  {
    absl::MutexLock lock(&mu);
    mu.AwaitWithTimeout(absl::Condition(&all_arrived), options.settle);
    for (const auto& [id, at] : replied) {
      auto it = arrived.find(id);
      if (it == arrived.end()) {
        ++stats.errors["EVENT_MISSING"];
        continue;
      }
      ++stats.ok;
      stats.latency.Record(absl::FromChrono(it->second - at));
    }
    if (duplicates > 0) stats.errors["EVENT_DUPLICATE"] += duplicates;
  }
  watch_context.TryCancel();
  watching.join();
  reader->Finish().IgnoreError();
  cq.Shutdown();
  void* tag;
  bool ok;
  while (cq.Next(&tag, &ok)) delete static_cast<Call*>(tag);
  return stats;
}

}  // namespace tasks::bench
