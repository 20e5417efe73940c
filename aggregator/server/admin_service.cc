#include "aggregator/server/admin_service.h"

#include "aggregator/server/service_status.h"

namespace samenzicht::aggregator {

// The Audit and Admin services answer a layer's error as it is (AsIs).

grpc::Status AuditService::GetTrail(grpc::ServerContext* context,
                                    const v1::GetTrailRequest* request,
                                    v1::GetTrailResponse* response) {
  return Answer(
      context, "Audit.GetTrail", response,
      [&](const rpc::Peer& p) { return audit_->GetTrail(p, *request); }, AsIs);
}

grpc::Status AuditService::GetCheckpoint(grpc::ServerContext* context,
                                         const v1::GetCheckpointRequest*,
                                         v1::GetCheckpointResponse* response) {
  return Answer(
      context, "Audit.GetCheckpoint", response,
      [&](const rpc::Peer& p) { return audit_->GetCheckpoint(p); }, AsIs);
}

grpc::Status AdminService::GetSettings(grpc::ServerContext* context, const v1::GetSettingsRequest*,
                                       v1::Settings* response) {
  return Answer(
      context, "Admin.GetSettings", response,
      [&](const rpc::Peer& p) { return admin_->GetSettings(p); }, AsIs);
}

grpc::Status AdminService::SetRetention(grpc::ServerContext* context,
                                        const v1::SetRetentionRequest* request,
                                        v1::Settings* response) {
  return Answer(
      context, "Admin.SetRetention", response,
      [&](const rpc::Peer& p) { return admin_->SetRetention(p, request->retention_months()); },
      AsIs);
}

grpc::Status AdminService::SetKeyEpoch(grpc::ServerContext* context,
                                       const v1::SetKeyEpochRequest* request,
                                       v1::Settings* response) {
  return Answer(
      context, "Admin.SetKeyEpoch", response,
      [&](const rpc::Peer& p) { return admin_->SetKeyEpoch(p, request->key_epoch()); }, AsIs);
}

}  // namespace samenzicht::aggregator
