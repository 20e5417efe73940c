#include "aggregator/query/totals.h"

#include <memory>

#include <gtest/gtest.h>

#include "aggregator/query/totals_index.h"
#include "tests/aggregator/test_util.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::aggregator {
namespace {

using samenzicht::testing::StatusIs;
using testing::Tok;

// Four persons, six reports:
//  A = r0 (sexual, 2024-02, female, police, with parents, oost)
//    + r1 (criminal, 2024-01, 13_17, youth care, homeless)        linked by nid
//  B = r2 (labour, 2024-03, 18_26, police)
//  C = r3 (other, month unknown, police, no token: unlinkable)
//  D = r4 (sexual_and_criminal, 2024-02, 27_plus, youth care)
//    + r5 (labour, 2024-06, 0_12, youth care)                     linked by phone
// Every test runs twice: on ComputeTotals (param false) and on what Query::Totals runs,
// TotalsIndex::RawTotalsFor + ProtectTotals (param true), periods included.
class TotalsTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    auto add = [&](uint8_t form, uint32_t month, uint8_t age, uint8_t domain) {
      ReportFacts f;
      f.form = form;
      f.signal_month = month;
      f.age_band = age;
      f.domain = domain;
      ds_.reports.push_back(f);
      return &ds_.reports.back();
    };
    ds_.areas = {"oost"};
    ReportFacts* r0 = add(v1::FORM_SEXUAL, 202402, 0, v1::DOMAIN_POLICE);
    r0->gender = v1::GENDER_FEMALE;
    r0->living = 1u << v1::LIVING_SITUATION_WITH_PARENTS;
    r0->area = 1;
    ReportFacts* r1 = add(v1::FORM_CRIMINAL, 202401, v1::AGE_BAND_13_17, v1::DOMAIN_YOUTH_CARE);
    r1->living = 1u << v1::LIVING_SITUATION_HOMELESS;
    add(v1::FORM_LABOUR, 202403, v1::AGE_BAND_18_26, v1::DOMAIN_POLICE);
    add(v1::FORM_OTHER, 0, 0, v1::DOMAIN_POLICE);
    add(v1::FORM_SEXUAL_AND_CRIMINAL, 202402, v1::AGE_BAND_27_PLUS, v1::DOMAIN_YOUTH_CARE);
    add(v1::FORM_LABOUR, 202406, v1::AGE_BAND_0_12, v1::DOMAIN_YOUTH_CARE);
    ds_.rules = {"nid", "name_dob", "phone"};
    auto tok = [&](uint32_t report, uint16_t rule, int v) {
      ds_.tokens.Add(report, rule, Tok(v));
      ds_.reports[report].has_token = true;
    };
    tok(0, 0, 1);
    tok(1, 0, 1);
    tok(0, 1, 2);
    tok(2, 0, 3);
    tok(4, 2, 4);
    tok(5, 2, 4);
    link_ = Link(static_cast<uint32_t>(ds_.reports.size()), ds_.tokens, 50, 3);
    ASSERT_EQ(link_.persons, 4u);
    index_ = TotalsIndex::Build(ds_, link_);
  }

  absl::StatusOr<v1::TotalsResponse> Totals(const v1::TotalsRequest& req, uint32_t k) {
    if (!GetParam()) return ComputeTotals(ds_, link_, req, k);
    auto raw = index_->RawTotalsFor(ds_, link_, req);
    if (!raw.ok()) return raw.status();
    return ProtectTotals(*raw, k);
  }

  v1::TotalsResponse Run(std::vector<v1::Dimension> by, uint32_t k, uint32_t from = 0,
                         uint32_t to = 0) {
    v1::TotalsRequest req;
    for (auto d : by) req.add_by(d);
    req.set_from_month(from);
    req.set_to_month(to);
    auto r = Totals(req, k);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : v1::TotalsResponse();
  }

  // {persons, signals} of the row with `keys`; {-1, -1} if absent; -2 for suppressed.
  static std::pair<int64_t, int64_t> Cell(const v1::TotalsResponse& r,
                                          std::vector<std::string> keys) {
    for (const auto& row : r.rows()) {
      if (std::vector<std::string>(row.keys().begin(), row.keys().end()) == keys) {
        auto v = [](const v1::Count& c) {
          return c.suppressed() ? int64_t{-2} : static_cast<int64_t>(c.value());
        };
        return {v(row.persons()), v(row.signals())};
      }
    }
    return {-1, -1};
  }

  Dataset ds_;
  LinkResult link_;
  std::unique_ptr<const TotalsIndex> index_;
};

