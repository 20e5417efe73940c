// Disclosure control under attack: margin recovery, differencing two periods, a narrowing
// second query; and the secondary-suppression engine's fixed point on random tables.
#include "aggregator/query/disclosure.h"

#include <random>

#include <gtest/gtest.h>

#include "aggregator/query/insight.h"
#include "aggregator/query/query_history.h"
#include "aggregator/query/totals.h"
#include "tests/aggregator/test_util.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::aggregator {
namespace {

using samenzicht::testing::StatusIs;
using testing::Tok;

// Every line: not exactly one withheld cell; with the margin shown, the withheld inner
// cells add up to 0 or at least k (unless nothing is left to withhold).
void ExpectProtected(const DcTable& t, uint32_t k) {
  for (const DcLine& line : t.lines) {
    size_t hidden = 0, candidates = 0;
    uint64_t sum = 0;
    for (size_t i : line.cells) {
      if (t.cells[i].hidden()) {
        ++hidden;
        sum += t.cells[i].value;
      } else if (!t.cells[i].fixed) {
        ++candidates;
      }
    }
    bool margin_hidden = line.margin >= 0 && t.cells[line.margin].hidden();
    if (margin_hidden) ++hidden;
    if (line.margin >= 0 && !margin_hidden && !t.cells[line.margin].fixed) ++candidates;
    if (candidates == 0) continue;  // everything that may be withheld is
    EXPECT_NE(hidden, 1u);
    if (!margin_hidden && line.margin >= 0 && hidden > 0) {
      EXPECT_GE(sum, k);
    }
  }
}

TEST(DisclosureEngine, OneWayTableWithTotalHidesASecondCell) {
  DcTable t;
  size_t total = t.Add(20, true);
  std::vector<size_t> c = {t.Add(3), t.Add(9), t.Add(8), t.Add(0)};
  t.AddLine(c, static_cast<long>(total));
  Suppress(t, 5);
  EXPECT_TRUE(t.cells[c[0]].primary);
  EXPECT_TRUE(t.cells[c[2]].secondary);  // the next smallest non-zero cell
  EXPECT_FALSE(t.cells[c[1]].hidden());
  EXPECT_FALSE(t.cells[c[3]].hidden());  // zero shown
  EXPECT_FALSE(t.cells[total].hidden());
  // The attacker's sum: total - shown = 11 = 3 + 8, two unknowns.
  ExpectProtected(t, 5);
}

TEST(DisclosureEngine, TwoSmallCellsThatAddUpToLessThanKTakeAThird) {
  DcTable t;
  size_t total = t.Add(30, true);
  std::vector<size_t> c = {t.Add(1), t.Add(2), t.Add(12), t.Add(15)};
  t.AddLine(c, static_cast<long>(total));
  Suppress(t, 5);
  // 1 and 2 are withheld, but together 3 < 5: the 12 goes too.
  EXPECT_TRUE(t.cells[c[0]].primary && t.cells[c[1]].primary);
  EXPECT_TRUE(t.cells[c[2]].secondary);
  EXPECT_FALSE(t.cells[c[3]].hidden());
}

TEST(DisclosureEngine, RandomTwoWayTablesReachAProtectedFixedPoint) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 300; ++trial) {
    size_t rows = 2 + rng() % 4, cols = 2 + rng() % 5;
    std::vector<std::vector<uint64_t>> v(rows, std::vector<uint64_t>(cols));
    for (auto& r : v)
      for (auto& x : r) x = rng() % 4 == 0 ? 0 : rng() % 12;
    DcTable t;
    std::vector<std::vector<size_t>> cell(rows, std::vector<size_t>(cols));
    std::vector<size_t> rm, cm;
    for (size_t i = 0; i < rows; ++i) {
      uint64_t s = 0;
      for (uint64_t x : v[i]) s += x;
      rm.push_back(t.Add(s, true));
    }
    for (size_t j = 0; j < cols; ++j) {
      uint64_t s = 0;
      for (size_t i = 0; i < rows; ++i) s += v[i][j];
      cm.push_back(t.Add(s, true));
    }
    for (size_t i = 0; i < rows; ++i)
      for (size_t j = 0; j < cols; ++j) cell[i][j] = t.Add(v[i][j]);
    for (size_t i = 0; i < rows; ++i) t.AddLine(cell[i], static_cast<long>(rm[i]));
    for (size_t j = 0; j < cols; ++j) {
      std::vector<size_t> col;
      for (size_t i = 0; i < rows; ++i) col.push_back(cell[i][j]);
      t.AddLine(col, static_cast<long>(cm[j]));
    }
    Suppress(t, 5);
    ExpectProtected(t, 5);
  }
}

