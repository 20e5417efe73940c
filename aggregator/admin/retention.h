// Retention: how long the aggregator keeps a report, and the purge that deletes what has
// expired.
//
// A report is kept for `retention_months` months after its signal month, then deleted for
// real together with its tokens (Store::Purge), and the space is returned to the file
// system (Store::ReclaimSpace). With 24 months, a report of signal month 2024-03 is kept
// through 2026-03 and deleted from 2026-04 on. A report without a signal month expires by
// the month its batch was received. 0 months means no limit.
//
//   ASSIGN_OR_RETURN(PurgeResult r, RunPurge(store, 24, CurrentMonth(), "aggregator"));
//
// Thread-safety: the functions are thread-safe (the store serialises writes).
#ifndef SAMENZICHT_AGGREGATOR_ADMIN_RETENTION_H_
#define SAMENZICHT_AGGREGATOR_ADMIN_RETENTION_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "aggregator/admin/settings.h"
#include "aggregator/store/store.h"
#include "samenzicht/v1/config.pb.h"

namespace samenzicht::aggregator {

// The first month that is kept: reports of an earlier signal month have expired. 0 (keep
// everything) when `retention_months` is 0.
uint32_t CutoffMonth(uint32_t now_month, uint32_t retention_months);
// Unix time of the first second (UTC) of month YYYYMM.
int64_t MonthStartUnix(uint32_t yyyymm);
// The current month (UTC) as YYYYMM.
uint32_t CurrentMonth();

// Purges what expired by `now_month` (nothing, and no trail entry, when retention is 0),
// records it in the trail in the same transaction, then reclaims the space. Errors of
// Store::Purge and Store::ReclaimSpace (the purge is committed even if reclaiming fails).
absl::StatusOr<PurgeResult> RunPurge(Store* store, uint32_t retention_months, uint32_t now_month,
                                     const std::string& actor);

// `aggregator purge`: opens the store of `config` (no server needed; SQLite serialises
// with a running one), attaches the audit trail, and purges with the retention period in
// force (the administrator's setting, else the configuration's) as of `now_month`.
// FailedPrecondition when no retention period is set; the errors of Server::Start's
// loading steps and of RunPurge.
absl::StatusOr<PurgeResult> PurgeOffline(const v1::AggregatorConfig& config, uint32_t now_month);

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_ADMIN_RETENTION_H_
