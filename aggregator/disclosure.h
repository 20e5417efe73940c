// Disclosure control of published counts: primary suppression (a count from 1 to k-1 is
// withheld and shown "<k") and SECONDARY suppression (more cells withheld, shown "x", so
// that no withheld cell can be recovered from totals, margins or a neighbouring query).
//
//   DcTable t;
//   size_t total = t.Add(20, /*fixed=*/true);          // published elsewhere: a known margin
//   std::vector<size_t> cells = {t.Add(3), t.Add(9), t.Add(8)};
//   t.AddLine(cells, total);                             // cells add up to the margin
//   Suppress(t, k);                                      // primary, then secondary to a fixed point
//   v1::Count c = ToCount(t.cells[cells[0]]);            // {0, suppressed}
//
// RULES (also in DisclosureRules(), shown with every table, and in the README):
//  1. Primary: a count 1..k-1 is withheld ("<k"). Zero is shown (an empty cell singles
//     nobody out).
//  2. A line is a set of cells with a margin that they add up to (a row or column of a
//     table and its total; the months of a quarter and the quarter; ...). Lines whose
//     cells overlap (multi-valued categories, overlap between domains) are treated as if
//     they added up: conservative, never less protection.
//  3. In every line: if exactly one cell (margin included) is withheld, or the withheld
//     cells of the line add up to 1..k-1 while the margin is shown (so their sum would be
//     a small count of its own), the next smallest shown cell of the line is withheld too
//     ("x"): non-zero cells before zeros, inner cells before the margin, and never a cell
//     marked `fixed` (published by another query, e.g. the margin of a two-way table is
//     the one-way table). Repeated over all lines until nothing changes (a fixed point).
//  4. Differencing between queries is the query history's job (query_history.h).
//
// Thread-safety: pure functions and value types.
#ifndef SAMENZICHT_AGGREGATOR_DISCLOSURE_H_
#define SAMENZICHT_AGGREGATOR_DISCLOSURE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "samenzicht/v1/query.pb.h"

namespace samenzicht::aggregator {

struct DcCell {
  uint64_t value = 0;
  bool fixed = false;      // shown by another query: never withheld unless primary
  bool primary = false;    // result: 1..k-1
  bool secondary = false;  // result: withheld to protect another cell
  bool hidden() const { return primary || secondary; }
};

struct DcLine {
  std::vector<size_t> cells;  // inner cells
  long margin = -1;           // index of the margin cell, -1 = none
};

struct DcTable {
  std::vector<DcCell> cells;
  std::vector<DcLine> lines;
  size_t Add(uint64_t value, bool fixed = false) {
    cells.push_back(DcCell{value, fixed});
    return cells.size() - 1;
  }
  void AddLine(std::vector<size_t> inner, long margin) {
    lines.push_back(DcLine{std::move(inner), margin});
  }
};

// Rule 1, then rule 3 to a fixed point. `k` 0 means the default 5.
void Suppress(DcTable& table, uint32_t k);

// Trend tables: `months` are (YYYYMM or 0 for unknown, cell) of one measure, adding up to
// `total`. Adds one cell per quarter (value = sum of its months) and the lines
// months -> quarter, quarters -> total and months -> total, so that a month view and a
// quarter view of the same period get one suppression pattern. Returns (YYYYQ, cell) per
// quarter in order, the unknown month as (0, its own cell) last.
std::vector<std::pair<uint32_t, size_t>> AddTrendLines(
    DcTable& table, const std::vector<std::pair<uint32_t, size_t>>& months, size_t total);

// "2024-Q1" for 20241; "unknown" for 0.
std::string QuarterWord(uint32_t yyyyq);

// A published count: value 0 when withheld.
v1::Count ToCount(const DcCell& cell);

// The withheld cells of a response, for the privacy officer's audit trail (one entry per
// withheld count). `table` names the view ("totals", "agency_counts", "overlap", "trend",
// "summary"), `keys` the row labels, `measure` "persons" or "signals".
struct SuppressedCell {
  std::string table;
  std::vector<std::string> keys;
  std::string measure;
  bool primary = false;  // false: secondary
};
std::vector<SuppressedCell> SuppressedCells(const v1::TotalsResponse& response);
std::vector<SuppressedCell> SuppressedCells(const v1::InsightResponse& response);

// The rules above in one paragraph, for responses, the dashboard and the report.
const std::string& DisclosureRules();

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_DISCLOSURE_H_
