#ifndef TASKS_FUZZ_TASK_SERVICE_FUZZ_TARGET_H_
#define TASKS_FUZZ_TASK_SERVICE_FUZZ_TARGET_H_

// The fuzz target of tasks.v1.TaskService: one input is one call.
//
// Input format: the first byte b picks the RPC, RpcNames()[b % 11], and the
// caller, (b / 11) % 4:
//   0  a server without auth (so bytes 0..10 call each RPC plainly);
//   1  auth on, a token that may use every project;
//   2  auth on, a token that may use project 1 only;
//   3  auth on, no token.
// The remaining bytes are that RPC's serialized request, parsed as gRPC
// parses it. Bytes protobuf cannot parse end the input (gRPC answers
// INTERNAL without calling the service). Otherwise the request goes to a
// TaskServiceImpl on a fresh in-memory SQLite store holding the seed rows
// below, lists are followed for two more pages, and every outcome is checked
// (service_invariants.h); a broken invariant aborts the process, which the
// fuzzer reports as a crash.
//
// Seed rows, in this order (ids 1, 2 and 1, 2, 3 on a fresh database):
//   project 1 "Home", project 2 "Work" (description "office");
//   task 1 "Write tests" in project 1, HIGH, metadata
//     {"tags": ["a", "b"], "n": 1, "owner": {"name": "ann"}}, request id
//     "seed-1"; task 2 "Ship" in project 2, IN_PROGRESS; task 3 "Loose",
//   in no project. Each task's etag is "\"1\"" until it is updated.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "google/protobuf/message.h"

namespace tasks::fuzz {

// The RPCs of tasks.v1.TaskService, by index.
const std::vector<std::string>& RpcNames();

// The callers an input's first byte chooses among (see above).
inline constexpr int kCallerCount = 4;

// An input calling RpcNames()[rpc] as caller `caller` with `request`.
std::string EncodeInput(int rpc, int caller,
                        const google::protobuf::Message& request);

// Runs one input (see above). Returns normally unless an invariant breaks.
void RunInput(const uint8_t* data, size_t size);

}  // namespace tasks::fuzz

#endif  // TASKS_FUZZ_TASK_SERVICE_FUZZ_TARGET_H_
