#include "agency_node/intake_client.h"

#include <ctime>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "crypto/encoding.h"
#include "rpc/tls.h"

namespace samenzicht::agency_node {
namespace {

std::string CodeName(int code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

}  // namespace

absl::StatusOr<std::unique_ptr<IntakeClient>> IntakeClient::Connect(const v1::NodeConfig& config) {
  if (config.aggregator_address().empty()) {
    return absl::InvalidArgumentError("aggregator_address is not set in the node config");
  }
  ASSIGN_OR_RETURN(auto channel, rpc::Connect(config.aggregator_address(), config.tls(),
                                              config.aggregator_server_name()));
  return std::make_unique<IntakeClient>(std::move(channel), config.aggregator_address());
}

IntakeClient::IntakeClient(std::shared_ptr<grpc::Channel> channel, std::string address)
    : stub_(v1::Intake::NewStub(std::move(channel))), address_(std::move(address)) {}

absl::Status IntakeClient::CallError(const grpc::Status& s, const std::string& what) const {
  absl::Status a = rpc::FromGrpcStatus(s);
  return absl::Status(a.code(), absl::StrCat(what, " to the aggregator at ", address_, ": ",
                                             absl::StatusCodeToString(a.code()),
                                             s.error_message().empty() ? "" : ": ",
                                             s.error_message()));
}

absl::StatusOr<SubmitSummary> IntakeClient::Submit(const std::vector<BuiltBatch>& batches,
                                                   StateStore& store) {
  SubmitSummary sum;
  if (batches.empty()) return sum;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout_ +
                   std::chrono::seconds(2) * static_cast<int>(batches.size()));
  auto stream = stub_->SubmitBatches(&ctx);
  auto broken = [&](const std::string& what) -> absl::Status {
    stream->WritesDone();
    grpc::Status s = stream->Finish();
    if (s.ok()) {
      return absl::DataLossError(absl::StrCat("the aggregator at ", address_, " closed the stream ",
                                              what));
    }
    return CallError(s, absl::StrCat("submitting (", what, ")"));
  };
  for (const BuiltBatch& b : batches) {
    SentBatch log;
    log.batch_id = b.batch_id;
    log.digest_hex = crypto::ToHex(b.digest);
    log.report_count = static_cast<int>(b.log.size());
    log.created_unix = b.created_unix;
    log.sent_unix = time(nullptr);
    RETURN_IF_ERROR(store.RecordSent(log, b.log));
    v1::SubmitRequest req;
    *req.mutable_batch() = b.signed_batch;
    if (!stream->Write(req)) return broken(absl::StrCat("while sending batch ", b.batch_id));
    ++sum.batches_sent;
    sum.reports_sent += log.report_count;
    v1::BatchAck ack;
    if (!stream->Read(&ack)) {
      return broken(absl::StrCat("before acknowledging batch ", b.batch_id));
    }
    if (ack.batch_id() != b.batch_id) {
      stream->WritesDone();
      ctx.TryCancel();
      return absl::DataLossError(absl::StrCat("the aggregator at ", address_,
                                              " acknowledged batch ", ack.batch_id(),
                                              " while batch ", b.batch_id, " was expected"));
    }
    RETURN_IF_ERROR(store.RecordAck(ack, time(nullptr)));
    auto problem = [&](std::string line) {
      if (on_problem_) on_problem_(line);
      sum.problems.push_back(std::move(line));
    };
    if (!ack.batch_digest().empty() && !crypto::ConstantTimeEquals(ack.batch_digest(), b.digest)) {
      problem(absl::StrCat("batch ", b.batch_id, ": the acknowledged digest differs from the sent one"));
    }
    sum.accepted += static_cast<int>(ack.accepted());
    sum.duplicates += static_cast<int>(ack.duplicates());
    sum.corrected += static_cast<int>(AckCorrected(ack));
    sum.rekeyed += static_cast<int>(ack.rekeyed());
    const bool delivered = AckDelivered(ack.code());
    // The listed reports; a refused batch without a list refused all of them.
    sum.reports_refused +=
        ack.errors_size() > 0 || delivered ? ack.errors_size() : static_cast<int>(b.log.size());
    if (delivered) {
      ++sum.batches_delivered;
      if (ack.partially_accepted()) ++sum.batches_partial;
    } else {
      ++sum.batches_refused;
      problem(absl::StrCat("batch ", b.batch_id, " refused: ", CodeName(ack.code()),
                           ack.message().empty() ? "" : ": ", ack.message()));
    }
    for (const auto& e : ack.errors()) {
      // A malformed id is not echoed by the aggregator: the batch position names it.
      const std::string report_id =
          !e.report_id().empty() || e.index() >= b.log.size() ? e.report_id()
                                                              : b.log[e.index()].report_id;
      auto record = store.FindRecordId(report_id);
      problem(absl::StrCat("report ", report_id, " (record ", record.ok() ? *record : "?",
                           ") refused: ", CodeName(e.code()), ": ", e.message(),
                           e.field().empty() ? "" : " (field ", e.field(),
                           e.field().empty() ? "" : ")"));
    }
    if (on_ack_) {
      if (absl::Status s = on_ack_(ack); !s.ok()) {
        stream->WritesDone();
        ctx.TryCancel();
        return s;
      }
    }
  }
  stream->WritesDone();
  grpc::Status s = stream->Finish();
  if (!s.ok()) return CallError(s, "closing the submission stream");
  return sum;
}

absl::StatusOr<v1::RetractResponse> IntakeClient::Retract(
    const std::vector<std::string>& report_ids) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout_);
  v1::RetractRequest req;
  for (const auto& id : report_ids) req.add_report_ids(id);
  v1::RetractResponse resp;
  grpc::Status s = stub_->Retract(&ctx, req, &resp);
  if (!s.ok()) return CallError(s, "retracting");
  return resp;
}

}  // namespace samenzicht::agency_node
