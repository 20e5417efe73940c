// The node's local state in `<state_dir>/node.db` (the file, its pragmas and its versioned
// schema are node_db.h's; this class uses its tables):
//  - `report_map`: the agency's record id -> the report id sent for it. A report id is made
//    the first time a record id is seen and reused after, so re-importing the same CSV
//    resends the same report ids and the aggregator counts nothing twice. The node derives
//    it from the record id with its own secret (crypto/report_id.h), so it is the same
//    again after node.db is lost; ids stored by older versions (random) are kept;
//  - `sent_batches` / `sent_reports`: what left the node: batch id, payload digest, number
//    of reports, per report its id, categories summary and number of tokens, and the
//    aggregator's acknowledgement (code, message, accepted, duplicates, corrected,
//    rekeyed, refused reports, time) and, per refused report, the error's code, field and reason;
//  - `retractions`: report ids retracted and the outcome.
// It never holds an identifier: no name, date of birth, number or address. Tokens are held
// only in the outbox (outbox.h), for batches not yet acknowledged.
//
// `state_dir` is created with mode 0700.
//
// Thread-safety: not thread-safe; one StateStore per process (SQLite serialises writers
// across processes).
#ifndef SAMENZICHT_AGENCY_NODE_STORE_STATE_STORE_H_
#define SAMENZICHT_AGENCY_NODE_STORE_STATE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/sqlite/sqlite.h"
#include "samenzicht/v1/intake.pb.h"

namespace samenzicht::agency_node {

// One report as logged: never identifiers or tokens.
struct SentReport {
  std::string report_id;
  std::string categories;  // "form=sexual age_band=13_17 ..."
  int token_count = 0;
  // Set when the acknowledgement refused this report (ReportError): a grpc::StatusCode,
  // the field it names and the reason. Never a value.
  // (Initialised members: the sent log's brace-initialised entries need not name them.)
  std::optional<int> error_code{};
  std::string error_field{};
  std::string error_message{};
};

// True for the acknowledgement codes that mean the batch was delivered (OK, possibly with
// per-report refusals: a partial acceptance; ALREADY_EXISTS: a replay); any other code
// means the aggregator stored nothing of the batch.
bool AckDelivered(int code);

// The acknowledgement's count of corrected reports: its `corrected` field, or, from an
// aggregator that does not set it, the number its message names (model/ack_notes.h).
uint32_t AckCorrected(const v1::BatchAck& ack);

struct SentBatch {
  std::string batch_id;
  std::string digest_hex;  // BLAKE2b-256 of the signed payload bytes (BatchDigest)
  int report_count = 0;
  int64_t created_unix = 0;
  int64_t sent_unix = 0;
  std::optional<int> ack_code;  // grpc::StatusCode; absent until acknowledged
  std::string ack_message;
  int accepted = 0;
  int duplicates = 0;
  // Of the stored reports: those that replaced an earlier version with other content (a
  // correction; counted once, in `accepted`, `duplicates` or `rekeyed`).
  int corrected = 0;
  // Reports stored before under an older key epoch that now carry this batch's epoch
  // (neither in `accepted` nor in `duplicates`).
  int rekeyed = 0;
  // Reports not stored: those the ack lists in `errors` (a partial acceptance, or a refused
  // batch with per-report errors), else every report of a refused batch.
  int refused_reports = 0;
  int64_t ack_unix = 0;
};

class StateStore {
 public:
  // Creates `state_dir` (0700) and the database if needed (OpenNodeDatabase: the schema is
  // brought to its current version). PermissionDenied when the folder cannot be made;
  // SQLite errors as common/sqlite/sqlite.h maps them (Unavailable, DataLoss, ...).
  static absl::StatusOr<std::unique_ptr<StateStore>> Open(const std::string& state_dir);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // The report id of each record id, creating and storing new ones in one transaction:
  // `new_id(record_id)` (the node's derived id, crypto::ReportIdDeriver), or a random id
  // when `new_id` is empty.
  absl::StatusOr<std::vector<std::string>> AssignReportIds(
      const std::vector<std::string>& record_ids,
      const std::function<std::string(const std::string&)>& new_id = {});
  // NotFound when the record id was never seen.
  absl::StatusOr<std::string> FindReportId(const std::string& record_id);
  // Gives `record_id` the report id `report_id` from now on (a retracted record sent again
  // as a new report, Delivery::Import). The old report id keeps its retraction; NotFound
  // when the record id was never seen.
  absl::Status ReissueReportId(const std::string& record_id, const std::string& report_id);
  // NotFound when the report id is not ours.
  absl::StatusOr<std::string> FindRecordId(const std::string& report_id);

  // Logs a batch before it is sent (unacknowledged).
  absl::Status RecordSent(const SentBatch& batch, const std::vector<SentReport>& reports);
  // Records the aggregator's acknowledgement for `ack.batch_id()`, and each report error on
  // its report; NotFound if unknown.
  absl::Status RecordAck(const v1::BatchAck& ack, int64_t now_unix);
  // Logs a retraction outcome per report id.
  absl::Status RecordRetraction(const std::string& report_id, const std::string& outcome,
                                int64_t now_unix);

  // Report ids this node retracted successfully or queued for retraction; they are never
  // sent again.
  absl::StatusOr<std::set<std::string>> RetractedReportIds();
  // Report ids whose retraction waits for their batch to leave the outbox (outcome
  // "queued" with no later "retracted" or "not_found").
  absl::StatusOr<std::vector<std::string>> QueuedRetractions();

  // Every logged batch, oldest first.
  absl::StatusOr<std::vector<SentBatch>> ListSent();
  // The reports of a batch in order, with their errors once acknowledged.
  absl::StatusOr<std::vector<SentReport>> ListReports(const std::string& batch_id);

  const std::string& path() const;

 private:
  explicit StateStore(std::unique_ptr<sqlite::Database> db);
  std::unique_ptr<sqlite::Database> db_;
};

}  // namespace samenzicht::agency_node

#endif  // SAMENZICHT_AGENCY_NODE_STORE_STATE_STORE_H_
