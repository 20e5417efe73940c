#include "estimate/loglinear.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <utility>

#include <Eigen/Dense>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace samenzicht::estimate {
namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

bool TermLess(Mask a, Mask b) {
  int pa = std::popcount(a), pb = std::popcount(b);
  if (pa != pb) return pa < pb;
  return TermName(a) < TermName(b);
}

// All non-empty sub-masks of `term`, including itself.
std::vector<Mask> SubTerms(Mask term) {
  std::vector<Mask> out;
  for (Mask s = term; s != 0; s = (s - 1) & term) out.push_back(s);
  return out;
}

double Deviance(const Eigen::VectorXd& y, const Eigen::VectorXd& mu) {
  double d = 0;
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    d += (y[i] > 0 ? y[i] * std::log(y[i] / mu[i]) : 0.0) - (y[i] - mu[i]);
  }
  return 2 * d;
}

}  // namespace

std::string TermName(Mask term) {
  std::string s;
  for (int i = 0; i < 32; ++i) {
    if (term & (Mask{1} << i)) s += static_cast<char>('1' + i);
  }
  return s;
}

HierarchicalModel HierarchicalModel::MainEffects(int num_lists) {
  std::vector<Mask> terms;
  for (int i = 0; i < num_lists; ++i) terms.push_back(Mask{1} << i);
  return HierarchicalModel(num_lists, std::move(terms));
}

absl::StatusOr<HierarchicalModel> HierarchicalModel::FromGenerators(
    int num_lists, const std::vector<Mask>& generators) {
  if (num_lists < kMinLists || num_lists > kMaxLists) {
    return absl::InvalidArgumentError(absl::StrCat("need between ", kMinLists, " and ", kMaxLists,
                                                   " lists, got ", num_lists));
  }
  const Mask all = (Mask{1} << num_lists) - 1;
  std::vector<Mask> terms = MainEffects(num_lists).terms_;
  for (Mask g : generators) {
    if (g == 0 || (g & ~all) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("term ", g, " is not a set of lists among ", num_lists));
    }
    if (std::popcount(g) >= num_lists) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the ", num_lists, "-way interaction cannot be estimated from the observable cells"));
    }
    for (Mask s : SubTerms(g)) terms.push_back(s);
  }
  std::sort(terms.begin(), terms.end(), TermLess);
  terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
  return HierarchicalModel(num_lists, std::move(terms));
}

absl::StatusOr<HierarchicalModel> HierarchicalModel::Parse(int num_lists, absl::string_view name) {
  absl::string_view s = absl::StripAsciiWhitespace(name);
  if (absl::ConsumePrefix(&s, "[")) {
    if (!absl::ConsumeSuffix(&s, "]")) {
      return absl::InvalidArgumentError(absl::StrCat("model '", name, "': missing ']'"));
    }
  }
  std::vector<Mask> generators;
  for (absl::string_view part : absl::StrSplit(s, ',', absl::SkipWhitespace())) {
    part = absl::StripAsciiWhitespace(part);
    Mask g = 0;
    for (char c : part) {
      int list = c - '0';
      if (list < 1 || list > num_lists || (g & (Mask{1} << (list - 1)))) {
        return absl::InvalidArgumentError(absl::StrCat(
            "model '", name, "': '", part, "' is not a set of distinct lists 1..", num_lists));
      }
      g |= Mask{1} << (list - 1);
    }
    generators.push_back(g);
  }
  return FromGenerators(num_lists, generators);
}

bool HierarchicalModel::Contains(Mask term) const {
  return std::find(terms_.begin(), terms_.end(), term) != terms_.end();
}

int HierarchicalModel::max_order() const {
  int m = 0;
  for (Mask t : terms_) m = std::max(m, std::popcount(t));
  return m;
}

