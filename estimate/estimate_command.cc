#include "estimate/estimate_command.h"

#include <cmath>
#include <iostream>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "estimate/capture_table.h"

namespace samenzicht::estimate {
namespace {

constexpr absl::string_view kUsage =
    R"(usage: aggregator estimate --in HISTORIES.csv [options]

Estimates the total number of persons, including those no list saw, by
multiple systems estimation (Poisson log-linear models on the capture
histories of K >= 3 lists).

  --in PATH             CSV with header list1,...,listK,count and one row per
                        observed capture history (0/1 per list, count >= 0)
  --method M            auto (default): bic while there are at most 1024
                        candidate models (up to 5 lists at order 2), stepwise
                        above; bic: minimum BIC over all hierarchical models
                        up to --max-order; stepwise: Chan, Silverman & Vincent
                        (2021) stepwise selection of two-list interactions
  --model M             no model choice: fit model M (e.g. "[12,3]") and print
                        its coefficients, fitted values, deviance and BIC
  --max-order N         highest interaction order for bic (default 2)
  --p-threshold P       p-value to add an interaction, stepwise (default 0.02)
  --format F            json (default) or table
  --replicates N        bootstrap replicates (default 1000; 0 = none)
  --interval I          percentile (default): the replicates' 2.5% and 97.5%
                        quantiles; bca: bias-corrected and accelerated, as the
                        reference R packages (reproduces their intervals)
  --seed N              bootstrap random seed (default 1234)
  --bootstrap R         multinomial (default): resample the observed persons
                        and redo the model choice in each replicate, as the
                        reference R packages; parametric: draw the replicates
                        from the chosen model (Buckland & Garthwaite 1991;
                        narrower, under-covers when the model is wrong)
  --threads N           worker threads for the bootstrap (default 2)
  --bootstrap-models N  bic: best models re-fitted per replicate
                        (default: all for 3 lists, 20 for 4, 100 for 5+)
  --no-profile          skip the profile likelihood interval
  --no-heterogeneity-interval
                        the log-linear interval alone (as the reference R
                        packages); by default the interval also spans the
                        replicates refitted with a heterogeneity term
  --model-averaging     bic only: the estimate is the average of the models
                        within --averaging-window of the smallest BIC, weighted
                        by exp(-BIC/2), and the bootstrap averages the same way
                        in every replicate
  --averaging-window W  BIC difference for --model-averaging (default 5.99 =
                        2 ln 20, Occam's window)
  --missed-links X      linkage error to include in the interval: expected
                        number of persons counted twice in the table (default 0)
  --false-links X       expected number of wrong merges in the table (default 0)
  --help                this text
)";

struct UsageError {
  std::string message;
};

std::string Num(double v) {
  if (!std::isfinite(v)) return "null";
  return absl::StrFormat("%.10g", v);
}

std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string MethodName(SelectionMethod m) { return SelectionMethodName(m); }

std::string HistoryName(Mask h, int k) {
  std::string s;
  for (int i = 0; i < k; ++i) s += (h & (Mask{1} << i)) ? '1' : '0';
  return s;
}

// Rounds for display, keeping the figure honest about its precision.
std::string Round(double v) {
  if (std::isinf(v)) return "unbounded";
  return absl::StrFormat("%.0f", v);
}

}  // namespace

std::string FormatJson(const EstimateResult& r) {
  std::vector<std::string> f;
  f.push_back(absl::StrCat("\"observed\": ", r.observed));
  f.push_back(absl::StrCat("\"lists\": ", r.num_lists));
  f.push_back(absl::StrCat("\"method\": ",
                           JsonString(r.fixed_model ? "given model" : MethodName(r.method))));
  if (r.method_automatic) f.push_back("\"method_automatic\": true");
  if (r.fixed_model) {
    // no selection parameters
  } else if (r.method == SelectionMethod::kBic) {
    f.push_back(absl::StrCat("\"max_order\": ", r.max_order));
  } else {
    f.push_back(absl::StrCat("\"p_threshold\": ", Num(r.p_threshold)));
  }
  f.push_back(absl::StrCat("\"reliable\": ", r.reliable ? "true" : "false"));
  if (!r.reliable) f.push_back(absl::StrCat("\"reason\": ", JsonString(r.reason)));
  f.push_back(absl::StrCat("\"estimate\": ", r.estimate ? Num(*r.estimate) : "null"));
  f.push_back(absl::StrCat("\"dark_figure\": ", r.dark_figure ? Num(*r.dark_figure) : "null"));
  f.push_back(absl::StrCat("\"model\": ", r.model.empty() ? "null" : JsonString(r.model)));
  f.push_back(absl::StrCat("\"bic\": ", r.bic ? Num(*r.bic) : "null"));
  if (r.model_averaging) {
    std::vector<std::string> avg;
    for (const AveragedModel& m : r.averaged_models) {
      avg.push_back(absl::StrCat("{\"model\": ", JsonString(m.model), ", \"n_hat\": ",
                                 Num(m.n_hat), ", \"bic\": ", Num(m.bic), ", \"weight\": ",
                                 Num(m.weight), "}"));
    }
    f.push_back(absl::StrCat("\"model_averaging\": {\"window\": ", Num(r.averaging_window),
                             ", \"weights\": \"exp(-BIC/2)\", \"models\": [",
                             absl::StrJoin(avg, ", "), "]}"));
  }
  if (r.linkage_error.missed_links > 0 || r.linkage_error.false_links > 0) {
    f.push_back(absl::StrCat("\"linkage_error\": {\"missed_links\": ",
                             Num(r.linkage_error.missed_links), ", \"false_links\": ",
                             Num(r.linkage_error.false_links), "}"));
  }
  if (r.goodness_of_fit) {
    const GoodnessOfFit& g = *r.goodness_of_fit;
    f.push_back(absl::StrCat("\"goodness_of_fit\": {\"deviance\": ", Num(g.deviance),
                             ", \"df\": ", g.df, ", \"p_value\": ", Num(g.p_value),
                             ", \"alpha\": ", Num(kGoodnessOfFitAlpha), "}"));
  }
  if (r.heterogeneity) {
    const HeterogeneityCheck& h = *r.heterogeneity;
    f.push_back(absl::StrCat("\"heterogeneity_check\": {\"term\": ", JsonString(h.term),
                             ", \"model\": ", JsonString(h.model), ", \"n_hat\": ",
                             Num(h.n_hat), ", \"bic\": ", Num(h.bic), ", \"tau\": ",
                             Num(h.tau), ", \"lr\": ", Num(h.lr), ", \"p_value\": ",
                             Num(h.p_value), ", \"alpha\": ", Num(kHeterogeneityAlpha),
                             ", \"flagged\": ", h.flagged ? "true" : "false", "}"));
  }
  if (!r.heterogeneity_note.empty()) {
    f.push_back(absl::StrCat("\"heterogeneity_note\": ", JsonString(r.heterogeneity_note)));
  }
  if (r.heterogeneity_interval) {
    const BcaResult& h = *r.heterogeneity_interval;
    f.push_back(absl::StrCat(
        "\"heterogeneity_interval\": {\"term\": ", JsonString(r.heterogeneity_interval_term),
        ", \"estimate\": ", Num(r.heterogeneity_interval_estimate), ", \"lower\": ",
        Num(h.lower), ", \"upper\": ", Num(h.upper), ", \"replicates\": ", h.replicates,
        ", \"failed_replicates\": ", h.failed_replicates, ", \"median_replicate\": ",
        Num(h.median_replicate), ", \"max_replicate\": ", Num(h.max_replicate), "}"));
  } else if (!r.heterogeneity_interval_note.empty()) {
    f.push_back(absl::StrCat("\"heterogeneity_interval_note\": ",
                             JsonString(r.heterogeneity_interval_note)));
  }
  if (r.fixed_model && !r.coefficients.empty()) {
    std::vector<std::string> coef, cells;
    for (const auto& [name, value] : r.coefficients) {
      coef.push_back(absl::StrCat("{\"term\": ", JsonString(name), ", \"value\": ",
                                  std::isinf(value) ? "\"-inf\"" : Num(value), "}"));
    }
    for (const FittedCell& c : r.fitted_cells) {
      cells.push_back(absl::StrCat("    {\"history\": ", JsonString(HistoryName(c.history, r.num_lists)),
                                   ", \"observed\": ", c.observed, ", \"fitted\": ", Num(c.fitted),
                                   "}"));
    }
    f.push_back(absl::StrCat("\"coefficients\": [", absl::StrJoin(coef, ", "), "]"));
    f.push_back(absl::StrCat("\"fitted\": [\n", absl::StrJoin(cells, ",\n"), "\n  ]"));
  }
  if (r.interval) {
    const BcaResult& i = *r.interval;
    f.push_back(absl::StrCat(
        "\"interval\": {\"method\": ", JsonString(IntervalMethodName(i.method)),
        ", \"lower\": ", Num(i.lower), ", \"upper\": ", Num(i.upper), ", \"level\": ", Num(i.level),
        ", \"percentile_lower\": ", Num(i.percentile_lower),
        ", \"percentile_upper\": ", Num(i.percentile_upper), ", \"bca_lower\": ", Num(i.bca_lower),
        ", \"bca_upper\": ", Num(i.bca_upper),
        ", \"replicates\": ", i.replicates, ", \"failed_replicates\": ", i.failed_replicates,
        ", \"seed\": ", r.seed, ", \"resampling\": ", JsonString(ResamplingName(i.resampling)),
        ", \"acceleration\": ", Num(i.acceleration),
        ", \"bias_correction\": ", Num(i.bias_correction),
        ", \"min_replicate\": ", Num(i.min_replicate),
        ", \"median_replicate\": ", Num(i.median_replicate),
        ", \"max_replicate\": ", Num(i.max_replicate),
        i.linkage_replicates > 0
            ? absl::StrCat(", \"linkage_shift\": ", Num(i.linkage_shift),
                           ", \"linkage_replicates\": ", i.linkage_replicates)
            : "",
        ", \"description\": ", JsonString(r.interval_description), "}"));
    std::vector<std::string> warnings;
    for (const std::string& w : r.interval_warnings) warnings.push_back(JsonString(w));
    f.push_back(absl::StrCat("\"interval_warnings\": [", absl::StrJoin(warnings, ", "), "]"));
  } else {
    f.push_back("\"interval\": null");
    if (!r.interval_note.empty()) {
      f.push_back(absl::StrCat("\"interval_note\": ", JsonString(r.interval_note)));
    }
  }
  if (r.profile_interval) {
    const ProfileInterval& p = *r.profile_interval;
    f.push_back(absl::StrCat("\"profile_interval\": {\"method\": \"profile_likelihood\", "
                             "\"lower\": ",
                             Num(p.lower), ", \"upper\": ", Num(p.upper),
                             ", \"level\": ", Num(p.level), ", \"mle\": ", Num(p.estimate), "}"));
  } else {
    f.push_back("\"profile_interval\": null");
  }
  if (r.method == SelectionMethod::kStepwise) {
    std::vector<std::string> steps;
    for (const StepwiseStep& s : r.stepwise_steps) {
      steps.push_back(absl::StrCat("{\"interaction\": ", JsonString(TermName(s.term)),
                                   ", \"p_value\": ", Num(s.p_value), "}"));
    }
    f.push_back(absl::StrCat("\"stepwise_steps\": [", absl::StrJoin(steps, ", "), "]"));
  }
  std::vector<std::string> models;
  for (const ModelSummary& m : r.models) {
    models.push_back(absl::StrCat("    {\"model\": ", JsonString(m.model),
                                  ", \"n_hat\": ", Num(m.n_hat), ", \"bic\": ", Num(m.bic), "}"));
  }
  f.push_back(absl::StrCat("\"models\": [", models.empty() ? "" : "\n",
                           absl::StrJoin(models, ",\n"), models.empty() ? "" : "\n  ", "]"));
  std::vector<std::string> excluded;
  for (const ExcludedModel& m : r.excluded_models) {
    excluded.push_back(absl::StrCat("    {\"model\": ", JsonString(m.model),
                                    ", \"reason\": ", JsonString(m.reason), "}"));
  }
  f.push_back(absl::StrCat("\"excluded_models\": [", excluded.empty() ? "" : "\n",
                           absl::StrJoin(excluded, ",\n"), excluded.empty() ? "" : "\n  ",
                           "]"));
  std::vector<std::string> caveats;
  for (const std::string& c : r.caveats) caveats.push_back("    " + JsonString(c));
  f.push_back(absl::StrCat("\"caveats\": [\n", absl::StrJoin(caveats, ",\n"), "\n  ]"));
  return absl::StrCat("{\n  ", absl::StrJoin(f, ",\n  "), "\n}\n");
}

std::string FormatTable(const EstimateResult& r) {
  std::string s;
  absl::StrAppend(&s, "Multiple systems estimate (", r.num_lists, " lists, ", r.observed,
                  " persons observed)\n");
  absl::StrAppend(&s, "Model choice:       ",
                  r.fixed_model ? "none (model given)"
                  : r.method == SelectionMethod::kBic
                      ? absl::StrCat("minimum BIC, interactions up to order ", r.max_order)
                      : absl::StrCat("stepwise, p < ", Num(r.p_threshold)),
                  r.method_automatic && !r.fixed_model ? " (chosen automatically by the number of lists)" : "",
                  "\n");
  if (!r.reliable && !r.estimate) {
    absl::StrAppend(&s, "\nNO RELIABLE ESTIMATE: ", r.reason, "\n");
  } else {
    if (!r.reliable) absl::StrAppend(&s, "\nWARNING: ", r.reason, "\n");
    absl::StrAppend(&s, r.fixed_model ? "Given model:        " : "Chosen model:       ", r.model,
                    "  (BIC ", absl::StrFormat("%.4f", *r.bic), ")\n");
    if (r.goodness_of_fit) {
      const GoodnessOfFit& g = *r.goodness_of_fit;
      absl::StrAppend(&s, "Goodness of fit:    deviance ", absl::StrFormat("%.3f", g.deviance),
                      " on ", g.df, " df",
                      g.df > 0 ? absl::StrFormat(", p = %.3g", g.p_value) : ", not testable",
                      "\n");
    }
    if (r.heterogeneity) {
      const HeterogeneityCheck& h = *r.heterogeneity;
      absl::StrAppend(&s, "Heterogeneity test: ", h.term, " term added, tau ",
                      absl::StrFormat("%.3f", h.tau), ", likelihood ratio ",
                      absl::StrFormat("%.2f", h.lr), ", one-sided p = ",
                      absl::StrFormat("%.3g", h.p_value), h.flagged ? " (FLAGGED)" : "",
                      ", estimate with it ", absl::StrFormat("%.1f", h.n_hat), "\n");
    } else if (!r.heterogeneity_note.empty()) {
      absl::StrAppend(&s, "Heterogeneity test: not possible: ", r.heterogeneity_note, "\n");
    }
    if (r.model_averaging) {
      absl::StrAppend(&s, "Model averaging:    ", r.averaged_models.size(),
                      " models within BIC ", absl::StrFormat("%.2f", r.averaging_window),
                      " of the best, weights exp(-BIC/2):");
      for (const AveragedModel& m : r.averaged_models) {
        absl::StrAppend(&s, " ", m.model, " ", absl::StrFormat("%.3f", m.weight));
      }
      absl::StrAppend(&s, "\n");
    }
    if (r.linkage_error.missed_links > 0 || r.linkage_error.false_links > 0) {
      absl::StrAppend(&s, "Linkage error:      ",
                      absl::StrFormat("%.1f", r.linkage_error.missed_links),
                      " persons counted twice, ",
                      absl::StrFormat("%.1f", r.linkage_error.false_links),
                      " wrong merges (simulated in the interval)\n");
    }
    absl::StrAppend(&s, "Estimated total:    ", absl::StrFormat("%.1f", *r.estimate),
                    "  (of whom unseen: ", absl::StrFormat("%.1f", *r.dark_figure), ")\n");
    if (r.interval) {
      absl::StrAppend(&s,
                      absl::StrFormat("%.0f%%", 100 * r.interval->level),
                      r.interval->method == IntervalMethod::kBca ? " BCa interval:   "
                                                                 : " percentile interval: ",
                      Round(r.interval->lower), " - ", Round(r.interval->upper), "  (",
                      r.interval->replicates,
                      r.interval->resampling == Resampling::kParametric ? " parametric" : "",
                      " bootstrap replicates, seed ", r.seed, ")\n");
      if (r.heterogeneity_interval) {
        absl::StrAppend(&s, "  spans the log-linear interval ",
                        Round(r.interval->method == IntervalMethod::kBca
                                  ? r.interval->bca_lower
                                  : r.interval->percentile_lower),
                        " - ",
                        Round(r.interval->method == IntervalMethod::kBca
                                  ? r.interval->bca_upper
                                  : r.interval->percentile_upper),
                        " and the one with the ", r.heterogeneity_interval_term, " term ",
                        Round(r.heterogeneity_interval->lower), " - ",
                        Round(r.heterogeneity_interval->upper), "\n");
      } else if (!r.heterogeneity_interval_note.empty()) {
        absl::StrAppend(&s, "  not widened for heterogeneity: ", r.heterogeneity_interval_note,
                        "\n");
      }
      for (const std::string& w : r.interval_warnings) {
        absl::StrAppend(&s, "  WARNING: ", w, "\n");
      }
    } else if (!r.interval_note.empty()) {
      absl::StrAppend(&s, "Bootstrap interval: none (", r.interval_note, ")\n");
    }
    if (r.profile_interval) {
      absl::StrAppend(&s,
                      absl::StrFormat("%.0f%% profile interval: ", 100 * r.profile_interval->level),
                      Round(r.profile_interval->lower), " - ", Round(r.profile_interval->upper),
                      "  (given the chosen model)\n");
    }
  }
  if (r.fixed_model && !r.coefficients.empty()) {
    absl::StrAppend(&s, "\nCoefficients:\n");
    for (const auto& [name, value] : r.coefficients) {
      absl::StrAppend(&s, absl::StrFormat("  %-12s %14.6f\n", name, value));
    }
    absl::StrAppend(&s, "\nFitted values:\n");
    absl::StrAppend(&s, absl::StrFormat("  %-10s %10s %14s\n", "history", "observed", "fitted"));
    for (const FittedCell& c : r.fitted_cells) {
      absl::StrAppend(&s, absl::StrFormat("  %-10s %10d %14.4f\n", HistoryName(c.history, r.num_lists),
                                          c.observed, c.fitted));
    }
  }
  if (!r.stepwise_steps.empty()) {
    absl::StrAppend(&s, "\nStepwise additions:\n");
    for (const StepwiseStep& st : r.stepwise_steps) {
      absl::StrAppend(&s, absl::StrFormat("  %-6s p = %.3g\n", TermName(st.term), st.p_value));
    }
  }
  if (!r.models.empty()) {
    absl::StrAppend(&s, "\nCandidate models (by BIC):\n");
    absl::StrAppend(&s, absl::StrFormat("  %-24s %12s %12s\n", "model", "N-hat", "BIC"));
    size_t shown = 0;
    for (const ModelSummary& m : r.models) {
      if (++shown > 20) {
        absl::StrAppend(&s, "  ... ", r.models.size() - 20, " more (see --format json)\n");
        break;
      }
      absl::StrAppend(&s, absl::StrFormat("  %-24s %12.4f %12.5f\n", m.model, m.n_hat, m.bic));
    }
  }
  if (!r.excluded_models.empty()) {
    absl::StrAppend(&s, "\nModels without a reliable fit: ", r.excluded_models.size(), "\n");
    size_t shown = 0;
    for (const ExcludedModel& m : r.excluded_models) {
      if (++shown > 10) {
        absl::StrAppend(&s, "  ...\n");
        break;
      }
      absl::StrAppend(&s, "  ", m.model, ": ", m.reason, "\n");
    }
  }
  absl::StrAppend(&s, "\nCaveats:\n");
  for (const std::string& c : r.caveats) absl::StrAppend(&s, "  - ", c, "\n");
  return s;
}

int RunEstimateCommand(int argc, char** argv, absl::string_view program) {
  return RunEstimateCommand(argc, argv, std::cout, std::cerr, program);
}

int RunEstimateCommand(int argc, char** argv, std::ostream& out, std::ostream& err,
                       absl::string_view program) {
  std::optional<std::string> in;
  std::string format = "json";
  EstimateOptions options;
  auto usage_error = [&](const std::string& message) {
    err << "error: " << message << " (see --help)\n";
    return 2;
  };
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      absl::string_view rest = kUsage;
      rest.remove_prefix(std::string_view("usage: aggregator estimate").size());
      out << "usage: " << program << rest;
      return 0;
    }
    if (arg == "--no-profile") {
      options.profile_interval = false;
      continue;
    }
    if (arg == "--model-averaging") {
      options.model_averaging = true;
      continue;
    }
    if (arg == "--no-heterogeneity-interval") {
      options.heterogeneity_interval = false;
      continue;
    }
    std::string name = arg, value;
    bool has_value = false;
    if (size_t eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    static const std::vector<std::string> kValued = {
        "--in", "--method", "--max-order", "--format", "--replicates",
        "--seed", "--p-threshold", "--bootstrap-models", "--bootstrap", "--interval", "--model",
        "--threads", "--averaging-window", "--missed-links", "--false-links"};
    if (std::find(kValued.begin(), kValued.end(), name) == kValued.end()) {
      return usage_error(absl::StrCat("unknown argument '", arg, "'"));
    }
    if (!has_value) {
      if (i + 1 >= argc) return usage_error(absl::StrCat(name, " needs a value"));
      value = argv[++i];
    }
    if (name == "--in") {
      in = value;
    } else if (name == "--model") {
      if (value.empty()) return usage_error("--model needs a model such as [12,3]");
      options.model = value;
    } else if (name == "--threads") {
      if (!absl::SimpleAtoi(value, &options.threads) || options.threads < 1 ||
          options.threads > 64) {
        return usage_error(absl::StrCat("--threads must be an integer from 1 to 64, got '", value,
                                        "'"));
      }
    } else if (name == "--method") {
      if (value == "auto") {
        options.method = SelectionMethod::kAuto;
      } else if (value == "bic") {
        options.method = SelectionMethod::kBic;
      } else if (value == "stepwise") {
        options.method = SelectionMethod::kStepwise;
      } else {
        return usage_error(
            absl::StrCat("--method must be auto, bic or stepwise, got '", value, "'"));
      }
    } else if (name == "--format") {
      if (value != "json" && value != "table") {
        return usage_error(absl::StrCat("--format must be json or table, got '", value, "'"));
      }
      format = value;
    } else if (name == "--max-order") {
      if (!absl::SimpleAtoi(value, &options.max_order) || options.max_order < 1) {
        return usage_error(absl::StrCat("--max-order must be a positive integer, got '", value,
                                        "'"));
      }
    } else if (name == "--replicates") {
      if (!absl::SimpleAtoi(value, &options.replicates) || options.replicates < 0 ||
          (options.replicates > 0 && options.replicates < 10) || options.replicates > 1000000) {
        return usage_error(absl::StrCat(
            "--replicates must be 0 or an integer from 10 to 1000000, got '", value, "'"));
      }
    } else if (name == "--seed") {
      if (!absl::SimpleAtoi(value, &options.seed)) {
        return usage_error(absl::StrCat("--seed must be a non-negative integer, got '", value,
                                        "'"));
      }
    } else if (name == "--p-threshold") {
      if (!absl::SimpleAtod(value, &options.p_threshold) || !(options.p_threshold >= 0) ||
          options.p_threshold > 1) {
        return usage_error(absl::StrCat("--p-threshold must be a number in [0, 1], got '", value,
                                        "'"));
      }
    } else if (name == "--interval") {
      if (value == "percentile") {
        options.interval = IntervalMethod::kPercentile;
      } else if (value == "bca") {
        options.interval = IntervalMethod::kBca;
      } else {
        return usage_error(
            absl::StrCat("--interval must be percentile or bca, got '", value, "'"));
      }
    } else if (name == "--bootstrap") {
      if (value == "multinomial") {
        options.resampling = Resampling::kMultinomial;
      } else if (value == "parametric") {
        options.resampling = Resampling::kParametric;
      } else {
        return usage_error(absl::StrCat("--bootstrap must be multinomial or parametric, got '",
                                        value, "'"));
      }
    } else if (name == "--averaging-window") {
      if (!absl::SimpleAtod(value, &options.averaging_window) ||
          !(options.averaging_window > 0) || !std::isfinite(options.averaging_window)) {
        return usage_error(absl::StrCat("--averaging-window must be a positive number, got '",
                                        value, "'"));
      }
    } else if (name == "--missed-links" || name == "--false-links") {
      double& x = name == "--missed-links" ? options.linkage_error.missed_links
                                           : options.linkage_error.false_links;
      if (!absl::SimpleAtod(value, &x) || !(x >= 0) || !std::isfinite(x)) {
        return usage_error(absl::StrCat(name, " must be a non-negative number, got '", value,
                                        "'"));
      }
    } else if (name == "--bootstrap-models") {
      if (!absl::SimpleAtoi(value, &options.bootstrap_models) || options.bootstrap_models < 1) {
        return usage_error(absl::StrCat("--bootstrap-models must be a positive integer, got '",
                                        value, "'"));
      }
    }
  }
  if (!in.has_value()) return usage_error("--in HISTORIES.csv is required");

  absl::StatusOr<CaptureTable> table = CaptureTable::ReadCsvFile(*in);
  if (!table.ok()) {
    err << "error: " << table.status().message() << "\n";
    return 1;
  }
  absl::StatusOr<EstimateResult> result = Estimate(*table, options);
  if (!result.ok()) {
    err << "error: " << result.status().message() << "\n";
    return result.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  out << (format == "json" ? FormatJson(*result) : FormatTable(*result));
  return 0;
}

}  // namespace samenzicht::estimate
