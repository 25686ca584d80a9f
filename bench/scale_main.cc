// Scale: loads 1,000,000 tasks into one project through BatchCreateTasks
// (timed), then measures GetTask and ListTasks latency at page 1 and at page
// 10,000 (50 per page). Keyset pagination keeps deep pages as fast as the
// first; OFFSET would not.
//
//   ./bazelw run -c opt //bench:scale                          # SQLite file
//   ./bazelw run -c opt //bench:scale -- --backend=postgres
//   ./bazelw run -c opt //bench:scale -- --tasks=100000 --deep_page=1000  # quick
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/bench_environment.h"
#include "bench/bench_process.h"
#include "bench/latency_histogram.h"
#include "bench/split_mix.h"
#include "bench/workload.h"
#include "grpcpp/client_context.h"
#include "tasks/v1/tasks.grpc.pb.h"

ABSL_FLAG(std::string, backend, "sqlite-file", "sqlite-file, sqlite-memory or postgres.");
ABSL_FLAG(int, tasks, 1000000, "Tasks to load.");
ABSL_FLAG(int, batch_size, 1000, "Tasks per BatchCreateTasks call (at most 1000).");
ABSL_FLAG(int, deep_page, 10000, "The deep page to compare with page 1.");
ABSL_FLAG(int, samples, 300, "Timed calls per figure.");
ABSL_FLAG(int, pool_size, 0, "task_server --pool_size (0: its default).");
ABSL_FLAG(std::string, scratch_dir, "/var/tmp", "Where the SQLite file goes.");

