// A columnar index of one snapshot's persons and reports, so that a breakdown by up to two
// categories, over the whole history or a period, costs a scan of small columns instead of
// a sort and map inserts per report (p99 under 50 ms at 10 million reports).
//
//   auto index = TotalsIndex::Build(dataset, link);           // once per store generation
//   ASSIGN_OR_RETURN(RawTotals raw, index->RawTotalsFor(dataset, link, request));
//
// `RawTotalsFor` returns exactly what `ComputeRawTotals(dataset, link, request)` returns
// (same counting rules, rows, labels, margins and errors; bench/perf/query_bench checks
// that the two agree for every category and pair, with and without periods, on every smoke
// run). Both resolve a person with the one definition of the counting rules in totals.h
// (PersonCategories for the whole history at Build; RuleOf/Contribution/Fold/PersonValue over
// the reports in the period at query time).
//
// LAYOUT. Every value is stored as a 2-byte code: the value itself for a single-valued
// category (enum value, area, or the month's slot among the months present), or the index
// of its bitmask in a per-column dictionary for a multi-valued one (living situation,
// recruitment, coercion, forced crime; a person's domains).
//  - Persons: one code column per category, the person resolved over all their reports.
//  - Reports: one code column per category, sorted by person and within a person earliest
//    first, with each person's first position; and a bit per report for "no token".
// A query over the whole history tallies the (code, code) pairs of the person columns and
// of the report columns in a dense array, then spreads each pair over the values of its
// codes (so a multi-valued category costs as little as a single-valued one). A query with
// a period scans each person's reports in the period (contiguous, as they are sorted by
// month), folds the two requested categories by the counting rules, and tallies the
// result: persons then count by their categories in the period, as the rules say.
// A request the index cannot answer (a category whose values do not fit its codes, an
// unknown field) is answered by ComputeRawTotals.
//
// Memory: 2 bytes per category per person and per report, 4 bytes per person (first
// report) and a bit per report: about 24 + 28 * persons/report bytes per report.
//
// Thread-safety: immutable after Build; RawTotalsFor may be called concurrently.
#ifndef SAMENZICHT_AGGREGATOR_QUERY_TOTALS_INDEX_H_
#define SAMENZICHT_AGGREGATOR_QUERY_TOTALS_INDEX_H_

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "aggregator/linkage/linkage.h"
#include "aggregator/store/dataset.h"
#include "aggregator/query/disclosure.h"
#include "aggregator/query/totals.h"
#include "samenzicht/v1/query.pb.h"

namespace samenzicht::aggregator {

class TotalsIndex {
 public:
  static std::unique_ptr<const TotalsIndex> Build(const Dataset& dataset, const LinkResult& link);
  // With cell keys: `keys` (ComputeRecordKeys over `dataset` and `link`) are copied into
  // the index (8 bytes per person and per report) and every RawCell carries its cell keys.
  static std::unique_ptr<const TotalsIndex> Build(const Dataset& dataset, const LinkResult& link,
                                                  const RecordKeys* keys);

  // `dataset` and `link` must be the ones given to Build.
  absl::StatusOr<RawTotals> RawTotalsFor(const Dataset& dataset, const LinkResult& link,
                                         const v1::TotalsRequest& request) const;

  size_t MemoryBytes() const;

  // One side (persons or reports) of one category: a code per element, and for a
  // multi-valued side the bitmask of each code (empty: the code is the value).
  struct Codes {
    std::vector<uint16_t> code;
    std::vector<uint32_t> masks;
    uint32_t count = 0;  // number of distinct codes (upper bound)
  };
  struct Column {
    Codes persons, reports;
    uint32_t slots = 0;  // values are 0..slots-1 (bit positions when multi); 0: not indexed
  };

 private:
  TotalsIndex() = default;
  absl::StatusOr<RawTotals> Table(const Dataset& ds, const std::vector<v1::Dimension>& by,
                                  uint32_t from, uint32_t to) const;

  std::array<Column, kDimensionCount> columns_;  // indexed by v1::Dimension
  std::vector<uint32_t> months_;          // month slot -> YYYYMM (slot 0 = 0, not known)
  std::vector<uint32_t> first_report_;    // person -> first position in the report columns
  std::vector<bool> no_token_;            // by position in the report columns
  RecordKeys keys_;                       // as given to Build (empty: none)
  std::vector<uint64_t> report_key_;      // keys_.report by position in the report columns
  std::vector<uint8_t> month_mark_;       // keys_.month_mark by position
  uint64_t total_person_key_ = 0, total_report_key_ = 0, unlinkable_key_ = 0;
  uint64_t reports_ = 0, persons_ = 0, unlinkable_ = 0;
  bool built_ = false;
};

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_QUERY_TOTALS_INDEX_H_
