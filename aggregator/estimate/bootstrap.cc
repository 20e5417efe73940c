#include "aggregator/estimate/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <thread>
#include <utility>

#include <glpk.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "aggregator/estimate/distributions.h"
#include "common/status_macros.h"

namespace samenzicht::estimate {

namespace {

using EstimateOrError = absl::StatusOr<std::optional<double>>;

// Applies an estimator to every count vector, over `threads` workers (each with its own
// estimator from `factory`) or, without a factory, on this thread with `estimator`. The
// results are in input order. A count vector that is no valid table gives nullopt.
std::vector<EstimateOrError> EvaluateAll(const CaptureTable& table,
                                         std::vector<std::vector<int64_t>> counts,
                                         const PopulationEstimator* estimator,
                                         const EstimatorFactory* factory, int threads) {
  std::vector<EstimateOrError> out(counts.size(), std::optional<double>());
  auto work = [&](const PopulationEstimator& e, size_t first, size_t step) {
    for (size_t i = first; i < counts.size(); i += step) {
      absl::StatusOr<CaptureTable> t =
          CaptureTable::FromCounts(table.num_lists(), std::move(counts[i]), table.list_names());
      if (!t.ok()) continue;  // e.g. a draw that sees no one: no usable model
      out[i] = e(*t);
    }
  };
  if (factory == nullptr || !*factory || threads <= 1) {
    PopulationEstimator own;
    if (estimator == nullptr || !*estimator) own = (*factory)();
    work(estimator != nullptr && *estimator ? *estimator : own, 0, 1);
    return out;
  }
  std::vector<std::thread> pool;
  for (int w = 0; w < threads; ++w) {
    pool.emplace_back([&, w] {
      PopulationEstimator e = (*factory)();
      work(e, static_cast<size_t>(w), static_cast<size_t>(threads));
      glp_free_env();  // GLPK keeps one environment per thread
    });
  }
  for (std::thread& t : pool) t.join();
  return out;
}

absl::StatusOr<double> Acceleration(const CaptureTable& table,
                                    const PopulationEstimator* estimator,
                                    const EstimatorFactory* factory, int threads) {
  const std::vector<int64_t>& counts = table.counts();
  std::vector<std::vector<int64_t>> reduced_tables;
  std::vector<size_t> cells;
  for (size_t h = 1; h < counts.size(); ++h) {
    if (counts[h] == 0) continue;
    std::vector<int64_t> reduced = counts;
    reduced[h] -= 1;
    int64_t left = 0;
    for (int64_t c : reduced) left += c;
    if (left == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("jackknife: no person is left once one person of history ", h,
                       " is left out"));
    }
    reduced_tables.push_back(std::move(reduced));
    cells.push_back(h);
  }
  std::vector<EstimateOrError> results =
      EvaluateAll(table, std::move(reduced_tables), estimator, factory, threads);
  std::vector<double> jack(counts.size(), 0.0);
  double n = 0, weighted = 0;
  for (size_t i = 0; i < cells.size(); ++i) {
    const size_t h = cells[i];
    if (!results[i].ok()) return results[i].status();
    const std::optional<double>& e = *results[i];
    if (!e.has_value() || !std::isfinite(*e)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "jackknife: no usable model once one person of history ", h, " is left out"));
    }
    jack[h] = *e;
    n += static_cast<double>(counts[h]);
    weighted += static_cast<double>(counts[h]) * *e;
  }
  const double mean = weighted / n;
  double s2 = 0, s3 = 0;
  for (size_t h = 1; h < counts.size(); ++h) {
    if (counts[h] == 0) continue;
    const double d = mean - jack[h];
    s2 += static_cast<double>(counts[h]) * d * d;
    s3 += static_cast<double>(counts[h]) * d * d * d;
  }
  if (!(s2 > 0)) return 0.0;
  return s3 / (6.0 * std::pow(s2, 1.5));
}

}  // namespace

absl::StatusOr<double> JackknifeAcceleration(const CaptureTable& table,
                                             const PopulationEstimator& estimator) {
  return Acceleration(table, &estimator, nullptr, 1);
}

absl::StatusOr<double> JackknifeAcceleration(const CaptureTable& table,
                                             const EstimatorFactory& factory, int threads) {
  return Acceleration(table, nullptr, &factory, threads);
}

namespace {

// Sequential binomial draws of `total` persons over cells with the given weights.
std::vector<std::vector<int64_t>> DrawMultinomial(const std::vector<double>& weights,
                                                  int64_t total, int replicates, uint64_t seed) {
  std::mt19937_64 rng(seed);
  double sum = 0;
  for (double w : weights) sum += w;
  std::vector<std::vector<int64_t>> out;
  out.reserve(std::max(replicates, 0));
  for (int r = 0; r < replicates; ++r) {
    std::vector<int64_t> draw(weights.size(), 0);
    int64_t remaining = total;
    double remaining_weight = sum;
    for (size_t h = 0; h < weights.size() && remaining > 0; ++h) {
      if (weights[h] == 0) continue;
      const double p = std::min(1.0, weights[h] / remaining_weight);
      std::binomial_distribution<int64_t> binomial(remaining, p);
      draw[h] = p >= 1.0 ? remaining : binomial(rng);
      remaining -= draw[h];
      remaining_weight -= weights[h];
    }
    out.push_back(std::move(draw));
  }
  return out;
}

}  // namespace

