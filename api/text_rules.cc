#include "api/text_rules.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "google/protobuf/stubs/common.h"

namespace tasks::api {
namespace {

// Code points of valid UTF-8: the bytes that are not continuation bytes
// (10xxxxxx).
size_t CodePoints(absl::string_view text) {
  return std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  });
}

absl::Status CheckLength(absl::string_view field, absl::string_view value,
                         size_t max_length) {
  if (CodePoints(value) <= max_length) return absl::OkStatus();
  return InvalidField(
      field, absl::StrCat("must be at most ", max_length, " characters long"));
}

}  // namespace

absl::Status CheckText(absl::string_view field, absl::string_view value) {
  if (value.find('\0') != absl::string_view::npos) {
    return InvalidField(field, "must not contain a NUL character");
  }
  if (!google::protobuf::internal::IsStructurallyValidUTF8(
          value.data(), static_cast<int>(value.size()))) {
    return InvalidField(field, "must be valid UTF-8");
  }
  return absl::OkStatus();
}

absl::Status CheckBoundedText(absl::string_view field, absl::string_view value,
                              size_t max_length) {
  if (absl::Status status = CheckText(field, value); !status.ok()) {
    return status;
  }
  return CheckLength(field, value, max_length);
}

absl::Status CheckTitle(absl::string_view field, absl::string_view value) {
  if (absl::Status status = CheckText(field, value); !status.ok()) {
    return status;
  }
  absl::string_view trimmed = absl::StripAsciiWhitespace(value);
  if (trimmed.empty()) {
    return InvalidField(field, "is required and must not be blank");
  }
  return CheckLength(field, trimmed, kMaxTitleLength);
}

}  // namespace tasks::api
