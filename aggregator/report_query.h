// The figures of the council report read in-process on the aggregator host (`aggregator
// report --config AGGREGATOR.textproto`), through the same query layer as every other path:
// the store opened with its audit trail attached (OpenAuditedStore), the default disclosure
// control (query.h), and one audit entry per query ("via": "report (in-process)") under the
// named identity of the local operator ("local:<user name>", aggregator/admin/audited_store.h LocalOperator),
// who is let through as the analyst. Any month the query layer freezes is audited as well.
//
//   ASSIGN_OR_RETURN(ReportInput in, QueryReportInProcess(config, insight_request));
//
// Returns the errors of OpenAuditedStore, Query::New, Query::Insight and Query::Totals (a
// period off the grid or not yet released: InvalidArgument).
//
// Thread-safety: a free function; it opens its own store.
#ifndef SAMENZICHT_AGGREGATOR_REPORT_QUERY_H_
#define SAMENZICHT_AGGREGATOR_REPORT_QUERY_H_

#include "absl/status/statusor.h"
#include "aggregator/present/report.h"
#include "samenzicht/v1/config.pb.h"
#include "samenzicht/v1/query.pb.h"

namespace samenzicht::aggregator {

// `insight` names the period; the tables are ReportTableRequests of the same period.
// `period` and `generated` of the result are left empty.
absl::StatusOr<ReportInput> QueryReportInProcess(const v1::AggregatorConfig& config,
                                                 const v1::InsightRequest& insight);

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_REPORT_QUERY_H_
