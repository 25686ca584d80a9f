#ifndef TASKS_API_VALIDATION_H_
#define TASKS_API_VALIDATION_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

namespace tasks::storage {

// Checks that a value reaches either database unchanged, before it is sent:
// PostgreSQL through SOCI cuts strings at a NUL byte and refuses invalid
// UTF-8 and "\u0000" in JSONB, while SQLite stores them all, so the backends
// would disagree. Each returns INVALID_ARGUMENT naming `field`.

// A string column: no NUL byte, valid UTF-8.
absl::Status CheckText(absl::string_view field, absl::string_view value);

// JSON metadata: every key and string as CheckText, every number finite (JSON
// has no NaN or infinity), every Value set.
absl::Status CheckStruct(absl::string_view field,
                         const google::protobuf::Struct& value);
absl::Status CheckValue(absl::string_view field,
                        const google::protobuf::Value& value);

}  // namespace tasks::storage

#endif  // TASKS_API_VALIDATION_H_
