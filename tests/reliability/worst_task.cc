#include "tests/reliability/worst_task.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/metadata_limits.h"
#include "api/text_rules.h"

namespace tasks::reliability {

void SetWorstMetadata(google::protobuf::Struct* metadata) {
  google::protobuf::ListValue* list =
      (*metadata->mutable_fields())["a"].mutable_list_value();
  // The key's list counts as a value.
  for (int i = 0; i < api::kMaxMetadataValues - 1; ++i) {
    list->add_values()->mutable_struct_value();
  }
}

void SetWorstDescription(v1::Task* task) {
  std::string description;
  description.reserve(4 * api::kMaxDescriptionLength);
  for (size_t i = 0; i < api::kMaxDescriptionLength; ++i) {
    description += "\xF0\x9F\x98\x80";  // U+1F600
  }
  task->set_description(std::move(description));
}

grpc::Status CreateWorstMetadataTasks(v1::TaskService::Stub& stub,
                                      int64_t project_id, int count) {
  constexpr int kPerBatch =
      api::kMaxBatchMetadataValues / api::kMaxMetadataValues;
  for (int first = 0; first < count; first += kPerBatch) {
    v1::BatchCreateTasksRequest batch;
    for (int i = first; i < std::min(count, first + kPerBatch); ++i) {
      v1::Task* task = batch.add_requests()->mutable_task();
      task->set_project_id(project_id);
      task->set_title(absl::StrCat("worst-", i));
      SetWorstMetadata(task->mutable_metadata());
    }
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Minutes(1)));
    v1::BatchCreateTasksResponse created;
    grpc::Status status = stub.BatchCreateTasks(&context, batch, &created);
    if (!status.ok()) return status;
  }
  return grpc::Status::OK;
}

}  // namespace tasks::reliability
