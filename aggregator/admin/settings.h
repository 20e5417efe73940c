// The aggregator's settings: their names in the store's `settings` table, their limits,
// and which value is in force. The one definition that the administration service, the
// retention purge, key rotation, backup and the query layer read.
//
// Every name in the table is spelled once: the administrator's and the start's below; the
// store's own, kSettingAuditPublicKey (aggregator/store/store.h, written by the store,
// never changeable); the disclosure control's cell key secret (aggregator/query/query.cc,
// made and read only there).
//
//   ASSIGN_OR_RETURN(auto stored, store->LoadSettings());
//   const v1::Settings in_force = EffectiveSettings(config, stored);
//
// A stored value (written by an administrator through the administration service, each
// change with its audit entry) overrides the configuration file's.
//
// Thread-safety: free functions over their arguments; thread-safe.
#ifndef SAMENZICHT_AGGREGATOR_ADMIN_SETTINGS_H_
#define SAMENZICHT_AGGREGATOR_ADMIN_SETTINGS_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

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

// "config_file:<field>": the fingerprint (ConfigFiles) of the file the configuration names
// in <field> that the aggregator last started with; "" once the field was emptied.
inline constexpr char kSettingConfigFilePrefix[] = "config_file:";

// A file (or folder) the configuration names, with the fingerprint of what it holds.
struct ConfigFile {
  std::string field;  // "tls.key_file", "store_key_file", ...
  std::string path;
  std::string fingerprint;  // ConfigFileFingerprint; "missing" or "unreadable"
};

// The first 16 bytes, in hex, of the domain-separated BLAKE2b-256 of a file's bytes. For a
// key file it names the key without revealing it (the digest of a random 32-byte key or of
// a PEM private key cannot be inverted or guessed).
std::string ConfigFileFingerprint(std::string_view bytes);

// Every file the configuration names (tls.ca_cert_file, tls.cert_file, tls.key_file,
// tls.crl_directory, store_key_file, profile_file, audit_key_file), in that order, the
// fields left empty omitted. A folder's fingerprint covers the name and content of each
// regular file in it, by name. Reads the files; never fails (a file that cannot be read
// has the fingerprint "missing" or "unreadable").
std::vector<ConfigFile> ConfigFiles(const v1::AggregatorConfig& config);

// Hex BLAKE2b-256 of the configuration (deterministic serialisation), without the listen
// address (port 0 binds anew each start; not a change of policy), and of the fingerprint of
// every file it names (ConfigFiles): a key or certificate replaced at the same path
// changes the digest.
std::string ConfigDigest(const v1::AggregatorConfig& config);

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_ADMIN_SETTINGS_H_
