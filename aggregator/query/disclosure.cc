#include "aggregator/query/disclosure.h"

#include <functional>
#include <limits>
#include <map>
#include <tuple>
#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

#include "aggregator/query/months.h"
#include "common/month.h"

namespace samenzicht::aggregator {
namespace {

// The next cell of `line` to withhold, or -1 when every candidate is already withheld or
// fixed. Non-zero before zero, smallest first, inner before margin, then by index.
long NextCandidate(const DcTable& t, const DcLine& line) {
  long best = -1;
  auto rank = [&](size_t i, bool is_margin) {
    const DcCell& c = t.cells[i];
    // (is zero, is margin, value, index)
    return std::tuple<bool, bool, uint64_t, size_t>(c.value == 0, is_margin, c.value, i);
  };
  std::tuple<bool, bool, uint64_t, size_t> best_rank;
  auto consider = [&](size_t i, bool is_margin) {
    const DcCell& c = t.cells[i];
    if (c.hidden() || c.fixed) return;
    auto r = rank(i, is_margin);
    if (best < 0 || r < best_rank) {
      best = static_cast<long>(i);
      best_rank = r;
    }
  };
  for (size_t i : line.cells) consider(i, false);
  if (line.margin >= 0) consider(static_cast<size_t>(line.margin), true);
  return best;
}

bool NeedsMore(const DcTable& t, const DcLine& line, uint32_t k) {
  size_t hidden = 0;
  uint64_t inner_sum = 0;
  for (size_t i : line.cells) {
    if (t.cells[i].hidden()) {
      ++hidden;
      inner_sum += t.cells[i].value;
    }
  }
  bool margin_hidden = line.margin >= 0 && t.cells[static_cast<size_t>(line.margin)].hidden();
  if (margin_hidden) ++hidden;
  if (hidden == 0) return false;
  if (hidden == 1) return true;
  return !margin_hidden && line.margin >= 0 && inner_sum < k;
}

}  // namespace

void Suppress(DcTable& t, uint32_t k) {
  if (k == 0) k = kDefaultMinCellSize;
  for (DcCell& c : t.cells) {
    c.primary = c.value >= 1 && c.value < k;
    c.secondary = false;
  }
  bool changed = true;
  while (changed) {
    changed = false;
    for (const DcLine& line : t.lines) {
      while (NeedsMore(t, line, k)) {
        long next = NextCandidate(t, line);
        if (next < 0) break;
        t.cells[static_cast<size_t>(next)].secondary = true;
        changed = true;
      }
    }
  }
}

std::vector<std::pair<uint32_t, size_t>> AddTrendLines(
    DcTable& t, const std::vector<std::pair<uint32_t, size_t>>& months, size_t total) {
  std::map<uint32_t, std::vector<size_t>> by_quarter;
  std::vector<size_t> all;
  long unknown = -1;
  for (const auto& [m, cell] : months) {
    all.push_back(cell);
    if (m == 0) {
      unknown = static_cast<long>(cell);
    } else {
      const Month month(m);
      by_quarter[month.year() * 10 + (month.month() - 1) / 3 + 1].push_back(cell);
    }
  }
  std::vector<std::pair<uint32_t, size_t>> quarters;
  std::vector<size_t> quarter_cells;
  for (const auto& [q, cells] : by_quarter) {
    uint64_t sum = 0;
    for (size_t c : cells) sum += t.cells[c].value;
    size_t qc = t.Add(sum);
    t.AddLine(cells, static_cast<long>(qc));
    quarters.emplace_back(q, qc);
    quarter_cells.push_back(qc);
  }
  if (unknown >= 0) {
    quarters.emplace_back(0, static_cast<size_t>(unknown));
    quarter_cells.push_back(static_cast<size_t>(unknown));
  }
  t.AddLine(quarter_cells, static_cast<long>(total));
  t.AddLine(all, static_cast<long>(total));
  return quarters;
}

std::string QuarterWord(uint32_t q) {
  if (q == 0) return "unknown";
  return absl::StrCat(q / 10, "-Q", q % 10);
}

v1::Count ToCount(const DcCell& c) {
  v1::Count out;
  if (c.primary) {
    out.set_suppressed(true);
  } else if (c.secondary) {
    out.set_secondary(true);
  } else {
    out.set_value(c.value);
  }
  return out;
}

namespace {

void Collect(std::vector<SuppressedCell>& out, const std::string& table,
             std::vector<std::string> keys, const std::string& measure, const v1::Count& c) {
  if (!c.suppressed() && !c.secondary()) return;
  out.push_back(SuppressedCell{table, std::move(keys), measure, c.suppressed()});
}

}  // namespace

std::vector<SuppressedCell> SuppressedCells(const v1::TotalsResponse& r) {
  std::vector<SuppressedCell> out;
  Collect(out, "summary", {"total"}, "persons", r.total_persons());
  Collect(out, "summary", {"total"}, "signals", r.total_signals());
  Collect(out, "summary", {"unlinkable"}, "signals", r.unlinkable_signals());
  for (const v1::TotalsRow& row : r.rows()) {
    std::vector<std::string> keys(row.keys().begin(), row.keys().end());
    Collect(out, "totals", keys, "persons", row.persons());
    Collect(out, "totals", keys, "signals", row.signals());
  }
  return out;
}

std::vector<SuppressedCell> SuppressedCells(const v1::InsightResponse& r) {
  std::vector<SuppressedCell> out;
  Collect(out, "summary", {"total"}, "persons", r.total_persons());
  Collect(out, "summary", {"total"}, "signals", r.total_signals());
  Collect(out, "summary", {"unlinkable"}, "signals", r.unlinkable_signals());
  Collect(out, "summary", {"lower_bound"}, "persons", r.persons_lower_bound());
  for (const auto& row : r.agency_counts()) {
    Collect(out, "agency_counts", {row.agencies()}, "persons", row.persons());
  }
  for (const auto& cell : r.overlap()) {
    Collect(out, "overlap", {cell.row(), cell.column()}, "persons", cell.persons());
  }
  for (const auto& p : r.trend()) {
    Collect(out, "trend", {p.period()}, "persons", p.persons());
    Collect(out, "trend", {p.period()}, "signals", p.signals());
  }
  return out;
}

namespace {

// splitmix64's finaliser: a bijection of 64-bit words that spreads every input bit.
inline uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

constexpr uint64_t kReportSalt = 0x5265706f72744b65ull;   // "ReportKe"
constexpr uint64_t kPersonSalt = 0x506572736f6e4b65ull;   // "PersonKe"
constexpr uint64_t kNoTokenSalt = 0x4e6f546f6b656e21ull;  // "NoToken!"
constexpr uint64_t kCellSalt = 0x43656c6c4b657921ull;     // "CellKey!"
constexpr uint64_t kMarkSalt = 0x4d61726b65642121ull;     // "Marked!!"
constexpr uint64_t kEditionSalt = 0x45646974696f6e21ull;  // "Edition!"

uint64_t FactsWord(const ReportFacts& r) {
  uint64_t h = Mix(uint64_t{r.signal_month} << 32 | uint64_t{r.form} << 24 |
                   uint64_t{r.contact} << 16 | uint64_t{r.age_band} << 8 | r.gender);
  h = Mix(h ^ (uint64_t{r.background} << 48 | uint64_t{r.domain} << 40 | uint64_t{r.area}));
  h = Mix(h ^ (uint64_t{r.living} << 32 | r.recruitment));
  return Mix(h ^ (uint64_t{r.coercion} << 32 | r.forced_crime));
}

}  // namespace

RecordKeys ComputeRecordKeys(const Dataset& ds, const LinkResult& link,
                             const CellKeyParams& params, const std::vector<bool>* publishable,
                             const std::vector<uint64_t>* pinned,
                             const std::vector<bool>* unkeyed) {
  const uint64_t secret = params.secret;
  const uint64_t k = params.k == 0 ? kDefaultMinCellSize : params.k;
  // Low byte: 1 when marked (probability 1/k), else 0; the other 56 bits random.
  auto finish = [&](uint64_t key) {
    const bool marked = Mix(key ^ kMarkSalt) % k == 0;
    return (key & ~uint64_t{0xff}) | (marked ? 1 : 0);
  };
  RecordKeys keys;
  const size_t n = ds.reports.size();
  keys.report.assign(n, 0);
  std::vector<bool> keyed(n, false);
  const TokenTable& t = ds.tokens;
  for (size_t run = 0; run < t.runs(); ++run) {
    const uint32_t r = t.run_report(run);
    if (r >= n) continue;
    uint64_t sum = 0;
    for (size_t i = t.run_begin(run); i < t.run_end(run); ++i) {
      sum += Mix(t.fingerprint(i) ^ (uint64_t{t.rule(i)} << 48));
    }
    keys.report[r] += sum;  // a report's tokens may come in more than one run
    keyed[r] = true;
  }
  std::map<uint64_t, uint64_t> seen;  // reports without tokens: facts -> how many so far
  for (size_t r = 0; r < n; ++r) {
    if (keyed[r]) {
      keys.report[r] = Mix(Mix(keys.report[r] ^ kReportSalt) ^ secret);
    } else {
      const uint64_t facts = FactsWord(ds.reports[r]);
      keys.report[r] = Mix(Mix(facts ^ kNoTokenSalt) ^ Mix(seen[facts]++ ^ secret));
    }
  }
  for (uint64_t& key : keys.report) key = finish(key);
  if (pinned != nullptr) {
    for (size_t r = 0; r < n && r < pinned->size(); ++r) {
      if ((*pinned)[r] != 0) keys.report[r] = (*pinned)[r];
    }
  }
  auto is_unkeyed = [&](size_t r) {
    return unkeyed != nullptr && r < unkeyed->size() && (*unkeyed)[r];
  };
  for (size_t r = 0; r < n; ++r) {
    if (is_unkeyed(r)) keys.report[r] = 0;
  }
  // A person's mark in a month is its earliest publishable report's of that month; its mark
  // over all its reports (and in a period) is 1 when it is marked in any of its months. So a
  // month's marks are the same linked or split into provisional persons, and a cell inside
  // another never holds a marked person the other lacks.
  keys.secret = secret;
  keys.person.assign(link.persons, 0);
  keys.person_mark.assign(link.persons, 0);
  keys.month_mark.assign(n, 0);
  if (link.person.size() == n) {
    absl::flat_hash_map<uint64_t, uint8_t> month_of;  // (person, month) -> mark
    month_of.reserve(link.persons);
    for (uint32_t r : EarliestFirst(ds.reports)) {
      if (publishable != nullptr && !(r < publishable->size() && (*publishable)[r])) continue;
      const uint32_t p = link.person[r];
      if (is_unkeyed(r)) continue;  // no key, no mark; the person's month mark is its others'
      const uint64_t part = uint64_t{p} << 32 | ds.reports[r].signal_month;
      const uint8_t mark =
          month_of.try_emplace(part, static_cast<uint8_t>(keys.report[r] & 1)).first->second;
      keys.month_mark[r] = mark;
      keys.person_mark[p] |= mark;
      keys.person[p] += keys.report[r];
    }
  }
  for (size_t p = 0; p < keys.person.size(); ++p) {
    keys.person[p] = PersonKey(keys.person[p], keys.person_mark[p], secret);
  }
  return keys;
}

uint64_t PersonKey(uint64_t report_key_sum, bool marked, uint64_t secret) {
  if (report_key_sum == 0) return 0;  // only through unkeyed reports
  return (Mix(Mix(report_key_sum ^ kPersonSalt) ^ secret) & ~uint64_t{0xff}) | (marked ? 1 : 0);
}

uint64_t PerturbCount(uint64_t n, uint64_t cell_key, Measure measure, const CellKeyParams& p) {
  if (n == 0) return 0;
  const uint64_t k = p.k == 0 ? kDefaultMinCellSize : p.k;
  uint64_t u = Mix(Mix(cell_key ^ kCellSalt ^ static_cast<uint64_t>(measure)) ^ p.secret);
  if (p.edition != 0) u = Mix(u ^ Mix(p.edition ^ kEditionSalt));
  // 0 or k for a cell whose figure would fall below k: k when it holds a marked record.
  // A cell of k + S or more never gets here, so its low byte (the number of marked records,
  // fewer than 256) cannot have wrapped.
  auto zero_or_k = [&]() -> uint64_t {
    if (k <= 0xff) return (cell_key & 0xff) != 0 ? k : 0;
    return (u % k) < std::min(n, k) ? k : 0;
  };
  if (n < k) return zero_or_k();
  // The low 32 bits choose core or tail, the high 32 bits the noise within it.
  const bool tail = p.tail_one_in > 0 && (u & 0xffffffffu) % p.tail_one_in == 0;
  const uint64_t d = tail ? p.tail() : p.noise();
  const int64_t noise = static_cast<int64_t>((u >> 32) % (2 * d + 1)) - static_cast<int64_t>(d);
  const int64_t v = static_cast<int64_t>(n) + noise;
  if (v >= static_cast<int64_t>(k)) return static_cast<uint64_t>(v);
  // Below k: k from the core; from the tail 0 or k by the cell's marks, as a small count. So
  // a published 0 does not say "fewer than k" but "fewer than k + S": an attacker who proves
  // it holds at least one person (its margins leave no room for it to be empty) still has
  // k + S - 1 values left. Only tail draws, so that a count of k or more is shown as 0 in
  // fewer than one cell in 2 tail_one_in.
  return tail ? zero_or_k() : k;
}

v1::Count PerturbedCount(uint64_t n, uint64_t cell_key, Measure measure, const CellKeyParams& p) {
  v1::Count c;
  c.set_value(PerturbCount(n, cell_key, measure, p));
  return c;
}

std::vector<double> NoiseDistribution(const CellKeyParams& p) {
  const int64_t s = p.tail(), d = p.noise();
  const double tail = p.tail_one_in == 0 ? 0.0 : 1.0 / p.tail_one_in;
  std::vector<double> pmf(static_cast<size_t>(2 * s + 1), 0.0);
  for (int64_t i = -s; i <= s; ++i) {
    double v = tail / static_cast<double>(2 * s + 1);
    if (i >= -d && i <= d) v += (1 - tail) / static_cast<double>(2 * d + 1);
    pmf[static_cast<size_t>(i + s)] = v;
  }
  return pmf;
}

std::pair<uint64_t, uint64_t> TrueCountRange(uint64_t shown, const CellKeyParams& p) {
  const uint64_t k = p.k == 0 ? kDefaultMinCellSize : p.k;
  const uint64_t d = p.tail_one_in == 0 ? p.noise() : p.tail();
  // 0: a small count without a marked record, or a count of k to k + S - 1 whose draw from
  // the tail fell below k without one.
  if (shown == 0) return {0, p.tail_one_in == 0 ? k - 1 : k - 1 + d};
  if (shown == k) return {1, k + d};
  return {shown > d ? std::max<uint64_t>(k, shown - d) : k, shown + d};
}

uint32_t ReleaseMonth(uint32_t m, uint32_t grace) {
  return Month(m).Plus(int64_t{1} + grace).yyyymm();
}

uint32_t RevisedThrough(uint32_t last_released) {
  if (last_released == 0) return 0;
  // That month when it is a December, else the December before it.
  const Month m(last_released);
  return m.month() == 12 ? last_released : m.Plus(-static_cast<int64_t>(m.month())).yyyymm();
}

LinkResult ProvisionalLink(const Dataset& ds, const LinkResult& link,
                           const std::vector<bool>& publishable, uint32_t revised_through) {
  LinkResult out = link;
  const size_t n = ds.reports.size();
  if (link.person.size() != n) return out;
  // Per publishable report: (linked person, month), and whether its month is provisional.
  std::vector<uint64_t> part(n, 0);
  std::vector<bool> provisional(n, false), published(n, false);
  for (size_t r = 0; r < n; ++r) {
    if (!(r < publishable.size() && publishable[r])) continue;
    const uint32_t m = ds.reports[r].signal_month;
    published[r] = true;
    provisional[r] = m > revised_through;
    part[r] = uint64_t{link.person[r]} << 32 | m;
  }
  // 1. A person's reports of one month joined only through the tokens they share among
  //    themselves (a union-find over reports): reports of a month that the linkage joined
  //    only through a report of another month (a BRIDGE) stay apart.
  std::vector<uint32_t> parent(n);
  for (size_t r = 0; r < n; ++r) parent[r] = static_cast<uint32_t>(r);
  auto find = [&](uint32_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  const TokenTable& t = ds.tokens;
  {
    absl::flat_hash_map<std::tuple<uint64_t, uint16_t, uint64_t>, uint32_t> first_with;
    for (size_t run = 0; run < t.runs(); ++run) {
      const uint32_t r = t.run_report(run);
      if (r >= n || !published[r]) continue;
      for (size_t i = t.run_begin(run); i < t.run_end(run); ++i) {
        auto [it, inserted] = first_with.try_emplace({part[r], t.rule(i), t.fingerprint(i)}, r);
        if (inserted) continue;
        const uint32_t a = find(r), b = find(it->second);
        if (a != b) parent[a] = b;
      }
    }
  }
  // 2. The revised months: those parts joined across months through the tokens they share,
  //    never two parts of one month (each group keeps the months it holds; a union of two
  //    groups that share a month is skipped), in the order of the reports; first within each
  //    year, then across years, never two groups of one year. So a bridge joins at most one
  //    of the persons it links in a month (or, from another year, in a year), and the persons
  //    of a month, and of a revised year, never depend on other months' (years') reports.
  std::vector<uint32_t> group(n);
  for (size_t r = 0; r < n; ++r) group[r] = static_cast<uint32_t>(r);
  auto find_group = [&](uint32_t x) {
    while (group[x] != x) x = group[x] = group[group[x]];
    return x;
  };
  absl::flat_hash_map<uint32_t, std::vector<uint32_t>> months_of;  // group root -> months
  for (const bool across_years : {false, true}) {
    const uint32_t unit = across_years ? 100 : 1;  // compare years (YYYY) or months (YYYYMM)
    absl::flat_hash_map<std::tuple<uint64_t, uint16_t, uint64_t>, uint32_t> first_with;
    for (size_t run = 0; run < t.runs(); ++run) {
      const uint32_t r = t.run_report(run);
      if (r >= n || !published[r] || provisional[r]) continue;
      const uint64_t within = uint64_t{link.person[r]} << 32 |
                              (across_years ? 0 : ds.reports[r].signal_month / 100);
      for (size_t i = t.run_begin(run); i < t.run_end(run); ++i) {
        auto [it, inserted] = first_with.try_emplace({within, t.rule(i), t.fingerprint(i)}, r);
        if (inserted) continue;
        const uint32_t a = find_group(find(r)), b = find_group(find(it->second));
        if (a == b) continue;
        // A group that was never joined holds its own report's month.
        auto months = [&](uint32_t root) {
          auto m = months_of.find(root);
          return m != months_of.end() ? m->second
                                      : std::vector<uint32_t>{ds.reports[root].signal_month};
        };
        std::vector<uint32_t> ma = months(a), mb = months(b);
        bool shared = false;
        for (uint32_t x : ma) {
          for (uint32_t y : mb) shared = shared || x / unit == y / unit;
        }
        if (shared) continue;
        mb.insert(mb.end(), ma.begin(), ma.end());
        group[a] = b;
        months_of[b] = std::move(mb);
        months_of.erase(a);
      }
    }
  }
  // New ids in the order of each new person's first report: a published report by its
  // group (a provisional month's part is a group of its own), any other by its linked person
  // (it counts nowhere).
  absl::flat_hash_map<uint64_t, uint32_t> ids, group_ids;
  ids.reserve(link.persons);
  out.persons = 0;
  for (size_t r = 0; r < n; ++r) {
    auto [it, inserted] =
        published[r]
            ? group_ids.try_emplace(find_group(find(static_cast<uint32_t>(r))), out.persons)
            : ids.try_emplace(link.person[r], out.persons);
    if (inserted) ++out.persons;
    out.person[r] = it->second;
  }
  return out;
}

uint64_t ProvisionalEdition(uint32_t from, uint32_t to, uint32_t revised_through,
                            uint32_t latest) {
  return from != to && to > revised_through && latest > revised_through ? 1 : 0;
}

ReleaseState Release(const Dataset& ds, const std::vector<uint64_t>& report_keys,
                     std::map<uint32_t, std::vector<uint64_t>> frozen, uint32_t now_month,
                     uint32_t grace, std::map<uint32_t, FrozenRows> frozen_rows) {
  ReleaseState out;
  const size_t n = ds.reports.size();
  out.publishable.assign(n, false);
  out.pinned_key.assign(n, 0);
  out.corrected.assign(n, false);
  out.in_place.assign(n, false);
  const bool have_rows = ds.rows.size() == n;
  const bool have_versions = ds.versions.size() == n;
  auto released = [&](uint32_t m) { return m != 0 && ReleaseMonth(m, grace) <= now_month; };
  std::map<uint32_t, std::vector<size_t>> by_month;
  uint32_t first = frozen.empty() ? 0 : frozen.begin()->first;
  for (size_t r = 0; r < n; ++r) {
    const uint32_t m = ds.reports[r].signal_month;
    if (r < report_keys.size() && released(m)) {
      by_month[m].push_back(r);
      if (first == 0 || m < first) first = m;
    }
  }
  // Each frozen key admits as many reports as it occurs (the same content twice).
  std::map<uint32_t, std::map<uint64_t, int>> left;
  for (const auto& [m, keys] : frozen) {
    for (uint64_t k : keys) ++left[m][k];
  }
  // The reports frozen with their rows: the latest month a row was frozen in, and its key
  // there. A row still in the store is its report, as frozen or corrected since; it takes its
  // key's place in every month it was frozen in, so no other report can.
  std::vector<bool> handled(n, false);
  if (have_rows && !frozen_rows.empty()) {
    absl::flat_hash_map<int64_t, size_t> report_of_row;
    report_of_row.reserve(n);
    for (size_t r = 0; r < n; ++r) report_of_row.emplace(ds.rows[r], r);
    absl::flat_hash_map<int64_t, std::pair<uint32_t, FrozenRow>> frozen_as;
    for (const auto& [m, rows] : frozen_rows) {
      for (const FrozenRow& f : rows) {
        if (!report_of_row.contains(f.row)) continue;  // deleted (retracted, retention)
        frozen_as[f.row] = {m, f};                      // later months last
        auto l = left[m].find(f.key);
        if (l != left[m].end() && l->second > 0) --l->second;
      }
    }
    for (const auto& [row, frozen_at] : frozen_as) {
      const size_t r = report_of_row[row];
      if (r >= report_keys.size()) continue;
      const uint32_t m0 = frozen_at.first;
      const uint64_t key0 = frozen_at.second.key;
      handled[r] = true;
      // Corrected since it was frozen: it adds no key to any cell (STATES THAT REPEAT).
      out.corrected[r] = have_versions && frozen_at.second.version != 0 &&
                         ds.versions[r] != frozen_at.second.version;
      const uint32_t m = ds.reports[r].signal_month;
      if (m == m0 && report_keys[r] == key0) {
        out.publishable[r] = true;  // as frozen (or with other categories, the same key)
        out.in_place[r] = !out.corrected[r];
      } else if (released(m) && !frozen.empty() &&
                 (frozen.count(m) != 0 || m > frozen.rbegin()->first)) {
        out.publishable[r] = true;  // a correction: a person of its own, its frozen key
        out.pinned_key[r] = key0;
      }
      // Else moved to a month not released yet (or to no month): it is frozen there, with
      // its new key, when that month is released.
    }
  }
  // A month before the last frozen one that has no multiset was before the data began when
  // the later months were frozen: it stays empty (back-filling a closed month would be a
  // way to watch). Every released month from the first to now is frozen, empty ones too.
  const uint32_t last_frozen = frozen.empty() ? 0 : frozen.rbegin()->first;
  auto next = [](uint32_t m) { return Month(m).Plus(1).yyyymm(); };
  for (uint32_t m = first; m != 0 && ReleaseMonth(m, grace) <= now_month; m = next(m)) {
    auto it = frozen.find(m);
    const auto reports = by_month.find(m);
    if (it == frozen.end()) {
      if (m < last_frozen) continue;
      std::vector<uint64_t> keys;
      FrozenRows rows;
      if (reports != by_month.end()) {
        for (size_t r : reports->second) {
          keys.push_back(report_keys[r]);
          if (have_rows) {
            rows.push_back(FrozenRow{ds.rows[r], report_keys[r],
                                     have_versions ? ds.versions[r] : 0});
          }
          out.publishable[r] = true;
          out.pinned_key[r] = 0;
          out.corrected[r] = false;
          out.in_place[r] = have_rows;
        }
      }
      std::sort(keys.begin(), keys.end());
      std::sort(rows.begin(), rows.end());
      frozen.emplace(m, std::move(keys));
      if (have_rows) frozen_rows[m] = std::move(rows);
      out.newly_frozen.push_back(m);
    } else if (reports != by_month.end()) {
      // The reports not frozen with their rows: by their keys alone.
      std::map<uint64_t, int>& slots = left[m];
      for (size_t r : reports->second) {
        if (handled[r]) continue;
        auto l = slots.find(report_keys[r]);
        if (l != slots.end() && l->second > 0) {
          --l->second;
          out.publishable[r] = true;
        }
      }
    }
    if (out.first_released == 0) out.first_released = m;
    out.last_released = m;
  }
  out.frozen = std::move(frozen);
  out.frozen_rows = std::move(frozen_rows);
  return out;
}

std::vector<uint32_t> CompleteFrozenRows(const Dataset& ds,
                                         const std::vector<uint64_t>& report_keys,
                                         ReleaseState& state) {
  std::vector<uint32_t> out;
  const size_t n = ds.reports.size();
  if (ds.rows.size() != n || ds.versions.size() != n || report_keys.size() != n) return out;
  absl::flat_hash_map<int64_t, uint32_t> version_of_row;
  version_of_row.reserve(n);
  for (size_t r = 0; r < n; ++r) version_of_row.emplace(ds.rows[r], ds.versions[r]);
  for (const auto& [m, keys] : state.frozen) {
    if (std::find(state.newly_frozen.begin(), state.newly_frozen.end(), m) !=
        state.newly_frozen.end()) {
      continue;
    }
    auto it = state.frozen_rows.find(m);
    if (it == state.frozen_rows.end()) {
      FrozenRows rows;
      for (size_t r = 0; r < n; ++r) {
        if (state.publishable[r] && state.pinned_key[r] == 0 && ds.reports[r].signal_month == m) {
          rows.push_back(FrozenRow{ds.rows[r], report_keys[r], ds.versions[r]});
        }
      }
      std::sort(rows.begin(), rows.end());
      state.frozen_rows.emplace(m, std::move(rows));
      out.push_back(m);
      continue;
    }
    bool completed = false;
    for (FrozenRow& f : it->second) {
      if (f.version != 0) continue;
      auto v = version_of_row.find(f.row);
      if (v == version_of_row.end()) continue;  // gone before: nothing to tell
      f.version = v->second;
      completed = true;
    }
    if (completed) out.push_back(m);
  }
  return out;
}

std::string FormatDeparted(const std::vector<Departed>& departed) {
  std::string out;
  for (const Departed& d : departed) {
    const ReportFacts& f = d.facts;
    absl::StrAppend(&out, out.empty() ? "" : ";",
                    absl::StrFormat("%x,%x,%x,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%d,", d.row,
                                    d.key, d.with_row, f.signal_month, f.form, f.contact,
                                    f.age_band, f.gender, f.background, f.domain, f.living,
                                    f.recruitment, f.coercion, f.forced_crime, f.has_token ? 1 : 0),
                    absl::BytesToHexString(d.agency), ",", absl::BytesToHexString(d.area));
  }
  return out;
}

absl::StatusOr<std::vector<Departed>> ParseDeparted(const std::string& text) {
  std::vector<Departed> out;
  if (text.empty()) return out;
  const absl::Status malformed =
      absl::DataLossError("a setting of departed reports is malformed; restore a backup");
  for (absl::string_view record : absl::StrSplit(text, ';')) {
    std::vector<absl::string_view> f = absl::StrSplit(record, ',');
    if (f.size() != 17) return malformed;
    Departed d;
    uint64_t row = 0, with_row = 0;
    uint32_t v[11];
    if (!absl::SimpleHexAtoi(f[0], &row) || !absl::SimpleHexAtoi(f[1], &d.key) ||
        !absl::SimpleHexAtoi(f[2], &with_row)) {
      return malformed;
    }
    for (int i = 0; i < 11; ++i) {
      if (!absl::SimpleAtoi(f[static_cast<size_t>(3 + i)], &v[i])) return malformed;
    }
    for (int i : {1, 2, 3, 4, 5, 6}) {
      if (v[i] > 255) return malformed;
    }
    int token = 0;
    if (!absl::SimpleAtoi(f[14], &token) || token < 0 || token > 1) return malformed;
    auto hex = [](absl::string_view h, std::string& to) {
      if (h.size() % 2 != 0 || h.find_first_not_of("0123456789abcdef") != h.npos) return false;
      to = absl::HexStringToBytes(h);
      return true;
    };
    if (!hex(f[15], d.agency) || !hex(f[16], d.area)) return malformed;
    d.row = static_cast<int64_t>(row);
    d.with_row = static_cast<int64_t>(with_row);
    d.facts.signal_month = v[0];
    d.facts.form = static_cast<uint8_t>(v[1]);
    d.facts.contact = static_cast<uint8_t>(v[2]);
    d.facts.age_band = static_cast<uint8_t>(v[3]);
    d.facts.gender = static_cast<uint8_t>(v[4]);
    d.facts.background = static_cast<uint8_t>(v[5]);
    d.facts.domain = static_cast<uint8_t>(v[6]);
    d.facts.living = v[7];
    d.facts.recruitment = v[8];
    d.facts.coercion = v[9];
    d.facts.forced_crime = v[10];
    d.facts.has_token = token == 1;
    out.push_back(std::move(d));
  }
  return out;
}

namespace {

// The reports of `before` in their frozen place for which `left(r)` holds and whose row is
// not in `known`, as departed records (Departures, DeparturesOf).
std::vector<Departed> DepartedOf(const Dataset& before, const LinkResult& before_link,
                                 const RecordKeys& before_keys,
                                 const std::vector<bool>& before_in_place,
                                 const std::function<bool(size_t r)>& left,
                                 const absl::flat_hash_set<int64_t>& known) {
  std::vector<Departed> out;
  const size_t n = before.reports.size();
  if (before.rows.size() != n || before_in_place.size() != n ||
      before_link.person.size() != n || before_keys.report.size() != n) {
    return out;
  }
  // Per person of `before`: its published rows.
  absl::flat_hash_map<uint32_t, std::vector<int64_t>> rows_of;
  for (size_t r = 0; r < n; ++r) {
    if (before.reports[r].signal_month != 0) {
      rows_of[before_link.person[r]].push_back(before.rows[r]);
    }
  }
  for (size_t r = 0; r < n; ++r) {
    if (!before_in_place[r] || known.contains(before.rows[r]) || !left(r)) continue;
    Departed d;
    d.row = before.rows[r];
    d.key = before_keys.report[r];
    d.facts = before.reports[r];
    if (d.facts.agency != 0 && d.facts.agency <= before.agencies.size()) {
      d.agency = before.agencies[d.facts.agency - 1];
    }
    if (d.facts.area != 0 && d.facts.area <= before.areas.size()) {
      d.area = before.areas[d.facts.area - 1];
    }
    d.facts.agency = 0;
    d.facts.area = 0;
    for (int64_t other : rows_of[before_link.person[r]]) {
      if (other != d.row && (d.with_row == 0 || other < d.with_row)) d.with_row = other;
    }
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace

std::vector<Departed> Departures(const Dataset& before, const LinkResult& before_link,
                                 const RecordKeys& before_keys,
                                 const std::vector<bool>& before_in_place, const Dataset& now,
                                 const ReleaseState& now_state,
                                 const absl::flat_hash_set<int64_t>& known) {
  absl::flat_hash_map<int64_t, size_t> now_of_row;
  now_of_row.reserve(now.rows.size());
  for (size_t r = 0; r < now.rows.size(); ++r) now_of_row.emplace(now.rows[r], r);
  return DepartedOf(
      before, before_link, before_keys, before_in_place,
      [&](size_t r) {
        auto it = now_of_row.find(before.rows[r]);
        // Gone, or no longer where it was frozen.
        return it == now_of_row.end() || it->second >= now_state.in_place.size() ||
               !now_state.in_place[it->second];
      },
      known);
}

std::vector<Departed> DeparturesOf(const Dataset& before, const LinkResult& before_link,
                                   const RecordKeys& before_keys,
                                   const std::vector<bool>& before_in_place,
                                   const absl::flat_hash_set<int64_t>& leaving,
                                   const absl::flat_hash_set<int64_t>& known) {
  if (leaving.empty()) return {};
  return DepartedOf(
      before, before_link, before_keys, before_in_place,
      [&](size_t r) { return leaving.contains(before.rows[r]); }, known);
}

KeyWorld BuildKeyWorld(const Dataset& live, const LinkResult& live_link,
                       const RecordKeys& live_keys, const std::vector<bool>& publishable,
                       const std::vector<Departed>& departed, const CellKeyParams& params) {
  KeyWorld w;
  const size_t n = live.reports.size();
  std::vector<const Departed*> gone;
  for (const Departed& d : departed) gone.push_back(&d);
  std::sort(gone.begin(), gone.end(),
            [](const Departed* a, const Departed* b) { return a->row < b->row; });
  const bool rows = live.rows.size() == n;
  Dataset& ds = w.dataset;
  ds.rules = live.rules;
  ds.areas = live.areas;
  ds.agencies = live.agencies;
  auto index_of = [](std::vector<std::string>& names, const std::string& name) -> size_t {
    if (name.empty()) return 0;
    auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) {
      names.push_back(name);
      return names.size();
    }
    return static_cast<size_t>(it - names.begin()) + 1;
  };
  std::vector<uint64_t> pinned;
  std::vector<bool> unkeyed, published;
  std::vector<int64_t> live_person;  // per report: its live person, -1 for a departed one
  size_t g = 0;
  std::vector<std::pair<const Departed*, size_t>> placed;  // each departed report's index
  auto add_departed = [&](const Departed& d) {
    placed.emplace_back(&d, ds.reports.size());
    ReportFacts f = d.facts;
    f.agency = static_cast<uint16_t>(std::min<size_t>(index_of(ds.agencies, d.agency),
                                                      kMaxDatasetAgencies));
    f.area = static_cast<uint16_t>(index_of(ds.areas, d.area));
    ds.reports.push_back(f);
    ds.rows.push_back(d.row);
    pinned.push_back(d.key);
    unkeyed.push_back(d.key == 0);
    published.push_back(true);
    live_person.push_back(-1);
  };
  for (size_t r = 0; r < n; ++r) {
    while (rows && g < gone.size() && gone[g]->row < live.rows[r]) add_departed(*gone[g++]);
    // A report without a key (corrected since it was frozen) adds nothing to any key, and its
    // new categories are not where it was frozen: it is left out, so that its person falls
    // in the cells it fell in when frozen.
    const uint64_t key = live_keys.report.size() == n ? live_keys.report[r] : 0;
    if (key == 0) continue;
    ds.reports.push_back(live.reports[r]);
    ds.rows.push_back(rows ? live.rows[r] : 0);
    pinned.push_back(key);
    unkeyed.push_back(false);
    published.push_back(r < publishable.size() && publishable[r]);
    live_person.push_back(r < live_link.person.size() ? live_link.person[r] : 0);
  }
  while (g < gone.size()) add_departed(*gone[g++]);
  const size_t m = ds.reports.size();
  // Departed reports join the person of their `with_row`, through other departed ones.
  // A row that is both live (a corrected report) and departed (its frozen place) is its live
  // report's.
  absl::flat_hash_map<int64_t, size_t> at_row;
  for (size_t r = 0; r < m; ++r) {
    if (ds.rows[r] != 0 && live_person[r] >= 0) at_row.emplace(ds.rows[r], r);
  }
  for (const auto& [d, at] : placed) at_row.emplace(d->row, at);
  std::vector<size_t> parent(m);
  for (size_t r = 0; r < m; ++r) parent[r] = r;
  auto find = [&](size_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  for (const auto& [d, at] : placed) {
    auto b = at_row.find(d->with_row);
    if (b == at_row.end() || d->with_row == 0) continue;
    const size_t x = find(at), y = find(b->second);
    if (x == y || (live_person[x] >= 0 && live_person[y] >= 0)) continue;  // never two persons
    // Keep a live report as the root, so that a group takes its live person.
    if (live_person[x] >= 0) {
      parent[y] = x;
    } else {
      parent[x] = y;
    }
  }
  w.link.persons = live_link.persons;
  w.link.person.assign(m, 0);
  absl::flat_hash_map<size_t, uint32_t> own;  // a group of departed reports alone -> its id
  for (size_t r = 0; r < m; ++r) {
    const size_t root = find(r);
    if (live_person[root] >= 0) {
      w.link.person[r] = static_cast<uint32_t>(live_person[root]);
    } else {
      auto [it, inserted] = own.try_emplace(root, w.link.persons);
      if (inserted) ++w.link.persons;
      w.link.person[r] = it->second;
    }
  }
  w.keys = ComputeRecordKeys(ds, w.link, params, &published, &pinned, &unkeyed);
  w.agency_of.reserve(m);
  for (const ReportFacts& f : ds.reports) w.agency_of.push_back(f.agency);
  return w;
}

TokenTable PublishedTokens(const Dataset& ds, const ReleaseState& state) {
  const TokenTable& t = ds.tokens;
  TokenTable out;
  out.Reserve(t.size(), t.runs());
  for (size_t run = 0; run < t.runs(); ++run) {
    const uint32_t r = t.run_report(run);
    if (!(r < state.publishable.size() && state.publishable[r]) ||
        (r < state.pinned_key.size() && state.pinned_key[r] != 0)) {
      continue;
    }
    for (size_t i = t.run_begin(run); i < t.run_end(run); ++i) out.CopyToken(r, t, i);
  }
  return out;
}

absl::Status CheckReleased(uint32_t from, uint32_t to, uint32_t now_month, uint32_t grace) {
  // The last month of the period is released last.
  if (ReleaseMonth(to, grace) <= now_month) return absl::OkStatus();
  const std::string month = Month(to).Text();
  const std::string date = absl::StrCat(Month(ReleaseMonth(to, grace)).Text(), "-01");
  (void)from;
  // FailedPrecondition: the period is well formed and on the grid; the state of the releases
  // does not allow it yet (as for the latest year before a half year has ended).
  return WithRefusal(
      absl::FailedPreconditionError(absl::StrFormat(
          "%s is not released yet: figures for a month are published from the first "
          "day of the month %u month(s) after it (from %s), so that late signals "
          "are in and the figures do not change afterwards",
          month, grace + 1, date)),
      Refusal{"refusedNotReleased", {{"month", month}, {"date", date}}, {}});
}

namespace {
constexpr char kRefusalPayload[] = "type.samenzicht.nl/refusal";
}  // namespace

// The payload: the key on the first line, then "v<TAB>name<TAB>value" and "o<TAB>option"
// lines (months, dates and grid periods: no tabs or newlines in them).
absl::Status WithRefusal(absl::Status status, const Refusal& refusal) {
  std::string text = refusal.key + "\n";
  for (const auto& [name, value] : refusal.values) {
    absl::StrAppend(&text, "v\t", name, "\t", value, "\n");
  }
  for (const std::string& o : refusal.options) absl::StrAppend(&text, "o\t", o, "\n");
  status.SetPayload(kRefusalPayload, absl::Cord(text));
  return status;
}

std::optional<Refusal> RefusalOf(const absl::Status& status) {
  auto payload = status.GetPayload(kRefusalPayload);
  if (!payload.has_value()) return std::nullopt;
  const std::string text(*payload);
  Refusal r;
  bool first = true;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (first) {
      r.key = std::string(line);
      first = false;
      continue;
    }
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f.size() == 3 && f[0] == "v") r.values.emplace_back(f[1], f[2]);
    if (f.size() == 2 && f[0] == "o") r.options.push_back(f[1]);
  }
  if (r.key.empty()) return std::nullopt;
  return r;
}

namespace {

// `from` and `to` are months of the same year.
std::string GridPeriodText(uint32_t from, uint32_t to) {
  const uint32_t year = Month(from).year(), a = Month(from).month(), b = Month(to).month();
  std::string name;
  if (a == b) {
    name = Month(from).Text();
  } else if (b - a == 2) {
    name = absl::StrCat(year, "-Q", (a - 1) / 3 + 1);
  } else if (b - a == 5) {
    name = absl::StrCat(year, "-H", a == 1 ? 1 : 2);
  } else {
    name = absl::StrCat(year);
  }
  return absl::StrCat(Month(from).Text(), "..", Month(to).Text(), " (", name, ")");
}

bool OnGrid(uint32_t from, uint32_t to) {
  if (Month(from).year() != Month(to).year()) return false;
  const uint32_t a = Month(from).month(), b = Month(to).month();
  if (a == b) return true;                                  // a month
  if (b - a == 2 && (a - 1) % 3 == 0) return true;          // a quarter
  if (b - a == 5 && (a == 1 || a == 7)) return true;        // a half year
  return a == 1 && b == 12;                                 // the year
}

}  // namespace

absl::Status CheckGridPeriod(uint32_t from, uint32_t to) {
  if (from == 0 && to == 0) return absl::OkStatus();
  if (!IsValidMonth(from) || !IsValidMonth(to)) {
    return WithRefusal(absl::InvalidArgumentError("period: from_month and to_month must be YYYYMM"),
                       Refusal{"refusedPeriod", {}, {}});
  }
  if (from != 0 && to != 0 && from > to) {
    return WithRefusal(absl::InvalidArgumentError("period: from_month is after to_month"),
                       Refusal{"refusedPeriod", {}, {}});
  }
  if (from != 0 && to != 0 && OnGrid(from, to)) return absl::OkStatus();
  // The nearest grid periods: those of the year of `from` (or `to`) that contain the
  // start, from the smallest that also reaches the end to the year.
  const uint32_t start = from != 0 ? from : Month(to).year() * 100 + 1;
  const uint32_t end = to != 0 ? to : Month(from).year() * 100 + 12;
  const uint32_t year = Month(start).year(), month = Month(start).month();
  std::vector<std::string> options;
  const uint32_t q = (month - 1) / 3 * 3 + 1, h = month <= 6 ? 1 : 7;
  for (auto [a, b] : {std::pair<uint32_t, uint32_t>{month, month}, {q, q + 2}, {h, h + 5},
                      {1, 12}}) {
    const uint32_t f = year * 100 + a, t = year * 100 + b;
    if (options.empty() || t >= std::min(end, year * 100 + 12) || b == 12) {
      std::string text = GridPeriodText(f, t);
      if (std::find(options.begin(), options.end(), text) == options.end()) {
        options.push_back(text);
      }
      if (t >= std::min(end, year * 100 + 12)) break;
    }
  }
  auto text = [](uint32_t m) { return m == 0 ? std::string("(open)") : Month(m).Text(); };
  return WithRefusal(
      absl::InvalidArgumentError(absl::StrCat(
          "period ", text(from), "..", text(to),
          " is not on the release grid (a month, a quarter, a half year, a year, or no period "
          "at all); ask ", absl::StrJoin(options, " or "), " instead")),
      Refusal{"refusedOffGrid", {{"period", absl::StrCat(text(from), "..", text(to))}}, options});
}

absl::StatusOr<std::pair<uint32_t, uint32_t>> LatestPeriod(uint32_t first, uint32_t last,
                                                           uint32_t latest, uint32_t grace) {
  const uint32_t year = last / 100, month = last % 100;
  // The last June or December released.
  const uint32_t end = month == 12 ? last
                       : month >= 6 ? year * 100 + 6
                                    : (year - 1) * 100 + 12;
  if (end >= first) {
    // The year of the latest published signal, as far as its half years are released.
    const uint32_t y = (latest != 0 && latest < end ? latest : end) / 100;
    const uint32_t to = y == end / 100 ? end : y * 100 + 12;
    return std::make_pair(std::max(first, y * 100 + 1), to);
  }
  // No half year has ended since the first released month: the latest year will end with the
  // half year that holds it; meanwhile the last released month and its quarter (when that
  // holds a released month) are there to ask.
  const uint32_t through = month <= 6 ? year * 100 + 6 : year * 100 + 12;
  const uint32_t at = ReleaseMonth(through, grace);
  const uint32_t quarter_end = month % 3 == 0 ? last
                               : month > 3    ? year * 100 + month / 3 * 3
                                              : (year - 1) * 100 + 12;
  std::vector<std::string> options = {GridPeriodText(last, last)};
  if (quarter_end >= first) {
    options.push_back(GridPeriodText(quarter_end - 2, quarter_end));
  }
  const std::string first_text = absl::StrFormat("%04u-%02u", first / 100, first % 100);
  const std::string through_text = absl::StrFormat("%04u-%02u", through / 100, through % 100);
  const std::string date = absl::StrFormat("%04u-%02u-01", at / 100, at % 100);
  return WithRefusal(
      absl::FailedPreconditionError(absl::StrCat(
          "without a period the latest year is published, as far as its first half year or the "
          "whole year is released, and no half year has ended since the figures begin (",
          first_text, "): it is published from ", date, " (through ", through_text, "); ask ",
          absl::StrJoin(options, " or "), " instead")),
      Refusal{"refusedNoLatestYear",
              {{"first", first_text}, {"through", through_text}, {"date", date}},
              options});
}

std::string PeriodText(uint32_t from, uint32_t to) {
  if (from == 0 || to == 0 || !IsValidMonth(from) || !IsValidMonth(to)) return "";
  if (OnGrid(from, to)) return GridPeriodText(from, to);
  return absl::StrCat(Month(from).Text(), "..", Month(to).Text());
}

std::vector<std::pair<uint32_t, uint32_t>> GridPeriods(uint32_t first_year, uint32_t last_year) {
  std::vector<std::pair<uint32_t, uint32_t>> out;
  for (uint32_t y = first_year; y <= last_year; ++y) {
    for (uint32_t m = 1; m <= 12; ++m) out.emplace_back(y * 100 + m, y * 100 + m);
    for (uint32_t q = 0; q < 4; ++q) out.emplace_back(y * 100 + 3 * q + 1, y * 100 + 3 * q + 3);
    out.emplace_back(y * 100 + 1, y * 100 + 6);
    out.emplace_back(y * 100 + 7, y * 100 + 12);
    out.emplace_back(y * 100 + 1, y * 100 + 12);
  }
  return out;
}

std::string CellKeyRules(const CellKeyParams& p) {
  const uint32_t k = p.k == 0 ? kDefaultMinCellSize : p.k;
  return absl::StrCat(
      "Every published count is perturbed (Cell Key Method, as the ONS and the ABS use for "
      "census tables): a count of ", k, " or more is shown within ", p.noise(),
      " of the true count for all but about one cell in ", p.tail_one_in, " and within ",
      p.tail(), " for every cell (never below ", k, ", except that in about one cell in ",
      p.tail_one_in, " a figure that would fall below ", k, " is shown as 0 or ", k,
      ": so a 0 may stand for a count of up to ", k + p.tail() - 1, "); a count from 1 to ",
      k - 1,
      " is shown as 0 or ", k, "; an empty cell is shown as 0. The same group of persons "
      "always gets the same perturbation, in every table and period, so asking again tells "
      "nothing new. Rows need not add up exactly to the totals.");
}

absl::StatusOr<CellKeyParams> ParseCellKeyRules(const std::string& text) {
  const size_t start = text.find("(Cell Key Method");
  if (start == std::string::npos) {
    return absl::NotFoundError("the disclosure rules name no Cell Key Method parameters");
  }
  // The number right after `before`, searched from `*at` on; advances `*at`.
  size_t at = start;
  auto number = [&](std::string_view before, uint32_t* out) -> bool {
    const size_t p = text.find(before, at);
    if (p == std::string::npos) return false;
    size_t b = p + before.size(), e = b;
    while (e < text.size() && text[e] >= '0' && text[e] <= '9') ++e;
    at = e;
    return absl::SimpleAtoi(text.substr(b, e - b), out);
  };
  CellKeyParams p;
  if (!number("a count of ", &p.k) || !number(" or more is shown within ", &p.max_noise) ||
      !number(" one cell in ", &p.tail_one_in) || !number(" and within ", &p.tail_noise) ||
      p.k == 0 || p.tail_one_in == 0) {
    return absl::NotFoundError("the disclosure rules' Cell Key Method parameters are unreadable");
  }
  return p;
}

const std::string& DisclosureRules() {
  static const std::string* text = new std::string(
      "Counts from 1 to k-1 are withheld and shown as <k (primary suppression). In every row "
      "and column of a table with its total, and between months, quarters and the period, a "
      "single withheld cell, or withheld cells that add up to fewer than k while the total is "
      "shown, lead to withholding the next smallest cell too, shown as x (secondary "
      "suppression), repeated until nothing changes; totals that another query shows are "
      "never relied on to be hidden. Categories where a person counts under several values "
      "are protected as if they added up. Periods are whole months; a query whose counts "
      "differ by 1 to k-1 from an earlier query of the same analyst over an overlapping "
      "period is refused (differencing).");
  return *text;
}

}  // namespace samenzicht::aggregator
