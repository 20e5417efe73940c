// Bias-corrected and accelerated (BCa) bootstrap intervals for the
// population size, with the model choice redone in every replicate.
//
// As in Chan, Silverman & Vincent (2021) and Silverman, Chan & Vincent
// (2024) (SparseMSE `estimatepopulation`, MultipleSystemsEstimation
// `bootstrapcal` / `jackknifecal` / `bcaconfvalues`):
//
//  * replicates: the observed persons are resampled, i.e. the cell counts
//    are drawn from Multinomial(n, counts / n), and the full estimator
//    (model selection included) is applied to each replicate;
//  * acceleration: delete-one jackknife over persons, computed once per
//    non-empty cell (every person in a cell gives the same estimate) and
//    weighted by the cell count:
//        d_h = mean - est_{-h},  mean = sum c_h est_{-h} / n,
//        a = sum c_h d_h^3 / (6 (sum c_h d_h^2)^{3/2});
//  * bias correction z0 = Phi^{-1}(share of replicates below the estimate);
//    the limit for level alpha is the type-8 quantile of the replicates at
//    Phi(z0 + (z0 + z_alpha) / (1 - a (z0 + z_alpha))).
//
// Resampling the observed persons is the default of `Estimate` (coverage table in README.md).
// Optionally (`Resampling::kParametric`), the replicates are drawn from the fitted model
// instead, as in Buckland & Garthwaite (1991) and the Dutch MSE studies that follow them
// (e.g. Cruyff, van Dijk & van der Heijden 2017): N-hat persons (rounded), each in history h
// with probability mu_h / N-hat, mu_0 the fitted dark figure; the unseen are dropped and
// the full estimator (model selection included) runs on the rest. It is narrower, but it
// cannot see models the data could equally have chosen, and under-covers when the chosen
// model is wrong (README, simulation study). The jackknife acceleration is the same.
//
// Linkage error (`BcaOptions::missed_links`, `false_links`): each replicate table is also
// estimated once more after simulated linkage errors at the estimated rates
// (`PerturbForLinkage`); d_r = estimate(perturbed) - estimate(replicate) is what linkage
// errors of that size do to the estimate, and their mean D is their expected bias. The
// observed table already carries such errors, so the estimate may be off by about D, in
// either amount between none and the estimated rate. The interval therefore:
//  * takes as replicates estimate(replicate) - (d_r - D): the spread that the errors add,
//    without shifting the replicates (a shift would move the BCa bias correction z0 to its
//    clamp and collapse the interval);
//  * then moves the end on the side of the correction by |D|: the lower end down by D when
//    D > 0 (missed links inflate the estimate), the upper end up by -D when D < 0 (false
//    merges deflate it), so that it covers the estimates both with the errors as estimated
//    undone and with no errors at all.
// The point estimate is not corrected (the linkage's own count of missed links ranges from
// about a sixth of the truth to half as much again, README.md, so subtracting it would
// over-correct in some tables and leave most of the error in others). This is our own
// construction; published corrections for linkage error in capture-recapture (e.g.
// Di Consiglio & Tuoto 2018; Zult, de Wolf, Bakker & van der Heijden 2021) adjust the cell
// counts by estimated error probabilities instead. With no error the replicates, and so the
// interval, are exactly those without it.
//
// Replicates for which the estimator finds no usable model are left out
// (and counted). The random stream is std::mt19937_64 seeded with `seed`,
// so a run is reproducible with the same seed and standard library.
#ifndef SAMENZICHT_ESTIMATE_BOOTSTRAP_H_
#define SAMENZICHT_ESTIMATE_BOOTSTRAP_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <vector>

#include "absl/status/statusor.h"
#include "estimate/capture_table.h"

