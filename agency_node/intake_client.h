// The node's side of the Intake service: mutual TLS (rpc::Connect), one SubmitBatches
// stream per submission, and Retract.
//
// Submit writes the batches in order and reads one BatchAck per batch (in order) before
// writing the next. Each batch is logged in the StateStore before it is written and its
// acknowledgement is recorded when it arrives, so after a crash the sent log says exactly
// what was acknowledged. OK and ALREADY_EXISTS mean delivered; any other code is counted
// as a refused batch. Refused reports are those an ack lists in `errors` (an OK ack with
// `partially_accepted` lists them and stored the rest: the batch counts as delivered), or
// every report of a refused batch without a list; each listed one is described by report
// id and the agency's record id.
//
// Thread-safety: not thread-safe (one submission at a time).
#ifndef SAMENZICHT_AGENCY_NODE_INTAKE_CLIENT_H_
#define SAMENZICHT_AGENCY_NODE_INTAKE_CLIENT_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "agency_node/batch.h"
#include "agency_node/store/state_store.h"
#include "samenzicht/v1/config.pb.h"
#include "samenzicht/v1/intake.grpc.pb.h"

namespace samenzicht::agency_node {

struct SubmitSummary {
  int batches_sent = 0;
  int batches_delivered = 0;  // acknowledged OK or ALREADY_EXISTS
  int batches_partial = 0;    // of those, OK with some reports refused (partially_accepted)
  int batches_refused = 0;    // acknowledged with any other code: nothing stored
  int reports_sent = 0;
  int accepted = 0;           // newly stored by the aggregator
  int duplicates = 0;         // already stored before: not counted twice
  int corrected = 0;          // of the stored: sent with other content, now a new version
  int rekeyed = 0;            // stored before under an older key epoch, now this epoch's tokens
  int reports_refused = 0;    // listed in an ack's errors, or in a refused batch
  int batches_held = 0;       // of the refused, held in the outbox (Delivery::DrainOnce)
  std::vector<std::string> problems;  // one line each; never identifiers
};

class IntakeClient {
 public:
  // Connects to `config.aggregator_address` with the node's certificate. NotFound /
  // FailedPrecondition from the TLS files.
  static absl::StatusOr<std::unique_ptr<IntakeClient>> Connect(const v1::NodeConfig& config);
  // Over an existing channel (tests); `address` is only used in messages.
  IntakeClient(std::shared_ptr<grpc::Channel> channel, std::string address);

  // Sends `batches`. Returns the summary when every batch got an acknowledgement (even a
  // refusal); otherwise the gRPC status of the stream (Unavailable when the aggregator is
  // unreachable, ...) with a message naming the address; batches acknowledged before the
  // failure stay recorded in `store`.
  absl::StatusOr<SubmitSummary> Submit(const std::vector<BuiltBatch>& batches,
                                       StateStore& store);

  // Retracts the caller's own reports; the gRPC status on failure, naming the address.
  absl::StatusOr<v1::RetractResponse> Retract(const std::vector<std::string>& report_ids);

  void set_timeout(std::chrono::seconds t) { timeout_ = t; }
  // Called in Submit right after an acknowledgement (any code) is recorded in the store,
  // before the next batch is written; a non-OK result ends Submit with it. The outbox
  // uses it to drop each batch as soon as it is acknowledged.
  void set_on_ack(std::function<absl::Status(const v1::BatchAck&)> f) { on_ack_ = std::move(f); }
  // Called with each line of SubmitSummary::problems as soon as its acknowledgement is
  // recorded (before on_ack), so a refusal is named even when a later batch of the same
  // attempt fails and Submit returns an error without a summary.
  void set_on_problem(std::function<void(const std::string&)> f) { on_problem_ = std::move(f); }

 private:
  absl::Status CallError(const grpc::Status& s, const std::string& what) const;
  std::unique_ptr<v1::Intake::Stub> stub_;
  std::string address_;
  std::chrono::seconds timeout_{120};
  std::function<absl::Status(const v1::BatchAck&)> on_ack_;
  std::function<void(const std::string&)> on_problem_;
};

}  // namespace samenzicht::agency_node

#endif  // SAMENZICHT_AGENCY_NODE_INTAKE_CLIENT_H_
