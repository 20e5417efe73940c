#include "estimate/distributions.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace samenzicht::estimate {
namespace {

double PoissonLogPmf(int64_t i, double mean) {
  if (mean == 0.0) return i == 0 ? 0.0 : -std::numeric_limits<double>::infinity();
  return static_cast<double>(i) * std::log(mean) - mean - std::lgamma(static_cast<double>(i) + 1);
}

}  // namespace

double NormalCdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

double NormalQuantile(double p) {
  if (!(p > 0.0)) return -std::numeric_limits<double>::infinity();
  if (!(p < 1.0)) return std::numeric_limits<double>::infinity();
  // Bracket: NormalCdf(-40) underflows to 0 and NormalCdf(40) rounds to 1.
  double lo = -40.0, hi = 40.0, x = 0.0;
  for (int i = 0; i < 200 && hi - lo > 1e-15 * std::max(1.0, std::fabs(x)); ++i) {
    double f = NormalCdf(x) - p;
    if (f < 0) lo = x; else hi = x;
    double density = std::exp(-0.5 * x * x) / std::sqrt(2.0 * M_PI);
    double next = density > 0 ? x - f / density : 0.5 * (lo + hi);
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (next == x) break;
    x = next;
  }
  return x;
}

double PoissonLowerTail(int64_t k, double mean) {
  if (k < 0) return 0.0;
  if (mean <= 0.0) return 1.0;
  // Sum from the largest term downward in log space.
  double sum = 0.0;
  // Reference term: the largest one in the range, so nothing overflows.
  const double top = PoissonLogPmf(std::min<int64_t>(k, static_cast<int64_t>(mean)), mean);
  for (int64_t i = k; i >= 0; --i) {
    double term = std::exp(PoissonLogPmf(i, mean) - top);
    sum += term;
    if (static_cast<double>(i) < mean && term < 1e-17 * sum) break;
  }
  return std::min(1.0, std::exp(top + std::log(sum)));
}

double PoissonUpperTail(int64_t k, double mean) {
  if (k <= 0) return 1.0;
  if (mean <= 0.0) return 0.0;
  double sum = 0.0;
  const double first = PoissonLogPmf(std::max<int64_t>(k, static_cast<int64_t>(mean)), mean);
  for (int64_t i = k;; ++i) {
    double term = std::exp(PoissonLogPmf(i, mean) - first);
    sum += term;
    if (static_cast<double>(i) > mean && term < 1e-17 * sum) break;
    if (i - k > 10'000'000) break;
  }
  return std::min(1.0, std::exp(first + std::log(sum)));
}

double QuantileType8(const std::vector<double>& sorted, double p) {
  const double n = static_cast<double>(sorted.size());
  p = std::clamp(p, 0.0, 1.0);
  const double h = (n + 1.0 / 3.0) * p + 1.0 / 3.0;  // 1-based position
  if (h <= 1.0) return sorted.front();
  if (h >= n) return sorted.back();
  const double lower = std::floor(h);
  const size_t j = static_cast<size_t>(lower) - 1;
  return sorted[j] + (h - lower) * (sorted[j + 1] - sorted[j]);
}

double ChiSquareUpperTail(double x, double df) {
  if (!(df > 0) || std::isnan(x)) return NAN;
  if (x <= 0) return 1.0;
  if (std::isinf(x)) return 0.0;
  // Regularised upper incomplete gamma Q(a, z) with a = df / 2, z = x / 2: the series for
  // P when z < a + 1, Lentz's continued fraction for Q otherwise (Numerical Recipes 6.2).
  const double a = df / 2, z = x / 2;
  const double log_prefix = a * std::log(z) - z - std::lgamma(a);
  if (z < a + 1) {
    double term = 1.0 / a, sum = term;
    for (int n = 1; n < 10000; ++n) {
      term *= z / (a + n);
      sum += term;
      if (std::fabs(term) < std::fabs(sum) * 1e-16) break;
    }
    return std::max(0.0, 1.0 - sum * std::exp(log_prefix));
  }
  constexpr double kTiny = 1e-300;
  double b = z + 1 - a, c = 1 / kTiny, d = 1 / b, h = d;
  for (int i = 1; i < 10000; ++i) {
    const double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = b + an / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1) < 1e-16) break;
  }
  return std::exp(log_prefix) * h;
}

}  // namespace samenzicht::estimate
