// Ingest (benchmark 2): reports per second from several agency nodes over gRPC with
// mutual TLS into the real aggregator Server (in this process, loopback, certificates from
// deploy/pki.sh), each batch durably committed (SQLite WAL, synchronous=FULL, one
// transaction per batch, audit entry in the same transaction) before it is acknowledged.
// Nodes and aggregator share this machine. Prints reports/s, p50/p99 batch ack latency and
// checks that the store holds exactly the acknowledged reports.
//
//   ingest_bench                                     # 4 nodes x 250k reports, the node's default batch (2000)
//   ingest_bench --nodes 4 --reports 250000 --batch 5000
//   ingest_bench --smoke                             # CTest: seconds; never fails on figures
//   ingest_bench --profile bench/linkage_quality/profiles/v2.textproto   # another profile
//
// Reports: the profile's real tokens with their probe roles (bench/perf/synthetic.h), packed
// as the agency node sends them (report.proto `packed_tokens`), random report ids, built and
// signed into batches by agency_node::BuildBatches before the clock starts.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agency_node/batch.h"
#include "aggregator/server/server.h"
#include "bench/perf/synthetic.h"
#include "crypto/encoding.h"
#include "crypto/key_file.h"
#include "crypto/signature.h"
#include "model/config.h"
#include "model/tokens.h"
#include "rpc/tls.h"
#include "samenzicht/v1/config.pb.h"
#include "samenzicht/v1/intake.grpc.pb.h"
#include "common/version.h"

namespace fs = std::filesystem;
using namespace samenzicht;
using Clock = std::chrono::steady_clock;

namespace {

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

struct NodeResult {
  std::vector<double> latencies_ms;
  int64_t acked = 0;
  int64_t errors = 0;
  std::string first_error;
};

}  // namespace

