#include "service/reply_backlog.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "gtest/gtest.h"

namespace tasks::service {
namespace {

// Replies counted per connection.
constexpr int64_t kLarge = ReplyBacklog::kSmallReplyBytes;
constexpr int64_t kPerConnection = 10 * kLarge;
constexpr int64_t kTotal = 25 * kLarge;

class ReplyBacklogTest : public ::testing::Test {
 protected:
  absl::Status Admit(const std::string& peer) {
    return backlog_.Admit([&] { return peer; });
  }
  absl::Status AdmitReply(const std::string& peer, int64_t bytes) {
    return backlog_.AdmitReply([&] { return bytes; }, [&] { return peer; });
  }

  // A reply of `bytes` to `peer`, admitted and held; null when refused.
  std::unique_ptr<ReplyBacklog::Ticket> Reply(const std::string& peer,
                                              int64_t bytes) {
    if (!Admit(peer).ok()) return nullptr;
    auto ticket = std::make_unique<ReplyBacklog::Ticket>();
    backlog_.Hold(
        bytes, [&] { return peer; }, *ticket);
    return ticket;
  }

  // As Reply, for a read whose reply may be dropped: its peer is then
  // listed in dropped_.
  std::unique_ptr<ReplyBacklog::Ticket> Read(const std::string& peer,
                                             int64_t bytes) {
    if (!Admit(peer).ok()) return nullptr;
    auto ticket = std::make_unique<ReplyBacklog::Ticket>();
    backlog_.Hold(
        bytes, [&] { return peer; }, *ticket,
        [this, peer] { dropped_.push_back(peer); });
    return ticket;
  }

  void ExpectRefused(const std::string& peer, absl::string_view budget) {
    ExpectRefused(Admit(peer), budget);
  }
  static void ExpectRefused(const absl::Status& refused,
                            absl::string_view budget) {
    EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted) << refused;
    EXPECT_EQ(ErrorReason(refused), reason::kUnreadReplies);
    EXPECT_NE(refused.message().find(budget), absl::string_view::npos)
        << refused;
  }

  int64_t unread() const { return backlog_.stats().unread_bytes; }

