// Table-driven hostile batches: each bad report sits between two good ones; the
// ack must name it (index, report id when well formed, code, field) and the good ones
// must be stored. Batch-level refusals (empty, oversized, not a payload) leave the store
// unchanged and say why.
#include <gtest/gtest.h>

#include "aggregator/intake/intake.h"
#include "aggregator/store/store.h"
#include "tests/aggregator/fixture_builder.h"
#include "tests/aggregator/test_util.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::aggregator {
namespace {

using testing::Id;
using testing::MakePayload;
using testing::MakeReport;
using testing::Packed;
using testing::Sign;
using testing::Tok;

constexpr uint32_t kEpoch = 1;

class BadBatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    profile_ = testing::TestProfile();
    signer_ = *crypto::Signer::Generate();
    testing::AddAgency(config_, "police", v1::DOMAIN_POLICE, *signer_);
    config_.set_key_epoch(kEpoch);
    config_.set_max_batch_reports(10);
    config_.add_areas("oost");
    ASSERT_OK_AND_ASSIGN(store_, testing::OpenTestStore(testing::TestDir(), profile_));
    intake_ = *Intake::New(config_, profile_, store_.get());
  }

  v1::BatchAck Submit(const v1::SignedBatch& b) {
    auto ack = intake_->Submit(peer_, b);
    EXPECT_TRUE(ack.ok()) << ack.status();
    return ack.ok() ? *ack : v1::BatchAck();
  }
  int64_t StoredReports() { return *store_->CountRows("reports"); }

  v1::LinkageProfile profile_;
  v1::AggregatorConfig config_;
  std::unique_ptr<crypto::Signer> signer_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Intake> intake_;
  rpc::Peer peer_{"police", rpc::Role::kAgency};
};

struct BadReport {
  const char* name;
  std::function<void(v1::Report&)> spoil;
  bool id_echoed;       // the ack names the report id (false when the id itself is bad)
  absl::StatusCode code;
  const char* message;  // exact
};

