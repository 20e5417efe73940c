// Building and signing batches of reports.
//
// A batch is a `v1::BatchPayload` (random batch id, node id, profile fingerprint, key
// epoch, creation time, reports), serialized once; the signature (Ed25519, context
// "samenzicht.batch.v1") covers exactly those bytes, which travel in `SignedBatch.payload`.
// The built batch (`BuiltBatch`, its digest and log lines) is the outbox's record, declared
// with it in agency_node/store/built_batch.h.
//
// Thread-safety: free functions; `Signer` is immutable.
#ifndef SAMENZICHT_AGENCY_NODE_BATCH_H_
#define SAMENZICHT_AGENCY_NODE_BATCH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agency_node/store/built_batch.h"
#include "crypto/signature.h"
#include "samenzicht/v1/intake.pb.h"
#include "samenzicht/v1/report.pb.h"

namespace samenzicht::agency_node {

// Random bytes in every payload (BatchPayload.nonce).
inline constexpr size_t kBatchNonceBytes = 16;
// Reports per batch when the node configuration does not say (max_batch_reports = 0).
// About 1.1 MB per batch with the default profile's 13 tokens per report. Larger batches
// mean fewer transactions on the aggregator: 2000 per batch ingests about twice as fast as
// 500 (bench/perf/ingest_bench, docs/performance.md).
inline constexpr uint32_t kDefaultMaxBatchReports = 2000;

struct BatchHeader {
  std::string node_id;
  std::string profile_fingerprint;  // 32 bytes, model::ProfileFingerprint
  uint32_t key_epoch = 0;
  int64_t created_unix = 0;
};

// Splits `reports` into batches of at most `max_reports` (0 = 500), each with a fresh
// batch id, and signs them. InvalidArgument if the header's fingerprint is not 32 bytes or
// the node id is empty. Moves the reports out of `reports`.
absl::StatusOr<std::vector<BuiltBatch>> BuildBatches(std::vector<v1::Report> reports,
                                                     const BatchHeader& header,
                                                     uint32_t max_reports,
                                                     const crypto::Signer& signer);

}  // namespace samenzicht::agency_node

#endif  // SAMENZICHT_AGENCY_NODE_BATCH_H_
