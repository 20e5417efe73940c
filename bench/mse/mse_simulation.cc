// Simulation study for the multiple systems estimator.
//
// Generates populations of known size whose capture histories follow a
// log-linear model with known dependence between lists, runs `Estimate`
// (model selection, bootstrap with selection redone: percentile and BCa limits, profile
// likelihood) on each simulated table, and prints bias, RMSE and the
// coverage of the intervals. Coverage near the nominal 0.95 (between about
// 0.90 and 0.98) is expected where the model assumptions hold.
//
// The default run is small (CI smoke test, well under a minute on two
// cores) and never fails because of the figures; exit status is non-zero
// only for bad flags (2) or an internal error (1).
//
//   mse_simulation [--sims N] [--replicates B] [--population N]
//                  [--method auto|bic|stepwise] [--max-order N] [--seed S]
//                  [--scenario NAME[,NAME]|default|all]
//                  [--bootstrap multinomial|parametric|both] [--threads T]
//                  [--p-threshold P] [--averaging] [--true-model] [--missed-links SHARE]
//                  [--no-heterogeneity-interval] [--per-table]
//
// The "shown" row is the interval the estimate carries (by default spanning the heterogeneity
// interval, estimate.h); `--no-heterogeneity-interval` gives the log-linear interval alone.
// `--per-table` prints one line per table (model, heterogeneity test, both intervals, whether
// the estimate would be published).
// Every interval method runs on the same simulated tables (and the same bootstrap seed), so
// their coverages are paired. Scenarios: 3 to 8 lists, pairwise dependence, a list pair that
// shares referrals, small and sparse tables (N 100 to 5,000), and the truth outside the
// model family (heterogeneous catchability, a three-list interaction).
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/str_format.h"
#include "estimate/bootstrap.h"
#include "estimate/capture_table.h"
#include "estimate/estimate.h"
#include "common/version.h"