TEST_F(BadBatchTest, EachBadReportIsNamedAndTheRestOfTheBatchIsStored) {
  const std::vector<BadReport> cases = {
      {"token too short", [](v1::Report& r) { r.mutable_tokens(0)->set_value("short"); }, true,
       absl::StatusCode::kInvalidArgument, "tokens[0].value must be exactly 32 bytes, got 5"},
      {"token too long",
       [](v1::Report& r) { r.mutable_tokens(0)->set_value(std::string(33, 'x')); }, true,
       absl::StatusCode::kInvalidArgument, "tokens[0].value must be exactly 32 bytes, got 33"},
      {"token of a rule not in the profile",
       [](v1::Report& r) { r.mutable_tokens(0)->set_rule("shoe_size"); }, true,
       absl::StatusCode::kInvalidArgument, "tokens[0].rule is not a rule of the linkage profile"},
      {"rule repeated",
       [](v1::Report& r) {
         auto* t = r.add_tokens();
         t->set_rule("nid");
         t->set_value(Tok(77));
       },
       true, absl::StatusCode::kInvalidArgument, "tokens[1].rule repeats a rule of the same report"},
      {"value repeated under a multi-valued rule",
       [](v1::Report& r) {
         for (int i = 0; i < 2; ++i) {
           auto* t = r.add_tokens();
           t->set_rule("surdel_dob");
           t->set_value(Tok(80));
         }
       },
       true, absl::StatusCode::kInvalidArgument, "tokens[2].value repeats a token of the same report"},
      {"too many tokens of a multi-valued rule",
       [](v1::Report& r) {
         for (int i = 0; i < 129; ++i) {
           auto* t = r.add_tokens();
           t->set_rule("surdel_dob");
           t->set_value(Tok(2000 + i));
         }
       },
       true, absl::StatusCode::kInvalidArgument,
       "tokens[129].rule has more than 128 tokens of one rule in the same report"},
      // The packed form agency nodes send (report.proto packed_tokens; TestProfile's rules
      // are 0 nid, 1 name_dob, 2 phone, 3 surdel_dob).
      {"both token forms",
       [&](v1::Report& r) { r.set_packed_tokens(Packed(profile_, r).packed_tokens()); }, true,
       absl::StatusCode::kInvalidArgument, "a report carries tokens or packed_tokens, not both"},
      {"packed entry cut short",
       [&](v1::Report& r) {
         r = Packed(profile_, r);
         r.mutable_packed_tokens()->pop_back();
       },
       true, absl::StatusCode::kInvalidArgument,
       "packed_tokens must be whole 34-byte entries, got 33 bytes"},
      {"packed rule index beyond the profile",
       [&](v1::Report& r) {
         r = Packed(profile_, r);
         (*r.mutable_packed_tokens())[0] = 4;
       },
       true, absl::StatusCode::kInvalidArgument,
       "packed_tokens[0].rule is not a rule of the linkage profile"},
      {"packed rule repeated",
       [&](v1::Report& r) {
         r.add_tokens()->set_rule("phone");
         r.mutable_tokens(1)->set_value(Tok(78));
         r.add_tokens()->set_rule("nid");
         r.mutable_tokens(2)->set_value(Tok(79));
         r = Packed(profile_, r);
       },
       true, absl::StatusCode::kInvalidArgument,
       "packed_tokens[2].rule repeats a rule of the same report"},
      {"packed role on an ordinary rule",
       [&](v1::Report& r) {
         r = Packed(profile_, r);
         (*r.mutable_packed_tokens())[1] = static_cast<char>(v1::TOKEN_ROLE_ANCHOR);
       },
       true, absl::StatusCode::kInvalidArgument,
       "packed_tokens[0].role must be unset for this rule of the linkage profile"},
      {"unknown form number", [](v1::Report& r) { r.set_form(static_cast<v1::Form>(99)); }, true,
       absl::StatusCode::kInvalidArgument, "form is not a known value of the category"},
      {"unknown gender number", [](v1::Report& r) { r.set_gender(static_cast<v1::Gender>(-4)); },
       true, absl::StatusCode::kInvalidArgument, "gender is not a known value of the category"},
      {"unknown living situation in a list",
       [](v1::Report& r) {
         r.add_living_situation(v1::LivingSituation(1));
         r.add_living_situation(static_cast<v1::LivingSituation>(1234));
       },
       true, absl::StatusCode::kInvalidArgument,
       "living_situation[1] is not a known value of the category"},
      {"impossible month", [](v1::Report& r) { r.set_signal_month(202413); }, true,
       absl::StatusCode::kInvalidArgument, "signal_month must be YYYYMM (or 0 when not known)"},
      {"area not configured", [](v1::Report& r) { r.set_area("mars"); }, true,
       absl::StatusCode::kInvalidArgument, "area is not a district configured on the aggregator"},
      {"report id upper case",
       [](v1::Report& r) { r.set_report_id("0123456789ABCDEF0123456789ABCDEF"); }, false,
       absl::StatusCode::kInvalidArgument, "report_id must be 32 lower-case hex characters"},
      {"report id with a NUL",
       [](v1::Report& r) { r.set_report_id(std::string("0123456789abcdef\0" "123456789abcdef", 32)); },
       false, absl::StatusCode::kInvalidArgument, "report_id must be 32 lower-case hex characters"},
      {"report id repeated within the batch",
       [](v1::Report& r) { r.set_report_id(Id(1)); },  // report 0 of the batch has Id(1)
       true, absl::StatusCode::kInvalidArgument, "report_id repeats report 0 of this batch"},
  };
  int base = 1000;
  int64_t stored = StoredReports();
  for (const BadReport& c : cases) {
    SCOPED_TRACE(c.name);
    base += 10;
    v1::Report good0 = MakeReport(1, {{"nid", Tok(base)}});
    good0.set_report_id(Id(base + 1));
    if (std::string(c.name) == "report id repeated within the batch") good0.set_report_id(Id(1));
    v1::Report bad = MakeReport(base + 2, {{"nid", Tok(base + 2)}});
    c.spoil(bad);
    v1::Report good2 = MakeReport(base + 3, {{"phone", Tok(base + 3)}});
    v1::BatchAck ack = Submit(Sign(*signer_, MakePayload("police", profile_, kEpoch,
                                                         {good0, bad, good2})));
    // Stored except the bad report: OK, partially accepted (not a refused batch).
    EXPECT_EQ(ack.code(), static_cast<int>(absl::StatusCode::kOk));
    EXPECT_TRUE(ack.partially_accepted());
    EXPECT_EQ(ack.message(), "1 report(s) refused; the others are stored");
    ASSERT_EQ(ack.errors_size(), 1);
    EXPECT_EQ(ack.errors(0).index(), 1u);
    EXPECT_EQ(ack.errors(0).code(), static_cast<int>(c.code));
    EXPECT_EQ(ack.errors(0).message(), c.message);
    EXPECT_EQ(ack.errors(0).report_id(), c.id_echoed ? bad.report_id() : "");
    EXPECT_EQ(ack.accepted(), 2u);  // the rest of the batch was processed
    stored += 2;
    EXPECT_EQ(StoredReports(), stored);
  }
}

