#ifndef TASKS_TESTS_RELIABILITY_WORST_TASK_H_
#define TASKS_TESTS_RELIABILITY_WORST_TASK_H_

// The fields the API's caps allow that cost a server the most memory, for
// the tests that a server's peak RSS stays within its target whatever
// clients send.

#include <grpcpp/grpcpp.h>

#include <cstdint>

#include "google/protobuf/struct.pb.h"
#include "tasks/v1/tasks.grpc.pb.h"
#include "tasks/v1/tasks.pb.h"

namespace tasks::reliability {

// Metadata at the caps shaped for the largest parsed size per stored byte:
// one key holding a list of empty objects, 1,000 values in all (the key's
// list counts), about 3 KB of JSON text that parses into ~200 KB of Struct.
void SetWorstMetadata(google::protobuf::Struct* metadata);

// The longest description: 10,000 characters of 4 bytes each (40 KB).
void SetWorstDescription(v1::Task* task);

// Creates `count` tasks titled "worst-<i>" in `project_id`, each with
// SetWorstMetadata, in batches within api::kMaxBatchMetadataValues; the
// first failed batch's status.
grpc::Status CreateWorstMetadataTasks(v1::TaskService::Stub& stub,
                                      int64_t project_id, int count);

}  // namespace tasks::reliability

#endif  // TASKS_TESTS_RELIABILITY_WORST_TASK_H_
