// gRPC adapters of the Audit (privacy officer) and Admin (administrator) services: identity
// from the client certificate, everything else in admin.h. PermissionDenied for every other
// role; status codes converted in one place (rpc::ToGrpcStatus).
//
// Thread-safety: thread-safe; the logic objects are not owned.
#ifndef SAMENZICHT_AGGREGATOR_SERVER_ADMIN_SERVICE_H_
#define SAMENZICHT_AGGREGATOR_SERVER_ADMIN_SERVICE_H_

#include "aggregator/admin/admin.h"
#include "samenzicht/v1/admin.grpc.pb.h"

namespace samenzicht::aggregator {

class AuditService final : public v1::Audit::Service {
 public:
  explicit AuditService(const AuditAccess* audit) : audit_(audit) {}
  grpc::Status GetTrail(grpc::ServerContext* context, const v1::GetTrailRequest* request,
                        v1::GetTrailResponse* response) override;
  grpc::Status GetCheckpoint(grpc::ServerContext* context, const v1::GetCheckpointRequest* request,
                             v1::GetCheckpointResponse* response) override;

 private:
  const AuditAccess* const audit_;
};

class AdminService final : public v1::Admin::Service {
 public:
  explicit AdminService(Administration* admin) : admin_(admin) {}
  grpc::Status GetSettings(grpc::ServerContext* context, const v1::GetSettingsRequest* request,
                           v1::Settings* response) override;
  grpc::Status SetRetention(grpc::ServerContext* context, const v1::SetRetentionRequest* request,
                            v1::Settings* response) override;
  grpc::Status SetKeyEpoch(grpc::ServerContext* context, const v1::SetKeyEpochRequest* request,
                           v1::Settings* response) override;

 private:
  Administration* const admin_;
};

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_SERVER_ADMIN_SERVICE_H_
