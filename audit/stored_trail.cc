#include "audit/stored_trail.h"

#include "common/status_macros.h"
#include "crypto/encoding.h"

namespace samenzicht::audit {

absl::StatusOr<StoredTrail> ReadStoredTrail(sqlite::Database& db) {
  StoredTrail t;
  ASSIGN_OR_RETURN(sqlite::Statement st, db.Prepare(
      "SELECT seq, time_ms, event, actor, details, prev_hash, hash, signature FROM audit ORDER BY seq"));
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    Entry e;
    e.seq = static_cast<uint64_t>(st.Int(0));
    e.time_ms = st.Int(1);
    e.event = st.Blob(2);
    e.actor = st.Blob(3);
    e.details = st.Blob(4);
    e.prev_hash = st.Blob(5);
    e.hash = st.Blob(6);
    e.signature = st.Blob(7);
    t.entries.push_back(std::move(e));
  }
  // Absent in a database without settings: the trail is then checked with the given key.
  auto key = db.Prepare("SELECT value FROM settings WHERE name = ?1");
  if (key.ok()) {
    key->Bind(1, kStoredPublicKeySetting);
    absl::StatusOr<bool> row = key->Step();
    if (row.ok() && *row) {
      auto pk = crypto::Base64Decode(key->Blob(0));
      if (pk.ok()) t.stored_public_key = *pk;
    }
  }
  return t;
}

}  // namespace samenzicht::audit