namespace tasks::bench {
namespace {

using Clock = std::chrono::steady_clock;

absl::Status ToStatus(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

struct Samples {
  LatencyHistogram latency;
  std::string Describe() const {
    return absl::StrFormat("p50 %s  p90 %s  p99 %s  (%d calls)",
                           FormatLatency(latency.Percentile(50)),
                           FormatLatency(latency.Percentile(90)),
                           FormatLatency(latency.Percentile(99)), latency.count());
  }
};

// Times `call` (which returns a grpc::Status) `count` times.
template <typename Call>
absl::StatusOr<Samples> Measure(int count, Call call) {
  Samples samples;
  for (int i = 0; i < count; ++i) {
    const Clock::time_point start = Clock::now();
    grpc::Status status = call(i);
    if (!status.ok()) return ToStatus(status);
    samples.latency.Record(absl::FromChrono(Clock::now() - start));
  }
  return samples;
}

absl::StatusOr<std::vector<int64_t>> Load(v1::TaskService::Stub& stub, int64_t project_id,
                                          const std::string& tag, int tasks, int batch_size) {
  std::vector<int64_t> ids;
  ids.reserve(tasks);
  const absl::Time start = absl::Now();
  for (int first = 0; first < tasks; first += batch_size) {
    v1::BatchCreateTasksRequest batch;
    for (int i = first; i < std::min(tasks, first + batch_size); ++i) {
      *batch.add_requests()->mutable_task() = DraftTask(project_id, SeedTitle(tag, i));
    }
    v1::BatchCreateTasksResponse created;
    grpc::ClientContext context;
    grpc::Status status = stub.BatchCreateTasks(&context, batch, &created);
    if (!status.ok()) return ToStatus(status);
    for (const v1::Task& task : created.tasks()) ids.push_back(task.id());
    if ((first / batch_size) % 100 == 99) {
      std::fprintf(stderr, "  loaded %zu tasks in %s\n", ids.size(),
                   absl::FormatDuration(absl::Trunc(absl::Now() - start, absl::Milliseconds(1)))
                       .c_str());
    }
  }
  const absl::Duration took = absl::Now() - start;
  std::printf("load: %d tasks via BatchCreateTasks (%d per call) in %.1f s = %.0f tasks/s\n",
              tasks, batch_size, absl::ToDoubleSeconds(took),
              tasks / absl::ToDoubleSeconds(took));
  return ids;
}

// Page 1 and page `deep_page` of one listing (`project_id` 0: all tasks).
absl::Status ComparePages(v1::TaskService::Stub& stub, int64_t project_id, int deep_page,
                          int samples) {
  v1::ListTasksRequest request;
  request.set_page_size(kListPageSize);
  if (project_id != 0) request.set_project_id(project_id);
  const std::string what = project_id != 0 ? "ListTasks(project_id)" : "ListTasks(all)";

  // Follow the tokens down to the deep page, timing every hop.
  Samples walk;
  v1::ListTasksRequest deep = request;
  const absl::Time walk_start = absl::Now();
  for (int page = 1; page < deep_page; ++page) {
    v1::ListTasksResponse response;
    grpc::ClientContext context;
    const Clock::time_point start = Clock::now();
    grpc::Status status = stub.ListTasks(&context, deep, &response);
    if (!status.ok()) return ToStatus(status);
    walk.latency.Record(absl::FromChrono(Clock::now() - start));
    if (response.next_page_token().empty()) {
      return absl::OutOfRangeError(absl::StrCat(what, " has only ", page, " pages"));
    }
    deep.set_page_token(response.next_page_token());
  }
  const absl::Duration walked = absl::Now() - walk_start;

  // Page 1 and the deep page in turn, so both see the same moments of a
  // noisy machine.
  int64_t deep_first_id = 0;
  Samples first;
  Samples deep_samples;
  for (int i = 0; i < samples; ++i) {
    for (bool is_deep : {false, true}) {
      v1::ListTasksResponse page;
      grpc::ClientContext context;
      const Clock::time_point start = Clock::now();
      grpc::Status status = stub.ListTasks(&context, is_deep ? deep : request, &page);
      if (!status.ok()) return ToStatus(status);
      (is_deep ? deep_samples : first).latency.Record(absl::FromChrono(Clock::now() - start));
      if (is_deep && page.tasks_size() > 0) deep_first_id = page.tasks(0).id();
    }
  }

  const double p1 = absl::ToDoubleMicroseconds(first.latency.Percentile(50));
  const double pd = absl::ToDoubleMicroseconds(deep_samples.latency.Percentile(50));
  std::printf("%s page 1:      %s\n", what.c_str(), first.Describe().c_str());
  std::printf("%s page %d: %s  (first id %lld)\n", what.c_str(), deep_page,
              deep_samples.Describe().c_str(), static_cast<long long>(deep_first_id));
  std::printf("%s pages 1..%d walked in %.1f s: %s\n", what.c_str(), deep_page - 1,
              absl::ToDoubleSeconds(walked), walk.Describe().c_str());
  std::printf("%s page %d p50 / page 1 p50 = %.2f (target <= 1.5)\n", what.c_str(),
              deep_page, p1 > 0 ? pd / p1 : 0.0);
  return absl::OkStatus();
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "scale: %s\n", status.ToString().c_str());
  return 1;
}

int Main(const char* argv0) {
  absl::optional<Backend> backend = ParseBackend(absl::GetFlag(FLAGS_backend));
  if (!backend) return Fail(absl::InvalidArgumentError("bad --backend"));
  const int batch_size = absl::GetFlag(FLAGS_batch_size);
  if (batch_size < 1 || batch_size > 1000) {
    return Fail(absl::InvalidArgumentError("--batch_size must be in 1..1000"));
  }
  absl::StatusOr<std::unique_ptr<BenchEnvironment>> env =
      BenchEnvironment::Create(argv0, absl::GetFlag(FLAGS_scratch_dir));
  if (!env.ok()) return Fail(env.status());
  for (const std::string& warning : (*env)->Warnings()) {
    std::fprintf(stderr, "warning: %s\n", warning.c_str());
  }
  absl::StatusOr<std::string> db = (*env)->Database(*backend, "scale");
  if (!db.ok()) return Fail(db.status());
  // The server's default flags (its info log included), as users run it.
  std::vector<std::string> args = {absl::StrCat("--db=", *db)};
  if (absl::GetFlag(FLAGS_pool_size) > 0) {
    args.push_back(absl::StrCat("--pool_size=", absl::GetFlag(FLAGS_pool_size)));
  }
  absl::StatusOr<RunningServer> server =
      (*env)->StartServer("service/task_server", args, "task_server-scale.log");
  if (!server.ok()) return Fail(server.status());
  auto stub = v1::TaskService::NewStub(server->channel);

  std::printf("Scale on %s: %d tasks in one project, %d per page\n",
              std::string(BackendName(*backend)).c_str(), absl::GetFlag(FLAGS_tasks),
              kListPageSize);
  const std::string tag = NewWorkloadTag();
  v1::CreateProjectRequest create_project;
  create_project.mutable_project()->set_name(tag);
  v1::Project project;
  grpc::ClientContext project_context;
  if (grpc::Status s = stub->CreateProject(&project_context, create_project, &project);
      !s.ok()) {
    return Fail(ToStatus(s));
  }
  absl::StatusOr<std::vector<int64_t>> ids =
      Load(*stub, project.id(), tag, absl::GetFlag(FLAGS_tasks), batch_size);
  if (!ids.ok()) return Fail(ids.status());

  const int samples = absl::GetFlag(FLAGS_samples);
  uint64_t random_state = 42;
  absl::StatusOr<Samples> get = Measure(samples, [&](int) {
    v1::GetTaskRequest request;
    request.set_id((*ids)[SplitMix64(random_state) % ids->size()]);
    v1::Task task;
    grpc::ClientContext context;
    return stub->GetTask(&context, request, &task);
  });
  if (!get.ok()) return Fail(get.status());
  std::printf("GetTask (random of %zu): %s\n", ids->size(), get->Describe().c_str());

  for (int64_t project_filter : {project.id(), int64_t{0}}) {
    absl::Status compared =
        ComparePages(*stub, project_filter, absl::GetFlag(FLAGS_deep_page), samples);
    if (!compared.ok()) return Fail(compared);
  }
  if (auto memory = server->process->Memory(); memory.ok()) {
    std::printf("task_server memory: VmRSS %.1f MiB, VmHWM %.1f MiB\n",
                memory->rss_kib / 1024.0, memory->peak_kib / 1024.0);
  }
  return server->process->Stop().ok() ? 0 : 1;
}

}  // namespace
}  // namespace tasks::bench

int main(int argc, char** argv) {
  tasks::bench::InitBenchProcess(argc, argv);
  return tasks::bench::Main(argv[0]);
}
