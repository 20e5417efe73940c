#include "estimate/estimate.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "estimate/distributions.h"
#include "estimate/existence.h"
#include "common/status_macros.h"

namespace samenzicht::estimate {
namespace {

std::vector<std::string> StandardCaveats() {
  return {
      "Closed population: the lists are assumed to cover one and the same population over the "
      "period, with no one entering or leaving in between.",
      "The log-linear model is assumed to capture the dependence between lists; the interaction "
      "of all lists together cannot be estimated and is assumed absent.",
      "Differences between persons in how visible they are to agencies (heterogeneity) are "
      "captured in the estimate only as far as the list interactions model them, and in the "
      "interval only as far as it says it spans a heterogeneity interval.",
      "Linkage errors bias the estimate: persons not recognised as the same across lists inflate "
      "it, different persons wrongly linked deflate it.",
      "Every person in the population is assumed to have some chance of appearing on each list.",
  };
}

std::string LinkageClause(const LinkageErrorCounts& e, bool tail) {
  if (e.missed_links <= 0 && e.false_links <= 0) {
    return tail ? " nor linkage errors." : "not linkage errors.";
  }
  return absl::StrFormat(
      "%slinkage errors at the estimated rate (%.1f persons counted twice and %.1f wrong "
      "merges among the persons in the table, simulated in every replicate, and the interval "
      "extended by their average effect).",
      tail ? "; it does include " : "it does include ", e.missed_links, e.false_links);
}

// `choice_scope`: how the model choice is redone per replicate where that needs saying, e.g.
// " among the 20 of 113 fitted candidate models with the smallest BIC on the observed table"
// (BIC re-examines only those) or " by stepwise selection from the main effects"; empty for a
// BIC choice among all candidate models.
// `heterogeneity_term`: the term of the heterogeneity interval the interval spans too
// (`EstimateOptions::heterogeneity_interval`), empty when it does not.
std::string IntervalDescription(IntervalMethod method, Resampling resampling, bool fixed_model,
                                bool averaged, const std::string& choice_scope,
                                const LinkageErrorCounts& linkage,
                                const std::string& heterogeneity_term) {
  const std::string name =
      method == IntervalMethod::kBca ? "The BCa interval " : "The percentile interval ";
  const std::string draws =
      resampling == Resampling::kMultinomial
          ? "resamples the observed persons (nonparametric bootstrap)"
          : "draws replicate tables from the chosen model (parametric bootstrap)";
  if (fixed_model) {
    return absl::StrCat(name, draws,
                        " and refits the given model each time: it includes sampling "
                        "variation only, not the uncertainty of the model choice, ",
                        "and ", LinkageClause(linkage, false));
  }
  if (averaged) {
    return absl::StrCat(
        name, draws,
        " and redoes the BIC-weighted average over the candidate models in every replicate",
        choice_scope,
        ": it includes sampling variation and the uncertainty of which candidate model is right "
        "(as far as the BIC weights express it); it does not include errors of the model family "
        "itself (dependence or heterogeneity that no candidate model describes)",
        LinkageClause(linkage, true));
  }
  if (!heterogeneity_term.empty()) {
    return absl::StrCat(
        name, draws, " and redoes the model choice in every replicate", choice_scope,
        " (the single best model, no model averaging), and estimates every replicate a second "
        "time with the ", heterogeneity_term,
        " heterogeneity term (a common dependence of all lists on how visible a person is, its "
        "coefficient at least 0) added to the model chosen in it, and spans both intervals: it "
        "includes sampling variation, how the choice among the candidate models varies with it, "
        "and heterogeneous catchability of that form as far as the table cannot rule it out; it "
        "does not include other errors of the model family (dependence or heterogeneity that "
        "neither describes)",
        LinkageClause(linkage, true));
  }
  if (resampling == Resampling::kMultinomial) {
    return absl::StrCat(
        name, draws,
        " and redoes the model choice in every replicate", choice_scope,
        " (the single best model, no model averaging): it includes sampling variation and how "
        "the choice among the candidate models varies with it; it does not include errors of "
        "the model family itself "
        "(dependence or heterogeneity that no candidate model describes)",
        LinkageClause(linkage, true));
  }
  return absl::StrCat(
      name, draws,
      " and redoes the model choice in every replicate", choice_scope,
      ": it includes sampling variation and the "
      "variation of the model choice around the chosen model, but not the chance that the "
      "chosen model itself is wrong, nor errors of the model family",
      LinkageClause(linkage, true));
}

// The heterogeneity interval (`EstimateOptions::heterogeneity_interval`): the same replicates
// (the same seed and options) estimated with a heterogeneity term added to the model chosen in
// each (looked up in `memo`, which the log-linear pass filled), the coefficient kept at or above
// zero; the interval shown spans both. Its end warnings are added for an end it sets.
absl::Status WidenForHeterogeneity(const CaptureTable& table, const ModelFit& chosen,
                                   const std::shared_ptr<ModelChoiceMemo>& memo,
                                   const EstimatorFactory& choose,
                                   const std::vector<HeterogeneityTerm>& terms, BcaOptions bca,
                                   EstimateResult& result) {
  absl::StatusOr<HeterogeneityFit> here = FitHeterogeneityTerm(table, chosen, terms);
  if (!here.ok()) {
    if (here.status().code() != absl::StatusCode::kFailedPrecondition) return here.status();
    result.heterogeneity_interval_note = std::string(here.status().message());
    result.caveats.push_back(absl::StrCat(
        "The interval does not include heterogeneous catchability: ",
        here.status().message(), "."));
    return absl::OkStatus();
  }
  const double point = here->tau > 0 ? here->n_hat : chosen.n_hat;
  // The replicates use the term that fitted the observed table (and fall back on the model
  // alone where it cannot be fitted), so that all of them estimate the same model.
  std::vector<HeterogeneityTerm> used;
  for (HeterogeneityTerm t : terms) {
    if (here->term == HeterogeneityTermName(t)) used = {t};
  }
  bca.make_estimator = [memo, choose, used] {
    return MakeHeterogeneityEstimator(memo, choose(), used);
  };
  PopulationEstimator estimator = bca.make_estimator();
  absl::StatusOr<BcaResult> het = BcaBootstrap(table, point, estimator, bca);
  if (!het.ok()) {
    if (het.status().code() != absl::StatusCode::kFailedPrecondition) return het.status();
    result.heterogeneity_interval_note = std::string(het.status().message());
    result.caveats.push_back(absl::StrCat(
        "The interval does not include heterogeneous catchability: ", het.status().message(),
        "."));
    return absl::OkStatus();
  }
  // Its upper limit is the higher of the BCa and the percentile limit of those replicates: the
  // coefficient is kept at 0 or above, so where the table shows no heterogeneity about half of
  // the replicates sit at that bound with the estimate itself, and the percentile limit then
  // reaches too little above it (in the simulation study the BCa limit, whose bias correction
  // starts from the share of replicates below the estimate, made the difference in the tables
  // that showed less overlap than the model expects).
  if (het->bca_upper > het->upper) {
    het->replicate_upper += het->bca_upper - het->upper;
    het->upper = het->bca_upper;
  }
  if (het->percentile_upper > het->upper) {
    het->replicate_upper += het->percentile_upper - het->upper;
    het->upper = het->percentile_upper;
  }
  result.heterogeneity_interval = *het;
  result.heterogeneity_interval_term = here->term;
  result.heterogeneity_interval_estimate = point;
  BcaResult& shown = *result.interval;
  if (het->lower < shown.lower) {
    shown.lower = het->lower;
    if (het->replicate_lower <= het->min_replicate) {
      result.interval_warnings.push_back(absl::StrCat(
          "The lower limit of the interval is the smallest of the ", het->replicates,
          " bootstrap estimates with the heterogeneity term: that end is not well determined "
          "and may lie lower."));
      result.caveats.push_back(result.interval_warnings.back());
    }
  }
  if (het->upper > shown.upper) {
    shown.upper = het->upper;
    if (het->replicate_upper >= het->max_replicate) {
      result.interval_warnings.push_back(absl::StrCat(
          "The upper limit of the interval is the largest of the ", het->replicates,
          " bootstrap estimates with the heterogeneity term: that end is not well determined "
          "and may lie higher."));
      result.caveats.push_back(result.interval_warnings.back());
    }
  }
  return absl::OkStatus();
}

int DefaultBootstrapModels(int num_lists) {
  if (num_lists <= 3) return 1 << 30;
  if (num_lists == 4) return 20;
  return 100;
}

}  // namespace

std::vector<double> BicWeights(const std::vector<std::pair<double, double>>& n_hat_bic,
                               double window) {
  std::vector<double> w(n_hat_bic.size(), 0.0);
  double best = INFINITY;
  for (const auto& [n, bic] : n_hat_bic) best = std::min(best, bic);
  double sum = 0;
  for (size_t i = 0; i < n_hat_bic.size(); ++i) {
    const double d = n_hat_bic[i].second - best;
    if (d <= window && std::isfinite(n_hat_bic[i].first)) {
      w[i] = std::exp(-d / 2);
      sum += w[i];
    }
  }
  if (sum > 0) {
    for (double& x : w) x /= sum;
  }
  return w;
}

void ModelChoiceMemo::Record(const CaptureTable& table, const HierarchicalModel& model) {
  std::lock_guard<std::mutex> lock(mu_);
  chosen_.insert_or_assign(table.counts(), model);
}

std::optional<HierarchicalModel> ModelChoiceMemo::Find(const CaptureTable& table) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = chosen_.find(table.counts());
  if (it == chosen_.end()) return std::nullopt;
  return it->second;
}

