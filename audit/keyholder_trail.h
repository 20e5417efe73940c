// The key service's trail as stored, read-only: `data_dir/keyholder.db`, read with
// audit::ReadStoredTrail (audit/stored_trail.h). The key service writes it (keyholder/key_service.h); both
// `keyholder audit verify` and `aggregator audit verify` read it with this, so the privacy
// officer verifies either trail with either tool.
//
//   ASSIGN_OR_RETURN(audit::StoredTrail t, audit::ReadKeyholderTrail("/var/lib/samenzicht-keyholder"));
//   ASSIGN_OR_RETURN(audit::VerifyResult r, audit::Verify(t.entries, verifier, std::nullopt));
//
// Thread-safety: thread-compatible; no shared state.
#ifndef SAMENZICHT_AUDIT_KEYHOLDER_TRAIL_H_
#define SAMENZICHT_AUDIT_KEYHOLDER_TRAIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "audit/chain.h"
#include "audit/stored_trail.h"

namespace samenzicht::audit {

inline constexpr char kKeyholderDatabaseFileName[] = "keyholder.db";

// True when `data_dir` holds a key service's database.
bool IsKeyholderDataDir(const std::string& data_dir);

// NotFound when there is no database; the errors of SQLite (a damaged file, no audit table).
absl::StatusOr<StoredTrail> ReadKeyholderTrail(const std::string& data_dir);

// What one entry of a key service's trail counts for a node: the evaluations it handed
// out ("evaluation"), or refused calls ("limit_refused", "permission_denied",
// "receipt_refused": one each; "limit_refused_repeated": its refused_calls, at the time of
// the first of them, since the entry is written when their window is over).
struct KeyholderCount {
  int64_t time_ms = 0;
  std::string node;             // the caller's certificate name
  uint32_t epoch = 0;           // 0 when the entry names none (a refusal of the caller's role)
  uint64_t evaluations = 0;
  uint64_t refused_calls = 0;
};

// The counting entries of `entries` (a key service's trail), in trail order; "start" and
// other entries are left out.
std::vector<KeyholderCount> KeyholderCounts(const std::vector<Entry>& entries);

// The value of "key": N in the details of a key service's trail entry; 0 when absent.
uint64_t DetailCount(const std::string& details, const std::string& key);

}  // namespace samenzicht::audit

#endif  // SAMENZICHT_AUDIT_KEYHOLDER_TRAIL_H_
