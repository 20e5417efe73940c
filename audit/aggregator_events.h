// What the aggregator writes into its audit trail: the event names and the JSON of their
// `details`. Everything here is a count, a random id chosen by a node, a digest, a
// signature, a category word, a month or a reason written by the aggregator itself; never a
// token, never an identifier, never a value taken from a report.
//
//   JsonObject d;
//   d.Add("agency", "police").Add("accepted", 12);
//   store->AppendAudit(kEventBatchRefused, "police", d.str());
//
// Kept beside the audit chain (and not in the aggregator's folders) so the store, which
// writes its entries in the same transaction as the change they record, and every layer
// above it (intake, queries, administration) name the same events; the namespace is the
// aggregator's, whose vocabulary they are.
//
// Thread-safety: JsonObject is a value type; the functions are pure.
#ifndef SAMENZICHT_AUDIT_AGGREGATOR_EVENTS_H_
#define SAMENZICHT_AUDIT_AGGREGATOR_EVENTS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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

// "YYYY-MM" of a month stored as YYYYMM ("" for 0).
std::string MonthText(uint32_t yyyymm);
// The YYYYMM month (UTC) of a Unix time in milliseconds.
uint32_t MonthOfMs(int64_t time_ms);

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AUDIT_AGGREGATOR_EVENTS_H_
