// Linkage at national scale (benchmarks 3 and 5): time and peak memory to link
// 100 thousand, 1 million and 10 million reports with the default profile's tokens, each
// size in a fresh process (so ru_maxrss is that size's peak), and the same linkage done the
// obvious way in SQL on SQLite at the sizes where that finishes.
//
//   linkage_bench                                   # 100k, 1M, 10M; SQL at 10k, 100k
//   linkage_bench --sizes 100000,1000000 --sql-sizes 10000
//   linkage_bench --sizes 1000000 --sql-sizes "" --threads 2   # candidate phase on 2 cores
//   linkage_bench --smoke                           # CTest: seconds; never fails on figures
//
// Data: bench/perf/synthetic.h (the simulator's records through the real normaliser and
// tokeniser, copied and scattered to size). Exit status 0 unless something errored.
#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "aggregator/linkage/linkage.h"
#include "aggregator/linkage/probabilistic_linkage.h"
#include "model/config.h"
#include "bench/perf/synthetic.h"
#include "common/version.h"

using namespace samenzicht;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kTemplatePersons = 4000;
constexpr uint64_t kSeed = 8;
int g_threads = 1;  // workers of the candidate phase (--threads)

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// One size in this process: prints one machine-readable line.
int RunOne(uint64_t n) {
  auto t = bench::MakeTemplate(PROFILE_FILE, kTemplatePersons, kSeed);
  if (!t.ok()) { std::cerr << "linkage_bench: " << t.status() << "\n"; return 2; }
  auto profile = model::LoadProfile(PROFILE_FILE);
  if (!profile.ok()) { std::cerr << "linkage_bench: " << profile.status() << "\n"; return 2; }
  const uint64_t rss_before = bench::CurrentRssBytes();
  auto t0 = Clock::now();
  aggregator::TokenTable tokens;
  tokens.Reserve(static_cast<size_t>(n * t->TokensPerReport() * 1.02) + 16, n);
  bench::Scale(*t, n, [&](uint32_t report, uint16_t rule, const uint8_t* v, aggregator::TokenRole role) {
    tokens.Add(report, rule, v, role);
  });
  auto t1 = Clock::now();
  const double cpu1 = CpuSeconds();
  // The profile's own method: probabilistic (Fellegi-Sunter) for version 4.
  aggregator::ProbabilisticLinkResult pr =
      aggregator::LinkWithProfile(static_cast<uint32_t>(n), tokens, *profile, t->rules, {}, g_threads);
  const aggregator::LinkResult& r = pr.link;
  auto t2 = Clock::now();
  const double link_cpu = CpuSeconds() - cpu1;
  // Expected persons: every full copy of the template has its persons_signalled persons
  // (if linkage were perfect); the partial last copy is not checked.
  uint64_t oversized = 0;
  for (uint64_t o : r.oversized_tokens) oversized += o;
  std::printf("RESULT n=%llu tokens=%zu load_s=%.3f link_s=%.3f peak_rss=%llu table_bytes=%zu "
              "rss_before=%llu persons=%u unlinkable=%u oversized=%llu link_cpu_s=%.3f "
              "candidate_pairs=%llu\n",
              static_cast<unsigned long long>(n), tokens.size(), Seconds(t0, t1), Seconds(t1, t2),
              static_cast<unsigned long long>(bench::PeakRssBytes()), tokens.MemoryBytes(),
              static_cast<unsigned long long>(rss_before), r.persons, r.unlinkable_reports,
              static_cast<unsigned long long>(oversized), link_cpu,
              static_cast<unsigned long long>(pr.candidate_pairs));
  return 0;
}

bool Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::cerr << "linkage_bench: sqlite: " << (err ? err : "?") << " in " << sql << "\n";
    sqlite3_free(err);
    return false;
  }
  return true;
}

