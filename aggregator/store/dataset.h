// The stored reports as the counting code reads them (Store::LoadDataset makes one; totals,
// the index, disclosure control and the insight count over it). Plain values: no SQLite, no
// threads, no keys, so the counting code depends on the linkage's TokenTable only.
//
//   ASSIGN_OR_RETURN(Dataset d, store->LoadDataset(domain_of_agency));
//   d.reports[i].domain            // v1::Domain of the agency that sent report i
//   d.agencies[d.reports[i].agency - 1]   // its node id (agency 0: not known)
//
// Thread-safety: value types.
#ifndef SAMENZICHT_AGGREGATOR_STORE_DATASET_H_
#define SAMENZICHT_AGGREGATOR_STORE_DATASET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "aggregator/linkage/linkage.h"

namespace samenzicht::aggregator {

// The most agencies a Dataset numbers (ReportFacts::agency, AgencyIndex): Store::LoadDataset
// refuses a store with reports of more agencies (ResourceExhausted).
inline constexpr size_t kMaxDatasetAgencies = 65535;
// An agency's number in a Dataset: 1 + index into Dataset::agencies, 0 = not known.
using AgencyIndex = uint16_t;

// Categories of one report as the totals need them. Multi-valued categories are bitmasks:
// bit v is set when enum value v (v >= 1) was reported; 0 means not known.
struct ReportFacts {
  uint32_t signal_month = 0;  // YYYYMM, 0 = not known
  uint8_t form = 0, contact = 0, age_band = 0, gender = 0, background = 0;
  uint8_t domain = 0;  // v1::Domain of the reporting agency, from the configuration
  uint16_t area = 0;   // 1 + index into Dataset::areas, 0 = not known
  uint32_t living = 0, recruitment = 0, coercion = 0, forced_crime = 0;
  bool has_token = false;
  AgencyIndex agency = 0;  // 1 + index into Dataset::agencies, 0 = not known
};

// Every non-retracted report and its (re-keyed) tokens, in storage order.
struct Dataset {
  std::vector<ReportFacts> reports;
  TokenTable tokens;               // TokenTable::report indexes `reports`
  std::vector<std::string> rules;  // rule names by the integers in `tokens`
  std::vector<std::string> areas;  // district codes by ReportFacts::area - 1
  // The node ids of the agencies that sent the reports, by ReportFacts::agency - 1, in order
  // of their first report.
  std::vector<std::string> agencies;
  // Per report (Store::LoadDataset): the store's row of the report, which keeps its number
  // when the agency corrects the report, so a correction can be told from a new report
  // (the release freeze, disclosure.h). Empty for a dataset that does not come from a store.
  std::vector<int64_t> rows;
  // Per report (Store::LoadDataset): its version, 1 when stored and raised by each correction,
  // so that a report corrected since its month was released can be told (disclosure.h).
  // Empty for a dataset that does not come from a store.
  std::vector<uint32_t> versions;
};

// The store's settings that keep, per released month YYYYMM, the reports that left the
// places they were frozen in ("disclosure_departed_YYYYMM": rows, keys and categories, no
// token or identifier; aggregator/query/disclosure.h, Departed). The retention purge deletes
// those of the months it purges.
inline constexpr char kDepartedSettingPrefix[] = "disclosure_departed_";

// Bitmask helpers for the multi-valued categories (bit v for enum value v >= 1).
template <typename RepeatedEnum>
uint32_t MaskOf(const RepeatedEnum& values) {
  uint32_t m = 0;
  for (int v : values) {
    if (v > 0 && v < 32) m |= (1u << v);
  }
  return m;
}

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_STORE_DATASET_H_