INSTANTIATE_TEST_SUITE_P(ComputeAndIndex, TotalsTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "Index" : "ComputeTotals";
                         });

TEST_P(TotalsTest, OverallTotals) {
  v1::TotalsResponse r = Run({}, 1);
  EXPECT_EQ(r.total_persons().value(), 4u);
  EXPECT_EQ(r.total_signals().value(), 6u);
  EXPECT_EQ(r.unlinkable_signals().value(), 1u);
  EXPECT_EQ(r.rows_size(), 0);
  EXPECT_EQ(r.min_cell_size(), 1u);
  EXPECT_NE(r.counting_rules().find("sexual_and_criminal"), std::string::npos);
}

TEST_P(TotalsTest, FormFollowsTheUnionRule) {
  v1::TotalsResponse r = Run({v1::DIMENSION_FORM}, 1);
  ASSERT_EQ(r.rows_size(), 6);  // five forms + unknown, in enum order
  EXPECT_EQ(r.rows(0).keys(0), "sexual");
  EXPECT_EQ(r.rows(5).keys(0), "unknown");
  EXPECT_EQ(Cell(r, {"sexual"}), std::make_pair(int64_t{0}, int64_t{1}));
  EXPECT_EQ(Cell(r, {"criminal"}), std::make_pair(int64_t{0}, int64_t{1}));
  EXPECT_EQ(Cell(r, {"sexual_and_criminal"}), std::make_pair(int64_t{2}, int64_t{1}));
  EXPECT_EQ(Cell(r, {"labour"}), std::make_pair(int64_t{1}, int64_t{2}));
  EXPECT_EQ(Cell(r, {"other"}), std::make_pair(int64_t{1}, int64_t{1}));
  EXPECT_EQ(Cell(r, {"unknown"}), std::make_pair(int64_t{0}, int64_t{0}));
}

TEST_P(TotalsTest, AgeBandAtEarliestKnownSignal) {
  v1::TotalsResponse r = Run({v1::DIMENSION_AGE_BAND}, 1);
  EXPECT_EQ(Cell(r, {"13_17"}).first, 1);    // A: r1 (2024-01) is earlier than r0
  EXPECT_EQ(Cell(r, {"18_26"}).first, 1);    // B
  EXPECT_EQ(Cell(r, {"27_plus"}).first, 1);  // D: r4 (2024-02) before r5 (0_12, 2024-06)
  EXPECT_EQ(Cell(r, {"0_12"}), std::make_pair(int64_t{0}, int64_t{1}));
  EXPECT_EQ(Cell(r, {"unknown"}), std::make_pair(int64_t{1}, int64_t{2}));  // C; r0, r3
}

TEST_P(TotalsTest, GenderAndAreaFromEarliestReportThatKnows) {
  v1::TotalsResponse r = Run({v1::DIMENSION_GENDER}, 1);
  EXPECT_EQ(Cell(r, {"female"}).first, 1);
  EXPECT_EQ(Cell(r, {"unknown"}).first, 3);
  r = Run({v1::DIMENSION_AREA}, 1);
  ASSERT_EQ(r.rows_size(), 2);
  EXPECT_EQ(Cell(r, {"oost"}), std::make_pair(int64_t{1}, int64_t{1}));
  EXPECT_EQ(Cell(r, {"unknown"}), std::make_pair(int64_t{3}, int64_t{5}));
}

TEST_P(TotalsTest, MultiValuedAndDomainCountAPersonUnderEachValue) {
  v1::TotalsResponse r = Run({v1::DIMENSION_LIVING_SITUATION}, 1);
  EXPECT_EQ(Cell(r, {"with_parents"}).first, 1);
  EXPECT_EQ(Cell(r, {"homeless"}).first, 1);
  EXPECT_EQ(Cell(r, {"unknown"}).first, 3);  // rows sum to 5 > 4 persons
  r = Run({v1::DIMENSION_DOMAIN}, 1);
  EXPECT_EQ(Cell(r, {"police"}), std::make_pair(int64_t{3}, int64_t{3}));
  EXPECT_EQ(Cell(r, {"youth_care"}), std::make_pair(int64_t{2}, int64_t{3}));
  EXPECT_EQ(Cell(r, {"unknown"}), std::make_pair(int64_t{0}, int64_t{0}));
}

