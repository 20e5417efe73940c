// Query latency (benchmark 4): p50/p99 of a two-category breakdown (persons and
// signals, primary and secondary disclosure control) at 1 and 10 million stored reports,
// against the in-memory snapshot the aggregator's Query keeps (the stored reports'
// categories, their tokens and the linkage, loaded and linked once per store generation,
// and the TotalsIndex built from them). Cases: two single-valued categories, a
// multi-valued category by area, two multi-valued categories, and a multi-valued category
// by area over a period. Also prints the memory the snapshot and the index need per
// stored report, and wall and CPU time (the machine is shared).
//
// Correctness guard, every run: the index's answer equals ComputeRawTotals' for every
// category and every pair of categories, over the whole history and six periods (at up to
// 200,000 reports), and for every timed request (at every size).
//
//   query_bench                       # 1M and 10M, 20 queries each
//   query_bench --sizes 1000000 --queries 50
//   query_bench --smoke               # CTest: seconds; never fails on figures
//   query_bench --keyed               # also the Cell Key Method's path: the index built with
//                                     # record keys (a person's key in each cell from the
//                                     # reports that put it there), + PerturbTotals
//   query_bench --keyed --departed N  # also the path once reports have left released
//                                     # months: N departed records (one in n/N reports,
//                                     # joined to its person), the key world and its index
//                                     # built per snapshot, every query counted in both
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "aggregator/linkage/linkage.h"
#include "aggregator/store/store.h"
#include "aggregator/query/disclosure.h"
#include "aggregator/query/totals.h"
#include "aggregator/query/totals_index.h"
#include "bench/perf/synthetic.h"
#include "common/version.h"

using namespace samenzicht;
using Clock = std::chrono::steady_clock;

namespace {

double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// CPU seconds of this thread (the benchmark is single-threaded).
double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

volatile int64_t benchmark_sink = 0;

bool Fail(const v1::TotalsRequest& req, const char* what) {
  std::fprintf(stderr, "query_bench: TotalsIndex differs from ComputeRawTotals (%s) for %s\n",
               what, req.ShortDebugString().c_str());
  return false;
}

bool SameRows(const std::vector<aggregator::RawRow>& a, const std::vector<aggregator::RawRow>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].labels != b[i].labels || a[i].key_values != b[i].key_values ||
        a[i].cell.persons != b[i].cell.persons || a[i].cell.signals != b[i].cell.signals) {
      return false;
    }
  }
  return true;
}

bool Same(const v1::TotalsRequest& req, const absl::StatusOr<aggregator::RawTotals>& a,
          const absl::StatusOr<aggregator::RawTotals>& b) {
  if (a.ok() != b.ok()) return Fail(req, "status differs");
  if (!a.ok()) return a.status() == b.status() || Fail(req, "errors differ");
  if (a->total.persons != b->total.persons || a->total.signals != b->total.signals ||
      a->unlinkable != b->unlinkable || a->by != b->by || !SameRows(a->rows, b->rows) ||
      !SameRows(a->margins[0], b->margins[0]) || !SameRows(a->margins[1], b->margins[1])) {
    return Fail(req, "tables differ");
  }
  return true;
}

// Periods the check asks (the synthetic reports span 2024-01 to 2025-12): open, open-ended
// either way, a half year, one month, before any report.
constexpr std::pair<uint32_t, uint32_t> kPeriods[] = {
    {0, 0}, {202403, 0}, {0, 202406}, {202407, 202412}, {202502, 202502}, {199001, 199012}};

