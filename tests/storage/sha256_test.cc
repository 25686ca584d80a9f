// Sha256Digest: FIPS 180-2's known answers, through the fetched algorithm.
#include "common/sha256.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace tasks {
namespace {

std::string Hex(const Sha256Bytes& digest) {
  return absl::BytesToHexString(absl::string_view(
      reinterpret_cast<const char*>(digest.data()), digest.size()));
}

TEST(Sha256Test, KnownAnswers) {
  EXPECT_EQ(Hex(Sha256Digest("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Hex(Sha256Digest("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // Twice: the algorithm fetched by the first call serves the next.
  EXPECT_EQ(Hex(Sha256Digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmn"
                             "omnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

}  // namespace
}  // namespace tasks
