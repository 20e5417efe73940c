#include "audit/stored_trail.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "crypto/encoding.h"

namespace samenzicht::audit {

absl::StatusOr<StoredTrail> ReadStoredTrail(sqlite::Database& db) {
  StoredTrail t;
  ASSIGN_OR_RETURN(sqlite::Statement st,
                   db.Prepare(absl::StrCat("SELECT ", kEntryColumns, " FROM audit ORDER BY seq")));
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    t.entries.push_back(EntryFromRow(st));
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
