#include "estimate/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <thread>
#include <utility>

#include <glpk.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "estimate/distributions.h"
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

namespace {

int PopCount(size_t h) { return __builtin_popcountll(static_cast<unsigned long long>(h)); }

// The history of the `index`-th person (0-based) among those in cells where `eligible`.
template <typename Eligible>
size_t PickPerson(const std::vector<int64_t>& counts, int64_t index, Eligible eligible) {
  for (size_t h = 1; h < counts.size(); ++h) {
    if (!eligible(h) || counts[h] <= 0) continue;
    if (index < counts[h]) return h;
    index -= counts[h];
  }
  return 0;
}

}  // namespace

void PerturbForLinkage(std::vector<int64_t>& counts, double missed_links, double false_links,
                       std::mt19937_64& rng) {
  if (missed_links > 0) {
    const int64_t splits = std::poisson_distribution<int64_t>(missed_links)(rng);
    for (int64_t s = 0; s < splits; ++s) {
      int64_t eligible = 0;
      for (size_t h = 1; h < counts.size(); ++h) eligible += PopCount(h) >= 2 ? counts[h] : 0;
      if (eligible == 0) break;
      const size_t h = PickPerson(
          counts, std::uniform_int_distribution<int64_t>(0, eligible - 1)(rng),
          [](size_t g) { return PopCount(g) >= 2; });
      // One of its lists, at random, becomes a person of its own.
      int bit = std::uniform_int_distribution<int>(0, PopCount(h) - 1)(rng);
      size_t part = 0;
      for (size_t b = 0; b < 64; ++b) {
        if ((h >> b & 1u) != 0 && bit-- == 0) {
          part = size_t{1} << b;
          break;
        }
      }
      counts[h] -= 1;
      counts[part] += 1;
      counts[h ^ part] += 1;
    }
  }
  if (false_links > 0) {
    const int64_t merges = std::poisson_distribution<int64_t>(false_links)(rng);
    for (int64_t m = 0; m < merges; ++m) {
      int64_t total = 0;
      for (size_t h = 1; h < counts.size(); ++h) total += counts[h];
      if (total < 2) break;
      const size_t a = PickPerson(counts, std::uniform_int_distribution<int64_t>(0, total - 1)(rng),
                                  [](size_t) { return true; });
      auto disjoint = [a](size_t g) { return (g & a) == 0; };
      int64_t partners = 0;
      for (size_t h = 1; h < counts.size(); ++h) partners += disjoint(h) ? counts[h] : 0;
      if (partners == 0) continue;  // a person on every list has no one to be merged with
      const size_t b = PickPerson(
          counts, std::uniform_int_distribution<int64_t>(0, partners - 1)(rng), disjoint);
      counts[a] -= 1;
      counts[b] -= 1;
      counts[a | b] += 1;
    }
  }
}

const char* ResamplingName(Resampling r) {
  return r == Resampling::kParametric ? "parametric" : "multinomial";
}

const char* IntervalMethodName(IntervalMethod m) {
  return m == IntervalMethod::kBca ? "bca" : "percentile";
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
  if (!(options.missed_links >= 0) || !(options.false_links >= 0) ||
      !std::isfinite(options.missed_links) || !std::isfinite(options.false_links)) {
    return absl::InvalidArgumentError(
        "linkage error: the expected numbers of missed and false links must be finite and "
        "non-negative");
  }
  const bool linkage = options.missed_links > 0 || options.false_links > 0;
  const size_t reps = resamples.size();
  if (linkage) {
    // A stream of its own, so the resampled persons are those of the run without error; the
    // perturbed copies are estimated after the replicates themselves.
    std::mt19937_64 rng(options.seed ^ 0x9e3779b97f4a7c15ULL);
    for (size_t r = 0; r < reps; ++r) {
      std::vector<int64_t> perturbed = resamples[r];
      PerturbForLinkage(perturbed, options.missed_links, options.false_links, rng);
      resamples.push_back(std::move(perturbed));
    }
  }
  BcaResult result;
  result.level = options.level;
  result.resampling = options.resampling;
  const EstimatorFactory* factory = options.make_estimator ? &options.make_estimator : nullptr;
  ASSIGN_OR_RETURN(result.acceleration,
                   Acceleration(table, &estimator, factory, options.threads));
  std::vector<EstimateOrError> results =
      EvaluateAll(table, std::move(resamples), &estimator, factory, options.threads);
  for (const EstimateOrError& e : results) {
    if (!e.ok()) return e.status();
  }
  auto usable = [&](size_t i) { return results[i]->has_value() && std::isfinite(**results[i]); };
  std::vector<double> estimates;
  double shift = 0;
  if (linkage) {
    // Pairs where both the replicate and its perturbed copy have a usable model.
    std::vector<std::pair<double, double>> pairs;  // (estimate, effect of linkage error)
    for (size_t r = 0; r < reps; ++r) {
      if (usable(r) && usable(reps + r)) {
        pairs.emplace_back(**results[r], **results[reps + r] - **results[r]);
      } else {
        ++result.failed_replicates;
      }
    }
    for (const auto& p : pairs) shift += p.second;
    if (!pairs.empty()) shift /= static_cast<double>(pairs.size());
    for (const auto& [e, d] : pairs) estimates.push_back(e - (d - shift));
    result.linkage_shift = shift;
    result.linkage_replicates = static_cast<int>(pairs.size());
  } else {
    for (size_t r = 0; r < reps; ++r) {
      if (usable(r)) {
        estimates.push_back(**results[r]);
      } else {
        ++result.failed_replicates;
      }
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
  // Never below the persons that remain seen once the missed links are undone.
  const double floor =
      linkage ? static_cast<double>(table.observed()) - options.missed_links : -INFINITY;
  result.bca_lower = std::max(limits[0] - std::max(shift, 0.0), floor);
  result.bca_upper = limits[1] + std::max(-shift, 0.0);
  double below = 0;
  for (double e : estimates) below += e < point_estimate ? 1 : 0;
  const double b = static_cast<double>(estimates.size());
  result.bias_correction = NormalQuantile(std::clamp(below / b, 0.5 / b, 1.0 - 0.5 / b));
  std::sort(estimates.begin(), estimates.end());
  const double percentile_low = QuantileType8(estimates, tail);
  const double percentile_high = QuantileType8(estimates, 1.0 - tail);
  result.percentile_lower = std::max(percentile_low - std::max(shift, 0.0), floor);
  result.percentile_upper = percentile_high + std::max(-shift, 0.0);
  result.method = options.method;
  result.replicate_lower = options.method == IntervalMethod::kBca ? limits[0] : percentile_low;
  result.replicate_upper = options.method == IntervalMethod::kBca ? limits[1] : percentile_high;
  result.lower = options.method == IntervalMethod::kBca ? result.bca_lower : result.percentile_lower;
  result.upper = options.method == IntervalMethod::kBca ? result.bca_upper : result.percentile_upper;
  result.min_replicate = estimates.front();
  result.max_replicate = estimates.back();
  result.median_replicate = QuantileType8(estimates, 0.5);
  return result;
}

}  // namespace samenzicht::estimate
