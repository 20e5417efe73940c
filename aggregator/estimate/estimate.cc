#include "aggregator/estimate/estimate.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "aggregator/estimate/distributions.h"
#include "aggregator/estimate/existence.h"
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
      "captured only as far as the list interactions model them.",
      "Linkage errors bias the estimate: persons not recognised as the same across lists inflate "
      "it, different persons wrongly linked deflate it.",
      "Every person in the population is assumed to have some chance of appearing on each list.",
  };
}

std::string IntervalDescription(Resampling resampling, bool fixed_model) {
  const std::string draws =
      resampling == Resampling::kMultinomial
          ? "resamples the observed persons (nonparametric bootstrap)"
          : "draws replicate tables from the chosen model (parametric bootstrap)";
  if (fixed_model) {
    return absl::StrCat("The BCa interval ", draws,
                        " and refits the given model each time: it includes sampling "
                        "variation only, not the uncertainty of the model choice, and not "
                        "linkage errors.");
  }
  if (resampling == Resampling::kMultinomial) {
    return absl::StrCat(
        "The BCa interval ", draws,
        " and redoes the model choice in every replicate: it includes sampling variation and "
        "the uncertainty of choosing among the candidate models; it does not include errors of "
        "the model family itself (dependence or heterogeneity that no candidate model "
        "describes) nor linkage errors.");
  }
  return absl::StrCat(
      "The BCa interval ", draws,
      " and redoes the model choice in every replicate: it includes sampling variation and the "
      "variation of the model choice around the chosen model, but not the chance that the "
      "chosen model itself is wrong, nor errors of the model family, nor linkage errors.");
}

int DefaultBootstrapModels(int num_lists) {
  if (num_lists <= 3) return 1 << 30;
  if (num_lists == 4) return 20;
  return 100;
}

}  // namespace

PopulationEstimator MakeBicEstimator(
    std::vector<std::pair<HierarchicalModel, std::vector<double>>> models) {
  auto cache = std::make_shared<ModelCheckCache>();
  return [models = std::move(models),
          cache](const CaptureTable& t) -> absl::StatusOr<std::optional<double>> {
    std::optional<double> best_bic, best_n;
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
      if (!best_bic.has_value() || fit->bic < *best_bic) {
        best_bic = fit->bic;
        best_n = fit->n_hat;
      }
    }
    return best_n;
  };
}

PopulationEstimator MakeStepwiseEstimator(double p_threshold) {
  auto cache = std::make_shared<ModelCheckCache>();
  return [p_threshold, cache](const CaptureTable& t) -> absl::StatusOr<std::optional<double>> {
    absl::StatusOr<StepwiseResult> s = StepwiseSelect(t, p_threshold, cache.get());
    if (!s.ok()) {
      if (s.status().code() == absl::StatusCode::kFailedPrecondition) {
        return std::optional<double>();
      }
      return s.status();
    }
    return std::optional<double>(s->fit.n_hat);
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

const char* SelectionMethodName(SelectionMethod m) {
  switch (m) {
    case SelectionMethod::kBic: return "bic";
    case SelectionMethod::kStepwise: return "stepwise";
    case SelectionMethod::kAuto: return "auto";
  }
  return "?";
}

std::string WhyNotPublishable(const EstimateResult& r) {
  if (!r.reliable || !r.estimate.has_value()) {
    return r.reason.empty() ? "no reliable estimate" : r.reason;
  }
  double lower = NAN, upper = NAN;
  if (r.interval.has_value()) {
    lower = r.interval->lower;
    upper = r.interval->upper;
    if (upper < r.interval->median_replicate || lower > r.interval->median_replicate) {
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

  EstimateResult result;
  result.num_lists = k;
  result.observed = table.observed();
  result.method = options.method;
  result.method_automatic = automatic && options.model.empty();
  result.max_order = options.max_order;
  result.p_threshold = options.p_threshold;
  result.seed = options.seed;
  result.caveats = StandardCaveats();

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
    for (const CandidateModel& c : candidates) {
      if (!c.fit.has_value() || static_cast<int>(retained.size()) >= keep) break;
      retained.emplace_back(c.model, c.fit->coefficients);
    }
    factory = [retained = std::move(retained)] { return MakeBicEstimator(retained); };
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
    factory = [p] { return MakeStepwiseEstimator(p); };
    estimator = factory();
  }

  result.estimate = chosen->n_hat;
  result.dark_figure = chosen->dark_figure;
  result.model = chosen->model.Name();
  result.bic = chosen->bic;
  result.reliable = std::isfinite(chosen->n_hat);
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

  if (options.replicates > 0) {
    BcaOptions bca{options.replicates, options.seed, options.level, options.resampling, {},
                   factory, options.threads};
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
      if (i.lower <= i.min_replicate) {
        result.interval_warnings.push_back(absl::StrCat(
            "The lower limit of the interval is the smallest of the ", i.replicates,
            " bootstrap estimates: that end is not well determined and may lie lower."));
      }
      if (i.upper >= i.max_replicate) {
        result.interval_warnings.push_back(absl::StrCat(
            "The upper limit of the interval is the largest of the ", i.replicates,
            " bootstrap estimates: that end is not well determined and may lie higher."));
      }
      if (i.upper < i.median_replicate) {
        result.interval_warnings.push_back(absl::StrCat(
            "The upper limit of the interval (", absl::StrFormat("%.0f", i.upper),
            ") lies below the median of the bootstrap estimates (",
            absl::StrFormat("%.0f", i.median_replicate),
            "): the bias correction dominates and the interval is not trustworthy."));
      }
      if (i.lower > i.median_replicate) {
        result.interval_warnings.push_back(absl::StrCat(
            "The lower limit of the interval (", absl::StrFormat("%.0f", i.lower),
            ") lies above the median of the bootstrap estimates (",
            absl::StrFormat("%.0f", i.median_replicate),
            "): the bias correction dominates and the interval is not trustworthy."));
      }
      for (const std::string& w : result.interval_warnings) result.caveats.push_back(w);
      if (interval->failed_replicates > 0) {
        result.caveats.push_back(absl::StrCat(
            interval->failed_replicates, " of ", options.replicates,
            " bootstrap replicates had no usable model and were left out of the interval."));
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
    result.interval_description = IntervalDescription(options.resampling, result.fixed_model);
    result.caveats.push_back(result.interval_description);
  }
  return result;
}

}  // namespace samenzicht::estimate
