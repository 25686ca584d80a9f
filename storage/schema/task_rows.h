#ifndef TASKS_STORAGE_SCHEMA_TASK_ROWS_H_
#define TASKS_STORAGE_SCHEMA_TASK_ROWS_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

namespace tasks::storage {

// The etag of a task at `revision`: a quoted decimal, e.g. "\"3\"".
std::string FormatEtag(long long revision);

// The revision in an etag made by FormatEtag; nullopt for any other text,
// another spelling of the same number ("\"01\"") too.
std::optional<long long> ParseEtag(absl::string_view etag);

// Compact JSON text of metadata for the database ("{}" when empty), object
// keys sorted, -0 written as 0. INVALID_ARGUMENT naming `field` when it cannot
// be written as JSON.
absl::StatusOr<std::string> StructToJson(
    const google::protobuf::Struct& metadata, absl::string_view field);

// Compact JSON text of a single value, as StructToJson writes values.
absl::StatusOr<std::string> ValueToJson(const google::protobuf::Value& value,
                                        absl::string_view field);

// The current time in epoch microseconds (the store's clock).
long long NowMicros();

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_SCHEMA_TASK_ROWS_H_
