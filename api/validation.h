#ifndef TASKS_API_VALIDATION_H_
#define TASKS_API_VALIDATION_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

namespace tasks::api {

// Checks that JSON reaches either database unchanged, before it is sent:
// PostgreSQL refuses "\u0000" and invalid UTF-8 in JSONB, while SQLite stores
// them, so the backends would disagree. Each returns INVALID_ARGUMENT naming
// `field`.

// JSON metadata: every key and string as CheckText (text_rules.h), every
// number finite (JSON has no NaN or infinity), every Value set.
absl::Status CheckStruct(absl::string_view field,
                         const google::protobuf::Struct& value);
absl::Status CheckValue(absl::string_view field,
                        const google::protobuf::Value& value);

}  // namespace tasks::api

#endif  // TASKS_API_VALIDATION_H_
