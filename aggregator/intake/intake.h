// Intake logic: validates a signed batch from an agency node and stores what is valid.
// The gRPC service (server/intake_service.h) is a thin adapter over this class.
//
//   ASSIGN_OR_RETURN(auto intake, Intake::New(config, profile, store.get()));
//   RETURN_IF_ERROR(intake->Authorize(peer));                 // once per stream
//   ASSIGN_OR_RETURN(v1::BatchAck ack, intake->Submit(peer, signed_batch));
//
// The caller's identity is the `rpc::Peer` of its verified client certificate; no payload
// field is ever trusted for it (`BatchPayload.node_id` is only cross-checked).
//
// Batch-level outcomes are in `BatchAck.code` (see intake.proto), checked in this order:
//   UNAUTHENTICATED      the Ed25519 signature of the agency's configured key does not
//                        verify over ("samenzicht.batch.v1", payload). Checked before the
//                        payload is parsed: unauthenticated bytes are never parsed.
//   INVALID_ARGUMENT     the payload does not parse, or batch_id is not 32 lower-case hex;
//   PERMISSION_DENIED    payload node_id differs from the certificate's common name;
//   FAILED_PRECONDITION  profile fingerprint or key epoch differ from the configuration
//                        (during a key rotation `previous_key_epoch` is accepted too, until
//                        `key_switchover_month` begins, UTC);
//   INVALID_ARGUMENT     a nonce longer than kMaxBatchNonceBytes;
//   RESOURCE_EXHAUSTED   more reports than max_batch_reports (default 10000);
//   ALREADY_EXISTS       the batch id was committed before: nothing changes (safe replay;
//                        when the digest differs the message says so, still nothing changes);
//                        a replay of the same batch carries the `accepted` and `duplicates`
//                        of its first commit, for a node whose acknowledgement was lost;
//   INVALID_ARGUMENT     with `errors`: every report of the batch was refused, nothing is
//                        stored;
//   OK                   every report is stored (new, or already stored by this agency);
//                        with `partially_accepted` and `errors`: the reports listed were
//                        refused, every other one is stored. A partial acceptance is not a
//                        refusal: the node counts the batch delivered and the listed
//                        reports refused.
// Per report (index, report id, the field and a reason that names it, never a value):
// INVALID_ARGUMENT for a malformed report id, a report id repeated within the batch, a
// token of the wrong length or of a rule not in the profile (or repeated), an enum number
// outside the proto enum, an area not configured, a signal month that is not YYYYMM;
// ALREADY_EXISTS for an id stored by another agency; FAILED_PRECONDITION for an id this
// agency retracted (a replayed old batch never resurrects a retracted report).
// A report id this agency already stored counts in `duplicates` and is not stored again.
//
// Logs one line per batch (agency, batch id, counts, code); never token bytes or report
// contents. When the store has an audit trail, a stored batch is recorded in the same
// transaction (`batch_received`), a refused one in its own (`batch_refused`: code, reason).
//
// Thread-safety: thread-safe; `Submit` may be called from several streams at once (the
// store serialises writes).
#ifndef SAMENZICHT_AGGREGATOR_INTAKE_INTAKE_H_
#define SAMENZICHT_AGGREGATOR_INTAKE_INTAKE_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "aggregator/store/store.h"
#include "crypto/signature.h"
#include "rpc/peer.h"
#include "samenzicht/v1/config.pb.h"
#include "samenzicht/v1/intake.pb.h"
#include "samenzicht/v1/profile.pb.h"

namespace samenzicht::aggregator {

inline constexpr char kBatchContext[] = "samenzicht.batch.v1";
inline constexpr uint32_t kDefaultMaxBatchReports = 10000;
inline constexpr size_t kMaxBatchNonceBytes = 64;  // BatchPayload.nonce

// True for exactly 32 lower-case hex characters.
bool IsValidId(const std::string& id);

class Intake {
 public:
  // `store` is not owned and must outlive the Intake. InvalidArgument when an agency's
  // public key is malformed or an agency is listed twice.
  static absl::StatusOr<std::unique_ptr<Intake>> New(const v1::AggregatorConfig& config,
                                                     const v1::LinkageProfile& profile,
                                                     Store* store);

  // PermissionDenied unless `peer` has the agency role and is a configured agency.
  // A refusal is recorded in the audit trail (permission_denied, naming `asked`).
  absl::Status Authorize(const rpc::Peer& peer,
                         std::string_view asked = "Intake.SubmitBatches") const;

  // Validates and stores one batch; the outcome is in the ack (see above). The returned
  // status is not OK only when the caller is not authorised (PermissionDenied) or the
  // store fails (Internal, DataLoss): then nothing of the batch is stored and the stream
  // should end with that status.
  absl::StatusOr<v1::BatchAck> Submit(const rpc::Peer& peer, const v1::SignedBatch& batch);

  // Retracts the caller's own reports; another agency's id, an unknown id and a malformed
  // id are all answered as not_found. PermissionDenied as `Authorize`.
  absl::StatusOr<v1::RetractResponse> Retract(const rpc::Peer& peer,
                                              const v1::RetractRequest& request);

  // The key epoch batches must be made with; the administrator changes it at run time
  // (Admin.SetKeyEpoch).
  void set_key_epoch(uint32_t epoch) { key_epoch_.store(epoch); }
  uint32_t key_epoch() const { return key_epoch_.load(); }

  // Key rotation: true when `epoch` is the configured previous epoch and the switch-over
  // month has not begun at `now_unix` (UTC).
  bool AcceptsPreviousEpoch(uint32_t epoch, int64_t now_unix) const;

  // For tests: a clock other than the system's.
  void set_clock_for_testing(std::function<int64_t()> clock) { clock_ = std::move(clock); }

 private:
  struct Agency {
    v1::AgencyEntry entry;
    crypto::Verifier verifier;
  };
  Intake(const v1::AggregatorConfig& config, const v1::LinkageProfile& profile, Store* store,
         std::map<std::string, Agency> agencies);

  // Per-report checks that need no database; on failure `field` names the report's field
  // (ReportError.field).
  absl::Status CheckReport(const v1::Report& report, std::string* field) const;

  Store* const store_;
  const std::map<std::string, Agency> agencies_;
  const std::string fingerprint_;
  std::atomic<uint32_t> key_epoch_;
  const uint32_t max_batch_reports_;
  const std::vector<std::string> rules_;
  const std::vector<bool> probe_rules_;  // by rule: has probe_when_missing (Token.role)
  const std::vector<bool> multi_rules_;  // by rule: has a multi-valued field (several tokens)
  // The most tokens one person's report can carry under the profile: one per rule, a
  // deletion neighbourhood's worth per multi-valued rule (BatchToStore's anomaly figures).
  const uint32_t tokens_per_person_;
  const std::vector<std::string> areas_;
  std::function<int64_t()> clock_;
  const uint32_t previous_key_epoch_;  // 0 = no rotation in progress
  const uint32_t switchover_month_;    // YYYYMM; 0 = no date set
};

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_INTAKE_INTAKE_H_
