#include "api/text_rules.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace tasks::api {
namespace {

using ::tasks::testing::IsOk;
using ::tasks::testing::StatusIs;
using ::testing::Eq;
using ::testing::StartsWith;

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;

TEST(CheckTextTest, RefusesNulAndInvalidUtf8NamingTheField) {
  EXPECT_THAT(CheckText("f", "plain ✅ text"), IsOk());
  EXPECT_THAT(CheckText("f", ""), IsOk());
  EXPECT_THAT(
      CheckText("task.title", std::string("a\0b", 3)),
      StatusIs(kInvalid, Eq("task.title: must not contain a NUL character")));
  for (const char* bad : {"\xC3\x28", "\xED\xA0\x80", "ok\xE2\x82", "\x80"}) {
    EXPECT_THAT(CheckText("d", bad),
                StatusIs(kInvalid, Eq("d: must be valid UTF-8")))
        << bad;
  }
}

TEST(CheckBoundedTextTest, CountsCodePointsNotBytes) {
  // "é" is 2 bytes, "🚀" 4: the limit is on characters.
  EXPECT_THAT(CheckBoundedText("d", "éé🚀", 3), IsOk());
  EXPECT_THAT(CheckBoundedText("d", "éé🚀a", 3),
              StatusIs(kInvalid, Eq("d: must be at most 3 characters long")));
  EXPECT_THAT(CheckBoundedText("d", std::string(kMaxDescriptionLength, 'x'),
                               kMaxDescriptionLength),
              IsOk());
  EXPECT_THAT(
      CheckBoundedText("d", std::string(kMaxDescriptionLength + 1, 'x'),
                       kMaxDescriptionLength),
      StatusIs(kInvalid, StartsWith("d: must be at most 10000 characters")));
}

TEST(CheckBoundedTextTest, TextRulesComeBeforeTheLength) {
  EXPECT_THAT(CheckBoundedText("d", std::string("toolong\0", 8), 3),
              StatusIs(kInvalid, Eq("d: must not contain a NUL character")));
}

TEST(CheckTitleTest, RequiredNonBlankAndBoundedWhitespaceIncluded) {
  EXPECT_THAT(CheckTitle("t", "Write report"), IsOk());
  // ASCII, and Unicode's other White_Space: no-break, em and ideographic
  // spaces, the line separator.
  for (const char* blank : {"", " ", "\t\n ", "\u00a0", "\u2003 \u3000",
                            "\u2028", "\u0085\u1680\u205f"}) {
    EXPECT_THAT(CheckTitle("t", blank),
                StatusIs(kInvalid, Eq("t: is required and must not be blank")))
        << "\"" << blank << "\"";
  }
  // Not White_Space: a title, however it looks.
  for (const char* visible : {"\u3000x", "\u200b", "é", "🚀 "}) {
    EXPECT_THAT(CheckTitle("t", visible), IsOk()) << visible;
  }
  const std::string longest(kMaxTitleLength, 'x');
  EXPECT_THAT(CheckTitle("t", longest), IsOk());
  EXPECT_THAT(CheckTitle("t", longest + "y"),
              StatusIs(kInvalid, Eq("t: must be at most 200 characters long")));
  // Padding counts: unbounded, it grew titles past PostgreSQL's index.
  EXPECT_THAT(CheckTitle("t", " " + longest),
              StatusIs(kInvalid, Eq("t: must be at most 200 characters long")));
  EXPECT_THAT(CheckTitle("t", "x" + std::string(30000, '\t')),
              StatusIs(kInvalid, Eq("t: must be at most 200 characters long")));
  EXPECT_THAT(CheckTitle("t", std::string(" \0 ", 3)),
              StatusIs(kInvalid, Eq("t: must not contain a NUL character")));
}

TEST(TextLimitsTest, AreTheOnesTasksProtoDocuments) {
  EXPECT_EQ(kMaxTitleLength, 200u);
  EXPECT_EQ(kMaxDescriptionLength, 10000u);
  EXPECT_EQ(kMaxRequestIdLength, 100u);
}

}  // namespace
}  // namespace tasks::api