namespace samenzicht::estimate {
namespace {

// A population is a mixture of classes (weights summing to 1); within a class the capture
// histories follow a log-linear model with the given capture probabilities (main effects)
// and interaction terms. One class is a log-linear model; two or more classes with different
// catchability are heterogeneity, which no log-linear model over the lists describes exactly
// (misspecification).
struct LogLinearClass {
  double weight;
  std::vector<double> capture_probability;  // per list
  std::map<Mask, double> interactions;      // log-linear interaction terms
};

struct Scenario {
  std::string name;
  std::string description;
  int num_lists;
  int population;  // 0: the --population flag
  std::vector<LogLinearClass> classes;
  std::string true_model;  // "" when the truth is outside the model family
};

std::vector<Scenario> Scenarios() {
  return {
      {"independent", "3 lists, independent, p = (0.15, 0.25, 0.30)", 3, 0,
       {{1.0, {0.15, 0.25, 0.30}, {}}}, "[1,2,3]"},
      {"dependent12", "3 lists, lists 1 and 2 positively dependent (log odds ratio 1.0)", 3, 0,
       {{1.0, {0.15, 0.25, 0.30}, {{0b011, 1.0}}}}, "[12,3]"},
      {"four_lists", "4 lists, dependence 1:2 (+0.8) and 3:4 (-0.6), p = (0.2, 0.15, 0.25, 0.1)",
       4, 0, {{1.0, {0.20, 0.15, 0.25, 0.10}, {{0b0011, 0.8}, {0b1100, -0.6}}}}, "[12,34]"},
      {"pairwise5", "5 lists, pairwise 1:2 (+1.0), 2:3 (+0.5), 4:5 (-0.5), N = 1000", 5, 1000,
       {{1.0, {0.15, 0.20, 0.12, 0.18, 0.10}, {{0b00011, 1.0}, {0b00110, 0.5}, {0b11000, -0.5}}}},
       "[12,23,45]"},
      {"referral6",
       "6 lists, list 2 takes referrals from list 1 (1:2 +2.0), 5:6 (+0.7), N = 2000", 6, 2000,
       {{1.0, {0.12, 0.06, 0.15, 0.10, 0.08, 0.12}, {{0b000011, 2.0}, {0b110000, 0.7}}}},
       "[12,56,3,4]"},
      {"mixed7",
       "7 lists, 1:2 (+1.0), 3:4 (+0.6), 5:6 (-0.5), list 7 independent, N = 3000", 7, 3000,
       {{1.0, {0.10, 0.07, 0.12, 0.09, 0.14, 0.08, 0.11},
         {{0b0000011, 1.0}, {0b0001100, 0.6}, {0b0110000, -0.5}}}},
       "[12,34,56,7]"},
      {"sparse8", "8 lists, small and sparse, 1:2 (+1.0), 3:4 (+0.8), N = 500", 8, 500,
       {{1.0, {0.10, 0.08, 0.12, 0.10, 0.06, 0.09, 0.07, 0.11},
         {{0b00000011, 1.0}, {0b00001100, 0.8}}}},
       "[12,34,5,6,7,8]"},
      {"small4", "4 lists, N = 100, 1:2 (+1.0)", 4, 100,
       {{1.0, {0.25, 0.20, 0.30, 0.15}, {{0b0011, 1.0}}}}, "[12,3,4]"},
      {"large5", "5 lists, N = 5000, 1:3 (+0.6), 2:4 (-0.4)", 5, 5000,
       {{1.0, {0.08, 0.10, 0.06, 0.12, 0.09}, {{0b00101, 0.6}, {0b01010, -0.4}}}},
       "[13,24,5]"},
      {"hetero5",
       "5 lists, heterogeneous catchability by category: 30% of persons 3x as visible, N = "
       "2000 (outside the model family)",
       5, 2000,
       {{0.7, {0.06, 0.08, 0.05, 0.07, 0.06}, {}}, {0.3, {0.18, 0.24, 0.15, 0.21, 0.18}, {}}},
       ""},
      {"hetero5_large",
       "hetero5 with N = 10000: the same heterogeneity in a table five times as large "
       "(outside the model family)",
       5, 10000,
       {{0.7, {0.06, 0.08, 0.05, 0.07, 0.06}, {}}, {0.3, {0.18, 0.24, 0.15, 0.21, 0.18}, {}}},
       ""},
      {"threeway4",
       "4 lists, a three-list interaction 1:2:3 (+1.2) beyond the order-2 models, N = 1000", 4,
       1000, {{1.0, {0.15, 0.2, 0.18, 0.12}, {{0b0011, 0.3}, {0b0111, 1.2}}}}, ""},
  };
}

std::vector<double> CellProbabilities(const Scenario& s) {
  const int cells = 1 << s.num_lists;
  std::vector<double> mixture(cells, 0.0);
  for (const LogLinearClass& c : s.classes) {
    std::vector<double> p(cells);
    double total = 0;
    for (int h = 0; h < cells; ++h) {
      double eta = 0;
      for (int i = 0; i < s.num_lists; ++i) {
        if (h & (1 << i)) {
          const double q = c.capture_probability[i];
          eta += std::log(q / (1 - q));
        }
      }
      for (const auto& [term, gamma] : c.interactions) {
        if ((static_cast<Mask>(h) & term) == term) eta += gamma;
      }
      p[h] = std::exp(eta);
      total += p[h];
    }
    for (int h = 0; h < cells; ++h) mixture[h] += c.weight * p[h] / total;
  }
  return mixture;
}

struct Flags {
  int sims = 100;
  int replicates = 200;
  int population = 1000;
  SelectionMethod method = SelectionMethod::kAuto;  // the estimator's default
  int max_order = 2;
  double p_threshold = EstimateOptions().p_threshold;  // stepwise
  uint64_t seed = 20240601;
  std::string scenario = "default";
  // Interval methods compared (each with the model choice redone per replicate).
  std::vector<Resampling> resamplings = {Resampling::kMultinomial, Resampling::kParametric};
  int threads = 1;
  // Also run the default interval with BIC model averaging (Occam's window) where the
  // selection is BIC, and report its bias and coverage.
  bool averaging = false;
  // Also run the default interval with the scenario's true model given (no model choice), to
  // tell the cost of the model choice from that of the table's sparseness.
  bool true_model = false;
  // Linkage errors: this share of the observed persons on two or more lists is split in two
  // (a missed link, `PerturbForLinkage`) before estimation, and the expected number of such
  // splits is given to the estimator as the linkage's error estimate.
  double missed_link_share = 0;
  // The default interval spans the log-linear one and the one with a heterogeneity term
  // (EstimateOptions::heterogeneity_interval); false: the log-linear interval alone.
  bool heterogeneity_interval = true;
  // One line per table: chosen model, estimate, heterogeneity test, the intervals, published.
  bool per_table = false;
};

constexpr char kFlags[] =
    "flags: --sims N --replicates B --population N --method auto|bic|stepwise --max-order N "
    "--p-threshold P --seed S --scenario NAME[,NAME...]|default|all --bootstrap multinomial|parametric|both "
    "--threads T --averaging --true-model --missed-links SHARE --no-heterogeneity-interval --per-table";

int Usage(const std::string& message) {
  std::cerr << "error: " << message << " (" << kFlags << ")\n";
  return 2;
}

double CpuSeconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

struct Coverage {
  int n = 0, cover = 0, warned = 0;
  int truth_below = 0, truth_above = 0;  // misses: the interval lies above / below the truth
  int lower_at_min = 0, upper_at_max = 0;  // BCa ends at the smallest / largest replicate
  double width = 0;
  void Add(double lower, double upper, double truth, bool warning) {
    ++n;
    cover += lower <= truth && truth <= upper;
    truth_below += truth < lower;
    truth_above += truth > upper;
    width += upper - lower;
    warned += warning;
  }
  void AddBca(const BcaResult& i, double truth, bool warning) {
    Add(i.bca_lower, i.bca_upper, truth, warning);
    // The BCa ends before the widening for linkage error (bootstrap.h).
    lower_at_min += i.bca_lower + std::max(i.linkage_shift, 0.0) <= i.min_replicate;
    upper_at_max += i.bca_upper - std::max(-i.linkage_shift, 0.0) >= i.max_replicate;
  }
  std::string Row(const std::string& name) const {
    if (n == 0) return absl::StrFormat("  coverage 95%% %-12s none\n", name);
    const double p = double(cover) / n;
    return absl::StrFormat(
        "  coverage 95%% %-12s %.3f (MC s.e. %.3f, n = %d, mean width %.1f, end flagged %d; "
        "missed: truth below %d, above %d; lower end the smallest replicate %d, upper end the "
        "largest %d)\n",
        name, p, std::sqrt(p * (1 - p) / n), n, width / n, warned, truth_below, truth_above,
        lower_at_min, upper_at_max);
  }
};

int Main(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help") {
      std::cout << "mse_simulation: coverage of the multiple systems estimate's intervals on "
                   "simulated capture histories\n"
                << kFlags << "\nscenarios:";
      for (const Scenario& s : Scenarios()) std::cout << " " << s.name;
      std::cout << "\n";
      return 0;
    }
    if (arg == "--averaging") {
      f.averaging = true;
      continue;
    }
    if (arg == "--true-model") {
      f.true_model = true;
      continue;
    }
    if (arg == "--per-table") {
      f.per_table = true;
      continue;
    }
    if (arg == "--no-heterogeneity-interval") {
      f.heterogeneity_interval = false;
      continue;
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
    } else if (arg == "--p-threshold") {
      ok = absl::SimpleAtod(v, &f.p_threshold) && f.p_threshold > 0 && f.p_threshold < 1;
    } else if (arg == "--missed-links") {
      ok = absl::SimpleAtod(v, &f.missed_link_share) && f.missed_link_share >= 0 &&
           f.missed_link_share < 1;
    } else if (arg == "--seed") {
      ok = absl::SimpleAtoi(v, &f.seed);
    } else if (arg == "--threads") {
      ok = absl::SimpleAtoi(v, &f.threads) && f.threads >= 1 && f.threads <= 64;
    } else if (arg == "--method") {
      ok = v == "bic" || v == "stepwise" || v == "auto";
      f.method = v == "stepwise" ? SelectionMethod::kStepwise
                 : v == "bic"    ? SelectionMethod::kBic
                                 : SelectionMethod::kAuto;
    } else if (arg == "--bootstrap") {
      ok = v == "multinomial" || v == "parametric" || v == "both";
      if (v == "multinomial") f.resamplings = {Resampling::kMultinomial};
      if (v == "parametric") f.resamplings = {Resampling::kParametric};
    } else if (arg == "--scenario") {
      f.scenario = v;
    } else {
      return Usage("unknown flag " + arg);
    }
    if (!ok) return Usage("bad value for " + arg + ": " + v);
  }

