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
// Two yardsticks sit next to every profile (bench/linkage_quality/plaintext_fs.h):
//  - "plaintext FS reference": a NON-private Fellegi-Sunter linkage of the same records in
//    the clear (normalised with the node's own normaliser), as Splink or fastLink would
//    link them: per-field comparison levels, m and u learned without labels by EM, pairs
//    from several blocking keys, posterior >= 0.5, connected components. The gap between
//    it and a profile is what privacy costs.
//  - a frequency attack per profile: an attacker who knows the frequencies of every
//    rule's plaintext values in the (clear) population and sees every stored token assigns
//    values to tokens by frequency rank; printed per rule as the share it gets right.
//
// Exit code: 0 unless a command failed; the figures never fail a run.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "agency_node/csv.h"
#include "agency_node/normalise.h"
#include "agency_node/person.h"
#include "agency_node/signal.h"
#include "agency_node/tokeniser.h"
#include "aggregator/linkage/linkage.h"
#include "bench/common/pipeline.h"
#include "bench/linkage_quality/plaintext_fs.h"
#include "common/cli.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "crypto/keyed_hash.h"
#include "crypto/secret_bytes.h"
#include "google/protobuf/util/json_util.h"
#include "model/config.h"
#include "samenzicht/v1/profile.pb.h"
#include "samenzicht/v1/report.pb.h"
#include "simulator/simulator.h"
#include "common/version.h"

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
// (aggregator/linkage/linkage.h: the collision policy and the probe rules) over the tokens of the
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

// The record's identifiers in the clear for the plaintext reference: the node's
// normalised fields; the city folded by its normaliser when the node kept none; the street
// folded by it (the node keeps only the street's phonetic code).
samenzicht::bench::ClearRecord ToClear(const an::Person& p, const std::string& city,
                                       const std::string& street, const an::Normaliser& n) {
  samenzicht::bench::ClearRecord r;
  r.given = p.Get(v1::FIELD_FIRST_GIVEN_NAME);
  r.initial = p.Get(v1::FIELD_FIRST_INITIAL);
  r.surname = p.Get(v1::FIELD_SURNAME);
  r.surname_phonetic = p.Get(v1::FIELD_SURNAME_PHONETIC);
  r.given_phonetic = p.Get(v1::FIELD_GIVEN_NAME_PHONETIC);
  const std::string& dob = p.Get(v1::FIELD_DATE_OF_BIRTH);  // YYYYMMDD
  if (dob.size() != 8 || !absl::SimpleAtoi(dob.substr(0, 4), &r.dob_year) ||
      !absl::SimpleAtoi(dob.substr(4, 2), &r.dob_month) ||
      !absl::SimpleAtoi(dob.substr(6, 2), &r.dob_day)) {
    r.dob_year = r.dob_month = r.dob_day = 0;
  }
  r.postcode = p.Get(v1::FIELD_POSTCODE);
  r.city = p.Get(v1::FIELD_CITY);
  if (r.city.empty()) r.city = std::string(absl::StripAsciiWhitespace(n.Fold(city)));
  r.phone = p.Get(v1::FIELD_PHONE);
  r.national_id = p.Get(v1::FIELD_NATIONAL_ID);
  r.email = p.Get(v1::FIELD_EMAIL);
  r.street = std::string(absl::StripAsciiWhitespace(n.Fold(street)));
  r.house_number = p.Get(v1::FIELD_HOUSE_NUMBER);
  return r;
}

