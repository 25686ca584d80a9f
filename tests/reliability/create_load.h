#ifndef TASKS_TESTS_RELIABILITY_CREATE_LOAD_H_
#define TASKS_TESTS_RELIABILITY_CREATE_LOAD_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace tasks::reliability {

struct CreateLoadOptions {
  // Client threads, each with a channel of its own, each with one call in
  // flight at a time.
  int clients = 8;
  // The project the tasks are created in.
  int64_t project_id = 0;
  // Titles are "<prefix>-<client>-<sequence>": unique, so every create is a
  // new row.
  std::string title_prefix = "load";
  // Length of each task's description (bytes of 'x'), to fill a database
  // faster.
  int description_length = 0;
  // Deadline of each call.
  absl::Duration call_deadline = absl::Seconds(10);
  // Pause of a client after a failed call (the server may be down), so that
  // clients do not spin.
  absl::Duration pause_after_failure = absl::Milliseconds(10);
};

// The outcome of one CreateTask call.
struct CreateOutcome {
  absl::Time start;
  absl::Time end;
  grpc::StatusCode code = grpc::StatusCode::OK;
  std::string message;  // The error message; empty for OK.
};

// CreateLoad
//
// Clients creating tasks through the API as fast as the server answers
// (a closed loop), recording every call's outcome and which tasks were
// acknowledged (CreateTask returned OK): the writes that must never be lost.
// Calls go to whatever server listens behind the channels, so the load keeps
// running while a server is killed and restarted, or its database stopped.
//
// Example:
//   CreateLoad load([&] { return server->NewChannel(); }, options);
//   load.Start();
//   ... inject a fault ...
//   load.Stop();
//   CheckAcknowledgedTasks(load.Acknowledged(), ...);
class CreateLoad {
 public:
  using ChannelFactory = std::function<std::shared_ptr<grpc::Channel>()>;

  CreateLoad(ChannelFactory make_channel, CreateLoadOptions options);
  CreateLoad(const CreateLoad&) = delete;
  CreateLoad& operator=(const CreateLoad&) = delete;
  ~CreateLoad();  // Stop().

  // Starts the client threads. Call once.
  void Start();

  // Lets every client finish its call in flight, then joins them.
  // Idempotent.
  void Stop();

  // Tasks acknowledged so far: id → title.
  std::map<int64_t, std::string> Acknowledged() const;
  int64_t acknowledged_count() const;

  // Calls started and not yet finished right now.
  int in_flight() const { return in_flight_.load(); }

  // Every call's outcome so far, in no particular order.
  std::vector<CreateOutcome> Outcomes() const;

 private:
  void RunClient(int client);

  const ChannelFactory make_channel_;
  const CreateLoadOptions options_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> in_flight_{0};

  mutable absl::Mutex mu_;
  std::map<int64_t, std::string> acknowledged_ ABSL_GUARDED_BY(mu_);
  std::vector<CreateOutcome> outcomes_ ABSL_GUARDED_BY(mu_);
};

// How the calls of a load went.
struct OutcomeSummary {
  int64_t calls = 0;
  std::map<grpc::StatusCode, int64_t> codes;
  absl::Duration max_latency = absl::ZeroDuration();
  // Calls that took longer than `deadline` (+ 100 ms of slack for the
  // client's own scheduling): a hang past the deadline.
  int64_t overdue = 0;
  // One message per status code other than OK, for failure messages.
  std::map<grpc::StatusCode, std::string> sample_messages;

  // Calls that ended with `code`.
  int64_t count(grpc::StatusCode code) const {
    auto it = codes.find(code);
    return it == codes.end() ? 0 : it->second;
  }
};

// Summarises `outcomes` (all of them when `from` and `to` are infinite; else
// the calls that ended in [from, to)).
OutcomeSummary Summarize(const std::vector<CreateOutcome>& outcomes,
                         absl::Duration deadline,
                         absl::Time from = absl::InfinitePast(),
                         absl::Time to = absl::InfiniteFuture());

// "OK=120 UNAVAILABLE=7".
std::string CodeCounts(const OutcomeSummary& summary);

// The status codes in `summary` other than those in `allowed`, each with a
// sample message; empty when there is none.
std::string UnexpectedCodes(const OutcomeSummary& summary,
                            const std::vector<grpc::StatusCode>& allowed);

// The name of a gRPC status code ("UNAVAILABLE").
std::string CodeName(grpc::StatusCode code);

}  // namespace tasks::reliability

#endif  // TASKS_TESTS_RELIABILITY_CREATE_LOAD_H_
