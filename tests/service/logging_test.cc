// The server's log lines: one line per Log() call whatever the message holds,
// control characters escaped, everything else (UTF-8 included) as given.

#include "service/logging.h"

#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/stderr_capture.h"

namespace tasks::service {
namespace {

using ::tasks::testing::StderrCapture;
using ::testing::ElementsAre;
using ::testing::EndsWith;

std::vector<std::string> LoggedLines(absl::string_view message) {
  StderrCapture capture;
  Log(LogLevel::kWarning, message);
  return absl::StrSplit(capture.Stop(), '\n', absl::SkipEmpty());
}

TEST(LogTest, ControlCharactersAreEscapedIntoOneLine) {
  const std::vector<std::string> lines =
      LoggedLines("unknown order \"x\nI 2030-01-01T00:00:00Z FAKE LINE\"");
  std::cerr << "a message with a newline logged as " << lines.size()
            << " line(s)\n";
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], EndsWith("unknown order \"x\\nI "
                                 "2030-01-01T00:00:00Z FAKE LINE\""));
}

TEST(LogTest, EveryControlByteIsEscaped) {
  std::string message = "<";
  for (int c = 0; c < 0x20; ++c) message += static_cast<char>(c);
  message += "\x7f>";
  const std::vector<std::string> lines = LoggedLines(message);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0],
              EndsWith("<\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\t\\n"
                       "\\x0b\\x0c\\r\\x0e\\x0f\\x10\\x11\\x12\\x13\\x14\\x15"
                       "\\x16\\x17\\x18\\x19\\x1a\\x1b\\x1c\\x1d\\x1e\\x1f"
                       "\\x7f>"));
}

TEST(LogTest, PrintableTextAndUtf8AreKept) {
  const std::string text =
      "caf\xC3\xA9 \xF0\x9F\x9A\x80 \"quoted\" back\\slash";
  EXPECT_THAT(LoggedLines(text), ElementsAre(EndsWith(text)));
}

// Client text is valid UTF-8 (protobuf checks it) but may hold code points
// that terminals and log viewers act on: C1 NEL and CSI, the line
// separator, a right-to-left override. Bytes that are not UTF-8 (header
// values) are escaped too.
TEST(LogTest, ControlCodePointsAndInvalidUtf8AreEscaped) {
  EXPECT_THAT(LoggedLines("<x\xC2\x85" "FAKE\xE2\x80\xA8LINE\xC2\x9B" "31mRED"
                          "\xE2\x80\xAETXT\x9B\xFF>"),
              ElementsAre(EndsWith("<x\\u0085FAKE\\u2028LINE\\u009b31mRED"
                                   "\\u202eTXT\\x9b\\xff>")));
}

TEST(LogTest, SecretsAreMaskedBeforeEscaping) {
  AddLogSecret("pass\nword");
  EXPECT_THAT(LoggedLines("connecting with pass\nword failed"),
              ElementsAre(EndsWith("connecting with *** failed")));
}

}  // namespace
}  // namespace tasks::service
