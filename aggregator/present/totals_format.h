// Renderings of a TotalsResponse for `aggregator totals`: an aligned table (suppressed
// cells as "<k", secondary suppression as "x"), CSV (the same) and JSON (withheld cells as
// {"value": null, "suppressed": true}, plus "secondary": true for secondary suppression).
//
// Thread-safety: pure functions.
#ifndef SAMENZICHT_AGGREGATOR_PRESENT_TOTALS_FORMAT_H_
#define SAMENZICHT_AGGREGATOR_PRESENT_TOTALS_FORMAT_H_

#include <string>

#include "absl/status/statusor.h"
#include "samenzicht/v1/query.pb.h"

namespace samenzicht::aggregator {

// The symbol of a figure withheld by secondary suppression, and of a ratio that is not
// shown (the overview's signals per person when a total is withheld).
inline constexpr char kSecondarySymbol[] = "x";

// One count: "<k" (primary), "x" (secondary suppression) or the number. The one rendering
// of a withheld cell: the table, CSV and overview commands and the report draw it, and the
// JSON carries it as "shown" for the dashboard.
std::string FormatCount(const v1::Count& c, uint32_t k);
// A ratio as the server sent it, or kSecondarySymbol when it is withheld (empty).
std::string FormatRatio(const std::string& ratio);
// {"value": N, "suppressed": false}, {"value": null, "suppressed": true, "shown": "<k"} or,
// for secondary suppression, {"value": null, "suppressed": true, "secondary": true,
// "shown": "x"}.
std::string JsonCount(const v1::Count& c, uint32_t k);

std::string FormatTotalsTable(const v1::TotalsResponse& r);
std::string FormatTotalsCsv(const v1::TotalsResponse& r);
std::string FormatTotalsJson(const v1::TotalsResponse& r);

// The line under a table saying how its figures were protected, from the response's rules
// (`counting_rules` of totals, `disclosure_rules` of the overview): perturbed by the Cell Key
// Method, exact and unpublished (`aggregator exact-totals`), or the old "<k" and "x".
std::string ProtectionFooter(const std::string& rules, uint32_t k);

// The line under a table naming the period its figures cover (the response's, which is the
// latest year when none was asked): "period: 2024-01..2024-12 (2024)\n"; "period: every
// month\n" for none at all (exact totals), "period: 2024-03.." for an open end.
std::string PeriodFooter(uint32_t from_month, uint32_t to_month);

// "table", "csv" or "json"; InvalidArgument otherwise.
absl::StatusOr<std::string> FormatTotals(const v1::TotalsResponse& r, const std::string& format);

// "2024-03" or "202403" -> 202403; "" -> 0. InvalidArgument naming the flag.
absl::StatusOr<uint32_t> ParseMonthFlag(const std::string& flag, const std::string& text);

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_PRESENT_TOTALS_FORMAT_H_
