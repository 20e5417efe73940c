// Key epochs and rotation of the agencies' shared hashing key: the
// administrator's view and the retirement of an old epoch. See docs/operations.md
// "Key rotation" for the procedure and docs/privacy-officer.md for the rationale.
//
//   ASSIGN_OR_RETURN(KeyStatus s, ReadKeyStatus(config));        // offline or while running
//   std::cout << FormatKeyStatus(s);
//   ASSIGN_OR_RETURN(RetireResult r, RetireOldEpochsOffline(config, CurrentMonth()));
//
// The design in short. Tokens of different epochs never match (the epoch is part of the
// node's key derivation). Every stored report carries the epoch of its tokens
// (reports.key_epoch, schema 3). During a rotation the aggregator accepts `key_epoch` (new)
// and `previous_key_epoch` until `key_switchover_month`; each node re-sends its whole
// history under the new epoch with the same report ids and the aggregator replaces those
// reports' tokens (Store::CommitBatch), so signals never change. After the switch-over,
// `RetireOldEpochsOffline` deletes the tokens of reports still below the current epoch:
// they stay counted as signals and as (unlinkable) persons, and no token made with the
// retired key remains.
//
// Errors: NotFound (no database), FailedPrecondition (retiring before the switch-over month,
// or with no epoch to retire), the store's errors.
//
// Thread-safety: `ReadKeyStatus` uses its own read-only connection and may run while the
// server writes; `RetireOldEpochsOffline` must run with the aggregator stopped (it writes
// the audit trail, like `aggregator purge`).
#ifndef SAMENZICHT_AGGREGATOR_ADMIN_ROTATION_H_
#define SAMENZICHT_AGGREGATOR_ADMIN_ROTATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "samenzicht/v1/config.pb.h"

namespace samenzicht::aggregator {

struct EpochCount {
  std::string agency;
  uint32_t epoch = 0;  // 0: stored before schema 3 and never recorded
  int64_t reports = 0;
  int64_t linkable = 0;  // reports that still have tokens
};

struct KeyStatus {
  uint32_t key_epoch = 0;           // in force (administrator's setting, else configuration)
  uint32_t previous_key_epoch = 0;  // accepted until the switch-over; 0 = none
  uint32_t switchover_month = 0;    // YYYYMM; 0 = none
  std::vector<EpochCount> counts;   // by agency, then epoch
  int64_t old_epoch_reports = 0;    // reports below key_epoch
  int64_t old_epoch_linkable = 0;   // of those, with tokens (to be re-sent or retired)
};

absl::StatusOr<KeyStatus> ReadKeyStatus(const v1::AggregatorConfig& config);
std::string FormatKeyStatus(const KeyStatus& status);

struct RetireResult {
  uint32_t before_epoch = 0;
  int64_t reports = 0;  // reports whose tokens were deleted
  int64_t tokens = 0;
};

// Deletes the tokens of every report below the epoch in force, recording it in the audit
// trail. FailedPrecondition when `now_month` is before the configured switch-over month
// (nodes may still be re-sending).
absl::StatusOr<RetireResult> RetireOldEpochsOffline(const v1::AggregatorConfig& config,
                                                    uint32_t now_month);

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_ADMIN_ROTATION_H_
