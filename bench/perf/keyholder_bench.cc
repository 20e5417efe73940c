// The key service end to end: records per second per agency node through the node's
// pipeline (CSV parsing, normalisation, every rule of the default profile) with the tokens
// from a key service running on the same machine (in this process, over mutual TLS on
// 127.0.0.1, so both share the machine's cores as on one host), next to the shared-key mode
// on the same records, and the cost of one evaluation on each side. With --two-services
// also the same records through two key services (2-of-2: each holds a share of the key,
// the node sends its blinded elements to the first and the first's answer to the second),
// both in this process as well.
//
//   keyholder_bench                      # 3000 simulated persons (about 12,000 records)
//   keyholder_bench --persons 10000 --elements-per-call 20000
//   keyholder_bench --two-services       # one service, then two, on the same records
//   keyholder_bench --smoke              # CTest: a second; never fails on figures
//
// Target: >= 1,000 records/s per node with the key service on the same 2-core machine.
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agency_node/csv.h"
#include "agency_node/keyholder_client.h"
#include "agency_node/normalise.h"
#include "agency_node/pipeline.h"
#include "agency_node/signal.h"
#include "common/files.h"
#include "crypto/encoding.h"
#include "crypto/key_file.h"
#include "crypto/oprf.h"
#include "keyholder/key_service.h"
#include "keyholder/server.h"
#include "model/config.h"
#include "simulator/simulator.h"
#include "common/version.h"

using namespace samenzicht;
namespace fs = std::filesystem;

namespace {

double Seconds(std::chrono::steady_clock::time_point a) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
}

