// PageTokenCodec: tokens round-trip their cursor, and a token that was
// tampered with, issued under another secret or for another list, or is not
// a token at all, is INVALID_ARGUMENT on "page_token" (kInvalidPageToken).

#include "storage/sql/page_token.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <atomic>
#include <iostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace tasks::storage {
namespace {

using ::tasks::testing::ReasonIs;
using ::tasks::testing::StatusIs;
using ::testing::AllOf;
using ::testing::Optional;

constexpr char kScope[] = "order_by=title;status=2";

MATCHER(IsInvalidPageToken, "") {
  return ::testing::ExplainMatchResult(
             AllOf(StatusIs(absl::StatusCode::kInvalidArgument),
                   ReasonIs(reason::kInvalidPageToken)),
             arg, result_listener) &&
         ::testing::ExplainMatchResult(Optional(std::string("page_token")),
                                       ErrorField(arg.status()),
                                       result_listener);
}

PageCursor CursorOf(long long id, long long number, std::string text) {
  PageCursor cursor;
  cursor.id = id;
  cursor.number = number;
  cursor.text = std::move(text);
  return cursor;
}

void ExpectRoundTrip(const PageTokenCodec& codec, const PageCursor& cursor) {
  const std::string token = codec.Encode(kScope, cursor);
  absl::StatusOr<PageCursor> decoded = codec.Decode(token, kScope);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->id, cursor.id);
  EXPECT_EQ(decoded->number, cursor.number);
  EXPECT_EQ(decoded->text, cursor.text);
}

TEST(PageTokenTest, CursorRoundTrips) {
  const PageTokenCodec codec("secret");
  ExpectRoundTrip(codec, CursorOf(1, 0, ""));
  ExpectRoundTrip(codec, CursorOf(42, 1700000000123456, "Report"));
  // Extremes, negative numbers and bytes that are not text survive whole.
  ExpectRoundTrip(codec,
                  CursorOf(9223372036854775807LL, -9223372036854775807LL - 1,
                           std::string("a\0b\xff\n\"'", 7)));
  ExpectRoundTrip(codec, CursorOf(-1, -1, std::string(5000, 'x')));
}

// A token is version, scope digest (SHA-256), cursor and HMAC-SHA256 of all
// that, computed here with OpenSSL's one-shot calls as the previous version
// of the codec did: during a rolling upgrade, replicas of both versions take
// each other's tokens.
TEST(PageTokenTest, TokensAreTheSameBytesAsThePreviousVersionsTokens) {
  const std::string secret = "secret of the deployment";
  const PageTokenCodec codec(secret);
  std::string bytes;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(
      codec.Encode(kScope, CursorOf(42, 7, "Report")), &bytes));
  ASSERT_GT(bytes.size(), 1u + 16u + 32u);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(kScope), sizeof(kScope) - 1,
         digest);
  EXPECT_EQ(bytes.substr(1, 16),
            std::string(reinterpret_cast<const char*>(digest), 16));
  const std::string payload = bytes.substr(0, bytes.size() - 32);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(),
       mac, &length);
  ASSERT_EQ(length, 32u);
  EXPECT_EQ(bytes.substr(payload.size()),
            std::string(reinterpret_cast<const char*>(mac), length));
}

// One codec serves every thread of the server: its keyed HMAC is copied
// for each token, never changed.
TEST(PageTokenTest, ThreadsShareOneCodec) {
  const PageTokenCodec codec("secret");
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const PageCursor cursor = CursorOf(t * 100000 + i, i, "x");
        absl::StatusOr<PageCursor> decoded =
            codec.Decode(codec.Encode(kScope, cursor), kScope);
        if (!decoded.ok() || decoded->id != cursor.id) ++wrong;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(PageTokenTest, TokenIsWebSafeAndOpaque) {
  const PageTokenCodec codec("secret");
  const std::string token =
      codec.Encode(kScope, CursorOf(7, 3, "visible title"));
  EXPECT_EQ(token.find_first_of("+/"), std::string::npos) << token;
  EXPECT_EQ(token.find("visible"), std::string::npos) << token;
}

TEST(PageTokenTest, TokenOfAnotherScopeIsRefused) {
  const PageTokenCodec codec("secret");
  const std::string token = codec.Encode(kScope, CursorOf(7, 3, "t"));
  EXPECT_THAT(codec.Decode(token, "order_by=title;status=3"),
              IsInvalidPageToken());
  EXPECT_THAT(codec.Decode(token, ""), IsInvalidPageToken());
}

TEST(PageTokenTest, TokenUnderAnotherSecretIsRefused) {
  const std::string token = PageTokenCodec("one replica's secret")
                                .Encode(kScope, CursorOf(7, 3, "t"));
  EXPECT_THAT(PageTokenCodec("another secret").Decode(token, kScope),
              IsInvalidPageToken());
  EXPECT_TRUE(
      PageTokenCodec("one replica's secret").Decode(token, kScope).ok());
}

TEST(PageTokenTest, EveryTamperedByteIsRefused) {
  const PageTokenCodec codec("secret");
  const std::string token = codec.Encode(kScope, CursorOf(7, 3, "title"));
  std::string bytes;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(token, &bytes));
  int refused = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (unsigned char flip : {0x01, 0x80}) {
      std::string tampered = bytes;
      tampered[i] = static_cast<char>(tampered[i] ^ flip);
      absl::StatusOr<PageCursor> decoded =
          codec.Decode(absl::WebSafeBase64Escape(tampered), kScope);
      EXPECT_THAT(decoded, IsInvalidPageToken()) << "byte " << i;
      if (!decoded.ok()) ++refused;
    }
  }
  std::cout << "FIGURE tampered tokens refused: " << refused << " of "
            << 2 * bytes.size() << "\n";
}

TEST(PageTokenTest, MalformedTokensAreRefused) {
  const PageTokenCodec codec("secret");
  const std::string token = codec.Encode(kScope, CursorOf(7, 3, "title"));
  std::string bytes;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(token, &bytes));
  for (const std::string& malformed : {
           std::string("not base64 at all!"),
           std::string("A"),
           std::string("AAAA"),
           token.substr(0, token.size() / 2),
           absl::WebSafeBase64Escape(bytes.substr(0, bytes.size() - 1)),
           absl::WebSafeBase64Escape(bytes + "x"),
           absl::WebSafeBase64Escape(std::string(128, '\0')),
       }) {
    EXPECT_THAT(codec.Decode(malformed, kScope), IsInvalidPageToken())
        << malformed;
  }
}

TEST(PageTokenTest, EmptyTokenIsMalformed) {
  // Callers treat "" as "first page" before decoding; the codec itself never
  // accepts it.
  EXPECT_THAT(PageTokenCodec("secret").Decode("", kScope),
              IsInvalidPageToken());
}

}  // namespace
}  // namespace tasks::storage
