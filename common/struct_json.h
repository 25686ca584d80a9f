#ifndef TASKS_COMMON_STRUCT_JSON_H_
#define TASKS_COMMON_STRUCT_JSON_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

namespace tasks {

// Objects and arrays nested deeper than this are refused, as protobuf's JSON
// parser refuses them.
inline constexpr int kMaxJsonNesting = 100;

// What becomes of a number -0. protobuf's parser and printer keep it
// (kMinus); the store writes and reads it as 0 (kPlain), as PostgreSQL's
// jsonb holds it (its numbers have no negative zero), so that both backends
// return the same metadata, rows SQLite stored with -0 before included.
enum class NegativeZero { kMinus, kPlain };

// Parses `json`, an RFC 8259 text whose top level is an object, into `out`
// (cleared first). Numbers become doubles; a number too large for a double is
// refused, as are duplicate keys, invalid escapes, lone surrogates, control
// characters in strings, trailing text and nesting deeper than
// kMaxJsonNesting. Stricter than protobuf's parser, which also takes some
// non-JSON (trailing commas, unquoted keys); the database only holds JSON.
// Returns InvalidArgument naming the offset of the first error; `out` is then
// unspecified. A faster stand-in for protobuf's JsonStringToMessage on the
// read path, where metadata is parsed for every task returned.
// `zero`: kPlain reads -0 as 0, where protobuf reads -0.
absl::Status JsonToStruct(absl::string_view json, google::protobuf::Struct* out,
                          NegativeZero zero = NegativeZero::kMinus);

// Messages nested below the outermost beyond this are not written, as
// protobuf's JSON printer refuses them. Struct, ListValue and Value each
// count: about 32 levels of objects or arrays.
inline constexpr int kMaxJsonWriteMessageDepth = 64;

// Appends compact JSON text of `value` to `out`, byte for byte what
// protobuf's JSON printer writes for it after a deterministic serialization:
// object keys sorted bytewise, no spaces, numbers as protobuf's SimpleDtoa
// (%.15g, or %.17g when that does not read back exactly), strings escaped as
// protobuf escapes them ('<', '>', control and invisible characters as
// \uXXXX). Strings must be valid UTF-8 (see CheckText). InvalidArgument for
// a non-finite number, a Value with no kind set, or nesting beyond
// kMaxJsonWriteMessageDepth; `out` is then unspecified. A faster stand-in for
// protobuf's printer on the write path, where every created task's metadata
// is written.
// `zero`: kPlain writes -0 as 0, where protobuf writes -0.
absl::Status AppendStructJson(const google::protobuf::Struct& value,
                              std::string* out,
                              NegativeZero zero = NegativeZero::kMinus);
absl::Status AppendValueJson(const google::protobuf::Value& value,
                             std::string* out,
                             NegativeZero zero = NegativeZero::kMinus);

}  // namespace tasks

#endif  // TASKS_COMMON_STRUCT_JSON_H_