// Every hashed message of `rule` for `person`, as Tokenise hashes them (one per member of
// the deletion neighbourhood for a rule with a multi-valued field; none when a field is
// absent).
std::vector<std::string> RuleMessages(const an::Tokeniser& tokeniser, size_t rule,
                                      const an::Person& p) {
  return tokeniser.MessagesForTest(rule, p);
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
  bool plaintext_fs = true;  // the plaintext Fellegi-Sunter reference row
  samenzicht::bench::FsOptions fs;
  bool show_fs_model = false;
  bool attack = true;  // the frequency attack per profile
  uint64_t attack_seed = 1;
  // When not empty: every identifier not named here is blanked in every record before the
  // agencies write their exports (a scenario of sparse records, e.g. names, city and
  // postcode only).
  std::set<std::string> keep_fields;
  bool every_person_has_address = false;  // simulator: no person without an address
  sim::GecoParameters geco;
  sim::NameFrequencies name_frequencies = sim::NameFrequencies::kUniform;
  // When above 0: exit with an error when a profile's F1 in some scenario is below this
  // (for a regression test; the figures are still printed).
  double min_f1 = 0;
};

inline constexpr const char* kIdentifierFields[] = {
    "given_names", "surname", "date_of_birth", "gender", "national_id", "phone",
    "email", "postcode", "street", "house_number", "city"};

// Blanks every identifier of `ids` whose name is not in `keep`.
void KeepOnly(const std::set<std::string>& keep, sim::Identifiers* ids) {
  std::string* fields[] = {&ids->given_names, &ids->surname, &ids->date_of_birth, &ids->gender,
                           &ids->national_id, &ids->phone, &ids->email, &ids->postcode,
                           &ids->street, &ids->house_number, &ids->city};
  for (size_t i = 0; i < std::size(fields); ++i) {
    if (!keep.contains(kIdentifierFields[i])) fields[i]->clear();
  }
}

inline constexpr char kFsRow[] = "plaintext FS reference";

struct Row {
  int size;
  std::string noise, profile;
  uint64_t seed;
  Scores s;
  int true_persons;
};

// One rule's frequency attack in one scenario.
struct AttackRow {
  int size;
  std::string noise, profile, rule;
  uint64_t seed;
  samenzicht::bench::AttackResult r;
};

// ---------------------------------------------------------------- frequency attack

