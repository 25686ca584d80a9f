#include "storage/sql/page_token.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstdint>
#include <cstdlib>
#include <utility>

#include "absl/strings/escaping.h"
#include "common/error_reason.h"
#include "common/sha256.h"

namespace tasks::storage {
namespace {

constexpr char kVersion = 1;
constexpr size_t kDigestSize = 16;  // of the scope: identifies, the MAC guards
constexpr size_t kMacSize = 32;     // HMAC-SHA256
// version, digest, id, number, text length.
constexpr size_t kFixedSize = 1 + kDigestSize + 8 + 8 + 4;

// OpenSSL failed where only a missing algorithm or no memory can make it
// fail: nothing else would work either.
[[noreturn]] void CryptoFailed() { std::abort(); }

std::string ScopeDigest(absl::string_view scope) {
  const Sha256Bytes hash = Sha256Digest(scope);
  return std::string(reinterpret_cast<const char*>(hash.data()), kDigestSize);
}

EVP_MAC_CTX* KeyedHmacSha256(absl::string_view secret) {
  EVP_MAC* hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (hmac == nullptr) CryptoFailed();
  EVP_MAC_CTX* keyed = EVP_MAC_CTX_new(hmac);
  EVP_MAC_free(hmac);
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end()};
  if (keyed == nullptr ||
      EVP_MAC_init(keyed, reinterpret_cast<const unsigned char*>(secret.data()),
                   secret.size(), params) != 1) {
    CryptoFailed();
  }
  return keyed;
}

// Little-endian fixed-width integers.
void AppendFixed(std::string* out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) {
    out->push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  }
}

uint64_t LoadFixed(const char* in, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) {
    value |= static_cast<uint64_t>(static_cast<unsigned char>(in[i]))
             << (8 * i);
  }
  return value;
}

absl::Status InvalidToken(absl::string_view why) {
  return InvalidField("page_token", why, reason::kInvalidPageToken);
}

}  // namespace

PageTokenCodec::PageTokenCodec(std::string secret)
    : keyed_(KeyedHmacSha256(secret)) {}

PageTokenCodec::~PageTokenCodec() { EVP_MAC_CTX_free(keyed_); }

std::string PageTokenCodec::Mac(absl::string_view payload) const {
  EVP_MAC_CTX* mac = EVP_MAC_CTX_dup(keyed_);
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t length = 0;
  if (mac == nullptr ||
      EVP_MAC_update(mac,
                     reinterpret_cast<const unsigned char*>(payload.data()),
                     payload.size()) != 1 ||
      EVP_MAC_final(mac, out, &length, sizeof(out)) != 1) {
    CryptoFailed();
  }
  EVP_MAC_CTX_free(mac);
  return std::string(reinterpret_cast<const char*>(out), length);
}

std::string PageTokenCodec::Encode(absl::string_view scope,
                                   const PageCursor& cursor) const {
  std::string payload;
  payload.reserve(kFixedSize + cursor.text.size() + kMacSize);
  payload.push_back(kVersion);
  payload.append(ScopeDigest(scope));
  AppendFixed(&payload, static_cast<uint64_t>(cursor.id), 8);
  AppendFixed(&payload, static_cast<uint64_t>(cursor.number), 8);
  AppendFixed(&payload, cursor.text.size(), 4);
  payload.append(cursor.text);
  payload.append(Mac(payload));
  return absl::WebSafeBase64Escape(payload);
}

absl::StatusOr<PageCursor> PageTokenCodec::Decode(
    absl::string_view token, absl::string_view scope) const {
  std::string bytes;
  if (!absl::WebSafeBase64Unescape(token, &bytes) ||
      bytes.size() < kFixedSize + kMacSize) {
    return InvalidToken("malformed page token");
  }
  absl::string_view payload(bytes.data(), bytes.size() - kMacSize);
  std::string expected = Mac(payload);
  if (CRYPTO_memcmp(expected.data(), bytes.data() + payload.size(), kMacSize) !=
      0) {
    return InvalidToken("page token was not issued by this service");
  }
  if (payload[0] != kVersion) {
    return InvalidToken("page token of an unknown version");
  }
  if (payload.substr(1, kDigestSize) != ScopeDigest(scope)) {
    return InvalidToken(
        "page token was issued for different filters or order_by");
  }
  const char* p = payload.data() + 1 + kDigestSize;
  PageCursor cursor;
  cursor.id = static_cast<long long>(LoadFixed(p, 8));
  cursor.number = static_cast<long long>(LoadFixed(p + 8, 8));
  uint64_t text_size = LoadFixed(p + 16, 4);
  if (text_size != payload.size() - kFixedSize) {
    return InvalidToken("malformed page token");
  }
  cursor.text.assign(p + 20, text_size);
  return cursor;
}

}  // namespace tasks::storage
