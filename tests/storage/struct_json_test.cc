#include "common/struct_json.h"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace tasks::storage {
namespace {

using google::protobuf::Struct;

std::string Nested(int depth) {
  std::string json;
  for (int i = 0; i < depth; ++i) json += "{\"a\":";
  json += "1";
  for (int i = 0; i < depth; ++i) json += "}";
  return json;
}

std::string NestedArrays(int depth) {
  return absl::StrCat("{\"a\":", std::string(depth - 1, '['), "1",
                      std::string(depth - 1, ']'), "}");
}

// Valid JSON gives the Struct protobuf's parser gives.
class MatchesProtobuf : public testing::TestWithParam<std::string> {};

TEST_P(MatchesProtobuf, SameStruct) {
  const std::string& json = GetParam();
  Struct expected;
  auto want = google::protobuf::util::JsonStringToMessage(json, &expected);
  ASSERT_TRUE(want.ok()) << json << "\n" << want.ToString();
  Struct actual;
  absl::Status got = JsonToStruct(json, &actual);
  ASSERT_TRUE(got.ok()) << json << "\n" << got;
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals(actual, expected))
      << json << "\nprotobuf: " << expected.DebugString()
      << "\nours: " << actual.DebugString();
}

INSTANTIATE_TEST_SUITE_P(
    ValidJson, MatchesProtobuf,
    testing::Values(
        "{}", " { } ", "{\"a\":1}", "{\"a\": 1, \"b\": \"x\"}",
        "{\"b\":2,\"a\":1}", "\n\t{\r\"a\"\n:\ttrue }\n",
        "{\"t\":true,\"f\":false,\"n\":null}",
        "{\"o\":{\"p\":{\"q\":[]}},\"e\":{}}",
        "{\"l\":[1,\"two\",[3,[4]],{\"five\":5},null,true,false]}",
        "{\"\":\"\"}", "{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}",
        "{\"u\":\"\\u0041\\u00e9\\u20AC\\u0000\"}",
        "{\"u\":\"\\ud83d\\ude00\"}",
        "{\"u\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}", "{\"\\u006b\":1}",
        "{\"n\":[0,-0,5,-5,0.1,-0.1,1e308,-1e308,1E-307,4.9e-324,2.5e+3]}",
        "{\"n\":[9007199254740993,18446744073709551615,"
        "123456789012345678901234567890]}",
        "{\"n\":[1.7976931348623157e308,0.30000000000000004,1e0,0e5,-0.0]}",
        Nested(30), NestedArrays(30)));

// Text that is not RFC 8259 JSON, or that no Struct can hold, is refused.
class RefusesInvalid : public testing::TestWithParam<std::string> {};

TEST_P(RefusesInvalid, InvalidArgument) {
  Struct out;
  absl::Status got = JsonToStruct(GetParam(), &out);
  EXPECT_EQ(got.code(), absl::StatusCode::kInvalidArgument) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(
    InvalidJson, RefusesInvalid,
    testing::Values(
        "", " ", "[]", "1", "\"s\"", "null", "{", "}", "{\"a\"}", "{\"a\":}",
        "{\"a\":1,}", "{,}", "{\"a\":1}x", "{\"a\":1}{}", "{a:1}", "{'a':1}",
        "{\"a\":[1,]}", "{\"a\":[1 2]}", "{\"a\":tru}", "{\"a\":nul}",
        "{\"a\":True}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":+1}",
        "{\"a\":1e}", "{\"a\":1e+}", "{\"a\":-}", "{\"a\":0x10}", "{\"a\":NaN}",
        "{\"a\":Infinity}", "{\"a\":1e400}", "{\"a\":-1e400}",
        "{\"dup\":1,\"dup\":2}", "{\"a\":\"unterminated}", "{\"a\":\"\\x\"}",
        "{\"a\":\"\\u12\"}", "{\"a\":\"\\u12G4\"}", "{\"a\":\"tab\there\"}",
        "{\"a\":\"\\ud83d\"}", "{\"a\":\"\\ud83dx\"}",
        "{\"a\":\"\\ud83d\\u0041\"}", "{\"a\":\"\\ude00\"}",
        Nested(kMaxJsonNesting + 1), NestedArrays(kMaxJsonNesting + 1)));

