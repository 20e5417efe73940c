// Renderings of an InsightResponse for `aggregator totals --view agencies|overlap|trend|
// summary` (table and CSV: withheld cells as "<k" and "x") and JSON (the whole response;
// the dashboard's /api/insight serves exactly this).
//
// Thread-safety: pure functions.
#ifndef SAMENZICHT_AGGREGATOR_PRESENT_INSIGHT_FORMAT_H_
#define SAMENZICHT_AGGREGATOR_PRESENT_INSIGHT_FORMAT_H_

#include <string>

#include "absl/status/statusor.h"
#include "samenzicht/v1/query.pb.h"

namespace samenzicht::aggregator {

std::string FormatInsightJson(const v1::InsightResponse& r);

// `view`: "summary", "agencies", "overlap", "trend"; `format`: "table", "csv", "json"
// (json ignores the view). InvalidArgument otherwise.
absl::StatusOr<std::string> FormatInsight(const v1::InsightResponse& r, const std::string& view,
                                          const std::string& format);

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_PRESENT_INSIGHT_FORMAT_H_
