#include "bench/workload.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/raw_task_sql.h"
#include "bench/split_mix.h"
#include "google/protobuf/empty.pb.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "grpcpp/impl/codegen/proto_utils.h"

namespace tasks::bench {
namespace {

constexpr absl::string_view kDescription = sql::kDraftDescription;

// Where the store's output-only fields are unknown to the no-op server it
// uses values of the same encoded size as the real ones.
constexpr absl::string_view kSampleEtag = "\"1\"";
constexpr absl::string_view kSamplePageToken =
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAA";  // 69 bytes (cursor + HMAC) in web-safe base64
constexpr int64_t kSampleSeconds = 1767225600;  // 2026-01-01

}  // namespace

absl::string_view MethodName(Method method) {
  switch (method) {
    case Method::kGetTask:
      return "GetTask";
    case Method::kListTasks:
      return "ListTasks";
    case Method::kCreateTask:
      return "CreateTask";
    case Method::kUpdateTask:
      return "UpdateTask";
    case Method::kNoop:
      return "Noop";
  }
  return "?";
}

const std::string& MethodPath(Method method) {
  static const auto* const kPaths = new std::string[] {
    "/tasks.v1.TaskService/GetTask", "/tasks.v1.TaskService/ListTasks",
        "/tasks.v1.TaskService/CreateTask", "/tasks.v1.TaskService/UpdateTask",
        "/grpc.health.v1.Health/Check",
  };
  return kPaths[static_cast<int>(method)];
}

absl::optional<Method> ParseMethod(absl::string_view name) {
  for (Method method : kAllMethods) {
    if (absl::EqualsIgnoreCase(name, MethodName(method))) return method;
  }
  return absl::nullopt;
}

v1::Task DraftTask(int64_t project_id, absl::string_view title) {
  v1::Task task;
  task.set_project_id(project_id);
  task.set_title(std::string(title));
  task.set_description(std::string(kDescription));
  task.set_priority(static_cast<v1::Task::Priority>(sql::kDraftPriority));
  // sql::kDraftMetadata.
  auto& fields = *task.mutable_metadata()->mutable_fields();
  fields["owner"].set_string_value("bench");
  fields["points"].set_number_value(3);
  return task;
}

std::string NewWorkloadTag() {
  return absl::StrCat("bench-", absl::Hex(absl::ToUnixMicros(absl::Now())));
}

std::string SeedTitle(absl::string_view tag, int index) {
  return absl::StrCat(tag, "-seed-", index);
}

std::string CreateTitlePrefix(absl::string_view tag, int thread) {
  return absl::StrCat(tag, "-", absl::Hex(absl::ToUnixMicros(absl::Now())),
                      "-", thread, "-");
}

std::string UpdatedDescription(int64_t sequence) {
  return absl::StrCat(kDescription.substr(0, 40), " update ", sequence);
}

v1::Task SampleStoredTask(int64_t id, int64_t project_id,
                          absl::string_view title) {
  v1::Task task = DraftTask(project_id, title);
  task.set_id(id);
  task.set_status(v1::Task::PENDING);
  task.mutable_create_time()->set_seconds(kSampleSeconds);
  task.mutable_create_time()->set_nanos(123456000);
  *task.mutable_update_time() = task.create_time();
  task.set_etag(std::string(kSampleEtag));
  return task;
}

std::string SampleResponseBytes(Method method) {
  // Ids, titles and times of the sizes a run against the service sees.
  constexpr int64_t kId = 1234;
  constexpr int64_t kProjectId = 12;
  const std::string tag = NewWorkloadTag();
  switch (method) {
    case Method::kGetTask:
      return SampleStoredTask(kId, kProjectId, SeedTitle(tag, 123))
          .SerializeAsString();
    case Method::kUpdateTask: {
      v1::Task task = SampleStoredTask(kId, kProjectId, SeedTitle(tag, 123));
      task.set_description(UpdatedDescription(1234));
      task.set_etag("\"2\"");
      return task.SerializeAsString();
    }
    case Method::kCreateTask:
      return SampleStoredTask(
                 kId, kProjectId,
                 absl::StrCat(CreateTitlePrefix(tag, 0), 12345))
          .SerializeAsString();
    case Method::kListTasks: {
      v1::ListTasksResponse response;
      for (int i = 0; i < kListPageSize; ++i) {
        // The first page of a fresh database: ids from 1, seeds from 0.
        *response.add_tasks() =
            SampleStoredTask(1 + i, kProjectId, SeedTitle(tag, i));
      }
      response.set_next_page_token(std::string(kSamplePageToken));
      return response.SerializeAsString();
    }
    case Method::kNoop:
      // grpc.health.v1.HealthCheckResponse{status: SERVING}.
      return std::string("\x08\x01", 2);
  }
  return "";
}

grpc::ByteBuffer SerializeToByteBuffer(
    const google::protobuf::Message& message) {
  grpc::ByteBuffer buffer;
  bool own_buffer = false;
  grpc::GenericSerialize<grpc::ProtoBufferWriter, google::protobuf::Message>(
      message, &buffer, &own_buffer);
  return buffer;
}

RequestFactory::RequestFactory(Method method, const Workload& workload,
                               std::string title_prefix, uint64_t seed,
                               ListQuery list_query)
    : method_(method),
      list_query_(list_query),
      workload_(workload),
      title_prefix_(std::move(title_prefix)),
      random_state_(seed) {}

int64_t RequestFactory::RandomTaskId() {
  if (workload_.task_ids.empty()) return 1;
  return workload_.task_ids[SplitMix64(random_state_) %
                            workload_.task_ids.size()];
}

grpc::ByteBuffer RequestFactory::Next() {
  ++sequence_;
  switch (method_) {
    case Method::kGetTask: {
      v1::GetTaskRequest request;
      request.set_id(RandomTaskId());
      return SerializeToByteBuffer(request);
    }
    case Method::kListTasks: {
      v1::ListTasksRequest request;
      request.set_page_size(kListPageSize);
      switch (list_query_) {
        case ListQuery::kProject:
          request.set_project_id(workload_.project_id);
          break;
        case ListQuery::kProjectAndStatus:
          request.set_project_id(workload_.project_id);
          request.set_status(v1::Task::PENDING);
          break;
        case ListQuery::kProjectAndStatusFilter:
          request.set_filter(absl::StrCat(
              "project_id = ", workload_.project_id, " AND status = PENDING"));
          break;
      }
      return SerializeToByteBuffer(request);
    }
    case Method::kCreateTask: {
      v1::CreateTaskRequest request;
      *request.mutable_task() = DraftTask(
          workload_.project_id,
          absl::StrCat(title_prefix_, sequence_));
      return SerializeToByteBuffer(request);
    }
    case Method::kUpdateTask: {
      v1::UpdateTaskRequest request;
      v1::Task& task = *request.mutable_task();
      task.set_id(RandomTaskId());
      task.set_description(UpdatedDescription(sequence_));
      request.mutable_update_mask()->add_paths("description");
      return SerializeToByteBuffer(request);
    }
    case Method::kNoop:
      // An empty grpc.health.v1.HealthCheckRequest (all services).
      return SerializeToByteBuffer(google::protobuf::Empty());
  }
  return grpc::ByteBuffer();
}

}  // namespace tasks::bench
