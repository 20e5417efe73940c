// The `aggregator` commands as library functions; main.cc only declares each command's
// flags and calls these. Every function takes the parsed flags (common/cli.h), writes its
// result to `out` and notes for the operator to `err`, and returns a Status whose message
// is one line fit for "error: <message>" (cli::ExitWith: InvalidArgument exits 2, any other
// error 1). No function writes a token, a key or an identifier to either stream.
//
// The clients of the running aggregator's services (`totals`, `report` with a client
// configuration, `admin ...`, `audit checkpoint|trail`) connect over mutual TLS with the
// certificate of the client configuration (CLIENT.textproto); the aggregator decides by that
// certificate's role. A call the role may not make fails with PermissionDenied (exit 1),
// its message naming the service, the address and the aggregator's reason.
//
// Thread-safety: each function runs one command; `serve` blocks until SIGINT or SIGTERM.
#ifndef SAMENZICHT_AGGREGATOR_COMMANDS_H_
#define SAMENZICHT_AGGREGATOR_COMMANDS_H_

#include <ostream>

#include "absl/status/status.h"
#include "common/cli.h"

namespace samenzicht::aggregator {

// `serve`: runs the aggregator (and its dashboard when configured) until SIGINT/SIGTERM.
absl::Status ServeCommand(const cli::Args& args, std::ostream& out, std::ostream& err);
// `store-keygen`: the store key (mode 0600).
absl::Status StoreKeygenCommand(const cli::Args& args, std::ostream& out, std::ostream& err);
// `audit-keygen`: the audit signing key; prints its public key (base64) on `out`.
absl::Status AuditKeygenCommand(const cli::Args& args, std::ostream& out, std::ostream& err);
// `link`: offline linkage of JSON-lines reports into report_id,person_id.
absl::Status LinkCommand(const cli::Args& args, std::ostream& out, std::ostream& err);
// `totals`: totals (or, with --view, the insight views) from a running aggregator.
absl::Status TotalsCommand(const cli::Args& args, std::ostream& out, std::ostream& err);
// `exact-totals`: exact, unpublished counts on the aggregator host.
absl::Status ExactTotalsCommand(const cli::Args& args, std::ostream& out, std::ostream& err);
// `report`: the HTML report, in-process (aggregator configuration) or over gRPC (client
// configuration).
absl::Status ReportCommand(const cli::Args& args, std::ostream& out, std::ostream& err);
// `audit verify` / `audit report`: the trail, offline from the data folder.
absl::Status AuditVerifyCommand(const cli::Args& args, std::ostream& out, std::ostream& err);
absl::Status AuditReportCommand(const cli::Args& args, std::ostream& out, std::ostream& err);
// `purge`, `backup`, `restore`, `key-status`, `key-retire`: operations on the data folder.
absl::Status PurgeCommand(const cli::Args& args, std::ostream& out, std::ostream& err);
absl::Status BackupCommand(const cli::Args& args, std::ostream& out, std::ostream& err);
absl::Status RestoreCommand(const cli::Args& args, std::ostream& out, std::ostream& err);
absl::Status KeyStatusCommand(const cli::Args& args, std::ostream& out, std::ostream& err);
absl::Status KeyRetireCommand(const cli::Args& args, std::ostream& out, std::ostream& err);

// The administrator's client (Admin service; admin certificate), flag --config
// CLIENT.textproto:
//  `admin settings`       the settings in force: key epoch and retention (--format
//                         table|json);
//  `admin set-retention`  --months N (0 = no limit, at most 1200); prints the settings after;
//  `admin set-key-epoch`  --epoch N (at least 1); prints the settings after.
// A flag value that is not a whole number in range is InvalidArgument naming the flag.
absl::Status AdminSettingsCommand(const cli::Args& args, std::ostream& out, std::ostream& err);
absl::Status AdminSetRetentionCommand(const cli::Args& args, std::ostream& out, std::ostream& err);
absl::Status AdminSetKeyEpochCommand(const cli::Args& args, std::ostream& out, std::ostream& err);

// The privacy officer's client (Audit service; privacy_officer certificate), flag --config
// CLIENT.textproto:
//  `audit checkpoint`  a fresh signed checkpoint of the trail's head, one line on `out`;
//                      with --out FILE also written to FILE (mode 0600; it must not exist),
//                      for `audit verify --checkpoint FILE`;
//  `audit trail`       the entries from --from-seq (default 1), at most --limit (default
//                      all), as a table (seq, time UTC, event, actor, details) or as JSON
//                      lines (--format jsonl, with the hashes and signature in hex); a
//                      summary line (entries, newest seq, signing key) goes to `err`.
absl::Status AuditCheckpointCommand(const cli::Args& args, std::ostream& out, std::ostream& err);
absl::Status AuditTrailCommand(const cli::Args& args, std::ostream& out, std::ostream& err);

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_COMMANDS_H_
