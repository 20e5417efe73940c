// Run-time administration of the aggregator (administrator role) and read access to the
// audit trail (privacy officer role). The gRPC services (server/admin_service.h) are thin
// adapters.
//
//   ASSIGN_OR_RETURN(auto admin, Administration::Start(config, store, [&](uint32_t epoch) {
//     intake->set_key_epoch(epoch); }));  // records
//       // a configuration change (config digest differs from the last start), a key epoch
//       // change, and `start`
//   ASSIGN_OR_RETURN(v1::Settings s, admin->SetRetention(peer, 24));
//   AuditAccess audit(store);
//   ASSIGN_OR_RETURN(v1::GetTrailResponse t, audit.GetTrail(peer, request));
//
// Settings (key epoch, retention months; settings.h) live in the store's
// `settings` table and override the configuration file; each change is written in the same
// transaction as its audit entry. Role checks: PermissionDenied for any caller that is not `admin`
// (Administration) or not `privacy_officer` (AuditAccess). InvalidArgument for an out-of-range
// value; otherwise the store's errors.
//
// Thread-safety: thread-safe.
#ifndef SAMENZICHT_AGGREGATOR_ADMIN_ADMIN_H_
#define SAMENZICHT_AGGREGATOR_ADMIN_ADMIN_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "aggregator/admin/settings.h"
#include "aggregator/store/store.h"
#include "rpc/peer.h"
#include "samenzicht/v1/admin.pb.h"
#include "samenzicht/v1/config.pb.h"

namespace samenzicht::aggregator {

class Administration {
 public:
  // Called with the key epoch in force at start and after every change (SetKeyEpoch), so
  // that the intake accepts batches of that epoch; may be empty.
  using KeyEpochListener = std::function<void(uint32_t epoch)>;

  // `store` is not owned and must outlive this object.
  static absl::StatusOr<std::unique_ptr<Administration>> Start(const v1::AggregatorConfig& config,
                                                               Store* store,
                                                               KeyEpochListener on_key_epoch);

  absl::StatusOr<v1::Settings> GetSettings(const rpc::Peer& peer) const;
  absl::StatusOr<v1::Settings> SetRetention(const rpc::Peer& peer, uint32_t months);
  absl::StatusOr<v1::Settings> SetKeyEpoch(const rpc::Peer& peer, uint32_t epoch);

  uint32_t retention_months() const { return retention_months_.load(); }
  uint32_t key_epoch() const { return key_epoch_.load(); }

  // Records `stop` and writes a checkpoint.
  absl::Status RecordStop();

 private:
  Administration(Store* store, KeyEpochListener on_key_epoch)
      : store_(store), on_key_epoch_(std::move(on_key_epoch)) {}
  // A refusal is recorded in the audit trail (permission_denied, naming `asked`).
  absl::Status Authorize(const rpc::Peer& peer, std::string_view asked) const;
  v1::Settings Current() const;
  Store* const store_;
  const KeyEpochListener on_key_epoch_;
  std::atomic<uint32_t> key_epoch_{0};
  std::atomic<uint32_t> retention_months_{0};
};

class AuditAccess {
 public:
  explicit AuditAccess(Store* store) : store_(store) {}
  absl::StatusOr<v1::GetTrailResponse> GetTrail(const rpc::Peer& peer,
                                                const v1::GetTrailRequest& request) const;
  absl::StatusOr<v1::GetCheckpointResponse> GetCheckpoint(const rpc::Peer& peer) const;

 private:
  absl::Status Authorize(const rpc::Peer& peer, std::string_view asked) const;
  Store* const store_;
};

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_ADMIN_ADMIN_H_
