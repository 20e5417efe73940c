// The agency-node commands as library functions; main.cc only parses flags and calls
// these. Every function returns a Status whose message is one line fit for
// "error: <message>" and never holds an identifier. Human output goes to `out`; record
// and field problems go to `log` (which never receives identifier values either).
#ifndef SAMENZICHT_AGENCY_NODE_COMMANDS_H_
#define SAMENZICHT_AGENCY_NODE_COMMANDS_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "absl/status/status.h"
#include "agency_node/normalise.h"

namespace samenzicht::agency_node {

// The exit status of `submit` and `pseudonymise` when the run finished but did not bring
// the export over whole: a record was not sent (PreparedReports::incomplete; the output
// names each by line, record id and field). 0 means every record was sent; 1 and 2 are
// errors as for every command.
inline constexpr int kExitRecordsSkipped = 3;

// The status those commands return then: FailedPrecondition, its message counting the
// records, marked so that IsRecordsSkipped(status) is true (main.cc exits with
// kExitRecordsSkipped).
absl::Status RecordsSkippedError(int skipped, int warnings);
bool IsRecordsSkipped(const absl::Status& status);

// The exit status of `submit` and `pseudonymise` when every record was sent but some went
// without an identifier that did not parse (PreparedReports::degraded: an impossible date
// of birth, a BSN failing the eleven-test, ...; the output names each by line, record id and
// field). Every figure counts those records; only their linkage has less to go on.
inline constexpr int kExitFieldsNotUsed = 4;

// The status those commands return then: FailedPrecondition, its message counting the
// records and fields, marked so that IsFieldsNotUsed(status) is true (main.cc exits with
// kExitFieldsNotUsed).
absl::Status FieldsNotUsedError(int records, int warnings);
bool IsFieldsNotUsed(const absl::Status& status);

// `keygen`: a new shared hashing key (mode 0600). AlreadyExists if `out` exists.
absl::Status KeygenCommand(const std::string& out, uint32_t epoch, std::ostream& os);

// `signing-keygen`: this node's Ed25519 key; prints the base64 public key on `os`.
absl::Status SigningKeygenCommand(const std::string& out, std::ostream& os);

struct PseudonymiseOptions {
  std::string key_file;            // the shared hashing key (a deployment without key service)
  std::string keyholder;           // KeyholderClientConfig file: tokens from the key service
  std::string in;
  std::string out;                 // JSONL, one report per line (mode 0600)
  std::string map;                 // optional record_id,report_id CSV (mode 0600)
  std::string profile;             // LinkageProfile text file
  std::vector<std::string> areas;  // accepted area codes; empty = any [a-z0-9_-] code
  Date today = Today();
};

// `pseudonymise`: writes exactly the reports `submit` would send. Needs exactly one of
// `keyholder` (the key service: one call per batch of records) and `key_file` (the shared
// key: offline); InvalidArgument naming both options otherwise. Report ids are
// random per run, unless `map` names an existing map file: then its ids are reused for the
// record ids it lists (new record ids get new ids) and the file is rewritten with all of
// them. InvalidArgument for a malformed map file.
absl::Status PseudonymiseCommand(const PseudonymiseOptions& options, spdlog::logger& log,
                                 std::ostream& os);

// `submit`: parse, tokenise, assign report ids (persisted), sign, send, print a summary.
// With `keyholder` (a KeyholderClientConfig file) the tokens come from the key service.
// Fails (one line) when the aggregator is unreachable (its address and the gRPC status)
// or when any batch is refused.
// With `resend_retracted`, records of `in` this node retracted earlier are sent again as
// new reports (Delivery::Import); without it they are left out and counted.
absl::Status SubmitCommand(const std::string& config_path, const std::string& in,
                           spdlog::logger& log, std::ostream& os, const Date& today = Today(),
                           bool resend_retracted = false, const std::string& keyholder = "");

// `retract`: maps record ids to report ids (NotFound naming a record id this node never
// sent) and calls Retract.
absl::Status RetractCommand(const std::string& config_path,
                            const std::vector<std::string>& record_ids, std::ostream& os);

// `sent`: the sent log, as "table", "csv" or "json" (InvalidArgument otherwise). Each
// refused report is named (table and json) by report id, the agency's record id, the field
// and the reason. The table ends with the outbox: batches queued, and batches held after a
// refusal outside their content (with the reason).
absl::Status SentCommand(const std::string& config_path, const std::string& format,
                         std::ostream& os);

// `resend`: queues every held batch again (same batch id and bytes), for the next delivery.
absl::Status ResendCommand(const std::string& config_path, std::ostream& os);

// The profile path to use: `flag` if set, else $SAMENZICHT_PROFILE, else `compiled_in`.
std::string ResolveProfilePath(const std::string& flag, const std::string& compiled_in);

}  // namespace samenzicht::agency_node

#endif  // SAMENZICHT_AGENCY_NODE_COMMANDS_H_