  std::vector<Scenario> run;
  const std::vector<std::string> wanted = absl::StrSplit(f.scenario, ',');
  for (const Scenario& s : Scenarios()) {
    // The default (smoke) run uses the two three-list scenarios.
    bool named = std::find(wanted.begin(), wanted.end(), s.name) != wanted.end();
    if (f.scenario == "all" || named || (f.scenario == "default" && s.num_lists == 3)) {
      run.push_back(s);
    }
  }
  if (run.empty()) return Usage("unknown scenario " + f.scenario);

  std::cout << absl::StrFormat(
      "MSE simulation: %d simulations per scenario, N = %d unless the scenario sets it, %d "
      "bootstrap replicates, method %s, max order %d, stepwise p-threshold %g, seed %d\n",
      f.sims, f.population, f.replicates, SelectionMethodName(f.method), f.max_order,
      f.p_threshold, f.seed);
  if (f.missed_link_share > 0) {
    std::cout << absl::StrFormat(
        "Linkage errors: %.1f%% of the observed persons on two or more lists split in two before "
        "estimation; the expected number given to the estimator (the BCa rows include it).\n",
        100 * f.missed_link_share);
  }
  std::cout << "Coverage should be near 0.95 (0.90-0.98) where the model assumptions hold.\n\n";

