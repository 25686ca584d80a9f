#ifndef TASKS_STORAGE_REQUEST_FINGERPRINT_H_
#define TASKS_STORAGE_REQUEST_FINGERPRINT_H_

#include <string>

#include "tasks/v1/tasks.pb.h"

namespace tasks::storage {

// The fingerprint of a create's task draft, stored beside its request_id so
// that a retry of the same request can be told from another request reusing
// the key (AIP-155): 64 hex digits of the SHA-256 of the draft's
// deterministic serialization (metadata keys sorted), so equal drafts have
// equal fingerprints whatever order their metadata was built in.
//
// Example:
//   std::string fingerprint = RequestFingerprint(request.task());
std::string RequestFingerprint(const v1::Task& draft);

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_REQUEST_FINGERPRINT_H_
