// Renderings of a TotalsResponse for `aggregator totals`: an aligned table (suppressed
// cells as "<k"), CSV (suppressed cells as "<k" too) and JSON (suppressed cells as
// {"value": null, "suppressed": true}).
//
// Thread-safety: pure functions.
#ifndef SAMENZICHT_AGGREGATOR_TOTALS_FORMAT_H_
#define SAMENZICHT_AGGREGATOR_TOTALS_FORMAT_H_

#include <string>

#include "absl/status/statusor.h"
#include "samenzicht/v1/query.pb.h"

namespace samenzicht::aggregator {

std::string FormatTotalsTable(const v1::TotalsResponse& r);
std::string FormatTotalsCsv(const v1::TotalsResponse& r);
std::string FormatTotalsJson(const v1::TotalsResponse& r);

// "table", "csv" or "json"; InvalidArgument otherwise.
absl::StatusOr<std::string> FormatTotals(const v1::TotalsResponse& r, const std::string& format);

// "2024-03" or "202403" -> 202403; "" -> 0. InvalidArgument naming the flag.
absl::StatusOr<uint32_t> ParseMonthFlag(const std::string& flag, const std::string& text);

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_TOTALS_FORMAT_H_