  ReplyBacklog backlog_{
      {.per_connection_bytes = kPerConnection, .total_bytes = kTotal}};
  std::vector<std::string> dropped_;
};

TEST_F(ReplyBacklogTest, CountsRepliesUntilTheirTicketsGo) {
  auto large = Reply("ipv4:127.0.0.1:1", 3 * kLarge);
  auto small = Reply("ipv4:127.0.0.1:2", 200);
  ASSERT_NE(large, nullptr);
  ASSERT_NE(small, nullptr);
  EXPECT_EQ(unread(), 3 * kLarge + 200);
  large.reset();
  EXPECT_EQ(unread(), 200);
  small.reset();
  EXPECT_EQ(unread(), 0);
  EXPECT_EQ(backlog_.stats().refused, 0);
}

TEST_F(ReplyBacklogTest, RefusesAConnectionOverItsBudgetAndOnlyIt) {
  auto a1 = Reply("a", 6 * kLarge);
  auto a2 = Reply("a", 6 * kLarge);  // admitted under the budget, now over
  ASSERT_NE(a2, nullptr);
  ExpectRefused("a", "this connection holds");
  EXPECT_NE(Reply("b", kLarge), nullptr);
  EXPECT_EQ(backlog_.stats().refused, 1);

  a1.reset();  // its client read one reply: under the budget again
  EXPECT_NE(Reply("a", kLarge), nullptr);
}

TEST_F(ReplyBacklogTest, SmallRepliesCountInTheTotalOnly) {
  std::vector<std::unique_ptr<ReplyBacklog::Ticket>> small;
  for (int i = 0; i < 60; ++i) small.push_back(Reply("a", kLarge - 1));
  ASSERT_NE(small.back(), nullptr);
  EXPECT_EQ(unread(), 60 * (kLarge - 1));  // over twice kTotal
  // Its connection holds none of the replies counted per connection: its
  // calls still run, and their small replies are still sent.
  EXPECT_TRUE(Admit("a").ok());
  EXPECT_TRUE(AdmitReply("a", kLarge - 1).ok());
  // But a large read's reply is refused past twice the total.
  ExpectRefused(AdmitReply("c", kLarge), "the server holds");
  small.clear();
  EXPECT_EQ(unread(), 0);
  EXPECT_TRUE(AdmitReply("c", kLarge).ok());
}

TEST_F(ReplyBacklogTest, ReadsAdmittedTogetherPassTheBudgetByOneReplyAtMost) {
  // Calls admitted together, against an empty backlog.
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(Admit("a").ok());
  std::vector<std::unique_ptr<ReplyBacklog::Ticket>> sent;
  int refused = 0;
  for (int i = 0; i < 20; ++i) {
    if (!AdmitReply("a", 3 * kLarge).ok()) {
      ++refused;
      continue;
    }
    sent.push_back(std::make_unique<ReplyBacklog::Ticket>());
    backlog_.Hold(
        3 * kLarge, [] { return std::string("a"); }, *sent.back());
  }
  EXPECT_EQ(sent.size(), 4u);  // 12 >= 10: the budget, passed by one reply
  EXPECT_EQ(refused, 16);
  // Another connection's replies are still sent.
  EXPECT_TRUE(AdmitReply("b", 3 * kLarge).ok());
}

TEST_F(ReplyBacklogTest, PastTheTotalServesOnlyConnectionsHoldingNone) {
  std::vector<std::unique_ptr<ReplyBacklog::Ticket>> held;
  for (const char* peer : {"a", "b", "c"}) {
    held.push_back(Reply(peer, 9 * kLarge));
  }
  ASSERT_EQ(unread(), 27 * kLarge);  // over 25

  ExpectRefused("a", "the server holds");  // under its own budget, holds some
  ExpectRefused(AdmitReply("a", kLarge), "the server holds");
  auto fresh = Reply("d", 9 * kLarge);  // holds none: served
  ASSERT_NE(fresh, nullptr);
  // Its reply is sent while the server holds under twice the total (50)...
  EXPECT_TRUE(AdmitReply("e", kLarge).ok());
  auto more = Reply("e", 15 * kLarge);
  ASSERT_NE(more, nullptr);
  // ...and from 51, a read's large reply is refused wherever it goes; a
  // call on a connection holding none still runs.
  ExpectRefused(AdmitReply("f", kLarge), "the server holds");
  EXPECT_TRUE(Admit("f").ok());

  held.clear();
  fresh.reset();
  more.reset();
  EXPECT_EQ(unread(), 0);
  EXPECT_TRUE(Admit("a").ok());
}

TEST_F(ReplyBacklogTest, AConnectionIsForgottenOnceItsRepliesAreRead) {
  auto first = Reply("a", kPerConnection);
  ASSERT_NE(first, nullptr);
  ExpectRefused("a", "this connection holds");
  first.reset();
  // Admitted, and counted afresh.
  auto again = Reply("a", kPerConnection - kLarge);
  ASSERT_NE(again, nullptr);
  EXPECT_TRUE(Admit("a").ok());
}

TEST_F(ReplyBacklogTest, AsksForThePeerOnlyWhenItCounts) {
  int asked = 0;
  auto peer = [&] {
    ++asked;
    return std::string("a");
  };
  ASSERT_TRUE(backlog_.Admit(peer).ok());
  ReplyBacklog::Ticket small;
  backlog_.Hold(100, peer, small);
  EXPECT_EQ(asked, 0);
  ReplyBacklog::Ticket large;
  backlog_.Hold(kLarge, peer, large);
  EXPECT_EQ(asked, 1);
  EXPECT_TRUE(backlog_.Admit(peer).ok());  // no connection is over its own
  EXPECT_EQ(asked, 1);
  ReplyBacklog::Ticket over;
  backlog_.Hold(kPerConnection, peer, over);
  ASSERT_FALSE(backlog_.Admit(peer).ok());  // now one is: whose?
  EXPECT_EQ(asked, 3);
}

TEST_F(ReplyBacklogTest, ConnectionsUnderTheirBudgetsCostNoLookup) {
  ReplyBacklog::Ticket a;
  ReplyBacklog::Ticket b;
  backlog_.Hold(
      6 * kLarge, [] { return std::string("a"); }, a);
  backlog_.Hold(
      6 * kLarge, [] { return std::string("b"); }, b);
  // 12 in all, past one connection's budget (10), but each under its own:
  // another connection's calls are not told apart.
  int asked = 0;
  auto peer = [&] {
    ++asked;
    return std::string("c");
  };
  EXPECT_TRUE(backlog_.Admit(peer).ok());
  EXPECT_TRUE(backlog_.AdmitReply([] { return kLarge; }, peer).ok());
  EXPECT_EQ(asked, 0);
}

TEST_F(ReplyBacklogTest, DropsTheOldestReadsOnceTheTotalIsReached) {
  auto a = Read("a", 9 * kLarge);
  auto b = Read("b", 9 * kLarge);
  EXPECT_TRUE(dropped_.empty());
  auto c = Read("c", 9 * kLarge);  // 27: the total (25) reached
  EXPECT_EQ(dropped_, std::vector<std::string>{"a"});
  EXPECT_EQ(unread(), 18 * kLarge);  // a's no longer counts
  EXPECT_EQ(backlog_.stats().dropped, 1);
  // Its connection holds nothing any more, and b's call still runs.
  EXPECT_TRUE(Admit("a").ok());
  EXPECT_TRUE(Admit("b").ok());
  a.reset();  // its call ends: nothing counted twice
  EXPECT_EQ(unread(), 18 * kLarge);
  b.reset();
  c.reset();
  EXPECT_EQ(unread(), 0);
}

TEST_F(ReplyBacklogTest, ATicketClosedSaysWhetherItsReplyWasDropped) {
  auto a = Read("a", 9 * kLarge);
  auto b = Read("b", 9 * kLarge);
  auto c = Read("c", 9 * kLarge);  // the total reached: a dropped
  EXPECT_TRUE(a->Close());
  EXPECT_FALSE(b->Close());
  EXPECT_EQ(unread(), 9 * kLarge);
  EXPECT_FALSE(b->Close());  // once: nothing uncounted twice
  EXPECT_EQ(unread(), 9 * kLarge);
  auto small = Reply("s", 100);
  EXPECT_FALSE(small->Close());
  EXPECT_FALSE(c->Close());
  EXPECT_EQ(unread(), 0);
}

TEST_F(ReplyBacklogTest, ALargeReplyIsCountedUnderTheLockThatDropsForIt) {
  auto a = Read("a", 8 * kLarge);
  auto b = Read("b", 8 * kLarge);
  auto c = Read("c", 8 * kLarge);
  // Before its lock is taken (here: while its peer is asked for), a reply
  // is not counted yet: two finishing at once cannot both count before the
  // oldest make room for either.
  int64_t seen_while_held = -1;
  ReplyBacklog::Ticket d;
  backlog_.Hold(
      9 * kLarge,
      [&] {
        seen_while_held = unread();
        return std::string("d");
      },
      d, [] {});
  EXPECT_EQ(seen_while_held, 24 * kLarge);
  // Then counted (33), and the oldest dropped until under the total (25).
  EXPECT_EQ(dropped_, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(unread(), 17 * kLarge);
}

TEST_F(ReplyBacklogTest, AWritesReplyIsNeverDropped) {
  auto write = Reply("w", 20 * kLarge);
  auto read = Read("r", 6 * kLarge);  // 26: only the read may go
  ASSERT_NE(read, nullptr);
  EXPECT_EQ(dropped_, std::vector<std::string>{"r"});
  EXPECT_EQ(unread(), 20 * kLarge);
  read.reset();
  write.reset();
  EXPECT_EQ(unread(), 0);
}

TEST_F(ReplyBacklogTest, DropsInTheOrderTheRepliesCame) {
  auto a = Read("a", 5 * kLarge);
  auto b = Read("b", 5 * kLarge);
  auto c = Read("c", 5 * kLarge);
  b.reset();  // read: out of the order
  auto d = Reply("d", 12 * kLarge);
  auto e = Read("e", 5 * kLarge);  // 27
  EXPECT_EQ(dropped_, std::vector<std::string>{"a"});
  auto f = Read("f", 5 * kLarge);  // 27 again
  EXPECT_EQ(dropped_, (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(unread(), 22 * kLarge);
}

TEST_F(ReplyBacklogTest, DropsNothingWhenDroppingCannotBringTheTotalUnder) {
  auto write = Reply("w", 30 * kLarge);
  // Past the total in writes' replies: dropping this one would not help.
  auto read = Read("r", 3 * kLarge);
  ASSERT_NE(read, nullptr);
  EXPECT_TRUE(dropped_.empty());
  EXPECT_EQ(unread(), 33 * kLarge);
  // The refusals bound it instead.
  ExpectRefused("r", "the server holds");
  EXPECT_TRUE(Admit("s").ok());
}

TEST_F(ReplyBacklogTest, RepliesThatMayBeDroppedDoNotFillTheTotal) {
  std::vector<std::unique_ptr<ReplyBacklog::Ticket>> unread_replies;
  for (int i = 0; i < 12; ++i) {
    unread_replies.push_back(Read(absl::StrCat("idle-", i), 2 * kLarge));
  }
  auto reader = Read("reader", kLarge);  // 25: idle-0 goes
  ASSERT_NE(reader, nullptr);
  // Small replies, never dropped, take the total past its budget again.
  std::vector<std::unique_ptr<ReplyBacklog::Ticket>> small;
  for (int i = 0; i < 3; ++i) small.push_back(Reply("other", kLarge - 1));
  ASSERT_GE(unread(), kTotal);
  // A reader with a reply on its way is still served: the replies that
  // may be dropped make room for its next one.
  EXPECT_TRUE(Admit("reader").ok());
  EXPECT_TRUE(AdmitReply("reader", kLarge).ok());
}

TEST_F(ReplyBacklogTest, ConnectionsNeverReadingCannotKeepTheTotalFull) {
  // As many connections as it takes, each leaving a read's reply unread.
  std::vector<std::unique_ptr<ReplyBacklog::Ticket>> unread_replies;
  for (int i = 0; i < 100; ++i) {
    unread_replies.push_back(Read(absl::StrCat("idle-", i), 2 * kLarge));
    ASSERT_NE(unread_replies.back(), nullptr);
    EXPECT_LT(unread(), kTotal);
  }
  EXPECT_EQ(dropped_.size(), 100u - 12u);  // 12 replies of 2 stay under 25
  EXPECT_EQ(dropped_.front(), "idle-0");   // the oldest went first
  // A client reading large pages, several at once, is still served.
  auto first = Read("reader", 2 * kLarge);
  ASSERT_NE(first, nullptr);
  EXPECT_TRUE(Admit("reader").ok());
  EXPECT_TRUE(AdmitReply("reader", 2 * kLarge).ok());
  EXPECT_EQ(dropped_.back(), "idle-88");  // not the reader's
}

}  // namespace
}  // namespace tasks::service
