// AppendStructJson / AppendValueJson: byte for byte what protobuf's JSON
// printer writes (the text already stored in databases, which the SQLite
// metadata filter compares), refusing exactly what it refuses, and read back
// exactly by JsonToStruct.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/struct_json.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/util/type_resolver.h"
#include "google/protobuf/util/type_resolver_util.h"
#include "gtest/gtest.h"

namespace tasks::storage {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

constexpr char kTypeUrlPrefix[] = "type.googleapis.com";

// protobuf's printer fed a deterministic serialization (sorted map keys):
// how the store wrote metadata before it had its own writer. Empty on error.
bool ProtobufJson(const google::protobuf::Message& message, std::string* json) {
  static google::protobuf::util::TypeResolver* const kResolver =
      google::protobuf::util::NewTypeResolverForDescriptorPool(
          kTypeUrlPrefix, google::protobuf::DescriptorPool::generated_pool());
  std::string binary;
  {
    google::protobuf::io::StringOutputStream stream(&binary);
    google::protobuf::io::CodedOutputStream output(&stream);
    output.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&output);
  }
  json->clear();
  return google::protobuf::util::BinaryToJsonString(
             kResolver,
             absl::StrCat(kTypeUrlPrefix, "/",
                          message.GetDescriptor()->full_name()),
             binary, json)
      .ok();
}

std::string OursOrError(const Struct& value) {
  std::string json;
  absl::Status status = AppendStructJson(value, &json);
  return status.ok() ? json : absl::StrCat("error: ", status.ToString());
}

// Writes `value` both ways and expects the same text, then reads ours back
// and expects the same Struct.
void ExpectSameAsProtobuf(const Struct& value) {
  std::string expected;
  ASSERT_TRUE(ProtobufJson(value, &expected)) << value.DebugString();
  const std::string ours = OursOrError(value);
  EXPECT_EQ(ours, expected);
  Struct read;
  ASSERT_TRUE(JsonToStruct(ours, &read).ok()) << ours;
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(read, value))
      << ours;
}

Struct FromJson(const std::string& json) {
  Struct value;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &value).ok())
      << json;
  return value;
}

TEST(StructJsonWriterTest, WritesWhatProtobufWritesForMixedDocuments) {
  for (const char* json : {
           "{}",
           "{\"a\":1}",
           "{\"b\":2,\"a\":1,\"ab\":3,\"B\":4,\"\":5}",
           "{\"t\":true,\"f\":false,\"n\":null}",
           "{\"o\":{\"z\":{\"q\":[]},\"e\":{}},\"l\":[]}",
           "{\"l\":[1,\"two\",[3,[4]],{\"five\":5,\"four\":4},null,true]}",
           "{\"s\":\"\\\"\\\\/\\b\\f\\n\\r\\t<>&'\"}",
           "{\"k\\u0000ey\\u001f\":\"\\u007f\\u0080\\u009f\\u00a0\"}",
           "{\"caf\\u00e9\":\"\\ud83d\\ude00 \\u20ac\"}",
           "{\"\\u00e9\":1,\"e\":2,\"\\u00ff\":3,\"~\":4}",
       }) {
    SCOPED_TRACE(json);
    ExpectSameAsProtobuf(FromJson(json));
  }
}

// Every code point (surrogates aside) in strings and keys, so that each of
// protobuf's escape ranges and its boundaries is covered.
TEST(StructJsonWriterTest, EscapesEveryCodePointAsProtobufDoes) {
  auto append_utf8 = [](uint32_t code, std::string* out) {
    if (code < 0x80) {
      out->push_back(static_cast<char>(code));
    } else if (code < 0x800) {
      out->push_back(static_cast<char>(0xc0 | (code >> 6)));
      out->push_back(static_cast<char>(0x80 | (code & 0x3f)));
    } else if (code < 0x10000) {
      out->push_back(static_cast<char>(0xe0 | (code >> 12)));
      out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (code & 0x3f)));
    } else {
      out->push_back(static_cast<char>(0xf0 | (code >> 18)));
      out->push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (code & 0x3f)));
    }
  };
  constexpr uint32_t kBlock = 0x2000;
  for (uint32_t start = 0; start <= 0x10ffff; start += kBlock) {
    Struct value;
    std::string text;
    for (uint32_t code = start; code < start + kBlock && code <= 0x10ffff;
         ++code) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      append_utf8(code, &text);
      text += 'x';  // a plain character between escapes
    }
    (*value.mutable_fields())[text.substr(0, 64)].set_string_value(text);
    SCOPED_TRACE(absl::StrCat("block from U+", absl::Hex(start)));
    ExpectSameAsProtobuf(value);
  }
}

