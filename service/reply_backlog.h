#ifndef TASKS_SERVICE_REPLY_BACKLOG_H_
#define TASKS_SERVICE_REPLY_BACKLOG_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace tasks::service {

// ReplyBacklog
//
// The bytes of replies handed to gRPC and not yet read by their clients,
// per connection and in all. A finished reply waits in the server until its
// client reads it (HTTP/2 flow control), so a client that sends calls and
// never reads their replies would make the server hold every reply it asked
// for: 1,200 unread ListTasks pages of the heaviest rows took 348 MiB.
//   - A call arriving on a connection over its budget is refused before it
//     runs (Admit); past the total budget, so is one on a connection holding
//     any unread reply.
//   - A read's reply is checked again once built (AdmitReply), and replaced
//     by the refusal under the same rules, or when the server holds twice
//     its total: calls admitted together (a burst of reads the store answers
//     in one batch) cannot pass the budgets by more than one reply each. A
//     write's reply is always sent (its write is done); the workers' and the
//     store's caps bound how many are built at once.
//   - Once the server holds its total, the reads' large replies waiting
//     longest are dropped (their calls cancelled) until it holds less, when
//     they can bring it under: clients that never read, however many
//     connections they spread over, cannot keep the total full and the
//     others' large reads refused. A reply waiting longest is one its
//     client is not reading; one being read goes out within a few round
//     trips. Only the replies that cannot be dropped (writes', small ones)
//     count towards the total's refusals.
//
// Replies under kSmallReplyBytes count in the total only: they are most
// replies (a task without large fields), and telling their connections
// apart would cost every call a lookup; a connection holds at most
// --max_streams_per_connection of them (4 MiB at the defaults). Connections
// are told apart by their peer address (grpc::ServerContext::peer()): over a
// Unix socket, where clients have none, they all share one budget. What is
// counted is a reply gRPC has not yet framed for sending, which waits on its
// client's flow-control window; the socket's own buffers come on top.
// Thread-safe.
//
// Example:
//   ReplyBacklog backlog({.per_connection_bytes = 8 << 20,
//                         .total_bytes = 32 << 20});
//   auto peer = [&] { return context.peer(); };
//   if (absl::Status refused = backlog.Admit(peer); !refused.ok()) {
//     return Refuse(refused);
//   }
//   ... the call runs ...
//   if (absl::Status refused = backlog.AdmitReply(
//           [&] { return response.ByteSizeLong(); }, peer);
//       !refused.ok()) {
//     return Refuse(refused);
//   }
//   writer.Finish(response, status, tag);
//   backlog.Hold(response.GetCachedSize(), peer, ticket,  // until it is sent
//                [&] { context.TryCancel(); });  // a read's: may be dropped
class ReplyBacklog {
 public:
  static constexpr int64_t kSmallReplyBytes = 4 << 10;

  struct Limits {
    int64_t per_connection_bytes = 8 << 20;
    int64_t total_bytes = 32 << 20;
  };

  struct Stats {
    int64_t unread_bytes = 0;
    int64_t refused = 0;  // calls refused since the start
    int64_t dropped = 0;  // replies dropped since the start
  };

  // The call's peer address, and its reply's size: asked only when needed.
  using PeerFn = absl::FunctionRef<std::string()>;
  using SizeFn = absl::FunctionRef<int64_t()>;

 private:
  struct Connection;

 public:
  // One reply's place in the backlog, until its ticket goes (the reply is
  // sent, or its call gone).
  class Ticket {
   public:
    Ticket() = default;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket();

    // Releases it now (the destructor then does nothing): true when its
    // reply was dropped.
    bool Close();

   private:
    friend class ReplyBacklog;
    ReplyBacklog* backlog_ = nullptr;
    Connection* connection_ = nullptr;  // null for a small reply
    int64_t bytes_ = 0;
    // The rest only under the backlog's lock. A reply that may be dropped
    // has `drop_`, and is in the backlog's list (oldest first) until
    // dropped; a dropped one no longer counts.
    absl::AnyInvocable<void() &&> drop_;
    Ticket* older_ = nullptr;
    Ticket* newer_ = nullptr;
    bool dropped_ = false;
  };

  explicit ReplyBacklog(Limits limits);
  ReplyBacklog(const ReplyBacklog&) = delete;
  ReplyBacklog& operator=(const ReplyBacklog&) = delete;

  // OK when a call from `peer` may run, or RESOURCE_EXHAUSTED (reason
  // UNREAD_REPLIES) saying which budget its connection is over.
  absl::Status Admit(PeerFn peer);

  // As Admit, for a read's reply of `size()` bytes to `peer`, about to be
  // sent; a reply of under kSmallReplyBytes always may be.
  absl::Status AdmitReply(SizeFn size, PeerFn peer);

  // Counts a reply of `bytes` to `peer` into `ticket`, which must not hold
  // one yet. `drop`, when given, cancels the reply's call: the backlog may
  // call it (once, under its lock) while the ticket lives, and stops
  // counting the reply then. Only a read's reply may be dropped.
  void Hold(int64_t bytes, PeerFn peer, Ticket& ticket,
            absl::AnyInvocable<void() &&> drop = nullptr);

  Stats stats() const;

 private:
  struct Connection {
    explicit Connection(std::string peer) : peer(std::move(peer)) {}
    const std::string peer;
    int replies = 0;    // unread, of kSmallReplyBytes or more
    int64_t bytes = 0;  // theirs
  };

  // Under the budgets: no connection is over its own, and the total is not
  // reached. Lock-free, so that connections each under their own budget
  // cost the others no lock, however many hold replies.
  bool Clear() const;
  // Admit and AdmitReply once not Clear().
  absl::Status Check(PeerFn peer, bool reply);
  // Drops the oldest replies that may be while the total is reached, when
  // they can bring it under.
  void DropOldest() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Stops counting a large reply's bytes.
  void Uncount(const Ticket& ticket) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Adds `bytes` (or takes them, when negative) to `connection`'s count.
  void AddBytes(Connection& connection, int64_t bytes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Unlink(Ticket& ticket) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // True when the ticket's reply was dropped.
  bool Release(Ticket& ticket);

  const Limits limits_;
  std::atomic<int64_t> unread_bytes_{0};  // every reply's
  std::atomic<int> connections_over_budget_{0};
  std::atomic<int64_t> refused_{0};
  std::atomic<int64_t> dropped_{0};
  mutable absl::Mutex mu_;
  // The replies that may be dropped, oldest first.
  Ticket* oldest_ ABSL_GUARDED_BY(mu_) = nullptr;
  Ticket* newest_ ABSL_GUARDED_BY(mu_) = nullptr;
  int64_t droppable_bytes_ ABSL_GUARDED_BY(mu_) = 0;  // theirs
  // Connections holding unread replies of kSmallReplyBytes or more, keyed by
  // their own `peer`.
  absl::flat_hash_map<absl::string_view, std::unique_ptr<Connection>>
      connections_ ABSL_GUARDED_BY(mu_);
};

// Logs, at info, that the reply of `bytes` to `method`'s call from `peer`
// was dropped (ReplyBacklog::Hold's `drop`): its call line, written when it
// was sent, says OK, and its client sees CANCELLED. Info lines are queued,
// never waited for: a drop happens under the backlog's lock.
void LogDroppedReply(absl::string_view method, absl::string_view peer,
                     absl::string_view request_id, int64_t bytes);

}  // namespace tasks::service

#endif  // TASKS_SERVICE_REPLY_BACKLOG_H_
