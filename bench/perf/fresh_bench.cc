// Fresh totals while batches arrive (benchmark 7): a store of N reports, batches committed
// continuously at a fixed rate, an analyst querying in a loop. The Query serves the last
// complete snapshot and prepares the next in the background (Freshness::kLastComplete, the
// server's `background_linkage: true`). Prints the query latency (p50, p99, max) during
// ingest, the time from each batch's acknowledgement (CommitBatch returned: durable) to the
// first snapshot that holds it (p50, p99, max), the snapshots made, and the memory.
//
//   fresh_bench --reports 100000 --rate 10000 --seconds 30
//   fresh_bench --reports 1000000 --rate 10000 --seconds 60
//   fresh_bench --smoke        # CTest: seconds; fails only on an error or a wrong snapshot
//
// In-process: the store (SQLite WAL, synchronous=FULL, sealed rows, group commit, the
// signed audit trail: an entry per batch and per query) and the query layer of the
// aggregator, without gRPC, TLS and intake's checks (signature, profile). Reports:
// the default profile's real tokens (bench/perf/synthetic.h), one agency per 4 batches
// round-robin. After the run the last snapshot is compared with a fresh load and link of
// the store by a second Query (same persons, same published totals): exit 1 if they differ.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "aggregator/query/query.h"
#include "aggregator/query/totals.h"
#include "aggregator/store/store.h"
#include "bench/perf/synthetic.h"
#include "common/version.h"
#include "crypto/encoding.h"
#include "crypto/secret_bytes.h"
#include "crypto/signature.h"
#include "model/config.h"
#include "samenzicht/v1/config.pb.h"

namespace fs = std::filesystem;
using namespace samenzicht;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kAgencies = 4;

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// Reports g0 .. g0+count-1: template report g % size, tokens of copy g / size.
std::vector<v1::Report> MakeReports(const bench::Template& t, uint64_t g0, uint64_t count) {
  std::vector<v1::Report> out;
  out.reserve(count);
  for (uint64_t g = g0; g < g0 + count; ++g) out.push_back(bench::ReportOf(t, g));
  return out;
}

