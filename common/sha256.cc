#include "common/sha256.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace tasks {
namespace {

const EVP_MD* Sha256() {
  static const EVP_MD* const kSha256 = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (fetched == nullptr) std::abort();
    return fetched;
  }();
  return kSha256;
}

}  // namespace

Sha256Bytes Sha256Digest(absl::string_view bytes) {
  Sha256Bytes digest{};
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &size, Sha256(),
                 nullptr) != 1) {
    std::abort();
  }
  return digest;
}

}  // namespace tasks
