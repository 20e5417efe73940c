// What the aggregator writes into its audit trail: the event names and the JSON of their
// `details`. Everything here is a count, a random id chosen by a node, a digest, a
// signature, a category word, a month or a reason written by the aggregator itself; never a
// token, never an identifier, never a value taken from a report.
//
//   BatchRefusedEvent e{"police", batch_id, "FAILED_PRECONDITION", reason, digest_hex};
//   store->AppendAudit(kEventBatchRefused, "police", e.ToJson());
//   ASSIGN_OR_RETURN(BatchRefusedEvent back, BatchRefusedEvent::FromJson(entry.details));
//
// Kept beside the audit chain (and not in the aggregator's folders) so the store, which
// writes its entries in the same transaction as the change they record, and every layer
// above it (intake, queries, administration) name the same events; the namespace is the
// aggregator's, whose vocabulary they are.
//
// Thread-safety: the event structs are value types; the functions are pure.
#ifndef SAMENZICHT_AUDIT_AGGREGATOR_EVENTS_H_
#define SAMENZICHT_AUDIT_AGGREGATOR_EVENTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/json.h"

namespace samenzicht::aggregator {

inline constexpr char kEventStart[] = "start";
inline constexpr char kEventStop[] = "stop";
// The configuration the aggregator starts with differs from the last one: a setting, an
// agency, or the content of a file it names (a key, certificate, CRL folder or profile
// replaced at the same path). Details: role, asked, outcome, process_user, both digests,
// changed_files (field, path, previous_fingerprint, fingerprint; "" for none) and the main
// settings.
inline constexpr char kEventConfigChange[] = "configuration_change";
// Key epoch and retention changes: at start (actor the aggregator, role "aggregator") or by
// the administrator's Admin.SetKeyEpoch / Admin.SetRetention (made or refused). Details:
// role, asked, outcome (and reason), from, to, source.
inline constexpr char kEventKeyEpochChange[] = "key_epoch_change";
inline constexpr char kEventRetentionChange[] = "retention_change";
inline constexpr char kEventBatchReceived[] = "batch_received";
inline constexpr char kEventBatchRefused[] = "batch_refused";
inline constexpr char kEventRetraction[] = "retraction";
// A stored report replaced by a new version from the same agency (Store::CommitBatch).
inline constexpr char kEventReportCorrected[] = "report_corrected";
inline constexpr char kEventQuery[] = "query";
// A month released under the Cell Key Method's release freeze: its record keys frozen in the
// store's settings (details: month, reports, and revises for a December, whose release is
// also the scheduled revision of its year).
inline constexpr char kEventDisclosureRelease[] = "disclosure_release";
// Reports of a released month that left the places they were frozen in (retracted, or
// corrected for the first time), recorded as departed so that the month's cells keep their
// keys (details: month, agency, reports).
inline constexpr char kEventDisclosureDeparture[] = "disclosure_departure";
inline constexpr char kEventPurge[] = "retention_purge";
inline constexpr char kEventKeyEpochRetired[] = "key_epoch_retired";  // old-epoch tokens deleted
// A caller whose role may not use the service it called (details: role, asked, outcome,
// reason).
inline constexpr char kEventPermissionDenied[] = "permission_denied";
// `aggregator backup` and `aggregator restore`, by the local operator (details: role,
// asked, outcome, the file).
inline constexpr char kEventBackup[] = "backup";
inline constexpr char kEventRestore[] = "restore";
// An agency's signing key in the configuration differs from the one the aggregator last
// ran with, or an agency was added or removed (details: role, asked, outcome, process_user,
// agency, previous_fingerprint, fingerprint; "" for none).
inline constexpr char kEventAgencyKeyChange[] = "agency_key_change";
inline constexpr char kActorAggregator[] = "aggregator";
// The role named in entries of the local operator's commands (backup, restore).
inline constexpr char kRoleLocalOperator[] = "local_operator";
// The role and the request named in the entries the aggregator writes when it starts and
// finds its configuration changed: the change was made in the files, by whoever may edit
// them; the aggregator names the operating-system user it runs as (process_user).
inline constexpr char kRoleAggregator[] = "aggregator";
inline constexpr char kAskedStart[] = "start";

// The details are written with the one JSON writer (common/json.h); these names are kept
// for the code that builds them.
using json::JsonObject;
using json::JsonString;
using json::JsonStringArray;

// "YYYY-MM" of a month stored as YYYYMM ("" for 0): Month(yyyymm).Text() (common/month.h).
std::string MonthText(uint32_t yyyymm);
// The YYYYMM month (UTC) of a Unix time in milliseconds: Month::OfUnixMs.
uint32_t MonthOfMs(int64_t time_ms);

// ---- Typed events: one struct per event kind, its details written and read back. ----
//
// Each struct's ToJson writes the details exactly as the trail has always held them (field
// names, order and number format: the trail is hash-chained over these bytes, so they
// never change); FromJson reads them back, InvalidArgument when `json` is not a JSON
// object. A field missing from the object (an entry written by an older release) is read
// as 0, "" or absent. Optional fields are written only when set.

// Who asked and how it went: the first fields of the entries of a request (an
// administrator's or operator's call, a change found at start, a refused call).
struct Request {
  std::string role{};
  std::string asked{};
  std::string outcome{};                      // a status code name: "OK", "INVALID_ARGUMENT"...
  std::optional<std::string> reason{};        // for a refusal: the message
  std::optional<std::string> process_user{};  // for a change found at start: the OS user

