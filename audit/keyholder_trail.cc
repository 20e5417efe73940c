#include "audit/keyholder_trail.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/sqlite/sqlite.h"
#include "common/status_macros.h"
#include "crypto/encoding.h"

namespace samenzicht::audit {

bool IsKeyholderDataDir(const std::string& data_dir) {
  std::error_code ec;
  return std::filesystem::is_regular_file(std::filesystem::path(data_dir) / kKeyholderDatabaseFileName, ec);
}

absl::StatusOr<StoredTrail> ReadKeyholderTrail(const std::string& data_dir) {
  const std::string path = (std::filesystem::path(data_dir) / kKeyholderDatabaseFileName).string();
  if (!std::filesystem::exists(path)) return absl::NotFoundError(absl::StrCat("no trail: ", path, " does not exist"));
  sqlite::OpenOptions o;
  o.label = path;
  o.read_only = true;
  o.create = false;
  ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Database> db, sqlite::Database::Open(path, o));
  StoredTrail t;
  ASSIGN_OR_RETURN(sqlite::Statement st, db->Prepare(
      "SELECT seq, time_ms, event, actor, details, prev_hash, hash, signature FROM audit ORDER BY seq"));
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    Entry e;
    e.seq = static_cast<uint64_t>(st.Int(0));
    e.time_ms = st.Int(1);
    e.event = st.Text(2);
    e.actor = st.Text(3);
    e.details = st.Text(4);
    e.prev_hash = st.Blob(5);
    e.hash = st.Blob(6);
    e.signature = st.Blob(7);
    t.entries.push_back(std::move(e));
  }
  ASSIGN_OR_RETURN(sqlite::Statement key, db->Prepare("SELECT value FROM settings WHERE name = 'audit_public_key'"));
  ASSIGN_OR_RETURN(bool row, key.Step());
  if (row) {
    auto pk = crypto::Base64Decode(key.Text(0));
    if (pk.ok()) t.stored_public_key = *pk;
  }
  return t;
}

}  // namespace samenzicht::audit