PopulationEstimator MakeBicEstimator(
    std::vector<std::pair<HierarchicalModel, std::vector<double>>> models,
    double averaging_window, std::shared_ptr<ModelChoiceMemo> memo) {
  auto cache = std::make_shared<ModelCheckCache>();
  return [models = std::move(models), cache, averaging_window,
          memo](const CaptureTable& t) -> absl::StatusOr<std::optional<double>> {
    std::optional<double> best_bic, best_n;
    const HierarchicalModel* best_model = nullptr;
    std::vector<std::pair<double, double>> fits;  // (n_hat, bic), for averaging
    for (const auto& [model, start] : models) {
      ASSIGN_OR_RETURN(ModelCheck check, cache->Check(t, model));
      if (!check.ok()) continue;
      absl::StatusOr<ModelFit> fit = FitModel(t, model, start.empty() ? nullptr : &start);
      if (!fit.ok() && fit.status().code() == absl::StatusCode::kFailedPrecondition &&
          !start.empty()) {
        fit = FitModel(t, model);  // retry from the default starting values
      }
      if (!fit.ok()) {
        if (fit.status().code() == absl::StatusCode::kFailedPrecondition) continue;
        return fit.status();
      }
      if (averaging_window > 0) fits.emplace_back(fit->n_hat, fit->bic);
      if (!best_bic.has_value() || fit->bic < *best_bic) {
        best_bic = fit->bic;
        best_n = fit->n_hat;
        best_model = &model;
      }
    }
    if (memo && best_model != nullptr) memo->Record(t, *best_model);
    if (averaging_window > 0 && best_n.has_value() && std::isfinite(*best_n)) {
      const std::vector<double> w = BicWeights(fits, averaging_window);
      double average = 0;
      for (size_t i = 0; i < fits.size(); ++i) {
        if (w[i] > 0) average += w[i] * fits[i].first;
      }
      return std::optional<double>(average);
    }
    return best_n;
  };
}

