#include "aggregator/query_service.h"

#include "aggregator/audit_store.h"
#include "aggregator/service_status.h"
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
  if (!r.ok()) return ServiceStatus(r.status(), "Query.Totals");
  // Under the Cell Key Method the query layer has audited the answer itself.
  if (audit_ != nullptr && query_->method() == DisclosureMethod::kSuppression) {
    if (absl::Status s = RecordQuery(audit_, *peer, *request, *r); !s.ok()) {
      return ServiceStatus(s, "Query.Totals");
    }
  }
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
