// Pseudonymisation on one core: records per second through the full normalisation and
// every rule of the default profile, next to the raw keyed-BLAKE2b rate
// (crypto::RawKeyedBlake2b on a message of the mean encoded length) measured in the same
// run. Target: records/s >= 50% of (raw rate / tokens per record), i.e. at least half the
// raw keyed-hash rate for the tokens it computes.
//
//   pseudonymise_bench                 # Google Benchmark flags work too
//   pseudonymise_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//                                      # the figures below are then the medians
//   pseudonymise_bench --smoke         # CTest: a fraction of a second per benchmark
//
// Records: the simulator's municipality (3000 persons, 6 agencies, moderate noise) as the
// agency's CSV text, parsed once; the timed loop is what `agency-node pseudonymise` does
// per record after reading the file: ParseSignals (normalise every identifier, categories)
// and Tokeniser::Tokenise (one keyed BLAKE2b per rule whose fields are present).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agency_node/csv.h"
#include "agency_node/normalise.h"
#include "agency_node/signal.h"
#include "agency_node/tokeniser.h"
#include "crypto/keyed_hash.h"
#include "crypto/secret_bytes.h"
#include "model/config.h"
#include "simulator/simulator.h"
#include "common/version.h"

using namespace samenzicht;

namespace {

struct Fixture {
  v1::LinkageProfile profile;
  std::string csv_text;
  agency_node::CsvFile csv;
  std::unique_ptr<agency_node::Normaliser> normaliser;
  std::unique_ptr<agency_node::Tokeniser> tokeniser;
  std::unique_ptr<crypto::SecretBytes> key;
  size_t records = 0;
  double tokens_per_record = 0;  // keyed hashes per record
  double rules_per_record = 0;   // rules that fire per record
  double mean_message = 0;
};
Fixture* fx = nullptr;

bool Setup(int persons) {
  fx = new Fixture;
  auto profile = model::LoadProfile(PROFILE_FILE);
  if (!profile.ok()) { std::cerr << profile.status() << "\n"; return false; }
  fx->profile = *profile;
  simulator::SimulatorOptions opt;
  opt.persons = persons;
  opt.seed = 5;
  auto sim = simulator::Simulate(opt);
  if (!sim.ok()) { std::cerr << sim.status() << "\n"; return false; }
  for (size_t i = 0; i < simulator::CsvHeader().size(); ++i) {
    absl::StrAppend(&fx->csv_text, i ? "," : "", simulator::CsvHeader()[i]);
  }
  fx->csv_text += "\n";
  for (const auto& r : sim->records) fx->csv_text += simulator::CsvLine(r);
  auto csv = agency_node::ParseCsv(fx->csv_text);
  auto normaliser = agency_node::Normaliser::New();
  auto key = crypto::SecretBytes::Random(32);
  if (!csv.ok() || !normaliser.ok() || !key.ok()) { std::cerr << "setup failed\n"; return false; }
  fx->csv = std::move(*csv);
  fx->normaliser = std::move(*normaliser);
  fx->key = std::make_unique<crypto::SecretBytes>(std::move(*key));
  auto hasher = crypto::KeyedHasher::New(*fx->key, agency_node::kTokenPurpose, 1,
                                         agency_node::RuleNames(fx->profile));
  if (!hasher.ok()) { std::cerr << hasher.status() << "\n"; return false; }
  auto tok = agency_node::Tokeniser::New(fx->profile, std::move(*hasher));
  if (!tok.ok()) { std::cerr << tok.status() << "\n"; return false; }
  fx->tokeniser = std::move(*tok);
  // Tokens per record: every keyed hash the tokeniser computes (a rule over a deletion
  // neighbourhood yields one token per member, so tokens outnumber the rules that fire).
  // The mean encoded message (one per rule that fires; a neighbour is one letter shorter)
  // sets the length of the raw hash's message.
  auto file = agency_node::ParseSignals(fx->csv, *fx->normaliser, agency_node::SignalOptions());
  if (!file.ok()) { std::cerr << file.status() << "\n"; return false; }
  size_t tokens = 0, messages = 0, bytes = 0;
  std::string packed;
  for (const auto& s : file->signals) {
    packed.clear();
    tokens += static_cast<size_t>(fx->tokeniser->Tokenise(s.person, &packed));
    for (int r = 0; r < fx->profile.rules_size(); ++r) {
      std::string m = fx->tokeniser->EncodeForTest(r, s.person);
      if (!m.empty()) ++messages, bytes += m.size();
    }
  }
  fx->records = file->signals.size();
  fx->rules_per_record = fx->records ? double(messages) / fx->records : 0;
  fx->tokens_per_record = fx->records ? double(tokens) / fx->records : 0;
  fx->mean_message = messages ? double(bytes) / messages : 0;
  return fx->records > 0;
}

void BM_RawKeyedBlake2b(benchmark::State& state) {
  std::string message(static_cast<size_t>(fx->mean_message + 0.5), 'a');
  for (size_t i = 0; i < message.size(); ++i) message[i] = static_cast<char>('a' + i % 26);
  uint8_t out[crypto::kTokenBytes];
  for (auto _ : state) {
    crypto::RawKeyedBlake2b(*fx->key, message, out);
    benchmark::DoNotOptimize(out);
    message[0] = static_cast<char>(out[0]);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(absl::StrCat(message.size(), "-byte message"));
}

// Normalise + tokenise every record (the CSV text already split into fields).
void BM_Pseudonymise(benchmark::State& state) {
  size_t tokens = 0;
  for (auto _ : state) {
    auto file = agency_node::ParseSignals(fx->csv, *fx->normaliser, agency_node::SignalOptions());
    for (auto& s : file->signals) {
      tokens += fx->tokeniser->Tokenise(s.person, s.report.mutable_packed_tokens());
    }
    benchmark::DoNotOptimize(file);
  }
  state.SetItemsProcessed(state.iterations() * fx->records);
  state.counters["tokens/record"] = double(tokens) / (state.iterations() * fx->records);
}

// The same, including splitting the CSV text.
void BM_PseudonymiseFromCsvText(benchmark::State& state) {
  for (auto _ : state) {
    auto csv = agency_node::ParseCsv(fx->csv_text);
    auto file = agency_node::ParseSignals(*csv, *fx->normaliser, agency_node::SignalOptions());
    for (auto& s : file->signals) {
      fx->tokeniser->Tokenise(s.person, s.report.mutable_packed_tokens());
    }
    benchmark::DoNotOptimize(file);
  }
  state.SetItemsProcessed(state.iterations() * fx->records);
}

// Normalise only (ParseSignals: identifiers and categories, no tokens): the share of the
// node's own parsing and normalisation.
void BM_NormaliseOnly(benchmark::State& state) {
  for (auto _ : state) {
    auto file = agency_node::ParseSignals(fx->csv, *fx->normaliser, agency_node::SignalOptions());
    benchmark::DoNotOptimize(file);
  }
  state.SetItemsProcessed(state.iterations() * fx->records);
}

// Tokenise only (normalised persons prepared outside the loop): the hashing share.
void BM_TokeniseOnly(benchmark::State& state) {
  auto file = agency_node::ParseSignals(fx->csv, *fx->normaliser, agency_node::SignalOptions());
  std::string out;
  for (auto _ : state) {
    for (const auto& s : file->signals) {
      out.clear();
      fx->tokeniser->Tokenise(s.person, &out);
    }
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations() * fx->records);
}

class Capture : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    // With --benchmark_repetitions the median of the repetitions (less noisy on a shared
    // machine), else the single run.
    for (const Run& r : runs) {
      auto it = r.counters.find("items_per_second");
      if (it == r.counters.end()) continue;
      const std::string name = r.run_name.str();
      if (r.run_type == Run::RT_Aggregate) {
        if (r.aggregate_name == "median") rate[name] = it->second.value, median.insert(name);
      } else if (!median.count(name)) {
        rate[name] = it->second.value;
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> rate;
  std::set<std::string> median;
};

}  // namespace

int main(int argc, char** argv) {
  if (samenzicht::cli::PrintVersionIfAsked(argc, argv, "pseudonymise_bench")) return 0;
  bool smoke = false;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--smoke") == 0) smoke = true;
    else args.push_back(argv[i]);
  }
  static char min_time[] = "--benchmark_min_time=0.02";
  if (smoke) args.push_back(min_time);
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  if (!Setup(smoke ? 300 : 3000)) return 2;
  benchmark::RegisterBenchmark("RawKeyedBlake2b", BM_RawKeyedBlake2b);
  benchmark::RegisterBenchmark("Pseudonymise", BM_Pseudonymise)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("PseudonymiseFromCsvText", BM_PseudonymiseFromCsvText)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("NormaliseOnly", BM_NormaliseOnly)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("TokeniseOnly", BM_TokeniseOnly)->Unit(benchmark::kMillisecond);
  Capture reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  const double raw = reporter.rate["RawKeyedBlake2b"];
  const double rec = reporter.rate["Pseudonymise"];
  const int rules = fx->profile.rules_size();
  if (raw > 0 && rec > 0) {
    // The limit is the raw rate over the hashes a record needs: one per token (a rule over a
    // deletion neighbourhood yields one token per member, so tokens can outnumber rules).
    const double limit = raw / fx->tokens_per_record;
    std::printf("\npseudonymisation (one core): %zu records, %.2f tokens (keyed hashes) per record "
                "from %.2f rules that fire, mean message %.1f bytes, %d rules\n", fx->records,
                fx->tokens_per_record, fx->rules_per_record, fx->mean_message, rules);
    std::printf("raw keyed BLAKE2b: %.0f hashes/s -> limit %.0f records/s (raw / %.2f tokens per "
                "record)\n", raw, limit, fx->tokens_per_record);
    std::printf("normalise + tokenise: %.0f records/s = %.0f%% of the limit (target >= 50%%), "
                "%.2f us/record\n", rec, 100 * rec / limit, 1e6 / rec);
    const double csv = reporter.rate["PseudonymiseFromCsvText"];
    if (csv > 0) std::printf("with CSV splitting: %.0f records/s = %.0f%% of the limit\n", csv, 100 * csv / limit);
    const double tok = reporter.rate["TokeniseOnly"];
    if (tok > 0) {
      std::printf("tokenise only: %.0f records/s = %.0f%% of the limit, %.2f us/record\n", tok,
                  100 * tok / limit, 1e6 / tok);
    }
    const double norm = reporter.rate["NormaliseOnly"];
    if (norm > 0) {
      std::printf("normalise only (ParseSignals): %.0f records/s, %.2f us/record\n", norm, 1e6 / norm);
    }
  }
  benchmark::Shutdown();
  return 0;
}
