#include "bench/mse/end_to_end.h"

#include <unordered_map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "aggregator/linkage/linkage.h"
#include "aggregator/store/store.h"
#include "common/status_macros.h"

namespace samenzicht::bench {

const char* ListsName(Lists lists) { return lists == Lists::kAgencies ? "agencies" : "domains"; }

std::vector<int> TruePersonOfRecord(const simulator::Simulation& simulation) {
  std::unordered_map<int, int> dense;
  std::vector<int> out;
  out.reserve(simulation.records.size());
  for (const simulator::Record& r : simulation.records) {
    out.push_back(dense.emplace(r.person, static_cast<int>(dense.size())).first->second);
  }
  return out;
}

namespace {

// "2024-03-17" -> 202403; 0 when not a date.
uint32_t SignalMonth(const std::string& date) {
  uint32_t year = 0, month = 0;
  if (date.size() < 7 || !absl::SimpleAtoi(date.substr(0, 4), &year) ||
      !absl::SimpleAtoi(date.substr(5, 2), &month)) {
    return 0;
  }
  return year * 100 + month;
}

}  // namespace

absl::StatusOr<aggregator::CaptureHistories> HistoriesOf(const simulator::Simulation& simulation,
                                                          const std::vector<int>& person_of_record,
                                                          Lists lists) {
  if (person_of_record.size() != simulation.records.size()) {
    return absl::InvalidArgumentError(absl::StrCat("person_of_record has ", person_of_record.size(),
                                                   " entries for ", simulation.records.size(),
                                                   " records"));
  }
  if (simulation.agencies.size() > aggregator::kMaxDatasetAgencies) {
    return absl::InvalidArgumentError("more agencies than a Dataset numbers");
  }
  aggregator::Dataset ds;
  aggregator::LinkResult link;
  std::vector<aggregator::AgencyIndex> agency_of_report;
  std::unordered_map<int, uint32_t> dense;
  for (size_t i = 0; i < simulation.records.size(); ++i) {
    if (person_of_record[i] < 0) continue;
    const simulator::Record& r = simulation.records[i];
    aggregator::ReportFacts f;
    f.signal_month = SignalMonth(r.signal_date);
    f.domain = static_cast<uint8_t>(simulation.agencies[r.agency].domain);
    f.has_token = true;
    ds.reports.push_back(f);
    agency_of_report.push_back(static_cast<aggregator::AgencyIndex>(r.agency + 1));
    link.person.push_back(
        dense.emplace(person_of_record[i], static_cast<uint32_t>(dense.size())).first->second);
  }
  link.persons = static_cast<uint32_t>(dense.size());
  if (lists == Lists::kDomains) return aggregator::DomainCaptureHistories(ds, link, 0, 0);
  std::vector<std::string> names;
  for (const simulator::Agency& a : simulation.agencies) names.push_back(a.name);
  return aggregator::AgencyCaptureHistories(ds, link, agency_of_report, names, 0, 0);
}

absl::StatusOr<estimate::CaptureTable> ToTable(const aggregator::CaptureHistories& h) {
  const int k = static_cast<int>(h.lists.size());
  if (k < estimate::kMinLists) {
    return absl::FailedPreconditionError(absl::StrCat(
        "multiple systems estimation needs at least ", estimate::kMinLists, " lists, got ", k));
  }
  return estimate::CaptureTable::FromCounts(k, h.counts, h.lists);
}

std::string HistoriesCsv(const aggregator::CaptureHistories& h) {
  std::string out = absl::StrCat(absl::StrJoin(h.lists, ","), ",count\n");
  for (size_t mask = 1; mask < h.counts.size(); ++mask) {
    if (h.counts[mask] == 0) continue;
    for (size_t i = 0; i < h.lists.size(); ++i) absl::StrAppend(&out, (mask >> i) & 1, ",");
    absl::StrAppend(&out, h.counts[mask], "\n");
  }
  return out;
}

int64_t Persons(const aggregator::CaptureHistories& h) {
  int64_t n = 0;
  for (int64_t c : h.counts) n += c;
  return n;
}

}  // namespace samenzicht::bench
