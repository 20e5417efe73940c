// The hidden-number estimate as the server computes and publishes it: the default estimator
// (aggregator/query/insight.h, DefaultEstimator) on tables it must refuse, the overview
// (ComputeInsight) that the query service returns, and the council report
// (aggregator/present/report.h) drawn from it, in Dutch and in English.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "aggregator/linkage/linkage.h"
#include "aggregator/present/insight_format.h"
#include "aggregator/present/report.h"
#include "aggregator/query/insight.h"
#include "aggregator/store/dataset.h"
#include "presentation/labels.h"
#include "samenzicht/v1/categories.pb.h"

namespace samenzicht::aggregator {
namespace {

using presentation::Label;
using presentation::Language;
using ::testing::HasSubstr;
using ::testing::Not;

// Few replicates: the refusals come before or without the bootstrap, and the positive case
// needs only an interval.
constexpr int kReplicates = 200;

CaptureHistories Histories(std::vector<std::string> lists, std::vector<int64_t> counts) {
  CaptureHistories h;
  h.lists = std::move(lists);
  h.counts = std::move(counts);
  return h;
}

// The Korean table of the reference packages (tests/estimate/testdata/Korea.csv):
// 123 persons on three lists; BIC chooses [12,23], N-hat 157.
const std::vector<int64_t> kKorea = {0, 5, 5, 54, 41, 6, 0, 12};

struct Refusal {
  std::string name;
  CaptureHistories table;
  std::string reason;  // a part of the reason that names the specific cause
};

std::vector<Refusal> Refusals() {
  std::vector<Refusal> r;
  r.push_back({"two lists", Histories({"police", "youth_care"}, {0, 20, 15, 9}),
               "needs at least 3 reporting domains with signals in the period; there are 2"});
  r.push_back({"no overlap", Histories({"a", "b", "c"}, {0, 10, 12, 0, 9, 0, 0, 0}),
               "no reliable estimate: for none of the"});
  r.push_back({"empty list", Histories({"police", "care", "school"}, {0, 20, 15, 9, 0, 0, 0, 0}),
               "list 'school' (list 3 of 3) holds no person"});
  // Korea with list 1 given twice (as list 4): every history with list 1 also has list 4.
  std::vector<int64_t> dup(16, 0);
  for (size_t h = 1; h < 8; ++h) dup[(h & 1) ? h | 8 : h] = kKorea[h];
  r.push_back({"duplicated list", Histories({"list1", "list2", "list3", "copy1"}, dup),
               "lists 'list1' and 'copy1' hold exactly the same 77 persons"});
  // Three lists, list c sharing no one: the estimate would rest on lists a and b alone
  // (UntrustedTableTest.AListSharingNoOneLeavesTwoListsAndIsUnreliable).
  r.push_back({"isolated list", Histories({"a", "b", "c"}, {0, 30, 25, 10, 20, 0, 0, 0}),
               "list 'c' shares no person with any other list, so the estimate"});
  // Four lists with a strong 1:2:3 interaction that no model of order 2 describes
  // (UntrustedTableTest.BadlyFittingModelIsUnreliableWithTheReason).
  r.push_back({"bad fit",
               Histories({"a", "b", "c", "d"}, {0, 251, 355, 85, 312, 55, 78, 83, 194, 34, 48, 12,
                                                 43, 8, 11, 11}),
               "fits the table badly (deviance 33.4 on 7 degrees of freedom"});
  // Five lists and two classes of persons, 30% of them three times as visible as the rest
  // (estimate_test's HeterogeneousFiveLists): the fit test sees nothing, the heterogeneity
  // test does (the log-linear estimate, 3888, is 22% below the 5,000).
  r.push_back({"heterogeneity",
               Histories({"a", "b", "c", "d", "e"},
                         {0,  273, 381, 50, 223, 28, 40, 7, 326, 42, 60, 11, 34, 6, 8, 2,
                          273, 35, 50,  9,  28,  5,  7,  1, 42,  7,  11, 2,  6,  1, 2, 0}),
               "unreliable: persons seem to differ in how visible they are to the lists"});
  // 58 persons with little overlap: reliable, but the interval spans more than a factor 4.
  r.push_back({"too wide", Histories({"a", "b", "c"}, {0, 20, 15, 2, 18, 1, 2, 0}),
               "is too wide to be informative; its upper limit is more than 4 times its lower"});
  return r;
}

TEST(DefaultEstimatorTest, RefusesTablesItCannotTrustWithTheSpecificReason) {
  const Estimator estimator = DefaultEstimator(kReplicates);
  ASSERT_TRUE(estimator);
  for (const Refusal& c : Refusals()) {
    SCOPED_TRACE(c.name);
    const v1::HiddenNumberEstimate e = estimator(c.table);
    EXPECT_FALSE(e.available());
    EXPECT_THAT(e.reason(), HasSubstr(c.reason));
    EXPECT_EQ(e.estimate(), 0);
    EXPECT_EQ(e.lower(), 0);
    EXPECT_EQ(e.upper(), 0);
    EXPECT_EQ(e.model(), "");
    // No caveats: they would describe an estimate and an interval that are not shown.
    EXPECT_EQ(e.caveats_size(), 0);
  }
}

// The positive case the refusals are measured against: the same estimator publishes Korea
// with the percentile interval of the nonparametric bootstrap.
TEST(DefaultEstimatorTest, PublishesKoreaWithThePercentileInterval) {
  const v1::HiddenNumberEstimate e =
      DefaultEstimator(kReplicates)(Histories({"a", "b", "c"}, kKorea));
  ASSERT_TRUE(e.available()) << e.reason();
  EXPECT_EQ(e.reason(), "");
  EXPECT_EQ(e.model(), "[12,23]");
  EXPECT_NEAR(e.estimate(), 157.2, 0.1);
  EXPECT_EQ(e.interval_method(), "percentile bootstrap");
  EXPECT_LT(e.lower(), e.estimate());
  EXPECT_GT(e.upper(), e.estimate());
  EXPECT_GE(e.lower(), 123);  // never below the persons seen
  EXPECT_LE(e.upper(), 4 * e.lower());
  // A published estimate carries the estimator's caveats, among them what its interval is.
  EXPECT_THAT(e.caveats(), testing::Contains(HasSubstr("The percentile interval resamples")));
}

// A dataset whose persons have the capture histories `counts` over `domains` (one report per
// person and domain, all in January 2024, each person linked by its own token).
struct Linked {
  Dataset dataset;
  LinkResult link;
};

Linked DatasetOf(const std::vector<v1::Domain>& domains, const std::vector<int64_t>& counts) {
  Linked out;
  for (size_t h = 1; h < counts.size(); ++h) {
    for (int64_t n = 0; n < counts[h]; ++n) {
      const uint32_t person = out.link.persons++;
      for (size_t i = 0; i < domains.size(); ++i) {
        if (!(h >> i & 1u)) continue;
        ReportFacts r;
        r.signal_month = 202401;
        r.domain = static_cast<uint8_t>(domains[i]);
        r.has_token = true;
        out.dataset.reports.push_back(r);
        out.link.person.push_back(person);
      }
    }
  }
  return out;
}

v1::InsightResponse Overview(const Linked& l, const Estimator& estimator) {
  v1::InsightRequest request;
  request.set_from_month(202401);
  request.set_to_month(202412);
  request.set_include_estimate(true);
  absl::StatusOr<v1::InsightResponse> r = ComputeInsight(
      l.dataset, l.link, std::vector<AgencyIndex>(l.dataset.reports.size(), 0), request, 5, estimator);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : v1::InsightResponse();
}

std::string Report(const v1::InsightResponse& insight, Language lang) {
  ReportInput in;
  in.insight = insight;
  in.period = "2024-01..2024-12";
  in.generated = "2025-01-05";
  in.language = lang;
  return RenderReportHtml(in);
}

// The text of the report's estimate section (from its heading to the methods' heading).
std::string EstimateSection(const std::string& html, Language lang) {
  const size_t from = html.find(Label("estimateTitle", lang));
  const size_t to = html.find(Label("methods", lang), from);
  EXPECT_NE(from, std::string::npos);
  return from == std::string::npos ? "" : html.substr(from, to - from);
}

// The server's path (ComputeInsight with the default estimator) on a table with one source
// given twice: no number is published, and the report says why in either language.
TEST(DefaultEstimatorTest, ADuplicatedDomainIsRefusedInTheOverviewAndTheReportSaysWhy) {
  std::vector<int64_t> dup(16, 0);
  for (size_t h = 1; h < 8; ++h) dup[(h & 1) ? h | 8 : h] = kKorea[h];
  const Linked l = DatasetOf({v1::DOMAIN_POLICE, v1::DOMAIN_MUNICIPALITY,
                              v1::DOMAIN_SOCIAL_WORK, v1::DOMAIN_YOUTH_CARE},
                             dup);
  const v1::InsightResponse r = Overview(l, DefaultEstimator(kReplicates));
  const v1::HiddenNumberEstimate& e = r.estimate();
  EXPECT_FALSE(e.available());
  EXPECT_EQ(e.estimate(), 0);
  EXPECT_EQ(e.observed(), 123u);
  EXPECT_THAT(e.reason(), HasSubstr("hold exactly the same 77 persons"));
  EXPECT_THAT(e.reason(), HasSubstr("police"));

  const std::string en = EstimateSection(Report(r, Language::kEnglish), Language::kEnglish);
  EXPECT_THAT(en, HasSubstr(Label("noEstimate", Language::kEnglish)));
  EXPECT_THAT(en, HasSubstr("hold exactly the same 77 persons"));
  EXPECT_THAT(en, Not(HasSubstr("id=\"estimate\">1")));  // no number in bold
  EXPECT_EQ(e.caveats_size(), 0);  // not even the method's general caveat: there is no estimate
  EXPECT_THAT(en, Not(HasSubstr("closed population")));

  const std::string nl = EstimateSection(Report(r, Language::kDutch), Language::kDutch);
  EXPECT_THAT(nl, HasSubstr(Label("noEstimate", Language::kDutch)));
  EXPECT_THAT(nl, HasSubstr(Label("estimateDuplicatedList", Language::kDutch)));
  EXPECT_THAT(nl, Not(HasSubstr("hold exactly")));
  // The dashboard's JSON names the kind for its Dutch page.
  EXPECT_THAT(FormatInsightJson(r), HasSubstr("\"reason_label\": \"estimateDuplicatedList\""));
}

// Every refusal of the default estimator gets its own plain reason in the Dutch report (the
// estimator's words are English; the Dutch page names the cause from the label table).
TEST(DefaultEstimatorTest, EveryRefusalHasAPlainDutchReasonInTheReport) {
  const Estimator estimator = DefaultEstimator(kReplicates);
  const std::vector<std::string> keys = {"estimateTooFewLists", "estimateTooSparse",
                                         "estimateEmptyList",   "estimateDuplicatedList",
                                         "estimateIsolatedList", "estimateBadFit",
                                         "estimateHeterogeneityRefused", "estimateTooWide"};
  const std::vector<Refusal> refusals = Refusals();
  ASSERT_EQ(refusals.size(), keys.size());
  for (size_t i = 0; i < refusals.size(); ++i) {
    SCOPED_TRACE(refusals[i].name);
    ASSERT_TRUE(presentation::HasLabel(keys[i])) << keys[i];
    v1::InsightResponse r;
    r.set_min_cell_size(5);
    *r.mutable_estimate() = estimator(refusals[i].table);
    const std::string nl = EstimateSection(Report(r, Language::kDutch), Language::kDutch);
    EXPECT_THAT(nl, HasSubstr(presentation::Label(keys[i], Language::kDutch)));
    const std::string en = EstimateSection(Report(r, Language::kEnglish), Language::kEnglish);
    EXPECT_THAT(en, HasSubstr(refusals[i].reason));
    EXPECT_EQ(EstimateReasonLabel(r.estimate().reason()), keys[i]);
    // Neither report lists caveats of the estimate it does not publish ("too wide" had an
    // interval, whose description was listed in the English report).
    EXPECT_THAT(en, Not(HasSubstr("<ul class=\"note\">")));
    EXPECT_THAT(en, Not(HasSubstr("interval resamples")));
    EXPECT_THAT(nl, Not(HasSubstr("<ul class=\"note\">")));
  }
}

// An interval end at the smallest or largest bootstrap estimate is published with a warning
// that reaches the council report. With 20 replicates the percentile limits of a 95%
// interval are the smallest and the largest replicate (type-8 quantiles at 2.5% and 97.5%
// of 20 values), so both ends are flagged.
TEST(DefaultEstimatorTest, AnIntervalWarningReachesTheCouncilReport) {
  const Linked l =
      DatasetOf({v1::DOMAIN_POLICE, v1::DOMAIN_MUNICIPALITY, v1::DOMAIN_SOCIAL_WORK}, kKorea);
  const v1::InsightResponse r = Overview(l, DefaultEstimator(20));
  const v1::HiddenNumberEstimate& e = r.estimate();
  ASSERT_TRUE(e.available()) << e.reason();
  EXPECT_EQ(e.estimate(), 157);
  const std::string lower_warning =
      "The lower limit of the interval is the smallest of the 20 bootstrap estimates";
  const std::string upper_warning =
      "The upper limit of the interval is the largest of the 20 bootstrap estimates";
  int warnings = 0;
  for (const std::string& c : e.caveats()) {
    warnings += c.find(lower_warning) == 0 || c.find(upper_warning) == 0;
  }
  EXPECT_EQ(warnings, 2);

  const std::string en = EstimateSection(Report(r, Language::kEnglish), Language::kEnglish);
  EXPECT_THAT(en, HasSubstr("<b id=\"estimate\">157</b>"));
  EXPECT_THAT(en, HasSubstr(lower_warning));
  EXPECT_THAT(en, HasSubstr(upper_warning));

  const std::string nl = EstimateSection(Report(r, Language::kDutch), Language::kDutch);
  EXPECT_THAT(nl, HasSubstr("<b id=\"estimate\">157</b>"));
  EXPECT_THAT(nl, HasSubstr(Label("estimateLowerAtSmallest", Language::kDutch)));
  EXPECT_THAT(nl, HasSubstr(Label("estimateUpperAtLargest", Language::kDutch)));
  EXPECT_THAT(nl, Not(HasSubstr("bootstrap estimates")));
  // The dashboard's JSON carries the same warnings for its Dutch page.
  EXPECT_THAT(FormatInsightJson(r),
              HasSubstr("\"warning_labels\": [\"estimateLowerAtSmallest\", "
                        "\"estimateUpperAtLargest\"]"));

  // With 1000 replicates neither end is an extreme replicate: no warning in either report.
  const v1::InsightResponse quiet = Overview(l, DefaultEstimator(1000));
  ASSERT_TRUE(quiet.estimate().available()) << quiet.estimate().reason();
  EXPECT_THAT(EstimateSection(Report(quiet, Language::kEnglish), Language::kEnglish),
              Not(HasSubstr("bootstrap estimates:")));
  EXPECT_THAT(EstimateSection(Report(quiet, Language::kDutch), Language::kDutch),
              Not(HasSubstr(Label("estimateLowerAtSmallest", Language::kDutch))));
}

// A list that shares no one while three others do: the estimate stands with a warning, which
// the Dutch page names by its label. (1,110 persons: the interval, 1891 to 4798 with these 200
// replicates, is informative, so the estimate is published.)
TEST(DefaultEstimatorTest, AListSharingNoOneIsAWarningWithItsLabel) {
  std::vector<int64_t> counts(16, 0);
  counts[1] = 300, counts[2] = 250, counts[3] = 100, counts[4] = 200, counts[5] = 50;
  counts[6] = 40, counts[7] = 20;
  counts[8] = 150;  // list d: no one on it is on another list
  const v1::HiddenNumberEstimate e =
      DefaultEstimator(kReplicates)(Histories({"a", "b", "c", "d"}, counts));
  ASSERT_TRUE(e.available()) << e.reason();
  EXPECT_EQ(EstimateWarningLabels(e), std::vector<std::string>{"estimateIsolatedListWarning"});
  ASSERT_TRUE(presentation::HasLabel("estimateIsolatedListWarning"));

  // A tenth of the persons: the interval (170 to 5945) is too wide, nothing is published, and
  // the warning about the estimate not shown is not given either; the reason says why.
  for (int64_t& c : counts) c /= 10;
  const v1::HiddenNumberEstimate small =
      DefaultEstimator(kReplicates)(Histories({"a", "b", "c", "d"}, counts));
  EXPECT_FALSE(small.available());
  EXPECT_THAT(small.reason(), HasSubstr("is too wide to be informative"));
  EXPECT_TRUE(EstimateWarningLabels(small).empty());
  EXPECT_EQ(small.caveats_size(), 0);
}

}  // namespace
}  // namespace samenzicht::aggregator
