#ifndef TASKS_STORAGE_STRUCT_JSON_H_
#define TASKS_STORAGE_STRUCT_JSON_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

namespace tasks::storage {

// Objects and arrays nested deeper than this are refused, as protobuf's JSON
// parser refuses them.
inline constexpr int kMaxJsonNesting = 100;

// Parses `json`, an RFC 8259 text whose top level is an object, into `out`
// (cleared first). Numbers become doubles; a number too large for a double is
// refused, as are duplicate keys, invalid escapes, lone surrogates, control
// characters in strings, trailing text and nesting deeper than
// kMaxJsonNesting. Stricter than protobuf's parser, which also takes some
// non-JSON (trailing commas, unquoted keys); the database only holds JSON.
// Returns InvalidArgument naming the offset of the first error; `out` is then
// unspecified. A faster stand-in for protobuf's JsonStringToMessage on the
// read path, where metadata is parsed for every task returned.
absl::Status JsonToStruct(absl::string_view json,
                          google::protobuf::Struct* out);

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_STRUCT_JSON_H_
