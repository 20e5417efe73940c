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

}  // namespace samenzicht::audit

#endif  // SAMENZICHT_AUDIT_KEYHOLDER_TRAIL_H_
