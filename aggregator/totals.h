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
#ifndef SAMENZICHT_AGGREGATOR_TOTALS_H_
#define SAMENZICHT_AGGREGATOR_TOTALS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "aggregator/linkage.h"
#include "aggregator/store.h"
#include "samenzicht/v1/query.pb.h"

namespace samenzicht::aggregator {

// The form-of-exploitation counting rule, in one place for every code path that counts
// persons: a report's form as bits (FORM_SEXUAL_AND_CRIMINAL sets both), OR-ed over a
// person's reports, then resolved: sexual and criminal => FORM_SEXUAL_AND_CRIMINAL, else
// sexual, else criminal, else labour, else other, else FORM_UNSPECIFIED.
uint32_t FormBits(uint8_t form);
int PersonForm(uint32_t bits);

inline constexpr uint32_t kDefaultMinCellSize = 5;

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
};
absl::StatusOr<RawTotals> ComputeRawTotals(const Dataset& dataset, const LinkResult& link,
                                           const v1::TotalsRequest& request);

// Primary and secondary disclosure control (disclosure.h) of a raw table.
v1::TotalsResponse ProtectTotals(const RawTotals& raw, uint32_t min_cell_size);

// Primary disclosure control of one count.
v1::Count Protect(uint64_t value, uint32_t min_cell_size);

// True for 0 or a valid YYYYMM (year 1900-2999, month 1-12).
bool IsValidMonth(uint32_t yyyymm);

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_TOTALS_H_
