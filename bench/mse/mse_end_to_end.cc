// mse_end_to_end: the hidden-number estimate against a known truth, through the real
// pipeline ("end to end").
//
// Per seed: the simulator writes a synthetic municipality (a population of N persons, of
// whom some no agency sees; the agencies' CSV exports; truth.csv, histories.csv and
// summary.json); `agency-node keygen`, `agency-node pseudonymise --map --profile` per
// agency and `aggregator link --profile` run as an operator would run them
// (bench/common/pipeline.h); the capture histories over agencies (and over domains when
// they differ) are counted with the aggregator's own code (aggregator/insight.h) for the
// persons the linkage found and for the true persons; the estimator (estimate/)
// runs on both with each selection method. Printed: the true N (read from summary.json),
// the persons observed by truth and by linkage, N-hat with its 95% bootstrap interval (the
// estimator's default, the percentile interval; `--interval bca` for BCa) and its profile
// interval, whether they cover N, and the bias due to linkage errors (N-hat from linkage
// minus N-hat from the truth); over several seeds, the coverage, and how many estimates the
// dashboard would publish (estimate::WhyNotPublishable) and how many of those cover N.
//
// Plumbing checks (any mode; a failure exits 1): N in summary.json equals the simulated
// population; the truth's histories equal the simulator's histories.csv; the histories
// from linkage hold exactly the persons `aggregator link` formed; every estimate is finite
// and at least the number observed (with --smoke: every table gives one, and the linkage's
// error estimate is read from `aggregator link`'s summary line). The figures themselves never
// fail a run.
//
// Linkage error: each table of linked persons is estimated three times with the same
// resampled persons: taken as exact; with the linkage's own error estimate (persons maybe
// counted twice, links maybe wrong, scaled to the persons in the table) propagated into the
// bootstrap interval (EstimateOptions::linkage_error), as the aggregator's dashboard does; and with
// the linkage's true errors counted against the simulator's truth in its place. The summary
// gives their coverage of N and of the N-hat the true persons give.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "estimate/estimate.h"
#include "bench/common/pipeline.h"
#include "bench/mse/end_to_end.h"
#include "common/cli.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "simulator/simulator.h"
#include "common/version.h"

