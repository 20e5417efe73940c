#include "crypto/oprf.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crypto/encoding.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::crypto::oprf {
namespace {

using ::samenzicht::testing::StatusIs;

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// RFC 9497, appendix A.1.1 (OPRF(ristretto255, SHA-512), mode OPRF): the published test
// vectors of the suite. The same seed, key info and blind serve both vectors.
constexpr char kSeed[] = "a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3";
constexpr char kKeyInfo[] = "74657374206b6579";  // "test key"
constexpr char kSkSm[] = "5ebcea5ee37023ccb9fc2d2019f9d7737be85591ae8652ffa9ef0f4d37063b0e";
constexpr char kBlind[] = "64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706";
struct Vector {
  const char* input;
  const char* blinded;
  const char* evaluated;
  const char* output;
};
constexpr Vector kVectors[] = {
    {"00", "609a0ae68c15a3cf6903766461307e5c8bb2f95e7e6550e1ffa2dc99e412803c",
     "7ec6578ae5120958eb2db1745758ff379e77cb64fe77b0b2d8cc917ea0869c7e",
     "527759c3d9366f277d8c6020418d96bb393ba2afb20ff90df23fb7708264e2f3"
     "ab9135e3bd69955851de4b1f9fe8a0973396719b7912ba9ee8aa7d0b5e24bcf6"},
    {"5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a", "da27ef466870f5f15296299850aa088629945a17d1f5b7f5ff043f76b3c06418",
     "b4cbf5a4f1eeda5a63ce7b77c7d23f461db3fcab0dd28e4e17cecb5c90d02c25",
     "f4a74c9c592497375e796aa837e907b1a045d34306a749db9f34221f7e750cb4"
     "f2a6413a6bf6fa5e19ba6348eb673934a722a7ede2e7621306d18951e7cf2c73"},
};

ServerKey RfcKey() { return *ServerKey::Derive(Unhex(kSeed), Unhex(kKeyInfo)); }

TEST(OprfTest, DeriveKeyPairGivesThePublishedKey) {
  ASSERT_OK_AND_ASSIGN(ServerKey key, ServerKey::Derive(Unhex(kSeed), Unhex(kKeyInfo)));
  const SecretBytes& s = key.secret();
  EXPECT_EQ(ToHex(std::string_view(reinterpret_cast<const char*>(s.unsafe_bytes()), s.size())), kSkSm);
}

TEST(OprfTest, PublishedVectorsOneAtATime) {
  ServerKey key = RfcKey();
  for (const Vector& v : kVectors) {
    SCOPED_TRACE(v.input);
    const std::string input = Unhex(v.input);
    ASSERT_OK_AND_ASSIGN(BlindBatch batch, BlindBatch::NewWithBlinds({input}, {Unhex(kBlind)}));
    EXPECT_EQ(ToHex(batch.blinded_elements()), v.blinded);
    ASSERT_OK_AND_ASSIGN(std::string evaluated, key.BlindEvaluate(batch.blinded_elements()));
    EXPECT_EQ(ToHex(evaluated), v.evaluated);
    ASSERT_OK_AND_ASSIGN(std::string output, batch.Finalize({input}, evaluated));
    EXPECT_EQ(ToHex(output), v.output);
    ASSERT_OK_AND_ASSIGN(std::string direct, Evaluate(key, input));
    EXPECT_EQ(ToHex(direct), v.output);
  }
}

TEST(OprfTest, PublishedVectorsInOneBatch) {
  // One call for both inputs: the batch's single inversion must give each blind's inverse.
  ServerKey key = RfcKey();
  const std::string in0 = Unhex(kVectors[0].input), in1 = Unhex(kVectors[1].input);
  ASSERT_OK_AND_ASSIGN(BlindBatch batch,
                       BlindBatch::NewWithBlinds({in0, in1}, {Unhex(kBlind), Unhex(kBlind)}));
  ASSERT_OK_AND_ASSIGN(std::string evaluated, key.BlindEvaluate(batch.blinded_elements()));
  EXPECT_EQ(ToHex(evaluated), std::string(kVectors[0].evaluated) + kVectors[1].evaluated);
  ASSERT_OK_AND_ASSIGN(std::string outputs, batch.Finalize({in0, in1}, evaluated));
  EXPECT_EQ(ToHex(outputs), std::string(kVectors[0].output) + kVectors[1].output);
}

TEST(OprfTest, RandomBlindsHideTheInputButGiveTheSameOutput) {
  ASSERT_OK_AND_ASSIGN(ServerKey key, ServerKey::Generate());
  std::vector<std::string> inputs = {"a", "b", "a", "a longer input", ""};
  std::vector<std::string_view> views(inputs.begin(), inputs.end());
  ASSERT_OK_AND_ASSIGN(BlindBatch b1, BlindBatch::New(views));
  ASSERT_OK_AND_ASSIGN(BlindBatch b2, BlindBatch::New(views));
  // The same input twice, in one batch or two, is sent as unrelated elements.
  EXPECT_NE(b1.blinded_elements().substr(0, 32), b1.blinded_elements().substr(64, 32));
  EXPECT_NE(b1.blinded_elements().substr(0, 32), b2.blinded_elements().substr(0, 32));
  ASSERT_OK_AND_ASSIGN(std::string e1, key.BlindEvaluate(b1.blinded_elements()));
  ASSERT_OK_AND_ASSIGN(std::string e2, key.BlindEvaluate(b2.blinded_elements()));
  ASSERT_OK_AND_ASSIGN(std::string o1, b1.Finalize(views, e1));
  ASSERT_OK_AND_ASSIGN(std::string o2, b2.Finalize(views, e2));
  EXPECT_EQ(o1, o2);
  for (size_t i = 0; i < inputs.size(); ++i) {
    ASSERT_OK_AND_ASSIGN(std::string direct, Evaluate(key, inputs[i]));
    EXPECT_EQ(o1.substr(i * kOutputBytes, kOutputBytes), direct) << i;
  }
  EXPECT_EQ(o1.substr(0, 64), o1.substr(128, 64));
  EXPECT_NE(o1.substr(0, 64), o1.substr(64, 64));
  // Another key gives other outputs.
  ASSERT_OK_AND_ASSIGN(ServerKey other, ServerKey::Generate());
  ASSERT_OK_AND_ASSIGN(std::string e3, other.BlindEvaluate(b1.blinded_elements()));
  ASSERT_OK_AND_ASSIGN(std::string o3, b1.Finalize(views, e3));
  EXPECT_NE(o3.substr(0, 64), o1.substr(0, 64));
}

// Two key services holding shares k1 and k2 (2-of-2), applied in turn to the blinded
// elements: the outputs are those of one service holding k = k1 * k2 (mod the group
// order). k1 is RFC 9497's test key; k2 is the SHA-512 of "second share" reduced; their
// product was computed outside the project (Python integers mod
// 2^252 + 27742317777372353535851937790883648493).
constexpr char kShare2[] = "1064cf76f2cf366f33be004b2b54e3b123a658896e25df20d0017d0ccf514c09";
constexpr char kShareProduct[] = "f23d6eeb840b01b62edab549615d403d4f5acb7ac8a59007233b98c208ec9f00";

ServerKey KeyOf(const char* hex) {
  const std::string raw = Unhex(hex);
  return *ServerKey::FromSecret(*SecretBytes::CopyFrom(reinterpret_cast<const uint8_t*>(raw.data()), raw.size()));
}

TEST(OprfTest, TwoSharesInTurnEvaluateUnderTheirProduct) {
  ServerKey k1 = RfcKey(), k2 = KeyOf(kShare2), k = KeyOf(kShareProduct);
  const std::vector<std::string> inputs = {Unhex(kVectors[0].input), Unhex(kVectors[1].input), "Jansen"};
  const std::vector<std::string_view> views(inputs.begin(), inputs.end());
  ASSERT_OK_AND_ASSIGN(BlindBatch batch, BlindBatch::New(views));
  ASSERT_OK_AND_ASSIGN(std::string first, k1.BlindEvaluate(batch.blinded_elements()));
  ASSERT_OK(ValidateElements(first));
  ASSERT_OK_AND_ASSIGN(std::string second, k2.BlindEvaluate(first));
  ASSERT_OK_AND_ASSIGN(std::string outputs, batch.Finalize(views, second));
  // The same outputs whichever order the shares are applied in.
  ASSERT_OK_AND_ASSIGN(std::string first_b, k2.BlindEvaluate(batch.blinded_elements()));
  ASSERT_OK_AND_ASSIGN(std::string second_b, k1.BlindEvaluate(first_b));
  ASSERT_OK_AND_ASSIGN(std::string outputs_b, batch.Finalize(views, second_b));
  EXPECT_EQ(outputs_b, outputs);
  ASSERT_OK_AND_ASSIGN(std::string one_share, batch.Finalize(views, first));
  ASSERT_OK_AND_ASSIGN(std::string other_share, batch.Finalize(views, first_b));
  for (size_t i = 0; i < inputs.size(); ++i) {
    SCOPED_TRACE(i);
    const std::string out = outputs.substr(i * kOutputBytes, kOutputBytes);
    ASSERT_OK_AND_ASSIGN(std::string direct, Evaluate(k, inputs[i]));
    EXPECT_EQ(out, direct);
    // One service's answer alone gives that share's output, not the token's.
    EXPECT_NE(one_share.substr(i * kOutputBytes, kOutputBytes), out);
    EXPECT_NE(other_share.substr(i * kOutputBytes, kOutputBytes), out);
  }
  // Pinned (computed by this code, as a guard against changes): RFC 9497's first input
  // under the product key.
  EXPECT_EQ(ToHex(outputs.substr(0, kOutputBytes)),
            "e5e44b31711f287b124c32c7a6a1ece05e13290f2a2f1beaaa7d074cf700f67d"
            "eeb03c9f9b8b55b4f18d4073b5d0a133e318456da6c1793edd94f90ad425e953");
}

TEST(OprfTest, ValidateElementsChecksEachElement) {
  const std::string good = Unhex(kVectors[0].blinded);
  ASSERT_OK(ValidateElements(""));
  ASSERT_OK(ValidateElements(good + good));
  EXPECT_THAT(ValidateElements(good + std::string(32, '\0')),
              StatusIs(absl::StatusCode::kInvalidArgument, "element 1 is not"));
  EXPECT_THAT(ValidateElements(std::string(32, '\xff') + good),
              StatusIs(absl::StatusCode::kInvalidArgument, "element 0 is not"));
  EXPECT_THAT(ValidateElements(good + "x"), StatusIs(absl::StatusCode::kInvalidArgument, "32 bytes"));
}

TEST(OprfTest, InvalidElementsAreRefused) {
  ServerKey key = RfcKey();
  const std::string good = Unhex(kVectors[0].blinded);
  const std::string identity(32, '\0');
  const std::string non_canonical(32, '\xff');         // a field element >= p
  const std::string negative = Unhex("01") + std::string(31, '\0');  // s = 1 is negative
  for (const std::string& bad : {identity, non_canonical, negative}) {
    SCOPED_TRACE(ToHex(bad));
    EXPECT_THAT(key.BlindEvaluate(good + bad),
                StatusIs(absl::StatusCode::kInvalidArgument, "blinded element 1"));
    ASSERT_OK_AND_ASSIGN(BlindBatch batch, BlindBatch::NewWithBlinds({"x"}, {Unhex(kBlind)}));
    EXPECT_THAT(batch.Finalize({"x"}, bad),
                StatusIs(absl::StatusCode::kInvalidArgument, "evaluated element 0"));
  }
  EXPECT_THAT(key.BlindEvaluate(good + "x"), StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(BlindBatch batch, BlindBatch::NewWithBlinds({"x"}, {Unhex(kBlind)}));
  EXPECT_THAT(batch.Finalize({"x", "y"}, good), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(batch.Finalize({"x"}, good + good), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(OprfTest, BadKeysAndBlindsAreRefused) {
  auto zero = *SecretBytes::Allocate(32);
  EXPECT_THAT(ServerKey::FromSecret(zero), StatusIs(absl::StatusCode::kInvalidArgument));
  std::string ff(32, '\xff');  // not reduced modulo the group order
  auto big = *SecretBytes::CopyFrom(reinterpret_cast<const uint8_t*>(ff.data()), 32);
  EXPECT_THAT(ServerKey::FromSecret(big), StatusIs(absl::StatusCode::kInvalidArgument));
  auto short_key = *SecretBytes::Random(31);
  EXPECT_THAT(ServerKey::FromSecret(short_key), StatusIs(absl::StatusCode::kInvalidArgument));
  std::string sk = Unhex(kSkSm);
  auto ok = *SecretBytes::CopyFrom(reinterpret_cast<const uint8_t*>(sk.data()), 32);
  ASSERT_OK_AND_ASSIGN(ServerKey key, ServerKey::FromSecret(ok));
  ASSERT_OK_AND_ASSIGN(std::string out, Evaluate(key, Unhex("00")));
  EXPECT_EQ(ToHex(out), kVectors[0].output);

  EXPECT_THAT(BlindBatch::NewWithBlinds({"x"}, {std::string(32, '\0')}),
              StatusIs(absl::StatusCode::kInvalidArgument, "blind 0"));
  EXPECT_THAT(BlindBatch::NewWithBlinds({"x"}, {}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(BlindBatch::New({std::string(kMaxInputBytes + 1, 'a')}),
              StatusIs(absl::StatusCode::kInvalidArgument, "input 0"));
  EXPECT_THAT(ServerKey::Derive("short", ""), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(OprfTest, ExpandMessageXmdLengths) {
  ASSERT_OK_AND_ASSIGN(std::string a, ExpandMessageXmdSha512("msg", "DST", 64));
  ASSERT_OK_AND_ASSIGN(std::string b, ExpandMessageXmdSha512("msg", "DST", 150));
  EXPECT_EQ(a.size(), 64u);
  EXPECT_EQ(b.size(), 150u);
  EXPECT_NE(a, b.substr(0, 64)) << "the length is bound into every block";
  EXPECT_THAT(ExpandMessageXmdSha512("msg", std::string(256, 'd'), 64),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ExpandMessageXmdSha512("msg", "DST", 0), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace samenzicht::crypto::oprf
