#include "service/log_json.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <cmath>
#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace tasks::service {
namespace {

std::string Quoted(absl::string_view text) {
  std::string out;
  AppendJsonString(text, &out);
  return out;
}

TEST(LogJsonTest, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(Quoted("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(Quoted("line\nbreak\r\ttab"), R"("line\nbreak\r\ttab")");
  EXPECT_EQ(Quoted(std::string("nul\0esc\x1b del\x7f", 13)),
            R"("nul\u0000esc\u001b del\u007f")");
}

TEST(LogJsonTest, KeepsValidUtf8AndReplacesEveryInvalidByte) {
  EXPECT_EQ(Quoted("caf\xc3\xa9 \xf0\x9f\x98\x80"),
            "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
  EXPECT_EQ(Quoted("\xff"), R"("\ufffd")");
  EXPECT_EQ(Quoted("\xc0\x80"), R"("\ufffd\ufffd")");            // overlong NUL
  EXPECT_EQ(Quoted("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");  // surrogate
  EXPECT_EQ(Quoted("end \xc3"), R"("end \ufffd")");              // truncated
  EXPECT_EQ(Quoted("\xf4\x90\x80\x80"),
            R"("\ufffd\ufffd\ufffd\ufffd")");  // beyond U+10FFFF
}

TEST(LogJsonTest, LineParsesWithEveryFieldWhateverTheBytes) {
  const LogField fields[] = {
      LogField::Text("method", "/tasks.v1.TaskService/ListTasks"),
      LogField::Text("error", "unknown order_by \"x\n\xff\""),
      LogField::Number("latency_ms", 0.412),
      LogField::Number("nan", std::nan("")),
  };
  const std::string line =
      JsonLogLine(absl::FromUnixSeconds(0), "info", "call", fields);
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  google::protobuf::Struct object;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &object).ok())
      << line;
  const auto& got = object.fields();
  EXPECT_EQ(got.at("time").string_value(), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(got.at("level").string_value(), "info");
  EXPECT_EQ(got.at("message").string_value(), "call");
  EXPECT_EQ(got.at("error").string_value(),
            "unknown order_by \"x\n\xef\xbf\xbd\"");
  EXPECT_DOUBLE_EQ(got.at("latency_ms").number_value(), 0.412);
  EXPECT_TRUE(got.at("nan").has_null_value());
}

}  // namespace
}  // namespace tasks::service
