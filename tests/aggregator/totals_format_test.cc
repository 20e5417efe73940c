#include "aggregator/present/totals_format.h"

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace samenzicht::aggregator {
namespace {

using samenzicht::testing::StatusIs;

v1::TotalsResponse Sample() {
  v1::TotalsResponse r;
  r.add_by(v1::DIMENSION_FORM);
  auto* row = r.add_rows();
  row->add_keys("sexual");
  row->mutable_persons()->set_value(12);
  row->mutable_signals()->set_value(15);
  row = r.add_rows();
  row->add_keys("criminal");
  row->mutable_persons()->set_suppressed(true);
  row->mutable_signals()->set_value(6);
  r.mutable_total_persons()->set_value(14);
  r.mutable_total_signals()->set_value(21);
  r.mutable_unlinkable_signals()->set_suppressed(true);
  r.set_min_cell_size(5);
  r.set_counting_rules("rules");
  return r;
}

TEST(TotalsFormatTest, Csv) {
  EXPECT_EQ(FormatTotalsCsv(Sample()),
            "form,persons,signals\nsexual,12,15\ncriminal,<5,6\ntotal,14,21\n");
}

TEST(TotalsFormatTest, TableMarksSuppressedCells) {
  std::string t = FormatTotalsTable(Sample());
  EXPECT_NE(t.find("criminal       <5        6"), std::string::npos) << t;
  EXPECT_NE(t.find("unlinkable signals (no token): <5"), std::string::npos) << t;
}

// The table names the period its figures cover (the latest year when none was asked); JSON
// carries it as months and as text; CSV stays the table alone.
TEST(TotalsFormatTest, ThePeriodCoveredIsShown) {
  v1::TotalsResponse r = Sample();
  r.set_from_month(202501);
  r.set_to_month(202506);
  EXPECT_NE(FormatTotalsTable(r).find("\nperiod: 2025-01..2025-06 (2025-H1)\n"), std::string::npos)
      << FormatTotalsTable(r);
  const std::string j = FormatTotalsJson(r);
  EXPECT_NE(j.find("\"from_month\": 202501,\n  \"to_month\": 202506,\n  \"period\": "
                   "\"2025-01..2025-06 (2025-H1)\""),
            std::string::npos)
      << j;
  EXPECT_EQ(FormatTotalsCsv(r), FormatTotalsCsv(Sample()));
  EXPECT_EQ(PeriodFooter(0, 0), "period: every month\n");
  EXPECT_EQ(PeriodFooter(202403, 0), "period: 2024-03..\n");
  EXPECT_EQ(PeriodFooter(202403, 202406), "period: 2024-03..2024-06\n");
}

TEST(TotalsFormatTest, Json) {
  std::string j = FormatTotalsJson(Sample());
  // A withheld cell carries the text the report and the dashboard show for it.
  EXPECT_NE(j.find("{\"keys\": [\"criminal\"], \"persons\": {\"value\": null, \"suppressed\": true, "
                   "\"shown\": \"<5\"}"),
            std::string::npos) << j;
  EXPECT_NE(j.find("\"total_persons\": {\"value\": 14, \"suppressed\": false}"), std::string::npos);
}

// The rule text of `aggregator exact-totals` is a notice, a newline and the rules: the JSON
// keeps the line break (escaped), it does not glue the two sentences together.
TEST(TotalsFormatTest, JsonEscapesControlCharactersOfTheRuleText) {
  v1::TotalsResponse r = Sample();
  r.set_counting_rules("EXACT.\nPersons \"linked\"\tonce\x01");
  std::string j = FormatTotalsJson(r);
  EXPECT_NE(j.find("\"counting_rules\": \"EXACT.\\nPersons \\\"linked\\\"\\tonce\\u0001\""),
            std::string::npos)
      << j;
}

TEST(TotalsFormatTest, Flags) {
  EXPECT_EQ(*ParseMonthFlag("from", "2024-03"), 202403u);
  EXPECT_EQ(*ParseMonthFlag("from", ""), 0u);
  EXPECT_THAT(ParseMonthFlag("to", "2024-13"), StatusIs(absl::StatusCode::kInvalidArgument, "--to"));
  EXPECT_THAT(FormatTotals(Sample(), "xml"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace samenzicht::aggregator
