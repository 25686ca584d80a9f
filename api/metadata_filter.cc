#include "api/metadata_filter.h"

#include "api/metadata_limits.h"
#include "api/text_rules.h"
#include "api/validation.h"
#include "common/error_reason.h"
#include "common/status_macros.h"

namespace tasks::api {

absl::Status CheckMetadataFilter(const v1::ListTasksRequest& request) {
  const bool has_value =
      request.has_metadata_value() && request.metadata_value().kind_case() !=
                                          google::protobuf::Value::KIND_NOT_SET;
  if (request.metadata_key().empty()) {
    if (!has_value) return absl::OkStatus();
    return InvalidField("metadata_value",
                        "must be used together with metadata_key");
  }
  const absl::string_view key = request.metadata_key();
  if (key.find_first_of(absl::string_view("\"\\\0", 3)) !=
      absl::string_view::npos) {
    return InvalidField("metadata_key",
                        "must not contain '\"', '\\' or a NUL character");
  }
  RETURN_IF_ERROR(CheckText("metadata_key", key));
  if (!has_value) {
    return InvalidField("metadata_value",
                        "is required when metadata_key is set");
  }
  // The count first: it stops early, the full walk does not.
  RETURN_IF_ERROR(
      CheckMetadataValueLimits("metadata_value", request.metadata_value()));
  return CheckValue("metadata_value", request.metadata_value());
}

}  // namespace tasks::api
