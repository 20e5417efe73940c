// The aggregator's store opened with its audit trail attached, as the server and every
// local command open it, and the audit entries written outside a stored change: a refused
// call, a local operator's command.
//
//   ASSIGN_OR_RETURN(AuditedStore opened, OpenAuditedStore(config));
//   RETURN_IF_ERROR(opened.store->AppendAudit(...));
//   BackupEvent e{OperatorRequest("backup", status), file};
//   RETURN_IF_ERROR(RecordOperatorEvent(config, kEventBackup, e.ToJson()));
//
// Thread-safety: the functions share no state; see store.h for the Store.
#ifndef SAMENZICHT_AGGREGATOR_ADMIN_AUDITED_STORE_H_
#define SAMENZICHT_AGGREGATOR_ADMIN_AUDITED_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "aggregator/store/store.h"
#include "audit/aggregator_events.h"
#include "crypto/signature.h"
#include "rpc/peer.h"
#include "samenzicht/v1/config.pb.h"
#include "samenzicht/v1/profile.pb.h"

namespace samenzicht::aggregator {

inline constexpr char kCheckpointDirName[] = "checkpoints";
inline constexpr char kDefaultAuditKeyName[] = "audit-signing.key";
inline constexpr uint32_t kDefaultCheckpointEvery = 100;
// Written into data_dir once aggregator.db has been opened there: the folder has had a
// database, so a missing one was lost, not never made.
inline constexpr char kDatabaseMarkerName[] = "aggregator.db.was-here";

// FailedPrecondition (saying how to restore) when `data_dir` has no aggregator.db but shows
// that it had one: the marker above or audit checkpoints. OK for a new data folder.
absl::Status CheckDatabaseNotLost(const std::string& data_dir);

// The audit signing key of `config`: `audit_key_file`, or, when empty, `audit-signing.key`
// in the folder of `store_key_file` (created on first use, with a warning in the log).
// FailedPrecondition when the key would be inside data_dir (set explicitly, or the store
// key is there too) or an old default key is still in data_dir. Errors of
// crypto::LoadKeyFile / GenerateKeyFile.
absl::StatusOr<std::unique_ptr<crypto::Signer>> LoadAuditSigner(const v1::AggregatorConfig& config);

// Audit options for `config` (checkpoint folder and interval) with `signer`.
AuditOptions AuditOptionsFor(const v1::AggregatorConfig& config, const crypto::Signer* signer);

// The store of `config` opened for writing with its audit trail attached: the linkage
// profile, the store key (wiped once the store has derived its subkeys), the audit signer.
// `signer` must outlive `store`; members are destroyed in reverse order, store first.
// The errors of model::LoadProfile, crypto::LoadKeyFile, CheckDatabaseNotLost, Store::Open
// and Store::AttachAudit.
struct AuditedStore {
  v1::LinkageProfile profile;
  std::unique_ptr<crypto::Signer> signer;
  std::unique_ptr<Store> store;
};
absl::StatusOr<AuditedStore> OpenAuditedStore(const v1::AggregatorConfig& config);

// Records that `peer` was refused `asked` ("Query.Totals", ...) for its role: event
// permission_denied, actor the certificate's name, details role, asked, outcome and
// reason. A failure to record is logged (the caller is refused either way).
void RecordPermissionDenied(Store* store, const rpc::Peer& peer, std::string_view asked,
                            const absl::Status& refusal);

// The local operator running a command: "local:<user name>" of the process's real uid.
std::string LocalOperator();

// Who asked in the entry of the local operator's command `asked` ("backup", "restore"):
// role local_operator, the outcome's code and, when it failed, its message.
Request OperatorRequest(std::string_view asked, const absl::Status& outcome);

// Appends one entry of the local operator's command (`event`, `details_json` written by its
// event struct, audit/aggregator_events.h, whose request is OperatorRequest) to the trail
// of `config`'s data folder, opened with the configuration's keys, as LocalOperator().
// Safe while the server runs (store.h). The errors of OpenAuditedStore and
// Store::AppendAudit.
absl::Status RecordOperatorEvent(const v1::AggregatorConfig& config, const std::string& event,
                                 const std::string& details_json);

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_ADMIN_AUDITED_STORE_H_
