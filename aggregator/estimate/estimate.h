// Multiple systems estimation (MSE) of the total number of persons, seen
// and unseen, from a capture-history table over K >= 3 agency lists.
//
// This is the library entry point; `estimate_command.h` is the CLI on top of
// it. Example:
//
//   absl::StatusOr<CaptureTable> table = CaptureTable::ReadCsvFile(path);
//   EstimateOptions options;             // BIC, max order 2, 1000 replicates
//   absl::StatusOr<EstimateResult> r = Estimate(*table, options);
//   if (r.ok() && r->reliable) Show(r->estimate, r->interval->lower, ...);
//
// A table too sparse for any model to exist and be identifiable is not an
// error: the result has `reliable == false` and a `reason`, and no numbers.
// Errors are only for invalid options (`InvalidArgument`), model
// enumerations too large (`ResourceExhausted`) and internal failures.
//
// Thread-compatible: concurrent calls share no state.
#ifndef SAMENZICHT_AGGREGATOR_ESTIMATE_ESTIMATE_H_
#define SAMENZICHT_AGGREGATOR_ESTIMATE_ESTIMATE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "aggregator/estimate/bootstrap.h"
#include "aggregator/estimate/capture_table.h"
#include "aggregator/estimate/model_search.h"
#include "aggregator/estimate/profile_likelihood.h"

namespace samenzicht::estimate {

enum class SelectionMethod { kBic, kStepwise };

struct EstimateOptions {
  SelectionMethod method = SelectionMethod::kBic;
  int max_order = 2;           // BIC: highest interaction order considered
  double p_threshold = 0.02;   // stepwise: p-value to add an interaction
  int replicates = 1000;       // BCa bootstrap replicates; 0 = no interval
  uint64_t seed = 1234;        // bootstrap random seed
  double level = 0.95;         // interval coverage
  // BIC: number of best models (on the original data) re-examined in each
  // bootstrap replicate; 0 = automatic as in MultipleSystemsEstimation:
  // all for 3 lists, 20 for 4, 100 for 5 or more.
  int bootstrap_models = 0;
  bool profile_interval = true;  // compute the profile likelihood interval
  // Bootstrap replicates: drawn from the chosen model (default; Buckland & Garthwaite 1991;
  // coverage inside 0.90-0.98 in bench/mse/mse_simulation) or resampled observed persons
  // (as the reference R packages; over-covers, 0.982); see bootstrap.h.
  Resampling resampling = Resampling::kParametric;
};

struct ModelSummary {
  std::string model;
  double n_hat = 0;
  double bic = 0;
};

struct ExcludedModel {
  std::string model;
  std::string reason;
};

struct EstimateResult {
  int num_lists = 0;
  int64_t observed = 0;
  SelectionMethod method = SelectionMethod::kBic;
  int max_order = 2;
  double p_threshold = 0.02;

  bool reliable = false;
  std::string reason;  // why not reliable; empty when reliable

  // Set when a model was chosen.
  std::optional<double> estimate;  // N-hat = observed + exp(intercept)
  std::optional<double> dark_figure;
  std::string model;               // e.g. "[12,23]"
  std::optional<double> bic;
  std::vector<StepwiseStep> stepwise_steps;  // stepwise only

  std::optional<BcaResult> interval;  // BCa bootstrap
  std::string interval_note;          // why there is no BCa interval
  uint64_t seed = 0;
  std::optional<ProfileInterval> profile_interval;
  std::string profile_note;

  std::vector<ModelSummary> models;         // fitted candidates, by BIC
  std::vector<ExcludedModel> excluded_models;
  std::vector<std::string> caveats;
};

// Estimators applied to every bootstrap and jackknife table.
//
// BIC: fits each of `models` (model, starting coefficients or empty) that
// passes the existence/identifiability tests on that table and returns the
// N-hat of the one with the smallest BIC; nullopt if none passes.
// The returned function owns a `ModelCheckCache` and is not thread-safe.
PopulationEstimator MakeBicEstimator(
    std::vector<std::pair<HierarchicalModel, std::vector<double>>> models);
// Stepwise: reruns `StepwiseSelect` with `p_threshold`; nullopt if even the
// main-effects model fails the tests. Not thread-safe.
PopulationEstimator MakeStepwiseEstimator(double p_threshold);

// Runs model selection, the point estimate and the intervals.
absl::StatusOr<EstimateResult> Estimate(const CaptureTable& table,
                                        const EstimateOptions& options);

}  // namespace samenzicht::estimate

#endif  // SAMENZICHT_AGGREGATOR_ESTIMATE_ESTIMATE_H_