// Persons with one report each (their own token), by form and month.
class AttackTest : public ::testing::Test {
 protected:
  void Add(v1::Form form, uint32_t month, uint8_t age = 0, uint8_t domain = v1::DOMAIN_POLICE,
           bool token = true) {
    ReportFacts f;
    f.form = form;
    f.signal_month = month;
    f.age_band = age;
    f.domain = domain;
    ds_.reports.push_back(f);
    if (token) {
      uint32_t r = static_cast<uint32_t>(ds_.reports.size() - 1);
      ds_.tokens.Add(r, 0, Tok(static_cast<int>(r) + 1));
      ds_.reports[r].has_token = true;
    }
  }
  void Link() {
    ds_.rules = {"nid"};
    link_ = aggregator::Link(static_cast<uint32_t>(ds_.reports.size()), ds_.tokens, 50, 1);
  }
  v1::TotalsResponse Totals(std::vector<v1::Dimension> by, uint32_t from = 0, uint32_t to = 0) {
    v1::TotalsRequest r;
    for (auto d : by) r.add_by(d);
    r.set_from_month(from);
    r.set_to_month(to);
    auto out = ComputeTotals(ds_, link_, r, 5);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : v1::TotalsResponse();
  }
  Dataset ds_;
  LinkResult link_;
};

TEST_F(AttackTest, MarginRecoveryFails) {
  for (int i = 0; i < 7; ++i) Add(v1::FORM_SEXUAL, 202401);
  for (int i = 0; i < 2; ++i) Add(v1::FORM_CRIMINAL, 202401);
  for (int i = 0; i < 6; ++i) Add(v1::FORM_LABOUR, 202401);
  Link();
  v1::TotalsResponse r = Totals({v1::DIMENSION_FORM});
  ASSERT_EQ(r.total_persons().value(), 15u);
  // Attack: total minus every shown row; must not pin down the "<5" row.
  uint64_t shown = 0;
  int hidden = 0;
  for (const auto& row : r.rows()) {
    if (row.persons().suppressed() || row.persons().secondary()) {
      ++hidden;
    } else {
      shown += row.persons().value();
    }
  }
  EXPECT_GE(hidden, 2) << "a single withheld row equals total - shown rows";
  EXPECT_GE(r.total_persons().value() - shown, 5u);
  for (const auto& row : r.rows()) {
    if (row.keys(0) == "criminal") {
      EXPECT_TRUE(row.persons().suppressed());
    }
    if (row.keys(0) == "labour") {
      EXPECT_TRUE(row.persons().secondary());
    }
    if (row.keys(0) == "sexual") {
      EXPECT_EQ(row.persons().value(), 7u);
    }
  }
  auto cells = SuppressedCells(r);
  EXPECT_GE(cells.size(), 4u);  // persons and signals of criminal and labour
}

TEST_F(AttackTest, TwoWayTableAgainstItsOneWayMarginsFails) {
  // form x age: the one-way form table (a neighbouring query) is the margin.
  for (int i = 0; i < 6; ++i) Add(v1::FORM_SEXUAL, 202401, v1::AGE_BAND_13_17);
  for (int i = 0; i < 2; ++i) Add(v1::FORM_SEXUAL, 202401, v1::AGE_BAND_18_26);
  for (int i = 0; i < 9; ++i) Add(v1::FORM_CRIMINAL, 202401, v1::AGE_BAND_13_17);
  for (int i = 0; i < 8; ++i) Add(v1::FORM_CRIMINAL, 202401, v1::AGE_BAND_18_26);
  Link();
  v1::TotalsResponse one = Totals({v1::DIMENSION_FORM});
  v1::TotalsResponse two = Totals({v1::DIMENSION_FORM, v1::DIMENSION_AGE_BAND});
  uint64_t sexual_margin = 0;
  for (const auto& row : one.rows())
    if (row.keys(0) == "sexual") sexual_margin = row.persons().value();
  ASSERT_EQ(sexual_margin, 8u);
  int hidden_in_sexual_row = 0, hidden_in_18_26_column = 0;
  for (const auto& row : two.rows()) {
    bool h = row.persons().suppressed() || row.persons().secondary();
    if (row.keys(0) == "sexual" && h) ++hidden_in_sexual_row;
    if (row.keys(1) == "18_26" && h) ++hidden_in_18_26_column;
  }
  EXPECT_GE(hidden_in_sexual_row, 2);
  EXPECT_GE(hidden_in_18_26_column, 2);
}

