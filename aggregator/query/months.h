// Signal months (YYYYMM) as the counting code uses them: which values are valid, and the
// "earliest first" order of reports that the counting rules (totals.h) and the record keys
// of disclosure control (disclosure.h) both follow. Below both, so neither includes the
// other for it.
//
// Thread-safety: pure functions.
#ifndef SAMENZICHT_AGGREGATOR_QUERY_MONTHS_H_
#define SAMENZICHT_AGGREGATOR_QUERY_MONTHS_H_

#include <cstdint>
#include <vector>

#include "aggregator/store/dataset.h"

namespace samenzicht::aggregator {

// True for 0 or a valid YYYYMM (year 1900-2999, month 1-12).
bool IsValidMonth(uint32_t yyyymm);

// Report indexes in "earliest first" order: by signal month (not known last), then by
// arrival (index). Linear (a counting sort by month) when every month is valid.
std::vector<uint32_t> EarliestFirst(const std::vector<ReportFacts>& reports);

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_QUERY_MONTHS_H_
