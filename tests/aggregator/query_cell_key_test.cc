// The query layer in its default configuration, the Cell Key Method: any grid period in any order is
// answered, consistently; a period off the grid is refused with the grid periods to ask
// instead; every answer and refusal is in the audit trail; the cell-key secret survives a
// restart (same figures).
#include <memory>

#include <gtest/gtest.h>

#include "audit/aggregator_events.h"
#include "aggregator/query/disclosure.h"
#include "aggregator/present/insight_format.h"
#include "aggregator/present/totals_format.h"
#include "aggregator/admin/retention.h"
#include "aggregator/intake/intake.h"
#include "aggregator/query/query.h"
#include "aggregator/query/totals.h"
#include "tests/aggregator/fixture_builder.h"
#include "tests/aggregator/test_util.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::aggregator {
namespace {

using samenzicht::testing::StatusIs;
using testing::Tok;

constexpr uint32_t kEpoch = 1;

// The DEFAULT configuration (the Cell Key Method with the release freeze, what the server,
// the dashboard and the report use), in December 2026: only the clock is fixed.
QueryOptions Options() {
  QueryOptions o;
  o.now_month = 202612;
  return o;
}

class QueryCellKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    profile_ = testing::TestProfile();
    signer_ = *crypto::Signer::Generate();
    audit_signer_ = *crypto::Signer::Generate();
    testing::AddAgency(config_, "police", v1::DOMAIN_POLICE, *signer_);
    config_.set_key_epoch(kEpoch);
    config_.set_min_cell_size(5);
    config_.add_areas("oost");
    dir_ = testing::TestDir();
    ASSERT_OK_AND_ASSIGN(store_, testing::OpenTestStore(dir_, profile_));
    AuditOptions audit;
    audit.signer = audit_signer_.get();
    audit.checkpoint_dir = dir_ + "/checkpoints";
    audit.checkpoint_every = 0;
    ASSERT_OK(store_->AttachAudit(audit));
    intake_ = *Intake::New(config_, profile_, store_.get());
    query_ = *Query::New(config_, profile_, store_.get(), Options());
    // 40 persons over the first half of 2024, 3 forms; persons 1-10 signalled twice.
    std::vector<v1::Report> reports;
    for (int p = 1; p <= 40; ++p) {
      const v1::Form form = p % 3 == 0 ? v1::FORM_SEXUAL : p % 3 == 1 ? v1::FORM_CRIMINAL
                                                                       : v1::FORM_LABOUR;
      reports.push_back(testing::Packed(
          profile_, testing::MakeReport(p, {{"nid", Tok(p)}}, form,
                                        202401 + static_cast<uint32_t>(p % 6))));
      if (p <= 10) {
        reports.push_back(testing::Packed(
            profile_, testing::MakeReport(100 + p, {{"nid", Tok(p)}}, form, 202406)));
      }
    }
    auto ack = intake_->Submit(police_, testing::Sign(*signer_, testing::MakePayload(
                                                                    "police", profile_, kEpoch,
                                                                    std::move(reports))));
    ASSERT_TRUE(ack.ok()) << ack.status();
  }

  v1::TotalsRequest Request(std::vector<v1::Dimension> by, uint32_t from, uint32_t to) {
    v1::TotalsRequest r;
    for (auto d : by) r.add_by(d);
    r.set_from_month(from);
    r.set_to_month(to);
    return r;
  }

  int QueryEntries(const std::string& needle) {
    auto entries = store_->ReadAudit(1, 10000);
    EXPECT_TRUE(entries.ok()) << entries.status();
    int n = 0;
    for (const audit::Entry& e : *entries) {
      if (e.event == kEventQuery && e.details.find(needle) != std::string::npos) ++n;
    }
    return n;
  }

  std::string dir_;
  v1::LinkageProfile profile_;
  v1::AggregatorConfig config_;
  std::unique_ptr<crypto::Signer> signer_, audit_signer_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Intake> intake_;
  std::unique_ptr<Query> query_;
  rpc::Peer police_{"police", rpc::Role::kAgency};
  rpc::Peer analyst_{"gemeente", rpc::Role::kAnalyst};
};

TEST_F(QueryCellKeyTest, TheDefaultIsTheCellKeyMethodWithTheReleaseFreeze) {
  ASSERT_OK_AND_ASSIGN(auto q, Query::New(config_, profile_, store_.get()));
  EXPECT_EQ(q->method(), DisclosureMethod::kCellKey);
  EXPECT_TRUE(q->options().release_freeze);
  EXPECT_EQ(q->options().grace_months, 1u);
  EXPECT_EQ(q->cell_key_params().k, 5u);
  EXPECT_EQ(q->cell_key_params().noise(), 5u);
  EXPECT_EQ(q->cell_key_params().tail(), 15u);
  EXPECT_NE(q->cell_key_params().secret, 0u);
  // Whatever the clock says, the months of 2024 are released by now: answered, perturbed.
  ASSERT_OK_AND_ASSIGN(v1::TotalsResponse r,
                       q->Totals(analyst_, Request({v1::DIMENSION_FORM}, 202401, 202412)));
  EXPECT_NE(r.counting_rules().find("Cell Key Method"), std::string::npos);
}

