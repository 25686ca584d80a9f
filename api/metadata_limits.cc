#include "api/metadata_limits.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "common/struct_json.h"

namespace tasks::api {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

// `detail` says by how much.
absl::Status TooLarge(absl::string_view field, absl::string_view detail) {
  return InvalidField(field,
                      absl::StrCat("must be at most ", kMaxMetadataJsonBytes,
                                   " bytes as JSON text", detail));
}

// Counts values and the bytes of keys and strings (a lower bound of the JSON
// text's size) down to the first that passes a limit.
class Tally {
 public:
  // False once a limit is passed.
  bool AddStruct(const Struct& object) {
    for (const auto& [key, value] : object.fields()) {
      if (!AddBytes(key.size()) || !AddValue(value)) return false;
    }
    return true;
  }

  bool over_values() const { return values_ > kMaxMetadataValues; }
  int values() const { return values_; }

  // False once a limit is passed.
  bool AddValue(const Value& value) {
    if (++values_ > kMaxMetadataValues) return false;
    switch (value.kind_case()) {
      case Value::kStringValue:
        return AddBytes(value.string_value().size());
      case Value::kStructValue:
        return AddStruct(value.struct_value());
      case Value::kListValue:
        for (const Value& item : value.list_value().values()) {
          if (!AddValue(item)) return false;
        }
        return true;
      default:
        return true;
    }
  }

 private:
  bool AddBytes(size_t bytes) {
    bytes_ += bytes;
    return bytes_ <= kMaxMetadataJsonBytes;
  }

  int values_ = 0;
  size_t bytes_ = 0;
};

}  // namespace

int CountMetadataValues(const Struct& metadata) {
  Tally tally;
  tally.AddStruct(metadata);
  return tally.values();
}

absl::Status CheckMetadataValues(absl::string_view field,
                                 const Struct& metadata) {
  Tally tally;
  if (tally.AddStruct(metadata)) return absl::OkStatus();
  if (tally.over_values()) {
    return InvalidField(field,
                        absl::StrCat("must hold at most ", kMaxMetadataValues,
                                     " JSON values, nested ones included"));
  }
  return TooLarge(field, "; its keys and strings alone are longer");
}

absl::Status CheckMetadataValueLimits(absl::string_view field,
                                      const Value& value) {
  Tally tally;
  if (tally.AddValue(value)) return absl::OkStatus();
  if (tally.over_values()) {
    return InvalidField(field,
                        absl::StrCat("must hold at most ", kMaxMetadataValues,
                                     " JSON values, nested ones included"));
  }
  return TooLarge(field, "; its keys and strings alone are longer");
}

absl::Status CheckMetadataJsonSize(absl::string_view field,
                                   absl::string_view json) {
  if (json.size() <= kMaxMetadataJsonBytes) return absl::OkStatus();
  return TooLarge(field, absl::StrCat(", not ", json.size()));
}

absl::Status CheckMetadataLimits(absl::string_view field,
                                 const Struct& metadata) {
  if (absl::Status values = CheckMetadataValues(field, metadata);
      !values.ok()) {
    return values;
  }
  std::string json;
  if (!AppendStructJson(metadata, &json, NegativeZero::kPlain).ok())
    return absl::OkStatus();
  return CheckMetadataJsonSize(field, json);
}

}  // namespace tasks::api