// The obvious SQL: tokens table, oversized tokens left out, pairs of reports sharing a
// token, then "every report takes the smallest label of its neighbours" until nothing
// changes (connected components by label propagation). Over the ordinary rules' tokens:
// probe-rule tokens are left out of both sides of the comparison.
int RunSql(uint64_t n) {
  auto t = bench::MakeTemplate(PROFILE_FILE, kTemplatePersons, kSeed);
  if (!t.ok()) { std::cerr << "linkage_bench: " << t.status() << "\n"; return 2; }
  sqlite3* db = nullptr;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) return 2;
  if (!Exec(db, "CREATE TABLE tokens(report INTEGER, rule INTEGER, value BLOB);")) return 2;
  auto t0 = Clock::now();
  Exec(db, "BEGIN");
  sqlite3_stmt* ins = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO tokens VALUES(?,?,?)", -1, &ins, nullptr);
  aggregator::TokenTable tokens;  // the same data for our Link, to compare the persons
  bench::Scale(*t, n, [&](uint32_t report, uint16_t rule, const uint8_t* v, aggregator::TokenRole role) {
    // The obvious SQL joins every pair sharing a token; probe rules need the
    // two-phase policy of Link, so the comparison uses the ordinary rules' tokens only.
    if (role != aggregator::TokenRole::kOrdinary) return;
    sqlite3_bind_int64(ins, 1, report);
    sqlite3_bind_int(ins, 2, rule);
    sqlite3_bind_blob(ins, 3, v, 32, SQLITE_STATIC);
    sqlite3_step(ins);
    sqlite3_reset(ins);
    tokens.Add(report, rule, v, role);
  });
  sqlite3_finalize(ins);
  Exec(db, "COMMIT");
  auto t1 = Clock::now();
  std::string label = "CREATE TABLE label(report INTEGER PRIMARY KEY, comp INTEGER);"
                      "WITH RECURSIVE s(x) AS (SELECT 0 UNION ALL SELECT x+1 FROM s WHERE x+1<" +
                      std::to_string(n) + ") INSERT INTO label SELECT x, x FROM s;";
  char max_sql[512];
  std::snprintf(max_sql, sizeof max_sql,
                "CREATE INDEX tokens_value ON tokens(rule, value);"
                "CREATE TABLE big AS SELECT rule, value FROM tokens GROUP BY rule, value "
                "HAVING COUNT(DISTINCT report) > %u;",
                t->max_reports_per_token);
  if (!Exec(db, label.c_str()) || !Exec(db, max_sql) ||
      !Exec(db, "CREATE TABLE edges AS SELECT DISTINCT t1.report AS a, t2.report AS b "
                "FROM tokens t1 JOIN tokens t2 ON t1.rule = t2.rule AND t1.value = t2.value "
                "WHERE t1.report <> t2.report AND NOT EXISTS "
                "(SELECT 1 FROM big WHERE big.rule = t1.rule AND big.value = t1.value);"
                "CREATE INDEX edges_a ON edges(a);")) {
    return 2;
  }
  int rounds = 0;
  for (;;) {
    ++rounds;
    if (!Exec(db, "UPDATE label SET comp = x.m FROM (SELECT e.a AS r, MIN(l.comp) AS m "
                  "FROM edges e JOIN label l ON l.report = e.b GROUP BY e.a) AS x "
                  "WHERE label.report = x.r AND x.m < label.comp;")) {
      return 2;
    }
    if (sqlite3_changes(db) == 0) break;
  }
  sqlite3_stmt* q = nullptr;
  sqlite3_prepare_v2(db, "SELECT COUNT(DISTINCT comp) FROM label", -1, &q, nullptr);
  sqlite3_step(q);
  int64_t sql_persons = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  auto t2 = Clock::now();
  sqlite3_close(db);
  auto t2b = Clock::now();
  aggregator::LinkResult r = aggregator::Link(static_cast<uint32_t>(n), tokens,
                                              t->max_reports_per_token, t->rules.size());
  auto t3 = Clock::now();
  std::printf("SQL n=%llu load_s=%.3f link_s=%.3f rounds=%d persons=%lld ours_link_s=%.4f "
              "ours_persons=%u\n",
              static_cast<unsigned long long>(n), Seconds(t0, t1), Seconds(t1, t2), rounds,
              static_cast<long long>(sql_persons), Seconds(t2b, t3), r.persons);
  return 0;
}

struct Row {
  std::string kind;
  std::map<std::string, double> v;
};

bool Parse(const std::string& line, Row* row) {
  std::vector<std::string> parts = absl::StrSplit(line, ' ');
  if (parts.empty() || (parts[0] != "RESULT" && parts[0] != "SQL")) return false;
  row->kind = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) {
    auto eq = parts[i].find('=');
    double d = 0;
    if (eq != std::string::npos && absl::SimpleAtod(parts[i].substr(eq + 1), &d)) {
      row->v[parts[i].substr(0, eq)] = d;
    }
  }
  return true;
}

bool RunChild(const std::string& self, const std::string& args, Row* row) {
  std::string cmd = self + " " + args;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return false;
  char buf[1024];
  bool ok = false;
  while (std::fgets(buf, sizeof buf, p)) {
    std::string line(buf);
    while (!line.empty() && line.back() == '\n') line.pop_back();
    if (Parse(line, row)) ok = true;
  }
  return pclose(p) == 0 && ok;
}

