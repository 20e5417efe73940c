#include "crypto/encoding.h"

#include <set>

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace samenzicht::crypto {
namespace {

using ::samenzicht::testing::StatusIs;

TEST(EncodingTest, RandomIdsAre32HexAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = RandomId();
    ASSERT_EQ(id.size(), 32u);
    for (char c : id) ASSERT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(EncodingTest, Base64RoundTripAndRejectsGarbage) {
  std::string raw("\x00\x01\xfe\xff", 4);
  ASSERT_OK_AND_ASSIGN(std::string back, Base64Decode(Base64Encode(raw)));
  EXPECT_EQ(back, raw);
  EXPECT_THAT(Base64Decode("not base64!"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(EncodingTest, DigestIsDomainSeparated) {
  EXPECT_EQ(Digest("a", "x").size(), 32u);
  EXPECT_EQ(Digest("a", "x"), Digest("a", "x"));
  EXPECT_NE(Digest("a", "x"), Digest("b", "x"));
  EXPECT_NE(Digest("a", "bx"), Digest("ab", "x"));
}

TEST(EncodingTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
}

}  // namespace
}  // namespace samenzicht::crypto
