#include "aggregator/intake/intake.h"

#include <gtest/gtest.h>

#include "aggregator/query/query.h"
#include "tests/aggregator/fixture_builder.h"
#include "tests/aggregator/test_util.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::aggregator {
namespace {

using samenzicht::testing::StatusIs;
using testing::Id;
using testing::MakePayload;
using testing::MakeReport;
using testing::Packed;
using testing::Sign;
using testing::Tok;

constexpr uint32_t kEpoch = 3;

class IntakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    profile_ = testing::TestProfile();
    police_signer_ = *crypto::Signer::Generate();
    zorg_signer_ = *crypto::Signer::Generate();
    testing::AddAgency(config_, "police", v1::DOMAIN_POLICE, *police_signer_);
    testing::AddAgency(config_, "zorg", v1::DOMAIN_YOUTH_CARE, *zorg_signer_);
    config_.set_key_epoch(kEpoch);
    config_.set_min_cell_size(1);
    config_.set_max_batch_reports(5);
    config_.add_areas("oost");
    config_.add_areas("west");
    ASSERT_OK_AND_ASSIGN(store_, testing::OpenTestStore(testing::TestDir(), profile_));
    intake_ = *Intake::New(config_, profile_, store_.get());
    // Exact counts to check intake against: the old suppression with k = 1 withholds
    // nothing (a unit test's internal path; every deployment publishes with the Cell Key
    // Method, the default).
    QueryOptions exact;
    exact.method = DisclosureMethod::kSuppression;
    query_ = *Query::New(config_, profile_, store_.get(), exact);
  }

  v1::BatchAck Submit(const rpc::Peer& peer, const v1::SignedBatch& b) {
    auto ack = intake_->Submit(peer, b);
    EXPECT_TRUE(ack.ok()) << ack.status();
    return ack.ok() ? *ack : v1::BatchAck();
  }
  v1::BatchAck SubmitPolice(std::vector<v1::Report> reports, std::string batch_id = "") {
    return Submit(police_, Sign(*police_signer_, MakePayload("police", profile_, kEpoch,
                                                             std::move(reports), batch_id)));
  }
  uint64_t Persons() {
    auto r = query_->Totals(analyst_, v1::TotalsRequest());
    EXPECT_TRUE(r.ok()) << r.status();
    return r->total_persons().value();
  }
  uint64_t Signals() {
    auto r = query_->Totals(analyst_, v1::TotalsRequest());
    return r->total_signals().value();
  }

  v1::LinkageProfile profile_;
  v1::AggregatorConfig config_;
  std::unique_ptr<crypto::Signer> police_signer_, zorg_signer_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Intake> intake_;
  std::unique_ptr<Query> query_;
  rpc::Peer police_{"police", rpc::Role::kAgency};
  rpc::Peer zorg_{"zorg", rpc::Role::kAgency};
  rpc::Peer analyst_{"gemeente", rpc::Role::kAnalyst};
};

TEST_F(IntakeTest, AcceptsAValidBatch) {
  v1::BatchAck ack = SubmitPolice({MakeReport(1, {{"nid", Tok(1)}}), MakeReport(2, {})}, Id(900));
  EXPECT_EQ(ack.code(), 0) << ack.message();
  EXPECT_EQ(ack.batch_id(), Id(900));
  EXPECT_EQ(ack.accepted(), 2u);
  EXPECT_EQ(ack.duplicates(), 0u);
  EXPECT_EQ(ack.batch_digest().size(), 32u);
  EXPECT_EQ(Persons(), 2u);
}