TEST_P(TotalsTest, SignalMonthIsTheEarliest) {
  v1::TotalsResponse r = Run({v1::DIMENSION_SIGNAL_MONTH}, 1);
  EXPECT_EQ(Cell(r, {"2024-01"}), std::make_pair(int64_t{1}, int64_t{1}));  // A
  EXPECT_EQ(Cell(r, {"2024-02"}), std::make_pair(int64_t{1}, int64_t{2}));  // D; r0, r4
  EXPECT_EQ(Cell(r, {"2024-03"}), std::make_pair(int64_t{1}, int64_t{1}));  // B
  EXPECT_EQ(Cell(r, {"2024-06"}), std::make_pair(int64_t{0}, int64_t{1}));
  EXPECT_EQ(Cell(r, {"unknown"}), std::make_pair(int64_t{1}, int64_t{1}));  // C
}

TEST_P(TotalsTest, TwoDimensions) {
  v1::TotalsResponse r = Run({v1::DIMENSION_FORM, v1::DIMENSION_DOMAIN}, 1);
  EXPECT_EQ(r.rows_size(), 6 * 11);
  EXPECT_EQ(Cell(r, {"sexual_and_criminal", "police"}).first, 1);
  EXPECT_EQ(Cell(r, {"sexual_and_criminal", "youth_care"}).first, 2);
  EXPECT_EQ(Cell(r, {"labour", "police"}).first, 1);
  EXPECT_EQ(Cell(r, {"labour", "youth_care"}), std::make_pair(int64_t{0}, int64_t{1}));
  EXPECT_EQ(Cell(r, {"other", "police"}).first, 1);
}

TEST_P(TotalsTest, PeriodUsesOnlyReportsInThePeriod) {
  v1::TotalsResponse r = Run({v1::DIMENSION_FORM}, 1, 202402, 202403);
  EXPECT_EQ(r.total_persons().value(), 3u);  // A (r0 only), B, D (r4 only)
  EXPECT_EQ(r.total_signals().value(), 3u);
  EXPECT_EQ(r.unlinkable_signals().value(), 0u);
  EXPECT_EQ(Cell(r, {"sexual"}).first, 1);  // A's criminal report is outside the period
  EXPECT_EQ(Cell(r, {"sexual_and_criminal"}).first, 1);
  EXPECT_EQ(Cell(r, {"labour"}).first, 1);
  r = Run({}, 1, 202406, 0);
  EXPECT_EQ(r.total_persons().value(), 1u);
}

// In a period only the reports in it decide a person's categories, for every rule:
// earliest known (age band, signal month), union (living situation, domain), and two
// categories at once.
TEST_P(TotalsTest, PeriodDecidesEveryRuleFromReportsInThePeriod) {
  v1::TotalsResponse r = Run({v1::DIMENSION_AGE_BAND}, 1, 202402, 0);
  EXPECT_EQ(Cell(r, {"13_17"}), std::make_pair(int64_t{0}, int64_t{0}));  // r1 is before
  EXPECT_EQ(Cell(r, {"unknown"}), std::make_pair(int64_t{1}, int64_t{1}));  // A: r0 only
  EXPECT_EQ(Cell(r, {"27_plus"}).first, 1);                                  // D
  EXPECT_EQ(Cell(r, {"0_12"}), std::make_pair(int64_t{0}, int64_t{1}));
  r = Run({v1::DIMENSION_LIVING_SITUATION, v1::DIMENSION_DOMAIN}, 1, 202402, 202406);
  EXPECT_EQ(Cell(r, {"with_parents", "police"}), std::make_pair(int64_t{1}, int64_t{1}));
  EXPECT_EQ(Cell(r, {"homeless", "youth_care"}), std::make_pair(int64_t{0}, int64_t{0}));
  EXPECT_EQ(Cell(r, {"unknown", "youth_care"}), std::make_pair(int64_t{1}, int64_t{2}));  // D
  EXPECT_EQ(Cell(r, {"unknown", "police"}), std::make_pair(int64_t{1}, int64_t{1}));      // B
  r = Run({v1::DIMENSION_SIGNAL_MONTH}, 1, 202402, 202406);
  ASSERT_EQ(r.rows_size(), 4);  // the months present in the period, then unknown
  EXPECT_EQ(Cell(r, {"2024-02"}), std::make_pair(int64_t{2}, int64_t{2}));  // A (r0), D
  EXPECT_EQ(Cell(r, {"2024-03"}), std::make_pair(int64_t{1}, int64_t{1}));  // B
  EXPECT_EQ(Cell(r, {"2024-06"}), std::make_pair(int64_t{0}, int64_t{1}));
  EXPECT_EQ(Cell(r, {"unknown"}), std::make_pair(int64_t{0}, int64_t{0}));  // C: no month
  r = Run({v1::DIMENSION_AREA}, 1, 202501, 0);  // after every report
  EXPECT_EQ(r.total_persons().value(), 0u);
  ASSERT_EQ(r.rows_size(), 1);
  EXPECT_EQ(Cell(r, {"unknown"}), std::make_pair(int64_t{0}, int64_t{0}));
}

