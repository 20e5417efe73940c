// An audit trail as stored in SQLite, read-only: table `audit` (the columns of
// audit::Entry) in seq order and the trail's public key (table `settings`, name
// `audit_public_key`, base64). The aggregator's database and the key service's both keep
// their trail this way; `aggregator audit verify` and `keyholder audit verify` read it with
// this and verify it with audit::Verify.
//
//   ASSIGN_OR_RETURN(audit::StoredTrail t, audit::ReadStoredTrail(db));
//
// Thread-safety: thread-compatible; no shared state.
#ifndef SAMENZICHT_AUDIT_STORED_TRAIL_H_
#define SAMENZICHT_AUDIT_STORED_TRAIL_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "audit/chain.h"
#include "common/sqlite/sqlite.h"

namespace samenzicht::audit {

inline constexpr char kStoredPublicKeySetting[] = "audit_public_key";

struct StoredTrail {
  std::vector<Entry> entries;     // in seq order
  std::string stored_public_key;  // 32 raw bytes, or "" when none is stored
};

// The columns of an Entry in table `audit`, in the order EntryFromRow reads them.
inline constexpr char kEntryColumns[] = "seq, time_ms, event, actor, details, prev_hash, hash, signature";

// The Entry in the current row of a statement that selected kEntryColumns first: any
// statement type with Int(column) and Blob(column) (sqlite::Statement, or the aggregator
// store's own on its connection).
template <typename Row>
Entry EntryFromRow(const Row& row) {
  Entry e;
  e.seq = static_cast<uint64_t>(row.Int(0));
  e.time_ms = row.Int(1);
  e.event = row.Blob(2);
  e.actor = row.Blob(3);
  e.details = row.Blob(4);
  e.prev_hash = row.Blob(5);
  e.hash = row.Blob(6);
  e.signature = row.Blob(7);
  return e;
}

// The errors of SQLite as they come (a database without an audit table: the error of
// preparing the query, "no such table: audit"). A database without a settings table, or
// without the key in it, gives an empty stored_public_key.
absl::StatusOr<StoredTrail> ReadStoredTrail(sqlite::Database& db);

}  // namespace samenzicht::audit

#endif  // SAMENZICHT_AUDIT_STORED_TRAIL_H_
