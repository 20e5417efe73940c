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
// A table too sparse for any model to exist and be identifiable, or with two
// lists holding exactly the same persons, is not an error: the result has
// `reliable == false` and a `reason`, and no numbers. A chosen model that fits
// badly (deviance test, `goodness_of_fit`), or a table that shows heterogeneous
// catchability beyond the chosen model (`heterogeneity`), or a table where fewer than three
// lists share persons with another list (the estimate would rest on two), keeps its numbers
// but is marked `reliable == false` with the reason. Errors are for invalid options and for a
// list that holds no person (`InvalidArgument`, naming the list), model
// enumerations too large (`ResourceExhausted`) and internal failures.
//
// Thread-compatible: concurrent calls share no state.
#ifndef SAMENZICHT_ESTIMATE_ESTIMATE_H_
#define SAMENZICHT_ESTIMATE_ESTIMATE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "estimate/bootstrap.h"
#include "estimate/capture_table.h"
#include "estimate/loglinear.h"
#include "estimate/model_search.h"
#include "estimate/profile_likelihood.h"

namespace samenzicht::estimate {

// kAuto: BIC while there are at most `kAutoBicMaxModels` candidate models (up to 5 lists at
// order 2), stepwise above (6 or more lists), so that many lists stay fast.
enum class SelectionMethod { kBic, kStepwise, kAuto };
inline constexpr size_t kAutoBicMaxModels = 1024;

// A chosen model whose deviance has a chi-square p-value below this fits the table badly:
// the estimate is marked unreliable.
inline constexpr double kGoodnessOfFitAlpha = 0.001;

// Occam's window for model averaging (Madigan & Raftery 1994): models whose BIC is within
// 2 ln 20 of the smallest, i.e. whose approximate posterior odds against the best model are
// at most 20 to 1.
inline constexpr double kOccamWindow = 5.991464547107982;

// Linkage error in the persons of the table, as expected numbers of errors among the table's
// persons (for example the linkage's own estimate over all persons, scaled by the share of
// them in the table).
struct LinkageErrorCounts {
  // Persons counted twice (links the linkage missed): each splits one person in two.
  double missed_links = 0;
  // Wrong merges: each joins two different persons into one.
  double false_links = 0;
};

// The heterogeneity terms tau * f(k), k = |h| the number of lists a person is on; tau > 0
// makes f convex beyond the main effects, i.e. more overlap than the model expects:
// Mth Darroch f = k^2 / 2 (Darroch, Fienberg, Glonek & Junker 1993), Mth Poisson2
// f = 2^k - 1 and Mth Gamma3.5 f = -log(1 + k / 3.5) (Rivest & Baillargeon 2007; the names
// of R's Rcapture, whose `closedp` documentation gives the same columns, Gamma3.5 written
// -log(3.5 + k) + log(3.5)).
enum class HeterogeneityTerm { kDarroch, kPoisson2, kGamma35 };
const char* HeterogeneityTermName(HeterogeneityTerm term);  // e.g. "Mth Darroch"
double HeterogeneityColumn(HeterogeneityTerm term, int lists_on);


struct EstimateOptions {
  SelectionMethod method = SelectionMethod::kAuto;
  // If not empty, no model choice: this model (e.g. "[12,3]") is fitted, its coefficients
  // and fitted values reported, and the bootstrap refits this same model.
  std::string model;
  int max_order = 2;           // BIC: highest interaction order considered
  double p_threshold = 0.02;   // stepwise: p-value to add an interaction
  int replicates = 1000;       // bootstrap replicates; 0 = no interval
  uint64_t seed = 1234;        // bootstrap random seed
  double level = 0.95;         // interval coverage
  // BIC: number of best models (on the original data) re-examined in each
  // bootstrap replicate; 0 = automatic as in MultipleSystemsEstimation:
  // all for 3 lists, 20 for 4, 100 for 5 or more.
  int bootstrap_models = 0;
  bool profile_interval = true;  // compute the profile likelihood interval
  // Bootstrap replicates: resampled observed persons (default; the reference R packages'
  // method) or drawn from the chosen model (Buckland & Garthwaite 1991); see bootstrap.h
  // and the coverage table in README.md.
  Resampling resampling = Resampling::kMultinomial;
  // The limits taken from the replicates: percentiles (default; the coverage table in
  // README.md) or BCa (the reference R packages' interval, reproduces their figures).
  IntervalMethod interval = IntervalMethod::kPercentile;
  int threads = 2;  // worker threads for the jackknife and the bootstrap
  // BIC only: instead of the single minimum-BIC model, the estimate is the average of the
  // N-hats of the models within `averaging_window` of the smallest BIC, weighted by
  // exp(-BIC / 2) (BIC weights, approximate posterior model probabilities), and every
  // bootstrap and jackknife table is averaged the same way over the re-fitted models.
  // `InvalidArgument` with stepwise selection or a given model.
  bool model_averaging = false;
  double averaging_window = kOccamWindow;
  // Linkage error to propagate into the bootstrap interval (see bootstrap.h); zero = the
  // table is taken as exact.
  LinkageErrorCounts linkage_error;
  // Whether the bootstrap runs for an estimate already marked unreliable (the fit or the
  // heterogeneity test): true shows its interval next to its numbers (`aggregator estimate`,
  // the simulation studies); false leaves it out (`interval_note` says why), for a caller
  // that never publishes an unreliable estimate and need not wait for its interval.
  bool interval_when_unreliable = true;
  // Heterogeneity in the interval (a chosen model, without model averaging): the bootstrap
  // replicates are estimated a second time with a heterogeneity term (`FitHeterogeneityTerm`)
  // added to the model chosen in that replicate, its coefficient kept at or above zero, and
  // the interval shown runs from the lower of the two intervals' lower limits to the higher
  // of their upper limits (`EstimateResult::heterogeneity_interval`). False: the log-linear
  // interval alone (as the reference R packages give it).
  bool heterogeneity_interval = true;
  // The terms tried for it, in order (the first that can be fitted on the observed table).
  std::vector<HeterogeneityTerm> heterogeneity_interval_terms = {HeterogeneityTerm::kGamma35};
};

// Deviance of the chosen model against its kept cells, on cells - parameters degrees of
// freedom; `p_value` is the chi-square upper tail (NaN when df is 0: not testable).
struct GoodnessOfFit {
  double deviance = 0;
  int df = 0;
  double p_value = 0;
};

// A test of heterogeneous catchability (persons who differ in how visible they are) beyond
// the chosen model. Heterogeneity makes every pair of lists positively dependent, by the same
// amount for all pairs, and log-linear estimates too low. The test adds to the chosen model
// one term tau * f(|h|) in the number of lists |h| a person is on: f = |h|^2 / 2 (Mth
// Darroch: a common interaction of every pair, Darroch, Fienberg, Glonek & Junker 1993), or,
// when the chosen model already holds every pair, f = 2^|h| - 1 (Mth Poisson2, Rivest &
// Baillargeon 2007). Fitted on the chosen model's kept cells, the likelihood ratio LR against
// the chosen model gives the one-sided p-value 1 - Phi(sign(tau) sqrt(LR)) (the signed root
// of the likelihood ratio; only tau > 0, more overlap than the chosen model expects, is
// heterogeneity). In the simulation study the test's level is about nominal where the
// candidate models hold, and its power is limited: heterogeneity can bias the estimate by a
// fifth while leaving little trace in the observed table (README.md).
struct HeterogeneityCheck {
  std::string term;   // the added term: "Mth Darroch" or "Mth Poisson2"
  std::string model;  // the chosen model with it, e.g. "[12,3] + Mth Darroch"
  double n_hat = 0;   // estimate of the model with the term
  double bic = 0;     // its BIC (one parameter more than the chosen model)
  double tau = 0;
  double lr = 0;      // 2 (log-likelihood with the term - without), >= 0
  double p_value = 1;
  // p_value < kHeterogeneityAlpha: the estimate is marked unreliable.
  bool flagged = false;
};

// Level of the heterogeneity test; chosen by the simulation study in README.md.
inline constexpr double kHeterogeneityAlpha = 0.05;

// A log-linear model refitted with one heterogeneity term tau * f(|h|) (see
// `HeterogeneityCheck`): Mth Darroch, or Mth Poisson2 when Darroch's term is not identifiable
// with the model (every pair in it).
struct HeterogeneityFit {
  std::string term;  // "Mth Darroch" or "Mth Poisson2"
  double n_hat = 0;
  double tau = 0;
  double log_likelihood = 0;  // full Poisson log-likelihood over the model's kept cells
};

// Fits `chosen`'s model (a fit of `table`) with the first of `terms` that can be used, on its
// kept cells.
// Before fitting, the design with the term is checked as the candidate models are
// (existence.h: the maximum likelihood estimate exists and the design has full rank); a term
// that fails, or has no finite estimate, is not used. `FailedPrecondition` with the reason
// when neither term can be used (for example a chosen model with as many parameters as cells
// and an empty cell: the model with a term then has its maximum at infinity).
absl::StatusOr<HeterogeneityFit> FitHeterogeneityTerm(
    const CaptureTable& table, const ModelFit& chosen,
    std::vector<HeterogeneityTerm> terms = {HeterogeneityTerm::kDarroch,
                                            HeterogeneityTerm::kPoisson2});

// Runs the heterogeneity test of `HeterogeneityCheck` against `chosen`, a fit of `table`.
// `FailedPrecondition` when the model with the term cannot be fitted (rank deficient, or no
// finite maximum).
absl::StatusOr<HeterogeneityCheck> TestHeterogeneity(const CaptureTable& table,
                                                     const ModelFit& chosen);

struct FittedCell {
  Mask history = 0;
  int64_t observed = 0;
  double fitted = 0;
};

struct ModelSummary {
  std::string model;
  double n_hat = 0;
  double bic = 0;
};

// One model of the average, with its normalised BIC weight.
struct AveragedModel {
  std::string model;
  double n_hat = 0;
  double bic = 0;
  double weight = 0;
};

struct ExcludedModel {
  std::string model;
  std::string reason;
};

struct EstimateResult {
  int num_lists = 0;
  int64_t observed = 0;
  SelectionMethod method = SelectionMethod::kBic;  // the one used: kBic or kStepwise
  bool method_automatic = false;                   // chosen by kAuto
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
  // Model averaging: `estimate` is the BIC-weighted average of these models' N-hats;
  // `model`, `bic`, the goodness of fit and the profile interval stay those of the
  // minimum-BIC model.
  bool model_averaging = false;
  double averaging_window = 0;
  std::vector<AveragedModel> averaged_models;
  LinkageErrorCounts linkage_error;  // as given in the options
  bool fixed_model = false;                  // the model was given, not chosen
  std::optional<GoodnessOfFit> goodness_of_fit;
  std::optional<HeterogeneityCheck> heterogeneity;
  // Why the heterogeneity test could not be run (empty when it ran).
  std::string heterogeneity_note;
  // The chosen model's coefficients ("(Intercept)", then terms such as "1", "12") and
  // fitted values of the observable cells (cells of terms at minus infinity fitted as 0).
  std::vector<std::pair<std::string, double>> coefficients;
  std::vector<FittedCell> fitted_cells;

