// Load test (a program, not a unit test): many concurrent agency nodes against
// one real aggregator process on loopback with mutual TLS, for a bounded time. Prints
// throughput, p50/p99 acknowledgement latency, errors, and checks the final totals against
// the simulator's ground truth (every acknowledged report counted once).
//
//   load_test --nodes 8 --persons 4000 --seconds 20 --batch 100
//   load_test --smoke        # CTest: tiny, never fails on figures, only on broken commands
//
// Exit status: 0 unless a command fails or the totals check fails.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agency_node/batch.h"
#include "agency_node/pipeline.h"
#include "crypto/encoding.h"
#include "crypto/signature.h"
#include "model/config.h"
#include "rpc/tls.h"
#include "samenzicht/v1/intake.grpc.pb.h"
#include "common/version.h"

namespace fs = std::filesystem;
using namespace samenzicht;
using Clock = std::chrono::steady_clock;

namespace {

std::string Run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = pclose(p);
  if (rc != 0) {
    std::cerr << "load_test: command failed (" << rc << "): " << cmd << "\n" << out;
    std::exit(2);
  }
  return out;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct NodeResult {
  std::vector<double> latencies_ms;
  int64_t reports_acked = 0;  // OK or ALREADY_EXISTS
  int64_t batches = 0;
  int64_t errors = 0;
  std::string first_error;
};

}  // namespace