PopulationEstimator MakeStepwiseEstimator(double p_threshold,
                                          std::shared_ptr<ModelChoiceMemo> memo) {
  auto cache = std::make_shared<ModelCheckCache>();
  return [p_threshold, cache,
          memo](const CaptureTable& t) -> absl::StatusOr<std::optional<double>> {
    absl::StatusOr<StepwiseResult> s = StepwiseSelect(t, p_threshold, cache.get());
    if (!s.ok()) {
      if (s.status().code() == absl::StatusCode::kFailedPrecondition) {
        return std::optional<double>();
      }
      return s.status();
    }
    if (memo) memo->Record(t, s->fit.model);
    return std::optional<double>(s->fit.n_hat);
  };
}

PopulationEstimator MakeHeterogeneityEstimator(std::shared_ptr<ModelChoiceMemo> memo,
                                               PopulationEstimator choose,
                                               std::vector<HeterogeneityTerm> terms) {
  return [memo, choose = std::move(choose), terms = std::move(terms)](
             const CaptureTable& t) -> absl::StatusOr<std::optional<double>> {
    std::optional<HierarchicalModel> model = memo->Find(t);
    if (!model.has_value()) {
      ASSIGN_OR_RETURN(std::optional<double> n, choose(t));
      if (!n.has_value()) return n;
      model = memo->Find(t);
      if (!model.has_value()) return n;
    }
    absl::StatusOr<ModelFit> fit = FitModel(t, *model);
    if (!fit.ok()) {
      if (fit.status().code() == absl::StatusCode::kFailedPrecondition) {
        return std::optional<double>();
      }
      return fit.status();
    }
    absl::StatusOr<HeterogeneityFit> het = FitHeterogeneityTerm(t, *fit, terms);
    if (!het.ok()) {
      if (het.status().code() != absl::StatusCode::kFailedPrecondition) return het.status();
      return std::optional<double>(fit->n_hat);
    }
    return std::optional<double>(het->tau > 0 ? het->n_hat : fit->n_hat);
  };
}

PopulationEstimator MakeFixedModelEstimator(HierarchicalModel model) {
  auto cache = std::make_shared<ModelCheckCache>();
  return [model = std::move(model),
          cache](const CaptureTable& t) -> absl::StatusOr<std::optional<double>> {
    ASSIGN_OR_RETURN(ModelCheck check, cache->Check(t, model));
    if (!check.ok()) return std::optional<double>();
    absl::StatusOr<ModelFit> fit = FitModel(t, model);
    if (!fit.ok()) {
      if (fit.status().code() == absl::StatusCode::kFailedPrecondition) {
        return std::optional<double>();
      }
      return fit.status();
    }
    return std::optional<double>(fit->n_hat);
  };
}

double HeterogeneityColumn(HeterogeneityTerm term, int on) {
  switch (term) {
    case HeterogeneityTerm::kDarroch: return on * on / 2.0;
    case HeterogeneityTerm::kPoisson2: return std::ldexp(1.0, on) - 1;
    case HeterogeneityTerm::kGamma35: return -std::log1p(on / 3.5);
  }
  return 0;
}

const char* HeterogeneityTermName(HeterogeneityTerm term) {
  switch (term) {
    case HeterogeneityTerm::kDarroch: return "Mth Darroch";
    case HeterogeneityTerm::kPoisson2: return "Mth Poisson2";
    case HeterogeneityTerm::kGamma35: return "Mth Gamma3.5";
  }
  return "?";
}

