#include "crypto/sealed_key.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "crypto/key_file.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::crypto {
namespace {

using ::samenzicht::testing::StatusIs;

class SealedKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/sealed_key_test";
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    ASSERT_OK(GenerateKeyFile(dir_ + "/shared.key", KeyKind::kHashing, 3));
    ASSERT_OK_AND_ASSIGN(node_pub_, GenerateKeyFile(dir_ + "/node-box.key", KeyKind::kBox));
    ASSERT_OK_AND_ASSIGN(other_pub_, GenerateKeyFile(dir_ + "/other-box.key", KeyKind::kBox));
  }
  std::string dir_, node_pub_, other_pub_;
};

TEST_F(SealedKeyTest, TheNodeRecoversExactlyTheSharedKeyAndEpoch) {
  ASSERT_OK_AND_ASSIGN(std::string sealed, SealHashingKey(dir_ + "/shared.key", node_pub_));
  EXPECT_EQ(sealed.find("samenzicht-sealed-key v1 3 "), 0u);
  ASSERT_OK(OpenSealedHashingKey(sealed, dir_ + "/node-box.key", dir_ + "/opened.key"));
  ASSERT_OK_AND_ASSIGN(LoadedKey a, LoadKeyFile(dir_ + "/shared.key", KeyKind::kHashing));
  ASSERT_OK_AND_ASSIGN(LoadedKey b, LoadKeyFile(dir_ + "/opened.key", KeyKind::kHashing));
  EXPECT_TRUE(a.bytes.Equals(b.bytes));
  EXPECT_EQ(b.epoch, 3u);
  EXPECT_EQ(*HashingKeyFingerprint(dir_ + "/shared.key"), *HashingKeyFingerprint(dir_ + "/opened.key"));
}

TEST_F(SealedKeyTest, AnotherNodeCannotOpenIt) {
  ASSERT_OK_AND_ASSIGN(std::string sealed, SealHashingKey(dir_ + "/shared.key", node_pub_));
  EXPECT_THAT(OpenSealedHashingKey(sealed, dir_ + "/other-box.key", dir_ + "/x.key"),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/x.key"));
}

TEST_F(SealedKeyTest, AlteredBoxOrEpochIsRefused) {
  ASSERT_OK_AND_ASSIGN(std::string sealed, SealHashingKey(dir_ + "/shared.key", node_pub_));
  std::string wrong_epoch = sealed;
  wrong_epoch.replace(wrong_epoch.find(" 3 "), 3, " 4 ");
  EXPECT_THAT(OpenSealedHashingKey(wrong_epoch, dir_ + "/node-box.key", dir_ + "/y.key"),
              StatusIs(absl::StatusCode::kUnauthenticated));
  std::string flipped = sealed;
  size_t pos = flipped.size() - 10;
  flipped[pos] = flipped[pos] == 'A' ? 'B' : 'A';
  EXPECT_THAT(OpenSealedHashingKey(flipped, dir_ + "/node-box.key", dir_ + "/z.key"),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(SealHashingKey(dir_ + "/shared.key", "bad"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace samenzicht::crypto
