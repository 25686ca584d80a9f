#ifndef TASKS_COMMON_SHA256_H_
#define TASKS_COMMON_SHA256_H_

#include <openssl/evp.h>

#include <array>

#include "absl/strings/string_view.h"

namespace tasks {

// Sha256()
//
// SHA-256 fetched from OpenSSL once. The legacy EVP_sha256() makes OpenSSL 3
// look the algorithm up again, under a lock, on every digest: on a hot path
// (a bearer token on every call) that was a few percent of the server's CPU.
// Never null: the process aborts when OpenSSL has no SHA-256, as nothing that
// needs it could work.
const EVP_MD* Sha256();

// Sha256Digest()
//
// The SHA-256 of `bytes`.
using Sha256Bytes = std::array<unsigned char, 32>;
Sha256Bytes Sha256Digest(absl::string_view bytes);

}  // namespace tasks

#endif  // TASKS_COMMON_SHA256_H_
