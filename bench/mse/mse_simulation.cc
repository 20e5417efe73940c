// Simulation study for the multiple systems estimator.
//
// Generates populations of known size whose capture histories follow a
// log-linear model with known dependence between lists, runs `Estimate`
// (model selection, BCa bootstrap with selection redone, profile
// likelihood) on each simulated table, and prints bias, RMSE and the
// coverage of the intervals. Coverage near the nominal 0.95 (between about
// 0.90 and 0.98) is expected where the model assumptions hold.
//
// The default run is small (CI smoke test, well under a minute on two
// cores) and never fails because of the figures; exit status is non-zero
// only for bad flags (2) or an internal error (1).
//
//   mse_simulation [--sims N] [--replicates B] [--population N]
//                  [--method bic|stepwise] [--max-order N] [--seed S]
//                  [--scenario NAME|all] [--bootstrap multinomial|parametric]
#include <chrono>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "aggregator/estimate/capture_table.h"
#include "aggregator/estimate/estimate.h"

namespace samenzicht::estimate {
namespace {

struct Scenario {
  std::string name;
  std::string description;
  int num_lists;
  std::vector<double> capture_probability;  // marginal-ish, per list
  std::map<Mask, double> interactions;      // log-linear interaction terms
  std::string true_model;
};

std::vector<Scenario> Scenarios() {
  return {
      {"independent", "3 lists, independent, p = (0.15, 0.25, 0.30)", 3, {0.15, 0.25, 0.30}, {},
       "[1,2,3]"},
      {"dependent12", "3 lists, lists 1 and 2 positively dependent (log odds ratio 1.0)", 3,
       {0.15, 0.25, 0.30}, {{0b011, 1.0}}, "[12,3]"},
      {"four_lists", "4 lists, dependence 1:2 (+0.8) and 3:4 (-0.6), p = (0.2, 0.15, 0.25, 0.1)",
       4, {0.20, 0.15, 0.25, 0.10}, {{0b0011, 0.8}, {0b1100, -0.6}}, "[12,34]"},
  };
}

std::vector<double> CellProbabilities(const Scenario& s) {
  const int cells = 1 << s.num_lists;
  std::vector<double> p(cells);
  double total = 0;
  for (int h = 0; h < cells; ++h) {
    double eta = 0;
    for (int i = 0; i < s.num_lists; ++i) {
      if (h & (1 << i)) {
        const double q = s.capture_probability[i];
        eta += std::log(q / (1 - q));
      }
    }
    for (const auto& [term, gamma] : s.interactions) {
      if ((static_cast<Mask>(h) & term) == term) eta += gamma;
    }
    p[h] = std::exp(eta);
    total += p[h];
  }
  for (double& v : p) v /= total;
  return p;
}

struct Flags {
  int sims = 100;
  int replicates = 200;
  int population = 1000;
  SelectionMethod method = SelectionMethod::kBic;
  int max_order = 2;
  uint64_t seed = 20240601;
  std::string scenario = "default";
  Resampling resampling = Resampling::kParametric;  // the estimator's default
};

constexpr char kFlags[] =
    "flags: --sims N --replicates B --population N --method bic|stepwise --max-order N "
    "--seed S --scenario independent|dependent12|four_lists|all "
    "--bootstrap multinomial|parametric";

int Usage(const std::string& message) {
  std::cerr << "error: " << message << " (" << kFlags << ")\n";
  return 2;
}

int Main(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help") {
      std::cout << "mse_simulation: coverage of the multiple systems estimate's interval on "
                   "simulated capture histories\n"
                << kFlags << "\n";
      return 0;
    }
    if (i + 1 >= argc) return Usage(arg + " needs a value");
    std::string v = argv[++i];
    bool ok = true;
    if (arg == "--sims") {
      ok = absl::SimpleAtoi(v, &f.sims) && f.sims >= 1;
    } else if (arg == "--replicates") {
      ok = absl::SimpleAtoi(v, &f.replicates) && f.replicates >= 10;
    } else if (arg == "--population") {
      ok = absl::SimpleAtoi(v, &f.population) && f.population >= 10;
    } else if (arg == "--max-order") {
      ok = absl::SimpleAtoi(v, &f.max_order) && f.max_order >= 1;
    } else if (arg == "--seed") {
      ok = absl::SimpleAtoi(v, &f.seed);
    } else if (arg == "--method") {
      ok = v == "bic" || v == "stepwise";
      f.method = v == "stepwise" ? SelectionMethod::kStepwise : SelectionMethod::kBic;
    } else if (arg == "--bootstrap") {
      ok = v == "multinomial" || v == "parametric";
      f.resampling = v == "parametric" ? Resampling::kParametric : Resampling::kMultinomial;
    } else if (arg == "--scenario") {
      f.scenario = v;
    } else {
      return Usage("unknown flag " + arg);
    }
    if (!ok) return Usage("bad value for " + arg + ": " + v);
  }