namespace {

namespace sim = samenzicht::simulator;
namespace est = samenzicht::estimate;
namespace bench = samenzicht::bench;
using bench::Lists;

struct Config {
  int persons = 2000;
  std::vector<uint64_t> seeds;
  sim::Noise noise = sim::Noise::kModerate;
  int agencies = 6;
  std::vector<est::SelectionMethod> methods;
  int max_order = 2;
  int replicates = 500;
  est::IntervalMethod interval = est::IntervalMethod::kPercentile;  // the estimator's default
  std::string profile = DEFAULT_PROFILE;
  bench::Tools tools{AGENCY_NODE_BIN, AGGREGATOR_BIN};
  std::string work;
  bool smoke = false;
};

const char* MethodName(est::SelectionMethod m) {
  return m == est::SelectionMethod::kBic ? "bic" : "stepwise";
}

// One estimate: which table, which method, what came out.
struct Row {
  uint64_t seed = 0;
  Lists lists = Lists::kAgencies;
  bool linked = false;
  est::SelectionMethod method = est::SelectionMethod::kBic;
  int64_t observed = 0;
  std::optional<double> n_hat, lower, upper, profile_lower, profile_upper;
  // Linked side only: the bootstrap interval with the linkage's own error estimate propagated
  // (EstimateOptions::linkage_error), and the N-hat from the true persons (same seed, table and
  // method) that a perfect linkage would have given.
  std::optional<double> lower_le, upper_le, truth_n_hat;
  double missed_links = 0, false_links = 0;
  // The same with the linkage's true errors (counted against the simulator's truth) in place
  // of its estimate: whether the propagation covers when the error size is right.
  std::optional<double> lower_true_error, upper_true_error;
  double true_missed = 0, true_false = 0;
  // Whether the dashboard would publish the estimate (est::WhyNotPublishable empty), judged
  // as it would be computed there: a linked table with the linkage's error estimate, when
  // there is one; and the interval it would show.
  bool published = false;
  std::optional<double> published_lower, published_upper;
  std::string model, reason;
};

// The linkage's own error estimate, from the summary line `aggregator link` prints
// ("... estimated_false_links=X estimated_missed_links=Y"); zeros if it printed none (e.g.
// deterministic linkage).
struct LinkError {
  double missed = 0, false_links = 0;
  bool found = false;
};

LinkError ReadLinkError(const std::string& log) {
  LinkError e;
  absl::StatusOr<std::string> text = samenzicht::files::ReadFile(log);
  if (!text.ok()) return e;
  for (absl::string_view word : absl::StrSplit(*text, absl::ByAnyChar(" \n"), absl::SkipEmpty())) {
    if (absl::ConsumePrefix(&word, "estimated_missed_links=")) {
      e.found = absl::SimpleAtod(word, &e.missed) || e.found;
    } else if (absl::ConsumePrefix(&word, "estimated_false_links=")) {
      e.found = absl::SimpleAtod(word, &e.false_links) || e.found;
    }
  }
  return e;
}

struct Truth {
  int64_t persons = 0, signalled = 0;
};

// N and the persons signalled, from the simulator's summary.json.
absl::StatusOr<Truth> ReadSummary(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, samenzicht::files::ReadFile(path));
  google::protobuf::Struct s;
  if (!google::protobuf::util::JsonStringToMessage(text, &s).ok()) {
    return absl::DataLossError(absl::StrCat(path, ": not JSON"));
  }
  Truth t;
  auto number = [&](const char* key, int64_t* out) -> absl::Status {
    auto it = s.fields().find(key);
    if (it == s.fields().end() || !it->second.has_number_value()) {
      return absl::DataLossError(absl::StrCat(path, ": no number \"", key, "\""));
    }
    *out = static_cast<int64_t>(it->second.number_value());
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(number("persons", &t.persons));
  RETURN_IF_ERROR(number("persons_signalled", &t.signalled));
  return t;
}

absl::StatusOr<Row> EstimateTable(const Config& cfg, const samenzicht::aggregator::CaptureHistories& h,
                                  est::SelectionMethod method,
                                  const est::LinkageErrorCounts* linkage_error = nullptr,
                                  const est::LinkageErrorCounts* true_error = nullptr) {
  ASSIGN_OR_RETURN(est::CaptureTable table, bench::ToTable(h));
  est::EstimateOptions o;
  o.method = method;
  o.max_order = std::min(cfg.max_order, table.num_lists() - 1);
  o.replicates = cfg.replicates;
  o.interval = cfg.interval;
  ASSIGN_OR_RETURN(est::EstimateResult r, est::Estimate(table, o));
  std::optional<est::EstimateResult> with_error;
  if (linkage_error != nullptr &&
      (linkage_error->missed_links > 0 || linkage_error->false_links > 0)) {
    // The same estimate (same seed, so the same resampled persons) with the linkage's error
    // propagated into the interval; the point estimate does not change.
    o.linkage_error = *linkage_error;
    o.profile_interval = false;
    ASSIGN_OR_RETURN(with_error, est::Estimate(table, o));
  }
  std::optional<est::EstimateResult> with_true_error;
  if (true_error != nullptr && (true_error->missed_links > 0 || true_error->false_links > 0)) {
    o.linkage_error = *true_error;
    o.profile_interval = false;
    ASSIGN_OR_RETURN(with_true_error, est::Estimate(table, o));
  }
  Row row;
  row.method = method;
  row.observed = r.observed;
  row.model = r.model;
  if (!r.estimate.has_value()) {
    row.reason = r.reason;
    return row;
  }
  // An estimate marked unreliable (a model that fits badly, or heterogeneity beyond the
  // model) keeps its numbers (marked below): the bench compares them with the truth all the
  // same.
  if (!r.reliable) {
    const bool bad_fit = r.goodness_of_fit && r.goodness_of_fit->df > 0 &&
                         r.goodness_of_fit->p_value < est::kGoodnessOfFitAlpha;
    row.model += bad_fit ? " (unreliable: bad fit)" : " (unreliable: heterogeneity)";
  }
  row.n_hat = r.estimate;
  if (r.interval) {
    row.lower = r.interval->lower;
    row.upper = r.interval->upper;
  }
  if (linkage_error != nullptr) {
    row.missed_links = linkage_error->missed_links;
    row.false_links = linkage_error->false_links;
    if (with_error && with_error->interval) {
      row.lower_le = with_error->interval->lower;
      row.upper_le = with_error->interval->upper;
    } else {
      row.lower_le = row.lower;  // no error estimated: the interval is the one without
      row.upper_le = row.upper;
    }
  }
  if (true_error != nullptr) {
    row.true_missed = true_error->missed_links;
    row.true_false = true_error->false_links;
    const auto& src = with_true_error ? with_true_error : std::optional<est::EstimateResult>(r);
    if (src->interval) {
      row.lower_true_error = src->interval->lower;
      row.upper_true_error = src->interval->upper;
    }
  }
  if (r.profile_interval) {
    row.profile_lower = r.profile_interval->lower;
    row.profile_upper = r.profile_interval->upper;
  }
  const est::EstimateResult& shown = with_error ? *with_error : r;
  row.published = est::WhyNotPublishable(shown).empty();
  if (row.published && shown.interval) {
    row.published_lower = shown.interval->lower;
    row.published_upper = shown.interval->upper;
  }
  if (!std::isfinite(*row.n_hat) || *row.n_hat < static_cast<double>(row.observed)) {
    return absl::InternalError(absl::StrFormat("estimate %f is not finite or below the %d observed",
                                               *row.n_hat, row.observed));
  }
  return row;
}

std::string Interval(const std::optional<double>& lo, const std::optional<double>& hi) {
  if (!lo || !hi) return "-";
  if (std::isinf(*hi)) return absl::StrFormat("[%.0f, inf)", *lo);
  return absl::StrFormat("[%.0f, %.0f]", *lo, *hi);
}

std::string Covers(const std::optional<double>& lo, const std::optional<double>& hi, int64_t n) {
  if (!lo || !hi) return "-";
  return *lo <= n && n <= *hi ? "yes" : "NO";
}

absl::Status RunSeed(const Config& cfg, uint64_t seed, std::vector<Row>* rows) {
  const auto wall0 = std::chrono::steady_clock::now();
  const std::clock_t cpu0 = std::clock();
  sim::SimulatorOptions opt;
  opt.persons = cfg.persons;
  opt.agencies = cfg.agencies;
  opt.noise = cfg.noise;
  opt.seed = seed;
  ASSIGN_OR_RETURN(sim::Simulation simulation, sim::Simulate(opt));
  const std::string dir = absl::StrCat(cfg.work, "/s", seed);
  RETURN_IF_ERROR(sim::WriteSimulation(simulation, dir));

  // What the simulator says is true.
  ASSIGN_OR_RETURN(Truth truth, ReadSummary(dir + "/summary.json"));
  if (truth.persons != static_cast<int64_t>(simulation.people.size()) || truth.persons != cfg.persons) {
    return absl::InternalError(absl::StrCat("summary.json says N = ", truth.persons, ", simulated ",
                                            simulation.people.size()));
  }
  const std::vector<int> true_person = bench::TruePersonOfRecord(simulation);
  ASSIGN_OR_RETURN(auto truth_agencies, bench::HistoriesOf(simulation, true_person, Lists::kAgencies));
  const bool agency_lists = cfg.agencies <= est::kMaxLists;  // else domains only
  if (agency_lists) {
    ASSIGN_OR_RETURN(est::CaptureTable simulator_table,
                     est::CaptureTable::ReadCsvFile(dir + "/histories.csv"));
    if (simulator_table.counts() != truth_agencies.counts ||
        simulator_table.list_names() != truth_agencies.lists) {
      return absl::InternalError(
          "the true persons' capture histories differ from the simulator's histories.csv");
    }
  }

  // The real pipeline.
  const std::string key = dir + "/shared.key";
  RETURN_IF_ERROR(bench::MakeKey(cfg.tools, key));
  ASSIGN_OR_RETURN(bench::LinkedSimulation linked,
                   bench::PseudonymiseAndLink(cfg.tools, simulation, dir, key, cfg.profile,
                                              dir + "/linked"));
  ASSIGN_OR_RETURN(auto linked_agencies,
                   bench::HistoriesOf(simulation, linked.person_of_record, Lists::kAgencies));
  if (bench::Persons(linked_agencies) != linked.persons) {
    return absl::InternalError(absl::StrCat("the histories from linkage hold ",
                                            bench::Persons(linked_agencies), " persons; `aggregator "
                                            "link` formed ", linked.persons));
  }
  RETURN_IF_ERROR(samenzicht::files::WriteFileAtomic(dir + "/linked/histories_agencies.csv",
                                                     bench::HistoriesCsv(linked_agencies)));
  const LinkError link_error = ReadLinkError(dir + "/linked/link.log");
  if (cfg.smoke && !link_error.found) {
    return absl::InternalError(
        "the linkage's error estimate (estimated_missed_links, estimated_false_links) is not in "
        "aggregator link's summary line");
  }
  // The linkage's true errors: a true person split over k linked persons is k - 1 missed
  // links; a linked person holding k true persons is k - 1 false links.
  est::LinkageErrorCounts true_error;
  {
    std::map<int, std::set<int>> clusters_of_person, persons_of_cluster;
    for (size_t i = 0; i < true_person.size() && i < linked.person_of_record.size(); ++i) {
      if (linked.person_of_record[i] < 0) continue;
      clusters_of_person[true_person[i]].insert(linked.person_of_record[i]);
      persons_of_cluster[linked.person_of_record[i]].insert(true_person[i]);
    }
    for (const auto& [p, c] : clusters_of_person) true_error.missed_links += c.size() - 1;
    for (const auto& [c, p] : persons_of_cluster) true_error.false_links += p.size() - 1;
  }

  std::vector<std::pair<Lists, std::pair<samenzicht::aggregator::CaptureHistories,
                                         samenzicht::aggregator::CaptureHistories>>>
      tables;
  if (agency_lists) tables.push_back({Lists::kAgencies, {truth_agencies, linked_agencies}});
  ASSIGN_OR_RETURN(auto truth_domains, bench::HistoriesOf(simulation, true_person, Lists::kDomains));
  ASSIGN_OR_RETURN(auto linked_domains,
                   bench::HistoriesOf(simulation, linked.person_of_record, Lists::kDomains));
  const bool same_lists = truth_domains.lists.size() == truth_agencies.lists.size();
  if (!same_lists) {
    tables.push_back({Lists::kDomains, {truth_domains, linked_domains}});
    RETURN_IF_ERROR(samenzicht::files::WriteFileAtomic(dir + "/linked/histories_domains.csv",
                                                       bench::HistoriesCsv(linked_domains)));
  }

  std::cout << absl::StrFormat(
      "\n== seed %d: true N %d (summary.json), %d agencies, noise %s, %d records; observed "
      "persons: %d by truth, %d by linkage (%+.2f%%)%s\n",
      seed, truth.persons, cfg.agencies, sim::NoiseName(cfg.noise), simulation.records.size(),
      truth.signalled, linked.persons, 100.0 * (linked.persons - truth.signalled) / truth.signalled,
      same_lists ? "; domains = agencies (one agency per domain)"
                 : agency_lists ? "" : "; more agencies than the estimator takes: domains only");
  std::cout << absl::StrFormat(
      "linkage's own error estimate (link.log): %.1f persons maybe counted twice, %.1f links "
      "maybe wrong%s; against the truth: %.0f missed links (persons counted twice), %.0f false "
      "links\n",
      link_error.missed, link_error.false_links, link_error.found ? "" : " (none printed)",
      true_error.missed_links, true_error.false_links);
  std::cout << absl::StrFormat("bootstrap interval: %s, %d replicates\n",
                               est::IntervalMethodName(cfg.interval), cfg.replicates);
  std::cout << absl::StrFormat("%-9s %-9s %-9s %8s %9s %-15s %-6s %-15s %-6s %-15s %-6s %s\n",
                               "lists", "histories", "method", "observed", "N-hat", "95% bootstrap",
                               "covers", "95% profile", "covers", "boot+linkage", "covers",
                               "model");
  for (const auto& [lists, pair] : tables) {
    for (est::SelectionMethod method : cfg.methods) {
      std::optional<double> truth_n_hat;
      for (bool linked_side : {false, true}) {
        const auto& h = linked_side ? pair.second : pair.first;
        // The linkage's error estimate covers all linked persons; scaled to those in the
        // table (as the aggregator's dashboard estimate does).
        est::LinkageErrorCounts error, true_in_table;
        if (linked.persons > 0) {
          const double share = static_cast<double>(bench::Persons(h)) / linked.persons;
          error = {link_error.missed * share, link_error.false_links * share};
          true_in_table = {true_error.missed_links * share, true_error.false_links * share};
        }
        ASSIGN_OR_RETURN(Row row, EstimateTable(cfg, h, method, linked_side ? &error : nullptr,
                                                linked_side ? &true_in_table : nullptr));
        if (linked_side) row.truth_n_hat = truth_n_hat;
        row.seed = seed;
        row.lists = lists;
        row.linked = linked_side;
        if (cfg.smoke && !row.n_hat) {
          return absl::InternalError(absl::StrCat("no estimate from the ", ListsName(lists), " (",
                                                  linked_side ? "linkage" : "truth", ", ",
                                                  MethodName(method), "): ", row.reason));
        }
        if (row.n_hat) {
          std::cout << absl::StrFormat(
              "%-9s %-9s %-9s %8d %9.1f %-15s %-6s %-15s %-6s %-15s %-6s %s\n", ListsName(lists),
              linked_side ? "linkage" : "truth", MethodName(method), row.observed, *row.n_hat,
              Interval(row.lower, row.upper), Covers(row.lower, row.upper, truth.persons),
              Interval(row.profile_lower, row.profile_upper),
              Covers(row.profile_lower, row.profile_upper, truth.persons),
              linked_side ? Interval(row.lower_le, row.upper_le) : "-",
              linked_side ? Covers(row.lower_le, row.upper_le, truth.persons) : "-", row.model);
          if (linked_side) {
            std::cout << absl::StrFormat(
                "%-29s with the true linkage errors (%.0f missed, %.0f false): bootstrap %s covers %s\n",
                "", row.true_missed, row.true_false,
                Interval(row.lower_true_error, row.upper_true_error),
                Covers(row.lower_true_error, row.upper_true_error, truth.persons));
          }
        } else {
          std::cout << absl::StrFormat("%-9s %-9s %-9s %8d  %s\n", ListsName(lists),
                                       linked_side ? "linkage" : "truth", MethodName(method),
                                       row.observed, row.reason);
        }
        if (!linked_side) truth_n_hat = row.n_hat;
        if (linked_side && truth_n_hat && row.n_hat) {
          std::cout << absl::StrFormat("%-9s %-9s %-9s bias due to linkage: %+.1f (%+.2f%% of N)\n",
                                       "", "", "", *row.n_hat - *truth_n_hat,
                                       100.0 * (*row.n_hat - *truth_n_hat) / truth.persons);
        }
        rows->push_back(std::move(row));
      }
    }
  }
  std::cout << absl::StrFormat(
      "seed %d: %.1f s wall, %.1f s CPU (this process; the commands' CPU not included)\n", seed,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count(),
      double(std::clock() - cpu0) / CLOCKS_PER_SEC);
  return absl::OkStatus();
}

void PrintSummary(const Config& cfg, const std::vector<Row>& rows) {
  std::cout << absl::StrFormat(
      "\n== summary over %d seed(s): true N %d, %d agencies, noise %s, %s bootstrap interval, %d "
      "replicates\n",
      cfg.seeds.size(), cfg.persons, cfg.agencies, sim::NoiseName(cfg.noise),
      est::IntervalMethodName(cfg.interval), cfg.replicates);
  std::cout << absl::StrFormat("%-9s %-9s %-9s %9s %9s %9s %14s %14s %s\n", "lists", "histories",
                               "method", "observed", "mean N-hat", "bias", "boot covers",
                               "profile covers", "no estimate");
  std::map<std::tuple<int, bool, int>, std::vector<const Row*>> groups;
  for (const Row& r : rows) {
    groups[{static_cast<int>(r.lists), r.linked, static_cast<int>(r.method)}].push_back(&r);
  }
  for (const auto& [key, group] : groups) {
    int usable = 0, boot = 0, boot_cover = 0, prof = 0, prof_cover = 0;
    double sum = 0, observed = 0;
    for (const Row* r : group) {
      observed += static_cast<double>(r->observed);
      if (!r->n_hat) continue;
      ++usable;
      sum += *r->n_hat;
      if (r->lower && r->upper) {
        ++boot;
        boot_cover += *r->lower <= cfg.persons && cfg.persons <= *r->upper;
      }
      if (r->profile_lower && r->profile_upper) {
        ++prof;
        prof_cover += *r->profile_lower <= cfg.persons && cfg.persons <= *r->profile_upper;
      }
    }
    const Row& first = *group.front();
    const double mean = usable ? sum / usable : 0;
    // Linked tables: the interval with the linkage's own error estimate, against the true N
    // and against the N-hat the true persons give (what is left of the linkage's part).
    int le = 0, le_cover = 0, th = 0, th_plain = 0, th_le = 0, te = 0, te_cover = 0,
        te_th = 0;
    double missed = 0, false_links = 0;
    for (const Row* r : group) {
      if (!r->n_hat || !r->lower_le || !r->upper_le) continue;
      ++le;
      missed += r->missed_links;
      false_links += r->false_links;
      le_cover += *r->lower_le <= cfg.persons && cfg.persons <= *r->upper_le;
      if (r->lower_true_error && r->upper_true_error) {
        ++te;
        te_cover += *r->lower_true_error <= cfg.persons && cfg.persons <= *r->upper_true_error;
        te_th += r->truth_n_hat && *r->lower_true_error <= *r->truth_n_hat &&
                 *r->truth_n_hat <= *r->upper_true_error;
      }
      if (r->truth_n_hat && r->lower && r->upper) {
        ++th;
        th_plain += *r->lower <= *r->truth_n_hat && *r->truth_n_hat <= *r->upper;
        th_le += *r->lower_le <= *r->truth_n_hat && *r->truth_n_hat <= *r->upper_le;
      }
    }
    std::cout << absl::StrFormat(
        "%-9s %-9s %-9s %9.1f %9.1f %+8.1f%% %8d / %-3d %8d / %-3d %d\n", ListsName(first.lists),
        first.linked ? "linkage" : "truth", MethodName(first.method), observed / group.size(), mean,
        usable ? 100.0 * (mean - cfg.persons) / cfg.persons : 0.0, boot_cover, boot, prof_cover, prof,
        static_cast<int>(group.size()) - usable);
    int published = 0, published_cover = 0;
    for (const Row* r : group) {
      if (!r->published || !r->published_lower || !r->published_upper) continue;
      ++published;
      published_cover += *r->published_lower <= cfg.persons && cfg.persons <= *r->published_upper;
    }
    std::cout << absl::StrFormat(
        "%-29s published (estimate::WhyNotPublishable empty%s): %d of %d tables, their interval "
        "covers N in %d / %d\n",
        "", first.linked ? "; with the linkage's error estimate, as the dashboard" : "", published,
        static_cast<int>(group.size()), published_cover, published);
    if (le > 0) {
      std::cout << absl::StrFormat(
          "%-29s with the linkage's error estimate (mean %.1f missed, %.1f false links per "
          "table): bootstrap covers N %d / %d; the truth's N-hat covered by bootstrap %d / %d, by "
          "bootstrap with linkage error %d / %d\n",
          "", missed / le, false_links / le, le_cover, le, th_plain, th, th_le, th);
      std::cout << absl::StrFormat(
          "%-29s with the true linkage errors: bootstrap covers N %d / %d, the truth's N-hat %d / "
          "%d\n",
          "", te_cover, te, te_th, te);
    }
  }
  // Linkage bias: paired differences per seed, table and method.
  std::map<std::pair<int, int>, std::vector<double>> diffs;
  std::map<std::tuple<uint64_t, int, int>, double> truth_n_hat;
  for (const Row& r : rows) {
    if (!r.linked && r.n_hat) truth_n_hat[{r.seed, static_cast<int>(r.lists), static_cast<int>(r.method)}] = *r.n_hat;
  }
  for (const Row& r : rows) {
    if (!r.linked || !r.n_hat) continue;
    auto it = truth_n_hat.find({r.seed, static_cast<int>(r.lists), static_cast<int>(r.method)});
    if (it != truth_n_hat.end()) {
      diffs[{static_cast<int>(r.lists), static_cast<int>(r.method)}].push_back(*r.n_hat - it->second);
    }
  }
  for (const auto& [key, d] : diffs) {
    double mean = 0, lo = d.front(), hi = d.front();
    for (double x : d) {
      mean += x;
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
    mean /= d.size();
    std::cout << absl::StrFormat(
        "bias due to linkage (%s, %s): mean %+.1f (%+.2f%% of N), range %+.1f to %+.1f over %d seed(s)\n",
        ListsName(static_cast<Lists>(key.first)), MethodName(static_cast<est::SelectionMethod>(key.second)),
        mean, 100.0 * mean / cfg.persons, lo, hi, d.size());
  }
}

absl::StatusOr<std::vector<uint64_t>> ParseSeeds(const std::string& text) {
  std::vector<uint64_t> out;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    std::vector<std::string> range = absl::StrSplit(item, '-');
    uint64_t a = 0, b = 0;
    if (range.size() == 1 && absl::SimpleAtoi(range[0], &a)) {
      out.push_back(a);
    } else if (range.size() == 2 && absl::SimpleAtoi(range[0], &a) &&
               absl::SimpleAtoi(range[1], &b) && a <= b && b - a < 10000) {
      for (uint64_t s = a; s <= b; ++s) out.push_back(s);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--seeds: bad value '", item, "'"));
    }
  }
  if (out.empty()) return absl::InvalidArgumentError("--seeds is empty");
  return out;
}

absl::Status Main(int argc, char** argv) {
  samenzicht::cli::Command cmd(
      "mse_end_to_end",
      "Simulated agencies -> agency-node pseudonymise -> aggregator link -> capture histories "
      "-> multiple systems estimate, against the simulator's true population size. Prints "
      "N-hat, intervals and coverage from the true and from the linked persons, and the bias "
      "due to linkage errors. Exits 1 only when a command or a plumbing check fails.");
  cmd.Flag("persons", "N", "true population size (default 2000; --smoke 600)")
      .Flag("seeds", "S[,S|A-B...]", "simulator seeds (default 1-10; --smoke 1)")
      .Flag("noise", "LEVEL", "none, light, moderate (default) or heavy")
      .Flag("agencies", "K", "number of agencies (default 6; --smoke 4; beyond 10 agencies share domains)")
      .Flag("methods", "bic,stepwise", "model selection methods (default both)")
      .Flag("max-order", "N", "BIC: highest interaction order (default 2)")
      .Flag("replicates", "B", "bootstrap replicates (default 500; --smoke 50)")
      .Flag("interval", "percentile|bca",
            "bootstrap interval (default percentile, the estimator's default)")
      .Flag("profile", "FILE", "linkage profile (default deploy/config/profile.textproto)")
      .Flag("work", "DIR", "working folder (default a new folder under $TMPDIR or /tmp)")
      .Flag("agency-node", "PATH", "agency-node binary (default: the one built with this)")
      .Flag("aggregator", "PATH", "aggregator binary (default: the one built with this)")
      .Switch("smoke", "small and fast (CI; 600 persons, 4 agencies, 1 seed): plumbing checks only")
      .Switch("keep", "keep the working folder");
  ASSIGN_OR_RETURN(auto args, cmd.Parse(argc, argv));
  if (args.help) {
    std::cout << cmd.Usage();
    return absl::OkStatus();
  }
  Config cfg;
  cfg.smoke = args.Has("smoke");
  auto positive = [&](const char* flag, int fallback, int* out) -> absl::Status {
    *out = fallback;
    if (args.Has(flag) && (!absl::SimpleAtoi(args.Get(flag), out) || *out < 1)) {
      return absl::InvalidArgumentError(absl::StrCat("--", flag, " must be a positive integer"));
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(positive("persons", cfg.smoke ? 600 : 2000, &cfg.persons));
  RETURN_IF_ERROR(positive("agencies", cfg.smoke ? 4 : 6, &cfg.agencies));
  RETURN_IF_ERROR(positive("max-order", 2, &cfg.max_order));
  RETURN_IF_ERROR(positive("replicates", cfg.smoke ? 50 : 500, &cfg.replicates));
  ASSIGN_OR_RETURN(cfg.seeds, ParseSeeds(args.Get("seeds", cfg.smoke ? "1" : "1-10")));
  if (args.Has("noise")) {
    ASSIGN_OR_RETURN(cfg.noise, sim::ParseNoise(args.Get("noise")));
  }
  for (absl::string_view m : absl::StrSplit(args.Get("methods", "bic,stepwise"), ',', absl::SkipEmpty())) {
    if (m == "bic") {
      cfg.methods.push_back(est::SelectionMethod::kBic);
    } else if (m == "stepwise") {
      cfg.methods.push_back(est::SelectionMethod::kStepwise);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--methods: unknown method '", m, "'"));
    }
  }
  if (cfg.methods.empty()) return absl::InvalidArgumentError("--methods is empty");
  if (args.Has("interval")) {
    const std::string interval = args.Get("interval");
    if (interval == "bca") {
      cfg.interval = est::IntervalMethod::kBca;
    } else if (interval != "percentile") {
      return absl::InvalidArgumentError(
          absl::StrCat("--interval: '", interval, "' is neither percentile nor bca"));
    }
  }
  cfg.profile = args.Get("profile", cfg.profile);
  cfg.tools.agency_node = args.Get("agency-node", cfg.tools.agency_node);
  cfg.tools.aggregator = args.Get("aggregator", cfg.tools.aggregator);
  const bool temp = !args.Has("work");
  if (temp) {
    ASSIGN_OR_RETURN(cfg.work, bench::MakeTempDir("mse_end_to_end"));
  } else {
    cfg.work = args.Get("work");
    RETURN_IF_ERROR(samenzicht::files::MakeDirs(cfg.work));
  }
  std::cout << "mse_end_to_end: agency-node " << cfg.tools.agency_node << ", aggregator "
            << cfg.tools.aggregator << ", profile " << cfg.profile << ", work " << cfg.work << "\n";

  const auto wall0 = std::chrono::steady_clock::now();
  const std::clock_t cpu0 = std::clock();
  std::vector<Row> rows;
  absl::Status status;
  for (uint64_t seed : cfg.seeds) {
    status = RunSeed(cfg, seed, &rows);
    if (!status.ok()) break;
  }
  PrintSummary(cfg, rows);
  std::cout << absl::StrFormat("elapsed %.1f s wall, %.1f s CPU (this process)\n",
                               std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count(),
                               double(std::clock() - cpu0) / CLOCKS_PER_SEC);
  if (status.ok() && cfg.smoke) std::cout << "smoke: plumbing checks passed\n";
  if (temp && !args.Has("keep")) std::filesystem::remove_all(cfg.work);
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  if (samenzicht::cli::PrintVersionIfAsked(argc, argv, "mse_end_to_end")) return 0;
  return samenzicht::cli::ExitWith(Main(argc, argv));
}
