// An in-process Intake server for the agency node's tests: mutual TLS on 127.0.0.1,
// verifies each batch's signature with the node's public key, remembers every payload and
// acknowledges like the real aggregator (new vs duplicate report ids).
#ifndef SAMENZICHT_TESTS_AGENCY_NODE_FAKE_INTAKE_H_
#define SAMENZICHT_TESTS_AGENCY_NODE_FAKE_INTAKE_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "agency_node/batch.h"
#include "crypto/signature.h"
#include "rpc/tls.h"
#include "samenzicht/v1/intake.grpc.pb.h"

namespace samenzicht::agency_node::testing {

class FakeIntake final : public v1::Intake::Service {
 public:
  explicit FakeIntake(crypto::Verifier verifier) : verifier_(std::move(verifier)) {}

  grpc::Status SubmitBatches(grpc::ServerContext* ctx,
                             grpc::ServerReaderWriter<v1::BatchAck, v1::SubmitRequest>* stream)
      override {
    auto peer = rpc::PeerOf(*ctx);
    v1::SubmitRequest req;
    while (stream->Read(&req)) {
      v1::BatchAck ack;
      v1::BatchPayload payload;
      std::lock_guard<std::mutex> lock(mu_);
      ack.set_batch_digest(BatchDigest(req.batch().payload()));
      if (!payload.ParseFromString(req.batch().payload())) {
        ack.set_code(grpc::StatusCode::INVALID_ARGUMENT);
      } else {
        ack.set_batch_id(payload.batch_id());
        signatures_ok.push_back(verifier_
                                    .Verify(kBatchSignatureContext, req.batch().payload(),
                                            req.batch().signature())
                                    .ok());
        peers.push_back(peer.ok() ? peer->common_name : "");
        payloads.push_back(payload);
        if (fail_stream_at_batch > 0 && payloads.size() == static_cast<size_t>(fail_stream_at_batch)) {
          // As an aggregator killed while the batch was in flight: no ack, the stream ends.
          return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the aggregator is restarting");
        }
        if (max_reports > 0 && payload.reports_size() > max_reports) {  // as the aggregator
          ack.set_code(grpc::StatusCode::RESOURCE_EXHAUSTED);
          ack.set_max_batch_reports(static_cast<uint32_t>(max_reports));
          ack.set_message("batch holds " + std::to_string(payload.reports_size()) +
                          " reports; the maximum is " + std::to_string(max_reports) + ": split it");
          if (!stream->Write(ack)) break;
          continue;
        }
        if (refuse_batch || refuse_code != 0) {  // nothing stored, no per-report list
          ack.set_code(refuse_code != 0 ? static_cast<grpc::StatusCode>(refuse_code)
                                        : grpc::StatusCode::FAILED_PRECONDITION);
          ack.set_message("the batch was made with another linkage profile");
          if (!stream->Write(ack)) break;
          continue;
        }
        if (partially_accept_first_batch && payloads.size() == 1) {
          // As the aggregator answers a batch with one bad report: OK, the rest stored.
          ack.set_code(grpc::StatusCode::OK);
          ack.set_partially_accepted(true);
          ack.set_message("1 report(s) refused; the others are stored");
          auto* e = ack.add_errors();
          e->set_report_id(payload.reports(0).report_id());
          e->set_index(0);
          e->set_code(grpc::StatusCode::INVALID_ARGUMENT);
          e->set_field("area");
          e->set_message("area is not a district configured on the aggregator");
        } else if (refuse_first_report) {
          ack.set_code(grpc::StatusCode::INVALID_ARGUMENT);
          ack.set_message("some reports were refused");
          auto* e = ack.add_errors();
          e->set_report_id(payload.reports(0).report_id());
          e->set_index(0);
          e->set_code(grpc::StatusCode::INVALID_ARGUMENT);
          e->set_message("token 0: value is not 32 bytes");
        } else {
          ack.set_code(grpc::StatusCode::OK);
        }
        const bool first_refused =
            refuse_first_report || (partially_accept_first_batch && payloads.size() == 1);
        for (int i = first_refused ? 1 : 0; i < payload.reports_size(); ++i) {
          if (stored_.insert(payload.reports(i).report_id()).second) {
            ack.set_accepted(ack.accepted() + 1);
          } else {
            ack.set_duplicates(ack.duplicates() + 1);
          }
        }
      }
      if (!stream->Write(ack)) break;
    }
    return grpc::Status::OK;
  }

  grpc::Status Retract(grpc::ServerContext*, const v1::RetractRequest* req,
                       v1::RetractResponse* resp) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& id : req->report_ids()) {
      retract_requests.push_back(id);
      if (stored_.erase(id)) resp->set_retracted(resp->retracted() + 1);
      else resp->add_not_found(id);
    }
    return grpc::Status::OK;
  }

  // Test-visible state (read after the calls return).
  std::vector<v1::BatchPayload> payloads;
  std::vector<bool> signatures_ok;
  std::vector<std::string> peers;
  bool refuse_first_report = false;
  // The first batch: OK with `partially_accepted`, its first report refused (field "area").
  bool partially_accept_first_batch = false;
  // Every batch: FAILED_PRECONDITION, nothing stored, no per-report errors.
  bool refuse_batch = false;
  // A batch of more reports than this (when not 0): RESOURCE_EXHAUSTED, nothing stored.
  int max_reports = 0;
  // Every batch: refused with this grpc::StatusCode (when not 0), nothing stored.
  int refuse_code = 0;
  // The stream ends with UNAVAILABLE, without an ack, when this batch (1-based) arrives.
  int fail_stream_at_batch = 0;
  // Every report id asked to be retracted, in order.
  std::vector<std::string> retract_requests;
  bool Stored(const std::string& report_id) {
    std::lock_guard<std::mutex> lock(mu_);
    return stored_.count(report_id) > 0;
  }

 private:
  std::mutex mu_;
  crypto::Verifier verifier_;
  std::set<std::string> stored_;
};

// Starts `service` on 127.0.0.1 with the "aggregator" certificate of `pki_dir`.
inline std::unique_ptr<grpc::Server> StartServer(grpc::Service* service, const v1::TlsFiles& tls,
                                                 int* port) {
  auto creds = rpc::ServerCredentials(tls);
  if (!creds.ok()) return nullptr;
  grpc::ServerBuilder b;
  b.AddListeningPort("127.0.0.1:0", *creds, port);
  b.RegisterService(service);
  return b.BuildAndStart();
}

}  // namespace samenzicht::agency_node::testing

#endif  // SAMENZICHT_TESTS_AGENCY_NODE_FAKE_INTAKE_H_
