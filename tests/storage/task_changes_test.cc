// ChangePosition: advancing over changes, and its token form.

#include "storage/task_changes.h"

#include <string>

#include "absl/strings/escaping.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace tasks::storage {
namespace {

using ::tasks::testing::ReasonIs;
using ::tasks::testing::StatusIs;
using ::testing::AllOf;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

TaskChange Change(int64_t seq, int64_t change_id) {
  TaskChange change;
  change.seq = seq;
  change.change_id = change_id;
  return change;
}

TEST(ChangePositionTest, AdvanceSkipsReflectedAndEarlierChanges) {
  ChangePosition position(10, {21, 23});
  EXPECT_TRUE(position.Advance(Change(11, 20)));
  EXPECT_FALSE(position.Advance(Change(12, 21)));  // Reflected already.
  EXPECT_FALSE(position.Advance(Change(12, 22)));  // Not after seq 12.
  EXPECT_FALSE(position.Advance(Change(13, 23)));
  EXPECT_TRUE(position.Advance(Change(14, 24)));
  EXPECT_EQ(position.seq(), 14);
  EXPECT_THAT(position.reflected_ids(), IsEmpty());
}

TEST(ChangePositionTest, TokensRoundTrip) {
  for (const ChangePosition& position :
       {ChangePosition(), ChangePosition(7, {}),
        ChangePosition(1234567890123, {9, 3, 5})}) {
    absl::StatusOr<ChangePosition> decoded =
        ChangePosition::Decode(position.Encode());
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(decoded->seq(), position.seq());
    EXPECT_EQ(decoded->reflected_ids(), position.reflected_ids());
    EXPECT_EQ(decoded->Encode(), position.Encode());
  }
  EXPECT_THAT(ChangePosition::Decode(ChangePosition(1, {9, 3}).Encode())
                  ->reflected_ids(),
              UnorderedElementsAre(3, 9));
}

TEST(ChangePositionTest, MalformedTokensAreInvalid) {
  std::string too_many = "c1.5";
  for (int i = 1; i <= 4097; ++i) too_many += "." + std::to_string(i);
  for (const std::string& token :
       {std::string("garbage!"), std::string(""),
        absl::WebSafeBase64Escape("c1"), absl::WebSafeBase64Escape("c2.5"),
        absl::WebSafeBase64Escape("c1.-1"), absl::WebSafeBase64Escape("c1.x"),
        absl::WebSafeBase64Escape("c1.5.0"),
        absl::WebSafeBase64Escape("c1.5.7x"),
        absl::WebSafeBase64Escape("c1.99999999999999999999"),
        absl::WebSafeBase64Escape(too_many)}) {
    SCOPED_TRACE(token.substr(0, 40));
    absl::StatusOr<ChangePosition> decoded = ChangePosition::Decode(token);
    EXPECT_THAT(decoded, AllOf(StatusIs(absl::StatusCode::kInvalidArgument),
                               ReasonIs(reason::kInvalidResumeToken)));
    EXPECT_EQ(ErrorField(decoded.status()), "resume_token");
  }
}

// One position, one token: a token edited into another spelling of the
// same numbers is not one the server made.
TEST(ChangePositionTest, OnlyTheCanonicalSpellingIsAToken) {
  ASSERT_TRUE(ChangePosition::Decode(absl::WebSafeBase64Escape("c1.5")).ok());
  ASSERT_TRUE(
      ChangePosition::Decode(absl::WebSafeBase64Escape("c1.5.3.9")).ok());
  for (const char* text : {"c1.05", "c1.+5", "c1.5 ", " c1.5", "c1.5.9.3",
                           "c1.5.3.3", "c1.5.03", "c1.5."}) {
    SCOPED_TRACE(text);
    EXPECT_THAT(ChangePosition::Decode(absl::WebSafeBase64Escape(text)),
                ReasonIs(reason::kInvalidResumeToken));
  }
  // Base64 with the padding Encode() leaves out.
  EXPECT_THAT(ChangePosition::Decode(absl::WebSafeBase64Escape("c1.5") + "=="),
              ReasonIs(reason::kInvalidResumeToken));
}

TEST(ChangePositionTest, APositionBeyondTheLatestSeqIsAheadOfTheLog) {
  EXPECT_TRUE(ChangePosition(7, {}).CheckNotAhead(7).ok());
  EXPECT_TRUE(ChangePosition(7, {12}).CheckNotAhead(9).ok());
  const absl::Status ahead = ChangePosition(8, {}).CheckNotAhead(7);
  EXPECT_THAT(ahead, AllOf(StatusIs(absl::StatusCode::kInvalidArgument),
                           ReasonIs(reason::kInvalidResumeToken)));
  EXPECT_EQ(ErrorField(ahead), "resume_token");
}

}  // namespace
}  // namespace tasks::storage
