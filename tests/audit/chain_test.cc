#include "audit/chain.h"

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace samenzicht::audit {
namespace {

using ::samenzicht::testing::StatusIs;

class ChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    signer_ = *crypto::Signer::Generate();
    verifier_.emplace(*crypto::Verifier::New(signer_->public_key()));
    AuditChain chain(signer_.get(), 0, "");
    for (int i = 0; i < 20; ++i) {
      Entry e = chain.Next(i % 2 ? "batch_received" : "query", "police",
                           "{\"reports\":" + std::to_string(i) + "}", 1700000000000 + i);
      chain.Commit(e);
      entries_.push_back(e);
    }
    checkpoint_ = chain.MakeCheckpoint(1700000009999);
  }

  std::unique_ptr<crypto::Signer> signer_;
  std::optional<crypto::Verifier> verifier_;
  std::vector<Entry> entries_;
  Checkpoint checkpoint_;
};

TEST_F(ChainTest, AnUntouchedTrailVerifiesWithItsCheckpoint) {
  ASSERT_OK_AND_ASSIGN(VerifyResult r, Verify(entries_, *verifier_, checkpoint_));
  EXPECT_EQ(r.entries, 20u);
  EXPECT_TRUE(r.checkpoint_checked);
  EXPECT_EQ(r.head_hash, entries_.back().hash);
}

TEST_F(ChainTest, AModifiedEntryIsNamed) {
  entries_[4].details = "{\"reports\":400}";
  EXPECT_THAT(Verify(entries_, *verifier_, std::nullopt), StatusIs(absl::StatusCode::kDataLoss, "entry 5:"));
}

TEST_F(ChainTest, EveryFieldIsCovered) {
  for (int field = 0; field < 5; ++field) {
    std::vector<Entry> t = entries_;
    switch (field) {
      case 0: t[9].time_ms += 1; break;
      case 1: t[9].event = "purge"; break;
      case 2: t[9].actor = "youth-care"; break;
      case 3: t[9].details += " "; break;
      case 4: t[9].signature[0] ^= 1; break;
    }
    EXPECT_THAT(Verify(t, *verifier_, std::nullopt), StatusIs(absl::StatusCode::kDataLoss, "entry 10:"))
        << "field " << field;
  }
}

TEST_F(ChainTest, ADeletedEntryIsDetected) {
  entries_.erase(entries_.begin() + 6);
  EXPECT_THAT(Verify(entries_, *verifier_, std::nullopt),
              StatusIs(absl::StatusCode::kDataLoss, "entry 8 (position 7)"));
}

TEST_F(ChainTest, ADeletedEntryWithRenumberedTailIsDetected) {
  entries_.erase(entries_.begin() + 6);
  for (size_t i = 6; i < entries_.size(); ++i) entries_[i].seq = i + 1;
  EXPECT_THAT(Verify(entries_, *verifier_, std::nullopt), StatusIs(absl::StatusCode::kDataLoss, "entry 7:"));
}

TEST_F(ChainTest, AnInsertedEntryIsDetectedEvenIfForgedWithAnotherKey) {
  auto forger = *crypto::Signer::Generate();
  AuditChain fork(forger.get(), entries_[9].seq, entries_[9].hash);
  Entry forged = fork.Next("query", "gemeente", "{}", 1700000000010);
  entries_.insert(entries_.begin() + 10, forged);
  EXPECT_THAT(Verify(entries_, *verifier_, std::nullopt),
              StatusIs(absl::StatusCode::kDataLoss, "entry 11: signature does not verify"));
}

TEST_F(ChainTest, ReorderedEntriesAreDetected) {
  std::swap(entries_[2], entries_[3]);
  EXPECT_THAT(Verify(entries_, *verifier_, std::nullopt), StatusIs(absl::StatusCode::kDataLoss, "entry 4"));
  std::swap(entries_[2].seq, entries_[3].seq);
  EXPECT_THAT(Verify(entries_, *verifier_, std::nullopt), StatusIs(absl::StatusCode::kDataLoss, "entry 3:"));
}

TEST_F(ChainTest, ATruncatedTailIsCaughtOnlyWithTheKeptCheckpoint) {
  entries_.resize(17);
  EXPECT_OK(Verify(entries_, *verifier_, std::nullopt));  // without a checkpoint it cannot be seen
  EXPECT_THAT(Verify(entries_, *verifier_, checkpoint_),
              StatusIs(absl::StatusCode::kDataLoss, "covers entry 20"));
}

TEST_F(ChainTest, ARewrittenTrailWithTheRealKeyIsCaughtByTheCheckpoint) {
  // An operator with the signing key rewrites entry 5 and re-signs everything after it.
  AuditChain chain(signer_.get(), 4, entries_[3].hash);
  std::vector<Entry> rewritten(entries_.begin(), entries_.begin() + 4);
  for (size_t i = 4; i < 20; ++i) {
    Entry e = chain.Next(entries_[i].event, entries_[i].actor, i == 4 ? "{}" : entries_[i].details,
                         entries_[i].time_ms);
    chain.Commit(e);
    rewritten.push_back(e);
  }
  EXPECT_OK(Verify(rewritten, *verifier_, std::nullopt));
  EXPECT_THAT(Verify(rewritten, *verifier_, checkpoint_),
              StatusIs(absl::StatusCode::kDataLoss, "entry 20: differs from the kept checkpoint"));
}

TEST_F(ChainTest, CheckpointRoundTripsAndTamperingIsDetected) {
  ASSERT_OK_AND_ASSIGN(Checkpoint back, Checkpoint::Parse(checkpoint_.Serialize()));
  EXPECT_EQ(back.seq, 20u);
  EXPECT_EQ(back.head_hash, checkpoint_.head_hash);
  EXPECT_OK(VerifyCheckpointSignature(back));
  back.seq = 25;
  EXPECT_THAT(VerifyCheckpointSignature(back), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(Checkpoint::Parse("garbage"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace samenzicht::audit