int main(int argc, char** argv) {
  if (samenzicht::cli::PrintVersionIfAsked(argc, argv, "load_test")) return 0;
  int nodes = 8, persons = 3000, seconds = 20, batch = 100;
  bool smoke = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&](int* v) {
      if (i + 1 >= argc || !absl::SimpleAtoi(argv[++i], v)) {
        std::cerr << "load_test: " << a << " needs a number\n";
        std::exit(2);
      }
    };
    if (a == "--nodes") next(&nodes);
    else if (a == "--persons") next(&persons);
    else if (a == "--seconds") next(&seconds);
    else if (a == "--batch") next(&batch);
    else if (a == "--smoke") smoke = true;
    else {
      std::cerr << "usage: load_test [--nodes N] [--persons N] [--seconds S] [--batch N] [--smoke]\n";
      return a == "--help" ? 0 : 2;
    }
  }
  if (smoke) nodes = 3, persons = 200, seconds = 10, batch = 20;
  nodes = std::clamp(nodes, 1, 100);

  const std::string dir = (fs::temp_directory_path() / ("samenzicht-load." + std::to_string(getpid()))).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  Run(absl::StrCat(SIMULATOR_BIN, " --out ", dir, "/sim --persons ", persons, " --agencies ",
                   nodes, " --noise light --seed 11"));
  std::vector<std::string> agencies;
  for (const auto& e : fs::directory_iterator(dir + "/sim")) {
    std::string n = e.path().stem().string();
    if (e.path().extension() == ".csv" && n != "truth" && n != "population" && n != "histories") {
      agencies.push_back(n);
    }
  }
  std::sort(agencies.begin(), agencies.end());
  std::string pki = dir + "/pki";
  std::string cmd = absl::StrCat(PKI_SCRIPT, " init ", pki, " >/dev/null && ", PKI_SCRIPT,
                                 " issue ", pki, " aggregator server >/dev/null && ", PKI_SCRIPT,
                                 " issue ", pki, " analyst analyst >/dev/null");
  for (const auto& a : agencies) absl::StrAppend(&cmd, " && ", PKI_SCRIPT, " issue ", pki, " ", a, " agency >/dev/null");
  Run(cmd);
  Run(absl::StrCat(AGENCY_NODE_BIN, " keygen --out ", dir, "/hashing.key >/dev/null"));
  Run(absl::StrCat(AGGREGATOR_BIN, " store-keygen --out ", dir, "/store.key 2>/dev/null"));
  auto tls = [&](const std::string& n) {
    return absl::StrCat("tls { ca_cert_file: \"", pki, "/ca.crt\" cert_file: \"", pki, "/", n,
                        ".crt\" key_file: \"", pki, "/", n, ".key\" }\n");
  };

  // Each node: its signer, its reports (tokenised once, before the clock starts).
  auto profile = model::LoadProfile(PROFILE_FILE);
  if (!profile.ok()) { std::cerr << profile.status() << "\n"; return 2; }
  auto tokeniser = agency_node::TokeniserFromKeyFile(*profile, dir + "/hashing.key");
  auto normaliser = agency_node::Normaliser::New();
  if (!tokeniser.ok() || !normaliser.ok()) { std::cerr << "load_test: cannot load keys\n"; return 2; }
  std::string entries;
  std::vector<std::vector<agency_node::BuiltBatch>> work(agencies.size());
  int64_t truth_signals = 0;
  for (size_t k = 0; k < agencies.size(); ++k) {
    auto signer = crypto::Signer::Generate();
    entries += absl::StrCat("agencies { node_id: \"", agencies[k],
                            "\" domain: DOMAIN_OTHER signing_public_key: \"",
                            crypto::Base64Encode((*signer)->public_key()), "\" }\n");
    agency_node::SignalOptions so;
    auto prepared = agency_node::PrepareReports(dir + "/sim/" + agencies[k] + ".csv", **normaliser,
                                                **tokeniser, so);
    if (!prepared.ok()) { std::cerr << prepared.status() << "\n"; return 2; }
    for (auto& r : prepared->reports) r.set_report_id(crypto::RandomId());
    truth_signals += static_cast<int64_t>(prepared->reports.size());
    agency_node::BatchHeader h{agencies[k], model::ProfileFingerprint(*profile), (*tokeniser)->epoch(), 1700000000};
    auto built = agency_node::BuildBatches(std::move(prepared->reports), h, batch, **signer);
    if (!built.ok()) { std::cerr << built.status() << "\n"; return 2; }
    work[k] = std::move(*built);
  }
  std::ofstream(dir + "/aggregator.textproto")
      << "listen_address: \"127.0.0.1:0\"\n" << tls("aggregator") << "data_dir: \"" << dir
      << "/data\"\nstore_key_file: \"" << dir << "/store.key\"\nprofile_file: \"" << PROFILE_FILE
      << "\"\nkey_epoch: 1\n"
      << "areas: [\"binnenstad\", \"oude_wijken\", \"west\", \"oost\", \"zuid\", \"haren\", "
         "\"ten_boer\"]\n"
      << entries;
  pid_t agg = fork();
  if (agg == 0) {
    std::string log = dir + "/aggregator.log";
    freopen(log.c_str(), "w", stderr);
    freopen("/dev/null", "w", stdout);
    execl(AGGREGATOR_BIN, AGGREGATOR_BIN, "serve", "--config", (dir + "/aggregator.textproto").c_str(),
          "--port-file", (dir + "/port").c_str(), nullptr);
    _exit(127);
  }
  std::string port;
  for (int i = 0; i < 200 && port.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    port = Slurp(dir + "/port");
  }
  while (!port.empty() && port.back() == '\n') port.pop_back();
  if (port.empty()) { std::cerr << "load_test: aggregator did not start\n" << Slurp(dir + "/aggregator.log"); kill(agg, SIGKILL); return 2; }
  const std::string address = "127.0.0.1:" + port;

  std::vector<NodeResult> results(agencies.size());
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::seconds(seconds);
  std::vector<std::thread> threads;
  for (size_t k = 0; k < agencies.size(); ++k) {
    threads.emplace_back([&, k] {
      NodeResult& r = results[k];
      v1::TlsFiles t;
      t.set_ca_cert_file(pki + "/ca.crt");
      t.set_cert_file(pki + "/" + agencies[k] + ".crt");
      t.set_key_file(pki + "/" + agencies[k] + ".key");
      auto channel = rpc::Connect(address, t, "localhost");
      if (!channel.ok()) { r.errors++; r.first_error = std::string(channel.status().message()); return; }
      auto stub = v1::Intake::NewStub(*channel);
      // Sends every batch once, then replays them (ALREADY_EXISTS) until the time is up.
      for (int round = 0; Clock::now() < deadline; ++round) {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds + 30));
        auto stream = stub->SubmitBatches(&ctx);
        for (const auto& b : work[k]) {
          if (round > 0 && Clock::now() >= deadline) break;
          v1::SubmitRequest req;
          *req.mutable_batch() = b.signed_batch;
          auto t0 = Clock::now();
          v1::BatchAck ack;
          if (!stream->Write(req) || !stream->Read(&ack)) { r.errors++; break; }
          r.latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
          r.batches++;
          if (ack.code() == 0 || ack.code() == grpc::StatusCode::ALREADY_EXISTS) {
            if (round == 0) r.reports_acked += static_cast<int64_t>(b.log.size()) - ack.errors_size();
          } else {
            r.errors++;
            if (r.first_error.empty()) r.first_error = ack.message();
          }
        }
        stream->WritesDone();
        grpc::Status s = stream->Finish();
        if (!s.ok()) { r.errors++; if (r.first_error.empty()) r.first_error = s.error_message(); break; }
      }
    });
  }
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

  std::vector<double> lat;
  int64_t batches = 0, errors = 0, acked = 0;
  for (auto& r : results) {
    lat.insert(lat.end(), r.latencies_ms.begin(), r.latencies_ms.end());
    batches += r.batches;
    errors += r.errors;
    acked += r.reports_acked;
    if (!r.first_error.empty()) std::cerr << "error: " << r.first_error << "\n";
  }
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) { return lat.empty() ? 0.0 : lat[std::min(lat.size() - 1, static_cast<size_t>(p * lat.size()))]; };
  int64_t report_writes = 0;
  for (size_t k = 0; k < agencies.size(); ++k) {
    int64_t per = 0;
    for (const auto& b : work[k]) per += static_cast<int64_t>(b.log.size());
    // Reports sent: batches * average size (replays included).
    report_writes += work[k].empty() ? 0 : results[k].batches * per / static_cast<int64_t>(work[k].size());
  }

  std::ofstream(dir + "/analyst.textproto") << "aggregator_address: \"" << address
                                            << "\"\naggregator_server_name: \"localhost\"\n" << tls("analyst");
  // The analyst's totals are perturbed (Cell Key Method): the count of stored signals comes
  // from the operator's exact path on the aggregator's own configuration.
  std::string published = Run(absl::StrCat(AGGREGATOR_BIN, " totals --config ", dir, "/analyst.textproto --format csv"));
  std::string totals = Run(absl::StrCat(AGGREGATOR_BIN, " exact-totals --config ", dir,
                                        "/aggregator.textproto --format csv 2>/dev/null"));
  kill(agg, SIGTERM);
  int st = 0;
  waitpid(agg, &st, 0);
  if (published.find("persons") == std::string::npos) {
    std::printf("the analyst's totals were not answered\n");
    return 1;
  }
  std::string last = totals.substr(0, totals.find_last_not_of("\n") + 1);
  last = last.substr(last.find_last_of('\n') + 1);
  int64_t signals = 0;
  (void)absl::SimpleAtoi(last.substr(last.find_last_of(',') + 1), &signals);

  std::printf("load: %zu nodes, %d s, batches of %d, %lld reports in the ground truth\n",
              agencies.size(), seconds, batch, static_cast<long long>(truth_signals));
  std::printf("batches acknowledged: %lld (%.1f/s), reports sent: %lld (%.0f/s, replays included)\n",
              static_cast<long long>(batches), batches / elapsed, static_cast<long long>(report_writes),
              report_writes / elapsed);
  std::printf("ack latency: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", pct(0.50), pct(0.99),
              lat.empty() ? 0.0 : lat.back());
  std::printf("errors: %lld\n", static_cast<long long>(errors));
  bool all_sent = acked == truth_signals;
  std::printf("totals: %lld signals at the aggregator; %lld acknowledged; ground truth %lld -> %s\n",
              static_cast<long long>(signals), static_cast<long long>(acked),
              static_cast<long long>(truth_signals),
              signals == acked ? (all_sent ? "OK (exactly once)" : "OK for what was acknowledged (time ran out)")
                               : "MISMATCH");
  fs::remove_all(dir);
  return signals == acked ? 0 : 1;
}
