// Small numerical helpers for the estimate module: normal and Poisson
// distribution functions and the sample quantile used by the BCa interval.
// All are pure functions, safe to call from any thread.
#ifndef SAMENZICHT_ESTIMATE_DISTRIBUTIONS_H_
#define SAMENZICHT_ESTIMATE_DISTRIBUTIONS_H_

#include <cstdint>
#include <vector>

namespace samenzicht::estimate {

// Standard normal distribution function, accurate in both tails.
double NormalCdf(double x);

// Inverse of `NormalCdf` for `p` in (0, 1); returns -inf/+inf for p <= 0 or
// p >= 1. Solved by bisection and Newton on `NormalCdf` (about 1e-15).
double NormalQuantile(double p);

// P(X <= k) and P(X >= k) for X ~ Poisson(`mean`), each summed directly so
// that small tails keep their relative precision. `k` may be negative
// (then the lower tail is 0 and the upper tail 1).
double PoissonLowerTail(int64_t k, double mean);
double PoissonUpperTail(int64_t k, double mean);

// P(X >= x) for X ~ chi-square with `df` > 0 degrees of freedom (regularised upper
// incomplete gamma function, relative precision about 1e-14); NaN for df <= 0.
double ChiSquareUpperTail(double x, double df);

// Sample quantile of type 8 in Hyndman & Fan (1996), the default of R's
// `quantile(type = 8)` used by the reference BCa code. `sorted` must be
// non-empty and sorted ascending; `p` is clamped to [0, 1].
double QuantileType8(const std::vector<double>& sorted, double p);

}  // namespace samenzicht::estimate

#endif  // SAMENZICHT_ESTIMATE_DISTRIBUTIONS_H_
