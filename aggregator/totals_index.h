// A columnar index of one snapshot's persons and reports, so a breakdown over the whole
// history costs a scan of two small columns instead of a sort and map inserts per report
// (issue 8: p99 under 50 ms at 10 million reports).
//
//   auto index = TotalsIndex::Build(dataset, link);           // once per store generation
//   ASSIGN_OR_RETURN(RawTotals raw, index->RawTotalsFor(dataset, link, request));
//
// `RawTotalsFor` returns exactly what `ComputeRawTotals(dataset, link, request)` returns
// (same counting rules, rows, labels and margins; bench/perf/query_bench checks the two
// agree for every pair of categories on every smoke run). It answers from the index when
// the request has no period and no field but `by`; otherwise, and for every invalid
// request, it calls ComputeRawTotals. The person facts are those of the counting rules in
// totals.h over all of a person's reports, resolved once at Build.
//
// Memory: 2 bytes per single-valued and 4 per multi-valued category, per person and per
// report (about 34 bytes per person plus 32 per report).
//
// Thread-safety: immutable after Build; RawTotalsFor may be called concurrently.
#ifndef SAMENZICHT_AGGREGATOR_TOTALS_INDEX_H_
#define SAMENZICHT_AGGREGATOR_TOTALS_INDEX_H_

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "aggregator/linkage.h"
#include "aggregator/store.h"
#include "aggregator/totals.h"
#include "samenzicht/v1/query.pb.h"

namespace samenzicht::aggregator {

class TotalsIndex {
 public:
  static std::unique_ptr<const TotalsIndex> Build(const Dataset& dataset, const LinkResult& link);

  // `dataset` and `link` must be the ones given to Build.
  absl::StatusOr<RawTotals> RawTotalsFor(const Dataset& dataset, const LinkResult& link,
                                         const v1::TotalsRequest& request) const;

  size_t MemoryBytes() const;

  // One category of persons or of reports: slot per element (single-valued) or a bitmask
  // of values (multi-valued; bit v = value v, 0 = unknown).
  struct Column {
    bool multi = false;
    std::vector<uint16_t> slot;
    std::vector<uint32_t> mask;
  };

 private:
  TotalsIndex() = default;
  // Indexed by v1::Dimension.
  static constexpr int kDims = 16;
  std::array<Column, kDims> person_;
  std::array<Column, kDims> report_;
  std::array<uint32_t, kDims> slots_{};  // number of slots of a single-valued dimension
  std::vector<uint32_t> months_;         // slot -> YYYYMM (slot 0 = 0, not known)
  uint64_t reports_ = 0, persons_ = 0, unlinkable_ = 0;
};

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_TOTALS_INDEX_H_
