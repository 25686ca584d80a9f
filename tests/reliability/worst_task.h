#ifndef TASKS_TESTS_RELIABILITY_WORST_TASK_H_
#define TASKS_TESTS_RELIABILITY_WORST_TASK_H_

// The fields the API's caps allow that cost a server the most memory, for
// the tests that a server's peak RSS stays within its target whatever
// clients send.

#include "google/protobuf/struct.pb.h"
#include "tasks/v1/tasks.pb.h"

namespace tasks::reliability {

// Metadata at the caps shaped for the largest parsed size per stored byte:
// one key holding a list of empty objects, 1,000 values in all (the key's
// list counts), about 3 KB of JSON text that parses into ~200 KB of Struct.
void SetWorstMetadata(google::protobuf::Struct* metadata);

// The longest description: 10,000 characters of 4 bytes each (40 KB).
void SetWorstDescription(v1::Task* task);

}  // namespace tasks::reliability

#endif  // TASKS_TESTS_RELIABILITY_WORST_TASK_H_
