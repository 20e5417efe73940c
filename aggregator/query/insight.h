// The analyst's overview (InsightResponse): totals with the lower and upper bound on
// persons, the signals/persons ratio, persons by number of agencies that signalled them
// (1, 2, 3+), the overlap between reporting domains, the trend per month or quarter, and
// the hidden-number estimate (multiple systems estimation over the domains), all after
// disclosure control (disclosure.h).
//
//   ASSIGN_OR_RETURN(v1::InsightResponse r,
//                    ComputeInsight(dataset, link, agency_of_report, request, k, estimator));
//
// Counting rules as in totals.h (period; a person counts under every domain and agency that
// signalled them in the period). Agencies are told apart by their node id
// (`agency_of_report[i]`, 0 = unknown); domains come from the aggregator's configuration.
//
// Disclosure control: agency counts are a line with the total persons as margin; the
// overlap matrix has the per-domain counts on its diagonal (the one-way domain table:
// fixed) and each of its rows is a line; the trend uses AddTrendLines (months and
// quarters share one pattern); total = lower bound + unlinkable is a line. The estimate is
// published only when the estimator calls it reliable and at least k persons were seen;
// it is rounded to whole persons; the capture-history cells are never published.
//
// Thread-safety: pure functions (the estimator is called once per call).
#ifndef SAMENZICHT_AGGREGATOR_QUERY_INSIGHT_H_
#define SAMENZICHT_AGGREGATOR_QUERY_INSIGHT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "aggregator/query/disclosure.h"
#include "aggregator/linkage/linkage.h"
#include "aggregator/store/dataset.h"
#include "samenzicht/v1/query.pb.h"

namespace samenzicht::aggregator {

// A capture-history table over `lists`: counts[h] = persons whose set of lists is the bit
// mask h (bit i = lists[i]); counts[0] = 0.
struct CaptureHistories {
  std::vector<std::string> lists;
  std::vector<int64_t> counts;
  // Expected linkage errors among these persons (the linkage's own estimate, scaled to
  // them): persons counted twice and wrong merges. The estimate's interval includes them.
  double missed_links = 0, false_links = 0;
};

// Runs multiple systems estimation; fills `available`, `reason`, `estimate`, `lower`,
// `upper`, `interval_method`, `model`, `caveats` (unrounded). Absent (nullptr function) =
// "this build has no estimator".
using Estimator = std::function<v1::HiddenNumberEstimate(const CaptureHistories&)>;

// The default estimator: the estimate library (estimate/) with its default options
// (BIC model choice up to order 2 for up to 5 lists, stepwise above) and `replicates`
// replicates of the nonparametric bootstrap (model choice redone in each), whose percentile
// interval is shown. Refused tables (fewer than 3 lists, a list without persons, two lists
// holding the same persons, no model that exists, a model that fits badly) and estimates
// that are not informative (estimate::WhyNotPublishable) come back with `available` false
// and the reason in plain words and no caveats (they would describe an estimate and interval
// that are not shown); a published estimate carries the estimator's caveats, warnings about
// the interval among them.
Estimator DefaultEstimator(int replicates = 1000);

// InvalidArgument for a malformed period (see ComputeTotals).
absl::StatusOr<v1::InsightResponse> ComputeInsight(const Dataset& dataset,
                                                   const LinkResult& link,
                                                   const std::vector<AgencyIndex>& agency_of_report,
                                                   const v1::InsightRequest& request,
                                                   uint32_t min_cell_size,
                                                   const Estimator& estimator);
// The same under the Cell Key Method (disclosure.h) when `keys` and `cell_key` are given
// (`keys` from ComputeRecordKeys over `dataset` and `link`; `cell_key->k` is replaced by
// `min_cell_size`): every count perturbed, nothing withheld, `disclosure_rules` =
// CellKeyRules. InternalError when `keys` do not match the dataset. With `key_world`
// (BuildKeyWorld, disclosure.h) every cell is counted in `dataset` and perturbed with its key
// in the key world (0 for a cell the key world does not have).
absl::StatusOr<v1::InsightResponse> ComputeInsight(const Dataset& dataset,
                                                   const LinkResult& link,
                                                   const std::vector<AgencyIndex>& agency_of_report,
                                                   const v1::InsightRequest& request,
                                                   uint32_t min_cell_size,
                                                   const Estimator& estimator,
                                                   const RecordKeys* keys,
                                                   const CellKeyParams* cell_key,
                                                   const KeyWorld* key_world = nullptr);

// The capture histories over the domains that signalled anyone in the period (for tests
// and for `ComputeInsight`).
absl::StatusOr<CaptureHistories> DomainCaptureHistories(const Dataset& dataset,
                                                        const LinkResult& link,
                                                        uint32_t from_month, uint32_t to_month);

// The capture histories over agencies: list i is the agency with index i + 1 in
// `agency_of_report` (one entry per report; 0 = unknown, not a list), named
// `agency_names[i]`. Only agencies that signalled anyone in the period are lists, in index
// order. Same period rule and person counting as `DomainCaptureHistories`. InvalidArgument
// for a malformed period or an index without a name; FailedPrecondition for more than 20
// agencies.
absl::StatusOr<CaptureHistories> AgencyCaptureHistories(
    const Dataset& dataset, const LinkResult& link, const std::vector<AgencyIndex>& agency_of_report,
    const std::vector<std::string>& agency_names, uint32_t from_month, uint32_t to_month);

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_QUERY_INSIGHT_H_
