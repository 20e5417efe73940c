// Deduplicated totals: persons and signals, overall or broken down by one or two
// categories, for an optional period, with primary disclosure control.
//
//   LinkResult link = Link(dataset.reports.size(), dataset.tokens, threshold, rules);
//   ASSIGN_OR_RETURN(v1::TotalsResponse r, ComputeTotals(dataset, link, request, k));
//
// COUNTING RULES (also returned in `TotalsResponse.counting_rules`, shown with every table):
//  - A person is a set of linked reports (see linkage.h). Signals are reports.
//  - Period: a report is in the period when its signal month lies in [from, to]
//    (inclusive; a report whose month is not known is outside every bounded period). A
//    person counts when at least one of their reports is in the period, and only those
//    reports decide the person's categories.
//  - Form of a person: the union over their reports. Sexual and criminal together (from
//    any mix of reports, including one saying "sexual_and_criminal") => sexual_and_criminal;
//    else sexual; else criminal; else labour; else other; else unknown.
//  - Age band: the band at the person's earliest signal that states one.
//  - Gender, background, contact, area: the value of the earliest report that states one.
//    "Earliest" orders by signal month (unknown months last), then by arrival.
//  - Living situation, recruitment location, coercion, forced crime (several may apply):
//    the union over the person's reports; the person is counted once under each value,
//    so these rows add up to more than the total. A person with no value is "unknown".
//  - Reporting domain: a person is counted once under each domain that signalled them
//    (taken from the aggregator's configuration of the agency, never from a report); rows
//    add up to more than the total.
//  - Signal month: the person's earliest signal month.
//  - Signals are counted by each report's own values (a report with several values of a
//    multi-valued category counts under each).
//  - unlinkable_signals: reports that carried no token. Each could be a new person or one
//    already counted, so persons lie between total - unlinkable and total.
//  - Disclosure control: any count from 1 to k-1 (k = min_cell_size) is withheld and shown
//    as "<k" (value 0, suppressed), totals included. Zero is shown as zero. Secondary
//    suppression (disclosure.h) withholds further cells ("x", Count.secondary) so that no
//    withheld cell follows from the total, the one-way margins of a two-way table, or the
//    quarters of a month table.
//
// Rows: for enum categories every value plus "unknown", in enum order (so the shape of a
// table does not depend on the data); for area and signal month the values present.
//
// Thread-safety: pure functions.
#ifndef SAMENZICHT_AGGREGATOR_QUERY_TOTALS_H_
#define SAMENZICHT_AGGREGATOR_QUERY_TOTALS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "aggregator/linkage/linkage.h"
#include "aggregator/query/disclosure.h"  // kDefaultMinCellSize
#include "aggregator/query/months.h"  // EarliestFirst, IsValidMonth
#include "aggregator/store/dataset.h"
#include "samenzicht/v1/categories.pb.h"
#include "samenzicht/v1/query.pb.h"