TEST_P(TotalsTest, SmallCountsAreSuppressed) {
  v1::TotalsResponse r = Run({v1::DIMENSION_FORM}, 3);
  EXPECT_EQ(Cell(r, {"sexual_and_criminal"}), std::make_pair(int64_t{-2}, int64_t{-2}));
  EXPECT_EQ(Cell(r, {"labour"}), std::make_pair(int64_t{-2}, int64_t{-2}));
  EXPECT_EQ(Cell(r, {"unknown"}), std::make_pair(int64_t{0}, int64_t{0}));  // zero is shown
  EXPECT_EQ(r.total_persons().value(), 4u);
  EXPECT_FALSE(r.total_persons().suppressed());
  EXPECT_TRUE(r.unlinkable_signals().suppressed());
  EXPECT_EQ(r.unlinkable_signals().value(), 0u);
  // Default k = 5 suppresses the totals too.
  r = Run({}, 0);
  EXPECT_EQ(r.min_cell_size(), 5u);
  EXPECT_TRUE(r.total_persons().suppressed());
  EXPECT_EQ(r.total_persons().value(), 0u);
  EXPECT_EQ(r.total_signals().value(), 6u);
}

TEST_P(TotalsTest, RefusesBadRequests) {
  v1::TotalsRequest req;
  req.add_by(v1::DIMENSION_FORM);
  req.add_by(v1::DIMENSION_FORM);
  EXPECT_THAT(Totals(req, 5), StatusIs(absl::StatusCode::kInvalidArgument));
  req.clear_by();
  req.add_by(v1::DIMENSION_FORM);
  req.add_by(v1::DIMENSION_AREA);
  req.add_by(v1::DIMENSION_DOMAIN);
  EXPECT_THAT(Totals(req, 5), StatusIs(absl::StatusCode::kInvalidArgument));
  req.clear_by();
  req.add_by(v1::DIMENSION_UNSPECIFIED);
  EXPECT_THAT(Totals(req, 5), StatusIs(absl::StatusCode::kInvalidArgument));
  req.clear_by();
  req.set_from_month(202413);
  EXPECT_THAT(Totals(req, 5), StatusIs(absl::StatusCode::kInvalidArgument));
  req.set_from_month(202405);
  req.set_to_month(202401);
  EXPECT_THAT(Totals(req, 5), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(EarliestFirstTest, ByMonthNotKnownLastThenArrival) {
  std::vector<ReportFacts> reports;
  for (uint32_t m : {202402u, 0u, 202401u, 202402u, 202312u}) {
    reports.emplace_back();
    reports.back().signal_month = m;
  }
  EXPECT_EQ(EarliestFirst(reports), (std::vector<uint32_t>{4, 2, 0, 3, 1}));
  reports[1].signal_month = 202413;  // not a month (not from the store): still sorted
  EXPECT_EQ(EarliestFirst(reports), (std::vector<uint32_t>{4, 2, 0, 3, 1}));
}

}  // namespace
}  // namespace samenzicht::aggregator
