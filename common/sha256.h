#ifndef TASKS_COMMON_SHA256_H_
#define TASKS_COMMON_SHA256_H_

#include <array>

#include "absl/strings/string_view.h"

namespace tasks {

using Sha256Bytes = std::array<unsigned char, 32>;

// Sha256Digest()
//
// The SHA-256 of `bytes`, through OpenSSL with the algorithm fetched once:
// its one-shot SHA256() and the legacy EVP_sha256() look the algorithm up
// again, under a lock, on every digest, which on a hot path (a bearer token
// on every call) was a few percent of the server's CPU. Aborts the process
// when OpenSSL has no SHA-256 or no memory: nothing needing it could work.
Sha256Bytes Sha256Digest(absl::string_view bytes);

}  // namespace tasks

#endif  // TASKS_COMMON_SHA256_H_