  std::mt19937_64 rng(f.seed);
  const auto start = std::chrono::steady_clock::now();
  for (const Scenario& s : run) {
    const int population = s.population > 0 ? s.population : f.population;
    std::vector<double> probs = CellProbabilities(s);
    std::discrete_distribution<int> cell(probs.begin(), probs.end());
    int usable = 0, no_estimate = 0, bad_fit = 0, true_model = 0, heterogeneous = 0;
    // The default interval where the heterogeneity test did not / did flag the table, and
    // where the estimate would be published (WhyNotPublishable) or withheld.
    Coverage unflagged, flagged, published, withheld, shown;
    // Tables whose heterogeneity test has p below 0.01, 0.05, 0.10, 0.20.
    constexpr double kLevels[] = {0.01, 0.05, 0.10, 0.20};
    int het_below[4] = {0, 0, 0, 0};
    double sum_err = 0, sum_sq = 0, sum_observed = 0, cpu = 0, cpu_max = 0, wall_max = 0;
    std::map<Resampling, Coverage> bca;
    // The same replicates: percentile interval (per resampling), and the union of it and the
    // BCa interval (default resampling).
    std::map<Resampling, Coverage> percentile;
    Coverage bca_or_percentile;
    Coverage profile, bca_reliable_only, averaged, given_truth, linkage_ignored;
    double given_err = 0;
    int averaged_n = 0;
    double averaged_err = 0, averaged_sq = 0;
    for (int sim = 0; sim < f.sims; ++sim) {
      std::vector<int64_t> counts(probs.size(), 0);
      for (int person = 0; person < population; ++person) ++counts[cell(rng)];
      counts[0] = 0;  // nobody sees the unseen
      const uint64_t seed = rng();
      LinkageErrorCounts linkage_error;
      if (f.missed_link_share > 0) {
        int64_t multi = 0;
        for (size_t h = 1; h < counts.size(); ++h) {
          if (__builtin_popcountll(h) >= 2) multi += counts[h];
        }
        linkage_error.missed_links = f.missed_link_share * static_cast<double>(multi);
        std::mt19937_64 link_rng(seed ^ 0x5bd1e995ULL);
        PerturbForLinkage(counts, linkage_error.missed_links, 0, link_rng);
      }
      for (int64_t c : counts) sum_observed += static_cast<double>(c);
      absl::StatusOr<CaptureTable> table = CaptureTable::FromCounts(s.num_lists, counts);
      if (!table.ok()) {
        ++no_estimate;
        continue;
      }
      bool first = true;
      for (Resampling resampling : f.resamplings) {
        EstimateOptions o;
        o.method = f.method;
        o.max_order = std::min(f.max_order, s.num_lists - 1);
        o.p_threshold = f.p_threshold;
        o.replicates = f.replicates;
        o.resampling = resampling;
        o.seed = seed;
        o.threads = f.threads;
        o.profile_interval = first;
        o.linkage_error = linkage_error;
        o.heterogeneity_interval = f.heterogeneity_interval;
        const double cpu0 = CpuSeconds();
        const auto wall0 = std::chrono::steady_clock::now();
        absl::StatusOr<EstimateResult> r = Estimate(*table, o);
        const double used = CpuSeconds() - cpu0;
        const double wall =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
        if (!r.ok()) {
          if (r.status().code() == absl::StatusCode::kInvalidArgument) {
            // e.g. a list that saw no one in a small sparse population
            if (first) ++no_estimate;
            break;
          }
          std::cerr << "error: " << r.status().message() << "\n";
          return 1;
        }
        if (!r->estimate.has_value()) {
          if (first) ++no_estimate;
          break;
        }
        if (first) {
          cpu += used;
          cpu_max = std::max(cpu_max, used);
          wall_max = std::max(wall_max, wall);
          ++usable;
          if (!r->reliable) ++bad_fit;
          if (r->heterogeneity && r->heterogeneity->flagged) ++heterogeneous;
          for (int l = 0; l < 4; ++l) {
            het_below[l] += r->heterogeneity && r->heterogeneity->p_value < kLevels[l];
          }
          const double err = *r->estimate - population;
          sum_err += err;
          sum_sq += err * err;
          if (r->model == s.true_model) ++true_model;
          if (r->profile_interval && std::isfinite(r->profile_interval->upper)) {
            profile.Add(r->profile_interval->lower, r->profile_interval->upper, population,
                        false);
          }
        }
        if (r->interval) {
          const BcaResult& i = *r->interval;
          bca[resampling].AddBca(i, population, !r->interval_warnings.empty());
          percentile[resampling].Add(i.percentile_lower, i.percentile_upper, population, false);
          if (first) {
            bca_or_percentile.Add(std::min(i.bca_lower, i.percentile_lower),
                                  std::max(i.bca_upper, i.percentile_upper), population, false);
          }
          if (first) {
            const bool het = r->heterogeneity && r->heterogeneity->flagged;
            (het ? flagged : unflagged)
                .Add(r->interval->lower, r->interval->upper, population,
                     !r->interval_warnings.empty());
            shown.Add(r->interval->lower, r->interval->upper, population,
                      !r->interval_warnings.empty());
            if (f.per_table) {
              const std::string why = WhyNotPublishable(*r);
              std::cout << absl::StrFormat(
                  "  table %d: model %s, N-hat %.0f, heterogeneity %s tau %.3f p %.3f, log-linear "
                  "[%.0f, %.0f], with term [%s], shown [%.0f, %.0f] %s, %s\n",
                  sim, r->model, *r->estimate, r->heterogeneity ? r->heterogeneity->term : "-",
                  r->heterogeneity ? r->heterogeneity->tau : NAN,
                  r->heterogeneity ? r->heterogeneity->p_value : NAN, i.percentile_lower,
                  i.percentile_upper,
                  r->heterogeneity_interval
                      ? absl::StrFormat("%.0f, %.0f", r->heterogeneity_interval->lower,
                                        r->heterogeneity_interval->upper)
                      : r->heterogeneity_interval_note,
                  r->interval->lower, r->interval->upper,
                  r->interval->lower <= population && population <= r->interval->upper
                      ? "covers"
                      : "misses",
                  why.empty() ? "published" : why.substr(0, 60));
            }
            (WhyNotPublishable(*r).empty() ? published : withheld)
                .Add(r->interval->lower, r->interval->upper, population,
                     !r->interval_warnings.empty());
          }
          if (first && r->reliable) {
            bca_reliable_only.Add(r->interval->lower, r->interval->upper, population,
                                  !r->interval_warnings.empty());
          }
        }
        first = false;
      }
      if (f.missed_link_share > 0 && !first) {
        EstimateOptions o;  // the same estimate taking the table as exact
        o.method = f.method;
        o.max_order = std::min(f.max_order, s.num_lists - 1);
        o.p_threshold = f.p_threshold;
        o.replicates = f.replicates;
        o.seed = seed;
        o.threads = f.threads;
        o.profile_interval = false;
        absl::StatusOr<EstimateResult> r = Estimate(*table, o);
        if (r.ok() && r->estimate.has_value() && r->interval) {
          linkage_ignored.AddBca(*r->interval, population, !r->interval_warnings.empty());
        }
      }
      if (f.true_model && !first && !s.true_model.empty()) {
        EstimateOptions o;
        o.model = s.true_model;
        o.replicates = f.replicates;
        o.seed = seed;
        o.threads = f.threads;
        o.profile_interval = false;
        absl::StatusOr<EstimateResult> r = Estimate(*table, o);
        if (r.ok() && r->estimate.has_value() && r->interval) {
          given_err += *r->estimate - population;
          given_truth.AddBca(*r->interval, population, !r->interval_warnings.empty());
        }
      }
      if (f.averaging && !first) {
        EstimateOptions o;
        o.method = f.method;
        o.max_order = std::min(f.max_order, s.num_lists - 1);
        o.replicates = f.replicates;
        o.seed = seed;
        o.threads = f.threads;
        o.profile_interval = false;
        o.model_averaging = true;
        if (o.method == SelectionMethod::kAuto) {
          absl::StatusOr<std::vector<HierarchicalModel>> all =
              EnumerateHierarchicalModels(s.num_lists, o.max_order);
          if (all.ok() && all->size() <= kAutoBicMaxModels) o.method = SelectionMethod::kBic;
        }
        if (o.method == SelectionMethod::kBic) {
          absl::StatusOr<EstimateResult> r = Estimate(*table, o);
          if (r.ok() && r->estimate.has_value()) {
            ++averaged_n;
            const double err = *r->estimate - population;
            averaged_err += err;
            averaged_sq += err * err;
            if (r->interval) {
              averaged.Add(r->interval->lower, r->interval->upper, population,
                           !r->interval_warnings.empty());
            }
          }
        }
      }
    }
    std::cout << absl::StrFormat("scenario %s: %s; true model %s\n", s.name, s.description,
                                 s.true_model.empty() ? "outside the model family" : s.true_model);
    std::cout << absl::StrFormat("  mean observed        %.1f of %d\n", sum_observed / f.sims,
                                 population);
    if (usable == 0) {
      std::cout << absl::StrFormat("  no usable estimate in %d simulations\n\n", f.sims);
      continue;
    }
    std::cout << absl::StrFormat(
        "  estimates            %d (no estimate: %d; marked unreliable, e.g. bad fit: %d)\n",
        usable, no_estimate, bad_fit);
    std::cout << absl::StrFormat("  true model chosen    %.2f\n", double(true_model) / usable);
    std::cout << absl::StrFormat(
        "  heterogeneity flagged %d of %d (test p < %.2f); p < 0.01: %d, < 0.05: %d, < 0.10: "
        "%d, < 0.20: %d\n",
        heterogeneous, usable, kHeterogeneityAlpha, het_below[0], het_below[1], het_below[2],
        het_below[3]);
    std::cout << absl::StrFormat("  bias                 %.2f (relative %.4f)\n", sum_err / usable,
                                 sum_err / usable / population);
    std::cout << absl::StrFormat("  RMSE                 %.2f\n", std::sqrt(sum_sq / usable));
    for (Resampling r : f.resamplings) {
      std::cout << bca[r].Row(absl::StrCat("BCa ", ResamplingName(r)));
    }
    for (Resampling r : f.resamplings) {
      std::cout << percentile[r].Row(absl::StrCat("percentile ", ResamplingName(r)));
    }
    std::cout << bca_or_percentile.Row(
        absl::StrCat("BCa or percentile ", ResamplingName(f.resamplings.front())));
    std::cout << shown.Row(absl::StrCat("default ", ResamplingName(f.resamplings.front()),
                                        f.heterogeneity_interval ? " (shown: with heterogeneity)"
                                                                 : " (shown)"));
    std::cout << bca_reliable_only.Row(
        absl::StrCat("default ", ResamplingName(f.resamplings.front()), " (reliable only)"));
    std::cout << unflagged.Row(absl::StrCat("default ", ResamplingName(f.resamplings.front()),
                                            " (heterogeneity not flagged)"));
    std::cout << flagged.Row(absl::StrCat("default ", ResamplingName(f.resamplings.front()),
                                          " (heterogeneity flagged)"));
    std::cout << published.Row(absl::StrCat("default ", ResamplingName(f.resamplings.front()),
                                            " (published)"));
    std::cout << withheld.Row(absl::StrCat("default ", ResamplingName(f.resamplings.front()),
                                           " (withheld: unreliable or not informative)"));
    std::cout << profile.Row("profile");
    if (f.missed_link_share > 0) {
      std::cout << linkage_ignored.Row("BCa multinomial, linkage error ignored");
    }
    if (f.true_model && given_truth.n > 0) {
      std::cout << absl::StrFormat("  true model given: bias %.2f\n", given_err / given_truth.n);
      std::cout << given_truth.Row("BCa multinomial, true model given");
    }
    if (f.averaging) {
      if (averaged_n == 0) {
        std::cout << "  model averaging      not run (selection is not BIC)\n";
      } else {
        std::cout << absl::StrFormat("  averaged: bias       %.2f (relative %.4f), RMSE %.2f\n",
                                     averaged_err / averaged_n,
                                     averaged_err / averaged_n / population,
                                     std::sqrt(averaged_sq / averaged_n));
        std::cout << averaged.Row("BCa multinomial, BIC-averaged");
      }
    }
    std::cout << absl::StrFormat("  CPU per estimate     %.2f s mean, %.2f s max (%s, with "
                                 "profile; %d threads); wall %.2f s max\n",
                                 cpu / usable, cpu_max, ResamplingName(f.resamplings.front()),
                                 f.threads, wall_max);
    std::cout << "\n" << std::flush;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << absl::StrFormat("elapsed %.1f s\n", seconds);
  return 0;
}

}  // namespace
}  // namespace samenzicht::estimate

int main(int argc, char** argv) {
  if (samenzicht::cli::PrintVersionIfAsked(argc, argv, "mse_simulation")) return 0;
  return samenzicht::estimate::Main(argc, argv);
}
