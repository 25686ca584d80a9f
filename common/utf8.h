#ifndef TASKS_COMMON_UTF8_H_
#define TASKS_COMMON_UTF8_H_

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace tasks {

// DecodeUtf8()
//
// The length (1 to 4) of the valid UTF-8 sequence at the start of `text`,
// its code point in `code`; 0, `code` unspecified, when `text` is empty or
// does not start with one (a stray continuation byte, a truncated or
// overlong sequence, a surrogate, beyond U+10FFFF).
//
// Example:
//   uint32_t code;
//   for (size_t i = 0; i < text.size(); i += length) {
//     size_t length = DecodeUtf8(text.substr(i), &code);
//     if (length == 0) ...  // invalid: skip a byte, say
//   }
size_t DecodeUtf8(absl::string_view text, uint32_t* code);

}  // namespace tasks

#endif  // TASKS_COMMON_UTF8_H_
