// A key service's receipt verifies with its key only, and any change to a field (node,
// epoch, count, digest, trail entry, time), another key or no signature fails.
#include "crypto/evaluation_receipt.h"

#include <gtest/gtest.h>

#include "crypto/encoding.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::crypto {
namespace {

using ::samenzicht::testing::StatusIs;

TEST(EvaluationReceiptTest, AnyChangedFieldOrOtherKeyIsRejected) {
  ASSERT_OK_AND_ASSIGN(auto signer, Signer::Generate());
  ASSERT_OK_AND_ASSIGN(Verifier v, Verifier::New(signer->public_key()));
  const std::string elements(3 * 32, '\x07');
  EvaluationReceipt r{"police", 5, 3, ReceiptElementsDigest(elements), 17, 1768473000000, ""};
  SignReceipt(*signer, &r);
  ASSERT_EQ(r.signature.size(), kSignatureBytes);
  ASSERT_OK(VerifyReceipt(v, r));
  EXPECT_EQ(ReceiptElementsDigest(elements).size(), kDigestBytes);
  EXPECT_NE(ReceiptElementsDigest(elements), Digest("samenzicht.value-output.oprf.v2", elements));

  std::vector<EvaluationReceipt> changed(7, r);
  changed[0].node = "polices";
  changed[1].epoch = 6;
  changed[2].elements = 4;
  changed[3].elements_digest = ReceiptElementsDigest(std::string(3 * 32, '\x08'));
  changed[4].trail_seq = 18;
  changed[5].time_ms += 1;
  // The node's name is length-prefixed: moving bytes between fields changes the message.
  changed[6].node = "police\x05";
  for (size_t i = 0; i < changed.size(); ++i) {
    EXPECT_THAT(VerifyReceipt(v, changed[i]), StatusIs(absl::StatusCode::kUnauthenticated)) << i;
  }
  ASSERT_OK_AND_ASSIGN(auto other, Signer::Generate());
  ASSERT_OK_AND_ASSIGN(Verifier ov, Verifier::New(other->public_key()));
  EXPECT_THAT(VerifyReceipt(ov, r), StatusIs(absl::StatusCode::kUnauthenticated));
  EvaluationReceipt resigned = r;
  SignReceipt(*other, &resigned);
  EXPECT_THAT(VerifyReceipt(v, resigned), StatusIs(absl::StatusCode::kUnauthenticated));
  EvaluationReceipt unsigned_receipt = r;
  unsigned_receipt.signature.clear();
  EXPECT_THAT(VerifyReceipt(v, unsigned_receipt), StatusIs(absl::StatusCode::kUnauthenticated));
  EvaluationReceipt short_digest = r;
  short_digest.elements_digest.resize(16);
  EXPECT_THAT(VerifyReceipt(v, short_digest), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace samenzicht::crypto