  std::vector<Scenario> run;
  for (const Scenario& s : Scenarios()) {
    // The default (smoke) run uses the two three-list scenarios.
    if (f.scenario == "all" || f.scenario == s.name ||
        (f.scenario == "default" && s.num_lists == 3)) {
      run.push_back(s);
    }
  }
  if (run.empty()) return Usage("unknown scenario " + f.scenario);

  std::cout << absl::StrFormat(
      "MSE simulation: %d simulations per scenario, N = %d, %d bootstrap replicates, method %s, "
      "max order %d, seed %d, %s bootstrap\n",
      f.sims, f.population, f.replicates,
      f.method == SelectionMethod::kBic ? "bic" : "stepwise", f.max_order, f.seed,
      ResamplingName(f.resampling));
  std::cout << "Coverage should be near 0.95 (0.90-0.98) where the model assumptions hold.\n\n";

  std::mt19937_64 rng(f.seed);
  const auto start = std::chrono::steady_clock::now();
  for (const Scenario& s : run) {
    std::vector<double> probs = CellProbabilities(s);
    std::discrete_distribution<int> cell(probs.begin(), probs.end());
    int usable = 0, unreliable = 0, bca_n = 0, bca_cover = 0, prof_n = 0, prof_cover = 0,
        true_model = 0;
    double sum_err = 0, sum_sq = 0, bca_width = 0, prof_width = 0, sum_observed = 0;
    for (int sim = 0; sim < f.sims; ++sim) {
      std::vector<int64_t> counts(probs.size(), 0);
      for (int person = 0; person < f.population; ++person) ++counts[cell(rng)];
      counts[0] = 0;  // nobody sees the unseen
      absl::StatusOr<CaptureTable> table = CaptureTable::FromCounts(s.num_lists, counts);
      if (!table.ok()) {
        ++unreliable;
        continue;
      }
      sum_observed += static_cast<double>(table->observed());
      EstimateOptions o;
      o.method = f.method;
      o.max_order = std::min(f.max_order, s.num_lists - 1);
      o.replicates = f.replicates;
      o.resampling = f.resampling;
      o.seed = rng();
      absl::StatusOr<EstimateResult> r = Estimate(*table, o);
      if (!r.ok()) {
        std::cerr << "error: " << r.status().message() << "\n";
        return 1;
      }
      if (!r->reliable || !r->estimate.has_value()) {
        ++unreliable;
        continue;
      }
      ++usable;
      const double err = *r->estimate - f.population;
      sum_err += err;
      sum_sq += err * err;
      if (r->model == s.true_model) ++true_model;
      if (r->interval) {
        ++bca_n;
        bca_cover += r->interval->lower <= f.population && f.population <= r->interval->upper;
        bca_width += r->interval->upper - r->interval->lower;
      }
      if (r->profile_interval && std::isfinite(r->profile_interval->upper)) {
        ++prof_n;
        prof_cover +=
            r->profile_interval->lower <= f.population && f.population <= r->profile_interval->upper;
        prof_width += r->profile_interval->upper - r->profile_interval->lower;
      }
    }
    std::cout << absl::StrFormat("scenario %s: %s; true model %s\n", s.name, s.description,
                                 s.true_model);
    std::cout << absl::StrFormat("  mean observed        %.1f of %d\n", sum_observed / f.sims,
                                 f.population);
    if (usable == 0) {
      std::cout << absl::StrFormat("  no usable estimate in %d simulations\n\n", f.sims);
      continue;
    }
    std::cout << absl::StrFormat("  usable estimates     %d (no reliable estimate: %d)\n", usable,
                                 unreliable);
    std::cout << absl::StrFormat("  true model chosen    %.2f\n", double(true_model) / usable);
    std::cout << absl::StrFormat("  bias                 %.2f (relative %.4f)\n", sum_err / usable,
                                 sum_err / usable / f.population);
    std::cout << absl::StrFormat("  RMSE                 %.2f\n", std::sqrt(sum_sq / usable));
    if (bca_n > 0) {
      std::cout << absl::StrFormat("  coverage 95%% BCa     %.3f (n = %d, mean width %.1f)\n",
                                   double(bca_cover) / bca_n, bca_n, bca_width / bca_n);
    }
    if (prof_n > 0) {
      std::cout << absl::StrFormat("  coverage 95%% profile %.3f (n = %d, mean width %.1f)\n",
                                   double(prof_cover) / prof_n, prof_n, prof_width / prof_n);
    }
    std::cout << "\n";
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << absl::StrFormat("elapsed %.1f s\n", seconds);
  return 0;
}

}  // namespace
}  // namespace samenzicht::estimate

int main(int argc, char** argv) { return samenzicht::estimate::Main(argc, argv); }
