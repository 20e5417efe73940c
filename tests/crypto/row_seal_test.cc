#include "crypto/row_seal.h"

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace samenzicht::crypto {
namespace {

using ::samenzicht::testing::StatusIs;

SecretBytes FixedKey(uint8_t fill) {
  std::vector<uint8_t> b(32, fill);
  return *SecretBytes::CopyFrom(b.data(), b.size());
}

TEST(RowSealerTest, OpensWhatItSealedAndHidesEqualPlaintexts) {
  ASSERT_OK_AND_ASSIGN(auto sealer, RowSealer::New(FixedKey(3)));
  const std::string plain = "same plaintext, same row";
  std::string a, b;
  sealer->Seal(plain, "row 1", &a);
  sealer->Seal(plain, "row 1", &b);
  EXPECT_EQ(a.size(), plain.size() + kSealOverheadBytes);
  EXPECT_NE(a, b);  // fresh nonce: equal plaintexts are not equal on disk
  EXPECT_EQ(a.find(plain), std::string::npos);
  std::string out;
  ASSERT_OK(sealer->Open(a, "row 1", &out));
  EXPECT_EQ(out, plain);
  ASSERT_OK(sealer->Open(b, "row 1", &out));
  EXPECT_EQ(out, plain);
}

TEST(RowSealerTest, AnotherRowAnotherKeyOrAFlippedBitIsDataLoss) {
  ASSERT_OK_AND_ASSIGN(auto sealer, RowSealer::New(FixedKey(3)));
  ASSERT_OK_AND_ASSIGN(auto other, RowSealer::New(FixedKey(4)));
  std::string sealed, out;
  sealer->Seal("categories", "row 1", &sealed);
  EXPECT_THAT(sealer->Open(sealed, "row 2", &out), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_TRUE(out.empty());
  EXPECT_THAT(other->Open(sealed, "row 1", &out), StatusIs(absl::StatusCode::kDataLoss));
  std::string flipped = sealed;
  flipped[kSealNonceBytes] ^= 1;
  EXPECT_THAT(sealer->Open(flipped, "row 1", &out), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(sealer->Open(sealed.substr(0, 39), "row 1", &out),
              StatusIs(absl::StatusCode::kDataLoss, "too short"));
  std::string empty;
  sealer->Seal("", "row 1", &empty);
  EXPECT_EQ(empty.size(), kSealOverheadBytes);
  ASSERT_OK(sealer->Open(empty, "row 1", &out));
  EXPECT_EQ(out, "");
}

TEST(RowSealerTest, RefusesAKeyOfTheWrongSize) {
  ASSERT_OK_AND_ASSIGN(SecretBytes k, SecretBytes::Random(16));
  EXPECT_THAT(RowSealer::New(k), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace samenzicht::crypto