  // role, asked, the outcome's code and, when it is not OK, its message as the reason.
  static Request Of(std::string_view role, std::string_view asked, const absl::Status& outcome);
  // A change the aggregator found at start: role "aggregator", asked "start", outcome OK,
  // the operating-system user `process_user`.
  static Request AtStart(std::string_view process_user);
  bool operator==(const Request&) const = default;
};

// kEventBatchReceived (actor: the agency), written by the store with the batch.
struct BatchReceivedEvent {
  std::string agency{}, batch_id{};
  int64_t reports = 0, accepted = 0, duplicates = 0, refused = 0, key_epoch = 0;
  int64_t replaced = 0, corrected = 0, tokens = 0, max_tokens_per_report = 0;
  int64_t reports_beyond_profile = 0;
  std::string batch_digest{};  // hex

  std::string ToJson() const;
  static absl::StatusOr<BatchReceivedEvent> FromJson(std::string_view json);
  bool operator==(const BatchReceivedEvent&) const = default;
};

// kEventReportCorrected (actor: the agency): a stored report replaced by a new version.
struct ReportCorrectedEvent {
  std::string agency{}, batch_id{}, report_id{};
  int64_t version = 0;

  std::string ToJson() const;
  static absl::StatusOr<ReportCorrectedEvent> FromJson(std::string_view json);
  bool operator==(const ReportCorrectedEvent&) const = default;
};

// kEventBatchRefused (actor: the agency): a batch refused before it reached the store.
struct BatchRefusedEvent {
  std::string agency{}, batch_id{};
  std::string code{};          // the status code name
  std::string reason{};        // the acknowledgement's message
  std::string batch_digest{};  // hex, keyed (Store::KeyedBatchDigest)

  std::string ToJson() const;
  static absl::StatusOr<BatchRefusedEvent> FromJson(std::string_view json);
  bool operator==(const BatchRefusedEvent&) const = default;
};

// kEventRetraction (actor: the agency).
struct RetractionEvent {
  std::string agency{};
  int64_t requested = 0, retracted = 0, not_found = 0;

  std::string ToJson() const;
  static absl::StatusOr<RetractionEvent> FromJson(std::string_view json);
  bool operator==(const RetractionEvent&) const = default;
};

// kEventPurge: reports past the retention period deleted (by the server's hourly purge or
// an operator's `aggregator purge`).
struct PurgeEvent {
  Request request{};
  std::string cutoff_month{};  // "YYYY-MM" (MonthText)
  int64_t reports = 0, tokens = 0;

  std::string ToJson() const;
  static absl::StatusOr<PurgeEvent> FromJson(std::string_view json);
  bool operator==(const PurgeEvent&) const = default;
};

// kEventKeyEpochRetired: the tokens of key epochs before `before_epoch` deleted.
struct KeyEpochRetiredEvent {
  Request request{};
  int64_t before_epoch = 0, reports = 0, tokens = 0;

  std::string ToJson() const;
  static absl::StatusOr<KeyEpochRetiredEvent> FromJson(std::string_view json);
  bool operator==(const KeyEpochRetiredEvent&) const = default;
};

// kEventKeyEpochChange and kEventRetentionChange: a setting changed (from, to) by the
// administrator or the configuration, refused, or found at start to be overridden by a
// stored value (configured, effective).
struct SettingChangeEvent {
  Request request{};
  std::optional<int64_t> configured{}, effective{};
  std::optional<int64_t> from{}, to{};
  std::string source{};

  std::string ToJson() const;
  static absl::StatusOr<SettingChangeEvent> FromJson(std::string_view json);
  bool operator==(const SettingChangeEvent&) const = default;
};

// kEventConfigChange: the configuration differs from the last start's.
struct ConfigChangeEvent {
  struct ChangedFile {
    std::string field{}, path{}, previous_fingerprint{}, fingerprint{};
    bool operator==(const ChangedFile&) const = default;
  };
  Request request{};
  std::string previous_digest{}, digest{};
  std::vector<ChangedFile> changed_files{};
  int64_t key_epoch = 0, retention_months = 0, min_cell_size = 0, max_batch_reports = 0;
  std::vector<std::string> agencies{}, areas{};