namespace samenzicht::estimate {

// A population-size estimator applied to (re-sampled) tables. Returns
// nullopt when no model can be fitted to that table, an error only for an
// internal failure.
using PopulationEstimator =
    std::function<absl::StatusOr<std::optional<double>>(const CaptureTable&)>;
// Makes a fresh estimator (with its own caches), one per worker thread.
using EstimatorFactory = std::function<PopulationEstimator()>;

// The jackknife acceleration described above. `FailedPrecondition` if the
// estimator gives no value for some delete-one table. 0 if all delete-one
// estimates are equal.
absl::StatusOr<double> JackknifeAcceleration(const CaptureTable& table,
                                             const PopulationEstimator& estimator);
// The same with the delete-one tables shared out over `threads` workers, each with its own
// estimator from `factory`; the result does not depend on the number of threads.
absl::StatusOr<double> JackknifeAcceleration(const CaptureTable& table,
                                             const EstimatorFactory& factory, int threads);

// `replicates` count vectors (indexed by history) drawn from the
// multinomial of the observed persons.
std::vector<std::vector<int64_t>> MultinomialResamples(const CaptureTable& table, int replicates,
                                                       uint64_t seed);

// `replicates` count vectors of `persons` persons drawn from the multinomial with cell
// probabilities proportional to `expected` (indexed by history, [0] the unseen), with
// history 0 set to 0 afterwards.
std::vector<std::vector<int64_t>> ParametricResamples(const std::vector<double>& expected,
                                                      int64_t persons, int replicates,
                                                      uint64_t seed);

enum class Resampling { kMultinomial, kParametric };
const char* ResamplingName(Resampling r);  // "multinomial", "parametric"

// Which limits of the replicates make the interval: the BCa limits (bias-corrected and
// accelerated, as the reference R packages), or the plain percentiles (the replicates'
// 2.5% and 97.5% quantiles for a 95% interval). Both are always computed (`BcaResult`);
// this chooses `lower` and `upper`. See README.md for the coverage table behind the default.
enum class IntervalMethod { kPercentile, kBca };
const char* IntervalMethodName(IntervalMethod m);  // "percentile", "bca"

// BCa limits from bootstrap estimates (any order), for cumulative levels
// `alphas`. The share of replicates below the estimate is kept inside
// [1/(2B), 1 - 1/(2B)] so that z0 stays finite. `estimates` must not be empty.
std::vector<double> BcaLimits(std::vector<double> estimates, double point_estimate,
                              double acceleration, const std::vector<double>& alphas);

struct BcaOptions {
  int replicates = 1000;
  uint64_t seed = 1234;
  double level = 0.95;
  Resampling resampling = Resampling::kMultinomial;
  // kParametric: fitted means of the chosen model by history, [0] the dark figure.
  std::vector<double> expected;
  // With a factory, the jackknife and the replicates are shared out over `threads` worker
  // threads, each with its own estimator (the `estimator` argument is then unused). The
  // replicates are drawn before they are shared out, so the result is the same for any
  // number of threads.
  EstimatorFactory make_estimator;
  int threads = 1;
  // Linkage error propagated into the interval: expected numbers of missed links and of
  // false links among the table's persons (see `PerturbForLinkage`). Both 0: the
  // replicates are exactly those without linkage error.
  double missed_links = 0;
  double false_links = 0;
  // Which limits become `BcaResult::lower` and `upper`.
  IntervalMethod method = IntervalMethod::kBca;
};

// Applies simulated linkage errors to one table of counts by history ([0] unused): a
// Poisson(`missed_links`) number of persons seen on two or more lists, each split in two
// (one of its lists, chosen at random, becomes a person of its own), then a
// Poisson(`false_links`) number of pairs of persons on disjoint lists, each merged into
// one. Persons are chosen uniformly among those that qualify; an error with no qualifying
// person is skipped.
void PerturbForLinkage(std::vector<int64_t>& counts, double missed_links, double false_links,
                       std::mt19937_64& rng);

struct BcaResult {
  // The interval of `method` (extended for linkage error as described above).
  double lower = 0;
  double upper = 0;
  IntervalMethod method = IntervalMethod::kBca;
  // Both intervals of the same replicates (extended for linkage error in the same way).
  double bca_lower = 0;
  double bca_upper = 0;
  double level = 0.95;
  double acceleration = 0;
  double bias_correction = 0;  // z0
  int replicates = 0;          // usable replicates
  int failed_replicates = 0;   // replicates with no usable model
  Resampling resampling = Resampling::kMultinomial;
  // The usable replicates' smallest, median and largest estimate: a limit equal to the
  // smallest or largest replicate, or an upper limit below the median (a lower one above
  // it), means the interval end is not well determined.
  double min_replicate = 0;
  double median_replicate = 0;
  double max_replicate = 0;
  // The ends of `method`'s interval as taken from the replicates, before the widening for
  // linkage error and the floor of the persons seen (equal to lower and upper without
  // linkage error): the ends to judge against the replicates.
  double replicate_lower = 0;
  double replicate_upper = 0;
  // With linkage error: D above (mean change of the estimate by simulated linkage errors),
  // and the number of replicates used for it.
  double linkage_shift = 0;
  int linkage_replicates = 0;
  double percentile_lower = 0;
  double percentile_upper = 0;
};

// Runs the bootstrap and jackknife. `InvalidArgument` for fewer than 10
// replicates, a level outside (0, 1) or (kParametric) `expected` not of size 2^K
// with a positive finite sum; `FailedPrecondition` if the
// jackknife fails or fewer than half the replicates are usable.
absl::StatusOr<BcaResult> BcaBootstrap(const CaptureTable& table, double point_estimate,
                                       const PopulationEstimator& estimator,
                                       const BcaOptions& options);

}  // namespace samenzicht::estimate

#endif  // SAMENZICHT_ESTIMATE_BOOTSTRAP_H_
