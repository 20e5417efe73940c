#include "aggregator/report_query.h"

#include <memory>
#include <utility>

#include "aggregator/admin/audited_store.h"
#include "aggregator/query/query.h"
#include "common/status_macros.h"
#include "rpc/peer.h"

namespace samenzicht::aggregator {

absl::StatusOr<ReportInput> QueryReportInProcess(const v1::AggregatorConfig& config,
                                                 const v1::InsightRequest& insight) {
  ASSIGN_OR_RETURN(AuditedStore opened, OpenAuditedStore(config));
  ASSIGN_OR_RETURN(std::unique_ptr<Query> query,
                   Query::New(config, opened.profile, opened.store.get()));
  const rpc::Peer peer{LocalOperator(), rpc::Role::kAnalyst};
  ReportInput in;
  ASSIGN_OR_RETURN(in.insight, query->Insight(peer, insight, FrontEnd::kOfflineReport));
  for (const auto& req : ReportTableRequests(insight.from_month(), insight.to_month())) {
    ASSIGN_OR_RETURN(v1::TotalsResponse t, query->Totals(peer, req, FrontEnd::kOfflineReport));
    in.tables.push_back(std::move(t));
  }
  return in;
}

}  // namespace samenzicht::aggregator