TEST_F(AttackTest, DifferencingTwoPeriodsIsRefused) {
  for (int i = 0; i < 10; ++i) Add(v1::FORM_SEXUAL, 202401 + i % 5);  // Jan..May
  Add(v1::FORM_CRIMINAL, 202406);                                       // one person in June
  Link();
  AskedQuery jan_jun{"analyst", {v1::DIMENSION_FORM}, 202401, 202406};
  AskedQuery jan_may{"analyst", {v1::DIMENSION_FORM}, 202401, 202405};
  EXPECT_OK(CheckDifferencing(ds_, link_, {}, jan_jun, 5));
  // The second answer minus the first would be the one person of June: refused.
  EXPECT_THAT(CheckDifferencing(ds_, link_, {jan_jun}, jan_may, 5),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  // Even without categories (the totals differ by one).
  AskedQuery total_may{"analyst", {}, 202401, 202405};
  EXPECT_THAT(CheckDifferencing(ds_, link_, {jan_jun}, total_may, 5),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  // The same period again, and a disjoint period, are answered.
  EXPECT_OK(CheckDifferencing(ds_, link_, {jan_jun}, jan_jun, 5));
  AskedQuery later{"analyst", {v1::DIMENSION_FORM}, 202407, 202412};
  EXPECT_OK(CheckDifferencing(ds_, link_, {jan_jun}, later, 5));
  // Another analyst's history does not count against this one (per analyst).
}

TEST_F(AttackTest, NarrowingSecondQueryIsRefused) {
  for (int i = 0; i < 12; ++i) Add(v1::FORM_SEXUAL, 202402 + i % 10, v1::AGE_BAND_13_17);
  for (int i = 0; i < 8; ++i) Add(v1::FORM_CRIMINAL, 202402 + i % 10, v1::AGE_BAND_18_26);
  Add(v1::FORM_LABOUR, 202401, v1::AGE_BAND_27_PLUS);  // the one person of January
  Link();
  AskedQuery year{"analyst", {v1::DIMENSION_FORM}, 202401, 202412};
  // A finer breakdown over a narrower period: its form margin differs by one (labour).
  AskedQuery narrower{"analyst", {v1::DIMENSION_FORM, v1::DIMENSION_AGE_BAND}, 202402, 202412};
  EXPECT_THAT(CheckDifferencing(ds_, link_, {year}, narrower, 5),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  // A narrower period that removes at least k persons from every cell is fine.
  for (int i = 0; i < 5; ++i) Add(v1::FORM_LABOUR, 202401, v1::AGE_BAND_27_PLUS);
  Add(v1::FORM_LABOUR, 202401, v1::AGE_BAND_27_PLUS);
  for (int i = 0; i < 5; ++i) Add(v1::FORM_SEXUAL, 202401, v1::AGE_BAND_13_17);
  for (int i = 0; i < 5; ++i) Add(v1::FORM_CRIMINAL, 202401, v1::AGE_BAND_18_26);
  Link();
  AskedQuery narrower_form{"analyst", {v1::DIMENSION_FORM}, 202402, 202412};
  EXPECT_OK(CheckDifferencing(ds_, link_, {year}, narrower_form, 5));
}

// A period refusal carries, besides its English message, the label and the values a
// rendering for people says it with in its own language (the dashboard in Dutch).
TEST(RefusalWordsTest, PeriodRefusalsNameTheirLabelAndValues) {
  std::optional<Refusal> off = RefusalOf(CheckGridPeriod(202401, 202405));
  ASSERT_TRUE(off.has_value());
  EXPECT_EQ(off->key, "refusedOffGrid");
  ASSERT_EQ(off->values.size(), 1u);
  EXPECT_EQ(off->values[0], (std::pair<std::string, std::string>{"period", "2024-01..2024-05"}));
  EXPECT_EQ(off->options, (std::vector<std::string>{"2024-01..2024-01 (2024-01)",
                                                    "2024-01..2024-06 (2024-H1)"}));
  std::optional<Refusal> later = RefusalOf(CheckReleased(202411, 202411, 202412, 1));
  ASSERT_TRUE(later.has_value());
  EXPECT_EQ(later->key, "refusedNotReleased");
  EXPECT_EQ(later->values, (std::vector<std::pair<std::string, std::string>>{
                               {"month", "2024-11"}, {"date", "2025-01-01"}}));
  EXPECT_EQ(RefusalOf(CheckGridPeriod(202405, 202401))->key, "refusedPeriod");
  EXPECT_FALSE(RefusalOf(absl::InternalError("disk")).has_value());
  EXPECT_FALSE(RefusalOf(absl::OkStatus()).has_value());
}

// Without a period the latest year with published signals is published, up to its last
// released June or December: never a period across years (its figures are those of a grid
// period), never one that ends every month; before a half year has ended since the first
// released month it is refused, naming the grid periods to ask and when it is published.
TEST(LatestPeriodTest, IsTheLatestYearUpToItsLastReleasedHalfYear) {
  using Period = std::pair<uint32_t, uint32_t>;
  struct Case {
    uint32_t first, last, latest;
    Period published;
  };
  // (first released, last released, latest month with a published signal) -> the period.
  for (const Case& c : std::vector<Case>{
           {202401, 202406, 202406, {202401, 202406}},
           {202401, 202411, 202411, {202401, 202406}},
           {202401, 202412, 202412, {202401, 202412}},
           // The next year's first months are released, none of its half years: the year.
           {202401, 202505, 202505, {202401, 202412}},
           // The second year's first half year: that half year alone, not 2024-01..2025-06.
           {202401, 202507, 202507, {202501, 202506}},
           {202401, 202512, 202512, {202501, 202512}},
           {202401, 202610, 202610, {202601, 202606}},
           // Signals stopped in 2024: the last year with signals, not an empty 2026.
           {202401, 202610, 202411, {202401, 202412}},
           // ... and in March 2026: 2026's first half year.
           {202401, 202610, 202603, {202601, 202606}},
           // The figures begin within the year: from the first released month.
           {202411, 202502, 202502, {202411, 202412}},
           {202403, 202406, 202405, {202403, 202406}},
           // No signal reported (0): by the release calendar.
           {202401, 202610, 0, {202601, 202606}}}) {
    absl::StatusOr<Period> p = LatestPeriod(c.first, c.last, c.latest, 1);
    ASSERT_TRUE(p.ok()) << c.first << ".." << c.last << ": " << p.status();
    EXPECT_EQ(*p, c.published) << c.first << ".." << c.last << " latest " << c.latest;
  }
  // The figures begin in March 2024; April is the last released month (on 1 June 2024).
  absl::Status early = LatestPeriod(202403, 202404, 202404, 1).status();
  EXPECT_THAT(early, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(early.message(),
            "without a period the latest year is published, as far as its first half year or "
            "the whole year is released, and no half year has ended since the figures begin "
            "(2024-03): it is published from 2024-08-01 (through 2024-06); ask "
            "2024-04..2024-04 (2024-04) or 2024-01..2024-03 (2024-Q1) instead");
  std::optional<Refusal> r = RefusalOf(early);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->key, "refusedNoLatestYear");
  EXPECT_EQ(r->values, (std::vector<std::pair<std::string, std::string>>{
                           {"first", "2024-03"}, {"through", "2024-06"}, {"date", "2024-08-01"}}));
  EXPECT_EQ(r->options, (std::vector<std::string>{"2024-04..2024-04 (2024-04)",
                                                  "2024-01..2024-03 (2024-Q1)"}));
  // A quarter before the first released month holds nothing: not offered.
  absl::Status january = LatestPeriod(202501, 202502, 202502, 1).status();
  EXPECT_THAT(january, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(RefusalOf(january)->options,
            (std::vector<std::string>{"2025-02..2025-02 (2025-02)"}));
  EXPECT_NE(january.message().find("from 2025-08-01 (through 2025-06)"), std::string::npos)
      << january;
  // In the second half year: it will end in December.
  absl::Status autumn = LatestPeriod(202408, 202410, 202410, 1).status();
  EXPECT_NE(autumn.message().find("from 2025-02-01 (through 2024-12); ask "
                                  "2024-10..2024-10 (2024-10) or 2024-07..2024-09 (2024-Q3)"),
            std::string::npos)
      << autumn;
}

// A period as the renderings name it: the grid's name where it has one.
TEST(PeriodTextTest, NamesGridPeriods) {
  EXPECT_EQ(PeriodText(202501, 202506), "2025-01..2025-06 (2025-H1)");
  EXPECT_EQ(PeriodText(202401, 202412), "2024-01..2024-12 (2024)");
  EXPECT_EQ(PeriodText(202404, 202406), "2024-04..2024-06 (2024-Q2)");
  EXPECT_EQ(PeriodText(202403, 202403), "2024-03..2024-03 (2024-03)");
  EXPECT_EQ(PeriodText(202403, 202406), "2024-03..2024-06");
  EXPECT_EQ(PeriodText(0, 0), "");
}

// The Cell Key Method's parameters come back from the paragraph the server sends with every
// response, so the renderings state what was applied (here not the defaults).
TEST(CellKeyRulesTest, TheParametersComeBackFromTheRules) {
  CellKeyParams applied;
  applied.k = 4;
  applied.max_noise = 3;
  applied.tail_noise = 20;
  applied.tail_one_in = 7;
  absl::StatusOr<CellKeyParams> p = ParseCellKeyRules(CellKeyRules(applied));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->k, 4u);
  EXPECT_EQ(p->noise(), 3u);
  EXPECT_EQ(p->tail(), 20u);
  EXPECT_EQ(p->tail_one_in, 7u);
  EXPECT_EQ(p->secret, 0u);
  absl::StatusOr<CellKeyParams> d = ParseCellKeyRules("Persons are linked. " + CellKeyRules(CellKeyParams{}));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->noise(), 5u);
  EXPECT_EQ(d->tail(), 15u);
  EXPECT_EQ(d->tail_one_in, 10u);
  EXPECT_THAT(ParseCellKeyRules(DisclosureRules()), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ParseCellKeyRules("(Cell Key Method) garbled"), StatusIs(absl::StatusCode::kNotFound));
}

// A departed record keeps its row, key, the row of its person, its categories as frozen, its
// agency and area, and nothing else; a setting that is not one FormatDeparted wrote is
// DataLoss.
TEST(DepartedTest, RecordsComeBackAsWrittenAndMalformedOnesAreDataLoss) {
  Departed a;
  a.row = 17;
  a.key = 0xfedcba9876543210ull;
  a.with_row = 3;
  a.facts.signal_month = 202403;
  a.facts.form = 2;
  a.facts.age_band = 3;
  a.facts.domain = 1;
  a.facts.living = 6;
  a.facts.coercion = 1u << 20;
  a.facts.has_token = true;
  a.agency = "police";
  a.area = "oost";
  Departed b;
  b.row = 40;
  b.key = 1;
  b.facts.signal_month = 202404;
  const std::string text = FormatDeparted({a, b});
  ASSERT_OK_AND_ASSIGN(std::vector<Departed> back, ParseDeparted(text));
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(FormatDeparted(back), text);
  EXPECT_EQ(back[0].row, 17);
  EXPECT_EQ(back[0].key, 0xfedcba9876543210ull);
  EXPECT_EQ(back[0].with_row, 3);
  EXPECT_EQ(back[0].facts.signal_month, 202403u);
  EXPECT_EQ(back[0].facts.form, 2);
  EXPECT_EQ(back[0].facts.age_band, 3);
  EXPECT_EQ(back[0].facts.domain, 1);
  EXPECT_EQ(back[0].facts.living, 6u);
  EXPECT_EQ(back[0].facts.coercion, 1u << 20);
  EXPECT_TRUE(back[0].facts.has_token);
  EXPECT_EQ(back[0].agency, "police");
  EXPECT_EQ(back[0].area, "oost");
  EXPECT_EQ(back[1].row, 40);
  EXPECT_EQ(back[1].agency, "");
  EXPECT_FALSE(back[1].facts.has_token);
  ASSERT_OK_AND_ASSIGN(back, ParseDeparted(""));
  EXPECT_TRUE(back.empty());
  for (const std::string bad : {text.substr(0, text.size() - 1), text + ";", std::string("x"),
                                text.substr(0, text.find(';')) + ",1"}) {
    EXPECT_THAT(ParseDeparted(bad), StatusIs(absl::StatusCode::kDataLoss)) << bad;
  }
}

TEST(QueryHistoryTest, PersistsPerAnalyst) {
  std::string dir = testing::FreshDir("query_history");
  std::string path = dir + "/query_history.tsv";
  {
    ASSERT_OK_AND_ASSIGN(auto h, QueryHistory::Open(path));
    ASSERT_OK(h->Record({"gemeente", {v1::DIMENSION_FORM}, 202401, 202406, 1}));
    ASSERT_OK(h->Record({"gemeente", {v1::DIMENSION_FORM}, 202401, 202406, 2}));
    ASSERT_OK(h->Record({"other", {}, 0, 0, 3}));
  }
  ASSERT_OK_AND_ASSIGN(auto h, QueryHistory::Open(path));
  auto mine = h->Of("gemeente");
  ASSERT_EQ(mine.size(), 1u);  // repeats collapsed
  EXPECT_EQ(mine[0].from_month, 202401u);
  EXPECT_EQ(mine[0].by, std::vector<v1::Dimension>{v1::DIMENSION_FORM});
  EXPECT_EQ(h->Of("other").size(), 1u);
  EXPECT_TRUE(h->Of("nobody").empty());
}

TEST_F(AttackTest, InsightBoundsAndOverlapAreProtected) {
  // 12 persons by police, 7 by youth care, 3 of them by both (linked), 2 unlinkable.
  for (int i = 0; i < 12; ++i) Add(v1::FORM_SEXUAL, 202401, 0, v1::DOMAIN_POLICE);
  for (int i = 0; i < 7; ++i) Add(v1::FORM_SEXUAL, 202402, 0, v1::DOMAIN_YOUTH_CARE);
  for (int i = 0; i < 3; ++i) ds_.tokens.Add(12 + i, 0, Tok(i + 1));  // youth care = police
  for (int i = 0; i < 2; ++i) Add(v1::FORM_OTHER, 202403, 0, v1::DOMAIN_POLICE, false);
  Link();
  std::vector<AgencyIndex> agency(ds_.reports.size(), 1);
  for (size_t i = 12; i < 19; ++i) agency[i] = 2;
  v1::InsightRequest req;
  req.set_from_month(202401);
  req.set_to_month(202412);
  ASSERT_OK_AND_ASSIGN(v1::InsightResponse r,
                       ComputeInsight(ds_, link_, agency, req, 5, nullptr));
  EXPECT_EQ(r.total_persons().value(), 18u);  // 14 police + 4 youth-care only
  EXPECT_EQ(r.total_signals().value(), 21u);
  // Unlinkable 2 is "<5", so the lower bound (16) must not be shown either.
  EXPECT_TRUE(r.unlinkable_signals().suppressed());
  EXPECT_TRUE(r.persons_lower_bound().secondary());
  // Persons known to 2 agencies: 3 -> "<5"; known to 1: 15 -> withheld as well.
  ASSERT_EQ(r.agency_counts_size(), 3);
  EXPECT_TRUE(r.agency_counts(1).persons().suppressed());
  EXPECT_TRUE(r.agency_counts(0).persons().secondary() || r.agency_counts(2).persons().secondary());
  // Overlap police x youth care = 3: "<5"; diagonals (one-way domain table) shown.
  ASSERT_EQ(r.overlap_domains_size(), 2);
  EXPECT_EQ(r.overlap(0).persons().value(), 14u);
  EXPECT_TRUE(r.overlap(1).persons().suppressed());
  EXPECT_TRUE(r.overlap(2).persons().suppressed());
  EXPECT_EQ(r.overlap(3).persons().value(), 7u);
  EXPECT_EQ(r.estimate().reason(), "not requested");
  EXPECT_FALSE(SuppressedCells(r).empty());
}

}  // namespace
}  // namespace samenzicht::aggregator
