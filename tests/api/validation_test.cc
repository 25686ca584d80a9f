#include "api/validation.h"

#include <cmath>
#include <limits>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace tasks::api {
namespace {

using ::google::protobuf::Struct;
using ::google::protobuf::Value;
using ::tasks::testing::IsOk;
using ::tasks::testing::StatusIs;
using ::testing::Eq;

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;

Struct With(const std::string& key, const Value& value) {
  Struct object;
  (*object.mutable_fields())[key] = value;
  return object;
}

Value Text(const std::string& text) {
  Value value;
  value.set_string_value(text);
  return value;
}

Value Number(double number) {
  Value value;
  value.set_number_value(number);
  return value;
}

TEST(CheckStructTest, EveryKindOfSetValuePasses) {
  Struct object = With("s", Text("✅"));
  (*object.mutable_fields())["n"] = Number(-1.5);
  (*object.mutable_fields())["b"].set_bool_value(true);
  (*object.mutable_fields())["z"].set_null_value({});
  *(*object.mutable_fields())["o"].mutable_struct_value() = With("k", Text(""));
  (*object.mutable_fields())["l"]
      .mutable_list_value()
      ->add_values()
      ->set_number_value(1);
  EXPECT_THAT(CheckStruct("task.metadata", object), IsOk());
  EXPECT_THAT(CheckStruct("task.metadata", Struct()), IsOk());
}

TEST(CheckStructTest, KeysAndStringsAsCheckTextAtAnyDepth) {
  EXPECT_THAT(CheckStruct("m", With(std::string("k\0", 2), Text("v"))),
              StatusIs(kInvalid, Eq("m: must not contain a NUL character")));
  Value nested;
  *nested.mutable_struct_value() = With("k", Text("\xC3\x28"));
  EXPECT_THAT(CheckStruct("m", With("outer", nested)),
              StatusIs(kInvalid, Eq("m: must be valid UTF-8")));
}

TEST(CheckValueTest, NumbersFiniteAndEveryValueSet) {
  for (double number :
       {std::numeric_limits<double>::infinity(),
        -std::numeric_limits<double>::infinity(), std::nan("")}) {
    EXPECT_THAT(CheckValue("v", Number(number)),
                StatusIs(kInvalid, Eq("v: numbers must be finite")));
  }
  EXPECT_THAT(CheckValue("v", Value()),
              StatusIs(kInvalid, Eq("v: every JSON value must be set")));
  Value list;
  list.mutable_list_value()->add_values()->set_bool_value(false);
  list.mutable_list_value()->add_values();
  EXPECT_THAT(CheckValue("v", list),
              StatusIs(kInvalid, Eq("v: every JSON value must be set")));
}

}  // namespace
}  // namespace tasks::api
