// Query logic: deduplicated totals for the municipality analyst. The gRPC service
// (query_service.h) is a thin adapter over this class.
//
//   ASSIGN_OR_RETURN(auto query, Query::New(config, profile, store.get()));
//   ASSIGN_OR_RETURN(v1::TotalsResponse r, query->Totals(peer, request));
//
// Only the analyst role may ask (PermissionDenied for agency, privacy officer and admin:
// an agency that could query could learn whether another agency reported a person by
// submitting a guess and watching a total change).
//
// The stored reports are loaded and linked once per store generation and cached; a query
// against an unchanged store only counts. Returns PermissionDenied, InvalidArgument (see
// ComputeTotals), or the store's errors.
//
// Thread-safety: thread-safe; queries run concurrently (a reload happens under a lock, the
// snapshot is shared read-only).
#ifndef SAMENZICHT_AGGREGATOR_QUERY_H_
#define SAMENZICHT_AGGREGATOR_QUERY_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "aggregator/linkage.h"
#include "aggregator/store.h"
#include "rpc/tls.h"
#include "samenzicht/v1/config.pb.h"
#include "samenzicht/v1/profile.pb.h"
#include "samenzicht/v1/query.pb.h"

namespace samenzicht::aggregator {

// The stored reports and their linkage at one store generation.
struct Snapshot {
  uint64_t generation = 0;
  Dataset dataset;
  LinkResult link;
};

class Query {
 public:
  // `store` is not owned and must outlive the Query.
  static absl::StatusOr<std::unique_ptr<Query>> New(const v1::AggregatorConfig& config,
                                                    const v1::LinkageProfile& profile,
                                                    Store* store);

  absl::StatusOr<v1::TotalsResponse> Totals(const rpc::Peer& peer,
                                            const v1::TotalsRequest& request);

  // The current snapshot (loaded and linked if the store changed since the last call).
  absl::StatusOr<std::shared_ptr<const Snapshot>> Current();

 private:
  Query(Store* store, std::map<std::string, int> domains, uint32_t threshold, uint32_t k)
      : store_(store), domains_(std::move(domains)), threshold_(threshold), k_(k) {}
  Store* const store_;
  const std::map<std::string, int> domains_;  // agency node id -> v1::Domain
  const uint32_t threshold_;                  // max reports per token
  const uint32_t k_;                          // min cell size
  std::mutex mu_;
  std::shared_ptr<const Snapshot> cached_;    // guarded by mu_
};

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_QUERY_H_
