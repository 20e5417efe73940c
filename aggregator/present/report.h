// The council report: one self-contained HTML file (inline CSS and SVG, no script, no
// external resource) with the disclosure-controlled tables and charts of a period, a short
// methods section and the hidden-number estimate with its caveats.
//
//   ReportInput in{insight, {totals_by_form, ...}, "2024-01..2024-12", "2025-01-05"};
//   std::string html = RenderReportHtml(in);
//
// Everything shown comes from InsightResponse / TotalsResponse as the query code returned
// them (already protected); this file only draws. One language per report (Dutch by
// default), every word from the label table (presentation/labels.h): no category codes, no
// English rules on a Dutch page. A withheld count is drawn with FormatCount (totals_format.h).
//
// Thread-safety: pure functions.
#ifndef SAMENZICHT_AGGREGATOR_PRESENT_REPORT_H_
#define SAMENZICHT_AGGREGATOR_PRESENT_REPORT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "presentation/labels.h"
#include "samenzicht/v1/query.pb.h"

namespace samenzicht::aggregator {

struct ReportInput {
  v1::InsightResponse insight;
  std::vector<v1::TotalsResponse> tables;
  std::string period;     // as given, e.g. "2024-01..2024-12"
  std::string generated;  // date of generation
  // One language per report: every label from the one label table (presentation/labels.h).
  presentation::Language language = presentation::Language::kDutch;
};

// The breakdowns the report (and the dashboard) show, for a period.
std::vector<v1::TotalsRequest> ReportTableRequests(uint32_t from_month, uint32_t to_month);

// "2024-01..2024-12" (either side may be empty: open) -> (202401, 202412).
// InvalidArgument naming the flag otherwise.
absl::StatusOr<std::pair<uint32_t, uint32_t>> ParsePeriod(const std::string& text);

std::string RenderReportHtml(const ReportInput& in);

// A horizontal bar chart as inline SVG: one bar per label; withheld counts drawn as a
// hatched stub labelled "<k" or "x". `title` is used for the SVG's <title>.
std::string SvgBars(const std::vector<std::string>& labels, const std::vector<v1::Count>& values,
                    uint32_t k, const std::string& title);

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_PRESENT_REPORT_H_
