#include "aggregator/server/intake_service.h"

#include "aggregator/server/service_status.h"
#include "rpc/tls.h"

namespace samenzicht::aggregator {

grpc::Status IntakeService::SubmitBatches(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::BatchAck, v1::SubmitRequest>* stream) {
  absl::StatusOr<rpc::Peer> peer = rpc::PeerOf(*context);
  if (!peer.ok()) return rpc::ToGrpcStatus(peer.status());
  if (absl::Status s = intake_->Authorize(*peer); !s.ok()) return rpc::ToGrpcStatus(s);
  v1::SubmitRequest request;
  while (stream->Read(&request)) {
    absl::StatusOr<v1::BatchAck> ack = intake_->Submit(*peer, request.batch());
    if (!ack.ok()) return ServiceStatus(ack.status(), "Intake.SubmitBatches");
    if (!stream->Write(*ack)) break;  // the node will resend; a replay is safe
    if (limiter_ != nullptr &&
        !limiter_->Pace(peer->common_name,
                        ack->accepted() + ack->duplicates() + ack->errors_size())) {
      break;  // shutting down: everything read so far is committed and acknowledged
    }
  }
  return grpc::Status::OK;
}

grpc::Status IntakeService::Retract(grpc::ServerContext* context,
                                    const v1::RetractRequest* request,
                                    v1::RetractResponse* response) {
  absl::StatusOr<rpc::Peer> peer = rpc::PeerOf(*context);
  if (!peer.ok()) return rpc::ToGrpcStatus(peer.status());
  absl::StatusOr<v1::RetractResponse> r = intake_->Retract(*peer, *request);
  if (!r.ok()) return ServiceStatus(r.status(), "Intake.Retract");
  *response = *std::move(r);
  return grpc::Status::OK;
}

}  // namespace samenzicht::aggregator