TEST_F(BadBatchTest, AMultiValuedRuleMayCarrySeveralTokensPerReport) {
  // A deletion neighbourhood: one token per member, all of rule surdel_dob, in both forms.
  v1::Report named = MakeReport(7001, {{"surdel_dob", Tok(3001)}, {"surdel_dob", Tok(3002)},
                                       {"surdel_dob", Tok(3003)}, {"nid", Tok(3004)}});
  v1::Report packed = Packed(profile_, MakeReport(7002, {{"surdel_dob", Tok(3011)},
                                                         {"surdel_dob", Tok(3012)}}));
  const int64_t before = StoredReports();
  v1::BatchAck ack = Submit(Sign(*signer_, MakePayload("police", profile_, kEpoch, {named, packed})));
  EXPECT_EQ(ack.code(), static_cast<int>(absl::StatusCode::kOk)) << ack.message();
  EXPECT_FALSE(ack.partially_accepted());
  EXPECT_EQ(ack.accepted(), 2u);
  EXPECT_EQ(StoredReports(), before + 2);
}

TEST_F(BadBatchTest, BatchLevelRefusalsStoreNothing) {
  std::vector<v1::Report> eleven;
  for (int i = 0; i < 11; ++i) eleven.push_back(MakeReport(500 + i, {{"nid", Tok(500 + i)}}));
  struct Case {
    const char* name;
    v1::SignedBatch batch;
    absl::StatusCode code;
    std::string message;
  };
  v1::BatchPayload wrong_id = MakePayload("police", profile_, kEpoch, {MakeReport(600, {})});
  wrong_id.set_batch_id("not-hex");
  // A proto3 string that is not UTF-8 makes the whole payload unparseable: the batch is
  // refused as a whole (the node's encoder never produces it; a hostile one gets nothing in).
  v1::Report not_utf8 = MakeReport(602, {});
  not_utf8.set_report_id("\xff\xfe" + std::string(30, 'a'));
  const std::vector<Case> cases = {
      {"report id not UTF-8",
       Sign(*signer_, MakePayload("police", profile_, kEpoch, {MakeReport(603, {}), not_utf8})),
       absl::StatusCode::kInvalidArgument, "batch payload does not parse"},
      {"oversized batch", Sign(*signer_, MakePayload("police", profile_, kEpoch, eleven)),
       absl::StatusCode::kResourceExhausted,
       "batch holds 11 reports; the maximum is 10: split it"},
      {"payload is not a BatchPayload", Sign(*signer_, std::string("\xff\xff\xff\x0f garbage", 12)),
       absl::StatusCode::kInvalidArgument, "batch payload does not parse"},
      {"malformed batch id", Sign(*signer_, wrong_id), absl::StatusCode::kInvalidArgument,
       "batch_id must be 32 lower-case hex characters"},
      {"wrong key epoch", Sign(*signer_, MakePayload("police", profile_, kEpoch + 1, {MakeReport(601, {})})),
       absl::StatusCode::kFailedPrecondition,
       "the batch was made with key epoch 2; this aggregator accepts epoch 1"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    v1::BatchAck ack = Submit(c.batch);
    EXPECT_EQ(ack.code(), static_cast<int>(c.code));
    EXPECT_EQ(ack.message(), c.message);
    EXPECT_EQ(ack.accepted(), 0u);
    EXPECT_EQ(StoredReports(), 0);
  }
}

TEST_F(BadBatchTest, EmptyBatchIsAcknowledgedWithNothingStored) {
  v1::BatchAck ack = Submit(Sign(*signer_, MakePayload("police", profile_, kEpoch, {})));
  EXPECT_EQ(ack.code(), 0) << ack.message();
  EXPECT_EQ(ack.accepted(), 0u);
  EXPECT_EQ(ack.errors_size(), 0);
  EXPECT_EQ(StoredReports(), 0);
}

TEST_F(BadBatchTest, EveryReportBadStillAcknowledgesEachByIndex) {
  std::vector<v1::Report> reports;
  for (int i = 0; i < 4; ++i) {
    v1::Report r = MakeReport(700 + i, {{"nid", std::string(i, 'x')}});
    reports.push_back(r);
  }
  v1::BatchAck ack = Submit(Sign(*signer_, MakePayload("police", profile_, kEpoch, reports)));
  EXPECT_EQ(ack.code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  ASSERT_EQ(ack.errors_size(), 4);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(ack.errors(i).index(), static_cast<uint32_t>(i));
    EXPECT_EQ(ack.errors(i).report_id(), Id(700 + i));
  }
  EXPECT_EQ(StoredReports(), 0);
}

}  // namespace
}  // namespace samenzicht::aggregator
