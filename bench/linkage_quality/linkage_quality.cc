// linkage_quality: how well do the real commands count each person once?
//
// For every size x noise level x seed: the simulator writes a synthetic municipality's
// agency exports; `agency-node keygen` makes a key; `agency-node pseudonymise --map` runs
// per agency and per linkage profile; `aggregator link` links all reports. The program
// joins map + persons + truth and prints, per profile, the pairwise precision, recall and
// F1 and the persons counted against the true number of signalled persons, next to a
// baseline (one exact token on the raw given_names|surname|date_of_birth). Per rule it
// prints what the rule finds alone, what recall is lost without it, and how coarse it is
// on the clear population (computed from the simulator's clear data with the node's own
// normalisation, never from the pseudonymised side). For the pairs the profile misses it
// prints which normalised fields disagree, so the normalisation owner sees what fails.
//
// Exit code: 0 unless a command failed; the figures never fail a run.

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "agency_node/csv.h"
#include "agency_node/normalise.h"
#include "agency_node/person.h"
#include "agency_node/signal.h"
#include "aggregator/linkage.h"
#include "bench/common/pipeline.h"
#include "common/cli.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "google/protobuf/util/json_util.h"
#include "model/config.h"
#include "samenzicht/v1/profile.pb.h"
#include "samenzicht/v1/report.pb.h"
#include "simulator/simulator.h"