absl::StatusOr<HeterogeneityFit> FitHeterogeneityTerm(const CaptureTable& table,
                                                      const ModelFit& chosen,
                                                      std::vector<HeterogeneityTerm> terms) {
  const ModelLayout& layout = chosen.layout;
  const int rows = static_cast<int>(layout.cells.size());
  const int base = 1 + static_cast<int>(layout.estimated_terms.size());
  const int cols = base + 1;
  if (static_cast<int>(chosen.coefficients.size()) != base || rows < cols) {
    return absl::FailedPreconditionError(
        "the chosen model leaves no degree of freedom for a heterogeneity term");
  }
  std::vector<double> y(rows);
  std::vector<bool> positive(rows);
  for (int r = 0; r < rows; ++r) {
    y[r] = static_cast<double>(table.count(layout.cells[r]));
    positive[r] = y[r] > 0;
  }
  std::vector<double> start = chosen.coefficients;
  start.push_back(0.0);
  std::vector<std::string> failures;
  for (HeterogeneityTerm t : terms) {
    const char* term = HeterogeneityTermName(t);
    std::vector<double> x(static_cast<size_t>(rows) * cols, 0.0);
    for (int r = 0; r < rows; ++r) {
      const Mask h = layout.cells[r];
      double* row = &x[static_cast<size_t>(r) * cols];
      FillDesignRow(layout, h, row);
      row[base] = HeterogeneityColumn(t, std::popcount(h));
    }
    ASSIGN_OR_RETURN(ModelCheck check, CheckDesign(x, rows, cols, positive));
    if (!check.ok()) {
      // Darroch's term lies in the span of the pairs when the chosen model holds them all; with
      // as many parameters as cells and an empty cell the fit runs off to infinity.
      failures.push_back(absl::StrCat(term, ": ", check.Reason()));
      continue;
    }
    absl::StatusOr<GlmFit> glm = FitPoissonGlm(x, rows, cols, y, &start);
    if (!glm.ok()) glm = FitPoissonGlm(x, rows, cols, y);
    if (!glm.ok()) {
      if (glm.status().code() != absl::StatusCode::kFailedPrecondition) return glm.status();
      failures.push_back(absl::StrCat(term, ": ", glm.status().message()));
      continue;
    }
    HeterogeneityFit f;
    f.term = term;
    f.n_hat = static_cast<double>(table.observed()) + std::exp(glm->coefficients[0]);
    f.tau = glm->coefficients[base];
    f.log_likelihood = PoissonLogLikelihood(y, glm->fitted);
    if (!std::isfinite(f.n_hat) || !std::isfinite(f.tau)) {
      failures.push_back(absl::StrCat(term, ": no finite estimate"));
      continue;
    }
    return f;
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "no heterogeneity term can be fitted with the chosen model ", chosen.model.Name(), " (",
      absl::StrJoin(failures, "; "), ")"));
}

absl::StatusOr<HeterogeneityCheck> TestHeterogeneity(const CaptureTable& table,
                                                     const ModelFit& chosen) {
  ASSIGN_OR_RETURN(HeterogeneityFit f, FitHeterogeneityTerm(table, chosen));
  HeterogeneityCheck c;
  c.term = f.term;
  c.model = absl::StrCat(chosen.model.Name(), " + ", f.term);
  c.n_hat = f.n_hat;
  c.tau = f.tau;
  c.bic = (chosen.model.num_parameters() + 1) * std::log(static_cast<double>(table.observed())) -
          2 * f.log_likelihood;
  c.lr = std::max(0.0, 2 * (f.log_likelihood - chosen.log_likelihood));
  c.p_value = NormalCdf(-std::copysign(std::sqrt(c.lr), c.tau));
  if (!std::isfinite(c.p_value)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the model with the ", f.term, " term gives no finite test statistic"));
  }
  c.flagged = c.p_value < kHeterogeneityAlpha;
  return c;
}

const char* SelectionMethodName(SelectionMethod m) {
  switch (m) {
    case SelectionMethod::kBic: return "bic";
    case SelectionMethod::kStepwise: return "stepwise";
    case SelectionMethod::kAuto: return "auto";
  }
  return "?";
}

std::vector<std::string> IntervalWarnings(const BcaResult& i) {
  const double lower = i.replicate_lower, upper = i.replicate_upper;
  // An end beyond the median: with BCa limits the bias correction moved the interval that far;
  // the percentile limits make no correction, so there is no such cause to name.
  const std::string beyond_median =
      i.method == IntervalMethod::kBca
          ? "the bias correction dominates and the interval is not trustworthy."
          : "the interval does not hold the middle of its own replicates and is not "
            "trustworthy.";
  std::vector<std::string> warnings;
  if (lower <= i.min_replicate) {
    warnings.push_back(absl::StrCat(
        "The lower limit of the interval is the smallest of the ", i.replicates,
        " bootstrap estimates: that end is not well determined and may lie lower."));
  }
  if (upper >= i.max_replicate) {
    warnings.push_back(absl::StrCat(
        "The upper limit of the interval is the largest of the ", i.replicates,
        " bootstrap estimates: that end is not well determined and may lie higher."));
  }
  if (upper < i.median_replicate) {
    warnings.push_back(absl::StrCat(
        "The upper limit of the interval (", absl::StrFormat("%.0f", upper),
        ") lies below the median of the bootstrap estimates (",
        absl::StrFormat("%.0f", i.median_replicate), "): ", beyond_median));
  }
  if (lower > i.median_replicate) {
    warnings.push_back(absl::StrCat(
        "The lower limit of the interval (", absl::StrFormat("%.0f", lower),
        ") lies above the median of the bootstrap estimates (",
        absl::StrFormat("%.0f", i.median_replicate), "): ", beyond_median));
  }
  return warnings;
}

