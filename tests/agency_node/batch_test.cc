#include "agency_node/batch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace samenzicht::agency_node {
namespace {

using ::samenzicht::testing::StatusIs;

std::vector<v1::Report> Reports(int n) {
  std::vector<v1::Report> out(n);
  for (int i = 0; i < n; ++i) {
    out[i].set_report_id("r" + std::to_string(i));
    out[i].set_form(v1::FORM_CRIMINAL);
    out[i].add_tokens()->set_rule("nid");
  }
  return out;
}

TEST(BatchTest, SplitsSignsAndFillsTheHeader) {
  ASSERT_OK_AND_ASSIGN(auto signer, crypto::Signer::Generate());
  ASSERT_OK_AND_ASSIGN(auto verifier, crypto::Verifier::New(signer->public_key()));
  BatchHeader h{"police", std::string(32, 'f'), 7, 1700000000};
  ASSERT_OK_AND_ASSIGN(auto batches, BuildBatches(Reports(5), h, 2, *signer));
  ASSERT_EQ(batches.size(), 3u);
  int total = 0;
  std::set<std::string> ids;
  for (const auto& b : batches) {
    v1::BatchPayload p;
    ASSERT_TRUE(p.ParseFromString(b.signed_batch.payload()));
    EXPECT_EQ(p.batch_id(), b.batch_id);
    EXPECT_EQ(p.batch_id().size(), 32u);
    EXPECT_EQ(p.node_id(), "police");
    EXPECT_EQ(p.profile_fingerprint(), std::string(32, 'f'));
    EXPECT_EQ(p.key_epoch(), 7u);
    EXPECT_EQ(p.created_unix(), 1700000000);
    EXPECT_EQ(b.digest, BatchDigest(b.signed_batch.payload()));
    EXPECT_OK(verifier.Verify(kBatchSignatureContext, b.signed_batch.payload(),
                              b.signed_batch.signature()));
    EXPECT_EQ(b.log.size(), static_cast<size_t>(p.reports_size()));
    EXPECT_EQ(b.log[0].categories, "form=criminal");
    EXPECT_EQ(b.log[0].token_count, 1);
    total += p.reports_size();
    ids.insert(b.batch_id);
  }
  EXPECT_EQ(total, 5);
  EXPECT_EQ(ids.size(), 3u);
}

// The same reports built twice give different payloads, digests and signatures: a random
// nonce in every payload, so nobody can confirm a guess of a payload's contents by
// recomputing its digest or checking the node's signature over it.
TEST(BatchTest, EveryPayloadCarriesItsOwnRandomNonce) {
  ASSERT_OK_AND_ASSIGN(auto signer, crypto::Signer::Generate());
  BatchHeader h{"police", std::string(32, 'f'), 7, 1700000000};
  std::set<std::string> nonces, digests;
  for (int round = 0; round < 2; ++round) {
    ASSERT_OK_AND_ASSIGN(auto batches, BuildBatches(Reports(3), h, 2, *signer));
    for (const auto& b : batches) {
      v1::BatchPayload p;
      ASSERT_TRUE(p.ParseFromString(b.signed_batch.payload()));
      EXPECT_EQ(p.nonce().size(), kBatchNonceBytes);
      nonces.insert(p.nonce());
      // Without its nonce and batch id, round 2's payload is round 1's.
      p.clear_nonce();
      p.clear_batch_id();
      digests.insert(BatchDigest(p.SerializeAsString()));
    }
  }
  EXPECT_EQ(nonces.size(), 4u);
  EXPECT_EQ(digests.size(), 2u);
}

TEST(BatchTest, EveryFlippedBitBreaksTheSignature) {
  ASSERT_OK_AND_ASSIGN(auto signer, crypto::Signer::Generate());
  ASSERT_OK_AND_ASSIGN(auto verifier, crypto::Verifier::New(signer->public_key()));
  ASSERT_OK_AND_ASSIGN(auto batches,
                       BuildBatches(Reports(1), {"police", std::string(32, 'a'), 1, 1}, 0, *signer));
  const std::string payload = batches[0].signed_batch.payload();
  for (size_t i = 0; i < payload.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string t = payload;
      t[i] ^= static_cast<char>(1 << bit);
      EXPECT_THAT(verifier.Verify(kBatchSignatureContext, t, batches[0].signed_batch.signature()),
                  StatusIs(absl::StatusCode::kUnauthenticated));
    }
  }
}

TEST(BatchTest, DefaultSizeAndValidation) {
  ASSERT_OK_AND_ASSIGN(auto signer, crypto::Signer::Generate());
  ASSERT_OK_AND_ASSIGN(auto batches,
                       BuildBatches(Reports(2001), {"n", std::string(32, 'a'), 1, 1}, 0, *signer));
  EXPECT_EQ(batches.size(), 2u);
  EXPECT_THAT(BuildBatches(Reports(1), {"", std::string(32, 'a'), 1, 1}, 0, *signer),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(BuildBatches(Reports(1), {"n", "short", 1, 1}, 0, *signer),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(auto none, BuildBatches({}, {"n", std::string(32, 'a'), 1, 1}, 0, *signer));
  EXPECT_TRUE(none.empty());
}

TEST(BatchTest, CategoriesSummary) {
  v1::Report r;
  r.set_form(v1::FORM_SEXUAL);
  r.set_age_band(v1::AGE_BAND_13_17);
  r.add_living_situation(v1::LIVING_SITUATION_HOMELESS);
  r.add_living_situation(v1::LIVING_SITUATION_WITH_EXPLOITER);
  r.set_area("oost");
  r.set_signal_month(202403);
  EXPECT_EQ(CategoriesSummary(r),
            "form=sexual age_band=13_17 living_situation=homeless;with_exploiter area=oost "
            "month=2024-03");
}

}  // namespace
}  // namespace samenzicht::agency_node
