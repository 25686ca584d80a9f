#ifndef TASKS_STORAGE_REQUEST_FINGERPRINT_H_
#define TASKS_STORAGE_REQUEST_FINGERPRINT_H_

#include <string>

#include "tasks/v1/tasks.pb.h"

namespace tasks::storage {

// What a create's task draft is recognized by, stored beside its request_id
// so that a retry of the same request can be told from another request
// reusing the key (AIP-155): 64 hex digits of the SHA-256 of a deterministic
// serialization (metadata keys sorted).
struct RequestFingerprints {
  // Of the row the draft makes: a status, priority or metadata set to what
  // leaving it unset gives counts as unset, due_time counts to the
  // microsecond it is stored with, and a metadata number -0 as 0. What a new
  // row stores.
  std::string row;
  // Of the draft as sent, which rows written by older builds hold: a retry
  // repeating such a request byte for byte still matches its row. The same
  // as `row` for a draft with no other spelling.
  std::string sent;
};

// Example:
//   RequestFingerprints fingerprints = FingerprintRequest(request.task());
RequestFingerprints FingerprintRequest(const v1::Task& draft);

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_REQUEST_FINGERPRINT_H_
