#include "aggregator/server/intake_service.h"

#include "aggregator/server/service_status.h"
#include "rpc/tls.h"

namespace samenzicht::aggregator {

grpc::Status IntakeService::SubmitBatches(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::BatchAck, v1::SubmitRequest>* stream) {
  return WithPeer(context, [&](const rpc::Peer& peer) {
    if (absl::Status s = intake_->Authorize(peer); !s.ok()) return rpc::ToGrpcStatus(s);
    v1::SubmitRequest request;
    while (stream->Read(&request)) {
      absl::StatusOr<v1::BatchAck> ack = intake_->Submit(peer, request.batch());
      if (!ack.ok()) return ServiceStatus(ack.status(), "Intake.SubmitBatches");
      if (!stream->Write(*ack)) break;  // the node will resend; a replay is safe
      if (limiter_ != nullptr &&
          !limiter_->Pace(peer.common_name,
                          ack->accepted() + ack->duplicates() + ack->errors_size())) {
        break;  // shutting down: everything read so far is committed and acknowledged
      }
    }
    return grpc::Status::OK;
  });
}

grpc::Status IntakeService::Retract(grpc::ServerContext* context, const v1::RetractRequest* request,
                                    v1::RetractResponse* response) {
  return Answer(context, "Intake.Retract", response,
                [&](const rpc::Peer& peer) { return intake_->Retract(peer, *request); });
}

}  // namespace samenzicht::aggregator