  // Bootstrap interval (percentile or BCa). With `EstimateOptions::heterogeneity_interval`,
  // `lower` and `upper` span it and `heterogeneity_interval`; the other limits
  // (`percentile_*`, `bca_*`, `replicate_*`) and the replicate figures stay the log-linear
  // replicates'.
  std::optional<BcaResult> interval;
  // The same replicates estimated with a heterogeneity term added to the model chosen in each
  // (coefficient at least 0): its limits of the same method, and its term on the observed
  // table. Unset when not computed (`heterogeneity_interval_note` says why).
  std::optional<BcaResult> heterogeneity_interval;
  std::string heterogeneity_interval_term;
  double heterogeneity_interval_estimate = 0;  // on the observed table (tau at least 0)
  std::string heterogeneity_interval_note;
  std::string interval_note;          // why there is no bootstrap interval
  // What the bootstrap interval takes into account and what not, in one plain sentence.
  std::string interval_description;
  // An interval end at the smallest or largest replicate, or beyond the replicates' median:
  // one sentence each (also among the caveats).
  std::vector<std::string> interval_warnings;
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
// N-hat of the one with the smallest BIC; nullopt if none passes. With
// `averaging_window` > 0: the BIC-weighted average N-hat of the models within that
// window of the smallest BIC on that table (see `EstimateOptions::model_averaging`).
// The returned function owns a `ModelCheckCache` and is not thread-safe.
// Records the model an estimator chose on each table it saw (keyed by the table's counts), so
// that a second pass over the same tables can add a term to the same choice without choosing
// again. Thread-safe.
class ModelChoiceMemo {
 public:
  void Record(const CaptureTable& table, const HierarchicalModel& model);
  std::optional<HierarchicalModel> Find(const CaptureTable& table) const;

