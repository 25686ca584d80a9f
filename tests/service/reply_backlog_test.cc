#include "service/reply_backlog.h"

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "common/error_reason.h"
#include "gtest/gtest.h"

namespace tasks::service {
namespace {

constexpr int64_t kPerConnection = 1000;
constexpr int64_t kTotal = 2500;

class ReplyBacklogTest : public ::testing::Test {
 protected:
  // A ticket admitted for `peer` holding `bytes`; null when refused.
  std::unique_ptr<ReplyBacklog::Ticket> Reply(const std::string& peer,
                                              int64_t bytes) {
    auto ticket = std::make_unique<ReplyBacklog::Ticket>();
    if (!backlog_.Admit(peer, *ticket).ok()) return nullptr;
    ticket->Hold(bytes);
    return ticket;
  }

  void ExpectRefused(const std::string& peer, absl::string_view budget) {
    ReplyBacklog::Ticket ticket;
    const absl::Status refused = backlog_.Admit(peer, ticket);
    EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted) << refused;
    EXPECT_EQ(ErrorReason(refused), reason::kUnreadReplies);
    EXPECT_NE(refused.message().find(budget), absl::string_view::npos)
        << refused;
  }

  ReplyBacklog backlog_{
      {.per_connection_bytes = kPerConnection, .total_bytes = kTotal}};
};

TEST_F(ReplyBacklogTest, CountsRepliesUntilTheirTicketsGo) {
  auto first = Reply("ipv4:127.0.0.1:1", 300);
  auto second = Reply("ipv4:127.0.0.1:2", 200);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(backlog_.stats().unread_bytes, 500);
  first.reset();
  EXPECT_EQ(backlog_.stats().unread_bytes, 200);
  second.reset();
  EXPECT_EQ(backlog_.stats().unread_bytes, 0);
  EXPECT_EQ(backlog_.stats().refused, 0);
}

TEST_F(ReplyBacklogTest, RefusesAConnectionOverItsBudgetAndOnlyIt) {
  auto a1 = Reply("a", 600);
  auto a2 = Reply("a", 600);  // admitted under the budget, now over it
  ASSERT_NE(a2, nullptr);
  ExpectRefused("a", "this connection holds");
  EXPECT_NE(Reply("b", 10), nullptr);
  EXPECT_EQ(backlog_.stats().refused, 1);

  a1.reset();  // its client read one reply: under the budget again
  EXPECT_NE(Reply("a", 10), nullptr);
}

TEST_F(ReplyBacklogTest, PastTheTotalServesOnlyConnectionsHoldingNone) {
  std::vector<std::unique_ptr<ReplyBacklog::Ticket>> held;
  for (const char* peer : {"a", "b", "c"}) held.push_back(Reply(peer, 900));
  ASSERT_EQ(backlog_.stats().unread_bytes, 2700);  // over 2,500

  ExpectRefused("a", "the server holds");  // under its own budget, holds some
  auto fresh = Reply("d", 2000);            // holds none: served
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(backlog_.stats().unread_bytes, 4700);
  auto other = Reply("e", 400);  // still under twice the total
  ASSERT_NE(other, nullptr);

  // 5,100 >= 2 x 2,500: every connection is refused.
  ExpectRefused("f", "the server holds");

  held.clear();
  fresh.reset();
  other.reset();
  EXPECT_EQ(backlog_.stats().unread_bytes, 0);
  EXPECT_NE(Reply("a", 1), nullptr);
}

TEST_F(ReplyBacklogTest, ACallAnsweredWithoutAReplyHoldsNothing) {
  {
    ReplyBacklog::Ticket ticket;
    ASSERT_TRUE(backlog_.Admit("a", ticket).ok());
  }
  EXPECT_EQ(backlog_.stats().unread_bytes, 0);
  // A connection whose calls all ended is forgotten: one holding as much
  // again is admitted.
  auto again = Reply("a", kPerConnection);
  ASSERT_NE(again, nullptr);
  ExpectRefused("a", "this connection holds");
}

TEST_F(ReplyBacklogTest, CallsInFlightKeepTheirConnectionsCount) {
  ReplyBacklog::Ticket running;  // admitted, its reply not built yet
  ASSERT_TRUE(backlog_.Admit("a", running).ok());
  auto sent = Reply("a", kPerConnection);
  sent.reset();  // read; `running` still keeps the connection
  auto more = Reply("a", kPerConnection);
  ASSERT_NE(more, nullptr);
  running.Hold(1);
  ExpectRefused("a", "this connection holds");
}

}  // namespace
}  // namespace tasks::service