TEST_F(IntakeTest, RefusesCallersThatAreNotConfiguredAgencies) {
  auto b = Sign(*police_signer_, MakePayload("police", profile_, kEpoch, {MakeReport(1, {})}));
  EXPECT_THAT(intake_->Submit(analyst_, b), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(intake_->Authorize({"police", rpc::Role::kAdmin}),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(intake_->Submit({"stranger", rpc::Role::kAgency}, b),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(intake_->Retract(analyst_, v1::RetractRequest()),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(Signals(), 0u);
}

TEST_F(IntakeTest, BatchLevelRefusals) {
  auto payload = MakePayload("police", profile_, kEpoch, {MakeReport(1, {{"nid", Tok(1)}})});
  // Bad signature: signed by another agency's key, or one bit flipped.
  v1::BatchAck ack = Submit(police_, Sign(*zorg_signer_, payload));
  EXPECT_EQ(ack.code(), static_cast<int>(absl::StatusCode::kUnauthenticated));
  v1::SignedBatch flipped = Sign(*police_signer_, payload);
  std::string sig = flipped.signature();
  sig[5] ^= 0x01;
  flipped.set_signature(sig);
  EXPECT_EQ(Submit(police_, flipped).code(), static_cast<int>(absl::StatusCode::kUnauthenticated));
  // Unparsable payload, correctly signed.
  EXPECT_EQ(Submit(police_, Sign(*police_signer_, std::string("\xff\xff\xff garbage"))).code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument));
  // node_id differs from the certificate.
  auto other = payload;
  other.set_node_id("zorg");
  EXPECT_EQ(Submit(police_, Sign(*police_signer_, other)).code(),
            static_cast<int>(absl::StatusCode::kPermissionDenied));
  // Profile fingerprint.
  other = payload;
  other.set_profile_fingerprint(model::ProfileFingerprint(testing::TestProfile(7)));
  ack = Submit(police_, Sign(*police_signer_, other));
  EXPECT_EQ(ack.code(), static_cast<int>(absl::StatusCode::kFailedPrecondition));
  EXPECT_NE(ack.message().find("profile"), std::string::npos);
  // Key epoch.
  other = payload;
  other.set_key_epoch(kEpoch + 1);
  ack = Submit(police_, Sign(*police_signer_, other));
  EXPECT_EQ(ack.code(), static_cast<int>(absl::StatusCode::kFailedPrecondition));
  EXPECT_NE(ack.message().find("epoch"), std::string::npos);
  // Too many reports (max 5 in this config).
  std::vector<v1::Report> six;
  for (int i = 0; i < 6; ++i) six.push_back(MakeReport(100 + i, {}));
  v1::BatchAck too_large = SubmitPolice(six);
  EXPECT_EQ(too_large.code(), static_cast<int>(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(too_large.max_batch_reports(), 5u);  // the node splits to this size
  // Malformed batch id.
  other = payload;
  other.set_batch_id("not-hex");
  EXPECT_EQ(Submit(police_, Sign(*police_signer_, other)).code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument));
  // None of it changed anything.
  EXPECT_EQ(Signals(), 0u);
  EXPECT_EQ(*store_->CountRows("batches"), 0);
}

TEST_F(IntakeTest, PerReportErrorsKeepTheRestOfTheBatch) {
  std::vector<v1::Report> reports;
  reports.push_back(MakeReport(1, {{"nid", Tok(1)}}));                       // ok
  reports.push_back(MakeReport(2, {{"nid", std::string(31, 'x')}}));          // short token
  reports.push_back(MakeReport(3, {{"unknown_rule", Tok(3)}}));               // unknown rule
  v1::Report bad_id = MakeReport(4, {});
  bad_id.set_report_id("ABCDEF");
  reports.push_back(bad_id);
  reports.push_back(MakeReport(1, {}));                                       // repeated id
  v1::BatchAck ack = SubmitPolice(reports);
  // Partial acceptance: the batch is stored except the listed reports; not a refusal.
  EXPECT_EQ(ack.code(), static_cast<int>(absl::StatusCode::kOk));
  EXPECT_TRUE(ack.partially_accepted());
  EXPECT_EQ(ack.accepted(), 1u);
  ASSERT_EQ(ack.errors_size(), 4);
  EXPECT_EQ(ack.errors(0).index(), 1u);
  EXPECT_EQ(ack.errors(0).report_id(), Id(2));
  EXPECT_EQ(ack.errors(0).code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_NE(ack.errors(0).message().find("tokens[0].value"), std::string::npos);
  EXPECT_NE(ack.errors(1).message().find("tokens[0].rule"), std::string::npos);
  EXPECT_NE(ack.errors(2).message().find("report_id"), std::string::npos);
  EXPECT_EQ(ack.errors(2).report_id(), "");  // a malformed id is not echoed
  EXPECT_NE(ack.errors(3).message().find("repeats report 0"), std::string::npos);
  // Each error names the field it is about.
  EXPECT_EQ(ack.errors(0).field(), "tokens[0].value");
  EXPECT_EQ(ack.errors(1).field(), "tokens[0].rule");
  EXPECT_EQ(ack.errors(2).field(), "report_id");
  EXPECT_EQ(ack.errors(3).field(), "report_id");
  EXPECT_EQ(Signals(), 1u);
}

// One bad report among many does not cost the batch: OK and partially accepted, the
// 1,999 others counted as accepted, the bad one named by index, report id and field.
TEST_F(IntakeTest, OneBadReportAmongManyIsNamedAndTheOthersAreStored) {
  config_.set_max_batch_reports(0);  // the default limit (10,000 reports)
  intake_ = *Intake::New(config_, profile_, store_.get());
  std::vector<v1::Report> reports;
  for (int i = 0; i < 2000; ++i) {
    const std::string token = i == 1234 ? std::string(31, 'x') : Tok(10000 + i);  // 1234: short
    reports.push_back(MakeReport(10000 + i, {{"nid", token}}));
  }
  v1::BatchAck ack = SubmitPolice(reports);
  EXPECT_EQ(ack.code(), static_cast<int>(absl::StatusCode::kOk));
  EXPECT_TRUE(ack.partially_accepted());
  EXPECT_EQ(ack.accepted(), 1999u);
  EXPECT_EQ(ack.duplicates(), 0u);
  ASSERT_EQ(ack.errors_size(), 1);
  EXPECT_EQ(ack.errors(0).index(), 1234u);
  EXPECT_EQ(ack.errors(0).report_id(), Id(10000 + 1234));
  EXPECT_EQ(ack.errors(0).field(), "tokens[0].value");
  EXPECT_EQ(ack.errors(0).code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(Signals(), 1999u);
}

// Refused and partly accepted are told apart: a batch none of whose reports is stored is
// INVALID_ARGUMENT (not partially accepted); one with a report stored before (a duplicate)
// and one bad report is OK and partially accepted.
TEST_F(IntakeTest, ABatchWithNothingStoredIsRefusedNotPartiallyAccepted) {
  v1::BatchAck ack = SubmitPolice({MakeReport(1, {{"nid", std::string(5, 'x')}}),
                                   MakeReport(2, {{"unknown_rule", Tok(2)}})});
  EXPECT_EQ(ack.code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_FALSE(ack.partially_accepted());
  EXPECT_EQ(ack.message(), "all 2 report(s) refused; nothing stored");
  EXPECT_EQ(ack.errors_size(), 2);
  EXPECT_EQ(Signals(), 0u);

  ASSERT_EQ(SubmitPolice({MakeReport(3, {{"nid", Tok(3)}})}).code(), 0);
  ack = SubmitPolice({MakeReport(3, {{"nid", Tok(3)}}), MakeReport(4, {{"nid", std::string(5, 'x')}})});
  EXPECT_EQ(ack.code(), static_cast<int>(absl::StatusCode::kOk));
  EXPECT_TRUE(ack.partially_accepted());
  EXPECT_EQ(ack.duplicates(), 1u);
  ASSERT_EQ(ack.errors_size(), 1);
  EXPECT_EQ(ack.errors(0).report_id(), Id(4));
  EXPECT_EQ(ack.errors(0).field(), "tokens[0].value");

  // A batch without any refusal is not partially accepted.
  ack = SubmitPolice({MakeReport(5, {{"nid", Tok(5)}})});
  EXPECT_EQ(ack.code(), 0);
  EXPECT_FALSE(ack.partially_accepted());
}

// A role is only for the probe rules of the profile; TestProfile has none.
TEST_F(IntakeTest, RefusesARoleOnAnOrdinaryRule) {
  std::vector<v1::Report> reports;
  reports.push_back(MakeReport(1, {{"nid", Tok(1)}}));
  reports.push_back(MakeReport(2, {{"phone", Tok(2)}, {"nid", Tok(3)}}));
  reports.back().mutable_tokens(1)->set_role(v1::TOKEN_ROLE_PROBE);
  v1::BatchAck ack = SubmitPolice(reports);
  EXPECT_EQ(ack.accepted(), 1u);
  ASSERT_EQ(ack.errors_size(), 1);
  EXPECT_EQ(ack.errors(0).index(), 1u);
  EXPECT_NE(ack.errors(0).message().find("tokens[1].role must be unset"), std::string::npos)
      << ack.errors(0).message();
}

// What nodes send (report.proto packed_tokens) links and counts exactly like the
// one-message-per-token form: the same token in either form is the same person.
TEST_F(IntakeTest, PackedAndNamedTokensLinkAlike) {
  EXPECT_EQ(SubmitPolice({Packed(profile_, MakeReport(1, {{"nid", Tok(1)}, {"phone", Tok(2)}},
                                                      v1::FORM_SEXUAL)),
                          Packed(profile_, MakeReport(2, {{"name_dob", Tok(3)}}, v1::FORM_LABOUR))})
                .code(),
            0);
  EXPECT_EQ(Submit(zorg_, Sign(*zorg_signer_,
                               MakePayload("zorg", profile_, kEpoch,
                                           {MakeReport(3, {{"phone", Tok(2)}}, v1::FORM_CRIMINAL),
                                            MakeReport(4, {{"name_dob", Tok(4)}})})))
                .code(),
            0);
  EXPECT_EQ(Signals(), 4u);
  EXPECT_EQ(Persons(), 3u);  // 1 and 3 share the phone token; 2 and 4 differ
  // Stored alike: one blob of 34 bytes per token, whatever the form.
  // (Sealed since schema 8: each non-empty blob is 40 bytes longer on disk.)
  EXPECT_EQ(testing::Column(store_->path(),
                            "SELECT sum(length(tokens) - 40 * (length(tokens) > 0)) FROM reports"),
            std::vector<std::string>{"170"});  // 5 tokens
}

TEST_F(IntakeTest, CategoryErrorsNameTheField) {
  std::vector<v1::Report> reports;
  v1::Report r = MakeReport(1, {});
  r.set_form(static_cast<v1::Form>(42));
  reports.push_back(r);
  r = MakeReport(2, {});
  r.add_coercion(static_cast<v1::Coercion>(99));
  reports.push_back(r);
  r = MakeReport(3, {});
  r.set_area("atlantis");
  reports.push_back(r);
  r = MakeReport(4, {}, v1::FORM_SEXUAL, 202413);
  reports.push_back(r);
  r = MakeReport(5, {});
  r.set_area("west");
  reports.push_back(r);
  v1::BatchAck ack = SubmitPolice(reports);
  ASSERT_EQ(ack.errors_size(), 4);
  EXPECT_NE(ack.errors(0).message().find("form"), std::string::npos);
  EXPECT_NE(ack.errors(1).message().find("coercion[0]"), std::string::npos);
  EXPECT_EQ(ack.errors(0).field(), "form");
  EXPECT_EQ(ack.errors(1).field(), "coercion[0]");
  EXPECT_EQ(ack.errors(2).field(), "area");
  EXPECT_EQ(ack.errors(3).field(), "signal_month");
  EXPECT_NE(ack.errors(2).message().find("area"), std::string::npos);
  EXPECT_EQ(ack.errors(2).message().find("atlantis"), std::string::npos);  // never a value
  EXPECT_NE(ack.errors(3).message().find("signal_month"), std::string::npos);
  EXPECT_EQ(ack.accepted(), 1u);
}

TEST_F(IntakeTest, ReplayedBatchChangesNoTotal) {
  auto signed_batch = Sign(*police_signer_, MakePayload("police", profile_, kEpoch,
                                                        {MakeReport(1, {{"nid", Tok(1)}})}, Id(5)));
  EXPECT_EQ(Submit(police_, signed_batch).code(), 0);
  uint64_t gen = store_->generation();
  v1::BatchAck ack = Submit(police_, signed_batch);
  EXPECT_EQ(ack.code(), static_cast<int>(absl::StatusCode::kAlreadyExists));
  EXPECT_NE(ack.message().find("nothing changed"), std::string::npos);
  // Same id, other content: still nothing changes, and the message says so.
  ack = SubmitPolice({MakeReport(2, {{"nid", Tok(2)}})}, Id(5));
  EXPECT_EQ(ack.code(), static_cast<int>(absl::StatusCode::kAlreadyExists));
  EXPECT_NE(ack.message().find("different content"), std::string::npos);
  EXPECT_EQ(store_->generation(), gen);
  EXPECT_EQ(Signals(), 1u);
}

// The acknowledgement of a stored batch is lost (the stream broke) and the node sends the
// batch again: the answer is ALREADY_EXISTS with the counts of the first commit, so the node's
// sent log holds what was accepted, not 0. Nothing is counted again.
TEST_F(IntakeTest, AReplayAfterALostAcknowledgementCarriesTheFirstCommitsCounts) {
  EXPECT_EQ(SubmitPolice({MakeReport(1, {{"nid", Tok(1)}})}).code(), 0);
  auto signed_batch = Sign(*police_signer_,
                           MakePayload("police", profile_, kEpoch,
                                       {MakeReport(1, {{"nid", Tok(1)}}), MakeReport(2, {}),
                                        MakeReport(3, {{"nid", Tok(3)}})},
                                       Id(6)));
  v1::BatchAck first = Submit(police_, signed_batch);  // never reaches the node
  EXPECT_EQ(first.code(), 0);
  EXPECT_EQ(first.accepted(), 2u);
  EXPECT_EQ(first.duplicates(), 1u);
  v1::BatchAck again = Submit(police_, signed_batch);
  EXPECT_EQ(again.code(), static_cast<int>(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(again.message(), "batch already committed; nothing changed");
  EXPECT_EQ(again.accepted(), 2u);
  EXPECT_EQ(again.duplicates(), 1u);
  EXPECT_EQ(again.batch_digest(), first.batch_digest());
  EXPECT_EQ(Signals(), 3u);
  // Another batch under the same id is not the one counted then: no counts.
  v1::BatchAck other = SubmitPolice({MakeReport(4, {})}, Id(6));
  EXPECT_EQ(other.code(), static_cast<int>(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(other.accepted(), 0u);
  EXPECT_EQ(other.duplicates(), 0u);
  EXPECT_EQ(Signals(), 3u);
}

TEST_F(IntakeTest, ResubmittedReportIsCountedOnce) {
  EXPECT_EQ(SubmitPolice({MakeReport(1, {{"nid", Tok(1)}})}).code(), 0);
  v1::BatchAck ack = SubmitPolice({MakeReport(1, {{"nid", Tok(1)}}), MakeReport(2, {})});
  EXPECT_EQ(ack.code(), 0);
  EXPECT_EQ(ack.accepted(), 1u);
  EXPECT_EQ(ack.duplicates(), 1u);
  EXPECT_EQ(Signals(), 2u);
  // The same report id from another agency is refused.
  ack = Submit(zorg_, Sign(*zorg_signer_, MakePayload("zorg", profile_, kEpoch, {MakeReport(1, {})})));
  EXPECT_EQ(ack.code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  ASSERT_EQ(ack.errors_size(), 1);
  EXPECT_EQ(ack.errors(0).code(), static_cast<int>(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(Signals(), 2u);
}

TEST_F(IntakeTest, RetractedReportIsNotResurrected) {
  auto old_batch = Sign(*police_signer_, MakePayload("police", profile_, kEpoch,
                                                     {MakeReport(1, {{"nid", Tok(1)}})}));
  EXPECT_EQ(Submit(police_, old_batch).code(), 0);
  EXPECT_EQ(Signals(), 1u);
  // zorg cannot retract police's report: answered like an unknown id.
  v1::RetractRequest req;
  req.add_report_ids(Id(1));
  ASSERT_OK_AND_ASSIGN(v1::RetractResponse resp, intake_->Retract(zorg_, req));
  EXPECT_EQ(resp.retracted(), 0u);
  ASSERT_EQ(resp.not_found_size(), 1);
  EXPECT_EQ(Signals(), 1u);
  ASSERT_OK_AND_ASSIGN(resp, intake_->Retract(police_, req));
  EXPECT_EQ(resp.retracted(), 1u);
  EXPECT_EQ(Signals(), 0u);
  // The old batch replayed: nothing changes. The report in a new batch: refused.
  EXPECT_EQ(Submit(police_, old_batch).code(), static_cast<int>(absl::StatusCode::kAlreadyExists));
  v1::BatchAck ack = SubmitPolice({MakeReport(1, {{"nid", Tok(1)}})});
  ASSERT_EQ(ack.errors_size(), 1);
  EXPECT_EQ(ack.errors(0).code(), static_cast<int>(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(Signals(), 0u);
  EXPECT_EQ(*store_->CountRows("tokens"), 0);
}

TEST_F(IntakeTest, TwoAgenciesLinkThroughTheStore) {
  EXPECT_EQ(SubmitPolice({MakeReport(1, {{"nid", Tok(1)}}, v1::FORM_SEXUAL),
                          MakeReport(2, {{"phone", Tok(2)}}, v1::FORM_LABOUR)})
                .code(),
            0);
  EXPECT_EQ(Submit(zorg_, Sign(*zorg_signer_,
                               MakePayload("zorg", profile_, kEpoch,
                                           {MakeReport(3, {{"nid", Tok(1)}}, v1::FORM_CRIMINAL)})))
                .code(),
            0);
  v1::TotalsRequest req;
  req.add_by(v1::DIMENSION_FORM);
  ASSERT_OK_AND_ASSIGN(v1::TotalsResponse r, query_->Totals(analyst_, req));
  EXPECT_EQ(r.total_persons().value(), 2u);
  EXPECT_EQ(r.total_signals().value(), 3u);
  EXPECT_EQ(r.rows(2).keys(0), "sexual_and_criminal");
  EXPECT_EQ(r.rows(2).persons().value(), 1u);
  EXPECT_THAT(query_->Totals(police_, req), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(query_->Totals({"fg", rpc::Role::kPrivacyOfficer}, req),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(query_->Totals({"root", rpc::Role::kAdmin}, req),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

}  // namespace
}  // namespace samenzicht::aggregator
