#include "agency_node/batch.h"

#include "absl/strings/str_cat.h"
#include "crypto/encoding.h"
#include "model/tokens.h"

namespace samenzicht::agency_node {

absl::StatusOr<std::vector<BuiltBatch>> BuildBatches(std::vector<v1::Report> reports,
                                                     const BatchHeader& header,
                                                     uint32_t max_reports,
                                                     const crypto::Signer& signer) {
  if (header.node_id.empty()) return absl::InvalidArgumentError("node_id is empty");
  if (header.profile_fingerprint.size() != 32) {
    return absl::InvalidArgumentError("profile fingerprint is not 32 bytes");
  }
  if (max_reports == 0) max_reports = kDefaultMaxBatchReports;
  std::vector<BuiltBatch> out;
  out.reserve((reports.size() + max_reports - 1) / max_reports);
  for (size_t start = 0; start < reports.size(); start += max_reports) {
    size_t end = std::min(reports.size(), start + max_reports);
    v1::BatchPayload payload;
    BuiltBatch b;
    b.batch_id = crypto::RandomId();
    b.created_unix = header.created_unix;
    payload.set_batch_id(b.batch_id);
    payload.set_node_id(header.node_id);
    payload.set_profile_fingerprint(header.profile_fingerprint);
    payload.set_key_epoch(header.key_epoch);
    payload.set_created_unix(header.created_unix);
    payload.set_nonce(crypto::RandomBytes(kBatchNonceBytes));
    payload.mutable_reports()->Reserve(static_cast<int>(end - start));
    b.log.reserve(end - start);
    for (size_t i = start; i < end; ++i) {
      b.log.push_back({reports[i].report_id(), CategoriesSummary(reports[i]),
                       model::TokenCount(reports[i])});
      *payload.add_reports() = std::move(reports[i]);
    }
    std::string bytes;
    if (!payload.SerializeToString(&bytes)) return absl::InternalError("cannot serialize a batch");
    b.digest = BatchDigest(bytes);
    b.signed_batch.set_signature(signer.Sign(kBatchSignatureContext, bytes));
    b.signed_batch.set_payload(std::move(bytes));
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace samenzicht::agency_node
