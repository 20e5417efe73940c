// The aggregator's settings: their names in the store's `settings` table, their limits,
// and which value is in force. The one definition that the administration service, the
// retention purge, key rotation, backup and the query layer read.
//
//   ASSIGN_OR_RETURN(auto stored, store->LoadSettings());
//   const v1::Settings in_force = EffectiveSettings(config, stored);
//
// A stored value (written by an administrator through the administration service, each
// change with its audit entry) overrides the configuration file's.
//
// Thread-safety: free functions over their arguments; thread-safe.
#ifndef SAMENZICHT_AGGREGATOR_SETTINGS_H_
#define SAMENZICHT_AGGREGATOR_SETTINGS_H_

#include <cstdint>
#include <map>
#include <string>

#include "samenzicht/v1/admin.pb.h"
#include "samenzicht/v1/config.pb.h"

namespace samenzicht::aggregator {

inline constexpr char kSettingKeyEpoch[] = "key_epoch";
inline constexpr char kSettingRetention[] = "retention_months";
inline constexpr char kSettingConfigDigest[] = "config_digest";
inline constexpr char kSettingLastKeyEpoch[] = "last_key_epoch";
// Written by `aggregator restore` into the restored database; the next start records the
// restore in the trail (event restore) and clears them.
inline constexpr char kSettingPendingRestore[] = "pending_restore";
inline constexpr char kSettingPendingRestoreOperator[] = "pending_restore_operator";
// "agency_key:<node id>": the fingerprint (crypto::PublicKeyFingerprint) of the agency's
// signing key the aggregator last started with; "" once the agency was removed.
inline constexpr char kSettingAgencyKeyPrefix[] = "agency_key:";

// The longest retention period an administrator may set (100 years).
inline constexpr uint32_t kMaxRetentionMonths = 1200;

// The number stored under `name`, else `fallback` (absent or not a number).
uint32_t StoredNumber(const std::map<std::string, std::string>& stored, const char* name,
                      uint32_t fallback);

// The settings in force: the administrator's stored overrides, else the configuration.
v1::Settings EffectiveSettings(const v1::AggregatorConfig& config,
                               const std::map<std::string, std::string>& stored);

// Hex BLAKE2b-256 of the configuration (deterministic serialisation), without the listen
// address (port 0 binds anew each start; not a change of policy).
std::string ConfigDigest(const v1::AggregatorConfig& config);

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_SETTINGS_H_
