#include "aggregator/server/query_service.h"

#include <string_view>
#include <utility>

#include "aggregator/admin/audited_store.h"
#include "aggregator/server/service_status.h"

namespace samenzicht::aggregator {
namespace {

// `r` as it is; a refusal for the caller's role is also recorded as a permission_denied
// entry naming `call` (when `audit` is set). The query layer has written the audit entry of
// the answer or refusal itself.
template <typename Response>
absl::StatusOr<Response> RecordingDenied(Store* audit, const rpc::Peer& peer, std::string_view call,
                                         absl::StatusOr<Response> r) {
  if (r.status().code() == absl::StatusCode::kPermissionDenied) {
    RecordPermissionDenied(audit, peer, call, r.status());
  }
  return r;
}

}  // namespace

grpc::Status QueryService::Totals(grpc::ServerContext* context, const v1::TotalsRequest* request,
                                  v1::TotalsResponse* response) {
  return Answer(context, "Query.Totals", response, [&](const rpc::Peer& peer) {
    return RecordingDenied(audit_, peer, "Query.Totals", query_->Totals(peer, *request));
  });
}

grpc::Status QueryService::Insight(grpc::ServerContext* context, const v1::InsightRequest* request,
                                   v1::InsightResponse* response) {
  return Answer(context, "Query.Insight", response, [&](const rpc::Peer& peer) {
    return RecordingDenied(audit_, peer, "Query.Insight", query_->Insight(peer, *request));
  });
}

}  // namespace samenzicht::aggregator
