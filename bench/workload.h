#ifndef TASKS_BENCH_WORKLOAD_H_
#define TASKS_BENCH_WORKLOAD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "grpcpp/support/byte_buffer.h"
#include "tasks/v1/tasks.pb.h"

namespace tasks::bench {

// The calls a benchmark run can make. kNoop is the standard gRPC health
// check (grpc.health.v1.Health/Check): a round trip that touches no store.
enum class Method { kGetTask, kListTasks, kCreateTask, kUpdateTask, kNoop };

inline constexpr Method kAllMethods[] = {Method::kGetTask, Method::kListTasks,
                                         Method::kCreateTask,
                                         Method::kUpdateTask, Method::kNoop};

// "GetTask", ..., "Noop".
absl::string_view MethodName(Method method);

// The gRPC path, e.g. "/tasks.v1.TaskService/GetTask".
const std::string& MethodPath(Method method);

// Accepts the names MethodName returns, case-insensitively.
absl::optional<Method> ParseMethod(absl::string_view name);

// Page size of every ListTasks call of the benchmarks.
inline constexpr int kListPageSize = 50;

// How ListTasks calls select the workload's tasks (all of them PENDING).
enum class ListQuery {
  // The typed field project_id.
  kProject,
  // The typed fields project_id and status = PENDING.
  kProjectAndStatus,
  // The same as a filter: "project_id = N AND status = PENDING".
  kProjectAndStatusFilter,
};

// The rows a run reads and updates: a project and tasks in it.
struct Workload {
  int64_t project_id = 0;
  std::vector<int64_t> task_ids;
  // Unique per workload; prefixes every title a run creates.
  std::string tag;
};

// A tag no earlier workload used: "bench-" and the time in hex.
std::string NewWorkloadTag();

// Title of the `index`-th task a workload creates before its runs.
std::string SeedTitle(absl::string_view tag, int index);

// Prefix of the titles CreateTask calls of one run and client thread use
// (a sequence number follows); unique across runs of one workload.
std::string CreateTitlePrefix(absl::string_view tag, int thread);

// The description UpdateTask calls set, the `sequence`-th of a stream.
std::string UpdatedDescription(int64_t sequence);

// The client-supplied fields of every benchmark task (title aside), so
// requests and responses have the same size on every server.
v1::Task DraftTask(int64_t project_id, absl::string_view title);

// What the store would return for DraftTask(project_id, title): output-only
// fields filled in. The no-op server answers with these.
v1::Task SampleStoredTask(int64_t id, int64_t project_id,
                          absl::string_view title);

// The no-op server's pre-serialized answer to `method`, the same size as the
// real service's answer for the benchmark's requests.
std::string SampleResponseBytes(Method method);

// RequestFactory
//
// Builds the serialized requests of one stream of calls: GetTask and
// UpdateTask pick a task of the workload at random, ListTasks asks for the
// first page of the workload's project (selected as `list_query` says),
// CreateTask makes a task titled `title_prefix` + a sequence number. Not
// thread-safe: one per client thread, each with its own prefix and seed.
class RequestFactory {
 public:
  RequestFactory(Method method, const Workload& workload,
                 std::string title_prefix, uint64_t seed,
                 ListQuery list_query = ListQuery::kProject);

  grpc::ByteBuffer Next();

 private:
  int64_t RandomTaskId();

  Method method_;
  ListQuery list_query_;
  const Workload& workload_;
  std::string title_prefix_;
  int64_t sequence_ = 0;
  uint64_t random_state_;
};

// Serializes `message` the way gRPC's generated stubs do.
grpc::ByteBuffer SerializeToByteBuffer(const google::protobuf::Message& message);

}  // namespace tasks::bench

#endif  // TASKS_BENCH_WORKLOAD_H_
