#include "api/metadata_filter.h"

#include <cmath>
#include <string>

#include "api/metadata_limits.h"
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

v1::ListTasksRequest Filter(std::string key, std::string value) {
  v1::ListTasksRequest request;
  request.set_metadata_key(std::move(key));
  request.mutable_metadata_value()->set_string_value(std::move(value));
  return request;
}

TEST(CheckMetadataFilterTest, NoFilterAndAKeyWithItsValuePass) {
  EXPECT_THAT(CheckMetadataFilter(v1::ListTasksRequest()), IsOk());
  EXPECT_THAT(CheckMetadataFilter(Filter("owner", "ana")), IsOk());
  EXPECT_THAT(CheckMetadataFilter(Filter("🚀 key", "")), IsOk());
}

TEST(CheckMetadataFilterTest, KeyAndValueGoTogether) {
  v1::ListTasksRequest key_only;
  key_only.set_metadata_key("owner");
  EXPECT_THAT(CheckMetadataFilter(key_only),
              StatusIs(kInvalid, Eq("metadata_value: is required when "
                                    "metadata_key is set")));
  // A Value whose kind is not set is no value.
  key_only.mutable_metadata_value();
  EXPECT_THAT(CheckMetadataFilter(key_only),
              StatusIs(kInvalid, StartsWith("metadata_value: ")));

  v1::ListTasksRequest value_only = Filter("", "ana");
  EXPECT_THAT(CheckMetadataFilter(value_only),
              StatusIs(kInvalid, Eq("metadata_value: must be used together "
                                    "with metadata_key")));
  value_only.mutable_metadata_value()->Clear();
  EXPECT_THAT(CheckMetadataFilter(value_only), IsOk());
}

TEST(CheckMetadataFilterTest, KeyWithoutQuoteBackslashOrNul) {
  for (const std::string& key :
       {std::string("k\""), std::string("k\\"), std::string("\") OR 1=1 --"),
        std::string("k\0x", 3)}) {
    EXPECT_THAT(CheckMetadataFilter(Filter(key, "v")),
                StatusIs(kInvalid, Eq("metadata_key: must not contain '\"', "
                                      "'\\' or a NUL character")));
  }
  EXPECT_THAT(CheckMetadataFilter(Filter("k\xC3\x28", "v")),
              StatusIs(kInvalid, Eq("metadata_key: must be valid UTF-8")));
}

TEST(CheckMetadataFilterTest, ValueReachesEitherDatabaseUnchanged) {
  EXPECT_THAT(CheckMetadataFilter(Filter("k", std::string("v\0x", 3))),
              StatusIs(kInvalid, StartsWith("metadata_value: ")));
  v1::ListTasksRequest request = Filter("k", "");
  request.mutable_metadata_value()->set_number_value(std::nan(""));
  EXPECT_THAT(CheckMetadataFilter(request),
              StatusIs(kInvalid, Eq("metadata_value: numbers must be finite")));
  request.mutable_metadata_value()->mutable_list_value()->add_values();
  EXPECT_THAT(
      CheckMetadataFilter(request),
      StatusIs(kInvalid, Eq("metadata_value: every JSON value must be set")));
}

TEST(CheckMetadataFilterTest, ValueWithinTheCapsOfATasksMetadata) {
  v1::ListTasksRequest request = Filter("k", "");
  google::protobuf::ListValue* list =
      request.mutable_metadata_value()->mutable_list_value();
  // The list itself counts as one value.
  for (int i = 1; i < kMaxMetadataValues; ++i) list->add_values();
  for (auto& value : *list->mutable_values()) value.set_null_value({});
  EXPECT_THAT(CheckMetadataFilter(request), IsOk());
  list->add_values()->set_null_value({});
  EXPECT_THAT(CheckMetadataFilter(request),
              StatusIs(kInvalid, StartsWith("metadata_value: must hold at "
                                            "most 1000 JSON values")));
  EXPECT_THAT(
      CheckMetadataFilter(
          Filter("k", std::string(kMaxMetadataJsonBytes + 1, 'x'))),
      StatusIs(kInvalid, StartsWith("metadata_value: must be at most")));
}

}  // namespace
}  // namespace tasks::api