namespace samenzicht::aggregator {

// The form-of-exploitation counting rule, in one place for every code path that counts
// persons: a report's form as bits (FORM_SEXUAL_AND_CRIMINAL sets both), OR-ed over a
// person's reports, then resolved: sexual and criminal => FORM_SEXUAL_AND_CRIMINAL, else
// sexual, else criminal, else labour, else other, else FORM_UNSPECIFIED.
inline uint32_t FormBits(uint8_t form) {
  constexpr uint32_t kSexual = 1u << 0, kCriminal = 1u << 1, kLabour = 1u << 2, kOther = 1u << 3;
  switch (form) {
    case v1::FORM_SEXUAL: return kSexual;
    case v1::FORM_CRIMINAL: return kCriminal;
    case v1::FORM_SEXUAL_AND_CRIMINAL: return kSexual | kCriminal;
    case v1::FORM_LABOUR: return kLabour;
    case v1::FORM_OTHER: return kOther;
    default: return 0;
  }
}
inline int PersonForm(uint32_t bits) {
  const bool sexual = bits & FormBits(v1::FORM_SEXUAL), criminal = bits & FormBits(v1::FORM_CRIMINAL);
  if (sexual && criminal) return v1::FORM_SEXUAL_AND_CRIMINAL;
  if (sexual) return v1::FORM_SEXUAL;
  if (criminal) return v1::FORM_CRIMINAL;
  if (bits & FormBits(v1::FORM_LABOUR)) return v1::FORM_LABOUR;
  if (bits & FormBits(v1::FORM_OTHER)) return v1::FORM_OTHER;
  return v1::FORM_UNSPECIFIED;
}

// THE COUNTING RULES AS CODE: the one definition that ComputeRawTotals and TotalsIndex
// (totals_index.h) both use to turn a person's reports into the person's categories.
//
// A person's value of dimension d is accumulated over the person's reports (only those in
// the period), taken earliest first (EarliestFirst):
//   acc = 0; for each report r: Fold(RuleOf(d), acc, Contribution(d, ReportValue(d, r)));
//   person value = PersonValue(d, acc)
// A value is an enum value, an area (1 + index into Dataset::areas), a YYYYMM, or for a
// multi-valued dimension (IsMultiValued) a bitmask with bit v for value v (0 = unknown).
// Contribution and PersonValue keep the order of values and leave 0 alone for
// earliest-known dimensions, so an index may fold any order-keeping code of the value
// (such as a month's slot among the months present) instead of the value itself.
inline constexpr int kDimensionCount = v1::DIMENSION_SIGNAL_MONTH + 1;  // index 0 unused
enum class PersonRule : uint8_t { kEarliestKnown, kUnion };

// A report's own value (what its signal is counted under; a report has one domain).
inline uint32_t ReportValue(v1::Dimension d, const ReportFacts& r) {
  switch (d) {
    case v1::DIMENSION_FORM: return r.form;
    case v1::DIMENSION_CONTACT: return r.contact;
    case v1::DIMENSION_AGE_BAND: return r.age_band;
    case v1::DIMENSION_GENDER: return r.gender;
    case v1::DIMENSION_BACKGROUND: return r.background;
    case v1::DIMENSION_LIVING_SITUATION: return r.living;
    case v1::DIMENSION_RECRUITMENT_LOCATION: return r.recruitment;
    case v1::DIMENSION_COERCION: return r.coercion;
    case v1::DIMENSION_FORCED_CRIME: return r.forced_crime;
    case v1::DIMENSION_AREA: return r.area;
    case v1::DIMENSION_DOMAIN: return r.domain;
    case v1::DIMENSION_SIGNAL_MONTH: return r.signal_month;
    default: return 0;
  }
}

// True when a person (`person`) or a report holds a bitmask of values of d.
constexpr bool IsMultiValued(v1::Dimension d, bool person) {
  switch (d) {
    case v1::DIMENSION_LIVING_SITUATION:
    case v1::DIMENSION_RECRUITMENT_LOCATION:
    case v1::DIMENSION_COERCION:
    case v1::DIMENSION_FORCED_CRIME: return true;
    case v1::DIMENSION_DOMAIN: return person;  // each domain that signalled the person
    default: return false;
  }
}

// Form, the multi-valued categories and domain: the union over the reports. The others
// (contact, age band, gender, background, area, signal month): the earliest known value.
constexpr PersonRule RuleOf(v1::Dimension d) {
  return d == v1::DIMENSION_FORM || IsMultiValued(d, /*person=*/true) ? PersonRule::kUnion
                                                                      : PersonRule::kEarliestKnown;
}

// What a report's value adds to a person's accumulated value.
inline uint32_t Contribution(v1::Dimension d, uint32_t report_value) {
  if (d == v1::DIMENSION_FORM) return FormBits(static_cast<uint8_t>(report_value));
  if (d == v1::DIMENSION_DOMAIN) {
    return report_value > 0 && report_value < 32 ? 1u << report_value : 0;
  }
  return report_value;
}

inline void Fold(PersonRule rule, uint32_t& acc, uint32_t contribution) {
  if (rule == PersonRule::kUnion) {
    acc |= contribution;
  } else if (acc == 0) {
    acc = contribution;
  }
}

// The person's value from the accumulated one (the form rule resolves its bits).
inline uint32_t PersonValue(v1::Dimension d, uint32_t acc) {
  return d == v1::DIMENSION_FORM ? static_cast<uint32_t>(PersonForm(acc)) : acc;
}

// Whether a report with value `report_value` of d is one of the reports that put its person
// under `key` (one of the keys the person is counted under: its value, or one bit of a
// multi-valued one). Every report of the person matches the key 0 ("unknown": none of them
// states a value); otherwise a form matches when it shares a bit with the person's form, a
// multi-valued value when it has the bit, any other when it is the value. At least one of
// the person's reports matches each of its keys. The Cell Key Method makes a person's key in
// a cell from its matching reports only (disclosure.h), so a report that leaves a cell's
// persons alone leaves its key alone too.
inline bool ReportMatches(v1::Dimension d, uint32_t report_value, uint32_t key) {
  if (key == 0) return true;
  if (d == v1::DIMENSION_FORM) {
    return (FormBits(static_cast<uint8_t>(report_value)) & FormBits(static_cast<uint8_t>(key))) != 0;
  }
  if (IsMultiValued(d, /*person=*/true)) {
    return key < 32 && (Contribution(d, report_value) & (1u << key)) != 0;
  }
  return report_value == key;
}

// One person's accumulated values, for every dimension.
struct PersonCategories {
  uint32_t acc[kDimensionCount] = {};
  // `r` must come after every report added before it in EarliestFirst order.
  void Add(const ReportFacts& r) {
#pragma GCC unroll 16
    for (int d = 1; d < kDimensionCount; ++d) {
      const auto dim = static_cast<v1::Dimension>(d);
      Fold(RuleOf(dim), acc[d], Contribution(dim, ReportValue(dim, r)));
    }
  }
  uint32_t Value(v1::Dimension d) const { return PersonValue(d, acc[d]); }
};

// The text of the counting rules above, for `TotalsResponse.counting_rules`.
const std::string& CountingRules();

// InvalidArgument for more than two dimensions, an unspecified or repeated dimension, a
// month that is not a valid YYYYMM, or from > to. `min_cell_size` 0 means the default.
absl::StatusOr<v1::TotalsResponse> ComputeTotals(const Dataset& dataset, const LinkResult& link,
                                                 const v1::TotalsRequest& request,
                                                 uint32_t min_cell_size);

// Counts before disclosure control, for the query history's differencing check and for
// tests. Rows as in the response (`key_values` hold the enum value, YYYYMM or area index
// of each label). For two dimensions `margins[d]` are the one-way counts of dimension d
// (what the one-dimension query shows), which the two-way cells are protected against.
struct RawCell {
  uint64_t persons = 0;
  uint64_t signals = 0;
  // Cell keys (disclosure.h, Cell Key Method): the sums of the counted persons' and
  // reports' record keys; 0 when the table was made without record keys.
  uint64_t person_key = 0;
  uint64_t signal_key = 0;
};
struct RawRow {
  std::vector<std::string> labels;
  std::vector<int64_t> key_values;
  RawCell cell;
};
struct RawTotals {
  std::vector<v1::Dimension> by;
  std::vector<RawRow> rows;
  std::vector<RawRow> margins[2];
  RawCell total;
  uint64_t unlinkable = 0;
  uint64_t unlinkable_key = 0;  // sum of the unlinkable reports' record keys
};
absl::StatusOr<RawTotals> ComputeRawTotals(const Dataset& dataset, const LinkResult& link,
                                           const v1::TotalsRequest& request);
// The same with cell keys from `keys` (ComputeRecordKeys over `dataset` and `link`).
struct RecordKeys;
absl::StatusOr<RawTotals> ComputeRawTotals(const Dataset& dataset, const LinkResult& link,
                                           const v1::TotalsRequest& request,
                                           const RecordKeys* keys);

// The cell keys of `keyed` (the same request counted in the key world, disclosure.h:
// BuildKeyWorld) in place of those of `counted`, cell by cell (rows matched by their labels;
// 0 for a row the key world does not have): the counts stay those of `counted`, the noise is
// that of the key world, which reports leaving their frozen places do not change.
void TakeCellKeys(RawTotals& counted, const RawTotals& keyed);

// The dimensions of a request, or ComputeRawTotals' InvalidArgument for a bad request.
absl::StatusOr<std::vector<v1::Dimension>> CheckTotalsRequest(const v1::TotalsRequest& request);

// Fills `table.rows` and `table.margins` of `table.by` in display order (shared by
// ComputeRawTotals and TotalsIndex, so both list the same rows and labels). `observed[i]`:
// the key values counted under dimension i (used for area and signal month, whose rows are
// the values present); `cell(a, b)` and `margin(i, a)` give the counts by key value (b = 0
// for one dimension).
void FillRows(const Dataset& dataset, std::vector<int64_t> observed[2],
              absl::FunctionRef<RawCell(int64_t, int64_t)> cell,
              absl::FunctionRef<RawCell(int, int64_t)> margin, RawTotals& table);

// Primary and secondary disclosure control (disclosure.h) of a raw table.
v1::TotalsResponse ProtectTotals(const RawTotals& raw, uint32_t min_cell_size);

// The Cell Key Method (disclosure.h) over a raw table made with record keys: every count
// perturbed by its cell key, nothing withheld; `counting_rules` ends with CellKeyRules.
struct CellKeyParams;
v1::TotalsResponse PerturbTotals(const RawTotals& raw, const CellKeyParams& params);

// Primary disclosure control of one count.
v1::Count Protect(uint64_t value, uint32_t min_cell_size);

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_QUERY_TOTALS_H_
