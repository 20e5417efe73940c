// Poisson log-linear models for a capture-history table.
//
// A hierarchical model is a set of terms (bit masks over the lists) that
// contains every main effect and, with each interaction, all of its
// sub-terms. Names follow the R packages (Rcapture, SparseMSE,
// MultipleSystemsEstimation): the maximal terms ("generators"), main effects
// implicit, e.g. "[12,23]" on three lists is the model with the 1:2 and 2:3
// interactions, "[12,3]" has the 1:2 interaction only, "[1,2,3]" is
// independence.
//
// The model is fitted by maximum likelihood to the 2^K - 1 observable cells,
// with log E(count of history h) = intercept + sum of the terms contained in
// h. The dark figure (persons on no list) is exp(intercept), so the
// estimated population is observed + exp(intercept).
//
// Sparse data (Chan, Silverman & Vincent 2021; Silverman, Chan & Vincent
// 2024): a term whose overlap (persons on all its lists) is zero has its
// extended MLE at minus infinity. It is not estimated; the cells that contain
// it are dropped (their fitted value is 0), but it still counts as a
// parameter in the BIC.
//
// Example:
//
//   auto model = HierarchicalModel::Parse(3, "[12,23]");
//   absl::StatusOr<ModelFit> fit = FitModel(table, *model);
//   double n_hat = fit->n_hat;
//
// Everything here is thread-compatible: distinct calls share no state.
#ifndef SAMENZICHT_ESTIMATE_LOGLINEAR_H_
#define SAMENZICHT_ESTIMATE_LOGLINEAR_H_

#include <string>
#include "absl/strings/string_view.h"
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "estimate/capture_table.h"

namespace samenzicht::estimate {

class HierarchicalModel {
 public:
  // The main-effects (independence) model on `num_lists` lists.
  static HierarchicalModel MainEffects(int num_lists);

  // The smallest hierarchical model containing the main effects and every
  // term in `generators` (each a non-zero mask within the lists).
  // `InvalidArgument` for a bad list count or a term outside the lists.
  static absl::StatusOr<HierarchicalModel> FromGenerators(int num_lists,
                                                          const std::vector<Mask>& generators);

  // Parses a name such as "[12,23]" (brackets optional; each generator is a
  // string of distinct list digits 1..K). `InvalidArgument` if malformed.
  static absl::StatusOr<HierarchicalModel> Parse(int num_lists, absl::string_view name);

  int num_lists() const { return num_lists_; }
  // All terms of order >= 1, ordered by order and then by mask.
  const std::vector<Mask>& terms() const { return terms_; }
  bool Contains(Mask term) const;
  // Intercept plus one per term.
  int num_parameters() const { return 1 + static_cast<int>(terms_.size()); }
  // Largest order among the terms (1 for main effects only).
  int max_order() const;
  // The maximal terms, interactions first (in name order) then lone main effects.
  std::vector<Mask> Generators() const;
  // The model's name in the notation described above.
  std::string Name() const;
  // The same model with `term` (and its sub-terms) added.
  HierarchicalModel With(Mask term) const;

  friend bool operator==(const HierarchicalModel& a, const HierarchicalModel& b) {
    return a.num_lists_ == b.num_lists_ && a.terms_ == b.terms_;
  }

 private:
  HierarchicalModel(int num_lists, std::vector<Mask> terms)
      : num_lists_(num_lists), terms_(std::move(terms)) {}

  int num_lists_;
  std::vector<Mask> terms_;
};

// Digits of a term, e.g. 0b101 -> "13".
std::string TermName(Mask term);

// How a model meets a particular table: which terms are estimated, which sit
// at minus infinity because their overlap is zero, and which cells remain.
struct ModelLayout {
  std::vector<Mask> estimated_terms;       // excludes the intercept
  std::vector<Mask> minus_infinity_terms;  // overlap zero
  std::vector<Mask> cells;                 // observable histories kept
};
ModelLayout LayoutFor(const CaptureTable& table, const HierarchicalModel& model);

// The design row of history `h` under `layout`: 1 for the intercept, then per estimated
// term 1 when `h` holds all of the term's lists, else 0. `row` has room for
// 1 + layout.estimated_terms.size() values.
void FillDesignRow(const ModelLayout& layout, Mask h, double* row);

// Result of an iteratively reweighted least squares Poisson fit.
struct GlmFit {
  std::vector<double> coefficients;  // intercept first, then the columns
  std::vector<double> fitted;        // fitted means, one per row
  double deviance = 0;
  int iterations = 0;
};

// Fits a Poisson GLM with log link to `y` (non-negative) with row-major design
// `x` (`rows` x `cols`), by Newton/IRLS with step halving, to a relative
// deviance change below 1e-13. `start` (size `cols`) may hold initial
// coefficients. `FailedPrecondition` if the design is rank deficient or no
// finite maximum exists (no convergence in 200 iterations).
absl::StatusOr<GlmFit> FitPoissonGlm(const std::vector<double>& x, int rows, int cols,
                                     const std::vector<double>& y,
                                     const std::vector<double>* start = nullptr);

struct ModelFit {
  HierarchicalModel model = HierarchicalModel::MainEffects(kMinLists);
  double dark_figure = 0;     // exp(intercept)
  double n_hat = 0;           // observed + dark_figure
  double log_likelihood = 0;  // full Poisson log-likelihood with log-factorials
  // p * log(observed persons) - 2 * log_likelihood, p counting the intercept
  // and every term including those at minus infinity (as the reference
  // packages do; reproducing their figures confirms the persons, not cells).
  double bic = 0;
  ModelLayout layout;
  std::vector<double> coefficients;  // intercept, then `layout.estimated_terms`
  std::vector<double> fitted;        // per `layout.cells`
};

// Fits `model` to `table`. Does not run the existence check (see
// existence.h); a model whose MLE does not exist or is not identifiable
// yields `FailedPrecondition`. `InvalidArgument` if the list counts differ.
// `start` optionally gives initial coefficients in the layout's order; it is
// ignored if its size does not match the layout for this table.
absl::StatusOr<ModelFit> FitModel(const CaptureTable& table, const HierarchicalModel& model,
                                  const std::vector<double>* start = nullptr);

// Poisson log-likelihood sum(y log mu - mu - log y!) over paired entries.
double PoissonLogLikelihood(const std::vector<double>& y, const std::vector<double>& mu);

}  // namespace samenzicht::estimate

#endif  // SAMENZICHT_ESTIMATE_LOGLINEAR_H_
