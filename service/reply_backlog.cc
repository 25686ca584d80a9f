#include "service/reply_backlog.h"

#include <cassert>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "service/logging.h"

namespace tasks::service {
namespace {

std::string Mib(int64_t bytes) {
  return absl::StrCat((bytes + (1 << 20) - 1) >> 20, " MiB");
}

absl::Status Unread(absl::string_view holder, int64_t held, int64_t budget) {
  return WithReason(
      absl::ResourceExhaustedError(absl::StrCat(
          holder, " ", Mib(held), " of replies not yet read by ",
          "their client (budget ", Mib(budget),
          "); read the replies of earlier calls before sending more")),
      reason::kUnreadReplies);
}

}  // namespace

void LogDroppedReply(absl::string_view method, absl::string_view peer,
                     absl::string_view request_id, int64_t bytes) {
  if (!LogEnabled(LogLevel::kInfo)) return;
  const std::string message = absl::StrCat(
      method, " reply of ", (bytes + 1023) >> 10, " KiB to ", peer,
      " dropped unread: the server held its total of unread replies ",
      "(--max_unread_reply_mib); the call is cancelled (a reply already ",
      "being sent may still arrive)");
  LogFields(LogLevel::kInfo, message,
            {LogField::Text("method", method), LogField::Text("peer", peer),
             LogField::Text("request_id", request_id),
             LogField::Number("bytes", static_cast<double>(bytes))});
}

ReplyBacklog::ReplyBacklog(Limits limits) : limits_(limits) {}

ReplyBacklog::Ticket::~Ticket() { Close(); }

bool ReplyBacklog::Ticket::Close() {
  if (backlog_ == nullptr) return false;
  ReplyBacklog* const backlog = std::exchange(backlog_, nullptr);
  return backlog->Release(*this);
}

bool ReplyBacklog::Clear() const {
  return unread_bytes_.load(std::memory_order_relaxed) < limits_.total_bytes &&
         connections_over_budget_.load(std::memory_order_relaxed) == 0;
}

absl::Status ReplyBacklog::Admit(PeerFn peer) {
  return Clear() ? absl::OkStatus() : Check(peer, /*reply=*/false);
}

absl::Status ReplyBacklog::AdmitReply(SizeFn size, PeerFn peer) {
  if (Clear() || size() < kSmallReplyBytes) return absl::OkStatus();
  return Check(peer, /*reply=*/true);
}

absl::Status ReplyBacklog::Check(PeerFn peer, bool reply) {
  const int64_t total = unread_bytes_.load(std::memory_order_relaxed);
  absl::Status refused;
  if (reply && total >= 2 * limits_.total_bytes) {
    refused = Unread("the server holds", total, limits_.total_bytes);
  } else {
    const std::string address = peer();
    absl::MutexLock lock(&mu_);
    auto found = connections_.find(address);
    const int64_t mine = found != connections_.end() ? found->second->bytes : 0;
    // Replies that may be dropped make room for this one when it comes:
    // only the others fill the total.
    const int64_t kept =
        unread_bytes_.load(std::memory_order_relaxed) - droppable_bytes_;
    if (mine >= limits_.per_connection_bytes) {
      refused =
          Unread("this connection holds", mine, limits_.per_connection_bytes);
    } else if (kept >= limits_.total_bytes && mine > 0) {
      refused = Unread("the server holds", kept, limits_.total_bytes);
    } else {
      return absl::OkStatus();
    }
  }
  refused_.fetch_add(1, std::memory_order_relaxed);
  return refused;
}

void ReplyBacklog::Hold(int64_t bytes, PeerFn peer, Ticket& ticket,
                        absl::AnyInvocable<void() &&> drop) {
  assert(ticket.backlog_ == nullptr);
  ticket.backlog_ = this;
  ticket.bytes_ = bytes;
  if (bytes < kSmallReplyBytes) {
    unread_bytes_.fetch_add(bytes, std::memory_order_relaxed);
    return;
  }
  std::string address = peer();
  absl::MutexLock lock(&mu_);
  // Counted under the lock that drops: two large replies finishing at once
  // never both count before the oldest make room.
  unread_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  auto found = connections_.find(address);
  if (found == connections_.end()) {
    auto connection = std::make_unique<Connection>(std::move(address));
    found = connections_.emplace(connection->peer, std::move(connection)).first;
  }
  ticket.connection_ = found->second.get();
  ++ticket.connection_->replies;
  AddBytes(*ticket.connection_, bytes);
  if (drop != nullptr) {
    ticket.drop_ = std::move(drop);
    ticket.older_ = newest_;
    (newest_ != nullptr ? newest_->newer_ : oldest_) = &ticket;
    newest_ = &ticket;
    droppable_bytes_ += bytes;
  }
  DropOldest();
}

void ReplyBacklog::DropOldest() {
  const int64_t excess =
      unread_bytes_.load(std::memory_order_relaxed) - limits_.total_bytes + 1;
  // When dropping every reply that may go would not bring the total under,
  // none goes: the rest is writes' and small replies, and the refusals
  // (Check) bound it.
  if (excess <= 0 || droppable_bytes_ < excess) return;
  while (oldest_ != nullptr &&
         unread_bytes_.load(std::memory_order_relaxed) >= limits_.total_bytes) {
    Ticket& ticket = *oldest_;
    Unlink(ticket);
    Uncount(ticket);
    ticket.dropped_ = true;
    dropped_.fetch_add(1, std::memory_order_relaxed);
    // Its call is alive: the ticket goes with it, and its Release waits for
    // this lock.
    std::move(ticket.drop_)();
  }
}

void ReplyBacklog::Uncount(const Ticket& ticket) {
  unread_bytes_.fetch_sub(ticket.bytes_, std::memory_order_relaxed);
  AddBytes(*ticket.connection_, -ticket.bytes_);
}

void ReplyBacklog::AddBytes(Connection& connection, int64_t bytes) {
  const bool was_over = connection.bytes >= limits_.per_connection_bytes;
  connection.bytes += bytes;
  const bool over = connection.bytes >= limits_.per_connection_bytes;
  if (over != was_over) {
    connections_over_budget_.fetch_add(over ? 1 : -1,
                                       std::memory_order_relaxed);
  }
}

void ReplyBacklog::Unlink(Ticket& ticket) {
  (ticket.older_ != nullptr ? ticket.older_->newer_ : oldest_) = ticket.newer_;
  (ticket.newer_ != nullptr ? ticket.newer_->older_ : newest_) = ticket.older_;
  ticket.older_ = ticket.newer_ = nullptr;
  droppable_bytes_ -= ticket.bytes_;
}

bool ReplyBacklog::Release(Ticket& ticket) {
  Connection* connection = ticket.connection_;
  if (connection == nullptr) {
    unread_bytes_.fetch_sub(ticket.bytes_, std::memory_order_relaxed);
    return false;
  }
  absl::MutexLock lock(&mu_);
  if (!ticket.dropped_) {
    if (ticket.drop_ != nullptr) Unlink(ticket);
    Uncount(ticket);
  }
  if (--connection->replies == 0) {
    connections_.erase(connections_.find(connection->peer));
  }
  return ticket.dropped_;
}

ReplyBacklog::Stats ReplyBacklog::stats() const {
  return {.unread_bytes = unread_bytes_.load(std::memory_order_relaxed),
          .refused = refused_.load(std::memory_order_relaxed),
          .dropped = dropped_.load(std::memory_order_relaxed)};
}

}  // namespace tasks::service