// The attack tests (disclosure_attack_test.cc) attack PerturbTotals with the default's
// parameters; this is what the default Query publishes, cell for cell.
TEST_F(QueryCellKeyTest, TheDefaultPublishesExactlyWhatTheAttackTestsAttack) {
  ASSERT_OK_AND_ASSIGN(auto q, Query::New(config_, profile_, store_.get(), Options()));
  for (auto [from, to] : std::vector<std::pair<uint32_t, uint32_t>>{
           {202401, 202403}, {202401, 202406}, {202401, 202412}}) {
    for (const std::vector<v1::Dimension>& by : std::vector<std::vector<v1::Dimension>>{
             {}, {v1::DIMENSION_FORM}, {v1::DIMENSION_FORM, v1::DIMENSION_SIGNAL_MONTH}}) {
      ASSERT_OK_AND_ASSIGN(v1::TotalsResponse shown, q->Totals(analyst_, Request(by, from, to)));
      ASSERT_OK_AND_ASSIGN(std::shared_ptr<const Snapshot> snap, q->Current());
      ASSERT_OK_AND_ASSIGN(RawTotals raw, ComputeRawTotals(snap->dataset, snap->link,
                                                           Request(by, from, to), &snap->keys));
      v1::TotalsResponse attacked = PerturbTotals(raw, q->cell_key_params());
      attacked.set_from_month(from);  // the period it covers, named
      attacked.set_to_month(to);
      EXPECT_EQ(shown.SerializeAsString(), attacked.SerializeAsString())
          << from << ".." << to << " by " << by.size();
    }
  }
}

// Margins: a one-way table and its total show no symbol and no count from 1 to k-1, so
// "total minus the other cells" is a sum of perturbed figures, not a withheld cell.
TEST_F(QueryCellKeyTest, NoCellIsWithheldSoNoneFollowsFromTheMargin) {
  for (auto by : {v1::DIMENSION_FORM, v1::DIMENSION_SIGNAL_MONTH, v1::DIMENSION_DOMAIN}) {
    ASSERT_OK_AND_ASSIGN(v1::TotalsResponse r,
                         query_->Totals(analyst_, Request({by}, 202401, 202406)));
    for (const auto& row : r.rows()) {
      for (const v1::Count* c : {&row.persons(), &row.signals()}) {
        EXPECT_FALSE(c->suppressed() || c->secondary());
        EXPECT_TRUE(c->value() == 0 || c->value() >= 5) << c->value();
      }
    }
    EXPECT_FALSE(r.total_persons().suppressed());
  }
}

TEST_F(QueryCellKeyTest, EveryGridPeriodIsAnsweredInAnyOrderWithTheSameFigures) {
  const std::vector<std::pair<uint32_t, uint32_t>> periods = {
      {202401, 202412}, {202401, 202406}, {202401, 202403}, {202404, 202406},
      {202406, 202406}, {202401, 202401}, {0, 0}};
  std::vector<std::string> first;
  for (auto [from, to] : periods) {
    ASSERT_OK_AND_ASSIGN(v1::TotalsResponse r,
                         query_->Totals(analyst_, Request({v1::DIMENSION_FORM}, from, to)));
    first.push_back(r.SerializeAsString());
    for (const auto& row : r.rows()) {
      EXPECT_FALSE(row.persons().suppressed() || row.persons().secondary());
      EXPECT_TRUE(row.persons().value() == 0 || row.persons().value() >= 5);
    }
  }
  // Backwards: the same answers (the old history refused the second of two overlapping
  // periods).
  for (size_t i = periods.size(); i-- > 0;) {
    ASSERT_OK_AND_ASSIGN(v1::TotalsResponse r,
                         query_->Totals(analyst_, Request({v1::DIMENSION_FORM}, periods[i].first,
                                                          periods[i].second)));
    EXPECT_EQ(r.SerializeAsString(), first[i]);
  }
  // H1 holds every person, like the year and no period (the latest year, 2024): the same
  // figures (each response names its own period: H1's differs in that alone).
  v1::TotalsResponse h1;
  ASSERT_TRUE(h1.ParseFromString(first[1]));
  EXPECT_EQ(std::make_pair(h1.from_month(), h1.to_month()), std::make_pair(202401u, 202406u));
  h1.set_to_month(202412);
  EXPECT_EQ(first[0], h1.SerializeAsString());
  EXPECT_EQ(first[0], first[6]);
  for (auto [from, to] : periods) {
    v1::InsightRequest req;
    req.set_from_month(from);
    req.set_to_month(to);
    req.set_granularity(v1::TREND_GRANULARITY_QUARTER);
    ASSERT_OK_AND_ASSIGN(v1::InsightResponse r, query_->Insight(analyst_, req));
    EXPECT_TRUE(SuppressedCells(r).empty());
    EXPECT_NE(r.disclosure_rules().find("Cell Key Method"), std::string::npos);
  }
}

TEST_F(QueryCellKeyTest, APeriodOffTheGridIsRefusedNamingTheGridPeriodsToAsk) {
  auto r = query_->Totals(analyst_, Request({}, 202401, 202405));
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_NE(r.status().message().find("2024-01..2024-06 (2024-H1)"), std::string::npos)
      << r.status();
  v1::InsightRequest req;
  req.set_from_month(202402);
  req.set_to_month(202404);
  EXPECT_THAT(query_->Insight(analyst_, req), StatusIs(absl::StatusCode::kInvalidArgument));
}

