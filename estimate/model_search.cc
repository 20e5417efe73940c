#include "estimate/model_search.h"

#include <algorithm>
#include <bit>
#include <functional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "estimate/distributions.h"
#include "common/status_macros.h"

namespace samenzicht::estimate {
namespace {

absl::StatusOr<ModelCheck> Check(const CaptureTable& table, const HierarchicalModel& model,
                                 ModelCheckCache* cache) {
  return cache != nullptr ? cache->Check(table, model) : CheckModel(table, model);
}

}  // namespace

absl::StatusOr<std::vector<HierarchicalModel>> EnumerateHierarchicalModels(int num_lists,
                                                                           int max_order) {
  if (num_lists < kMinLists || num_lists > kMaxLists) {
    return absl::InvalidArgumentError(absl::StrCat("need between ", kMinLists, " and ", kMaxLists,
                                                   " lists, got ", num_lists));
  }
  if (max_order < 1 || max_order > num_lists - 1) {
    return absl::InvalidArgumentError(absl::StrCat("maximum order must be between 1 and ",
                                                   num_lists - 1, " for ", num_lists,
                                                   " lists, got ", max_order));
  }
  // Candidate interactions by increasing order, so that when a term is
  // considered all its sub-terms have already been decided.
  std::vector<Mask> candidates;
  for (Mask t = 1; t < (Mask{1} << num_lists); ++t) {
    int order = std::popcount(t);
    if (order >= 2 && order <= max_order) candidates.push_back(t);
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](Mask a, Mask b) { return std::popcount(a) < std::popcount(b); });
  std::vector<char> included(size_t{1} << num_lists, 0);
  for (int i = 0; i < num_lists; ++i) included[Mask{1} << i] = 1;
  std::vector<Mask> chosen;
  std::vector<std::vector<Mask>> models;
  bool too_many = false;
  std::function<void(size_t)> visit = [&](size_t k) {
    if (too_many) return;
    if (k == candidates.size()) {
      if (models.size() >= kMaxEnumeratedModels) {
        too_many = true;
        return;
      }
      models.push_back(chosen);
      return;
    }
    visit(k + 1);  // without candidates[k]
    const Mask t = candidates[k];
    for (int i = 0; i < num_lists; ++i) {
      const Mask bit = Mask{1} << i;
      if ((t & bit) && !included[t & ~bit]) return;  // a facet is missing
    }
    included[t] = 1;
    chosen.push_back(t);
    visit(k + 1);
    chosen.pop_back();
    included[t] = 0;
  };
  visit(0);
  if (too_many) {
    return absl::ResourceExhaustedError(
        absl::StrCat("more than ", kMaxEnumeratedModels, " hierarchical models for ", num_lists,
                     " lists at maximum order ", max_order,
                     "; lower --max-order or use --method stepwise"));
  }
  std::stable_sort(models.begin(), models.end(),
                   [](const auto& a, const auto& b) { return a.size() < b.size(); });
  std::vector<HierarchicalModel> out;
  out.reserve(models.size());
  for (const auto& generators : models) {
    ASSIGN_OR_RETURN(HierarchicalModel m,
                         HierarchicalModel::FromGenerators(num_lists, generators));
    out.push_back(std::move(m));
  }
  return out;
}

absl::StatusOr<std::vector<CandidateModel>> FitCandidates(
    const CaptureTable& table, const std::vector<HierarchicalModel>& models,
    ModelCheckCache* cache) {
  std::vector<CandidateModel> valid, failed;
  for (const HierarchicalModel& model : models) {
    CandidateModel c{model, {}, std::nullopt, ""};
    ASSIGN_OR_RETURN(c.check, Check(table, model, cache));
    if (!c.check.ok()) {
      c.failure = c.check.Reason();
      failed.push_back(std::move(c));
      continue;
    }
    absl::StatusOr<ModelFit> fit = FitModel(table, model);
    if (!fit.ok()) {
      if (fit.status().code() != absl::StatusCode::kFailedPrecondition) return fit.status();
      c.failure = std::string(fit.status().message());
      failed.push_back(std::move(c));
      continue;
    }
    c.fit = std::move(*fit);
    valid.push_back(std::move(c));
  }
  // Sort indices, not the candidates themselves (cheaper, and keeps GCC's
  // optional<> flow analysis quiet).
  std::vector<double> bic;
  for (const CandidateModel& c : valid) bic.push_back(c.fit->bic);
  std::vector<size_t> order(valid.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return bic[a] < bic[b]; });
  std::vector<CandidateModel> out;
  out.reserve(valid.size() + failed.size());
  for (size_t i : order) out.push_back(std::move(valid[i]));
  for (CandidateModel& c : failed) out.push_back(std::move(c));
  return out;
}

absl::StatusOr<StepwiseResult> StepwiseSelect(const CaptureTable& table, double p_threshold,
                                              ModelCheckCache* cache) {
  const int k = table.num_lists();
  HierarchicalModel model = HierarchicalModel::MainEffects(k);
  ASSIGN_OR_RETURN(ModelCheck start_check, Check(table, model, cache));
  if (!start_check.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("main-effects model: ", start_check.Reason()));
  }
  StepwiseResult result;
  ASSIGN_OR_RETURN(result.fit, FitModel(table, model));

  std::vector<Mask> pairs;
  for (int i = 0; i < k; ++i) {
    for (int j = i + 1; j < k; ++j) pairs.push_back((Mask{1} << i) | (Mask{1} << j));
  }
  std::vector<bool> in_model(pairs.size(), false);
  for (size_t cycle = 0; cycle < pairs.size(); ++cycle) {
    std::vector<double> p(pairs.size(), 1.0);
    for (size_t j = 0; j < pairs.size(); ++j) {
      if (in_model[j]) continue;
      const Mask pair = pairs[j];
      double expected = 0;
      const ModelLayout& layout = result.fit.layout;
      for (size_t c = 0; c < layout.cells.size(); ++c) {
        if ((layout.cells[c] & pair) == pair) expected += result.fit.fitted[c];
      }
      const int64_t overlap = table.Overlap(pair);
      p[j] = std::min(PoissonLowerTail(overlap, expected), PoissonUpperTail(overlap, expected));
    }
    // The interaction with the smallest p-value (first on ties) among those whose model passes
    // the existence and identifiability tests. Testing in order of p-value and stopping at the
    // first that passes gives the same choice as testing every one (a failing one counts as
    // p = 1), with one or two linear programmes per step instead of one per pair.
    std::vector<size_t> order(pairs.size());
    for (size_t j = 0; j < order.size(); ++j) order[j] = j;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
    size_t best = pairs.size();
    for (size_t j : order) {
      if (in_model[j]) continue;
      if (!(p[j] < p_threshold)) break;
      ASSIGN_OR_RETURN(ModelCheck check, Check(table, model.With(pairs[j]), cache));
      if (check.ok()) {
        best = j;
        break;
      }
    }
    if (best == pairs.size()) break;
    model = model.With(pairs[best]);
    in_model[best] = true;
    ASSIGN_OR_RETURN(result.fit, FitModel(table, model));
    result.added.push_back({pairs[best], p[best]});
  }
  return result;
}

}  // namespace samenzicht::estimate