namespace {

namespace fs = std::filesystem;
namespace sim = samenzicht::simulator;
namespace an = samenzicht::agency_node;
namespace v1 = samenzicht::v1;

// ---------------------------------------------------------------- scoring

int64_t Pairs(int64_t n) { return n * (n - 1) / 2; }

struct Scores {
  int64_t tp = 0, predicted = 0, actual = 0;
  int clusters = 0;
  double precision() const { return predicted ? double(tp) / predicted : 1.0; }
  double recall() const { return actual ? double(tp) / actual : 1.0; }
  double f1() const {
    double p = precision(), r = recall();
    return p + r > 0 ? 2 * p * r / (p + r) : 0;
  }
};

// `truth[i]` and `pred[i]` are the true and predicted cluster labels of record i.
Scores Score(const std::vector<int>& truth, const std::vector<int>& pred) {
  std::unordered_map<int, int64_t> t, p;
  std::map<std::pair<int, int>, int64_t> both;
  for (size_t i = 0; i < truth.size(); ++i) {
    ++t[truth[i]];
    ++p[pred[i]];
    ++both[{truth[i], pred[i]}];
  }
  Scores s;
  for (auto& [k, n] : t) s.actual += Pairs(n);
  for (auto& [k, n] : p) s.predicted += Pairs(n);
  for (auto& [k, n] : both) s.tp += Pairs(n);
  s.clusters = static_cast<int>(p.size());
  return s;
}

// A token of a record as the node sent it.
struct RecordToken {
  std::string rule;
  std::string value;
  v1::TokenRole role;
};

// tokens[i]: the tokens of record i. Links the records with the aggregator's own linkage
// (aggregator/linkage.h: the collision policy and the probe rules) over the tokens of the
// rules in `rules` only; returns a label per record.
std::vector<int> LinkByTokens(const std::vector<std::vector<RecordToken>>& tokens,
                              const std::set<std::string>& rules, uint32_t threshold) {
  std::map<std::string, uint16_t> rule_index;
  samenzicht::aggregator::TokenTable table;
  for (size_t i = 0; i < tokens.size(); ++i) {
    for (const auto& t : tokens[i]) {
      if (!rules.count(t.rule)) continue;
      auto it = rule_index.emplace(t.rule, static_cast<uint16_t>(rule_index.size())).first;
      table.Add(static_cast<uint32_t>(i), it->second, t.value,
                static_cast<samenzicht::aggregator::TokenRole>(t.role));
    }
  }
  auto result = samenzicht::aggregator::Link(static_cast<uint32_t>(tokens.size()), table,
                                             threshold, rule_index.size());
  return std::vector<int>(result.person.begin(), result.person.end());
}

std::string Fmt(const Scores& s, int true_persons) {
  double dev = true_persons ? 100.0 * (s.clusters - true_persons) / true_persons : 0;
  return absl::StrFormat("%9.4f %9.4f %9.4f %8d %+8.2f%%", s.precision(), s.recall(), s.f1(),
                         s.clusters, dev);
}

// ---------------------------------------------------------------- clear-side helpers

// The node's normalised fields for every row of `csv_text`, by record id.
absl::StatusOr<std::map<std::string, an::Person>> NormaliseRows(const std::string& csv_text,
                                                                const an::Normaliser& n) {
  ASSIGN_OR_RETURN(an::CsvFile csv, an::ParseCsv(csv_text));
  an::SignalOptions so;
  ASSIGN_OR_RETURN(an::SignalFile file, an::ParseSignals(csv, n, so));
  std::map<std::string, an::Person> out;
  for (auto& s : file.signals) out[s.record_id] = std::move(s.person);
  return out;
}

std::string RuleKey(const an::Person& p, const v1::MatchRule& rule) {
  std::string key;
  for (int f : rule.fields()) {
    const std::string& v = p.Get(static_cast<v1::Field>(f));
    if (v.empty()) return "";
    key += v;
    key += '\x1f';
  }
  return key;
}

// ---------------------------------------------------------------- one scenario

struct Config {
  std::vector<int> sizes;
  std::vector<sim::Noise> noise;
  std::vector<uint64_t> seeds;
  int agencies = 6;
  std::vector<std::string> profiles;
  std::string work;
  std::string agency_node = AGENCY_NODE_BIN, aggregator = AGGREGATOR_BIN;
  bool rules = true;
  int show_missed = 0;  // print the clear normalised fields of this many missed pairs
  bool show_false = false;  // print the clear normalised fields of falsely merged records
};

struct Row {
  int size;
  std::string noise, profile;
  uint64_t seed;
  Scores s;
  int true_persons;
};

absl::Status RunScenario(const Config& cfg, int size, sim::Noise noise, uint64_t seed,
                         const an::Normaliser& normaliser, std::vector<Row>* rows) {
  sim::SimulatorOptions opt;
  opt.persons = size;
  opt.agencies = cfg.agencies;
  opt.noise = noise;
  opt.seed = seed;
  ASSIGN_OR_RETURN(sim::Simulation simulation, sim::Simulate(opt));
  const std::string dir =
      absl::StrCat(cfg.work, "/n", size, "_", sim::NoiseName(noise), "_s", seed);
  fs::remove_all(dir);
  RETURN_IF_ERROR(sim::WriteSimulation(simulation, dir));
  const std::string key = dir + "/shared.key";
  RETURN_IF_ERROR(samenzicht::bench::MakeKey({cfg.agency_node, cfg.aggregator}, key));

  const auto& records = simulation.records;
  std::vector<int> truth(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    truth[i] = records[i].person;
  }
  const int true_persons = simulation.SignalledPersons();
  std::cout << absl::StrFormat(
      "\n== persons %d, noise %s, seed %d: %d agencies, %d records, %d persons signalled "
      "(true pairs %d)\n",
      size, sim::NoiseName(noise), seed, cfg.agencies, records.size(), true_persons,
      Score(truth, truth).actual);
  std::cout << absl::StrFormat("%-22s %9s %9s %9s %8s %9s\n", "profile", "precision", "recall",
                               "F1", "persons", "vs true");

  // Baseline: one exact token on the raw given_names|surname|date_of_birth.
  {
    std::map<std::string, int> label;
    std::vector<int> pred(records.size());
    for (size_t i = 0; i < records.size(); ++i) {
      const auto& id = records[i].ids;
      std::string k = id.given_names + "|" + id.surname + "|" + id.date_of_birth;
      bool complete = !id.given_names.empty() && !id.surname.empty() && !id.date_of_birth.empty();
      pred[i] = complete ? label.emplace(k, static_cast<int>(label.size())).first->second
                         : -1 - static_cast<int>(i);
    }
    Scores s = Score(truth, pred);
    std::cout << absl::StrFormat("%-22s %s\n", "baseline_raw_exact", Fmt(s, true_persons));
    rows->push_back({size, sim::NoiseName(noise), "baseline_raw_exact", seed, s, true_persons});
  }

  // Clear-side normalised fields, for coarseness and for the diagnosis of missed pairs.
  std::string clear_csv = absl::StrJoin(sim::CsvHeader(), ",") + "\n";
  for (const sim::Person& p : simulation.people) {
    sim::Record r;
    r.record_id = p.id;
    r.ids = sim::Canonical(p);
    clear_csv += sim::CsvLine(r);
  }
  ASSIGN_OR_RETURN(auto clear, NormaliseRows(clear_csv, normaliser));
  std::map<std::string, an::Person> normalised_records;
  for (const sim::Agency& a : simulation.agencies) {
    ASSIGN_OR_RETURN(std::string text, samenzicht::files::ReadFile(dir + "/" + a.name + ".csv"));
    ASSIGN_OR_RETURN(auto rows_of, NormaliseRows(text, normaliser));
    normalised_records.merge(rows_of);
  }

  for (const std::string& profile_path : cfg.profiles) {
    ASSIGN_OR_RETURN(v1::LinkageProfile profile, samenzicht::model::LoadProfile(profile_path));
    const uint32_t threshold = samenzicht::model::MaxReportsPerToken(profile);
    const std::string pdir = dir + "/" + profile.name();
    ASSIGN_OR_RETURN(samenzicht::bench::LinkedSimulation linked,
                     samenzicht::bench::PseudonymiseAndLink(
                         {cfg.agency_node, cfg.aggregator}, simulation, dir, key, profile_path, pdir));
    const std::vector<std::string>& jsonl = linked.jsonl;
    const std::unordered_map<std::string, int>& record_of_report = linked.record_of_report;
    const int linked_records = linked.linked_records;
    // Records without a report are singletons.
    std::vector<int> pred(records.size());
    for (size_t i = 0; i < pred.size(); ++i) {
      pred[i] = linked.person_of_record[i] >= 0 ? linked.person_of_record[i] : -1 - static_cast<int>(i);
    }
    Scores s = Score(truth, pred);
    std::cout << absl::StrFormat("%-22s %s", profile.name(), Fmt(s, true_persons));
    if (linked_records != static_cast<int>(records.size())) {
      std::cout << absl::StrFormat("  (%d records without a report)", records.size() - linked_records);
    }
    std::cout << "\n";
    rows->push_back({size, sim::NoiseName(noise), profile.name(), seed, s, true_persons});
    if (!cfg.rules) continue;

    // Tokens per record, for the per-rule figures.
    std::vector<std::vector<RecordToken>> tokens(records.size());
    for (const std::string& path : jsonl) {
      ASSIGN_OR_RETURN(std::string text, samenzicht::files::ReadFile(path));
      for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
        v1::Report report;
        if (!google::protobuf::util::JsonStringToMessage(std::string(line), &report).ok()) {
          return absl::DataLossError(absl::StrCat("cannot parse a report in ", path));
        }
        auto it = record_of_report.find(report.report_id());
        if (it == record_of_report.end()) return absl::DataLossError("report without a map entry");
        for (const auto& t : report.tokens()) {
          tokens[it->second].push_back({t.rule(), t.value(), t.role()});
        }
      }
    }
    std::set<std::string> all_rules;
    for (const auto& r : profile.rules()) all_rules.insert(r.name());
    Scores all = Score(truth, LinkByTokens(tokens, all_rules, threshold));
    std::cout << absl::StrFormat(
        "  per rule (tokens with > %d reports ignored; union of all rules here: P %.4f R %.4f)\n",
        threshold, all.precision(), all.recall());
    std::cout << absl::StrFormat("  %-18s %8s %9s %9s %11s | %9s %9s %9s\n", "rule", "tokens",
                                 "alone P", "alone R", "R lost w/o", "coverage", "persons/", "not");
    std::cout << absl::StrFormat("  %-18s %8s %9s %9s %11s | %9s %9s %9s\n", "", "", "", "", "",
                                 "(clear)", "value", "unique");
    for (const auto& rule : profile.rules()) {
      int with_token = 0;
      for (const auto& ts : tokens) {
        for (const auto& t : ts) with_token += t.rule == rule.name();
      }
      Scores alone = Score(truth, LinkByTokens(tokens, {rule.name()}, threshold));
      std::set<std::string> others = all_rules;
      others.erase(rule.name());
      Scores without = Score(truth, LinkByTokens(tokens, others, threshold));
      // Coarseness on the clear population: how many persons share the rule's values.
      std::map<std::string, int> group;
      int covered = 0;
      for (const auto& [id, p] : clear) {
        std::string k = RuleKey(p, rule);
        if (k.empty()) continue;
        ++covered;
        ++group[k];
      }
      double sharing = 0, not_unique = 0;
      for (const auto& [id, p] : clear) {
        std::string k = RuleKey(p, rule);
        if (k.empty()) continue;
        int g = group[k];
        sharing += g;
        not_unique += g > 1;
      }
      std::cout << absl::StrFormat("  %-18s %8d %9.4f %9.4f %11.4f | %8.1f%% %9.3f %8.2f%%\n",
                                   rule.name(), with_token, alone.precision(), alone.recall(),
                                   all.recall() - without.recall(),
                                   100.0 * covered / clear.size(), covered ? sharing / covered : 0,
                                   covered ? 100.0 * not_unique / covered : 0);
    }

    // What the missed pairs look like: for every true person split over several predicted
    // persons, one record pair per pair of fragments; which normalised fields agree.
    std::map<int, std::map<int, int>> fragments;  // person -> predicted label -> a record
    for (size_t i = 0; i < records.size(); ++i) fragments[truth[i]].emplace(pred[i], static_cast<int>(i));
    std::map<std::string, int> patterns;
    int missed = 0, shown = 0;
    const std::vector<std::pair<v1::Field, const char*>> fields = {
        {v1::FIELD_NATIONAL_ID, "nid"},        {v1::FIELD_FIRST_GIVEN_NAME, "first"},
        {v1::FIELD_FIRST_INITIAL, "init"},     {v1::FIELD_SURNAME, "surname"},
        {v1::FIELD_SURNAME_PHONETIC, "sphon"}, {v1::FIELD_DATE_OF_BIRTH, "dob"},
        {v1::FIELD_DOB_DAY_MONTH_UNORDERED, "dobswap"}, {v1::FIELD_POSTCODE, "pc"},
        {v1::FIELD_PHONE, "phone"}};
    for (const auto& [person, frags] : fragments) {
      if (frags.size() < 2) continue;
      std::vector<int> reps;
      for (const auto& [label, rec] : frags) reps.push_back(rec);
      for (size_t a = 0; a < reps.size(); ++a) {
        for (size_t b = a + 1; b < reps.size(); ++b) {
          ++missed;
          const an::Person& x = normalised_records[records[reps[a]].record_id];
          const an::Person& y = normalised_records[records[reps[b]].record_id];
          std::string pat;
          for (const auto& [f, name] : fields) {
            const std::string &u = x.Get(f), &w = y.Get(f);
            pat += absl::StrCat(name, u.empty() || w.empty() ? "-" : u == w ? "=" : "!", " ");
          }
          ++patterns[pat];
          if (shown < cfg.show_missed) {
            ++shown;
            auto clear_fields = [&](const an::Person& p) {
              std::string o;
              for (const auto& [f, name] : fields) absl::StrAppend(&o, name, "=", p.Get(f), " ");
              return o;
            };
            std::cout << "    missed: " << clear_fields(x) << "\n            "
                      << clear_fields(y) << "\n";
          }
        }
      }
    }
    if (missed > 0) {
      std::vector<std::pair<int, std::string>> top;
      for (const auto& [p, n] : patterns) top.push_back({n, p});
      std::sort(top.rbegin(), top.rend());
      std::cout << absl::StrFormat(
          "  missed fragment pairs: %d (= same value, ! differs after normalisation, - missing)\n",
          missed);
      for (size_t k = 0; k < top.size() && k < 8; ++k) {
        std::cout << absl::StrFormat("    %5d  %s\n", top[k].first, top[k].second);
      }
    }
    // False merges: predicted persons holding records of several true persons.
    std::map<int, std::set<int>> members;
    for (size_t i = 0; i < records.size(); ++i) members[pred[i]].insert(truth[i]);
    int merged = 0, extra = 0;
    for (const auto& [label, set] : members) {
      if (set.size() > 1) { ++merged; extra += static_cast<int>(set.size()) - 1; }
    }
    if (merged) {
      std::cout << absl::StrFormat("  false merges: %d predicted persons hold %d extra true persons\n",
                                   merged, extra);
      if (cfg.show_false) {
        for (size_t i = 0; i < records.size(); ++i) {
          if (members[pred[i]].size() < 2) continue;
          const an::Person& x = normalised_records[records[i].record_id];
          std::string o;
          for (const auto& [f, name] : fields) absl::StrAppend(&o, name, "=", x.Get(f), " ");
          std::cout << absl::StrFormat("    merged %d truth %d: %s\n", pred[i], truth[i], o);
        }
      }
    }
  }
  return absl::OkStatus();
}

