#include "aggregator/server/admin_service.h"

#include "rpc/tls.h"

namespace samenzicht::aggregator {
namespace {

// Peer, then `fn(peer)`, then the response or the status.
template <typename Response, typename Fn>
grpc::Status Answer(grpc::ServerContext* context, Response* response, Fn fn) {
  absl::StatusOr<rpc::Peer> peer = rpc::PeerOf(*context);
  if (!peer.ok()) return rpc::ToGrpcStatus(peer.status());
  absl::StatusOr<Response> r = fn(*peer);
  if (!r.ok()) return rpc::ToGrpcStatus(r.status());
  *response = *std::move(r);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status AuditService::GetTrail(grpc::ServerContext* context,
                                    const v1::GetTrailRequest* request,
                                    v1::GetTrailResponse* response) {
  return Answer(context, response,
                [&](const rpc::Peer& p) { return audit_->GetTrail(p, *request); });
}

grpc::Status AuditService::GetCheckpoint(grpc::ServerContext* context,
                                         const v1::GetCheckpointRequest*,
                                         v1::GetCheckpointResponse* response) {
  return Answer(context, response, [&](const rpc::Peer& p) { return audit_->GetCheckpoint(p); });
}

grpc::Status AdminService::GetSettings(grpc::ServerContext* context, const v1::GetSettingsRequest*,
                                       v1::Settings* response) {
  return Answer(context, response, [&](const rpc::Peer& p) { return admin_->GetSettings(p); });
}

grpc::Status AdminService::SetRetention(grpc::ServerContext* context,
                                        const v1::SetRetentionRequest* request,
                                        v1::Settings* response) {
  return Answer(context, response, [&](const rpc::Peer& p) {
    return admin_->SetRetention(p, request->retention_months());
  });
}

grpc::Status AdminService::SetKeyEpoch(grpc::ServerContext* context,
                                       const v1::SetKeyEpochRequest* request,
                                       v1::Settings* response) {
  return Answer(context, response,
                [&](const rpc::Peer& p) { return admin_->SetKeyEpoch(p, request->key_epoch()); });
}

}  // namespace samenzicht::aggregator