  std::string ToJson() const;
  static absl::StatusOr<ConfigChangeEvent> FromJson(std::string_view json);
  bool operator==(const ConfigChangeEvent&) const = default;
};

// kEventAgencyKeyChange: an agency's signing key changed, added ("" previous) or removed
// ("" fingerprint).
struct AgencyKeyChangeEvent {
  Request request{};
  std::string agency{}, previous_fingerprint{}, fingerprint{}, source{};

  std::string ToJson() const;
  static absl::StatusOr<AgencyKeyChangeEvent> FromJson(std::string_view json);
  bool operator==(const AgencyKeyChangeEvent&) const = default;
};

// kEventStart.
struct StartEvent {
  std::string config_digest{};
  int64_t key_epoch = 0, retention_months = 0, agencies = 0;

  std::string ToJson() const;
  static absl::StatusOr<StartEvent> FromJson(std::string_view json);
  bool operator==(const StartEvent&) const = default;
};

// kEventStop: no details ({}).
struct StopEvent {
  std::string ToJson() const;
  static absl::StatusOr<StopEvent> FromJson(std::string_view json);
  bool operator==(const StopEvent&) const = default;
};

// kEventPermissionDenied: a caller whose role may not use what it called (the request's
// reason says why).
struct PermissionDeniedEvent {
  Request request{};

  std::string ToJson() const;
  static absl::StatusOr<PermissionDeniedEvent> FromJson(std::string_view json);
  bool operator==(const PermissionDeniedEvent&) const = default;
};

// kEventBackup: `aggregator backup`, made or not; the figures when made.
struct BackupEvent {
  Request request{};
  std::string file{};
  std::optional<int64_t> reports{}, audit_entries{};

  std::string ToJson() const;
  static absl::StatusOr<BackupEvent> FromJson(std::string_view json);
  bool operator==(const BackupEvent&) const = default;
};

// kEventRestore: `aggregator restore`, recorded by the command in the trail of the
// configuration's data folder (data_dir, and the figures when made), and by the first
// start of the restored database from the note the command left in it (restored_unix).
struct RestoreEvent {
  Request request{};
  std::string backup_file{};
  std::optional<std::string> data_dir{};
  std::optional<int64_t> reports{}, audit_entries{};
  std::optional<int64_t> restored_unix{};

  std::string ToJson() const;
  static absl::StatusOr<RestoreEvent> FromJson(std::string_view json);
  bool operator==(const RestoreEvent&) const = default;
};

// kEventQuery: a question answered or refused, through a front end (`via`). The number of
// cells is named by the method: perturbed_cells (Cell Key Method), suppressed (the old
// threshold rule; the audit report sums it) or exact_cells (exact, unpublished totals).
struct QueryEvent {
  std::string role{}, via{}, view{}, by{};
  std::string from{}, to{};  // "YYYY-MM" or ""
  std::string method{};
  bool answered = false;
  std::optional<int64_t> perturbed_cells{}, suppressed{}, exact_cells{};
  std::optional<std::string> refused{};  // the status code name of a refusal

  std::string ToJson() const;
  static absl::StatusOr<QueryEvent> FromJson(std::string_view json);
  bool operator==(const QueryEvent&) const = default;
};

// kEventDisclosureRelease: a released month frozen (written by the actor kActorAggregator).
struct DisclosureReleaseEvent {
  std::string month{};                   // "YYYY-MM" (MonthText)
  int64_t reports = 0;                   // the reports of the month whose keys were frozen
  std::optional<std::string> revises{};  // for a December: its year ("2024")
  // For a month frozen before rows or versions were kept, given them later (the release's
  // keys unchanged): "rows and versions".
  std::optional<std::string> completed{};

  std::string ToJson() const;
  static absl::StatusOr<DisclosureReleaseEvent> FromJson(std::string_view json);
  bool operator==(const DisclosureReleaseEvent&) const = default;
};

// kEventDisclosureDeparture: reports of one agency and one released month that left their
// frozen places (written by the actor kActorAggregator).
struct DisclosureDepartureEvent {
  std::string month{};   // "YYYY-MM" (MonthText)
  std::string agency{};  // the node id of the agency that sent them
  int64_t reports = 0;   // how many

  std::string ToJson() const;
  static absl::StatusOr<DisclosureDepartureEvent> FromJson(std::string_view json);
  bool operator==(const DisclosureDepartureEvent&) const = default;
};

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AUDIT_AGGREGATOR_EVENTS_H_
