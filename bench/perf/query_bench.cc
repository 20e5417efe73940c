// Query latency (issue 8, benchmark 4): p50/p99 of a two-category breakdown (form x age
// band, persons and signals, primary and secondary disclosure control) at 1 and 10 million
// stored reports, against the in-memory snapshot the aggregator's Query keeps (the stored
// reports' categories, their tokens and the linkage, loaded and linked once per store
// generation). Also prints the memory the snapshot needs per stored report.
//
//   query_bench                       # 1M and 10M, 20 queries each
//   query_bench --sizes 1000000 --queries 50
//   query_bench --smoke               # CTest: seconds; never fails on figures
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "aggregator/linkage.h"
#include "aggregator/store.h"
#include "aggregator/totals.h"
#include "bench/perf/synthetic.h"

using namespace samenzicht;
using Clock = std::chrono::steady_clock;

namespace {

double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<uint64_t> sizes = {1000000, 10000000};
  int queries = 20;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--smoke") sizes = {20000}, queries = 5;
    else if (a == "--sizes" && i + 1 < argc) {
      sizes.clear();
      for (absl::string_view p : absl::StrSplit(argv[++i], ',', absl::SkipEmpty())) {
        uint64_t v;
        if (absl::SimpleAtoi(p, &v) && v > 0) sizes.push_back(v);
      }
    } else if (a == "--queries" && i + 1 < argc && absl::SimpleAtoi(argv[i + 1], &queries)) {
      ++i;
    } else {
      std::cerr << "usage: query_bench [--sizes N,N] [--queries Q] [--smoke]\n";
      return a == "--help" ? 0 : 2;
    }
  }
  auto t = bench::MakeTemplate(PROFILE_FILE, 4000, 8);
  if (!t.ok()) { std::cerr << "query_bench: " << t.status() << "\n"; return 2; }
  std::printf("query: totals by form x age_band (persons and signals, k=5 with secondary "
              "suppression), %d queries per size, snapshot in memory\n", queries);
  std::printf("%12s %10s %12s %10s %10s %10s %14s %14s\n", "reports", "persons", "load+link s",
              "p50 ms", "p99 ms", "max ms", "snapshot B/rep", "rows");
  for (uint64_t n : sizes) {
    aggregator::Dataset ds;
    ds.rules = t->rules;
    ds.areas = {"binnenstad", "haren", "oost", "oude_wijken", "ten_boer", "west", "zuid"};
    auto t0 = Clock::now();
    const uint64_t rss0 = bench::CurrentRssBytes();
    ds.tokens.Reserve(static_cast<size_t>(n * t->TokensPerReport() * 1.02) + 16);
    bench::Scale(*t, n, [&](uint32_t report, uint16_t rule, const uint8_t* v) {
      ds.tokens.Add(report, rule, v);
    }, &ds.reports);
    for (auto& f : ds.reports) f.area = f.area > ds.areas.size() ? 0 : f.area;
    aggregator::LinkResult link = aggregator::Link(static_cast<uint32_t>(n), ds.tokens,
                                                   t->max_reports_per_token, ds.rules.size());
    auto t1 = Clock::now();
    const uint64_t rss1 = bench::CurrentRssBytes();
    v1::TotalsRequest req;
    req.add_by(v1::DIMENSION_FORM);
    req.add_by(v1::DIMENSION_AGE_BAND);
    std::vector<double> lat;
    int rows = 0;
    for (int q = 0; q < queries; ++q) {
      auto a = Clock::now();
      auto resp = aggregator::ComputeTotals(ds, link, req, 5);
      auto b = Clock::now();
      if (!resp.ok()) { std::cerr << "query_bench: " << resp.status() << "\n"; return 2; }
      rows = resp->rows_size();
      lat.push_back(Ms(a, b));
    }
    std::sort(lat.begin(), lat.end());
    auto pct = [&](double p) { return lat[std::min(lat.size() - 1, static_cast<size_t>(p * lat.size()))]; };
    std::printf("%12llu %10u %12.2f %10.2f %10.2f %10.2f %14.1f %14d\n",
                static_cast<unsigned long long>(n), link.persons,
                std::chrono::duration<double>(t1 - t0).count(), pct(0.5), pct(0.99), lat.back(),
                double(rss1 - std::min(rss1, rss0)) / n, rows);
  }
  std::printf("peak RSS %.1f MiB\n", bench::PeakRssBytes() / 1048576.0);
  return 0;
}