std::vector<Mask> HierarchicalModel::Generators() const {
  std::vector<Mask> interactions, mains;
  for (Mask t : terms_) {
    bool maximal = true;
    for (Mask u : terms_) {
      if (u != t && (u & t) == t) {
        maximal = false;
        break;
      }
    }
    if (!maximal) continue;
    (std::popcount(t) > 1 ? interactions : mains).push_back(t);
  }
  auto by_name = [](Mask a, Mask b) { return TermName(a) < TermName(b); };
  std::sort(interactions.begin(), interactions.end(), by_name);
  std::sort(mains.begin(), mains.end(), by_name);
  interactions.insert(interactions.end(), mains.begin(), mains.end());
  return interactions;
}

std::string HierarchicalModel::Name() const {
  std::vector<std::string> parts;
  for (Mask g : Generators()) parts.push_back(TermName(g));
  return absl::StrCat("[", absl::StrJoin(parts, ","), "]");
}

HierarchicalModel HierarchicalModel::With(Mask term) const {
  std::vector<Mask> terms = terms_;
  for (Mask s : SubTerms(term)) terms.push_back(s);
  std::sort(terms.begin(), terms.end(), TermLess);
  terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
  return HierarchicalModel(num_lists_, std::move(terms));
}

void FillDesignRow(const ModelLayout& layout, Mask h, double* row) {
  row[0] = 1.0;
  for (size_t t = 0; t < layout.estimated_terms.size(); ++t) {
    const Mask m = layout.estimated_terms[t];
    row[1 + t] = (h & m) == m ? 1.0 : 0.0;
  }
}

ModelLayout LayoutFor(const CaptureTable& table, const HierarchicalModel& model) {
  ModelLayout layout;
  for (Mask t : model.terms()) {
    (table.Overlap(t) == 0 ? layout.minus_infinity_terms : layout.estimated_terms).push_back(t);
  }
  for (Mask h = 1; h < static_cast<Mask>(table.num_histories()); ++h) {
    bool dropped = false;
    for (Mask t : layout.minus_infinity_terms) dropped = dropped || (h & t) == t;
    if (!dropped) layout.cells.push_back(h);
  }
  return layout;
}

double PoissonLogLikelihood(const std::vector<double>& y, const std::vector<double>& mu) {
  double ll = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    ll += (y[i] > 0 ? y[i] * std::log(mu[i]) : 0.0) - mu[i] - std::lgamma(y[i] + 1);
  }
  return ll;
}