// Per rule of `profile`: the attacker knows how often each plaintext value (the rule's
// hashed message) occurs in the clear population `clear` and sees the multiset of stored
// token values: the tokens of every record that gave a report. As the keyed hash is
// injective on distinct messages, the stored tokens are simulated by the messages of the
// records (normalised as the node does); their counts are checked against the tokens the
// node actually wrote (`tokens`).
absl::Status FrequencyAttackOnProfile(const Config& cfg, const v1::LinkageProfile& profile,
                                      const sim::Simulation& simulation,
                                      const std::map<std::string, an::Person>& clear,
                                      const std::map<std::string, an::Person>& normalised_records,
                                      const samenzicht::bench::LinkedSimulation& linked,
                                      const std::vector<std::vector<RecordToken>>& tokens,
                                      int size, sim::Noise noise, uint64_t seed,
                                      std::vector<AttackRow>* attack_rows) {
  namespace crypto = samenzicht::crypto;
  ASSIGN_OR_RETURN(crypto::SecretBytes key, crypto::SecretBytes::Random(32));
  ASSIGN_OR_RETURN(auto hasher, crypto::KeyedHasher::New(key, an::kTokenPurpose, 1,
                                                         an::RuleNames(profile)));
  ASSIGN_OR_RETURN(auto tokeniser, an::Tokeniser::New(profile, std::move(hasher)));
  std::cout << absl::StrFormat(
      "  frequency attack on %s (knows each rule's value frequencies in the clear population "
      "of %d; sees every stored token; ranks both; messages by MessagesForTest; target < 0.1%%; right = "
      "distinct tokens assigned their own value, chance = expected by a random assignment)\n",
      profile.name(), clear.size());
  std::cout << absl::StrFormat("  %-18s %8s %8s %8s | %6s %8s %14s %17s\n", "rule", "stored",
                               "distinct", "known", "right", "chance", "right distinct",
                               "right occurrences");
  const auto& records = simulation.records;
  AttackRow total{size, sim::NoiseName(noise), profile.name(), "(all rules)", seed, {}};
  for (int r = 0; r < profile.rules_size(); ++r) {
    const std::string& rule = profile.rules(r).name();
    std::unordered_map<std::string, int64_t> known, observed;
    for (const auto& [id, p] : clear) {
      for (auto& m : RuleMessages(*tokeniser, r, p)) ++known[std::move(m)];
    }
    int64_t written = 0;
    for (size_t i = 0; i < records.size(); ++i) {
      if (linked.person_of_record[i] < 0) continue;  // no report stored
      for (const auto& t : tokens[i]) written += t.rule == rule;
      auto it = normalised_records.find(records[i].record_id);
      if (it == normalised_records.end()) continue;
      for (auto& m : RuleMessages(*tokeniser, r, it->second)) ++observed[std::move(m)];
    }
    samenzicht::bench::AttackResult a =
        samenzicht::bench::FrequencyAttack(known, observed, cfg.attack_seed + r);
    std::cout << absl::StrFormat("  %-18s %8d %8d %8d | %6d %8.2f %13.4f%% %16.4f%%", rule,
                                 a.occurrences, a.distinct_tokens, a.known_values,
                                 a.distinct_right, a.chance_right(), 100 * a.distinct_fraction(),
                                 100 * a.occurrence_fraction());
    if (written != a.occurrences) {
      std::cout << absl::StrFormat("  (CHECK: the node wrote %d tokens of this rule)", written);
    }
    std::cout << "\n";
    attack_rows->push_back({size, sim::NoiseName(noise), profile.name(), rule, seed, a});
    total.r.distinct_tokens += a.distinct_tokens;
    total.r.distinct_right += a.distinct_right;
    total.r.occurrences += a.occurrences;
    total.r.occurrences_right += a.occurrences_right;
    total.r.known_values += a.known_values;
  }
  std::cout << absl::StrFormat("  %-18s %8d %8d %8d | %6d %8s %13.4f%% %16.4f%%\n", total.rule,
                               total.r.occurrences, total.r.distinct_tokens, total.r.known_values,
                               total.r.distinct_right, "", 100 * total.r.distinct_fraction(),
                               100 * total.r.occurrence_fraction());
  attack_rows->push_back(std::move(total));
  return absl::OkStatus();
}

