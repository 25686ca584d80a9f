#ifndef TASKS_API_METADATA_LIMITS_H_
#define TASKS_API_METADATA_LIMITS_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

namespace tasks::api {

// The most a task's metadata may hold, checked on create and update by the
// service's request validation and again by the store. Metadata is a task's
// annotation map (labels, owners, a few ids or links), not a document store:
// 16 KiB and 1,000 values leave room for any such map, while every task read
// parses its metadata into a google.protobuf.Struct of ~200 bytes per value,
// so these bound one task at ~200 KB in memory and a page of them through
// kListPageByteBudget (storage/task_store.h).

// Most bytes of a task's metadata as JSON text, as the store writes it
// (AppendStructJson: compact, keys sorted).
inline constexpr size_t kMaxMetadataJsonBytes = 16 * 1024;

// Most JSON values in a task's metadata: every member of every object and
// every element of every list, nested ones included. {"a": [1, 2]} holds 3.
inline constexpr int kMaxMetadataValues = 1000;

// Most JSON values in the metadata of a BatchCreateTasks' tasks together.
// Each task's may hold kMaxMetadataValues, but 1,000 such tasks would parse
// into ~200 MB (a 1 MiB request alone holds ~250 of them, ~50 MB): this
// bounds a batch at ~2 MB of parsed metadata, ten heaviest tasks' worth, or
// a thousand tasks of ten values.
inline constexpr int kMaxBatchMetadataValues = 10000;

// The JSON values in `metadata`, counted as CheckMetadataValues does: exact
// for metadata it accepts; for other metadata a lower bound (counting stops
// at a limit), never more than kMaxMetadataValues + 1.
int CountMetadataValues(const google::protobuf::Struct& metadata);

// INVALID_ARGUMENT naming `field` (reason INVALID_ARGUMENT, so a BadRequest
// field violation) when `metadata` holds more than kMaxMetadataValues values
// or its keys and strings alone pass kMaxMetadataJsonBytes. Stops at the
// first value over a limit: its cost is bounded whatever `metadata` holds.
absl::Status CheckMetadataValues(absl::string_view field,
                                 const google::protobuf::Struct& metadata);

// INVALID_ARGUMENT naming `field` when `json`, metadata as the store writes
// it, is longer than kMaxMetadataJsonBytes.
absl::Status CheckMetadataJsonSize(absl::string_view field,
                                   absl::string_view json);

// CheckMetadataValues, then CheckMetadataJsonSize on the text
// AppendStructJson writes. Metadata that cannot be written as JSON at all (a
// number that is not finite, nesting too deep) passes: the store refuses it
// with its own message.
absl::Status CheckMetadataLimits(absl::string_view field,
                                 const google::protobuf::Struct& metadata);

// CheckMetadataValues for one JSON value, such as ListTasks' metadata_value
// filter: a value past the limits of a whole task's metadata matches no task,
// and its cost is bounded however large the message that carries it.
absl::Status CheckMetadataValueLimits(absl::string_view field,
                                      const google::protobuf::Value& value);

}  // namespace tasks::api

#endif  // TASKS_API_METADATA_LIMITS_H_