absl::StatusOr<GlmFit> FitPoissonGlm(const std::vector<double>& x_data, int rows, int cols,
                                     const std::vector<double>& y_data,
                                     const std::vector<double>* start) {
  if (rows <= 0 || cols <= 0 || x_data.size() != static_cast<size_t>(rows) * cols ||
      y_data.size() != static_cast<size_t>(rows) ||
      (start != nullptr && start->size() != static_cast<size_t>(cols))) {
    return absl::InvalidArgumentError("FitPoissonGlm: inconsistent dimensions");
  }
  Eigen::Map<const RowMatrix> x(x_data.data(), rows, cols);
  Eigen::Map<const Eigen::VectorXd> y(y_data.data(), rows);
  if (rows < cols || Eigen::ColPivHouseholderQR<Eigen::MatrixXd>(x).rank() < cols) {
    return absl::FailedPreconditionError(
        "design matrix is rank deficient: the model is not identifiable");
  }

  Eigen::VectorXd beta(cols), eta(rows), mu(rows);
  bool have_beta = false;
  if (start != nullptr) {
    beta = Eigen::Map<const Eigen::VectorXd>(start->data(), cols);
    eta = x * beta;
    mu = eta.array().exp();
    have_beta = mu.allFinite();
  }
  if (!have_beta) {
    mu = y.array() + 0.1;  // the usual starting values (as R's glm)
    eta = mu.array().log();
  }
  double dev = Deviance(y, mu);
  bool converged = false;
  int iter = 0;
  for (iter = 1; iter <= 200; ++iter) {
    Eigen::VectorXd w = mu.array().sqrt();
    Eigen::VectorXd z = eta.array() + (y - mu).array() / mu.array();
    Eigen::MatrixXd wx = w.asDiagonal() * x;
    Eigen::VectorXd wz = w.cwiseProduct(z);
    Eigen::VectorXd beta_new = wx.colPivHouseholderQr().solve(wz);
    Eigen::VectorXd eta_new = x * beta_new;
    Eigen::VectorXd mu_new = eta_new.array().exp();
    double dev_new = mu_new.allFinite() ? Deviance(y, mu_new) : INFINITY;
    // Step halving when the deviance is not finite or went up.
    for (int half = 0; have_beta && half < 60 && !(dev_new <= dev * (1 + 1e-12) + 1e-12);
         ++half) {
      beta_new = 0.5 * (beta_new + beta);
      eta_new = x * beta_new;
      mu_new = eta_new.array().exp();
      dev_new = mu_new.allFinite() ? Deviance(y, mu_new) : INFINITY;
    }
    if (!std::isfinite(dev_new)) {
      return absl::FailedPreconditionError("Poisson fit diverged: no finite maximum likelihood");
    }
    double change = std::fabs(dev_new - dev) / (std::fabs(dev_new) + 0.1);
    double step = have_beta ? (beta_new - beta).cwiseAbs().maxCoeff() : INFINITY;
    beta = beta_new;
    eta = eta_new;
    mu = mu_new;
    dev = dev_new;
    have_beta = true;
    if (change < 1e-13 || step < 1e-12) {
      converged = true;
      break;
    }
  }
  if (!converged) {
    return absl::FailedPreconditionError(
        "Poisson fit did not converge: the maximum likelihood estimate does not exist");
  }
  GlmFit fit;
  fit.coefficients.assign(beta.data(), beta.data() + cols);
  fit.fitted.assign(mu.data(), mu.data() + rows);
  fit.deviance = dev;
  fit.iterations = iter;
  return fit;
}

absl::StatusOr<ModelFit> FitModel(const CaptureTable& table, const HierarchicalModel& model,
                                  const std::vector<double>* start) {
  if (table.num_lists() != model.num_lists()) {
    return absl::InvalidArgumentError(absl::StrCat("model ", model.Name(), " is for ",
                                                   model.num_lists(), " lists, the table has ",
                                                   table.num_lists()));
  }
  ModelFit fit;
  fit.model = model;
  fit.layout = LayoutFor(table, model);
  const ModelLayout& layout = fit.layout;
  const int rows = static_cast<int>(layout.cells.size());
  const int cols = 1 + static_cast<int>(layout.estimated_terms.size());
  std::vector<double> x(static_cast<size_t>(rows) * cols), y(rows);
  for (int r = 0; r < rows; ++r) {
    y[r] = static_cast<double>(table.count(layout.cells[r]));
    FillDesignRow(layout, layout.cells[r], &x[static_cast<size_t>(r) * cols]);
  }
  // A start from another table may not match this layout (a new empty
  // overlap removes a term); then use the default starting values.
  if (start != nullptr && start->size() != static_cast<size_t>(cols)) start = nullptr;
  absl::StatusOr<GlmFit> glm = FitPoissonGlm(x, rows, cols, y, start);
  if (!glm.ok()) {
    return absl::Status(glm.status().code(),
                        absl::StrCat("model ", model.Name(), ": ", glm.status().message()));
  }
  fit.coefficients = std::move(glm->coefficients);
  fit.fitted = std::move(glm->fitted);
  fit.dark_figure = std::exp(fit.coefficients[0]);
  fit.n_hat = static_cast<double>(table.observed()) + fit.dark_figure;
  fit.log_likelihood = PoissonLogLikelihood(y, fit.fitted);
  fit.bic = model.num_parameters() * std::log(static_cast<double>(table.observed())) -
            2 * fit.log_likelihood;
  return fit;
}

}  // namespace samenzicht::estimate
