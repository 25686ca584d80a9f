#include "api/text_rules.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "common/utf8.h"
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

// Unicode's White_Space characters: a title of only these looks empty.
bool IsWhiteSpace(uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Whether valid UTF-8 `text` holds only White_Space characters.
bool IsBlank(absl::string_view text) {
  uint32_t code = 0;
  for (size_t length; !text.empty(); text.remove_prefix(length)) {
    length = DecodeUtf8(text, &code);
    if (length == 0 || !IsWhiteSpace(code)) return false;
  }
  return true;
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
  if (IsBlank(value)) {
    return InvalidField(field, "is required and must not be blank");
  }
  return CheckLength(field, value, kMaxTitleLength);
}

}  // namespace tasks::api
