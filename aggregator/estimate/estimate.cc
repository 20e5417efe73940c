#include "aggregator/estimate/estimate.h"

#include <cmath>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
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

absl::StatusOr<EstimateResult> Estimate(const CaptureTable& table,
                                        const EstimateOptions& options) {
  const int k = table.num_lists();
  if (options.method == SelectionMethod::kBic &&
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
  result.max_order = options.max_order;
  result.p_threshold = options.p_threshold;
  result.seed = options.seed;
  result.caveats = StandardCaveats();

  auto cache = std::make_shared<ModelCheckCache>();
  std::optional<ModelFit> chosen;
  PopulationEstimator estimator;

  // Candidate list for the output (and, for BIC, the selection itself).
  // Stepwise reports the pairwise models alongside only while they are few.
  std::vector<HierarchicalModel> all_models;
  if (options.method == SelectionMethod::kBic) {
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

  if (options.method == SelectionMethod::kBic) {
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
    estimator = MakeBicEstimator(std::move(retained));
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
    estimator = MakeStepwiseEstimator(options.p_threshold);
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

  if (options.replicates > 0) {
    BcaOptions bca{options.replicates, options.seed, options.level, options.resampling, {}};
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
        "The profile likelihood interval is conditional on the chosen model; the BCa interval "
        "also reflects the uncertainty of the model choice.");
  }
  return result;
}

}  // namespace samenzicht::estimate
