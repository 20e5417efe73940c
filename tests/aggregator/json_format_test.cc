// The exact bytes of the aggregator's JSON answers (totals, the overview and the dashboard's
// errors): scripts and the dashboard read them, so a change of the writer behind them must
// not change a byte.
#include <gtest/gtest.h>

#include <string>

#include "absl/status/status.h"
#include "aggregator/present/error_format.h"
#include "aggregator/present/insight_format.h"
#include "aggregator/present/totals_format.h"
#include "aggregator/query/disclosure.h"
#include "common/json.h"

namespace samenzicht::aggregator {
namespace {

void SetCount(v1::Count* c, uint64_t value, bool suppressed = false, bool secondary = false) {
  c->set_value(value);
  c->set_suppressed(suppressed);
  c->set_secondary(secondary);
}

v1::TotalsResponse TwoDimensionTotals() {
  v1::TotalsResponse r;
  r.add_by(v1::DIMENSION_FORM);
  r.add_by(v1::DIMENSION_AGE_BAND);
  auto* row = r.add_rows();
  row->add_keys("sexual");
  row->add_keys("12-17");
  SetCount(row->mutable_persons(), 12);
  SetCount(row->mutable_signals(), 15);
  row = r.add_rows();
  row->add_keys("criminal \"x\\y\"\n\t\x01\x7f caf\xc3\xa9 \xff");
  row->add_keys("18-22");
  SetCount(row->mutable_persons(), 0, true);
  SetCount(row->mutable_signals(), 0, true, true);
  SetCount(r.mutable_total_persons(), 14);
  SetCount(r.mutable_total_signals(), 21);
  SetCount(r.mutable_unlinkable_signals(), 0, true);
  r.set_min_cell_size(5);
  r.set_from_month(202401);
  r.set_to_month(202412);
  r.set_counting_rules("rules");
  return r;
}

v1::InsightResponse FullInsight() {
  v1::InsightResponse r;
  r.set_from_month(202401);
  r.set_to_month(202406);
  r.set_min_cell_size(5);
  SetCount(r.mutable_total_persons(), 40);
  SetCount(r.mutable_total_signals(), 61);
  SetCount(r.mutable_unlinkable_signals(), 0, true);
  SetCount(r.mutable_persons_lower_bound(), 37);
  r.set_signals_per_person("1.52");
  r.mutable_linkage_error()->set_available(true);
  r.mutable_linkage_error()->set_persons_maybe_counted_twice(2);
  r.mutable_linkage_error()->set_links_maybe_wrong(1);
  r.mutable_linkage_error()->set_sentence("personen: 40, waarvan naar schatting 2 dubbel");
  for (const char* a : {"1", "2"}) {
    auto* c = r.add_agency_counts();
    c->set_agencies(a);
    SetCount(c->mutable_persons(), a[0] == '1' ? 30 : 0, a[0] != '1');
  }
  r.add_overlap_domains("police");
  r.add_overlap_domains("youth_care");
  for (const char* row : {"police", "youth_care"}) {
    auto* c = r.add_overlap();
    c->set_row(row);
    c->set_column("police");
    SetCount(c->mutable_persons(), 9);
  }
  r.set_granularity(v1::TREND_GRANULARITY_QUARTER);
  for (const char* p : {"2024-Q1", "2024-Q2"}) {
    auto* t = r.add_trend();
    t->set_period(p);
    SetCount(t->mutable_persons(), 20);
    SetCount(t->mutable_signals(), 0, true, true);
  }
  v1::HiddenNumberEstimate* e = r.mutable_estimate();
  e->set_available(true);
  e->add_lists("police");
  e->add_lists("youth_care");
  e->set_observed(40);
  e->set_estimate(71.4);
  e->set_lower(52.5);
  e->set_upper(1.0 / 0.0);
  e->set_interval_method("percentile bootstrap");
  e->set_model("[12]");
  e->set_reason("the model fits the table badly");
  e->add_caveats("The lower limit of the interval is the smallest of the bootstrap estimates.");
  e->add_caveats("A caveat without a label.");
  e->add_caveats("WARNING: persons seem to differ in how visible they are.");
  r.set_counting_rules("counting");
  r.set_disclosure_rules(CellKeyRules(CellKeyParams{}));
  return r;
}

// Each row on a line of its own; a key with every kind of byte the writer escapes or copies:
// quotes, a backslash, control characters (\n, \t, \u0001), DEL, UTF-8 and a byte that is not
// UTF-8 (the last three copied as they are).
TEST(JsonFormatTest, TotalsKeepTheirBytes) {
  EXPECT_EQ(
      FormatTotalsJson(TwoDimensionTotals()),
      "{\n"
      "  \"by\": [\"form\", \"age_band\"],\n"
      "  \"rows\": [\n"
      "    {\"keys\": [\"sexual\", \"12-17\"], \"persons\": {\"value\": 12, \"suppressed\": "
      "false}, \"signals\": {\"value\": 15, \"suppressed\": false}},\n"
      "    {\"keys\": [\"criminal \\\"x\\\\y\\\"\\n\\t\\u0001\x7f caf\xc3\xa9 \xff\", \"18-22\"], "
      "\"persons\": {\"value\": null, \"suppressed\": true, \"shown\": \"<5\"}, \"signals\": "
      "{\"value\": null, \"suppressed\": true, \"secondary\": true, \"shown\": \"x\"}}\n"
      "  ],\n"
      "  \"total_persons\": {\"value\": 14, \"suppressed\": false},\n"
      "  \"total_signals\": {\"value\": 21, \"suppressed\": false},\n"
      "  \"unlinkable_signals\": {\"value\": null, \"suppressed\": true, \"shown\": \"<5\"},\n"
      "  \"min_cell_size\": 5,\n"
      "  \"from_month\": 202401,\n"
      "  \"to_month\": 202412,\n"
      "  \"period\": \"2024-01..2024-12 (2024)\",\n"
      "  \"counting_rules\": \"rules\"\n"
      "}\n");
  EXPECT_EQ(FormatTotalsJson(v1::TotalsResponse()),
            R"json({
  "by": [],
  "rows": [],
  "total_persons": {"value": 0, "suppressed": false},
  "total_signals": {"value": 0, "suppressed": false},
  "unlinkable_signals": {"value": 0, "suppressed": false},
  "min_cell_size": 0,
  "from_month": 0,
  "to_month": 0,
  "period": "",
  "counting_rules": ""
}
)json");
}

TEST(JsonFormatTest, TheOverviewKeepsItsBytes) {
  EXPECT_EQ(FormatInsightJson(FullInsight()),
            R"json({
  "from_month": 202401,
  "to_month": 202406,
  "period": "2024-01..2024-06 (2024-H1)",
  "min_cell_size": 5,
  "total_persons": {"value": 40, "suppressed": false},
  "total_signals": {"value": 61, "suppressed": false},
  "unlinkable_signals": {"value": null, "suppressed": true, "shown": "<5"},
  "persons_lower_bound": {"value": 37, "suppressed": false},
  "signals_per_person": "1.52",
  "linkage_error": {"available": true, "persons_maybe_counted_twice": 2, "links_maybe_wrong": 1, "sentence": "personen: 40, waarvan naar schatting 2 dubbel"},
  "agency_counts": [{"agencies": "1", "persons": {"value": 30, "suppressed": false}}, {"agencies": "2", "persons": {"value": null, "suppressed": true, "shown": "<5"}}],
  "overlap_domains": ["police", "youth_care"],
  "overlap": [
    {"row": "police", "column": "police", "persons": {"value": 9, "suppressed": false}},
    {"row": "youth_care", "column": "police", "persons": {"value": 9, "suppressed": false}}],
  "granularity": "quarter",
  "trend": [
    {"period": "2024-Q1", "persons": {"value": 20, "suppressed": false}, "signals": {"value": null, "suppressed": true, "secondary": true, "shown": "x"}},
    {"period": "2024-Q2", "persons": {"value": 20, "suppressed": false}, "signals": {"value": null, "suppressed": true, "secondary": true, "shown": "x"}}],
  "estimate": {"available": true, "reason": "the model fits the table badly", "lists": ["police", "youth_care"], "observed": 40, "estimate": 71, "lower": 52, "upper": null, "interval_method": "percentile bootstrap", "model": "[12]", "caveats": ["The lower limit of the interval is the smallest of the bootstrap estimates.", "A caveat without a label.", "WARNING: persons seem to differ in how visible they are."], "reason_label": "estimateBadFit", "warning_labels": ["estimateLowerAtSmallest", "estimateHeterogeneity"]},
  "counting_rules": "counting",
  "disclosure_rules": )json" +
                json::JsonString(CellKeyRules(CellKeyParams{})) +
                R"json(,
  "cell_key": {"k": 5, "max_noise": 5, "tail_noise": 15, "tail_one_in": 10}
}
)json");
  EXPECT_EQ(FormatInsightJson(v1::InsightResponse()),
            R"json({
  "from_month": 0,
  "to_month": 0,
  "period": "",
  "min_cell_size": 0,
  "total_persons": {"value": 0, "suppressed": false},
  "total_signals": {"value": 0, "suppressed": false},
  "unlinkable_signals": {"value": 0, "suppressed": false},
  "persons_lower_bound": {"value": 0, "suppressed": false},
  "signals_per_person": "",
  "agency_counts": [],
  "overlap_domains": [],
  "overlap": [],
  "granularity": "month",
  "trend": [],
  "estimate": {"available": false, "reason": "", "lists": [], "observed": 0, "estimate": null, "lower": null, "upper": null, "interval_method": "", "model": "", "caveats": [], "reason_label": "", "warning_labels": []},
  "counting_rules": "",
  "disclosure_rules": ""
}
)json");
}

