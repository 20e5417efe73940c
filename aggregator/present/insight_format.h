// Renderings of an InsightResponse for `aggregator totals --view agencies|overlap|trend|
// summary` (table and CSV: withheld cells as "<k" and "x") and JSON (the whole response;
// the dashboard's /api/insight serves exactly this), and the labels of the estimator's reasons
// and warnings for a page in another language than the estimator's English.
//
// Thread-safety: pure functions.
#ifndef SAMENZICHT_AGGREGATOR_PRESENT_INSIGHT_FORMAT_H_
#define SAMENZICHT_AGGREGATOR_PRESENT_INSIGHT_FORMAT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "samenzicht/v1/query.pb.h"

namespace samenzicht::aggregator {

// The JSON's "estimate" object also carries "reason_label" (EstimateReasonLabel of its reason)
// and "warning_labels" (EstimateWarningLabels).
std::string FormatInsightJson(const v1::InsightResponse& r);

// The estimator's reasons for giving no estimate and its warnings about a published one are
// English sentences (estimate/, through DefaultEstimator in
// aggregator/query/insight.h). These name the kind of each by its label in
// presentation/labels.tsv, recognised by a part of the estimator's wording, so that a Dutch
// page says in its own words why there is no estimate or what to mind
// (tests/aggregator/insight_estimate_test.cc runs the real estimator through them).
// The label of `reason` ("estimateTooWide", ...); empty for a reason not recognised.
std::string EstimateReasonLabel(const std::string& reason);
// The labels of the warnings among `e`'s caveats (an interval end at the smallest or largest
// bootstrap estimate, heterogeneous catchability, a list that shares no person with any other
// list), each once, in the caveats' order.
std::vector<std::string> EstimateWarningLabels(const v1::HiddenNumberEstimate& e);

// `view`: "summary", "agencies", "overlap", "trend"; `format`: "table", "csv", "json"
// (json ignores the view). InvalidArgument otherwise.
absl::StatusOr<std::string> FormatInsight(const v1::InsightResponse& r, const std::string& view,
                                          const std::string& format);

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_PRESENT_INSIGHT_FORMAT_H_