std::vector<uint64_t> Sizes(const std::string& s) {
  std::vector<uint64_t> out;
  for (absl::string_view p : absl::StrSplit(s, ',', absl::SkipEmpty())) {
    uint64_t v;
    if (absl::SimpleAtoi(p, &v) && v > 0 && v < (uint64_t{1} << 32)) out.push_back(v);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (samenzicht::cli::PrintVersionIfAsked(argc, argv, "linkage_bench")) return 0;
  std::vector<uint64_t> sizes = {100000, 1000000, 10000000}, sql_sizes = {10000, 100000};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    uint64_t n = 0;
    if (a == "--threads" && i + 1 < argc && absl::SimpleAtoi(argv[i + 1], &g_threads) && g_threads >= 0) {
      ++i;
      continue;
    }
    if (a == "--one" && i + 1 < argc && absl::SimpleAtoi(argv[i + 1], &n)) return RunOne(n);
    if (a == "--sql-one" && i + 1 < argc && absl::SimpleAtoi(argv[i + 1], &n)) return RunSql(n);
    if (a == "--smoke") sizes = {20000}, sql_sizes = {2000};
    else if (a == "--sizes" && i + 1 < argc) sizes = Sizes(argv[++i]);
    else if (a == "--sql-sizes" && i + 1 < argc) sql_sizes = Sizes(argv[++i]);
    else {
      std::cerr << "usage: linkage_bench [--sizes N,N,...] [--sql-sizes N,...] [--threads T] [--smoke]\n"
                   "  --threads T  workers of the candidate phase (default 1; 0: the machine's cores, "
                   "at most 4)\n";
      return a == "--help" ? 0 : 2;
    }
  }
  std::string exe(4096, '\0');
  ssize_t len = readlink("/proc/self/exe", exe.data(), exe.size());
  if (len <= 0) return 2;
  exe.resize(static_cast<size_t>(len));

  std::printf("linkage: default profile, template of %d simulated persons (6 agencies, moderate "
              "noise) through the real normaliser and tokeniser; each size in a fresh process; "
              "candidate phase on %d worker(s)\n",
              kTemplatePersons, g_threads);
  std::printf("%12s %12s %8s %10s %10s %10s %14s %12s %12s %10s\n", "reports", "tokens", "tok/rep",
              "load s", "link s", "link CPU s", "CPU ns/report", "peak MiB", "table B/rep", "persons");
  int errors = 0;
  std::map<uint64_t, double> ours;
  for (uint64_t n : sizes) {
    Row row;
    if (!RunChild(exe, "--threads " + std::to_string(g_threads) + " --one " + std::to_string(n), &row)) {
      std::printf("%12llu  (failed)\n", static_cast<unsigned long long>(n));
      ++errors;
      continue;
    }
    auto& v = row.v;
    ours[n] = v["link_s"];
    std::printf("%12llu %12.0f %8.2f %10.3f %10.3f %10.3f %14.1f %12.1f %12.1f %10.0f\n",
                static_cast<unsigned long long>(n), v["tokens"], v["tokens"] / n, v["load_s"],
                v["link_s"], v["link_cpu_s"], v["link_cpu_s"] * 1e9 / n, v["peak_rss"] / (1 << 20),
                v["table_bytes"] / n, v["persons"]);
  }
  if (!sql_sizes.empty()) {
    std::printf("\nbaseline: the same linkage in SQL on SQLite (in-memory database; label "
                "propagation over a pairs table until stable)\n");
    std::printf("%12s %12s %12s %8s %12s %14s %12s %10s\n", "reports", "SQL load s", "SQL link s",
                "rounds", "SQL persons", "Link() s", "Link persons", "ratio");
    for (uint64_t n : sql_sizes) {
      Row row;
      if (!RunChild(exe, "--sql-one " + std::to_string(n), &row)) {
        std::printf("%12llu  (failed)\n", static_cast<unsigned long long>(n));
        ++errors;
        continue;
      }
      auto& v = row.v;
      std::printf("%12llu %12.3f %12.3f %8.0f %12.0f %14.4f %12.0f %9.0fx\n",
                  static_cast<unsigned long long>(n), v["load_s"], v["link_s"], v["rounds"],
                  v["persons"], v["ours_link_s"], v["ours_persons"],
                  v["ours_link_s"] > 0 ? v["link_s"] / v["ours_link_s"] : 0.0);
    }
  }
  return errors == 0 ? 0 : 1;
}
