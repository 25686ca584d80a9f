#include "common/utf8.h"

#include <cstdint>
#include <string>

#include "gtest/gtest.h"

namespace tasks {
namespace {

TEST(DecodeUtf8Test, DecodesOneCodePointOfEachLength) {
  uint32_t code = 0;
  EXPECT_EQ(DecodeUtf8("a rest", &code), 1u);
  EXPECT_EQ(code, 'a');
  EXPECT_EQ(DecodeUtf8("\u00e9", &code), 2u);
  EXPECT_EQ(code, 0xE9u);
  EXPECT_EQ(DecodeUtf8("\u3000x", &code), 3u);
  EXPECT_EQ(code, 0x3000u);
  EXPECT_EQ(DecodeUtf8("\U0001F680", &code), 4u);
  EXPECT_EQ(code, 0x1F680u);
}

TEST(DecodeUtf8Test, InvalidSequencesAreZero) {
  uint32_t code = 0;
  for (const std::string bad :
       {std::string(), std::string("\x80"), std::string("\xC3"),
        std::string("\xC3\x28"), std::string("\xC0\xAF"),  // overlong '/'
        std::string("\xED\xA0\x80"),                       // a surrogate
        std::string("\xF4\x90\x80\x80"),                   // past U+10FFFF
        std::string("\xF8\x88\x80\x80\x80")}) {
    EXPECT_EQ(DecodeUtf8(bad, &code), 0u) << bad.size() << " bytes";
  }
}

}  // namespace
}  // namespace tasks
