#include "aggregator/disclosure.h"

#include <limits>
#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"

#include "aggregator/totals.h"

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
      by_quarter[(m / 100) * 10 + ((m % 100) - 1) / 3 + 1].push_back(cell);
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
