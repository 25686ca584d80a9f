#ifndef TASKS_FUZZ_TASK_SERVICE_FUZZ_TARGET_H_
#define TASKS_FUZZ_TASK_SERVICE_FUZZ_TARGET_H_

// The fuzz target of tasks.v1.TaskService: one input is one call.
//
// Input format: the first byte b picks the RPC by its id, b % 64 (see
// RpcIds(); an id without an RPC makes no call), and the caller, b / 64:
//   0  a server without auth (so byte b < 64 calls RPC b plainly);
//   1  auth on, a token that may use every project;
//   2  auth on, a token that may use project 1 only;
//   3  auth on, no token.
// The remaining bytes are that RPC's serialized request, parsed as gRPC
// parses it. Bytes protobuf cannot parse end the input (gRPC answers
// INTERNAL without calling the service). Otherwise the request goes to a
// TaskServiceImpl on a fresh in-memory SQLite store holding the seed rows
// below, lists are followed for two more pages, a WatchTasks stream is
// prepared and its first few events after one write of each kind are read
// (see RunWatch), and every outcome is checked
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
#include <map>
#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace tasks::fuzz {

// RPC ids run from 0 to kRpcIdLimit - 1; the callers an input's first byte
// chooses among (see above) fill the rest of the byte.
inline constexpr int kRpcIdLimit = 64;
inline constexpr int kCallerCount = 4;
static_assert(kRpcIdLimit * kCallerCount == 256, "one byte picks both");

// Each RPC of tasks.v1.TaskService by its id in the input format ("GetTask").
// Ids are fixed for good: never renumbered or reused, a new RPC takes a free
// one. So adding an RPC leaves every input, the checked-in corpus included,
// calling the RPC it called before.
const std::map<int, std::string>& RpcIds();

// The id of the RPC named `name`, or -1 when there is none.
int RpcIdOf(absl::string_view name);

// An input calling the RPC with id `rpc_id` as caller `caller` with
// `request`.
std::string EncodeInput(int rpc_id, int caller,
                        const google::protobuf::Message& request);

// Runs one input (see above). Returns normally unless an invariant breaks.
void RunInput(const uint8_t* data, size_t size);

}  // namespace tasks::fuzz

#endif  // TASKS_FUZZ_TASK_SERVICE_FUZZ_TARGET_H_