// The index answers exactly what ComputeRawTotals answers: every category, every pair, the
// whole history and every period of kPeriods (all answered from the index), and requests
// ComputeRawTotals refuses.
bool CheckSame(const aggregator::Dataset& ds, const aggregator::LinkResult& link,
               const aggregator::TotalsIndex& index) {
  int checked = 0;
  for (int d1 = 0; d1 <= v1::DIMENSION_SIGNAL_MONTH; ++d1) {
    for (int d2 = 0; d2 <= v1::DIMENSION_SIGNAL_MONTH; ++d2) {
      if (d1 == 0 && d2 != 0) continue;
      for (auto [from, to] : kPeriods) {
        v1::TotalsRequest req;
        if (d1 != 0) req.add_by(static_cast<v1::Dimension>(d1));
        if (d2 != 0) req.add_by(static_cast<v1::Dimension>(d2));
        req.set_from_month(from);
        req.set_to_month(to);
        if (!Same(req, aggregator::ComputeRawTotals(ds, link, req), index.RawTotalsFor(ds, link, req))) {
          return false;
        }
        ++checked;
      }
    }
  }
  v1::TotalsRequest bad;
  bad.set_from_month(202413);
  if (!Same(bad, aggregator::ComputeRawTotals(ds, link, bad), index.RawTotalsFor(ds, link, bad))) {
    return false;
  }
  std::printf("check: TotalsIndex == ComputeRawTotals for %d requests (every category and pair, "
              "whole history and %zu periods, all from the index) at %zu reports\n", checked,
              std::size(kPeriods) - 1, ds.reports.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (samenzicht::cli::PrintVersionIfAsked(argc, argv, "query_bench")) return 0;
  std::vector<uint64_t> sizes = {1000000, 10000000};
  int queries = 20;
  bool keyed = false;
  uint64_t departed = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--smoke") sizes = {20000}, queries = 5;
    else if (a == "--keyed") keyed = true;
    else if (a == "--sizes" && i + 1 < argc) {
      sizes.clear();
      for (absl::string_view p : absl::StrSplit(argv[++i], ',', absl::SkipEmpty())) {
        uint64_t v;
        if (absl::SimpleAtoi(p, &v) && v > 0) sizes.push_back(v);
      }
    } else if (a == "--queries" && i + 1 < argc && absl::SimpleAtoi(argv[i + 1], &queries)) {
      ++i;
    } else if (a == "--departed" && i + 1 < argc && absl::SimpleAtoi(argv[i + 1], &departed)) {
      ++i;
      keyed = true;
    } else {
      std::cerr << "usage: query_bench [--sizes N,N] [--queries Q] [--smoke] [--keyed] "
                   "[--departed N]\n";
      return a == "--help" ? 0 : 2;
    }
  }
  auto t = bench::MakeTemplate(PROFILE_FILE, 4000, 8);
  if (!t.ok()) { std::cerr << "query_bench: " << t.status() << "\n"; return 2; }
  std::printf("query: totals by two categories (persons and signals, k=5, primary and secondary "
              "suppression) on the in-memory snapshot; indexed = what Query::Totals runs "
              "(TotalsIndex + ProtectTotals), ComputeTotals = ComputeRawTotals + ProtectTotals "
              "(the reference)\n");
  for (uint64_t n : sizes) {
    aggregator::Dataset ds;
    ds.rules = t->rules;
    ds.areas = {"binnenstad", "haren", "oost", "oude_wijken", "ten_boer", "west", "zuid"};
    auto t0 = Clock::now();
    const uint64_t rss0 = bench::CurrentRssBytes();
    ds.tokens.Reserve(static_cast<size_t>(n * t->TokensPerReport() * 1.02) + 16, n);
    bench::Scale(*t, n, [&](uint32_t report, uint16_t rule, const uint8_t* v, aggregator::TokenRole role) {
      ds.tokens.Add(report, rule, v, role);
    }, &ds.reports);
    for (auto& f : ds.reports) f.area = f.area > ds.areas.size() ? 0 : f.area;
    aggregator::LinkResult link = aggregator::Link(static_cast<uint32_t>(n), ds.tokens,
                                                   t->max_reports_per_token, ds.rules.size());
    auto t1 = Clock::now();
    const uint64_t rss1 = bench::CurrentRssBytes();
    auto t2 = Clock::now();
    const double c2 = CpuSeconds();
    auto index = aggregator::TotalsIndex::Build(ds, link);
    const double build_cpu = CpuSeconds() - c2;
    auto t3 = Clock::now();
    if (n <= 200000 && !CheckSame(ds, link, *index)) return 1;
    // The Cell Key Method's index: record keys (a fixed secret), copied into the index.
    aggregator::CellKeyParams params;
    params.k = 5;
    params.secret = 0x5eed5eed12345678ull;
    aggregator::RecordKeys keys;
    std::unique_ptr<const aggregator::TotalsIndex> keyed_index;
    if (keyed) {
      auto k0 = Clock::now();
      keys = aggregator::ComputeRecordKeys(ds, link, params);
      keyed_index = aggregator::TotalsIndex::Build(ds, link, &keys);
      std::printf("keyed: record keys + keyed index build %.2f s, keyed index %.1f B/report\n",
                  std::chrono::duration<double>(Clock::now() - k0).count(),
                  double(keyed_index->MemoryBytes()) / n);
    }
    // The key world once reports have left released months (Query::KeepDepartures): every
    // (n / departed)-th report also stands as a departed record of a report that left (a row
    // of its own, the report's key and categories, joined to its person).
    std::unique_ptr<aggregator::KeyWorld> world;
    std::unique_ptr<const aggregator::TotalsIndex> world_index;
    if (departed > 0) {
      ds.rows.resize(n);
      for (uint64_t r = 0; r < n; ++r) ds.rows[r] = static_cast<int64_t>(r + 1);
      std::vector<aggregator::Departed> gone;
      const uint64_t step = std::max<uint64_t>(1, n / departed);
      for (uint64_t r = 0; r < n && gone.size() < departed; r += step) {
        aggregator::Departed d;
        d.row = static_cast<int64_t>(n + 1 + gone.size());
        d.key = keys.report[r];
        d.with_row = ds.rows[r];
        d.facts = ds.reports[r];
        if (d.facts.area != 0 && d.facts.area <= ds.areas.size()) d.area = ds.areas[d.facts.area - 1];
        d.facts.agency = 0;
        d.facts.area = 0;
        gone.push_back(std::move(d));
      }
      const std::vector<bool> publishable(n, true);
      auto w0 = Clock::now();
      const double wc0 = CpuSeconds();
      world = std::make_unique<aggregator::KeyWorld>(
          aggregator::BuildKeyWorld(ds, link, keys, publishable, gone, params));
      world_index = aggregator::TotalsIndex::Build(world->dataset, world->link, &world->keys);
      std::printf("key world: %zu departed records; key world + its keyed index build %.2f s "
                  "(cpu %.2f s), its index %.1f B/report\n",
                  gone.size(), std::chrono::duration<double>(Clock::now() - w0).count(),
                  CpuSeconds() - wc0, double(world_index->MemoryBytes()) / n);
    }
    std::printf("%llu reports, %u persons: data + link %.2f s, index build %.2f s (cpu %.2f s); "
                "snapshot (categories + tokens + linkage) %.0f B/report, index %.1f B/report\n",
                static_cast<unsigned long long>(n), link.persons,
                std::chrono::duration<double>(t1 - t0).count(),
                std::chrono::duration<double>(t3 - t2).count(), build_cpu,
                double(rss1 - std::min(rss1, rss0)) / n, double(index->MemoryBytes()) / n);
    struct Timed {
      std::vector<double> wall, cpu;  // ms, sorted
      absl::StatusOr<aggregator::RawTotals> raw = absl::UnknownError("not run");
    };
    auto run = [&](const v1::TotalsRequest& req, bool reference, int count) {
      Timed t;
      for (int q = 0; q < count; ++q) {
        auto a = Clock::now();
        const double ca = CpuSeconds();
        t.raw = reference ? aggregator::ComputeRawTotals(ds, link, req)
                          : index->RawTotalsFor(ds, link, req);
        if (!t.raw.ok()) { std::cerr << t.raw.status() << "\n"; std::exit(2); }
        v1::TotalsResponse resp = aggregator::ProtectTotals(*t.raw, 5);
        t.wall.push_back(Ms(a, Clock::now()));
        t.cpu.push_back((CpuSeconds() - ca) * 1e3);
        benchmark_sink = benchmark_sink + resp.rows_size();
      }
      std::sort(t.wall.begin(), t.wall.end());
      std::sort(t.cpu.begin(), t.cpu.end());
      return t;
    };
    auto pct = [](const std::vector<double>& l, double p) {
      return l[std::min(l.size() - 1, static_cast<size_t>(p * l.size()))];
    };
    struct Case {
      const char* name;
      std::vector<v1::Dimension> by;
      uint32_t from = 0, to = 0;
    };
    for (const Case& c :
         {Case{"form x age_band", {v1::DIMENSION_FORM, v1::DIMENSION_AGE_BAND}},
          Case{"coercion x area", {v1::DIMENSION_COERCION, v1::DIMENSION_AREA}},
          Case{"living x coercion", {v1::DIMENSION_LIVING_SITUATION, v1::DIMENSION_COERCION}},
          Case{"coercion x area 2024", {v1::DIMENSION_COERCION, v1::DIMENSION_AREA}, 202401,
               202412}}) {
      v1::TotalsRequest req;
      for (auto d : c.by) req.add_by(d);
      req.set_from_month(c.from);
      req.set_to_month(c.to);
      Timed fast = run(req, false, queries);
      Timed ref = run(req, true, n >= 5000000 ? std::min(queries, 3) : std::min(queries, 10));
      if (!Same(req, ref.raw, fast.raw)) return 1;  // the timed answers are the right ones
      std::printf("  %-20s indexed: p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms  (cpu p50 %7.2f "
                  "p99 %7.2f ms; %d queries) | ComputeTotals: p50 %8.1f ms  max %8.1f ms  (cpu "
                  "p50 %8.1f ms; %zu queries)\n",
                  c.name, pct(fast.wall, 0.5), pct(fast.wall, 0.99), fast.wall.back(),
                  pct(fast.cpu, 0.5), pct(fast.cpu, 0.99), queries, pct(ref.wall, 0.5),
                  ref.wall.back(), pct(ref.cpu, 0.5), ref.wall.size());
      if (!keyed) continue;
      // What Query::Totals runs under the Cell Key Method: the keyed index, then PerturbTotals.
      Timed k;
      for (int q = 0; q < queries; ++q) {
        auto a = Clock::now();
        const double ca = CpuSeconds();
        k.raw = keyed_index->RawTotalsFor(ds, link, req);
        if (!k.raw.ok()) { std::cerr << k.raw.status() << "\n"; return 2; }
        v1::TotalsResponse resp = aggregator::PerturbTotals(*k.raw, params);
        k.wall.push_back(Ms(a, Clock::now()));
        k.cpu.push_back((CpuSeconds() - ca) * 1e3);
        benchmark_sink = benchmark_sink + resp.rows_size();
      }
      std::sort(k.wall.begin(), k.wall.end());
      std::sort(k.cpu.begin(), k.cpu.end());
      // The keyed answer is the reference's, cell keys included.
      auto keyed_ref = aggregator::ComputeRawTotals(ds, link, req, &keys);
      if (!Same(req, keyed_ref, k.raw)) return 1;
      if (keyed_ref->total.person_key != k.raw->total.person_key) return Fail(req, "keys"), 1;
      for (size_t i = 0; i < keyed_ref->rows.size(); ++i) {
        if (keyed_ref->rows[i].cell.person_key != k.raw->rows[i].cell.person_key ||
            keyed_ref->rows[i].cell.signal_key != k.raw->rows[i].cell.signal_key) {
          return Fail(req, "cell keys differ"), 1;
        }
      }
      std::printf("  %-20s keyed:   p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms  (cpu p50 %7.2f "
                  "p99 %7.2f ms; %d queries; TotalsIndex with record keys + PerturbTotals)\n",
                  c.name, pct(k.wall, 0.5), pct(k.wall, 0.99), k.wall.back(), pct(k.cpu, 0.5),
                  pct(k.cpu, 0.99), queries);
      if (world == nullptr) continue;
      // What Query::PerturbedTotals runs with a key world: counted in the snapshot's index,
      // keyed in the key world's, the keys taken over cell by cell, then PerturbTotals.
      Timed kw;
      for (int q = 0; q < queries; ++q) {
        auto a = Clock::now();
        const double ca = CpuSeconds();
        kw.raw = keyed_index->RawTotalsFor(ds, link, req);
        auto keyed_raw = world_index->RawTotalsFor(world->dataset, world->link, req);
        if (!kw.raw.ok() || !keyed_raw.ok()) { std::cerr << "key world query failed\n"; return 2; }
        aggregator::TakeCellKeys(*kw.raw, *keyed_raw);
        v1::TotalsResponse resp = aggregator::PerturbTotals(*kw.raw, params);
        kw.wall.push_back(Ms(a, Clock::now()));
        kw.cpu.push_back((CpuSeconds() - ca) * 1e3);
        benchmark_sink = benchmark_sink + resp.rows_size();
      }
      std::sort(kw.wall.begin(), kw.wall.end());
      std::sort(kw.cpu.begin(), kw.cpu.end());
      if (!Same(req, k.raw, kw.raw)) return 1;  // the same counts, other keys
      std::printf("  %-20s + key world: p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms  (cpu p50 "
                  "%7.2f p99 %7.2f ms; %d queries)\n",
                  c.name, pct(kw.wall, 0.5), pct(kw.wall, 0.99), kw.wall.back(),
                  pct(kw.cpu, 0.5), pct(kw.cpu, 0.99), queries);
    }
  }
  std::printf("peak RSS %.1f MiB\n", bench::PeakRssBytes() / 1048576.0);
  return 0;
}