// Without a period the latest year with published signals is published, to its last released
// June or December: on 1 June 2024 (January..April released, no half year ended) it is
// refused, naming the grid periods to ask and when it is published; on 1 August 2024 it is the
// first half year, the same figures; in December 2026, with signals in 2024 only, it is 2024
// (not an empty 2026, and not 2024-01..2026-06). The refusal is audited with its code.
TEST_F(QueryCellKeyTest, WithoutAPeriodTheLatestYearIsPublished) {
  QueryOptions june = Options();
  june.now_month = 202406;
  ASSERT_OK_AND_ASSIGN(auto early, Query::New(config_, profile_, store_.get(), june));
  auto refused = early->Totals(analyst_, Request({v1::DIMENSION_FORM}, 0, 0));
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(refused.status().message(),
            "without a period the latest year is published, as far as its first half year or "
            "the whole year is released, and no half year has ended since the figures begin "
            "(2024-01): it is published from 2024-08-01 (through 2024-06); ask "
            "2024-04..2024-04 (2024-04) or 2024-01..2024-03 (2024-Q1) instead");
  ASSERT_TRUE(RefusalOf(refused.status()).has_value());
  EXPECT_EQ(RefusalOf(refused.status())->key, "refusedNoLatestYear");
  EXPECT_THAT(early->Insight(analyst_, v1::InsightRequest()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(QueryEntries("\"refused\":\"FAILED_PRECONDITION\""), 2);
  // What it names is answered.
  ASSERT_OK(early->Totals(analyst_, Request({v1::DIMENSION_FORM}, 202404, 202404)).status());
  ASSERT_OK(early->Totals(analyst_, Request({v1::DIMENSION_FORM}, 202401, 202403)).status());

  QueryOptions august = Options();
  august.now_month = 202408;
  ASSERT_OK_AND_ASSIGN(auto later, Query::New(config_, profile_, store_.get(), august));
  ASSERT_OK_AND_ASSIGN(v1::TotalsResponse latest,
                       later->Totals(analyst_, Request({v1::DIMENSION_FORM}, 0, 0)));
  ASSERT_OK_AND_ASSIGN(v1::TotalsResponse h1,
                       later->Totals(analyst_, Request({v1::DIMENSION_FORM}, 202401, 202406)));
  EXPECT_EQ(latest.SerializeAsString(), h1.SerializeAsString());
  // Both name the period they cover.
  EXPECT_EQ(std::make_pair(latest.from_month(), latest.to_month()),
            std::make_pair(202401u, 202406u));
  ASSERT_OK_AND_ASSIGN(v1::InsightResponse overview,
                       later->Insight(analyst_, v1::InsightRequest()));
  EXPECT_EQ(overview.from_month(), 202401u);
  EXPECT_EQ(overview.to_month(), 202406u);

  // December 2026: released through October 2026, the signals all in 2024: the year 2024.
  ASSERT_OK_AND_ASSIGN(v1::InsightResponse now, query_->Insight(analyst_, v1::InsightRequest()));
  EXPECT_EQ(now.from_month(), 202401u);
  EXPECT_EQ(now.to_month(), 202412u);
  // The command line's tables name it (`aggregator totals` without --from/--to).
  ASSERT_OK_AND_ASSIGN(std::string summary, FormatInsight(now, "summary", "table"));
  EXPECT_THAT(summary, ::testing::HasSubstr("\nperiod: 2024-01..2024-12 (2024)\n"));
  ASSERT_OK_AND_ASSIGN(v1::TotalsResponse totals, query_->Totals(analyst_, Request({}, 0, 0)));
  ASSERT_OK_AND_ASSIGN(std::string table, FormatTotals(totals, "table"));
  EXPECT_THAT(table, ::testing::HasSubstr("\nperiod: 2024-01..2024-12 (2024)\n"));
}

// A second year: with signals in 2025 as well, the period without one is 2025 alone (first its
// first half year, then the year), never 2024-01..2025-06 or 2024-01..2025-12, and its figures
// are those of the grid period published that day, table for table.
TEST_F(QueryCellKeyTest, WithoutAPeriodNoFigureCrossesAYear) {
  std::vector<v1::Report> reports;
  for (int p = 1; p <= 30; ++p) {
    // Persons 1-10 again (signalled in both years), 11-30 new.
    const int person = p <= 10 ? p : 200 + p;
    reports.push_back(testing::Packed(
        profile_, testing::MakeReport(500 + p, {{"nid", Tok(person)}}, v1::FORM_CRIMINAL,
                                      202501 + static_cast<uint32_t>(p % 12))));
  }
  ASSERT_OK(intake_
                ->Submit(police_, testing::Sign(*signer_, testing::MakePayload(
                                                              "police", profile_, kEpoch,
                                                              std::move(reports))))
                .status());
  for (auto [now, period] : std::vector<std::pair<uint32_t, std::pair<uint32_t, uint32_t>>>{
           {202505, {202401, 202412}}, {202508, {202501, 202506}},
           {202601, {202501, 202506}}, {202602, {202501, 202512}}}) {
    QueryOptions o = Options();
    o.now_month = now;
    ASSERT_OK_AND_ASSIGN(auto q, Query::New(config_, profile_, store_.get(), o));
    ASSERT_OK_AND_ASSIGN(v1::InsightResponse overview, q->Insight(analyst_, v1::InsightRequest()));
    EXPECT_EQ(std::make_pair(overview.from_month(), overview.to_month()), period) << now;
    for (const auto& by : std::vector<std::vector<v1::Dimension>>{
             {}, {v1::DIMENSION_FORM}, {v1::DIMENSION_SIGNAL_MONTH}}) {
      ASSERT_OK_AND_ASSIGN(v1::TotalsResponse latest, q->Totals(analyst_, Request(by, 0, 0)));
      ASSERT_OK_AND_ASSIGN(v1::TotalsResponse grid,
                           q->Totals(analyst_, Request(by, period.first, period.second)));
      EXPECT_EQ(latest.SerializeAsString(), grid.SerializeAsString()) << now;
    }
  }
}

// Through the query layer the refusal keeps its words for the renderings (the dashboard
// says it in Dutch), for the totals and the overview alike.
TEST_F(QueryCellKeyTest, ARefusalKeepsItsLabelThroughTheQueryLayer) {
  auto totals = query_->Totals(analyst_, Request({}, 202401, 202405));
  ASSERT_TRUE(RefusalOf(totals.status()).has_value()) << totals.status();
  EXPECT_EQ(RefusalOf(totals.status())->key, "refusedOffGrid");
  v1::InsightRequest req;
  req.set_from_month(202612);
  req.set_to_month(202612);
  auto insight = query_->Insight(analyst_, req);
  ASSERT_TRUE(RefusalOf(insight.status()).has_value()) << insight.status();
  EXPECT_EQ(RefusalOf(insight.status())->key, "refusedNotReleased");
}

// The overview's JSON (the dashboard's /api/insight, `--format json`) carries the Cell Key
// Method's parameters the query layer applied, here not the defaults (D = 3).
TEST_F(QueryCellKeyTest, TheOverviewJsonStatesTheAppliedParameters) {
  QueryOptions o = Options();
  o.max_noise = 3;
  ASSERT_OK_AND_ASSIGN(auto q, Query::New(config_, profile_, store_.get(), o));
  v1::InsightRequest req;
  req.set_from_month(202401);
  req.set_to_month(202412);
  ASSERT_OK_AND_ASSIGN(v1::InsightResponse r, q->Insight(analyst_, req));
  EXPECT_NE(FormatInsightJson(r).find(
                "\"cell_key\": {\"k\": 5, \"max_noise\": 3, \"tail_noise\": 15, \"tail_one_in\": 10}"),
            std::string::npos)
      << FormatInsightJson(r);
}

TEST_F(QueryCellKeyTest, EveryAnswerAndEveryRefusalIsInTheAuditTrail) {
  ASSERT_OK(query_->Totals(analyst_, Request({v1::DIMENSION_FORM}, 202401, 202406)).status());
  ASSERT_OK(query_->Insight(analyst_, v1::InsightRequest()).status());
  EXPECT_FALSE(query_->Totals(analyst_, Request({}, 202401, 202405)).ok());
  EXPECT_THAT(query_->Insight(police_, v1::InsightRequest()),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(QueryEntries("\"method\":\"cell_key\""), 4);
  EXPECT_EQ(QueryEntries("\"answered\":true"), 2);
  EXPECT_EQ(QueryEntries("\"refused\":\"INVALID_ARGUMENT\""), 1);
  EXPECT_EQ(QueryEntries("\"refused\":\"PERMISSION_DENIED\""), 1);
  EXPECT_EQ(QueryEntries("\"view\":\"insight\""), 2);
}

TEST_F(QueryCellKeyTest, TheSecretSurvivesARestartSoTheFiguresDoNotChange) {
  ASSERT_OK_AND_ASSIGN(v1::TotalsResponse before,
                       query_->Totals(analyst_, Request({v1::DIMENSION_FORM}, 202401, 202403)));
  ASSERT_OK_AND_ASSIGN(auto settings, store_->LoadSettings());
  ASSERT_EQ(settings.count("disclosure_cell_key_secret"), 1u);
  ASSERT_OK_AND_ASSIGN(auto again,
                       Query::New(config_, profile_, store_.get(), Options()));
  ASSERT_OK_AND_ASSIGN(v1::TotalsResponse after,
                       again->Totals(analyst_, Request({v1::DIMENSION_FORM}, 202401, 202403)));
  EXPECT_EQ(before.SerializeAsString(), after.SerializeAsString());
}

TEST_F(QueryCellKeyTest, AReportForAReleasedMonthChangesNothingAndAnOpenMonthIsNotPublished) {
  std::vector<std::pair<uint32_t, uint32_t>> periods = {{202403, 202403}, {202401, 202406}, {0, 0}};
  std::vector<std::string> before;
  for (auto [from, to] : periods) {
    ASSERT_OK_AND_ASSIGN(v1::TotalsResponse r,
                         query_->Totals(analyst_, Request({v1::DIMENSION_FORM}, from, to)));
    before.push_back(r.SerializeAsString());
  }
  ASSERT_OK_AND_ASSIGN(auto settings, store_->LoadSettings());
  EXPECT_EQ(settings.count("disclosure_release_202403"), 1u);
  // The analyst's own node submits a guessed person (person 3's identifiers) for a closed
  // month and a new person for the current month.
  std::vector<v1::Report> reports = {
      testing::Packed(profile_, testing::MakeReport(500, {{"nid", Tok(3)}}, v1::FORM_LABOUR, 202403)),
      testing::Packed(profile_, testing::MakeReport(501, {{"nid", Tok(77)}}, v1::FORM_LABOUR,
                                                    202612))};
  ASSERT_TRUE(intake_->Submit(police_, testing::Sign(*signer_, testing::MakePayload(
                                                                   "police", profile_, kEpoch,
                                                                   std::move(reports))))
                  .ok());
  for (size_t i = 0; i < periods.size(); ++i) {
    ASSERT_OK_AND_ASSIGN(v1::TotalsResponse r,
                         query_->Totals(analyst_, Request({v1::DIMENSION_FORM}, periods[i].first,
                                                          periods[i].second)));
    EXPECT_EQ(r.SerializeAsString(), before[i]) << i;
  }
  // The analyst retracts the guess and asks again: still nothing changes (the report was
  // never published), and repeating insert and retract changes nothing either.
  int planted = 500;
  for (int round = 0; round < 3; ++round) {
    v1::RetractRequest retract;
    retract.add_report_ids(testing::Id(planted));
    ASSERT_OK_AND_ASSIGN(v1::RetractResponse retracted, intake_->Retract(police_, retract));
    EXPECT_EQ(retracted.retracted(), 1u);
    for (size_t i = 0; i < periods.size(); ++i) {
      ASSERT_OK_AND_ASSIGN(v1::TotalsResponse r,
                           query_->Totals(analyst_, Request({v1::DIMENSION_FORM},
                                                            periods[i].first, periods[i].second)));
      EXPECT_EQ(r.SerializeAsString(), before[i]) << "after retraction, round " << round;
    }
    std::vector<v1::Report> again = {testing::Packed(
        profile_, testing::MakeReport(600 + round, {{"nid", Tok(3)}}, v1::FORM_LABOUR, 202403))};
    planted = 600 + round;
    ASSERT_TRUE(intake_->Submit(police_, testing::Sign(*signer_, testing::MakePayload(
                                                                     "police", profile_, kEpoch,
                                                                     std::move(again))))
                    .ok());
    for (size_t i = 0; i < periods.size(); ++i) {
      ASSERT_OK_AND_ASSIGN(v1::TotalsResponse r,
                           query_->Totals(analyst_, Request({v1::DIMENSION_FORM},
                                                            periods[i].first, periods[i].second)));
      EXPECT_EQ(r.SerializeAsString(), before[i]) << "after insertion, round " << round;
    }
  }
  // The current month is not released: refused with the date it will be.
  auto open = query_->Totals(analyst_, Request({}, 202612, 202612));
  EXPECT_THAT(open, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_NE(open.status().message().find("from 2027-02-01"), std::string::npos) << open.status();
  // The audit trail shows each month's freeze.
  auto entries = store_->ReadAudit(1, 10000);
  ASSERT_TRUE(entries.ok());
  int releases = 0;
  for (const audit::Entry& e : *entries) releases += e.event == "disclosure_release";
  EXPECT_GE(releases, 6);
}

// A report retracted after its month was released lowers the count and leaves the noise
// alone: the cells it was frozen in keep its key (a departed record, docs/disclosure.md
// section 3), so the half year's persons and signals, in the totals and in the overview, go
// down by exactly one with the same draw. The departed record holds no report id, is in the
// audit trail, and goes with its month at the retention purge.
TEST_F(QueryCellKeyTest, ARetractionAfterTheReleaseLowersTheCountWithTheSameNoise) {
  auto figures = [&]() {
    auto totals = query_->Totals(analyst_, Request({}, 202401, 202406));
    EXPECT_TRUE(totals.ok()) << totals.status();
    v1::InsightRequest req;
    req.set_from_month(202401);
    req.set_to_month(202406);
    auto overview = query_->Insight(analyst_, req);
    EXPECT_TRUE(overview.ok()) << overview.status();
    return std::vector<uint64_t>{totals->total_persons().value(), totals->total_signals().value(),
                                 overview->total_persons().value(),
                                 overview->total_signals().value()};
  };
  const std::vector<uint64_t> before = figures();  // every month of 2024 released and frozen
  for (int round = 1; round <= 3; ++round) {
    // Persons 14, 20 and 26: one report each, in March.
    v1::RetractRequest retract;
    retract.add_report_ids(testing::Id(8 + 6 * round));
    ASSERT_OK_AND_ASSIGN(v1::RetractResponse retracted, intake_->Retract(police_, retract));
    ASSERT_EQ(retracted.retracted(), 1u);
    const std::vector<uint64_t> after = figures();
    for (size_t i = 0; i < before.size(); ++i) {
      EXPECT_EQ(after[i] + static_cast<uint64_t>(round), before[i]) << i << ", round " << round;
    }
  }
  ASSERT_OK_AND_ASSIGN(auto settings, store_->LoadSettings());
  ASSERT_EQ(settings.count("disclosure_departed_202403"), 1u);
  ASSERT_OK_AND_ASSIGN(std::vector<Departed> departed,
                       ParseDeparted(settings["disclosure_departed_202403"]));
  EXPECT_EQ(departed.size(), 3u);
  for (const Departed& d : departed) {
    EXPECT_EQ(d.agency, "police");
    EXPECT_EQ(d.facts.signal_month, 202403u);
    EXPECT_EQ(d.with_row, 0);  // a person of one report
  }
  EXPECT_EQ(settings["disclosure_departed_202403"].find(testing::Id(14)), std::string::npos);
  auto entries = store_->ReadAudit(1, 10000);
  ASSERT_TRUE(entries.ok());
  int departures = 0;
  for (const audit::Entry& e : *entries) {
    if (e.event != kEventDisclosureDeparture) continue;
    ASSERT_OK_AND_ASSIGN(DisclosureDepartureEvent d, DisclosureDepartureEvent::FromJson(e.details));
    EXPECT_EQ(d, (DisclosureDepartureEvent{.month = "2024-03", .agency = "police", .reports = 1}));
    ++departures;
  }
  EXPECT_EQ(departures, 3);
  // The retention purge of 2024 deletes the departed records with the month's reports.
  ASSERT_OK(RunPurge(store_.get(), /*retention_months=*/12, /*now_month=*/202601, "test").status());
  ASSERT_OK_AND_ASSIGN(settings, store_->LoadSettings());
  EXPECT_EQ(settings["disclosure_departed_202403"], "");
}

// A departure is recorded in the transaction that takes the report out of its frozen place
// (docs/disclosure.md section 3), so an aggregator that restarts before its next snapshot
// still keeps the report's key in the cells it was frozen in: the figures drop by exactly
// the reports taken out, with the same noise. Three ways: retracted and then a restart;
// corrected out and then a restart; a restart, a retraction before any query, a restart.
TEST_F(QueryCellKeyTest, ADepartureSurvivesARestartBeforeTheNextSnapshot) {
  // Persons and signals of the half year and the year (totals) and of the half year
  // (overview): each holds 40 persons, far from the clamp, so a drop of n is a drop of n.
  auto figures = [&]() {
    std::vector<uint64_t> out;
    for (auto [from, to] : {std::pair<uint32_t, uint32_t>{202401, 202406}, {202401, 202412}}) {
      auto totals = query_->Totals(analyst_, Request({}, from, to));
      EXPECT_TRUE(totals.ok()) << totals.status();
      out.push_back(totals->total_persons().value());
      out.push_back(totals->total_signals().value());
    }
    v1::InsightRequest req;
    req.set_from_month(202401);
    req.set_to_month(202406);
    auto overview = query_->Insight(analyst_, req);
    EXPECT_TRUE(overview.ok()) << overview.status();
    out.push_back(overview->total_persons().value());
    out.push_back(overview->total_signals().value());
    return out;
  };
  auto restart = [&]() {
    query_.reset();
    ASSERT_OK_AND_ASSIGN(query_, Query::New(config_, profile_, store_.get(), Options()));
  };
  auto retract = [&](int id) {
    v1::RetractRequest r;
    r.add_report_ids(testing::Id(id));
    ASSERT_OK_AND_ASSIGN(v1::RetractResponse retracted, intake_->Retract(police_, r));
    ASSERT_EQ(retracted.retracted(), 1u);
  };
  const std::vector<uint64_t> before = figures();  // every month of 2024 released and frozen
  // Person 14 (one report, March) retracted; the aggregator restarts before any snapshot.
  retract(14);
  restart();
  std::vector<uint64_t> after = figures();
  for (size_t i = 0; i < before.size(); ++i) EXPECT_EQ(after[i] + 1, before[i]) << i;
  // Person 20 (one report, March, labour) corrected to another person's identifiers: it
  // stays counted (as a person of its own, under the key it was frozen with) and leaves its
  // frozen place; a restart again before the next snapshot. The counts are unchanged.
  {
    std::vector<v1::Report> reports = {testing::Packed(
        profile_, testing::MakeReport(20, {{"nid", Tok(120)}}, v1::FORM_LABOUR, 202403))};
    ASSERT_TRUE(intake_->Submit(police_, testing::Sign(*signer_, testing::MakePayload(
                                                                     "police", profile_, kEpoch,
                                                                     std::move(reports))))
                    .ok());
  }
  restart();
  after = figures();
  for (size_t i = 0; i < before.size(); ++i) EXPECT_EQ(after[i] + 1, before[i]) << i;
  // A restart, then person 26 (one report, March) retracted before any query, then another.
  restart();
  retract(26);
  restart();
  after = figures();
  for (size_t i = 0; i < before.size(); ++i) EXPECT_EQ(after[i] + 2, before[i]) << i;
  // Each departure is recorded once, with its audit entry.
  ASSERT_OK_AND_ASSIGN(auto settings, store_->LoadSettings());
  ASSERT_OK_AND_ASSIGN(std::vector<Departed> departed,
                       ParseDeparted(settings["disclosure_departed_202403"]));
  ASSERT_EQ(departed.size(), 3u);
  for (const Departed& d : departed) {
    EXPECT_EQ(d.agency, "police");
    EXPECT_EQ(d.facts.signal_month, 202403u);
    EXPECT_EQ(d.facts.form, static_cast<uint8_t>(v1::FORM_LABOUR));
  }
  auto entries = store_->ReadAudit(1, 10000);
  ASSERT_TRUE(entries.ok());
  int departures = 0;
  for (const audit::Entry& e : *entries) departures += e.event == kEventDisclosureDeparture;
  EXPECT_EQ(departures, 3);
}

// Months frozen before versions were kept ("/": rows without versions) or before rows were
// kept (keys alone) are given rows and the versions their reports have now at the next
// snapshot (CompleteFrozenRows), with an audit entry, so that from then on a report that
// leaves such a month leaves a departed record and the figures keep their noise.
TEST_F(QueryCellKeyTest, MonthsFrozenInAnOlderFormatAreGivenRowsAndVersions) {
  ASSERT_OK(query_->Totals(analyst_, Request({}, 202401, 202406)).status());  // frozen
  ASSERT_OK_AND_ASSIGN(auto settings, store_->LoadSettings());
  const std::string march = settings["disclosure_release_202403"];
  const std::string april = settings["disclosure_release_202404"];
  const size_t mbar = march.find('|'), abar = april.find('|');
  ASSERT_NE(mbar, std::string::npos);
  ASSERT_NE(abar, std::string::npos);
  // March as frozen before versions were kept: "/" and per report its row and key.
  std::string old_march = march.substr(0, mbar) + "/";
  for (size_t i = mbar + 1; i + 40 <= march.size(); i += 40) old_march += march.substr(i, 32);
  ASSERT_OK(store_->SetSetting("disclosure_release_202403", old_march, "", "", ""));
  // April as frozen before rows were kept: its keys alone.
  ASSERT_OK(store_->SetSetting("disclosure_release_202404", april.substr(0, abar), "", "", ""));
  // A fresh query service (as after an upgrade) reads them and completes them.
  query_ = *Query::New(config_, profile_, store_.get(), Options());
  ASSERT_OK_AND_ASSIGN(v1::TotalsResponse before, query_->Totals(analyst_, Request({}, 202401, 202406)));
  ASSERT_OK_AND_ASSIGN(settings, store_->LoadSettings());
  EXPECT_EQ(settings["disclosure_release_202403"], march);
  EXPECT_EQ(settings["disclosure_release_202404"], april);
  auto entries = store_->ReadAudit(1, 10000);
  ASSERT_TRUE(entries.ok());
  int completed = 0;
  for (const audit::Entry& e : *entries) {
    if (e.event == kEventDisclosureRelease &&
        e.details.find("\"completed\":\"rows and versions\"") != std::string::npos) {
      ++completed;
    }
  }
  EXPECT_EQ(completed, 2);
  // Reports retracted from both months leave departed records: the figures go down by one
  // each, with the same noise.
  v1::RetractRequest retract;
  retract.add_report_ids(testing::Id(14));  // March
  retract.add_report_ids(testing::Id(15));  // April
  ASSERT_OK_AND_ASSIGN(v1::RetractResponse retracted, intake_->Retract(police_, retract));
  ASSERT_EQ(retracted.retracted(), 2u);
  ASSERT_OK_AND_ASSIGN(v1::TotalsResponse after, query_->Totals(analyst_, Request({}, 202401, 202406)));
  EXPECT_EQ(after.total_persons().value() + 2, before.total_persons().value());
  EXPECT_EQ(after.total_signals().value() + 2, before.total_signals().value());
  ASSERT_OK_AND_ASSIGN(settings, store_->LoadSettings());
  EXPECT_EQ(settings.count("disclosure_departed_202403"), 1u);
  EXPECT_EQ(settings.count("disclosure_departed_202404"), 1u);
}

// A correction of a report in a released month (the agency sends the record again with
// other content) stays in the published figures: moved to another released month it counts
// there; with other identifiers it still counts in its month; without identifiers and with
// another form it counts under the new form. Checked on the exact counts the published
// figures are perturbed from (the query layer's snapshot), and on the figures of a month the
// corrections leave alone (unchanged).
TEST_F(QueryCellKeyTest, ACorrectionInAReleasedMonthStaysInThePublishedFigures) {
  // A report without identifiers for February, in before the months are released.
  auto send = [&](std::vector<v1::Report> reports) {
    for (v1::Report& r : reports) r = testing::Packed(profile_, std::move(r));
    auto ack = intake_->Submit(police_, testing::Sign(*signer_, testing::MakePayload(
                                                                   "police", profile_, kEpoch,
                                                                   std::move(reports))));
    ASSERT_TRUE(ack.ok()) << ack.status();
  };
  send({testing::MakeReport(700, {}, v1::FORM_SEXUAL, 202402)});
  // Exact (persons, signals) of `form` ("" for the total) in from..to, as published.
  auto exact = [&](uint32_t from, uint32_t to, const std::string& form) {
    auto snap = query_->Current();
    EXPECT_TRUE(snap.ok()) << snap.status();
    auto raw = (*snap)->totals_index->RawTotalsFor(
        (*snap)->dataset, (*snap)->link,
        Request(form.empty() ? std::vector<v1::Dimension>{}
                             : std::vector<v1::Dimension>{v1::DIMENSION_FORM},
                from, to));
    EXPECT_TRUE(raw.ok()) << raw.status();
    if (form.empty()) return std::make_pair(raw->total.persons, raw->total.signals);
    for (const RawRow& row : raw->rows) {
      if (row.labels[0] == form) return std::make_pair(row.cell.persons, row.cell.signals);
    }
    return std::make_pair(uint64_t{0}, uint64_t{0});
  };
  using PS = std::pair<uint64_t, uint64_t>;
  // Every month of 2024's first half is released (December 2026) and frozen by this query.
  ASSERT_OK_AND_ASSIGN(v1::TotalsResponse january,
                       query_->Totals(analyst_, Request({v1::DIMENSION_FORM}, 202401, 202401)));
  const PS march = exact(202403, 202403, ""), may = exact(202405, 202405, "");
  const PS april = exact(202404, 202404, ""), half = exact(202401, 202406, "");
  const PS feb_sexual = exact(202402, 202402, "sexual");
  const PS feb_labour = exact(202402, 202402, "labour");
  EXPECT_EQ(feb_sexual.second, 1u);  // report 700 alone (February's persons are not sexual)
  // Month moved: person 14 (March, labour) was in May.
  send({testing::MakeReport(14, {{"nid", Tok(14)}}, v1::FORM_LABOUR, 202405)});
  EXPECT_EQ(exact(202403, 202403, ""), PS(march.first - 1, march.second - 1));
  EXPECT_EQ(exact(202405, 202405, ""), PS(may.first + 1, may.second + 1));
  EXPECT_EQ(exact(202401, 202406, ""), half);
  // Identifiers corrected: person 15 (April, sexual) under another number.
  send({testing::MakeReport(15, {{"nid", Tok(115)}}, v1::FORM_SEXUAL, 202404)});
  EXPECT_EQ(exact(202404, 202404, ""), april);
  EXPECT_EQ(exact(202401, 202406, ""), half);
  // No identifiers, the form corrected: sexual -> labour in February.
  send({testing::MakeReport(700, {}, v1::FORM_LABOUR, 202402)});
  EXPECT_EQ(exact(202402, 202402, "sexual").second, 0u);
  EXPECT_EQ(exact(202402, 202402, "labour").second, feb_labour.second + 1);
  EXPECT_EQ(exact(202401, 202406, ""), half);
  // Moved to a month not released yet: counted from that month's release on, with it.
  const PS may_now = exact(202405, 202405, "");
  send({testing::MakeReport(16, {{"nid", Tok(16)}}, v1::FORM_CRIMINAL, 202612)});
  EXPECT_EQ(exact(202405, 202405, ""), PS(may_now.first - 1, may_now.second - 1));
  QueryOptions later = Options();
  later.now_month = 202702;  // 2026-12 is released on 2027-02-01
  ASSERT_OK_AND_ASSIGN(auto q, Query::New(config_, profile_, store_.get(), later));
  ASSERT_OK_AND_ASSIGN(auto snap, q->Current());
  ASSERT_OK_AND_ASSIGN(RawTotals december,
                       snap->totals_index->RawTotalsFor(snap->dataset, snap->link,
                                                        Request({}, 202612, 202612)));
  EXPECT_EQ(december.total.signals, 1u);
  // The frozen months keep their reports' rows, so a correction is told from a new report,
  // and their versions, so a corrected report is told from one as frozen.
  ASSERT_OK_AND_ASSIGN(auto settings, store_->LoadSettings());
  EXPECT_NE(settings["disclosure_release_202403"].find('|'), std::string::npos);
  // January's figures, which no correction touched, are published as before.
  ASSERT_OK_AND_ASSIGN(v1::TotalsResponse again,
                       query_->Totals(analyst_, Request({v1::DIMENSION_FORM}, 202401, 202401)));
  EXPECT_EQ(again.SerializeAsString(), january.SerializeAsString());
}

// A person signalled in two months of a year that is not revised yet is published as two
// provisional persons (one per month) in every period holding both months; once the year's
// December is released the year is revised and the person is one again, and the December
// release's audit entry says so. The month's own figures are the same either way.
TEST_F(QueryCellKeyTest, APersonOfSeveralMonthsIsProvisionalUntilItsYearIsRevised) {
  std::vector<v1::Report> reports = {
      testing::Packed(profile_, testing::MakeReport(700, {{"nid", Tok(300)}}, v1::FORM_SEXUAL,
                                                    202601)),
      testing::Packed(profile_, testing::MakeReport(701, {{"nid", Tok(300)}}, v1::FORM_LABOUR,
                                                    202603))};
  ASSERT_TRUE(intake_->Submit(police_, testing::Sign(*signer_, testing::MakePayload(
                                                                   "police", profile_, kEpoch,
                                                                   std::move(reports))))
                  .ok());
  auto persons = [](const Snapshot& snap, uint32_t from, uint32_t to) {
    auto raw = ComputeRawTotals(snap.dataset, snap.link, [&] {
      v1::TotalsRequest r;
      r.set_from_month(from);
      r.set_to_month(to);
      return r;
    }(), &snap.keys);
    EXPECT_TRUE(raw.ok()) << raw.status();
    return raw.ok() ? raw->total.persons : 0;
  };
  // December 2026: 2026's months up to October are released, 2025 is the last revised year.
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const Snapshot> open, query_->Current());
  EXPECT_EQ(open->revised_through, 202512u);
  EXPECT_EQ(persons(*open, 202601, 202603), 2u);  // Q1 2026: one person per month
  EXPECT_EQ(persons(*open, 202601, 202601), 1u);
  EXPECT_EQ(persons(*open, 202603, 202603), 1u);
  EXPECT_EQ(persons(*open, 202401, 202412), 40u);  // 2024 is revised: persons 1-10 once
  // Q1 2026 is published in its provisional edition, 2024 and a month in their final one.
  EXPECT_EQ(open->latest_published, 202603u);
  EXPECT_EQ(ProvisionalEdition(202601, 202603, open->revised_through, 202603), 1u);
  EXPECT_EQ(ProvisionalEdition(202401, 202610, open->revised_through, 202603), 1u);
  EXPECT_EQ(ProvisionalEdition(202401, 202412, open->revised_through, 202603), 0u);
  EXPECT_EQ(ProvisionalEdition(202603, 202603, open->revised_through, 202603), 0u);
  EXPECT_EQ(ProvisionalEdition(202401, 202610, open->revised_through, 202412), 0u);
  // February 2027: December 2026 is released, and with it 2026 is revised.
  QueryOptions later = Options();
  later.now_month = 202702;
  ASSERT_OK_AND_ASSIGN(auto revised, Query::New(config_, profile_, store_.get(), later));
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const Snapshot> snap, revised->Current());
  EXPECT_EQ(snap->revised_through, 202612u);
  EXPECT_EQ(persons(*snap, 202601, 202603), 1u);
  EXPECT_EQ(persons(*snap, 202601, 202601), 1u);
  EXPECT_EQ(persons(*snap, 202603, 202603), 1u);
  std::vector<std::string> revisions;
  ASSERT_OK_AND_ASSIGN(auto entries, store_->ReadAudit(1, 10000));
  for (const audit::Entry& e : entries) {
    const size_t at = e.details.find("\"revises\":\"");
    if (e.event == "disclosure_release" && at != std::string::npos) {
      revisions.push_back(e.details.substr(at + 11, 4));
    }
  }
  // 2024 and 2025 were revised when their Decembers were frozen at the first query (December
  // 2026: both released), 2026 now.
  EXPECT_THAT(revisions, ::testing::ElementsAre("2024", "2025", "2026"));
}

}  // namespace
}  // namespace samenzicht::aggregator
