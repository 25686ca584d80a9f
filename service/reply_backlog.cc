#include "service/reply_backlog.h"

#include <cassert>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/error_reason.h"

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

ReplyBacklog::ReplyBacklog(Limits limits) : limits_(limits) {}

ReplyBacklog::Ticket::~Ticket() {
  if (backlog_ != nullptr) backlog_->Release(*this);
}

bool ReplyBacklog::Clear() const {
  return unread_bytes_.load(std::memory_order_relaxed) < limits_.total_bytes &&
         connection_bytes_.load(std::memory_order_relaxed) <
             limits_.per_connection_bytes;
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
    if (mine >= limits_.per_connection_bytes) {
      refused =
          Unread("this connection holds", mine, limits_.per_connection_bytes);
    } else if (total >= limits_.total_bytes && mine > 0) {
      refused = Unread("the server holds", total, limits_.total_bytes);
    } else {
      return absl::OkStatus();
    }
  }
  refused_.fetch_add(1, std::memory_order_relaxed);
  return refused;
}

void ReplyBacklog::Hold(int64_t bytes, PeerFn peer, Ticket& ticket) {
  assert(ticket.backlog_ == nullptr);
  ticket.backlog_ = this;
  ticket.bytes_ = bytes;
  unread_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  if (bytes < kSmallReplyBytes) return;
  std::string address = peer();
  absl::MutexLock lock(&mu_);
  auto found = connections_.find(address);
  if (found == connections_.end()) {
    auto connection = std::make_unique<Connection>(std::move(address));
    found = connections_.emplace(connection->peer, std::move(connection)).first;
  }
  ticket.connection_ = found->second.get();
  ++ticket.connection_->replies;
  ticket.connection_->bytes += bytes;
  connection_bytes_.fetch_add(bytes, std::memory_order_relaxed);
}

void ReplyBacklog::Release(Ticket& ticket) {
  unread_bytes_.fetch_sub(ticket.bytes_, std::memory_order_relaxed);
  Connection* connection = ticket.connection_;
  if (connection == nullptr) return;
  absl::MutexLock lock(&mu_);
  connection->bytes -= ticket.bytes_;
  connection_bytes_.fetch_sub(ticket.bytes_, std::memory_order_relaxed);
  if (--connection->replies == 0) {
    connections_.erase(connections_.find(connection->peer));
  }
}

ReplyBacklog::Stats ReplyBacklog::stats() const {
  return {.unread_bytes = unread_bytes_.load(std::memory_order_relaxed),
          .refused = refused_.load(std::memory_order_relaxed)};
}

}  // namespace tasks::service
