#include "api/metadata_limits.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/task_builders.h"

namespace tasks::api {
namespace {

using ::google::protobuf::Struct;
using ::google::protobuf::Value;
using ::tasks::testing::IsOk;
using ::tasks::testing::JsonOfBytes;
using ::tasks::testing::NullList;
using ::tasks::testing::StatusIs;
using ::testing::Eq;
using ::testing::StartsWith;

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;

TEST(CheckMetadataLimitsTest, AtTheCapsPassesOneOverIsRefused) {
  // NullList(n) is {"a": [n nulls]}: n + 1 values.
  EXPECT_THAT(CheckMetadataLimits("m", NullList(kMaxMetadataValues - 1)),
              IsOk());
  EXPECT_THAT(CheckMetadataLimits("m", NullList(kMaxMetadataValues)),
              StatusIs(kInvalid, Eq("m: must hold at most 1000 JSON values, "
                                    "nested ones included")));
  EXPECT_THAT(CheckMetadataLimits("m", JsonOfBytes(kMaxMetadataJsonBytes)),
              IsOk());
  EXPECT_THAT(CheckMetadataLimits("m", JsonOfBytes(kMaxMetadataJsonBytes + 1)),
              StatusIs(kInvalid, StartsWith("m: must be at most 16384 bytes "
                                            "as JSON text")));
}

TEST(CountMetadataValuesTest, CountsNestedValuesAndStopsPastTheCap) {
  EXPECT_EQ(CountMetadataValues(Struct()), 0);
  EXPECT_EQ(CountMetadataValues(NullList(9)), 10);
  EXPECT_EQ(CountMetadataValues(NullList(5000)), kMaxMetadataValues + 1);
}

TEST(CheckMetadataValuesTest, KeysAndStringsAloneOverTheBytesStopEarly) {
  Struct big;
  (*big.mutable_fields())["k"].set_string_value(
      std::string(kMaxMetadataJsonBytes + 1, 'x'));
  EXPECT_THAT(CheckMetadataValues("m", big),
              StatusIs(kInvalid, Eq("m: must be at most 16384 bytes as JSON "
                                    "text; its keys and strings alone are "
                                    "longer")));
}

TEST(CheckMetadataJsonSizeTest, SaysHowLong) {
  EXPECT_THAT(CheckMetadataJsonSize("m", "{}"), IsOk());
  EXPECT_THAT(
      CheckMetadataJsonSize("m", std::string(kMaxMetadataJsonBytes + 2, ' ')),
      StatusIs(kInvalid,
               Eq("m: must be at most 16384 bytes as JSON text, not 16386")));
}

TEST(CheckMetadataValueLimitsTest, OneValueUnderTheCapsOfAWholeMetadata) {
  Value value;
  *value.mutable_struct_value() = NullList(kMaxMetadataValues - 2);
  EXPECT_THAT(CheckMetadataValueLimits("v", value), IsOk());
  *value.mutable_struct_value() = NullList(kMaxMetadataValues - 1);
  EXPECT_THAT(CheckMetadataValueLimits("v", value),
              StatusIs(kInvalid, StartsWith("v: must hold at most 1000")));
}

}  // namespace
}  // namespace tasks::api