absl::Status Commit(aggregator::Store& store, int64_t batch_number,
                    const std::vector<v1::Report>& reports) {
  aggregator::BatchToStore b;
  b.batch_id = crypto::RandomId();
  b.agency = absl::StrCat("node", batch_number % kAgencies);
  b.digest = std::string(32, 'd');
  b.received_unix = 1700000000 + batch_number;
  b.report_count = static_cast<uint32_t>(reports.size());
  b.key_epoch = 1;
  for (size_t i = 0; i < reports.size(); ++i) b.reports.push_back({static_cast<uint32_t>(i), &reports[i]});
  auto r = store.CommitBatch(b);
  if (!r.ok()) return r.status();
  if (r->accepted != reports.size()) {
    return absl::InternalError(absl::StrCat("batch ", batch_number, ": ", r->accepted, " of ",
                                            reports.size(), " accepted"));
  }
  return absl::OkStatus();
}

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  if (samenzicht::cli::PrintVersionIfAsked(argc, argv, "fresh_bench")) return 0;
  int64_t reports = 100000, rate = 10000, batch = 2000;
  double seconds = 30;
  std::string profile_file = PROFILE_FILE;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--smoke") reports = 3000, rate = 2000, batch = 500, seconds = 3;
    else if (a == "--reports" && i + 1 < argc && absl::SimpleAtoi(argv[i + 1], &reports)) ++i;
    else if (a == "--rate" && i + 1 < argc && absl::SimpleAtoi(argv[i + 1], &rate)) ++i;
    else if (a == "--batch" && i + 1 < argc && absl::SimpleAtoi(argv[i + 1], &batch)) ++i;
    else if (a == "--seconds" && i + 1 < argc && absl::SimpleAtod(argv[i + 1], &seconds)) ++i;
    else if (a == "--profile" && i + 1 < argc) profile_file = argv[++i];
    else {
      std::cerr << "usage: fresh_bench [--reports N] [--rate REPORTS_PER_S] [--batch N] "
                   "[--seconds S] [--profile FILE] [--smoke]\n";
      return a == "--help" ? 0 : 2;
    }
  }
  reports = std::max<int64_t>(reports, 1);
  rate = std::max<int64_t>(rate, 1);
  batch = std::max<int64_t>(batch, 1);
  spdlog::set_level(spdlog::level::warn);
  const std::string dir = (fs::temp_directory_path() / ("samenzicht-fresh." + std::to_string(getpid()))).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{dir};

  auto profile = model::LoadProfile(profile_file);
  auto t = bench::MakeTemplate(profile_file, 4000, 8);
  if (!profile.ok() || !t.ok()) { std::cerr << "fresh_bench: cannot load the profile\n"; return 2; }
  auto key = crypto::SecretBytes::Random(32);
  if (!key.ok()) { std::cerr << key.status() << "\n"; return 2; }
  std::vector<std::string> rules;
  for (const auto& rule : profile->rules()) rules.push_back(rule.name());
  auto store = aggregator::Store::Open(dir + "/data", *key, rules);
  if (!store.ok()) { std::cerr << "fresh_bench: " << store.status() << "\n"; return 2; }
  // The audit trail, as the server keeps it: every batch and every query leaves an entry.
  auto audit_signer = crypto::Signer::Generate();
  if (!audit_signer.ok()) { std::cerr << audit_signer.status() << "\n"; return 2; }
  aggregator::AuditOptions audit;
  audit.signer = audit_signer->get();
  audit.checkpoint_dir = dir + "/checkpoints";
  if (auto s = (*store)->AttachAudit(audit); !s.ok()) { std::cerr << "fresh_bench: " << s << "\n"; return 2; }
  v1::AggregatorConfig config;
  for (int k = 0; k < kAgencies; ++k) {
    auto* a = config.add_agencies();
    a->set_node_id(absl::StrCat("node", k));
    a->set_domain(static_cast<v1::Domain>(1 + k));
  }

  // The stored history.
  const auto load0 = Clock::now();
  int64_t batch_number = 0;
  for (int64_t g = 0; g < reports; g += 10000, ++batch_number) {
    const auto part = MakeReports(*t, static_cast<uint64_t>(g), static_cast<uint64_t>(std::min<int64_t>(10000, reports - g)));
    if (auto s = Commit(**store, batch_number, part); !s.ok()) { std::cerr << "fresh_bench: " << s << "\n"; return 2; }
  }
  const double load_s = std::chrono::duration<double>(Clock::now() - load0).count();

  aggregator::QueryOptions options;
  options.freshness = aggregator::Freshness::kLastComplete;
  auto query = aggregator::Query::New(config, *profile, store->get(), options);
  if (!query.ok()) { std::cerr << "fresh_bench: " << query.status() << "\n"; return 2; }
  const auto first0 = Clock::now();
  const double first_cpu0 = CpuSeconds();
  auto first = (*query)->Current();
  if (!first.ok()) { std::cerr << "fresh_bench: " << first.status() << "\n"; return 2; }
  const double first_ms = Ms(Clock::now() - first0);
  const double first_cpu = CpuSeconds() - first_cpu0;
  (*query)->StartBackground();
  const uint64_t rss_before = bench::CurrentRssBytes();

  v1::TotalsRequest request;  // form x age band over the latest published period
  request.add_by(v1::DIMENSION_FORM);
  request.add_by(v1::DIMENSION_AGE_BAND);
  const rpc::Peer analyst{"analyst", rpc::Role::kAnalyst};

  // Ingest at `rate`, query in a loop, watch which generation the last snapshot holds.
  std::atomic<bool> ingesting{true};
  std::mutex mu;
  std::vector<std::pair<uint64_t, Clock::time_point>> acks;     // generation, acknowledged
  std::vector<std::pair<uint64_t, Clock::time_point>> visible;  // generation, first seen
  std::vector<double> query_ms, answer_ms;
  std::string error;
  int64_t ingested = 0;
  const double cpu0 = CpuSeconds();
  const auto start = Clock::now();
  std::thread ingest([&] {
    const auto stop = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    uint64_t g = static_cast<uint64_t>(reports);
    for (int64_t k = 0;; ++k) {
      const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(static_cast<double>(k * batch) / static_cast<double>(rate)));
      if (due >= stop || Clock::now() >= stop) break;  // also when commits fall behind
      auto part = MakeReports(*t, g, static_cast<uint64_t>(batch));
      g += static_cast<uint64_t>(batch);
      std::this_thread::sleep_until(due);
      if (auto s = Commit(**store, batch_number++, part); !s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        error = s.ToString();
        break;
      }
      const uint64_t generation = (*store)->generation();
      std::lock_guard<std::mutex> lock(mu);
      acks.emplace_back(generation, Clock::now());
      ingested += batch;
    }
    ingesting = false;
  });
  std::atomic<bool> watching{true};
  std::thread watch([&] {
    uint64_t seen = 0;
    while (watching) {
      auto snap = (*query)->LastComplete();
      if (snap.ok() && (*snap)->generation > seen) {
        seen = (*snap)->generation;
        std::lock_guard<std::mutex> lock(mu);
        visible.emplace_back(seen, Clock::now());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  while (ingesting) {
    const auto q0 = Clock::now();
    auto r = (*query)->Totals(analyst, request);
    const double ms = Ms(Clock::now() - q0);
    if (!r.ok()) {
      std::lock_guard<std::mutex> lock(mu);
      error = r.status().ToString();
      break;
    }
    query_ms.push_back(ms);
    // The answer alone: the last complete snapshot and its count over the whole history,
    // without the audit entry (which waits for the store's writer, see docs/performance.md).
    const auto a0 = Clock::now();
    auto snap = (*query)->LastComplete();
    auto raw = snap.ok() ? (*snap)->totals_index->RawTotalsFor((*snap)->dataset, (*snap)->link, request)
                         : absl::StatusOr<aggregator::RawTotals>(snap.status());
    answer_ms.push_back(Ms(Clock::now() - a0));
    if (!raw.ok()) {
      std::lock_guard<std::mutex> lock(mu);
      error = raw.status().ToString();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ingest.join();
  const double ingest_s = std::chrono::duration<double>(Clock::now() - start).count();
  // Until the last acknowledged batch is visible (bounded: ten minutes).
  const uint64_t last = acks.empty() ? 0 : acks.back().first;
  const auto wait0 = Clock::now();
  while (true) {
    auto snap = (*query)->LastComplete();
    if (!snap.ok()) break;
    if ((*snap)->generation >= last) {  // recorded here too: the watcher may not run in time
      std::lock_guard<std::mutex> lock(mu);
      visible.emplace_back((*snap)->generation, Clock::now());
      break;
    }
    if (Clock::now() - wait0 > std::chrono::minutes(10)) {
      error = "the last batch did not become visible within ten minutes";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  watching = false;
  watch.join();
  std::sort(visible.begin(), visible.end(),
            [](const auto& a, const auto& b) { return a.second < b.second; });
  const double cpu = CpuSeconds() - cpu0;
  if (!error.empty()) { std::cerr << "fresh_bench: " << error << "\n"; return 2; }

  std::vector<double> visible_ms;
  for (const auto& [generation, acked] : acks) {
    auto it = std::find_if(visible.begin(), visible.end(),
                           [g = generation](const auto& v) { return v.first >= g; });
    if (it != visible.end()) visible_ms.push_back(Ms(it->second - acked));
  }
  const uint64_t preparations = (*query)->preparations();
  auto snap = (*query)->LastComplete();

  // The last snapshot against a fresh load and link of the same store.
  aggregator::QueryOptions fresh_options;
  auto fresh = aggregator::Query::New(config, *profile, store->get(), fresh_options);
  if (!fresh.ok() || !snap.ok()) { std::cerr << "fresh_bench: a second query failed\n"; return 2; }
  auto full = (*fresh)->Current();
  auto a = (*query)->Totals(analyst, request);
  auto b = (*fresh)->Totals(analyst, request);
  if (!full.ok() || !a.ok() || !b.ok()) { std::cerr << "fresh_bench: the fresh read failed\n"; return 2; }
  const bool same = (*full)->generation == (*snap)->generation &&
                    (*full)->link.person == (*snap)->link.person &&
                    (*full)->person_id == (*snap)->person_id &&
                    a->SerializeAsString() == b->SerializeAsString();

  std::printf("fresh totals: %lld reports stored (%.1f s to commit), then %lld more in batches of %lld at "
              "%lld reports/s for %.1f s (%.0f reports/s reached); %.2f tokens/report\n",
              static_cast<long long>(reports), load_s, static_cast<long long>(ingested),
              static_cast<long long>(batch), static_cast<long long>(rate), ingest_s,
              static_cast<double>(ingested) / ingest_s, t->TokensPerReport());
  std::printf("  first snapshot (load + link, waited for): %.0f ms wall, %.0f ms CPU\n", first_ms, first_cpu * 1e3);
  std::printf("  queries during ingest (form x age band, Query::Totals with its audit entry): %zu, "
              "p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
              query_ms.size(), Pct(query_ms, 0.5), Pct(query_ms, 0.99), Pct(query_ms, 1.0));
  std::printf("  the answer alone (last snapshot + count, no audit entry): p50 %.2f ms, p99 %.2f ms, "
              "max %.2f ms\n",
              Pct(answer_ms, 0.5), Pct(answer_ms, 0.99), Pct(answer_ms, 1.0));
  std::printf("  acknowledged -> visible in totals: %zu batches, p50 %.0f ms, p99 %.0f ms, max %.0f ms\n",
              visible_ms.size(), Pct(visible_ms, 0.5), Pct(visible_ms, 0.99), Pct(visible_ms, 1.0));
  std::printf("  snapshots prepared: %llu (%.2f s of ingest per snapshot); CPU of the process %.1f s "
              "(%.2f cores)\n",
              static_cast<unsigned long long>(preparations),
              preparations > 1 ? ingest_s / static_cast<double>(preparations - 1) : 0.0, cpu,
              cpu / std::max(ingest_s, 1e-9));
  std::printf("  memory: resident %.0f MiB after the first snapshot, peak %.0f MiB (%.0f bytes per "
              "stored report at the peak)\n",
              static_cast<double>(rss_before) / (1 << 20), static_cast<double>(bench::PeakRssBytes()) / (1 << 20),
              static_cast<double>(bench::PeakRssBytes()) / static_cast<double>(reports + ingested));
  std::printf("  last snapshot equals a fresh load and link of the store: %s\n", same ? "yes" : "NO");
  return same ? 0 : 1;
}
