// gRPC adapter of the intake service: identity from the client certificate, everything else
// in `Intake` (intake.h). Status codes are converted in one place (rpc::ToGrpcStatus).
//
// SubmitBatches: PermissionDenied / Unauthenticated end the stream before any batch is
// read when the caller is not a configured agency; otherwise one BatchAck per batch, in
// order, each written after the batch is durably committed. A store failure ends the
// stream with its status (the unacknowledged batch is not stored; the node resends it).
//
// Thread-safety: thread-safe; `intake` is not owned.
#ifndef SAMENZICHT_AGGREGATOR_SERVER_INTAKE_SERVICE_H_
#define SAMENZICHT_AGGREGATOR_SERVER_INTAKE_SERVICE_H_

#include "aggregator/intake/intake.h"
#include "aggregator/server/rate_limit.h"
#include "samenzicht/v1/intake.grpc.pb.h"

namespace samenzicht::aggregator {

class IntakeService final : public v1::Intake::Service {
 public:
  explicit IntakeService(Intake* intake) : intake_(intake) {}
  // Reports per second per agency (rate_limit.h): after each acknowledged batch the
  // stream waits before reading that agency's next one. Not owned; may be null.
  void set_rate_limiter(RateLimiter* limiter) { limiter_ = limiter; }

  grpc::Status SubmitBatches(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::BatchAck, v1::SubmitRequest>* stream) override;
  grpc::Status Retract(grpc::ServerContext* context, const v1::RetractRequest* request,
                       v1::RetractResponse* response) override;

 private:
  Intake* const intake_;
  RateLimiter* limiter_ = nullptr;
};

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_SERVER_INTAKE_SERVICE_H_
