#include "estimate/profile_likelihood.h"

#include <cmath>
#include <limits>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "estimate/distributions.h"
#include "common/status_macros.h"

namespace samenzicht::estimate {
namespace {

// Profile log-likelihood as a function of the dark figure d, with warm
// starts carried between evaluations.
class Profile {
 public:
  Profile(const CaptureTable& table, const HierarchicalModel& model)
      : n_(static_cast<double>(table.observed())) {
    const ModelLayout layout = LayoutFor(table, model);
    rows_ = 1 + static_cast<int>(layout.cells.size());
    cols_ = 1 + static_cast<int>(layout.estimated_terms.size());
    x_.assign(static_cast<size_t>(rows_) * cols_, 0.0);
    y_.assign(rows_, 0.0);
    for (int r = 0; r < rows_; ++r) {
      const Mask h = r == 0 ? 0 : layout.cells[r - 1];
      if (r > 0) y_[r] = static_cast<double>(table.count(h));
      FillDesignRow(layout, h, &x_[static_cast<size_t>(r) * cols_]);
    }
  }

  absl::StatusOr<double> operator()(double d) {
    y_[0] = d;
    const std::vector<double>* start = start_.empty() ? nullptr : &start_;
    ASSIGN_OR_RETURN(GlmFit fit, FitPoissonGlm(x_, rows_, cols_, y_, start));
    start_ = fit.coefficients;
    const double total = n_ + d;
    double l = std::lgamma(total + 1) - std::lgamma(d + 1);
    for (int r = 0; r < rows_; ++r) {
      if (y_[r] > 0) l += y_[r] * std::log(fit.fitted[r] / total);
    }
    return l;
  }

 private:
  double n_;
  int rows_ = 0, cols_ = 0;
  std::vector<double> x_, y_, start_;
};

}  // namespace

absl::StatusOr<ProfileInterval> ProfileLikelihoodInterval(const CaptureTable& table,
                                                          const HierarchicalModel& model,
                                                          double level) {
  if (!(level > 0 && level < 1)) {
    return absl::InvalidArgumentError(absl::StrCat("level must be in (0, 1), got ", level));
  }
  ASSIGN_OR_RETURN(ModelFit poisson_fit, FitModel(table, model));
  const double n = static_cast<double>(table.observed());
  Profile profile(table, model);
  auto at_u = [&](double u) { return profile(std::expm1(u)); };  // u = log(1 + d)

  // Golden-section search for the maximum over u in [0, u_hi].
  double a = 0, b = std::log1p(20.0 * (poisson_fit.dark_figure + n));
  const double g = (std::sqrt(5.0) - 1) / 2;
  double c = b - g * (b - a), e = a + g * (b - a);
  ASSIGN_OR_RETURN(double fc, at_u(c));
  ASSIGN_OR_RETURN(double fe, at_u(e));
  while (b - a > 1e-10) {
    if (fc >= fe) {
      b = e;
      e = c;
      fe = fc;
      c = b - g * (b - a);
      ASSIGN_OR_RETURN(fc, at_u(c));
    } else {
      a = c;
      c = e;
      fc = fe;
      e = a + g * (b - a);
      ASSIGN_OR_RETURN(fe, at_u(e));
    }
  }
  const double u_max = 0.5 * (a + b);
  ASSIGN_OR_RETURN(double l_max, at_u(u_max));
  const double z = NormalQuantile(0.5 + level / 2);
  const double cut = l_max - 0.5 * z * z;

  ProfileInterval out;
  out.level = level;
  out.estimate = n + std::expm1(u_max);

  // Lower limit.
  ASSIGN_OR_RETURN(double l0, at_u(0.0));
  if (l0 >= cut) {
    out.lower = n;
  } else {
    double lo = 0, hi = u_max;
    while (hi - lo > 1e-11 * std::max(1.0, hi)) {
      const double mid = 0.5 * (lo + hi);
      ASSIGN_OR_RETURN(double lm, at_u(mid));
      (lm < cut ? lo : hi) = mid;
    }
    out.lower = n + std::expm1(0.5 * (lo + hi));
  }
  // Upper limit: step out until below the cut-off, then bisect.
  double lo = u_max, hi = u_max + 0.5;
  const double u_limit = std::log1p(1e12);
  while (true) {
    ASSIGN_OR_RETURN(double lh, at_u(hi));
    if (lh < cut) break;
    lo = hi;
    hi += 1.0;
    if (hi > u_limit) {
      out.upper = std::numeric_limits<double>::infinity();
      return out;
    }
  }
  while (hi - lo > 1e-11 * std::max(1.0, hi)) {
    const double mid = 0.5 * (lo + hi);
    ASSIGN_OR_RETURN(double lm, at_u(mid));
    (lm < cut ? hi : lo) = mid;
  }
  out.upper = n + std::expm1(0.5 * (lo + hi));
  return out;
}

}  // namespace samenzicht::estimate
