// The aggregator's audit trail as the privacy officer uses it: reading, verifying and
// summarising the trail OFFLINE (the database opened read-only through
// aggregator/store/offline.h, no server, no store key). Writing the trail is the store's
// (store.h); opening the store with its trail attached is aggregator/admin/audited_store.h.
//
//   ASSIGN_OR_RETURN(VerifyOutcome v, VerifyTrail("/var/lib/samenzicht", {.checkpoint_files =
//                                                  {"/media/usb/000000000100.checkpoint"}}));
//   ASSIGN_OR_RETURN(std::string text, AuditReport(trail.entries, {.format = "csv"}));
//
// Where the trail lives: table `audit` of `data_dir/aggregator.db` (see store.h); signed
// checkpoints in `data_dir/checkpoints/<seq>.checkpoint`, one
// `audit::Checkpoint::Serialize` line each, which the privacy officer copies out of the
// system. Which key to trust, in this order: the one given (`public_key_b64`), the one in
// the checkpoint, the one stored in the database (then a warning says it is trusted only
// because it was found there: whoever can rewrite the database can also replace it).
//
// Thread-safety: the functions are thread-compatible; they share no state.
#ifndef SAMENZICHT_AGGREGATOR_AUDIT_STORE_H_
#define SAMENZICHT_AGGREGATOR_AUDIT_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "audit/chain.h"
#include "audit/keyholder_trail.h"
#include "crypto/secret_bytes.h"

namespace samenzicht::aggregator {

struct Trail {
  std::vector<audit::Entry> entries;  // in seq order as stored
  std::string stored_public_key;      // 32 raw bytes, or "" when none is stored
};

// Reads the whole trail from `data_dir`/aggregator.db opened read-only. NotFound when there
// is no database, FailedPrecondition when it has no audit table, DataLoss when it is damaged.
absl::StatusOr<Trail> ReadTrail(const std::string& data_dir);

struct VerifyOptions {
  std::vector<std::string> checkpoint_files;  // each line of each file is a checkpoint
  std::string public_key_b64;                 // the trust anchor, when known
};

struct VerifyOutcome {
  uint64_t entries = 0;
  std::string head_hash_hex;
  int checkpoints_checked = 0;
  std::string trusted_key_b64;
  std::string trust_source;            // "--public-key", "checkpoint" or "data directory"
  std::vector<std::string> warnings;   // for the privacy officer, one sentence each
  bool key_service = false;            // the trail was the key service's
};

// Verifies the trail of `data_dir` offline: sequence, chain, hashes and signatures of every
// entry, and every checkpoint given. `data_dir` is the aggregator's data folder, or a key
// service's (one holding keyholder.db and no aggregator.db: audit/keyholder_trail.h; its
// entries, checkpoints and keys have the same form, and `key_service` is then set).
// Returns DataLoss naming the first wrong entry ("entry 17: ...") or the truncation;
// Unauthenticated when a checkpoint's signature fails or its key differs from
// `public_key_b64`; InvalidArgument for a malformed key or checkpoint; FailedPrecondition
// when there is no key to trust at all; the errors of ReadTrail.
absl::StatusOr<VerifyOutcome> VerifyTrail(const std::string& data_dir, const VerifyOptions& options);

struct ReportOptions {
  uint32_t from_month = 0;  // YYYYMM, 0 = open
  uint32_t to_month = 0;
  std::string format = "table";  // table, csv or json
  // The counts of a key service's verified trail (audit::KeyholderCounts), or null. Given,
  // the report has two more columns, `evaluations` and `evaluation_refusals` (refused
  // calls), per month and party, joined on the party's name: an agency node shows the
  // same certificate to the key service and the aggregator. With two key services, the
  // first's (the second evaluates only what the first did).
  const std::vector<audit::KeyholderCount>* key_service = nullptr;
};

// Per month (of the entry's time) and party: batches and reports received, refused and
// retracted (agencies), queries and suppressed cells (analysts), purges (aggregator), and
// `left_released`: the agency's reports of released months taken out of the places they
// were frozen in (retracted or corrected; the aggregator's `disclosure_departure` entries);
// with `key_service`, the agencies' evaluations and refused calls at the key service too (a
// node with evaluations and no reports in a month shows as a row of its own).
// The table adds a "check:" line for each agency and month with kLeftReleasedSeries or more
// reports taken out of released months: a series of them is how an analyst who runs an
// agency node would try to work out a small count (docs/disclosure.md, section 5).
// InvalidArgument for an unknown format.
inline constexpr int64_t kLeftReleasedSeries = 5;
absl::StatusOr<std::string> AuditReport(const std::vector<audit::Entry>& entries,
                                        const ReportOptions& options);

// What one agency's stored tokens show (ReadTokenShares): the most of its reports that
// share one token, and that token's share of all reports holding it (1 = every report
// holding the token is this agency's). A malicious agency that pushes a victim's token
// over max_reports_per_token by itself shows as a large count with a share near 1.
struct TokenShare {
  int64_t largest_token_reports = 0;
  double largest_token_share = 0;
};

// Per agency, from `data_dir`/aggregator.db opened read-only. The stored tokens are sealed
// (store.h, "Encryption at rest"): each row is opened with `store_key` (the aggregator's
// store key file); DataLoss for a row that does not open. Memory grows with the distinct
// tokens (~40 bytes each). The errors of ReadTrail.
absl::StatusOr<std::map<std::string, TokenShare>> ReadTokenShares(
    const std::string& data_dir, const crypto::SecretBytes& store_key);

// Per agency over the period (months of the entries' times): reports accepted, tokens per
// report (mean and most), reports carrying more tokens than one person's report can
// under the profile, the month with the most reports against the median month of the
// agency's history before it (ratio; 0 without history), and the token figures of
// `shares`. The limits of what these show are in docs/security.md.
// InvalidArgument for an unknown format.
absl::StatusOr<std::string> AnomalyReport(const std::vector<audit::Entry>& entries,
                                          const std::map<std::string, TokenShare>& shares,
                                          const ReportOptions& options);

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_AUDIT_STORE_H_