std::string WhyNotPublishable(const EstimateResult& r) {
  if (!r.reliable || !r.estimate.has_value()) {
    return r.reason.empty() ? "no reliable estimate" : r.reason;
  }
  double lower = NAN, upper = NAN;
  if (r.interval.has_value()) {
    lower = r.interval->lower;
    upper = r.interval->upper;
    if (r.interval->replicate_upper < r.interval->median_replicate ||
        r.interval->replicate_lower > r.interval->median_replicate) {
      return "no estimate published: an end of the interval lies beyond the middle of the "
             "bootstrap estimates, so the interval cannot be trusted";
    }
  } else if (r.profile_interval.has_value()) {
    lower = r.profile_interval->lower;
    upper = r.profile_interval->upper;
  } else {
    return "no estimate published: there is no interval to show its uncertainty";
  }
  if (!std::isfinite(upper) || !(lower > 0)) {
    return "no estimate published: the interval has no finite upper limit, so the data cannot "
           "say how large the hidden number is";
  }
  if (upper > kInformativeMaxRatio * lower) {
    return absl::StrFormat(
        "no estimate published: the 95%% interval (%.0f to %.0f) is too wide to be informative; "
        "its upper limit is more than %.0f times its lower limit",
        lower, upper, kInformativeMaxRatio);
  }
  return "";
}

