// Exact, unpublished totals for the operator of the aggregator host: `aggregator
// exact-totals`, the check that ingestion lost or double-counted nothing (end-to-end, fault
// and multi-host tests compare it with the ground truth).
//
//   ASSIGN_OR_RETURN(v1::TotalsResponse exact, ExactTotals(aggregator_config, request));
//
// Published figures are protected by the Cell Key Method (disclosure.h, query.h): perturbed,
// on a release grid, frozen at release. This path is not: it counts every stored report
// (released or not, frozen or not) and shows every count as it is. It is therefore not a
// query service: it is reachable only on the aggregator host, by an account that can read
// the aggregator's configuration, its data folder and its store key (the service account),
// never over the network and never with an analyst certificate. Its output must not be
// published. Period, dimensions and counting rules are those of ComputeTotals (totals.h);
// any period is allowed (no grid).
//
// It opens the store next to a running aggregator (WAL) with the audit trail attached
// (OpenAuditedStore: the configuration's store and audit keys) and writes one audit entry
// per call, answered or refused: event "query", actor the local operator ("local:<user>"),
// "via": "exact-totals", the request, "method": "none: exact, unpublished". The entry chains
// on the head the database holds when it is written, so the running server's chain is not
// forked. When the entry cannot be written nothing is returned (the store's error).
//
// Returns the errors of OpenAuditedStore, Store::LoadDataset, Store::AppendAudit and
// ComputeRawTotals (InvalidArgument for a bad request).
//
// Thread-safety: a free function; no shared state.
#ifndef SAMENZICHT_AGGREGATOR_EXACT_TOTALS_H_
#define SAMENZICHT_AGGREGATOR_EXACT_TOTALS_H_

#include "absl/status/statusor.h"
#include "samenzicht/v1/config.pb.h"
#include "samenzicht/v1/query.pb.h"

namespace samenzicht::aggregator {

// The first line of `counting_rules` in every exact response.
inline constexpr char kExactTotalsNotice[] =
    "EXACT, UNPUBLISHED COUNTS for the aggregator's operator: every stored report, no "
    "disclosure control. Do not publish; publish what `aggregator totals` shows.";

// The "via" of its audit entries.
inline constexpr char kExactTotalsVia[] = "exact-totals";

absl::StatusOr<v1::TotalsResponse> ExactTotals(const v1::AggregatorConfig& config,
                                               const v1::TotalsRequest& request);

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_EXACT_TOTALS_H_