// CPU seconds (user + system) of this process so far: the node and the key service, which
// run in it, on every core.
double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  if (samenzicht::cli::PrintVersionIfAsked(argc, argv, "keyholder_bench")) return 0;
  int persons = 3000;
  uint32_t per_call = 0;
  bool two_services = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--smoke") persons = 60;
    else if (a == "--persons" && i + 1 < argc) persons = std::atoi(argv[++i]);
    else if (a == "--elements-per-call" && i + 1 < argc) per_call = static_cast<uint32_t>(std::atoi(argv[++i]));
    else if (a == "--two-services") two_services = true;
    else if (a == "--help") {
      std::cout << "usage: keyholder_bench [--persons N] [--elements-per-call N] [--two-services] [--smoke]\n";
      return 0;
    } else {
      std::cerr << "usage: keyholder_bench [--persons N] [--elements-per-call N] [--two-services] [--smoke]\n";
      return 2;
    }
  }
  spdlog::set_level(spdlog::level::warn);
  const std::string dir = (fs::temp_directory_path() / ("samenzicht-keyholder." + std::to_string(getpid()))).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  struct Cleanup { std::string d; ~Cleanup() { fs::remove_all(d); } } cleanup{dir};
  const std::string pki = dir + "/pki";
  const std::string cmd = absl::StrCat(PKI_SCRIPT, " init ", pki, " >/dev/null 2>&1 && ", PKI_SCRIPT,
                                       " issue ", pki, " keyholder server >/dev/null 2>&1 && ", PKI_SCRIPT,
                                       " issue ", pki, " keyholder2 server >/dev/null 2>&1 && ", PKI_SCRIPT,
                                       " issue ", pki, " node0 agency >/dev/null 2>&1");
  if (std::system(cmd.c_str()) != 0) { std::cerr << "keyholder_bench: pki.sh failed\n"; return 2; }
  if (!crypto::oprf::GenerateServerKeyFile(dir + "/oprf-1.key", 1).ok() ||
      !crypto::oprf::GenerateServerKeyFile(dir + "/oprf2-1.key", 1).ok() ||
      !crypto::GenerateKeyFile(dir + "/audit.key", crypto::KeyKind::kSigning).ok() ||
      !crypto::GenerateKeyFile(dir + "/hashing.key", crypto::KeyKind::kHashing, 1).ok()) {
    std::cerr << "keyholder_bench: cannot make keys\n";
    return 2;
  }
  v1::KeyholderConfig kc;
  kc.set_listen_address("127.0.0.1:0");
  kc.mutable_tls()->set_ca_cert_file(pki + "/ca.crt");
  kc.mutable_tls()->set_cert_file(pki + "/keyholder.crt");
  kc.mutable_tls()->set_key_file(pki + "/keyholder.key");
  kc.set_data_dir(dir + "/data");
  kc.add_keys()->set_key_file(dir + "/oprf-1.key");
  kc.set_audit_key_file(dir + "/audit.key");
  kc.set_max_evaluations_per_node_per_hour(1ull << 40);
  kc.set_max_evaluations_per_node_per_day(1ull << 40);
  kc.set_max_elements_per_call(1u << 20);
  auto server = keyholder::Server::Start(kc);
  if (!server.ok()) { std::cerr << server.status() << "\n"; return 2; }
  // The second service (2-of-2): its own certificate, share, trail and data folder.
  v1::KeyholderConfig kc2 = kc;
  kc2.mutable_tls()->set_cert_file(pki + "/keyholder2.crt");
  kc2.mutable_tls()->set_key_file(pki + "/keyholder2.key");
  kc2.set_data_dir(dir + "/data2");
  kc2.mutable_keys(0)->set_key_file(dir + "/oprf2-1.key");
  absl::StatusOr<std::unique_ptr<keyholder::Server>> server2;
  if (two_services) {
    server2 = keyholder::Server::Start(kc2);
    if (!server2.ok()) { std::cerr << server2.status() << "\n"; return 2; }
  }
  const std::string client = dir + "/keyholder.textproto";
  const std::string client2 = dir + "/keyholder-two.textproto";
  const std::string client_text =
      absl::StrCat("address: \"127.0.0.1:", (*server)->port(), "\"\nepoch: 1\n",
                   per_call ? absl::StrCat("elements_per_call: ", per_call, "\n") : "",
                   "tls { ca_cert_file: \"pki/ca.crt\" cert_file: \"pki/node0.crt\" "
                   "key_file: \"pki/node0.key\" }\n");
  if (!files::WriteFileAtomic(client, client_text, 0600).ok()) return 2;
  if (two_services &&
      !files::WriteFileAtomic(client2,
                              absl::StrCat(client_text, "second { address: \"127.0.0.1:", (*server2)->port(), "\" }\n"),
                              0600).ok()) {
    return 2;
  }

  // The agency's export: the simulator's municipality as CSV.
  simulator::SimulatorOptions opt;
  opt.persons = persons;
  opt.seed = 5;
  auto sim = simulator::Simulate(opt);
  if (!sim.ok()) { std::cerr << sim.status() << "\n"; return 2; }
  std::string csv;
  for (size_t i = 0; i < simulator::CsvHeader().size(); ++i) absl::StrAppend(&csv, i ? "," : "", simulator::CsvHeader()[i]);
  csv += "\n";
  for (const auto& r : sim->records) csv += simulator::CsvLine(r);
  if (!files::WriteFileAtomic(dir + "/in.csv", csv, 0600).ok()) return 2;

  auto profile = model::LoadProfile(PROFILE_FILE);
  auto normaliser = agency_node::Normaliser::New();
  auto shared = agency_node::TokeniserFromKeyFile(*profile, dir + "/hashing.key");
  auto oprf = agency_node::TokeniserFromKeyholder(*profile, client);
  if (!profile.ok() || !normaliser.ok() || !shared.ok() || !oprf.ok()) {
    std::cerr << "keyholder_bench: setup failed\n";
    return 2;
  }
  agency_node::SignalOptions so;
  so.today = agency_node::Date{2030, 1, 1};
  auto nid = agency_node::NationalIds::FromProfile(*profile);
  if (!nid.ok()) return 2;
  so.national_ids = *nid;

  auto t0 = std::chrono::steady_clock::now();
  auto a = agency_node::PrepareReports(dir + "/in.csv", **normaliser, **shared, so);
  const double shared_s = Seconds(t0);
  t0 = std::chrono::steady_clock::now();
  const double cpu0 = CpuSeconds();
  auto b = agency_node::PrepareReports(dir + "/in.csv", **normaliser, **oprf, so);
  const double oprf_s = Seconds(t0);
  const double oprf_cpu = CpuSeconds() - cpu0;
  if (!a.ok() || !b.ok()) { std::cerr << (a.ok() ? b.status() : a.status()) << "\n"; return 2; }
  const size_t records = b->reports.size();
  size_t tokens = 0;
  for (const auto& r : b->reports) tokens += r.packed_tokens().size() / 34;
  const uint64_t evaluations = (*server)->service()->UsedToday("node0");

  // The same records through two services.
  double two_s = 0, two_cpu = 0;
  uint64_t two_first = 0, two_second = 0;
  if (two_services) {
    auto two = agency_node::TokeniserFromKeyholder(*profile, client2);
    if (!two.ok()) { std::cerr << two.status() << "\n"; return 2; }
    t0 = std::chrono::steady_clock::now();
    const double c0 = CpuSeconds();
    auto c = agency_node::PrepareReports(dir + "/in.csv", **normaliser, **two, so);
    two_s = Seconds(t0);
    two_cpu = CpuSeconds() - c0;
    if (!c.ok()) { std::cerr << c.status() << "\n"; return 2; }
    if (c->reports.size() != records) { std::cerr << "keyholder_bench: two services gave another count\n"; return 2; }
    two_first = (*server)->service()->UsedToday("node0") - evaluations;
    two_second = (*server2)->service()->UsedToday("node0");
  }

  // The evaluations of each record alone (an export of one record, or of records that share
  // no value): the distinct inputs a stand-in oracle is asked for, record by record.
  class Counting : public agency_node::TokenOracle {
   public:
    uint32_t epoch() const override { return 1; }
    size_t max_inputs_per_call() const override { return 100000; }
    absl::StatusOr<std::string> Evaluate(const std::vector<std::string_view>& inputs) const override {
      asked += inputs.size();
      return std::string(inputs.size() * crypto::kDigestBytes, '\0');
    }
    mutable std::atomic<uint64_t> asked{0};
  };
  uint64_t alone = 0;
  {
    auto counting = std::make_unique<Counting>();
    const Counting* c = counting.get();
    auto t = agency_node::Tokeniser::NewWithOracle(*profile, std::move(counting));
    auto parsed = agency_node::ParseSignals(*agency_node::ParseCsv(csv), **normaliser, so);
    if (!t.ok() || !parsed.ok()) return 2;
    for (const auto& s : parsed->signals) {
      std::string packed;
      if (!(*t)->TokeniseBatch({&s.person}, {&packed}).ok()) return 2;
    }
    alone = c->asked;
  }

  // One evaluation's cost on each side, one thread, batches of 1000.
  std::vector<std::string> inputs(1000);
  for (size_t i = 0; i < inputs.size(); ++i) inputs[i] = absl::StrCat("samenzicht.token.oprf.v1 input ", i);
  std::vector<std::string_view> views(inputs.begin(), inputs.end());
  auto key = crypto::oprf::ServerKey::Generate();
  t0 = std::chrono::steady_clock::now();
  auto batch = crypto::oprf::BlindBatch::New(views);
  const double blind_s = Seconds(t0);
  t0 = std::chrono::steady_clock::now();
  auto evaluated = key->BlindEvaluate(batch->blinded_elements());
  const double eval_s = Seconds(t0);
  t0 = std::chrono::steady_clock::now();
  auto outputs = batch->Finalize(views, *evaluated);
  const double fin_s = Seconds(t0);
  if (!outputs.ok()) return 2;
  // What a thief of the key service's key computes offline per guess and core: the whole
  // OPRF with the key at hand (HashToGroup, one scalar multiplication, SHA-512).
  t0 = std::chrono::steady_clock::now();
  for (const std::string& in : inputs) {
    if (!crypto::oprf::Evaluate(*key, in).ok()) return 2;
  }
  const double offline_s = Seconds(t0);
  (*server)->Shutdown();
  (*server)->Wait();
  if (two_services) {
    (*server2)->Shutdown();
    (*server2)->Wait();
  }
  auto trail = keyholder::ReadTrail(dir + "/data");
  // The calls of the one-service run: the first evaluation entries, up to its evaluations
  // (the two-service run's calls come after them).
  int calls = 0;
  uint64_t counted = 0;
  if (trail.ok()) {
    for (const auto& e : trail->entries) {
      if (e.event != "evaluation" || counted >= evaluations) continue;
      ++calls;
      counted += keyholder::JsonCount(e.details, "evaluations");
    }
  }

  std::printf("key service benchmark: %d simulated persons, %zu records, default profile (%d rules)\n",
              persons, records, profile->rules_size());
  std::printf("  evaluations per record:        %.2f (%llu evaluations of distinct inputs in %d call(s); "
              "%.2f tokens per record)\n",
              double(evaluations) / records, static_cast<unsigned long long>(evaluations), calls,
              double(tokens) / records);
  std::printf("  evaluations per record alone:  %.2f (each record in a batch of its own: no value shared across records)\n",
              double(alone) / records);
  std::printf("  with the key service:          %.0f records/s (%.3f s; %.0f evaluations/s)\n",
              records / oprf_s, oprf_s, evaluations / oprf_s);
  std::printf("  CPU, node and service together: %.2f ms per record (%.1f s); so on 2 idle cores at most %.0f records/s\n",
              oprf_cpu * 1e3 / records, oprf_cpu, 2 * records / oprf_cpu);
  if (two_services) {
    std::printf("  with two key services (2-of-2): %.0f records/s (%.3f s); evaluations per record %.2f at the first, "
                "%.2f at the second\n",
                records / two_s, two_s, double(two_first) / records, double(two_second) / records);
    std::printf("  CPU, node and both services:   %.2f ms per record (%.1f s); so on 2 idle cores at most %.0f records/s\n",
                two_cpu * 1e3 / records, two_cpu, 2 * records / two_cpu);
  }
  std::printf("  shared-key mode, same records: %.0f records/s (%.3f s)\n", records / shared_s, shared_s);
  std::printf("  one evaluation, one thread:    node blind %.1f us + node finalize %.1f us; service %.1f us\n",
              blind_s * 1e6 / inputs.size(), fin_s * 1e6 / inputs.size(), eval_s * 1e6 / inputs.size());
  std::printf("  offline with the service's key: %.0f guesses/s per core (an attacker holding the key)\n",
              inputs.size() / offline_s);
  std::printf("  target >= 1,000 records/s per node: %s\n", records / oprf_s >= 1000 ? "met" : "NOT met");
  return 0;
}
