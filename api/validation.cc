#include "api/validation.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "google/protobuf/stubs/common.h"

namespace tasks::storage {

absl::Status CheckText(absl::string_view field, absl::string_view value) {
  if (value.find('\0') != absl::string_view::npos) {
    return InvalidField(field, "must not contain NUL bytes");
  }
  if (!google::protobuf::internal::IsStructurallyValidUTF8(
          value.data(), static_cast<int>(value.size()))) {
    return InvalidField(field, "must be valid UTF-8");
  }
  return absl::OkStatus();
}

absl::Status CheckStruct(absl::string_view field,
                         const google::protobuf::Struct& value) {
  for (const auto& [key, member] : value.fields()) {
    if (absl::Status status = CheckText(field, key); !status.ok()) {
      return status;
    }
    if (absl::Status status = CheckValue(field, member); !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

absl::Status CheckValue(absl::string_view field,
                        const google::protobuf::Value& value) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kNumberValue:
      if (!std::isfinite(value.number_value())) {
        return InvalidField(field, "numbers must be finite");
      }
      return absl::OkStatus();
    case google::protobuf::Value::kStringValue:
      return CheckText(field, value.string_value());
    case google::protobuf::Value::kStructValue:
      return CheckStruct(field, value.struct_value());
    case google::protobuf::Value::kListValue:
      for (const google::protobuf::Value& item : value.list_value().values()) {
        if (absl::Status status = CheckValue(field, item); !status.ok()) {
          return status;
        }
      }
      return absl::OkStatus();
    case google::protobuf::Value::KIND_NOT_SET:
      return InvalidField(field, "every JSON value must be set");
    default:
      return absl::OkStatus();
  }
}

}  // namespace tasks::storage