int main(int argc, char** argv) {
  if (samenzicht::cli::PrintVersionIfAsked(argc, argv, "ingest_bench")) return 0;
  int nodes = 4, batch = static_cast<int>(agency_node::kDefaultMaxBatchReports);
  int64_t reports_per_node = 250000;
  std::string profile_file = PROFILE_FILE;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--smoke") nodes = 2, reports_per_node = 4000, batch = 1000;
    else if (a == "--nodes" && i + 1 < argc && absl::SimpleAtoi(argv[i + 1], &nodes)) ++i;
    else if (a == "--reports" && i + 1 < argc && absl::SimpleAtoi(argv[i + 1], &reports_per_node)) ++i;
    else if (a == "--batch" && i + 1 < argc && absl::SimpleAtoi(argv[i + 1], &batch)) ++i;
    else if (a == "--profile" && i + 1 < argc) profile_file = argv[++i];
    else {
      std::cerr << "usage: ingest_bench [--nodes N] [--reports PER_NODE] [--batch N] [--profile FILE] [--smoke]\n";
      return a == "--help" ? 0 : 2;
    }
  }
  nodes = std::clamp(nodes, 1, 64);
  spdlog::set_level(spdlog::level::warn);
  const std::string dir = (fs::temp_directory_path() / ("samenzicht-ingest." + std::to_string(getpid()))).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string pki = dir + "/pki";
  std::string cmd = absl::StrCat(PKI_SCRIPT, " init ", pki, " >/dev/null 2>&1 && ", PKI_SCRIPT,
                                 " issue ", pki, " aggregator server >/dev/null 2>&1");
  for (int k = 0; k < nodes; ++k) absl::StrAppend(&cmd, " && ", PKI_SCRIPT, " issue ", pki, " node", k, " agency >/dev/null 2>&1");
  if (std::system(cmd.c_str()) != 0) { std::cerr << "ingest_bench: pki.sh failed\n"; return 2; }
  if (auto s = crypto::GenerateKeyFile(dir + "/store.key", crypto::KeyKind::kStore); !s.ok()) {
    std::cerr << s.status() << "\n";
    return 2;
  }
  auto profile = model::LoadProfile(profile_file);
  auto t = bench::MakeTemplate(profile_file, 4000, 8);
  if (!profile.ok() || !t.ok()) { std::cerr << "ingest_bench: cannot load the profile\n"; return 2; }

  // Every node's batches, built and signed before the clock starts.
  v1::AggregatorConfig config;
  config.set_listen_address("127.0.0.1:0");
  config.mutable_tls()->set_ca_cert_file(pki + "/ca.crt");
  config.mutable_tls()->set_cert_file(pki + "/aggregator.crt");
  config.mutable_tls()->set_key_file(pki + "/aggregator.key");
  config.set_data_dir(dir + "/data");
  config.set_store_key_file(dir + "/store.key");
  config.set_profile_file(profile_file);
  config.set_key_epoch(1);
  config.set_max_batch_reports(static_cast<uint32_t>(std::max(batch, 1)));
  config.set_max_message_bytes(256u << 20);
  for (const char* area : {"binnenstad", "oude_wijken", "west", "oost", "zuid", "haren", "ten_boer"}) {
    config.add_areas(area);
  }
  std::vector<std::vector<agency_node::BuiltBatch>> work(nodes);
  const std::string fingerprint = model::ProfileFingerprint(*profile);
  auto build0 = Clock::now();
  for (int k = 0; k < nodes; ++k) {
    auto signer = crypto::Signer::Generate();
    if (!signer.ok()) return 2;
    auto* a = config.add_agencies();
    a->set_node_id(absl::StrCat("node", k));
    a->set_domain(static_cast<v1::Domain>(1 + k % 9));
    a->set_signing_public_key(crypto::Base64Encode((*signer)->public_key()));
    std::vector<v1::Report> reports;
    reports.reserve(reports_per_node);
    int64_t index = 0;
    // Node k sends the reports of template copies k, k+nodes, ... (distinct persons per node
    // plus the template's own cross-agency duplicates).
    for (int64_t i = 0; i < reports_per_node; ++i, ++index) {
      reports.push_back(bench::ReportOf(*t, static_cast<uint64_t>(i) * nodes + k));
    }
    agency_node::BatchHeader h{absl::StrCat("node", k), fingerprint, 1, 1700000000};
    auto built = agency_node::BuildBatches(std::move(reports), h, static_cast<uint32_t>(batch), **signer);
    if (!built.ok()) { std::cerr << built.status() << "\n"; return 2; }
    work[k] = std::move(*built);
  }
  const double build_s = std::chrono::duration<double>(Clock::now() - build0).count();

  auto server = aggregator::Server::Start(config);
  if (!server.ok()) { std::cerr << "ingest_bench: " << server.status() << "\n"; return 2; }
  const std::string address = absl::StrCat("127.0.0.1:", (*server)->port());

  std::vector<NodeResult> results(nodes);
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  const double cpu0 = CpuSeconds();
  for (int k = 0; k < nodes; ++k) {
    threads.emplace_back([&, k] {
      NodeResult& r = results[k];
      v1::TlsFiles tls;
      tls.set_ca_cert_file(pki + "/ca.crt");
      tls.set_cert_file(absl::StrCat(pki, "/node", k, ".crt"));
      tls.set_key_file(absl::StrCat(pki, "/node", k, ".key"));
      auto channel = rpc::Connect(address, tls, "localhost");
      if (!channel.ok()) { r.errors++; r.first_error = std::string(channel.status().message()); return; }
      auto stub = v1::Intake::NewStub(*channel);
      grpc::ClientContext ctx;
      auto stream = stub->SubmitBatches(&ctx);
      for (const auto& b : work[k]) {
        v1::SubmitRequest req;
        *req.mutable_batch() = b.signed_batch;
        v1::BatchAck ack;
        auto t0 = Clock::now();
        if (!stream->Write(req) || !stream->Read(&ack)) {
          r.errors++;
          r.first_error = absl::StrCat("node", k, ": the stream ended after ", r.latencies_ms.size(),
                                       " acknowledged batches");  // Finish() may say why
          break;
        }
        r.latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (ack.code() == 0) {
          r.acked += static_cast<int64_t>(b.log.size());
        } else {
          r.errors++;
          if (r.first_error.empty()) r.first_error = absl::StrCat("node", k, ": ", ack.message());
        }
      }
      stream->WritesDone();
      grpc::Status s = stream->Finish();
      if (!s.ok()) {
        r.errors++;
        absl::StrAppend(&r.first_error, r.first_error.empty() ? "" : "; ", "node", k, ": ",
                        s.error_message(), " (code ", static_cast<int>(s.error_code()), ")");
      }
    });
  }
  for (auto& th : threads) th.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const double cpu = CpuSeconds() - cpu0;
  std::vector<double> lat;
  int64_t acked = 0, errors = 0;
  for (auto& r : results) {
    lat.insert(lat.end(), r.latencies_ms.begin(), r.latencies_ms.end());
    acked += r.acked;
    errors += r.errors;
    if (!r.first_error.empty()) std::cerr << "error: " << r.first_error << "\n";
  }
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) { return lat.empty() ? 0.0 : lat[std::min(lat.size() - 1, static_cast<size_t>(p * lat.size()))]; };
  auto stored = (*server)->store()->CountRows("reports");
  auto tokens = (*server)->store()->CountRows("tokens");
  const double id_map_bytes = static_cast<double>((*server)->store()->ReportIdMemoryBytes());
  (*server)->Shutdown();
  // What a restart costs: a second store on the same folder reads every report id back.
  double reload_ms = -1;
  size_t reloaded = 0;
  // And what the query side's snapshot costs: every stored report read (and opened) back.
  double snapshot_ms = -1;
  size_t snapshot_reports = 0, snapshot_tokens = 0;
  {
    auto profile = model::LoadProfile(profile_file);
    auto key = crypto::LoadKeyFile(config.store_key_file(), crypto::KeyKind::kStore);
    if (profile.ok() && key.ok()) {
      std::vector<std::string> rules;
      for (const auto& rule : profile->rules()) rules.push_back(rule.name());
      auto reopened = aggregator::Store::Open(config.data_dir(), key->bytes, rules);
      const auto t0 = Clock::now();
      auto n = reopened.ok() ? (*reopened)->LoadReportIds() : reopened.status();
      if (n.ok()) {
        reload_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        reloaded = *n;
      } else {
        std::cerr << "ingest_bench: reading the report ids back: " << n.status() << "\n";
      }
      if (reopened.ok()) {
        const auto t1 = Clock::now();
        auto d = (*reopened)->LoadDataset([](const std::string&) { return 0; });
        if (d.ok()) {
          snapshot_ms = std::chrono::duration<double, std::milli>(Clock::now() - t1).count();
          snapshot_reports = d->reports.size();
          snapshot_tokens = d->tokens.size();
        } else {
          std::cerr << "ingest_bench: loading the snapshot: " << d.status() << "\n";
        }
      }
    }
  }
  std::error_code ec;
  const double db_bytes = static_cast<double>(fs::file_size(dir + "/data/aggregator.db", ec)) +
                          static_cast<double>(fs::exists(dir + "/data/aggregator.db-wal") ? fs::file_size(dir + "/data/aggregator.db-wal", ec) : 0);
  std::printf("ingest: %d nodes, %lld reports each, batches of %d, %.2f tokens/report (profile %s), "
              "gRPC + mutual TLS on loopback, in-process aggregator (batches built and signed in "
              "%.1f s before)\n",
              nodes, static_cast<long long>(reports_per_node), batch, t->TokensPerReport(),
              fs::path(profile_file).filename().c_str(), build_s);
  std::printf("acknowledged: %lld reports in %.2f s = %.0f reports/s (%zu batches, %.1f batches/s)\n",
              static_cast<long long>(acked), elapsed, acked / elapsed, lat.size(), lat.size() / elapsed);
  std::printf("batch ack latency: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", pct(0.5), pct(0.99),
              lat.empty() ? 0.0 : lat.back());
  double load[3] = {0, 0, 0};
  getloadavg(load, 3);
  std::printf("CPU (nodes + aggregator, this process): %.2f s = %.1f us per report; load average "
              "at the end (1/5/15 min): %.2f %.2f %.2f\n", cpu,
              acked > 0 ? cpu * 1e6 / acked : 0.0, load[0], load[1], load[2]);
  std::printf("stored: %lld reports, %lld tokens; database %.0f bytes = %.0f bytes/report; errors %lld\n",
              static_cast<long long>(stored.ok() ? *stored : -1),
              static_cast<long long>(tokens.ok() ? *tokens : -1), db_bytes,
              acked > 0 ? db_bytes / acked : 0.0, static_cast<long long>(errors));
  std::printf("memory: report-id map %.0f bytes = %.1f bytes/stored report (held by the "
              "writer; linkage and query memory: linkage_bench, query_bench)\n",
              id_map_bytes, stored.ok() && *stored > 0 ? id_map_bytes / *stored : 0.0);
  std::printf("restart: %zu report ids read back into memory in %.0f ms (warm page cache)\n",
              reloaded, reload_ms);
  std::printf("snapshot: %zu reports and %zu tokens loaded (LoadDataset) in %.0f ms = %.2f us per "
              "report (warm page cache)\n",
              snapshot_reports, snapshot_tokens, snapshot_ms,
              snapshot_reports > 0 ? snapshot_ms * 1000 / snapshot_reports : 0.0);
  const bool consistent = stored.ok() && *stored == acked && reloaded == static_cast<size_t>(acked) &&
                          snapshot_reports == static_cast<size_t>(acked);
  std::printf("check: stored == acknowledged -> %s\n", consistent ? "OK" : "MISMATCH");
  fs::remove_all(dir);
  return consistent && errors == 0 ? 0 : 1;
}
