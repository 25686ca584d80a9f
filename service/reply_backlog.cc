#include "service/reply_backlog.h"

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

void ReplyBacklog::Ticket::Hold(int64_t bytes) {
  if (backlog_ == nullptr || held_ != 0) return;
  held_ = bytes;
  connection_->unread_bytes.fetch_add(bytes, std::memory_order_relaxed);
  backlog_->unread_bytes_.fetch_add(bytes, std::memory_order_relaxed);
}

absl::Status ReplyBacklog::Admit(const std::string& peer, Ticket& ticket) {
  absl::Status refused;
  {
    absl::MutexLock lock(&mu_);
    auto found = connections_.find(peer);
    Connection* connection =
        found != connections_.end() ? found->second.get() : nullptr;
    const int64_t mine =
        connection != nullptr
            ? connection->unread_bytes.load(std::memory_order_relaxed)
            : 0;
    const int64_t total = unread_bytes_.load(std::memory_order_relaxed);
    if (mine >= limits_.per_connection_bytes) {
      refused = Unread("this connection holds", mine,
                       limits_.per_connection_bytes);
    } else if (total >= 2 * limits_.total_bytes ||
               (total >= limits_.total_bytes && mine > 0)) {
      refused = Unread("the server holds", total, limits_.total_bytes);
    } else {
      if (connection == nullptr) {
        auto owned = std::make_unique<Connection>(peer);
        connection = owned.get();
        connections_.emplace(connection->peer, std::move(owned));
      }
      ++connection->calls;
      ticket.backlog_ = this;
      ticket.connection_ = connection;
      return absl::OkStatus();
    }
  }
  refused_.fetch_add(1, std::memory_order_relaxed);
  return refused;
}

void ReplyBacklog::Release(Ticket& ticket) {
  Connection* connection = ticket.connection_;
  if (ticket.held_ != 0) {
    connection->unread_bytes.fetch_sub(ticket.held_, std::memory_order_relaxed);
    unread_bytes_.fetch_sub(ticket.held_, std::memory_order_relaxed);
  }
  absl::MutexLock lock(&mu_);
  if (--connection->calls == 0) {
    connections_.erase(connections_.find(connection->peer));
  }
}

ReplyBacklog::Stats ReplyBacklog::stats() const {
  return {.unread_bytes = unread_bytes_.load(std::memory_order_relaxed),
          .refused = refused_.load(std::memory_order_relaxed)};
}

}  // namespace tasks::service