absl::StatusOr<EstimateResult> Estimate(const CaptureTable& table,
                                        const EstimateOptions& options_in) {
  const int k = table.num_lists();
  EstimateOptions options = options_in;
  bool automatic = false;
  if (options.method == SelectionMethod::kAuto) {
    automatic = true;
    if (options.model.empty() && (options.max_order < 1 || options.max_order > k - 1)) {
      return absl::InvalidArgumentError(absl::StrCat("--max-order must be between 1 and ", k - 1,
                                                     " for ", k, " lists, got ",
                                                     options.max_order));
    }
    absl::StatusOr<std::vector<HierarchicalModel>> all =
        EnumerateHierarchicalModels(k, std::clamp(options.max_order, 1, k - 1));
    options.method = all.ok() && all->size() <= kAutoBicMaxModels ? SelectionMethod::kBic
                                                                  : SelectionMethod::kStepwise;
  }
  if (options.threads < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("threads must be at least 1, got ", options.threads));
  }
  // A list that saw no one is not a list of this population: refuse it rather than let the
  // fit drop it (which silently turns the estimate into one from fewer lists).
  for (int i = 0; i < k; ++i) {
    if (table.Overlap(Mask{1} << i) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "list '", table.list_names()[i], "' (list ", i + 1, " of ", k,
          ") holds no person: a list that saw no one cannot be used in the estimate; remove "
          "it or check its data"));
    }
  }
  if (options.method == SelectionMethod::kBic && options.model.empty() &&
      (options.max_order < 1 || options.max_order > k - 1)) {
    return absl::InvalidArgumentError(absl::StrCat("--max-order must be between 1 and ", k - 1,
                                                   " for ", k, " lists, got ",
                                                   options.max_order));
  }
  if (!(options.p_threshold >= 0 && options.p_threshold <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("p-value threshold must be in [0, 1], got ", options.p_threshold));
  }
  if (options.replicates < 0 || (options.replicates > 0 && options.replicates < 10)) {
    return absl::InvalidArgumentError(
        absl::StrCat("replicates must be 0 or at least 10, got ", options.replicates));
  }
  if (!(options.level > 0 && options.level < 1)) {
    return absl::InvalidArgumentError(absl::StrCat("level must be in (0, 1), got ", options.level));
  }
  if (options.bootstrap_models < 0) {
    return absl::InvalidArgumentError("bootstrap model count must be non-negative");
  }
  if (options.model_averaging) {
    if (!options.model.empty()) {
      return absl::InvalidArgumentError(
          "model averaging needs a model choice; it cannot be combined with a given model");
    }
    if (options.method != SelectionMethod::kBic) {
      return absl::InvalidArgumentError(absl::StrCat(
          "model averaging needs BIC selection over all candidate models; with ", k,
          " lists the selection is ", SelectionMethodName(options.method),
          " (use --method bic, possible up to 100,000 candidate models)"));
    }
    if (!(options.averaging_window > 0) || !std::isfinite(options.averaging_window)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the averaging window must be a positive BIC difference, got ",
          options.averaging_window));
    }
  }
  {
    const LinkageErrorCounts& e = options.linkage_error;
    if (!(e.missed_links >= 0) || !(e.false_links >= 0) || !std::isfinite(e.missed_links) ||
        !std::isfinite(e.false_links)) {
      return absl::InvalidArgumentError(
          "linkage error: the expected numbers of missed and false links must be finite and "
          "non-negative");
    }
  }

  EstimateResult result;
  result.num_lists = k;
  result.observed = table.observed();
  result.method = options.method;
  result.method_automatic = automatic && options.model.empty();
  result.max_order = options.max_order;
  result.p_threshold = options.p_threshold;
  result.seed = options.seed;
  result.caveats = StandardCaveats();
  result.linkage_error = options.linkage_error;

  // Two lists with exactly the same persons are one source counted twice (or one export
  // given twice): their interaction is infinite and no log-linear model describes them.
  for (int i = 0; i < k; ++i) {
    for (int j = i + 1; j < k; ++j) {
      const Mask a = Mask{1} << i, b = Mask{1} << j;
      if (table.Overlap(a) == table.Overlap(a | b) && table.Overlap(b) == table.Overlap(a | b)) {
        result.reliable = false;
        result.reason = absl::StrCat(
            "no reliable estimate: lists '", table.list_names()[i], "' and '",
            table.list_names()[j], "' hold exactly the same ", table.Overlap(a),
            " persons; one source given twice makes every model wrong (remove one of them)");
        return result;
      }
    }
  }

  auto cache = std::make_shared<ModelCheckCache>();
  std::optional<ModelFit> chosen;
  PopulationEstimator estimator;
  EstimatorFactory factory;
  std::string choice_scope;  // see IntervalDescription
  // The model chosen on each bootstrap and jackknife table, for the heterogeneity interval.
  const bool widen_for_heterogeneity =
      options.heterogeneity_interval && options.model.empty() && !options.model_averaging;
  std::shared_ptr<ModelChoiceMemo> memo =
      widen_for_heterogeneity ? std::make_shared<ModelChoiceMemo>() : nullptr;

  if (!options.model.empty()) {
    ASSIGN_OR_RETURN(HierarchicalModel model, HierarchicalModel::Parse(k, options.model));
    result.fixed_model = true;
    ASSIGN_OR_RETURN(ModelCheck check, cache->Check(table, model));
    absl::StatusOr<ModelFit> fit =
        check.ok() ? FitModel(table, model)
                   : absl::StatusOr<ModelFit>(absl::FailedPreconditionError(check.Reason()));
    if (!fit.ok()) {
      if (fit.status().code() != absl::StatusCode::kFailedPrecondition) return fit.status();
      result.reliable = false;
      result.model = model.Name();
      result.reason = absl::StrCat("no reliable estimate: model ", model.Name(), ": ",
                                   fit.status().message());
      return result;
    }
    chosen = *fit;
    factory = [model] { return MakeFixedModelEstimator(model); };
    estimator = factory();
  }

  // Candidate list for the output (and, for BIC, the selection itself).
  // Stepwise reports the pairwise models alongside only while they are few.
  std::vector<HierarchicalModel> all_models;
  if (result.fixed_model) {
    // no candidates: the model was given
  } else if (options.method == SelectionMethod::kBic) {
    ASSIGN_OR_RETURN(all_models, EnumerateHierarchicalModels(k, options.max_order));
  } else if (k <= 5) {
    ASSIGN_OR_RETURN(all_models, EnumerateHierarchicalModels(k, 2));
  }
  ASSIGN_OR_RETURN(std::vector<CandidateModel> candidates,
                       FitCandidates(table, all_models, cache.get()));
  for (const CandidateModel& c : candidates) {
    if (c.fit.has_value()) {
      result.models.push_back({c.model.Name(), c.fit->n_hat, c.fit->bic});
    } else {
      result.excluded_models.push_back({c.model.Name(), c.failure});
    }
  }

  if (result.fixed_model) {
    // chosen above
  } else if (options.method == SelectionMethod::kBic) {
    if (candidates.empty() || !candidates.front().fit.has_value()) {
      result.reliable = false;
      result.reason = absl::StrCat(
          "no reliable estimate: for none of the ", all_models.size(),
          " candidate models does the maximum likelihood estimate exist and is it identifiable; "
          "the table is too sparse (too little overlap between lists)");
      return result;
    }
    chosen = candidates.front().fit;
    std::vector<std::pair<HierarchicalModel, std::vector<double>>> retained;
    const int keep = options.bootstrap_models > 0 ? options.bootstrap_models
                                                  : DefaultBootstrapModels(k);
    size_t fitted = 0;
    for (const CandidateModel& c : candidates) {
      if (!c.fit.has_value()) continue;
      ++fitted;
      if (static_cast<int>(retained.size()) < keep) {
        retained.emplace_back(c.model, c.fit->coefficients);
      }
    }
    if (retained.size() < fitted) {
      choice_scope = absl::StrCat(" among the ", retained.size(), " of ", fitted,
                                  " fitted candidate models with the smallest BIC on the "
                                  "observed table");
    }
    const double window = options.model_averaging ? options.averaging_window : 0.0;
    factory = [retained = std::move(retained), window, memo] {
      return MakeBicEstimator(retained, window, memo);
    };
    estimator = factory();
  } else {
    absl::StatusOr<StepwiseResult> step = StepwiseSelect(table, options.p_threshold, cache.get());
    if (!step.ok()) {
      if (step.status().code() != absl::StatusCode::kFailedPrecondition) return step.status();
      result.reliable = false;
      result.reason = absl::StrCat("no reliable estimate: ", step.status().message(),
                                   "; the table is too sparse");
      return result;
    }
    chosen = step->fit;
    result.stepwise_steps = step->added;
    const double p = options.p_threshold;
    choice_scope = " by stepwise selection from the main effects";
    factory = [p, memo] { return MakeStepwiseEstimator(p, memo); };
    estimator = factory();
  }

  result.estimate = chosen->n_hat;
  result.dark_figure = chosen->dark_figure;
  result.model = chosen->model.Name();
  result.bic = chosen->bic;
  result.reliable = std::isfinite(chosen->n_hat);
  if (result.reliable && options.model_averaging) {
    std::vector<std::pair<double, double>> fits;
    std::vector<const CandidateModel*> fitted;
    for (const CandidateModel& c : candidates) {
      if (!c.fit.has_value()) continue;
      fits.emplace_back(c.fit->n_hat, c.fit->bic);
      fitted.push_back(&c);
    }
    const std::vector<double> w = BicWeights(fits, options.averaging_window);
    double average = 0;
    for (size_t i = 0; i < fits.size(); ++i) {
      if (w[i] <= 0) continue;
      average += w[i] * fits[i].first;
      result.averaged_models.push_back(
          {fitted[i]->model.Name(), fits[i].first, fits[i].second, w[i]});
    }
    result.model_averaging = true;
    result.averaging_window = options.averaging_window;
    result.estimate = average;
    result.dark_figure = average - static_cast<double>(table.observed());
    result.caveats.push_back(absl::StrCat(
        "The estimate is the average over ", result.averaged_models.size(),
        " models within ", absl::StrFormat("%.2f", options.averaging_window),
        " of the smallest BIC, weighted by exp(-BIC/2); the model, goodness of fit and "
        "profile interval shown are those of the model with the smallest BIC."));
  }
  if (!result.reliable) {
    result.reason = "no reliable estimate: the fitted dark figure is not finite";
    result.estimate.reset();
    return result;
  }
  if (!chosen->layout.minus_infinity_terms.empty()) {
    std::string terms;
    for (Mask t : chosen->layout.minus_infinity_terms) {
      absl::StrAppend(&terms, terms.empty() ? "" : ", ", TermName(t));
    }
    result.caveats.push_back(absl::StrCat(
        "Some lists never share a person (", terms,
        "); the chosen model fixes those effects at minus infinity (extended MLE)."));
  }

  // The chosen model's coefficients, fitted values and goodness of fit.
  result.coefficients.emplace_back("(Intercept)", chosen->coefficients[0]);
  for (size_t t = 0; t < chosen->layout.estimated_terms.size(); ++t) {
    result.coefficients.emplace_back(TermName(chosen->layout.estimated_terms[t]),
                                     chosen->coefficients[t + 1]);
  }
  for (Mask t : chosen->layout.minus_infinity_terms) {
    result.coefficients.emplace_back(TermName(t), -INFINITY);
  }
  {
    std::vector<double> fitted(table.counts().size(), 0.0);
    double deviance = 0;
    for (size_t c = 0; c < chosen->layout.cells.size(); ++c) {
      const Mask h = chosen->layout.cells[c];
      const double y = static_cast<double>(table.count(h)), mu = chosen->fitted[c];
      fitted[h] = mu;
      deviance += 2 * ((y > 0 ? y * std::log(y / mu) : 0.0) - (y - mu));
    }
    for (Mask h = 1; h < static_cast<Mask>(table.num_histories()); ++h) {
      result.fitted_cells.push_back({h, table.count(h), fitted[h]});
    }
    GoodnessOfFit gof;
    gof.deviance = std::max(0.0, deviance);
    gof.df = static_cast<int>(chosen->layout.cells.size()) -
             static_cast<int>(chosen->coefficients.size());
    gof.p_value = gof.df > 0 ? ChiSquareUpperTail(gof.deviance, gof.df) : NAN;
    result.goodness_of_fit = gof;
    if (gof.df > 0 && gof.p_value < kGoodnessOfFitAlpha) {
      result.reliable = false;
      result.reason = absl::StrCat(
          "unreliable: the ", result.fixed_model ? "given" : "chosen", " model ", result.model,
          " fits the table badly (deviance ", absl::StrFormat("%.1f", gof.deviance), " on ",
          gof.df, " degrees of freedom, p = ", absl::StrFormat("%.2g", gof.p_value),
          "); the lists depend on each other in a way no candidate model describes (for "
          "example a list that copies another, or persons who differ strongly in how visible "
          "they are), so the estimate and its interval cannot be trusted");
    } else if (gof.df == 0) {
      result.caveats.push_back(
          "The model has as many parameters as observed cells: its fit cannot be tested.");
    }
  }

  // A list that shares no person with any other list says nothing about who was not seen (the
  // chosen model puts its interactions at minus infinity). With fewer than three lists left
  // that do share persons, the estimate rests on two lists, which cannot test their own
  // dependence: such a table is refused as a two-list table is. Otherwise a warning names it:
  // a list whose persons never turn up elsewhere is often one whose persons were not linked.
  {
    std::vector<std::string> isolated;
    for (int i = 0; i < k; ++i) {
      bool shares = false;
      for (int j = 0; j < k && !shares; ++j) {
        shares = j != i && table.Overlap((Mask{1} << i) | (Mask{1} << j)) > 0;
      }
      if (!shares) isolated.push_back(absl::StrCat("'", table.list_names()[i], "'"));
    }
    if (!isolated.empty()) {
      const std::string names = absl::StrJoin(isolated, ", ");
      const bool one = isolated.size() == 1;
      const int sharing = k - static_cast<int>(isolated.size());
      if (sharing < 3 && result.reliable) {
        result.reliable = false;
        result.reason = absl::StrCat(
            "unreliable: ", one ? "list " : "lists ", names, one ? " shares" : " share",
            " no person with any other list, so the estimate of who was not seen rests on the ",
            sharing, " other lists alone, and an estimate from two lists cannot test their "
            "dependence; check that list's linkage, or add lists that share persons");
      } else if (sharing >= 3) {
        result.caveats.push_back(absl::StrCat(
            "WARNING: ", one ? "list " : "lists ", names, one ? " shares" : " share",
            " no person with any other list: ", one ? "it says" : "they say",
            " nothing about who was not seen, and a list whose persons never turn up "
            "elsewhere often means they were not linked (check that list's linkage)."));
      }
    }
  }

  // Heterogeneous catchability beyond the chosen model: the estimate is then too low, by more
  // than its interval says, so it is marked unreliable (its numbers stay visible).
  absl::StatusOr<HeterogeneityCheck> het = TestHeterogeneity(table, *chosen);
  if (!het.ok()) {
    if (het.status().code() != absl::StatusCode::kFailedPrecondition) return het.status();
    result.heterogeneity_note = std::string(het.status().message());
  } else {
    result.heterogeneity = *het;
    if (het->flagged) {
      const std::string test = absl::StrFormat(
          "the %s model, which adds a common positive dependence between all lists to the "
          "chosen model %s, fits significantly better (likelihood ratio %.2f, one-sided p = "
          "%.2g < %.2f; tau = %.3f) and estimates %.0f",
          het->term, result.model, het->lr, het->p_value, kHeterogeneityAlpha, het->tau,
          het->n_hat);
      result.caveats.push_back(absl::StrCat(
          "WARNING: persons seem to differ in how visible they are: ", test,
          ". Heterogeneity makes log-linear estimates too low; the estimate does not include "
          "that error, and the interval only as far as it spans a heterogeneity interval."));
      if (result.reliable) {
        result.reliable = false;
        result.reason = absl::StrCat(
            "unreliable: persons seem to differ in how visible they are to the lists: ", test,
            "; heterogeneity (or dependence between lists that no candidate model describes) "
            "makes the log-linear estimate too low, by an amount the table cannot tell");
      }
    }
  }

  if (options.replicates > 0 && !result.reliable && !options.interval_when_unreliable) {
    result.interval_note = "not computed for an unreliable estimate";
  } else if (options.replicates > 0) {
    BcaOptions bca{options.replicates, options.seed, options.level, options.resampling, {},
                   factory, options.threads};
    bca.method = options.interval;
    bca.missed_links = options.linkage_error.missed_links;
    bca.false_links = options.linkage_error.false_links;
    if (options.resampling == Resampling::kParametric) {
      bca.expected.assign(table.counts().size(), 0.0);
      bca.expected[0] = chosen->dark_figure;
      for (size_t c = 0; c < chosen->layout.cells.size(); ++c) {
        bca.expected[chosen->layout.cells[c]] = chosen->fitted[c];
      }
    }
    absl::StatusOr<BcaResult> interval = BcaBootstrap(table, *result.estimate, estimator, bca);
    if (interval.ok()) {
      result.interval = *interval;
      const BcaResult& i = *interval;
      result.interval_warnings = IntervalWarnings(i);
      for (const std::string& w : result.interval_warnings) result.caveats.push_back(w);
      if (i.linkage_replicates > 0) {
        result.caveats.push_back(absl::StrFormat(
            "Linkage errors of the estimated size change the estimate by %+.1f on average (over "
            "%d replicates); the interval includes the spread they cause and is extended by "
            "that amount on the side of the correction, so it covers the estimate both with "
            "those errors undone and without linkage errors; the estimate itself is not "
            "corrected.",
            i.linkage_shift, i.linkage_replicates));
      }
      if (interval->failed_replicates > 0) {
        result.caveats.push_back(absl::StrCat(
            interval->failed_replicates, " of ", options.replicates,
            " bootstrap replicates had no usable model and were left out of the interval."));
      }
      if (widen_for_heterogeneity) {
        RETURN_IF_ERROR(WidenForHeterogeneity(table, *chosen, memo, factory,
                                              options.heterogeneity_interval_terms, bca, result));
      }
    } else if (interval.status().code() == absl::StatusCode::kFailedPrecondition) {
      result.reliable = false;
      result.reason = absl::StrCat("no reliable interval: ", interval.status().message(),
                                   "; the table is too sparse for a stable estimate");
      result.interval_note = std::string(interval.status().message());
    } else {
      return interval.status();
    }
  } else {
    result.interval_note = "bootstrap not requested (0 replicates)";
  }

  if (options.profile_interval) {
    absl::StatusOr<ProfileInterval> profile =
        ProfileLikelihoodInterval(table, chosen->model, options.level);
    if (profile.ok()) {
      result.profile_interval = *profile;
      if (std::isinf(profile->upper)) {
        result.caveats.push_back(
            "The profile likelihood gives no finite upper limit for the chosen model.");
      }
    } else if (profile.status().code() == absl::StatusCode::kFailedPrecondition) {
      result.profile_note = std::string(profile.status().message());
    } else {
      return profile.status();
    }
    result.caveats.push_back(
        "The profile likelihood interval is conditional on the chosen model: it leaves out the "
        "uncertainty of the model choice.");
  }
  if (result.interval.has_value()) {
    result.interval_description = IntervalDescription(
        options.interval, options.resampling, result.fixed_model, result.model_averaging,
        choice_scope, options.linkage_error,
        result.heterogeneity_interval.has_value() ? result.heterogeneity_interval_term : "");
    result.caveats.push_back(result.interval_description);
  }
  return result;
}

}  // namespace samenzicht::estimate
