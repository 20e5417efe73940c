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
#ifndef SAMENZICHT_AGGREGATOR_QUERY_DISCLOSURE_H_
#define SAMENZICHT_AGGREGATOR_QUERY_DISCLOSURE_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <string>
#include <utility>
#include <vector>

#include "aggregator/linkage/linkage.h"
#include "aggregator/store/dataset.h"
#include "samenzicht/v1/query.pb.h"

namespace samenzicht::aggregator {

// The smallest count shown (k) when the configuration sets none.
inline constexpr uint32_t kDefaultMinCellSize = 5;

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

// ---- The Cell Key Method (docs/disclosure.md) ---------------------------------
//
// Consistent perturbation, as ONS and ABS publish census tables: every person gets a fixed
// random RECORD KEY, every published cell the CELL KEY = the sum of its persons' record keys
// (mod 2^64), and the published value is the true count plus noise looked up from a fixed
// perturbation table (the "ptable") with the cell key. The same set of persons therefore
// always gets the same noise, whichever table, view or period it is reached through: asking
// again, or asking an overlapping period that holds the same persons, tells nothing new,
// so no query needs to be refused.
//
//   CellKeyParams p{.k = 5, .max_noise = 5, .secret = secret};
//   RecordKeys keys = ComputeRecordKeys(dataset, link, p);
//   uint64_t shown = PerturbCount(true_count, cell_key, Measure::kPersons, p);
//
// RECORD KEYS. A report's key is a keyed mix of its tokens' fingerprints (the tokens are
// already keyed with the aggregator's secret, so nobody without the store key can compute
// it) and `secret`; a report without tokens is keyed by its categories and its position
// among identical reports. A person's key IN A CELL is the mix of the SUM of the keys of
// the reports that put it in that cell: its reports in the cell's period that state the
// cell's value of each category (ReportMatches in totals.h; for a two-way cell those that
// state both values, or either when none states both; for the total, all of them). It does
// not depend on the person numbers a re-link hands out, the same reports always give the
// same key, and a report that joins a person changes the person's key only in the cells the
// report itself falls in: the cells it leaves alone keep their noise, so whether it joined an
// earlier person does not show there. Signals (reports) use the report keys.
//
// THE PTABLE (n = true count, u = a uniform draw from the cell key):
//   n = 0            -> 0 (zeros stay zeros: an empty cell singles nobody out);
//   1 <= n < k       -> k when the cell holds a MARKED person (marked in a month with
//                       probability 1/k, from the record key of its earliest report of the
//                       month; in a period when marked in any of its months), else 0: never a value
//                       1..k-1, and monotone, so a small cell inside another that shows 0
//                       shows 0 too (independent draws would let "the part shows k, the whole
//                       shows 0" prove the part is 1..k-1);
//   n >= k           -> n + d, where d is uniform on -D..D (the core, D = max_noise) with
//                       probability 1 - 1/tail_one_in, and uniform on -S..S (the tail,
//                       S = tail_noise) otherwise; where n + d < k: k for a core draw, and for
//                       a tail draw 0 or k as a small count (k when the cell holds a marked
//                       person), never a value 1..k-1.
// So every published value is 0 or at least k; a published v >= k is within D of the true
// count for most cells and within S for every cell; a published 0 holds at most k + S - 1
// (in practice almost always fewer than k: a count of k or more shows 0 only when its draw
// comes from the tail and falls below k and none of its persons is marked; the shares are
// measured in docs/disclosure.md). That last part is what protects a small
// count that is published as 0: with zeros that meant "0 to k-1" exactly, an attacker who
// proved from margins and neighbours that such a cell holds someone (or that it cannot hold
// k-1) narrowed it to k-1 values; now "at least 1" still leaves 1..k+S-1. Zeros stay zeros
// (a structural zero, such as a combination nobody can have, is never shown as k). Both are
// how the perturbation tables of Destatis' ptable package (used by the cellKey package and
// tau-ARGUS) treat small values: a 0 is never perturbed, and with a threshold js no count is
// published as 1..js while a count may be published as 0 if that is within its noise. The tail is what keeps an attacker who combines many tables with
// linear or integer programming from proving that a small count is not 0: that needs the sum
// of the noise of every cell in the combination, and with the tail in the support the
// attacker can never rule out S in any of them (docs/disclosure.md has the measured widths).
//
// Thread-safety: pure functions.
enum class Measure : uint8_t { kPersons = 1, kSignals = 2 };

struct CellKeyParams {
  uint32_t k = 5;            // min_cell_size
  uint32_t max_noise = 0;    // D; 0 means k
  uint64_t secret = 0;       // the deployment's cell-key secret
  uint32_t tail_noise = 0;   // S; 0 means 3k (at least D)
  uint32_t tail_one_in = 10; // one cell in this many draws its noise from the tail
  // 0: the final figures. Otherwise the figures of a period that holds a provisional month
  // (ProvisionalEdition): mixed into every noise draw, so that no provisional figure shares
  // its draw with a final one (the revision perturbs every such cell anew).
  uint64_t edition = 0;
  uint32_t noise() const { return max_noise == 0 ? k : max_noise; }
  uint32_t tail() const { return std::max(tail_noise == 0 ? 3 * k : tail_noise, noise()); }
};

// P(d = i - tail()) for i = 0 .. 2 tail(): the noise added to a count n >= k + S.
std::vector<double> NoiseDistribution(const CellKeyParams& params);

// Per report (index into Dataset::reports) and per person (LinkResult::person ids).
// A person's key in a cell is PersonKey(sum of the keys of its reports that put it in the
// cell, its mark) (see RECORD KEYS above): it changes only when those reports change, so a
// report added in another month leaves this month's figures alone, and a report that adds
// nothing to a cell leaves that cell alone. `person` holds the key over all (publishable)
// reports: the person's key in the total of the whole history.
//
// MARKS. A person's mark in a month is the mark of its earliest publishable report of that
// month (`month_mark`, per report: the mark of its person in its month); its mark in a period
// is 1 when it is marked in any month of the period that it has reports in (`PeriodMarks`), and
// `person_mark` is its mark over all its publishable reports. So a person's mark in a month is
// the same whether its months are published as provisional persons of their own or linked
// (a month's figures do not change at the revision), and a cell inside another (a month in
// its quarter, a category in the total) never holds a marked person the other lacks.
struct RecordKeys {
  std::vector<uint64_t> report;
  std::vector<uint64_t> person;
  std::vector<uint8_t> person_mark;  // 1: the person is marked in some month
  std::vector<uint8_t> month_mark;   // per report: its person's mark in its month
  uint64_t secret = 0;
};
// 0 for a sum of 0: the person is in the cell only through reports that add no key (see
// `unkeyed` below).
uint64_t PersonKey(uint64_t report_key_sum, bool marked, uint64_t secret);
// The low byte of a record key is 1 for a marked record and 0 otherwise, so the low byte of
// a cell key is the number of marked records in a cell of fewer than 256.
// `publishable` (one flag per report; null = all): a person's key sums only its publishable
// reports, so a report held back by the release freeze changes no published noise.
// `pinned` (per report; null = none): a report with a non-zero entry takes it as its key
// (ReleaseState::pinned_key). `unkeyed` (per report; null = none): a report flagged there
// (ReleaseState::corrected) gets the key 0 and no mark, so it adds nothing to any cell key:
// a person whose reports in a cell are all unkeyed adds nothing to that cell's key
// (PersonKey of a sum of 0 is 0).
RecordKeys ComputeRecordKeys(const Dataset& dataset, const LinkResult& link,
                             const CellKeyParams& params,
                             const std::vector<bool>* publishable = nullptr,
                             const std::vector<uint64_t>* pinned = nullptr,
                             const std::vector<bool>* unkeyed = nullptr);

// ---- The release freeze (docs/disclosure.md section 4) -----------------------------------
//
// A month is RELEASED from the first day of the month `grace_months` + 1 after it (grace 1:
// 2024-11 on 2025-01-01). At the first snapshot after that, the multiset of its reports'
// keys is FROZEN (kept in the store's settings with an audit entry), with the store row of
// each of those reports (Dataset::rows); from then on only those reports are published for
// the month: a report that arrives later for a released month counts nowhere, so submitting
// a guessed person for a closed month and watching changes nothing. Reports of months not
// yet released, and reports without a month, are not published at all; a period that holds
// an unreleased month is refused. A month before the latest frozen month that was never
// frozen (it had no report then) stays empty. Retraction and retention delete for real, so a
// frozen report that is deleted disappears from the counts; the cells it was frozen in keep
// its key (DEPARTED REPORTS below).
//
// CORRECTIONS. A frozen report that its agency corrected (the same store row, other
// content) is published in its latest version: under its new categories, in its new month
// when that month is released (until then nowhere; it is frozen with that month as any of
// its reports). When the correction changed its key (other identifiers, or other categories
// of a report without identifiers) or its month, it is published as a person of its own
// (linked to no other report) with the key it was frozen with (`pinned_key`): so the figures
// after such a correction are the same whether or not its new identifiers belong to someone
// already reported (no insert-and-watch through a correction), and its new identifiers draw
// no noise. A correction that keeps the key and the month (other categories of a report with
// identifiers) is published as it is, linked as before.
//
// STATES THAT REPEAT. Every correction of a frozen report is a new state of the cells it
// leaves and enters, and every state is published. So a report corrected since its month was
// frozen (its version, Dataset::versions, differs from the one frozen: `corrected`) counts in
// the cells of its latest version but adds nothing to their cell keys (ComputeRecordKeys,
// `unkeyed`): moving corrected reports into and out of a cell changes its count, never its
// noise, and averaging the states tells no more than one of them (docs/disclosure.md
// section 5 has the measured figures). The cells it was frozen in keep its key, as they keep
// a retracted report's (DEPARTED REPORTS below).
//
// Rows are recorded for the months frozen since they were kept, with the reports' versions
// since those are kept; for a month frozen before, reports are matched by their keys alone
// (a correction that changed the key or the month of such a report counts nowhere), and a
// row frozen without its version (0) is never taken for corrected: the first snapshot that
// reads such a month gives it rows and versions (CompleteFrozenRows, below).
struct FrozenRow {
  int64_t row = 0;       // the store row (Dataset::rows)
  uint64_t key = 0;      // the report's key when frozen
  uint32_t version = 0;  // its version when frozen (Dataset::versions), 0 when not recorded
  friend bool operator==(const FrozenRow&, const FrozenRow&) = default;
  friend auto operator<=>(const FrozenRow&, const FrozenRow&) = default;
};
using FrozenRows = std::vector<FrozenRow>;  // by row
struct ReleaseState {
  std::vector<bool> publishable;                    // per report
  std::map<uint32_t, std::vector<uint64_t>> frozen;  // month -> sorted report keys
  std::map<uint32_t, FrozenRows> frozen_rows;       // month -> its frozen reports' rows
  std::vector<uint32_t> newly_frozen;               // months frozen by this call
  // Per report: the key it was frozen with, for a correction published as a person of its
  // own (see CORRECTIONS); 0 for every other report.
  std::vector<uint64_t> pinned_key;
  // Per report: a frozen report corrected since (see STATES THAT REPEAT): published, but
  // keyed 0 (ComputeRecordKeys, `unkeyed`).
  std::vector<bool> corrected;
  // Per report: in the place it was frozen in (its frozen row, month and key, not corrected
  // since): the reports whose departure a DEPARTED record keeps (see below).
  std::vector<bool> in_place;
  uint32_t first_released = 0, last_released = 0;   // YYYYMM, 0 when none
};
// `report_keys` from ComputeRecordKeys (RecordKeys::report); `frozen` and `frozen_rows` the
// multisets and rows kept so far; `now_month` the current YYYYMM.
ReleaseState Release(const Dataset& dataset, const std::vector<uint64_t>& report_keys,
                     std::map<uint32_t, std::vector<uint64_t>> frozen, uint32_t now_month,
                     uint32_t grace_months, std::map<uint32_t, FrozenRows> frozen_rows = {});
// MONTHS FROZEN BEFORE ROWS OR VERSIONS WERE KEPT. A month frozen with its keys alone, or with
// rows but without versions ("/" in its setting), cannot tell a correction (its reports are
// never taken for corrected, so correcting one in and out of a cell would draw new noise each
// time) nor a report that leaves its frozen place. CompleteFrozenRows gives such a month
// (not one frozen by this `state`) the rows of its publishable reports (keys alone: the
// reports its keys admit) and each row the version its report has now, in
// `state.frozen_rows`: from then on the month is treated as one frozen with versions, the
// states before that counting as frozen. Returns the months completed (none for a dataset
// without rows or versions).
std::vector<uint32_t> CompleteFrozenRows(const Dataset& dataset,
                                         const std::vector<uint64_t>& report_keys,
                                         ReleaseState& state);
// The tokens the published linkage is made from: those of the publishable reports that are
// not pinned (`state` from Release), so that a report that is not published (a late report
// for a released month, a report of a month not released yet, a correction published as a
// person of its own) joins no published reports to each other either.
TokenTable PublishedTokens(const Dataset& dataset, const ReleaseState& state);
// The first month on which `yyyymm` is released.
uint32_t ReleaseMonth(uint32_t yyyymm, uint32_t grace_months);

// ---- Departed reports (docs/disclosure.md section 3) -------------------------------------
//
// A report that leaves the place it was frozen in after its month's release (retracted, or
// corrected for the first time) would take its key out of every cell it was frozen in, so
// that each one an analyst's own node takes out gives those cells a new noise draw: planted
// before the release and taken out one at a time, the plants would give as many draws as
// there are plants, and their average the cell's true count. So a released cell keeps the
// key of a report that left it: a DEPARTED record keeps, of such a report, its store row,
// the key it was frozen with, its categories and month as frozen, the node id of its agency,
// and the row of another report of the person it belonged to when it left (0: none); no
// token, no identifier, no report id. The figures are then counted from the reports as they
// are, and every cell is perturbed with its key in the KEY WORLD: the reports as they are
// plus the departed ones in their frozen places (joined to the person of `with_row`),
// so taking reports out of a cell lowers its count and leaves its noise alone: every state
// is one draw shifted by a count the analyst knows. Departed records of a month are deleted
// with the month's reports by the retention purge (DepartedSettingsBefore).
struct Departed {
  int64_t row = 0;       // its store row
  uint64_t key = 0;      // the key it was frozen with
  int64_t with_row = 0;  // a row of its person when it left, 0 when none
  ReportFacts facts;     // as frozen; `agency` and `area` are set by BuildKeyWorld
  std::string agency;    // the node id of its agency, "" when not known
  std::string area;      // its district code, "" when not known
};
// Month YYYYMM's departed reports are kept in the setting kDepartedSettingPrefix + YYYYMM
// (aggregator/store/dataset.h, so that the retention purge can delete them).
std::string FormatDeparted(const std::vector<Departed>& departed);
// DataLoss when the text is not one FormatDeparted wrote ("" is no record).
absl::StatusOr<std::vector<Departed>> ParseDeparted(const std::string& text);
// The reports of `before` (a snapshot's published dataset, linkage, record keys and release
// state) that were in their frozen place and are not in `now` any more (their row is gone, or
// no longer in its frozen place in `now_state`), as departed records; rows in `known` (already
// recorded) are left out.
std::vector<Departed> Departures(const Dataset& before, const LinkResult& before_link,
                                 const RecordKeys& before_keys,
                                 const std::vector<bool>& before_in_place, const Dataset& now,
                                 const ReleaseState& now_state,
                                 const absl::flat_hash_set<int64_t>& known);
// The same for the rows of `leaving` alone (reports a store transaction retracts or
// corrects, which leave their frozen place whatever else changes), so that the transaction
// itself can record their departure (Store::DepartureRecorder).
std::vector<Departed> DeparturesOf(const Dataset& before, const LinkResult& before_link,
                                   const RecordKeys& before_keys,
                                   const std::vector<bool>& before_in_place,
                                   const absl::flat_hash_set<int64_t>& leaving,
                                   const absl::flat_hash_set<int64_t>& known);
// The key world (see above) of a published dataset (`live`, its published linkage and record
// keys and `publishable` from its release state) and the departed records: the reports in
// row order, each live report with its published key (pinned; one without a key, corrected
// since it was frozen, is left out: its departed record stands in its frozen place), each
// departed one with the key it was frozen with, joined to the person of its `with_row` (a
// departed record whose `with_row` is not there is a person of its own, with those that name
// it).
struct KeyWorld {
  Dataset dataset;
  LinkResult link;
  RecordKeys keys;
  std::vector<AgencyIndex> agency_of;  // per report, as Snapshot::agency_of_report
};
KeyWorld BuildKeyWorld(const Dataset& live, const LinkResult& live_link,
                       const RecordKeys& live_keys, const std::vector<bool>& publishable,
                       const std::vector<Departed>& departed, const CellKeyParams& params);

// ---- Provisional persons until the scheduled revision (docs/disclosure.md section 3) -----
//
// A report released in a month after its person was first published (it joins, through a
// shared token, a person with reports of an earlier released month) would change the figures
// of every period holding both months in a way that depends on whether that person was
// there: joined to a person, it adds no one to "form unknown", puts that person in "its form
// x the report's domain", in the overlap of both domains, among the persons known to two
// agencies; a new person falls elsewhere. An analyst who plants a report with a guessed
// person's identifiers before a release could compare. So until the year is REVISED a
// person's reports of each month of that year are published as a person of their own (a
// PROVISIONAL person: the month's reports of the linked person), in every table, period and
// view: the plant is then one person of its own, with the same reports and so the same key,
// whether or not it joined someone. Once a year's December is released the year is revised:
// from then on its months' reports are published linked as usual, with those of the revised
// years before it. `RevisedThrough(last released month)` is the December of the last revised
// year (0 when none); months after it are provisional.
//
// The price (docs/disclosure.md): until the revision a person signalled in several months of
// the year counts once per month in the periods that hold more than one of them (quarters,
// halves, the year), and as known to one agency per month; the figures of
// those periods change once, at the revision, which is also the one look at the join
// (measured in disclosure_attack_test).
uint32_t RevisedThrough(uint32_t last_released);
// The linkage as published: `link` with every person split into one provisional person per
// month after `revised_through` that it has publishable reports in, and its reports of the
// revised months (its reports that are not publishable count nowhere). A person's reports of
// one month are joined only through the tokens they share among themselves, and parts of the
// revised months are joined across months through the tokens they share, never two parts of
// one month, first within each year and then across years, never two parts of one year: so
// reports of a month (a year) that `link` joined only through a report of another month
// (year) (a BRIDGE) stay apart, and a month's persons, and a revised year's, never depend on
// other months' (years') reports (an analyst who plants a report with the identifiers of two
// guessed persons of a released month would otherwise see that month lose a person, at the
// plant's release or at the revision, when both were reported). Ids are dense, numbered in the order of each new person's first
// report, as Link numbers them.
LinkResult ProvisionalLink(const Dataset& dataset, const LinkResult& link,
                           const std::vector<bool>& publishable, uint32_t revised_through);
// The edition (CellKeyParams::edition) of the figures of `from`..`to` (the published period,
// YYYYMM): 1 (provisional) for a period of more than one month that holds a month after
// `revised_through` while some publishable report is of a month after it (`latest`: the
// latest month of a publishable report), else 0 (final). A month's figures are the same split
// or joined, so they are always final; a longer period's change once, at its year's revision,
// and are then drawn anew whether or not their persons changed, so that "unchanged" tells
// nothing. (A period of a year not revised yet that holds no report is empty either way.)
uint64_t ProvisionalEdition(uint32_t from, uint32_t to, uint32_t revised_through,
                            uint32_t latest);
// OK when every month of [from, to] is released (FailedPrecondition names the first that is
// not and when it will be: the period is well formed, the releases do not allow it yet); `from`/`to` already on the grid and not 0.
absl::Status CheckReleased(uint32_t from_month, uint32_t to_month, uint32_t now_month,
                           uint32_t grace_months);

// The published value of a cell with `count` elements whose record keys add up to
// `cell_key` (see the ptable above). `k` 0 means the default 5.
uint64_t PerturbCount(uint64_t count, uint64_t cell_key, Measure measure,
                      const CellKeyParams& params);
v1::Count PerturbedCount(uint64_t count, uint64_t cell_key, Measure measure,
                         const CellKeyParams& params);

// The smallest and largest true count that a published value `shown` can come from (what
// an attacker who knows the ptable can conclude from that one cell): 0 -> 0..k+S-1,
// k -> 1..k+S, v > k -> max(k, v-S)..v+S.
std::pair<uint64_t, uint64_t> TrueCountRange(uint64_t shown, const CellKeyParams& params);

// THE RELEASE GRID. Under the Cell Key Method a period is no period (both 0: the latest
// year, LatestPeriod) or a calendar month, quarter, half year or year: two overlapping periods then differ by whole
// months, never by one chosen person (Jan-Jun against Jan-May cannot be asked; the months,
// quarters and halves that can are protected together by the ptable). InvalidArgument for
// any other period, naming the grid periods nearest to it ("ask 2024-01..2024-03 (2024-Q1)
// or 2024-01..2024-06 (2024-H1) instead").
absl::Status CheckGridPeriod(uint32_t from_month, uint32_t to_month);

// THE LATEST YEAR (both months 0, "no period"): the period published when none is asked is
// the latest year with published signals, as far as its half years are released: January to
// June while that year's December is not released yet, else January to December (from the
// first released month when the figures begin within that year). It never crosses a year, so
// it is always a grid period or a part of one with the same persons (months before the first
// released month hold no report), with the same figures as that grid period: a history over
// several years would add periods of its own (2024-01..2025-06, 2024-01..2025-12), each a new
// noise draw that an integer-programming attacker combines with the grid's
// (docs/disclosure.md sections 2 and 4). Ending at the last released month instead would be a
// new period every month. `latest_published` is the latest month of a published report; the
// year is that of the earlier of it and the last released June or December, so a deployment
// whose signals stopped shows its last year with signals rather than an empty one.
// FailedPrecondition, with the refusal "refusedNoLatestYear", while no half year or year has
// ended since the first released month: the message names the date from which it is
// published and the grid periods to ask instead (the last released month and the quarter it
// ends, or the last released quarter). `first_released` and `last_released` not 0.
absl::StatusOr<std::pair<uint32_t, uint32_t>> LatestPeriod(uint32_t first_released,
                                                           uint32_t last_released,
                                                           uint32_t latest_published,
                                                           uint32_t grace_months);

// A period as people read it: "2024-01..2024-06 (2024-H1)" on the grid, "2024-03..2024-06"
// otherwise, "" for (0, 0).
std::string PeriodText(uint32_t from_month, uint32_t to_month);

// THE WORDS OF A REFUSAL. A period refusal (off the grid, not released yet) carries, besides
// its English message (the CLI's and the logs'), a payload that names a label of the label
// table (presentation/labels.tsv) and the values to fill in, so that every rendering for
// people (the dashboard) says it in its own language. `options` are the grid periods to ask
// instead, each "2024-01..2024-03 (2024-Q1)"; the rendering joins them with its "or".
//
//   if (std::optional<Refusal> r = RefusalOf(status)) ... r->key == "refusedOffGrid"
//
// Keys: "refusedOffGrid" {period} + options; "refusedNotReleased" {month} {date};
// "refusedNothingReleased"; "refusedNoLatestYear" {first} {through} {date} + options;
// "refusedPeriod" (months not YYYY-MM, or from after to).
struct Refusal {
  std::string key;
  std::vector<std::pair<std::string, std::string>> values;
  std::vector<std::string> options;
};
absl::Status WithRefusal(absl::Status status, const Refusal& refusal);
std::optional<Refusal> RefusalOf(const absl::Status& status);

// Every grid period (months, quarters, halves, the year) of the years from `first_year`
// to `last_year`, as (from, to) YYYYMM pairs.
std::vector<std::pair<uint32_t, uint32_t>> GridPeriods(uint32_t first_year, uint32_t last_year);

// The Cell Key Method in one paragraph, in English, for the responses (and so the CLI); the
// renderings for people take theirs from the label table (presentation/labels.tsv,
// "cellKeyRules").
std::string CellKeyRules(const CellKeyParams& params);
// The parameters back from that paragraph (k, D, S and tail_one_in; no secret): a response's
// `disclosure_rules` (or a totals response's counting rules, which end with it) are what the
// server applied, so the renderings state its actual parameters. NotFound when the text holds
// no Cell Key Method paragraph (the old suppression).
absl::StatusOr<CellKeyParams> ParseCellKeyRules(const std::string& text);

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_QUERY_DISCLOSURE_H_
