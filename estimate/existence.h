// Existence and identifiability of the (extended) maximum likelihood
// estimate of a hierarchical log-linear model on a capture table.
//
// Existence is the linear-programming test of Fienberg & Rinaldo (2012), in
// the form used by Chan, Silverman & Vincent (2021) and their R packages
// (`checkident`, `.check_extended_MLE`): after terms with zero overlap are
// put at minus infinity and their cells dropped (see loglinear.h), let A be
// the design (rows: intercept and estimated terms; columns: kept cells) and
// t = A y the sufficient statistics. Solve
//
//     maximise s  subject to  A x = t,  x_c >= s,  x >= 0, s >= 0.
//
// The MLE exists iff the optimum is positive, i.e. some strictly positive
// table has the observed sufficient statistics. It is solved as
// maximise s subject to A z + s (A 1) = t, z >= 0 (x = z + s): one row per
// parameter. When every kept cell is non-empty the answer is yes without an LP. Only the support of y
// matters, so the test is run on the 0/1 support pattern (as the packages'
// batch check does), which keeps the LP well scaled.
//
// Identifiability: the same design must have full column rank.
//
// The LP is solved with GLPK (Debian `libglpk-dev`), primal simplex with
// presolve, terminal output off. GLPK keeps per-thread state; these
// functions are thread-compatible, not meant for concurrent use.
#ifndef SAMENZICHT_ESTIMATE_EXISTENCE_H_
#define SAMENZICHT_ESTIMATE_EXISTENCE_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "estimate/capture_table.h"
#include "estimate/loglinear.h"

namespace samenzicht::estimate {

struct ModelCheck {
  bool exists = false;
  bool identifiable = false;
  bool ok() const { return exists && identifiable; }
  // "", or a sentence saying which test failed.
  std::string Reason() const;
};

// Runs both tests. `Internal` if GLPK fails to solve the (always feasible
// and bounded) LP; `InvalidArgument` if the list counts differ.
absl::StatusOr<ModelCheck> CheckModel(const CaptureTable& table, const HierarchicalModel& model);

// The same two tests for a Poisson log-linear model with any design: `x` row-major, one row per
// kept cell (`rows`), `cols` columns with the intercept first (for example a hierarchical
// model with one more column, as the heterogeneity terms of estimate.h add); `positive[r]`
// says whether cell r holds anyone. `InvalidArgument` if the sizes do not match, `Internal`
// if GLPK fails.
absl::StatusOr<ModelCheck> CheckDesign(const std::vector<double>& x, int rows, int cols,
                                       const std::vector<bool>& positive);

// Memoises `CheckModel` by (support pattern, model), which is all the result
// depends on. Bootstrap replicates mostly share the original support, so
// this removes nearly all LPs. Not thread-safe.
class ModelCheckCache {
 public:
  absl::StatusOr<ModelCheck> Check(const CaptureTable& table, const HierarchicalModel& model);
  size_t size() const { return cache_.size(); }

 private:
  std::map<std::pair<std::vector<bool>, std::vector<Mask>>, ModelCheck> cache_;
};

}  // namespace samenzicht::estimate

#endif  // SAMENZICHT_ESTIMATE_EXISTENCE_H_