absl::Status RunScenario(const Config& cfg, int size, sim::Noise noise, uint64_t seed,
                         const an::Normaliser& normaliser, std::vector<Row>* rows,
                         std::vector<AttackRow>* attack_rows) {
  sim::SimulatorOptions opt;
  opt.persons = size;
  opt.agencies = cfg.agencies;
  opt.noise = noise;
  opt.seed = seed;
  opt.geco = cfg.geco;
  opt.name_frequencies = cfg.name_frequencies;
  opt.every_person_has_address = cfg.every_person_has_address;
  // Records cut down to some fields: GeCo modifies only those (as a generator run on such
  // records would), so the share of corrupted records is what was asked for.
  if (!cfg.keep_fields.empty()) opt.geco.attributes = cfg.keep_fields;
  ASSIGN_OR_RETURN(sim::Simulation simulation, sim::Simulate(opt));
  if (!cfg.keep_fields.empty()) {
    for (sim::Record& r : simulation.records) KeepOnly(cfg.keep_fields, &r.ids);
  }
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
  std::cout << absl::StrFormat("%-22s %9s %9s %9s %8s %9s   (true persons %d)\n", "profile",
                               "precision", "recall", "F1", "persons", "vs true", true_persons);

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

  // The plaintext reference: Fellegi-Sunter over the same records in the clear.
  if (cfg.plaintext_fs) {
    std::vector<samenzicht::bench::ClearRecord> clear_records;
    clear_records.reserve(records.size());
    for (const auto& r : records) {
      auto it = normalised_records.find(r.record_id);
      clear_records.push_back(ToClear(it == normalised_records.end() ? an::Person() : it->second,
                                      r.ids.city, r.ids.street, normaliser));
    }
    samenzicht::bench::FsOptions fo = cfg.fs;
    fo.seed = seed;
    samenzicht::bench::FsResult fs = samenzicht::bench::LinkFellegiSunter(clear_records, fo);
    Scores s = Score(truth, fs.label);
    std::cout << absl::StrFormat(
        "%-22s %s  (%d candidate pairs, %d accepted, lambda %.3g, EM %d it.%s, %d blocks > %d "
        "skipped)\n",
        kFsRow, Fmt(s, true_persons), fs.candidate_pairs, fs.accepted_pairs, fs.model.lambda,
        fs.model.em_iterations, fs.model.converged ? "" : " not converged", fs.skipped_blocks,
        fo.max_block);
    if (cfg.show_fs_model) std::cout << samenzicht::bench::DescribeModel(fs.model);
    {
      // False merges of the reference, as for the profiles below.
      std::map<int, std::set<int>> members;
      for (size_t i = 0; i < records.size(); ++i) members[fs.label[i]].insert(truth[i]);
      int merged = 0, extra = 0;
      for (const auto& [label, set] : members) {
        if (set.size() > 1) { ++merged; extra += static_cast<int>(set.size()) - 1; }
      }
      if (merged && (cfg.rules || cfg.show_false)) {
        std::cout << absl::StrFormat(
            "  reference false merges: %d predicted persons hold %d extra true persons\n", merged,
            extra);
      }
      if (merged && cfg.show_false) {
        std::vector<size_t> order(records.size());
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(),
                         [&](size_t a, size_t b) { return fs.label[a] < fs.label[b]; });
        for (size_t i : order) {
          if (members[fs.label[i]].size() < 2) continue;
          const auto& c = clear_records[i];
          std::cout << absl::StrFormat(
              "    reference merged %d truth %d: given=%s init=%s surname=%s dob=%04d%02d%02d pc=%s "
              "city=%s phone=%s nid=%s email=%s\n",
              fs.label[i], truth[i], c.given, c.initial, c.surname, c.dob_year, c.dob_month,
              c.dob_day, c.postcode, c.city, c.phone, c.national_id, c.email);
        }
      }
    }
    rows->push_back({size, sim::NoiseName(noise), kFsRow, seed, s, true_persons});
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
    if (!cfg.rules && !cfg.attack) continue;

    // Tokens per record, for the per-rule figures and the attack's check.
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
    if (cfg.attack) {
      RETURN_IF_ERROR(FrequencyAttackOnProfile(cfg, profile, simulation, clear, normalised_records,
                                               linked, tokens, size, noise, seed, attack_rows));
    }
    if (!cfg.rules) continue;
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
        {v1::FIELD_GIVEN_NAME_PHONETIC, "gphon"}, {v1::FIELD_DOB_DAY_MONTH_UNORDERED, "dobswap"},
        {v1::FIELD_POSTCODE, "pc"},            {v1::FIELD_POSTCODE_AREA, "pca"},
        {v1::FIELD_CITY, "city"},              {v1::FIELD_PHONE, "phone"}};
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
      for (size_t k = 0; k < top.size() && k < 25; ++k) {
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

// "1,2,7" or "1-5" or "1-3,9".
bool ParseSeeds(const std::string& text, std::vector<uint64_t>* out) {
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    std::vector<absl::string_view> range = absl::StrSplit(item, absl::MaxSplits('-', 1));
    uint64_t lo, hi;
    if (!absl::SimpleAtoi(range[0], &lo)) return false;
    hi = lo;
    if (range.size() == 2 && (!absl::SimpleAtoi(range[1], &hi) || hi < lo || hi - lo > 1000)) {
      return false;
    }
    for (uint64_t v = lo; v <= hi; ++v) out->push_back(v);
  }
  return !out->empty();
}

