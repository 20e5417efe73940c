#include "crypto/signature.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "crypto/encoding.h"
#include "crypto/key_file.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::crypto {
namespace {

using ::samenzicht::testing::StatusIs;

TEST(SignatureTest, EveryFlippedBitOfTheSignatureIsRejected) {
  ASSERT_OK_AND_ASSIGN(auto signer, Signer::Generate());
  ASSERT_OK_AND_ASSIGN(Verifier v, Verifier::New(signer->public_key()));
  std::string sig = signer->Sign("samenzicht.batch.v1", "payload bytes");
  ASSERT_OK(v.Verify("samenzicht.batch.v1", "payload bytes", sig));
  for (size_t i = 0; i < sig.size() * 8; ++i) {
    std::string bad = sig;
    bad[i / 8] ^= static_cast<char>(1 << (i % 8));
    EXPECT_THAT(v.Verify("samenzicht.batch.v1", "payload bytes", bad),
                StatusIs(absl::StatusCode::kUnauthenticated))
        << "bit " << i;
  }
}

TEST(SignatureTest, EveryFlippedBitOfTheMessageIsRejected) {
  ASSERT_OK_AND_ASSIGN(auto signer, Signer::Generate());
  ASSERT_OK_AND_ASSIGN(Verifier v, Verifier::New(signer->public_key()));
  const std::string msg = "a batch";
  std::string sig = signer->Sign("ctx", msg);
  for (size_t i = 0; i < msg.size() * 8; ++i) {
    std::string bad = msg;
    bad[i / 8] ^= static_cast<char>(1 << (i % 8));
    EXPECT_THAT(v.Verify("ctx", bad, sig), StatusIs(absl::StatusCode::kUnauthenticated));
  }
  EXPECT_THAT(v.Verify("other-ctx", msg, sig), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(v.Verify("ctx", msg, sig.substr(1)), StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST(SignatureTest, OtherKeyIsRejectedAndKeyFileRoundTrips) {
  std::string dir = ::testing::TempDir() + "/signature_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  ASSERT_OK_AND_ASSIGN(std::string pub_b64, GenerateKeyFile(dir + "/node.key", KeyKind::kSigning));
  ASSERT_OK_AND_ASSIGN(auto signer, Signer::FromKeyFile(dir + "/node.key"));
  EXPECT_EQ(Base64Encode(signer->public_key()), pub_b64);
  ASSERT_OK_AND_ASSIGN(Verifier v, Verifier::FromBase64(pub_b64));
  EXPECT_OK(v.Verify("c", "m", signer->Sign("c", "m")));
  ASSERT_OK_AND_ASSIGN(auto other, Signer::Generate());
  EXPECT_THAT(v.Verify("c", "m", other->Sign("c", "m")), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(Verifier::New("short"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace samenzicht::crypto