TEST(StructJsonWriterTest, WritesNumbersAsProtobufDoesAndReadsThemBackExactly) {
  std::vector<double> numbers = {0.0,
                                 -0.0,
                                 1,
                                 -1,
                                 3,
                                 0.1,
                                 0.3,
                                 0.1 + 0.2,
                                 1.0 / 3,
                                 2.5e3,
                                 1e15,
                                 1e16,
                                 1e17,
                                 1e21,
                                 1e22,
                                 123456789012345678.0,
                                 9007199254740993.0,
                                 1e-7,
                                 5e-324,
                                 2.2250738585072014e-308,
                                 std::numeric_limits<double>::max(),
                                 std::numeric_limits<double>::lowest(),
                                 std::numeric_limits<double>::min(),
                                 std::numeric_limits<double>::denorm_min()};
  std::mt19937_64 random(20261125);
  for (int i = 0; i < 20000; ++i) {
    uint64_t bits = random();
    double number;
    std::memcpy(&number, &bits, sizeof(number));
    if (std::isfinite(number)) numbers.push_back(number);
    numbers.push_back(
        static_cast<double>(static_cast<int64_t>(bits) >> (i % 64)));
  }
  Struct value;
  auto& list = *(*value.mutable_fields())["n"].mutable_list_value();
  for (double number : numbers) list.add_values()->set_number_value(number);
  ExpectSameAsProtobuf(value);
  // Bit for bit, -0 included (MessageDifferencer compares doubles with ==).
  Struct read;
  ASSERT_TRUE(JsonToStruct(OursOrError(value), &read).ok());
  ASSERT_EQ(read.fields().at("n").list_value().values_size(),
            static_cast<int>(numbers.size()));
  for (size_t i = 0; i < numbers.size(); ++i) {
    const double got =
        read.fields().at("n").list_value().values(i).number_value();
    EXPECT_EQ(std::memcmp(&got, &numbers[i], sizeof(double)), 0) << numbers[i];
  }
}

// Objects or lists nested `depth` deep (the root object counted), ending in
// `leaf`.
Struct Nested(int depth, bool lists, const Value& leaf) {
  Value value = leaf;
  for (int i = 1; i < depth; ++i) {
    Value outer;
    if (lists) {
      *outer.mutable_list_value()->add_values() = value;
    } else {
      (*outer.mutable_struct_value()->mutable_fields())["d"] = value;
    }
    value = outer;
  }
  Struct root;
  (*root.mutable_fields())["d"] = value;
  return root;
}

TEST(StructJsonWriterTest, RefusesExactlyTheNestingProtobufRefuses) {
  std::vector<Value> leaves(4);
  leaves[0].set_number_value(1);
  leaves[1].set_string_value("s");
  leaves[2].mutable_struct_value();
  leaves[3].mutable_list_value();
  int written_depth = 0;
  for (bool lists : {false, true}) {
    for (size_t leaf = 0; leaf < leaves.size(); ++leaf) {
      for (int depth = 1; depth <= 36; ++depth) {
        SCOPED_TRACE(
            absl::StrCat("lists ", lists, " leaf ", leaf, " depth ", depth));
        const Struct value = Nested(depth, lists, leaves[leaf]);
        std::string expected;
        if (ProtobufJson(value, &expected)) {
          EXPECT_EQ(OursOrError(value), expected);
          if (leaf == 0) written_depth = std::max(written_depth, depth);
        } else {
          std::string ours;
          EXPECT_EQ(AppendStructJson(value, &ours).code(),
                    absl::StatusCode::kInvalidArgument);
        }
        // The same nesting as a single value (the metadata filter's).
        const Value& inner = value.fields().at("d");
        std::string ours_value;
        absl::Status status = AppendValueJson(inner, &ours_value);
        if (ProtobufJson(inner, &expected)) {
          EXPECT_TRUE(status.ok()) << status;
          EXPECT_EQ(ours_value, expected);
        } else {
          EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
        }
      }
    }
  }
  // 32 levels of objects or lists, as the service documents.
  EXPECT_EQ(written_depth, 32);
}

TEST(StructJsonWriterTest, RefusesWhatJsonCannotHold) {
  Value nan;
  nan.set_number_value(std::numeric_limits<double>::quiet_NaN());
  Value infinity;
  infinity.set_number_value(-std::numeric_limits<double>::infinity());
  Value unset;
  for (const Value& bad : {nan, infinity, unset}) {
    Struct value;
    (*value.mutable_fields())["ok"].set_bool_value(true);
    *(*value.mutable_fields())["bad"].mutable_list_value()->add_values() = bad;
    std::string json;
    EXPECT_EQ(AppendStructJson(value, &json).code(),
              absl::StatusCode::kInvalidArgument)
        << value.DebugString();
    EXPECT_EQ(AppendValueJson(bad, &json).code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST(StructJsonWriterTest, WritesNegativeZeroAsZeroOnlyWhenAsked) {
  Struct value = FromJson("{\"a\":[-0.5,0]}");
  (*value.mutable_fields())["z"].set_number_value(-0.0);
  value.mutable_fields()
      ->at("a")
      .mutable_list_value()
      ->add_values()
      ->set_number_value(-0.0);
  std::string minus;
  ASSERT_TRUE(AppendStructJson(value, &minus).ok());
  EXPECT_EQ(minus, "{\"a\":[-0.5,0,-0],\"z\":-0}");
  std::string plain;
  ASSERT_TRUE(AppendStructJson(value, &plain, NegativeZero::kPlain).ok());
  EXPECT_EQ(plain, "{\"a\":[-0.5,0,0],\"z\":0}");
  std::string single;
  ASSERT_TRUE(
      AppendValueJson(value.fields().at("z"), &single, NegativeZero::kPlain)
          .ok());
  EXPECT_EQ(single, "0");
}

TEST(StructJsonWriterTest, AppendsToWhatIsAlreadyThere) {
  std::string json = "prefix ";
  ASSERT_TRUE(AppendStructJson(FromJson("{\"a\":[true]}"), &json).ok());
  EXPECT_EQ(json, "prefix {\"a\":[true]}");
}

}  // namespace
}  // namespace tasks::storage
