#include "aggregator/server/query_service.h"

#include "aggregator/admin/audited_store.h"
#include "aggregator/server/service_status.h"
#include "rpc/tls.h"

namespace samenzicht::aggregator {

grpc::Status QueryService::Totals(grpc::ServerContext* context, const v1::TotalsRequest* request,
                                  v1::TotalsResponse* response) {
  absl::StatusOr<rpc::Peer> peer = rpc::PeerOf(*context);
  if (!peer.ok()) return rpc::ToGrpcStatus(peer.status());
  absl::StatusOr<v1::TotalsResponse> r = query_->Totals(*peer, *request);
  if (r.status().code() == absl::StatusCode::kPermissionDenied) {
    RecordPermissionDenied(audit_, *peer, "Query.Totals", r.status());
  }
  // The query layer has written the audit entry of the answer or refusal itself.
  if (!r.ok()) return ServiceStatus(r.status(), "Query.Totals");
  *response = *std::move(r);
  return grpc::Status::OK;
}

grpc::Status QueryService::Insight(grpc::ServerContext* context,
                                   const v1::InsightRequest* request,
                                   v1::InsightResponse* response) {
  absl::StatusOr<rpc::Peer> peer = rpc::PeerOf(*context);
  if (!peer.ok()) return rpc::ToGrpcStatus(peer.status());
  absl::StatusOr<v1::InsightResponse> r = query_->Insight(*peer, *request);
  if (r.status().code() == absl::StatusCode::kPermissionDenied) {
    RecordPermissionDenied(audit_, *peer, "Query.Insight", r.status());
  }
  if (!r.ok()) return ServiceStatus(r.status(), "Query.Insight");
  *response = *std::move(r);
  return grpc::Status::OK;
}

}  // namespace samenzicht::aggregator
