#include "tests/reliability/task_fill.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace tasks::reliability {
namespace {

// Within api::kMaxBatchMetadataValues: 40 x 241 values.
constexpr int kTasksPerBatch = 40;
constexpr int kMetadataValues = 240;
constexpr int kMaxTasks = 1'000'000;

absl::Status FromGrpc(const grpc::Status& status, absl::string_view call) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(call, ": ", status.error_message()));
}

}  // namespace

void AddNulls(google::protobuf::ListValue* list, int count) {
  for (int i = 0; i < count; ++i) {
    list->add_values()->set_null_value(google::protobuf::NULL_VALUE);
  }
}

grpc::Status CreateBatch(v1::TaskService::Stub& stub, int64_t project_id,
                         int first, int count) {
  v1::BatchCreateTasksRequest request;
  for (int i = 0; i < count; ++i) {
    v1::Task* task = request.add_requests()->mutable_task();
    task->set_project_id(project_id);
    task->set_title(absl::StrCat("t", first + i));
    AddNulls((*task->mutable_metadata()->mutable_fields())["k0"]
                 .mutable_list_value(),
             kMetadataValues);
  }
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  v1::BatchCreateTasksResponse response;
  return stub.BatchCreateTasks(&context, request, &response);
}

grpc::Status ListNothing(v1::TaskService::Stub& stub) {
  v1::ListTasksRequest request;
  request.set_page_size(1000);
  request.set_metadata_key("k0");
  request.mutable_metadata_value()->set_string_value("absent");
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
  v1::ListTasksResponse response;
  grpc::Status status = stub.ListTasks(&context, request, &response);
  if (status.ok() && response.tasks_size() != 0) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "the filter matched");
  }
  return status;
}

absl::StatusOr<FilledProject> FillUntilListIsSlow(v1::TaskService::Stub& stub,
                                                  int64_t project_id,
                                                  absl::Duration slow) {
  FilledProject filled;
  int target = 20000;
  while (true) {
    for (; filled.tasks < target; filled.tasks += kTasksPerBatch) {
      grpc::Status status =
          CreateBatch(stub, project_id, filled.tasks, kTasksPerBatch);
      if (!status.ok()) return FromGrpc(status, "BatchCreateTasks");
    }
    const absl::Time start = absl::Now();
    grpc::Status status = ListNothing(stub);
    filled.one_list = absl::Now() - start;
    if (!status.ok()) return FromGrpc(status, "ListTasks");
    if (filled.one_list >= slow) return filled;
    if (filled.tasks >= kMaxTasks) {
      return absl::DeadlineExceededError(
          absl::StrCat("a list of ", filled.tasks, " tasks took ",
                       absl::ToInt64Milliseconds(filled.one_list), "ms"));
    }
    // Extrapolates from the last list, with a margin.
    const double factor = 1.3 * absl::FDivDuration(slow, filled.one_list);
    target = std::min(kMaxTasks,
                      static_cast<int>(filled.tasks * std::max(factor, 1.2)));
  }
}

}  // namespace tasks::reliability