template <typename T, typename F>
absl::StatusOr<std::vector<T>> ParseList(const std::string& flag, const std::string& text, F parse) {
  std::vector<T> out;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    T v;
    if (!parse(item, &v)) return absl::InvalidArgumentError(absl::StrCat("--", flag, ": bad value '", item, "'"));
    out.push_back(v);
  }
  if (out.empty()) return absl::InvalidArgumentError(absl::StrCat("--", flag, " is empty"));
  return out;
}

absl::Status Main(int argc, char** argv) {
  samenzicht::cli::Command cmd(
      "linkage_quality",
      "Simulate agencies' exports, pseudonymise and link them with the real agency-node and "
      "aggregator, and print pairwise precision/recall/F1 and person counts against the "
      "ground truth, per linkage profile and per rule. Exits 0 unless a command fails.");
  cmd.Flag("sizes", "N[,N...]", "true population sizes (default 1000,5000)")
      .Flag("noise", "LEVEL[,LEVEL...]", "noise levels (default none,light,moderate,heavy)")
      .Flag("seeds", "S[,S...]", "simulator seeds (default 1)")
      .Flag("agencies", "K", "number of agencies (default 6)")
      .Flag("profiles", "FILE[,FILE...]",
            "linkage profiles (default: deploy/config/profile.textproto and "
            "bench/linkage_quality/profiles/*.textproto)")
      .Flag("work", "DIR", "working folder (default a new folder under $TMPDIR or /tmp)")
      .Flag("agency-node", "PATH", "agency-node binary (default: the one built with this)")
      .Flag("aggregator", "PATH", "aggregator binary (default: the one built with this)")
      .Switch("smoke", "small and fast (CI): 800 persons, moderate noise, default profile")
      .Flag("show-missed", "N", "print the clear normalised fields of N missed pairs (diagnosis; synthetic data only)")
      .Switch("show-false", "print the clear normalised fields of falsely merged records")
      .Switch("no-rules", "skip the per-rule figures and the missed-pair diagnosis")
      .Switch("keep", "keep the working folder");
  ASSIGN_OR_RETURN(auto args, cmd.Parse(argc, argv));
  if (args.help) {
    std::cout << cmd.Usage();
    return absl::OkStatus();
  }
  Config cfg;
  const bool smoke = args.Has("smoke");
  auto atoi = [](absl::string_view s, int* v) { return absl::SimpleAtoi(s, v) && *v > 0; };
  auto atou = [](absl::string_view s, uint64_t* v) { return absl::SimpleAtoi(s, v); };
  auto noise = [](absl::string_view s, sim::Noise* v) {
    auto n = sim::ParseNoise(s);
    if (n.ok()) *v = *n;
    return n.ok();
  };
  ASSIGN_OR_RETURN(cfg.sizes, ParseList<int>("sizes", args.Get("sizes", smoke ? "800" : "1000,5000"), atoi));
  ASSIGN_OR_RETURN(cfg.noise, ParseList<sim::Noise>("noise", args.Get("noise", smoke ? "moderate" : "none,light,moderate,heavy"), noise));
  ASSIGN_OR_RETURN(cfg.seeds, ParseList<uint64_t>("seeds", args.Get("seeds", "1"), atou));
  if (args.Has("agencies") && (!absl::SimpleAtoi(args.Get("agencies"), &cfg.agencies) || cfg.agencies < 1)) {
    return absl::InvalidArgumentError("--agencies must be a positive integer");
  }
  if (args.Has("profiles")) {
    cfg.profiles = absl::StrSplit(args.Get("profiles"), ',', absl::SkipEmpty());
  } else {
    cfg.profiles.push_back(DEFAULT_PROFILE);
    if (!smoke) {
      std::vector<std::string> variants;
      for (const auto& e : fs::directory_iterator(VARIANT_PROFILE_DIR)) {
        if (e.path().extension() == ".textproto") variants.push_back(e.path().string());
      }
      std::sort(variants.begin(), variants.end());
      cfg.profiles.insert(cfg.profiles.end(), variants.begin(), variants.end());
    }
  }
  cfg.agency_node = args.Get("agency-node", cfg.agency_node);
  cfg.aggregator = args.Get("aggregator", cfg.aggregator);
  cfg.rules = !args.Has("no-rules");
  cfg.show_false = args.Has("show-false");
  if (args.Has("show-missed") && (!absl::SimpleAtoi(args.Get("show-missed"), &cfg.show_missed) || cfg.show_missed < 0)) {
    return absl::InvalidArgumentError("--show-missed must be a non-negative integer");
  }
  bool temp = !args.Has("work");
  if (temp) {
    ASSIGN_OR_RETURN(cfg.work, samenzicht::bench::MakeTempDir("linkage_quality"));
  } else {
    cfg.work = args.Get("work");
    RETURN_IF_ERROR(samenzicht::files::MakeDirs(cfg.work));
  }
  std::cout << "linkage_quality: agency-node " << cfg.agency_node << ", aggregator "
            << cfg.aggregator << ", work " << cfg.work << "\nprofiles:";
  for (const auto& p : cfg.profiles) std::cout << " " << p;
  std::cout << "\n";

  ASSIGN_OR_RETURN(auto normaliser, an::Normaliser::New());
  std::vector<Row> rows;
  absl::Status status;
  for (int size : cfg.sizes) {
    for (sim::Noise n : cfg.noise) {
      for (uint64_t seed : cfg.seeds) {
        status = RunScenario(cfg, size, n, seed, *normaliser, &rows);
        if (!status.ok()) break;
      }
      if (!status.ok()) break;
    }
    if (!status.ok()) break;
  }

  std::cout << "\n== summary (target at moderate noise: precision >= 0.995, recall >= 0.98, "
               "persons within 1%)\n";
  std::cout << absl::StrFormat("%-8s %-9s %-5s %-22s %9s %9s %9s %8s %9s %s\n", "persons", "noise",
                               "seed", "profile", "precision", "recall", "F1", "counted", "vs true", "target");
  for (const Row& r : rows) {
    bool met = r.s.precision() >= 0.995 && r.s.recall() >= 0.98 &&
               std::abs(r.s.clusters - r.true_persons) <= 0.01 * r.true_persons;
    std::cout << absl::StrFormat("%-8d %-9s %-5d %-22s %s %s\n", r.size, r.noise, r.seed, r.profile,
                                 Fmt(r.s, r.true_persons), met ? "met" : "not met");
  }
  if (temp && !args.Has("keep")) fs::remove_all(cfg.work);
  return status;
}

}  // namespace

int main(int argc, char** argv) { return samenzicht::cli::ExitWith(Main(argc, argv)); }