TEST(JsonFormatTest, ErrorsKeepTheirBytes) {
  EXPECT_EQ(FormatErrorJson(absl::NotFoundError("no such \"page\"\r\n\x1f \xe2\x82\xac\xc3")),
            "{\"error\": \"no such \\\"page\\\"\\r\\n\\u001f \xe2\x82\xac\xc3\", \"code\": "
            "\"NOT_FOUND\"}\n");
  const Refusal refusal{"refusedOffGrid",
                        {{"period", "2024-02..2024-04"}, {"from", "2024-02"}},
                        {"2024-01..2024-03", "2024-Q2"}};
  EXPECT_EQ(
      FormatErrorJson(WithRefusal(absl::InvalidArgumentError("off grid"), refusal)),
      R"json({"error": "off grid", "code": "INVALID_ARGUMENT", "refusal": {"key": "refusedOffGrid", "values": {"period": "2024-02..2024-04", "from": "2024-02"}, "options": ["2024-01..2024-03", "2024-Q2"]}}
)json");
  const Refusal bare{"refusedNothingReleased", {}, {}};
  EXPECT_EQ(
      FormatErrorJson(WithRefusal(absl::FailedPreconditionError("none"), bare)),
      R"json({"error": "none", "code": "FAILED_PRECONDITION", "refusal": {"key": "refusedNothingReleased", "values": {}, "options": []}}
)json");
}

}  // namespace
}  // namespace samenzicht::aggregator
