// Model choice for multiple systems estimation.
//
// Two procedures, both skipping models that fail the existence or
// identifiability test (existence.h):
//
//  * BIC over all hierarchical models with interactions up to `max_order`
//    (as `assemble_bic` in MultipleSystemsEstimation / Rcapture's
//    `closedpMS.t`): fit each, rank by BIC, choose the minimum.
//  * Stepwise (Chan, Silverman & Vincent 2021, SparseMSE `stepwisefit`):
//    start from main effects; for every two-list interaction not yet in the
//    model, take the overlap n* of the two lists and its expectation under
//    the current fit, mu* (sum of fitted values of the cells holding both);
//    its p-value is min(P(X <= n*), P(X >= n*)) for X ~ Poisson(mu*), set to 1
//    if adding it would give a model that fails either test. Add the
//    interaction with the smallest p-value (the first in the order 12, 13,
//    ..., 1K, 23, ... on ties) while it is below the threshold.
//
// Not thread-safe when a `ModelCheckCache` is shared.
#ifndef SAMENZICHT_ESTIMATE_MODEL_SEARCH_H_
#define SAMENZICHT_ESTIMATE_MODEL_SEARCH_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "estimate/capture_table.h"
#include "estimate/existence.h"
#include "estimate/loglinear.h"

namespace samenzicht::estimate {

// Refuse enumerations larger than this (six lists at order 2 has 32,768).
inline constexpr size_t kMaxEnumeratedModels = 100'000;

// All hierarchical models on `num_lists` lists that contain every main
// effect and only interactions of order 2..`max_order` (max_order 1: main
// effects only). Ordered by number of terms, then generation order.
// `InvalidArgument` for max_order outside 1..K-1, `ResourceExhausted` if
// there would be more than `kMaxEnumeratedModels`.
absl::StatusOr<std::vector<HierarchicalModel>> EnumerateHierarchicalModels(int num_lists,
                                                                           int max_order);

struct CandidateModel {
  HierarchicalModel model;
  ModelCheck check;
  std::optional<ModelFit> fit;  // set iff check.ok() and the fit succeeded
  std::string failure;          // why there is no fit
};

// Checks and fits every model in `models`. Valid fits come first, by
// increasing BIC (ties keep input order); failed models follow, in input
// order. Errors only for internal failures (LP solver).
absl::StatusOr<std::vector<CandidateModel>> FitCandidates(
    const CaptureTable& table, const std::vector<HierarchicalModel>& models,
    ModelCheckCache* cache = nullptr);

struct StepwiseStep {
  Mask term = 0;
  double p_value = 1;
};

struct StepwiseResult {
  ModelFit fit;
  std::vector<StepwiseStep> added;  // in the order added
};

// The stepwise procedure above with threshold `p_threshold` (0.02 in the
// paper). `FailedPrecondition` if even the main-effects model fails the
// existence/identifiability tests.
absl::StatusOr<StepwiseResult> StepwiseSelect(const CaptureTable& table, double p_threshold,
                                              ModelCheckCache* cache = nullptr);

}  // namespace samenzicht::estimate

#endif  // SAMENZICHT_ESTIMATE_MODEL_SEARCH_H_