 private:
  mutable std::mutex mu_;
  std::map<std::vector<int64_t>, HierarchicalModel> chosen_;
};

// `memo`, if given, records the minimum-BIC model of every table.
PopulationEstimator MakeBicEstimator(
    std::vector<std::pair<HierarchicalModel, std::vector<double>>> models,
    double averaging_window = 0, std::shared_ptr<ModelChoiceMemo> memo = nullptr);

// BIC weights: the models (n_hat, bic) within `window` of the smallest BIC, weights
// proportional to exp(-(BIC - min BIC) / 2) and summing to 1 (0 for the others).
std::vector<double> BicWeights(const std::vector<std::pair<double, double>>& n_hat_bic,
                               double window);
// Stepwise: reruns `StepwiseSelect` with `p_threshold`; nullopt if even the
// main-effects model fails the tests. Not thread-safe.
PopulationEstimator MakeStepwiseEstimator(double p_threshold,
                                          std::shared_ptr<ModelChoiceMemo> memo = nullptr);
// The model chosen on each table (looked up in `memo`; on a table it does not hold, `choose`
// runs first, which must record in `memo`) refitted with a heterogeneity term
// (`FitHeterogeneityTerm`) whose coefficient is kept at or above zero: the term's N-hat when
// its tau is positive, else (or when no term can be used) the chosen model's own.
PopulationEstimator MakeHeterogeneityEstimator(std::shared_ptr<ModelChoiceMemo> memo,
                                               PopulationEstimator choose,
                                               std::vector<HeterogeneityTerm> terms);
// One given model: its N-hat, nullopt if it fails the tests on that table. Not thread-safe.
PopulationEstimator MakeFixedModelEstimator(HierarchicalModel model);

const char* SelectionMethodName(SelectionMethod m);  // "bic", "stepwise", "auto"

// One sentence for each end of `interval` that is not well determined: an end equal to the
// smallest or largest usable replicate, an upper limit below the replicates' median or a lower
// limit above it. The ends judged are those taken from the replicates (`replicate_lower`,
// `replicate_upper`: before the widening for linkage error, bootstrap.h). An end beyond the
// median is put down to the bias correction only for BCa limits (`interval.method`); the
// percentile limits make none. `Estimate` puts these in `interval_warnings` and among the
// caveats.
std::vector<std::string> IntervalWarnings(const BcaResult& interval);

// Publication rule for dashboards and reports: an interval whose upper limit is more than this
// many times its lower limit does not tell whether the hidden number is small or large.
inline constexpr double kInformativeMaxRatio = 4.0;

// Empty when `r` may be published: reliable, with an interval (the bootstrap interval, else
// profile) whose ends are finite and positive, upper <= kInformativeMaxRatio * lower, and no
// bootstrap interval end beyond the median of the bootstrap estimates (judged as in
// `IntervalWarnings`). Otherwise one plain
// sentence saying why not (aggregator/present/insight_format.h recognises its wording for a
// Dutch page: keep the two in step).
std::string WhyNotPublishable(const EstimateResult& r);

// Runs model selection, the point estimate and the intervals.
absl::StatusOr<EstimateResult> Estimate(const CaptureTable& table,
                                        const EstimateOptions& options);

}  // namespace samenzicht::estimate

#endif  // SAMENZICHT_ESTIMATE_ESTIMATE_H_
