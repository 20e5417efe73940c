// Multiple systems estimation end to end on a simulated municipality: capture histories of
// the persons the real linkage found (bench/common/pipeline.h) or of the true persons,
// counted by the aggregator's own code (aggregator/insight.h), as a table for the estimator.
//
//   ASSIGN_OR_RETURN(auto h, HistoriesOf(simulation, linked.person_of_record, Lists::kAgencies));
//   ASSIGN_OR_RETURN(estimate::CaptureTable t, ToTable(h));
#ifndef SAMENZICHT_BENCH_MSE_END_TO_END_H_
#define SAMENZICHT_BENCH_MSE_END_TO_END_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "estimate/capture_table.h"
#include "aggregator/query/insight.h"
#include "simulator/simulator.h"

namespace samenzicht::bench {

enum class Lists { kAgencies, kDomains };
const char* ListsName(Lists lists);  // "agencies", "domains"

// The true person of every record, numbered 0, 1, ... (for `HistoriesOf`).
std::vector<int> TruePersonOfRecord(const simulator::Simulation& simulation);

// Capture histories over the agencies (list names: agency names) or over their reporting
// domains (domain words), of the persons formed by grouping the records by
// `person_of_record` (-1: the record sent no report and is left out). Built as the
// aggregator builds them: one report per record with the agency's domain and the signal
// month, a LinkResult from the labels, then AgencyCaptureHistories / DomainCaptureHistories
// over the whole period. InvalidArgument if the sizes differ.
absl::StatusOr<aggregator::CaptureHistories> HistoriesOf(const simulator::Simulation& simulation,
                                                          const std::vector<int>& person_of_record,
                                                          Lists lists);

// The estimator's table; FailedPrecondition for fewer than estimate::kMinLists lists.
absl::StatusOr<estimate::CaptureTable> ToTable(const aggregator::CaptureHistories& histories);

// `list...,count` with one row per observed history (the input of `aggregator estimate`).
std::string HistoriesCsv(const aggregator::CaptureHistories& histories);

// Persons in the table: the sum of the counts.
int64_t Persons(const aggregator::CaptureHistories& histories);

}  // namespace samenzicht::bench

#endif  // SAMENZICHT_BENCH_MSE_END_TO_END_H_