std::vector<std::vector<int64_t>> MultinomialResamples(const CaptureTable& table, int replicates,
                                                       uint64_t seed) {
  // counts[0] is 0, so the draws are those of the observed cells only.
  std::vector<double> weights(table.counts().begin(), table.counts().end());
  return DrawMultinomial(weights, table.observed(), replicates, seed);
}

std::vector<std::vector<int64_t>> ParametricResamples(const std::vector<double>& expected,
                                                      int64_t persons, int replicates,
                                                      uint64_t seed) {
  std::vector<std::vector<int64_t>> out = DrawMultinomial(expected, persons, replicates, seed);
  for (auto& draw : out) {
    if (!draw.empty()) draw[0] = 0;  // the unseen are not in the table
  }
  return out;
}

const char* ResamplingName(Resampling r) {
  return r == Resampling::kParametric ? "parametric" : "multinomial";
}

std::vector<double> BcaLimits(std::vector<double> estimates, double point_estimate,
                              double acceleration, const std::vector<double>& alphas) {
  std::sort(estimates.begin(), estimates.end());
  const double b = static_cast<double>(estimates.size());
  double below = 0;
  for (double e : estimates) below += e < point_estimate ? 1 : 0;
  const double share = std::clamp(below / b, 0.5 / b, 1.0 - 0.5 / b);
  const double z0 = NormalQuantile(share);
  std::vector<double> limits;
  for (double alpha : alphas) {
    const double za0 = NormalQuantile(alpha) + z0;
    const double q = NormalCdf(z0 + za0 / (1.0 - acceleration * za0));
    limits.push_back(QuantileType8(estimates, q));
  }
  return limits;
}

absl::StatusOr<BcaResult> BcaBootstrap(const CaptureTable& table, double point_estimate,
                                       const PopulationEstimator& estimator,
                                       const BcaOptions& options) {
  if (options.replicates < 10) {
    return absl::InvalidArgumentError(
        absl::StrCat("need at least 10 bootstrap replicates, got ", options.replicates));
  }
  if (!(options.level > 0 && options.level < 1)) {
    return absl::InvalidArgumentError(absl::StrCat("level must be in (0, 1), got ", options.level));
  }
  std::vector<std::vector<int64_t>> resamples;
  if (options.resampling == Resampling::kParametric) {
    double sum = 0;
    for (double m : options.expected) sum += m;
    if (options.expected.size() != table.counts().size() || !std::isfinite(sum) || !(sum > 0)) {
      return absl::InvalidArgumentError(
          "parametric bootstrap: the fitted means must cover every history and sum to a "
          "positive finite number");
    }
    resamples = ParametricResamples(options.expected, std::llround(sum), options.replicates,
                                    options.seed);
  } else {
    resamples = MultinomialResamples(table, options.replicates, options.seed);
  }
  BcaResult result;
  result.level = options.level;
  result.resampling = options.resampling;
  const EstimatorFactory* factory = options.make_estimator ? &options.make_estimator : nullptr;
  ASSIGN_OR_RETURN(result.acceleration,
                   Acceleration(table, &estimator, factory, options.threads));
  std::vector<EstimateOrError> results =
      EvaluateAll(table, std::move(resamples), &estimator, factory, options.threads);
  std::vector<double> estimates;
  for (const EstimateOrError& e : results) {
    if (!e.ok()) return e.status();
    if (e->has_value() && std::isfinite(**e)) {
      estimates.push_back(**e);
    } else {
      ++result.failed_replicates;
    }
  }
  result.replicates = static_cast<int>(estimates.size());
  if (result.replicates * 2 < options.replicates) {
    return absl::FailedPreconditionError(
        absl::StrCat("only ", result.replicates, " of ", options.replicates,
                     " bootstrap replicates gave a usable model"));
  }
  const double tail = (1.0 - options.level) / 2.0;
  std::vector<double> limits =
      BcaLimits(estimates, point_estimate, result.acceleration, {tail, 1.0 - tail});
  result.lower = limits[0];
  result.upper = limits[1];
  double below = 0;
  for (double e : estimates) below += e < point_estimate ? 1 : 0;
  const double b = static_cast<double>(estimates.size());
  result.bias_correction = NormalQuantile(std::clamp(below / b, 0.5 / b, 1.0 - 0.5 / b));
  std::sort(estimates.begin(), estimates.end());
  result.min_replicate = estimates.front();
  result.max_replicate = estimates.back();
  result.median_replicate = QuantileType8(estimates, 0.5);
  return result;
}

}  // namespace samenzicht::estimate