TEST(JsonToStructTest, RefusesNestingBeyondTheLimit) {
  Struct out;
  EXPECT_TRUE(JsonToStruct(Nested(kMaxJsonNesting), &out).ok());
  EXPECT_FALSE(JsonToStruct(Nested(kMaxJsonNesting + 1), &out).ok());
  EXPECT_FALSE(JsonToStruct(Nested(100000), &out).ok());
  EXPECT_FALSE(JsonToStruct(NestedArrays(100000), &out).ok());
}

TEST(JsonToStructTest, DecodesSurrogatePairToUtf8) {
  Struct out;
  ASSERT_TRUE(JsonToStruct("{\"u\":\"\\ud83d\\ude00\"}", &out).ok());
  EXPECT_EQ(out.fields().at("u").string_value(), "\xf0\x9f\x98\x80");
}

TEST(JsonToStructTest, ReplacesPreviousContent) {
  Struct out;
  ASSERT_TRUE(JsonToStruct("{\"a\":1}", &out).ok());
  ASSERT_TRUE(JsonToStruct("{\"b\":2}", &out).ok());
  EXPECT_EQ(out.fields_size(), 1);
  EXPECT_EQ(out.fields().at("b").number_value(), 2);
}

TEST(JsonToStructTest, ReadsNegativeZeroAsZeroOnlyWhenAsked) {
  const char* const kJson = "{\"i\":-0,\"l\":[-0.0,-0e5],\"m\":-1}";
  Struct minus;
  ASSERT_TRUE(JsonToStruct(kJson, &minus).ok());
  Struct plain;
  ASSERT_TRUE(JsonToStruct(kJson, &plain, NegativeZero::kPlain).ok());
  const auto& list = plain.fields().at("l").list_value();
  for (double number :
       {plain.fields().at("i").number_value(), list.values(0).number_value(),
        list.values(1).number_value()}) {
    EXPECT_EQ(number, 0);
    EXPECT_FALSE(std::signbit(number));
  }
  EXPECT_EQ(plain.fields().at("m").number_value(), -1);
  EXPECT_TRUE(std::signbit(minus.fields().at("i").number_value()));
  EXPECT_TRUE(std::signbit(
      minus.fields().at("l").list_value().values(1).number_value()));
}

// Integers take a shortcut past the general conversion; the result must be
// the same double, bit for bit (negative zero included).
TEST(JsonToStructTest, ReadsIntegersBitForBitAsTheGeneralConversion) {
  std::vector<std::string> numbers = {"0", "-0", "7", "-7", "10", "-10"};
  std::string digits;
  for (int length = 1; length <= 20; ++length) {
    digits += static_cast<char>('1' + length % 9);
    numbers.push_back(digits);
    numbers.push_back("-" + digits);
    numbers.push_back(std::string(length, '9'));
    numbers.push_back("-" + std::string(length, '9'));
  }
  for (const std::string& number : numbers) {
    SCOPED_TRACE(number);
    Struct out;
    ASSERT_TRUE(JsonToStruct(absl::StrCat("{\"n\":", number, "}"), &out).ok());
    double expected = 0;
    ASSERT_TRUE(absl::SimpleAtod(number, &expected));
    const double got = out.fields().at("n").number_value();
    EXPECT_EQ(std::memcmp(&got, &expected, sizeof(double)), 0)
        << got << " vs " << expected;
  }
}

TEST(JsonToStructTest, ErrorNamesTheOffset) {
  Struct out;
  absl::Status status = JsonToStruct("{\"a\":1,}", &out);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("offset 7"), absl::string_view::npos)
      << status;
}

}  // namespace
}  // namespace tasks::storage
