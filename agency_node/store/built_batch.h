// A signed batch as the node keeps it: what BuildBatches (agency_node/batch.h) makes, the
// Outbox stores and gives back, and the sent log records. Also the two functions both sides
// need to rebuild one from its stored bytes: the payload's digest and a report's categories.
//
// Thread-safety: plain data and pure functions.
#ifndef SAMENZICHT_AGENCY_NODE_STORE_BUILT_BATCH_H_
#define SAMENZICHT_AGENCY_NODE_STORE_BUILT_BATCH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "agency_node/store/state_store.h"
#include "samenzicht/v1/intake.pb.h"
#include "samenzicht/v1/report.pb.h"

namespace samenzicht::agency_node {

// Signature context of a batch payload, and the domain of its digest.
inline constexpr char kBatchSignatureContext[] = "samenzicht.batch.v1";

struct BuiltBatch {
  std::string batch_id;
  std::string digest;  // BatchDigest(payload), 32 raw bytes
  int64_t created_unix = 0;
  v1::SignedBatch signed_batch;
  std::vector<SentReport> log;  // what the sent log keeps per report
};

// The BLAKE2b-256 digest of serialized payload bytes that the sent log keeps and an
// acknowledgement's `batch_digest` is compared with: crypto::Digest with domain
// "samenzicht.batch.v1".
std::string BatchDigest(const std::string& payload);

// "form=sexual contact=direct living_situation=homeless;with_exploiter area=oost
// month=2024-03": the categories of a report, for the sent log. Never identifiers.
std::string CategoriesSummary(const v1::Report& report);

}  // namespace samenzicht::agency_node

#endif  // SAMENZICHT_AGENCY_NODE_STORE_BUILT_BATCH_H_