absl::Status Main(int argc, char** argv) {
  samenzicht::cli::Command cmd(
      "linkage_quality",
      "Simulate agencies' exports, pseudonymise and link them with the real agency-node and "
      "aggregator, and print pairwise precision/recall/F1 and person counts against the "
      "ground truth, per linkage profile and per rule, next to a plaintext (non-private) "
      "Fellegi-Sunter reference, and a frequency attack on each profile's stored tokens. "
      "Exits 0 unless a command fails.");
  cmd.Flag("sizes", "N[,N...]", "true population sizes (default 1000,5000; --grid 2000,20000)")
      .Flag("noise", "LEVEL[,LEVEL...]",
            "noise levels as simulator::ParseNoise reads them (default none,light,moderate,heavy; "
            "--grid moderate,geco,pseudopeople,splink,ons); a level it does not know is named "
            "and skipped")
      .Flag("seeds", "S[,S...]", "simulator seeds, also ranges: 1-5 (default 1; --grid 1-5)")
      .Flag("agencies", "K", "number of agencies (default 6)")
      .Flag("profiles", "FILE[,FILE...]",
            "linkage profiles (default: deploy/config/profile.textproto and "
            "bench/linkage_quality/profiles/*.textproto; --grid and --smoke: the first only)")
      .Flag("work", "DIR", "working folder (default a new folder under $TMPDIR or /tmp)")
      .Flag("agency-node", "PATH", "agency-node binary (default: the one built with this)")
      .Flag("aggregator", "PATH", "aggregator binary (default: the one built with this)")
      .Switch("smoke", "small and fast (CI): 800 persons, moderate noise, default profile")
      .Switch("grid", "the grid: sizes 2000,20000, seeds 1-5, 6 agencies, noise "
                      "moderate,geco,pseudopeople,splink,ons, default profile, no per-rule "
                      "figures (each can be overridden by its flag)")
      .Flag("show-missed", "N", "print the clear normalised fields of N missed pairs (diagnosis; synthetic data only)")
      .Switch("show-false", "print the clear normalised fields of falsely merged records")
      .Switch("no-rules", "skip the per-rule figures and the missed-pair diagnosis")
      .Switch("rules", "print the per-rule figures also with --grid")
      .Switch("no-plaintext", "skip the plaintext Fellegi-Sunter reference")
      .Flag("fs-threshold", "P", "plaintext reference: accept pairs with posterior >= P (default 0.5)")
      .Flag("fs-max-block", "N", "plaintext reference: skip blocks of more than N records (default 300)")
      .Flag("fs-method", "splink|fastlink",
            "plaintext reference: how m, u and lambda are learned (default splink: u from "
            "random pairs, m by EM sessions per blocking key, lambda over all pairs; fastlink: "
            "all by EM over the candidate pairs, which falls apart at 20000 persons)")
      .Switch("fs-no-tf", "plaintext reference: no term-frequency adjustment of exact name "
                          "agreement")
      .Switch("show-fs-model", "print the plaintext reference's learned m, u and weights")
      .Switch("no-attack", "skip the frequency attack")
      .Flag("geco-corrupted", "F", "noise geco: share of duplicate records corrupted (default 1)")
      .Flag("geco-modifications", "M", "noise geco: modifications per corrupted record (default 5)")
      .Flag("name-frequencies", "F", "simulator: how names are drawn, uniform (default) or "
                                     "zipf (heavy-tailed, a long tail of rare surnames)")
      .Switch("every-person-has-address", "simulator: give every person an address (by default "
                                          "most homeless persons have none on any record)")
      .Flag("keep-fields", "F[,F...]",
            "blank every identifier but these in every record (e.g. "
            "given_names,surname,postcode,city: records as sparse as some case systems "
            "export); names: given_names surname date_of_birth gender national_id phone email "
            "postcode street house_number city")
      .Switch("keep", "keep the working folder")
      .Flag("min-f1", "F", "fail (exit 1) when a linkage profile's F1 in some scenario is below "
                           "F (regression tests; default: never)");
  ASSIGN_OR_RETURN(auto args, cmd.Parse(argc, argv));
  if (args.help) {
    std::cout << cmd.Usage();
    return absl::OkStatus();
  }
  Config cfg;
  const bool smoke = args.Has("smoke");
  const bool grid = args.Has("grid");
  auto atoi = [](absl::string_view s, int* v) { return absl::SimpleAtoi(s, v) && *v > 0; };
  ASSIGN_OR_RETURN(cfg.sizes, ParseList<int>("sizes", args.Get("sizes", smoke ? "800" : grid ? "2000,20000" : "1000,5000"), atoi));
  std::vector<std::string> unknown_noise;
  for (absl::string_view word : absl::StrSplit(
           args.Get("noise", smoke ? "moderate"
                             : grid ? "moderate,geco,pseudopeople,splink,ons"
                                    : "none,light,moderate,heavy"),
           ',', absl::SkipEmpty())) {
    auto n = sim::ParseNoise(word);
    if (n.ok()) {
      cfg.noise.push_back(*n);
    } else {
      unknown_noise.push_back(std::string(word));
      std::cout << "noise level '" << word << "' is not known to simulator::ParseNoise ("
                << n.status().message() << "): not run\n";
    }
  }
  if (cfg.noise.empty()) return absl::InvalidArgumentError("--noise: no level that the simulator knows");
  if (!ParseSeeds(args.Get("seeds", grid ? "1-5" : "1"), &cfg.seeds)) {
    return absl::InvalidArgumentError("--seeds: bad value (S[,S...], ranges as 1-5)");
  }
  if (args.Has("agencies") && (!absl::SimpleAtoi(args.Get("agencies"), &cfg.agencies) || cfg.agencies < 1)) {
    return absl::InvalidArgumentError("--agencies must be a positive integer");
  }
  if (args.Has("profiles")) {
    cfg.profiles = absl::StrSplit(args.Get("profiles"), ',', absl::SkipEmpty());
  } else {
    cfg.profiles.push_back(DEFAULT_PROFILE);
    if (!smoke && !grid) {
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
  cfg.rules = !args.Has("no-rules") && (!grid || args.Has("rules"));
  cfg.show_false = args.Has("show-false");
  if (args.Has("show-missed") && (!absl::SimpleAtoi(args.Get("show-missed"), &cfg.show_missed) || cfg.show_missed < 0)) {
    return absl::InvalidArgumentError("--show-missed must be a non-negative integer");
  }
  cfg.plaintext_fs = !args.Has("no-plaintext");
  cfg.attack = !args.Has("no-attack");
  cfg.show_fs_model = args.Has("show-fs-model");
  if (args.Has("min-f1") && (!absl::SimpleAtod(args.Get("min-f1"), &cfg.min_f1) ||
                             cfg.min_f1 < 0 || cfg.min_f1 > 1)) {
    return absl::InvalidArgumentError("--min-f1 must be in [0, 1]");
  }
  if (args.Has("geco-corrupted")) {
    if (!absl::SimpleAtod(args.Get("geco-corrupted"), &cfg.geco.corrupted_fraction) ||
        !(cfg.geco.corrupted_fraction >= 0 && cfg.geco.corrupted_fraction <= 1)) {
      return absl::InvalidArgumentError("--geco-corrupted must be a number from 0 to 1");
    }
  }
  if (args.Has("geco-modifications")) {
    if (!absl::SimpleAtoi(args.Get("geco-modifications"), &cfg.geco.modifications) ||
        cfg.geco.modifications < 1 || cfg.geco.modifications > 7) {
      return absl::InvalidArgumentError("--geco-modifications must be an integer from 1 to 7");
    }
  }
  if (args.Has("name-frequencies")) {
    ASSIGN_OR_RETURN(cfg.name_frequencies, sim::ParseNameFrequencies(args.Get("name-frequencies")));
  }
  cfg.every_person_has_address = args.Has("every-person-has-address");
  if (args.Has("keep-fields")) {
    for (absl::string_view f : absl::StrSplit(args.Get("keep-fields"), ',', absl::SkipEmpty())) {
      if (std::find(std::begin(kIdentifierFields), std::end(kIdentifierFields), f) ==
          std::end(kIdentifierFields)) {
        return absl::InvalidArgumentError(absl::StrCat("--keep-fields: unknown field '", f, "'"));
      }
      cfg.keep_fields.insert(std::string(f));
    }
    if (cfg.keep_fields.empty()) return absl::InvalidArgumentError("--keep-fields is empty");
  }
  cfg.fs.tf_adjust = !args.Has("fs-no-tf");
  {
    const std::string method = args.Get("fs-method", "splink");
    if (method == "fastlink") cfg.fs.method = samenzicht::bench::FsMethod::kFastLink;
    else if (method == "splink") cfg.fs.method = samenzicht::bench::FsMethod::kSplink;
    else return absl::InvalidArgumentError("--fs-method must be fastlink or splink");
  }
  if (args.Has("fs-threshold") && (!absl::SimpleAtod(args.Get("fs-threshold"), &cfg.fs.threshold) ||
                                   cfg.fs.threshold <= 0 || cfg.fs.threshold >= 1)) {
    return absl::InvalidArgumentError("--fs-threshold must be in (0, 1)");
  }
  if (args.Has("fs-max-block") && !atoi(args.Get("fs-max-block"), &cfg.fs.max_block)) {
    return absl::InvalidArgumentError("--fs-max-block must be a positive integer");
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
  if (cfg.plaintext_fs) {
    std::cout << absl::StrFormat(
        "plaintext FS reference: NOT private; Fellegi-Sunter on the clear normalised records, "
        "learned by EM without labels (--fs-method %s), %s, posterior >= %.2f, blocks > %d "
        "records skipped\n",
        samenzicht::bench::FsMethodName(cfg.fs.method),
        cfg.fs.tf_adjust ? "names term-frequency adjusted" : "no term-frequency adjustment",
        cfg.fs.threshold, cfg.fs.max_block);
  }

  ASSIGN_OR_RETURN(auto normaliser, an::Normaliser::New());
  std::vector<Row> rows;
  std::vector<AttackRow> attack_rows;
  absl::Status status;
  for (int size : cfg.sizes) {
    for (sim::Noise n : cfg.noise) {
      for (uint64_t seed : cfg.seeds) {
        status = RunScenario(cfg, size, n, seed, *normaliser, &rows, &attack_rows);
        if (!status.ok()) break;
      }
      if (!status.ok()) break;
    }
    if (!status.ok()) break;
  }

  std::cout << "\n== summary (target at moderate noise: precision >= 0.995, recall >= 0.98, "
               "persons within 1%)\n";
  std::cout << absl::StrFormat("%-8s %-12s %-5s %-22s %9s %9s %9s %8s %9s %6s %s\n", "persons",
                               "noise", "seed", "profile", "precision", "recall", "F1", "counted",
                               "vs true", "true", "target");
  for (const Row& r : rows) {
    bool met = r.s.precision() >= 0.995 && r.s.recall() >= 0.98 &&
               std::abs(r.s.clusters - r.true_persons) <= 0.01 * r.true_persons;
    std::cout << absl::StrFormat("%-8d %-12s %-5d %-22s %s %6d %s\n", r.size, r.noise, r.seed,
                                 r.profile, Fmt(r.s, r.true_persons), r.true_persons,
                                 met ? "met" : "not met");
  }
  if (cfg.seeds.size() > 1) {
    // Mean over seeds, per size x noise x profile, in order of first appearance.
    std::cout << "\n== mean over seeds (persons: mean deviation from the true count, and its "
                 "range)\n";
    std::cout << absl::StrFormat("%-8s %-12s %-22s %5s %9s %9s %9s %9s %19s\n", "persons",
                                 "noise", "profile", "seeds", "precision", "recall", "F1",
                                 "vs true", "range");
    std::vector<std::tuple<int, std::string, std::string>> order;
    std::map<std::tuple<int, std::string, std::string>, std::vector<const Row*>> groups;
    for (const Row& r : rows) {
      auto k = std::make_tuple(r.size, r.noise, r.profile);
      if (!groups.count(k)) order.push_back(k);
      groups[k].push_back(&r);
    }
    for (const auto& k : order) {
      const auto& g = groups[k];
      double p = 0, rc = 0, f = 0, dev = 0, lo = 1e9, hi = -1e9;
      for (const Row* r : g) {
        p += r->s.precision();
        rc += r->s.recall();
        f += r->s.f1();
        double d = 100.0 * (r->s.clusters - r->true_persons) / r->true_persons;
        dev += d;
        lo = std::min(lo, d);
        hi = std::max(hi, d);
      }
      const double n = g.size();
      std::cout << absl::StrFormat("%-8d %-12s %-22s %5d %9.4f %9.4f %9.4f %+8.2f%% %+8.2f..%+.2f%%\n",
                                   std::get<0>(k), std::get<1>(k), std::get<2>(k), g.size(), p / n,
                                   rc / n, f / n, dev / n, lo, hi);
    }
  }
  if (!attack_rows.empty()) {
    // Frequency attack: per size x noise x profile x rule, the worst seed.
    std::cout << "\n== frequency attack (share of stored tokens the rank attacker assigns "
                 "their plaintext; worst seed; target < 0.1%)\n";
    std::cout << absl::StrFormat("%-8s %-12s %-20s %-18s %15s %18s %6s %8s %s\n", "persons",
                                 "noise", "profile", "rule", "right distinct",
                                 "right occurrences", "right", "chance", "target");
    std::vector<std::tuple<int, std::string, std::string, std::string>> order;
    std::map<std::tuple<int, std::string, std::string, std::string>, const AttackRow*> worst;
    for (const AttackRow& a : attack_rows) {
      auto k = std::make_tuple(a.size, a.noise, a.profile, a.rule);
      auto it = worst.find(k);
      if (it == worst.end()) {
        order.push_back(k);
        worst[k] = &a;
      } else if (a.r.distinct_fraction() > it->second->r.distinct_fraction()) {
        it->second = &a;
      }
    }
    for (const auto& k : order) {
      const AttackRow& a = *worst[k];
      const double d = a.r.distinct_fraction(), o = a.r.occurrence_fraction();
      const std::string chance =
          a.r.overlap ? absl::StrFormat("%.2f", a.r.chance_right()) : std::string("-");
      std::cout << absl::StrFormat("%-8d %-12s %-20s %-18s %14.4f%% %17.4f%% %6d %8s %s\n",
                                   std::get<0>(k), std::get<1>(k), std::get<2>(k), std::get<3>(k),
                                   100 * d, 100 * o, a.r.distinct_right, chance,
                                   d < 0.001 && o < 0.001 ? "met" : "NOT met");
    }
  }
  if (!unknown_noise.empty()) {
    std::cout << "\nnot run: noise level(s) " << absl::StrJoin(unknown_noise, ", ")
              << " (not known to simulator::ParseNoise in this build)\n";
  }
  if (temp && !args.Has("keep")) fs::remove_all(cfg.work);
  if (status.ok() && cfg.min_f1 > 0) {
    for (const Row& r : rows) {
      if (r.profile == "baseline_raw_exact" || r.profile == kFsRow) continue;
      if (r.s.f1() < cfg.min_f1) {
        status = absl::FailedPreconditionError(absl::StrFormat(
            "profile %s: F1 %.4f below --min-f1 %.4f (%d persons, noise %s, seed %d)", r.profile,
            r.s.f1(), cfg.min_f1, r.size, r.noise, r.seed));
        break;
      }
    }
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  if (samenzicht::cli::PrintVersionIfAsked(argc, argv, "linkage_quality")) return 0;
  return samenzicht::cli::ExitWith(Main(argc, argv));
}
