// Retention: expired reports and their tokens are deleted for real, totals follow at once,
// the purge is in the trail, and the space is returned to the file system.
#include <filesystem>

#include "aggregator/audit_store.h"
#include "aggregator/admin/retention.h"
#include "tests/aggregator/audit_fixture.h"

namespace samenzicht::aggregator {
namespace {

using samenzicht::testing::StatusIs;
using testing::MakeReport;
using testing::Tok;

TEST(RetentionMathTest, CutoffMonth) {
  EXPECT_EQ(CutoffMonth(202603, 24), 202403u);  // 2024-03 is kept through 2026-03
  EXPECT_EQ(CutoffMonth(202601, 1), 202512u);
  EXPECT_EQ(CutoffMonth(202612, 12), 202512u);
  EXPECT_EQ(CutoffMonth(202603, 0), 0u);
  EXPECT_EQ(MonthStartUnix(197001), 0);
  EXPECT_EQ(MonthStartUnix(202401), 1704067200);
}

class RetentionTest : public testing::AuditServerTest {
 protected:
  // `n` reports of `month`, each with two fresh tokens, in batches of 100.
  void SubmitMonth(int first_id, int n, uint32_t month) {
    for (int b = 0; b < n; b += 100) {
      std::vector<v1::Report> reports;
      for (int i = b; i < std::min(n, b + 100); ++i) {
        reports.push_back(MakeReport(first_id + i,
                                     {{"nid", Tok(first_id + i)}, {"phone", Tok(50000 + first_id + i)}},
                                     v1::FORM_SEXUAL, month));
      }
      std::vector<v1::BatchAck> acks;
      ASSERT_TRUE(Submit("police", {PoliceBatch(std::move(reports))}, &acks).ok());
      ASSERT_EQ(acks.size(), 1u);
      ASSERT_EQ(acks[0].code(), 0) << acks[0].message();
    }
  }
};

TEST_F(RetentionTest, PurgeDeletesExpiredReportsAndTokensAndReclaimsSpace) {
  SubmitMonth(1, 600, 202001);      // long expired
  SubmitMonth(10001, 20, 202609);   // recent
  EXPECT_EQ(Counts(), std::make_pair(uint64_t{620}, uint64_t{620}));
  // The database lives in the main file and its write-ahead log.
  auto on_disk = [&] {
    std::error_code ec;
    auto wal = std::filesystem::file_size(data_dir_ + "/aggregator.db-wal", ec);
    return std::filesystem::file_size(data_dir_ + "/aggregator.db") + (ec ? 0 : wal);
  };
  const auto size_before = on_disk();

  // The administrator sets 24 months; the purge runs (here: now, instead of within the hour).
  v1::SetRetentionRequest rr;
  rr.set_retention_months(24);
  v1::Settings s;
  ASSERT_TRUE(v1::Admin::NewStub(Channel("beheer"))->SetRetention(Ctx().get(), rr, &s).ok());
  ASSERT_OK_AND_ASSIGN(PurgeResult r, RunPurge(server_->store(), 24, 202611, "aggregator"));
  EXPECT_EQ(r.reports, 600);
  EXPECT_EQ(r.tokens, 1200);
  EXPECT_EQ(r.cutoff_month, 202411u);

  // Totals follow at once; the rows are gone, not flagged.
  EXPECT_EQ(Counts(), std::make_pair(uint64_t{20}, uint64_t{20}));
  ASSERT_OK_AND_ASSIGN(int64_t reports, server_->store()->CountRows("reports"));
  ASSERT_OK_AND_ASSIGN(int64_t tokens, server_->store()->CountRows("tokens"));
  EXPECT_EQ(reports, 20);
  EXPECT_EQ(tokens, 40);
  // The space is returned: no free pages, and the file is smaller.
  ASSERT_OK_AND_ASSIGN(int64_t free_pages, server_->store()->FreePages());
  EXPECT_EQ(free_pages, 0);
  EXPECT_LT(on_disk(), size_before);
  // A replayed old batch cannot bring them back: the batch ids are still known.

  // In the trail, with its counts, in the same transaction as the deletion.
  StopServer();
  ASSERT_OK_AND_ASSIGN(Trail t, ReadTrail(data_dir_));
  bool found = false;
  for (const auto& e : t.entries) {
    if (e.event == "retention_purge") {
      found = true;
      EXPECT_EQ(e.details,
                "{\"role\":\"aggregator\",\"asked\":\"purge\",\"outcome\":\"OK\","
                "\"cutoff_month\":\"2024-11\",\"reports\":600,\"tokens\":1200}");
    }
  }
  EXPECT_TRUE(found);
  VerifyOptions o;
  o.public_key_b64 = audit_public_key_;
  EXPECT_OK(VerifyTrail(data_dir_, o));
}

TEST_F(RetentionTest, TheServerPurgesAtStartWithTheConfiguredPeriod) {
  SubmitMonth(1, 5, 201901);
  SubmitMonth(100, 3, CurrentMonth());
  StopServer();
  config_.set_retention_months(12);
  StartServer();
  EXPECT_EQ(Counts(), std::make_pair(uint64_t{3}, uint64_t{3}));
}

TEST_F(RetentionTest, OfflinePurgeUsesTheAdministratorsSettingAndNow) {
  SubmitMonth(1, 5, 202301);
  SubmitMonth(100, 3, 202406);
  StopServer();
  // No retention anywhere: refused, nothing deleted.
  EXPECT_THAT(PurgeOffline(config_, 202611), StatusIs(absl::StatusCode::kFailedPrecondition));
  config_.set_retention_months(24);
  // As of 2025-01, 24 months keep 2023-01 and later.
  ASSERT_OK_AND_ASSIGN(PurgeResult r, PurgeOffline(config_, 202501));
  EXPECT_EQ(r.reports, 0);
  ASSERT_OK_AND_ASSIGN(r, PurgeOffline(config_, 202502));
  EXPECT_EQ(r.reports, 5);
  EXPECT_EQ(r.tokens, 10);
  VerifyOptions o;
  o.public_key_b64 = audit_public_key_;
  EXPECT_OK(VerifyTrail(data_dir_, o));
}

}  // namespace
}  // namespace samenzicht::aggregator
