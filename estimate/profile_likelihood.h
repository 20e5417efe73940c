// Profile likelihood interval for the population size N under a fixed
// log-linear model (Cormack 1992; as Rcapture's `closedpCI.t`).
//
// For a candidate N >= n (n persons observed), the unobserved cell is given
// the count d = N - n and the model is fitted to all 2^K cells; with fitted
// cell probabilities p = mu / N the multinomial log-likelihood is
//     l(N) = log N! - log d! + sum_h y_h log p_h + d log p_0   (+ const).
// The interval is {N : 2 (max l - l(N)) <= chi^2_1(level)}, N continuous.
// Cells and terms at minus infinity (zero overlaps) are handled as in the
// observed-table fit (loglinear.h).
//
// Thread-compatible.
#ifndef SAMENZICHT_ESTIMATE_PROFILE_LIKELIHOOD_H_
#define SAMENZICHT_ESTIMATE_PROFILE_LIKELIHOOD_H_

#include "absl/status/statusor.h"
#include "estimate/capture_table.h"
#include "estimate/loglinear.h"

namespace samenzicht::estimate {

struct ProfileInterval {
  double lower = 0;
  double upper = 0;     // +infinity when the likelihood stays above the cut-off
  double estimate = 0;  // the multinomial (conditional-free) MLE of N
  double level = 0.95;
};

// `InvalidArgument` for a level outside (0, 1); `FailedPrecondition` if the
// model cannot be fitted (check existence first).
absl::StatusOr<ProfileInterval> ProfileLikelihoodInterval(const CaptureTable& table,
                                                          const HierarchicalModel& model,
                                                          double level = 0.95);

}  // namespace samenzicht::estimate

#endif  // SAMENZICHT_ESTIMATE_PROFILE_LIKELIHOOD_H_
