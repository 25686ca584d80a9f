#ifndef TASKS_SERVICE_REPLY_BACKLOG_H_
#define TASKS_SERVICE_REPLY_BACKLOG_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace tasks::service {

// ReplyBacklog
//
// The bytes of replies handed to gRPC and not yet read by their clients,
// per connection and in all. A finished reply waits in the server until its client reads it
// (HTTP/2 flow control), so a client that sends calls and never reads their
// replies would make the server hold every reply it asked for: a thousand
// unread ListTasks pages of the heaviest rows took ~500 MB. A call arriving
// on a connection over its budget is refused before it runs; past the total
// budget, so is one on a connection holding any unsent reply, and past twice
// the total, every call. Connections are told apart by their peer address
// (grpc::ServerContext::peer()): over a Unix socket, where clients have none,
// they all share one budget. Thread-safe.
//
// Example:
//   ReplyBacklog backlog({.per_connection_bytes = 8 << 20,
//                         .total_bytes = 32 << 20});
//   ReplyBacklog::Ticket ticket;
//   if (absl::Status refused = backlog.Admit(context.peer(), ticket);
//       !refused.ok()) {
//     return Refuse(refused);
//   }
//   ticket.Hold(response.ByteSizeLong());  // until the reply is sent
//   writer.Finish(response, status, tag);
class ReplyBacklog {
 public:
  struct Limits {
    int64_t per_connection_bytes = 8 << 20;
    int64_t total_bytes = 32 << 20;
  };

  struct Stats {
    int64_t unread_bytes = 0;
    int64_t refused = 0;  // calls refused since the start
  };

 private:
  struct Connection;

 public:
  // One call's share of its connection's backlog, from its arrival until
  // its reply is sent (the ticket goes).
  class Ticket {
   public:
    Ticket() = default;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket();

    // The call's reply of `bytes` is handed to gRPC; once per ticket.
    void Hold(int64_t bytes);

   private:
    friend class ReplyBacklog;
    ReplyBacklog* backlog_ = nullptr;
    Connection* connection_ = nullptr;
    int64_t held_ = 0;
  };

  explicit ReplyBacklog(Limits limits);
  ReplyBacklog(const ReplyBacklog&) = delete;
  ReplyBacklog& operator=(const ReplyBacklog&) = delete;

  // Admits a call from `peer` into `ticket` (which must be unused), or
  // returns RESOURCE_EXHAUSTED (reason UNREAD_REPLIES) saying which budget
  // its connection is over.
  absl::Status Admit(const std::string& peer, Ticket& ticket);

  Stats stats() const;

 private:
  struct Connection {
    explicit Connection(std::string peer) : peer(std::move(peer)) {}
    const std::string peer;
    int calls = 0;  // admitted and not yet sent; guarded by mu_
    std::atomic<int64_t> unread_bytes{0};
  };

  void Release(Ticket& ticket);

  const Limits limits_;
  std::atomic<int64_t> unread_bytes_{0};
  std::atomic<int64_t> refused_{0};
  mutable absl::Mutex mu_;
  // Keyed by each connection's own `peer`.
  absl::flat_hash_map<absl::string_view, std::unique_ptr<Connection>>
      connections_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tasks::service

#endif  // TASKS_SERVICE_REPLY_BACKLOG_H_
