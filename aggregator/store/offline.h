// The database read without a Store: the privacy officer's and the operator's offline
// tools (audit verify, key status, token shares, backup and restore) open `aggregator.db`
// read-only and read it through these functions, so the tables and their SQL stay in
// aggregator/store/. Every function works on every schema version a Store can open
// (1..kSchemaVersion) and reads what that version has.
//
//   ASSIGN_OR_RETURN(auto db, OpenDatabaseReadOnly(config.data_dir()));
//   ASSIGN_OR_RETURN(auto settings, ReadStoredSettings(*db));
//   ASSIGN_OR_RETURN(std::vector<StoredEpochCount> counts, ReadEpochCounts(*db));
//
// Thread-safety: free functions; a Database is used by one thread at a time.
#ifndef SAMENZICHT_AGGREGATOR_STORE_OFFLINE_H_
#define SAMENZICHT_AGGREGATOR_STORE_OFFLINE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "audit/chain.h"
#include "audit/stored_trail.h"
#include "common/sqlite/sqlite.h"
#include "crypto/secret_bytes.h"

namespace samenzicht::aggregator {

// `data_dir`/aggregator.db opened read-only (a running server may write meanwhile).
// NotFound when there is no database.
absl::StatusOr<std::unique_ptr<sqlite::Database>> OpenDatabaseReadOnly(const std::string& data_dir);

// Every stored setting (name -> value); empty for a version-1 database, which had none.
// FailedPrecondition when the table is missing from a database that should have it.
absl::StatusOr<std::map<std::string, std::string>> ReadStoredSettings(sqlite::Database& db);

// Stored reports per agency and key epoch (epoch 0 before schema 3), ordered by agency, then
// epoch: how many, and how many still hold tokens. FailedPrecondition when a table is missing.
struct StoredEpochCount {
  std::string agency;
  uint32_t epoch = 0;
  int64_t reports = 0;
  int64_t linkable = 0;
};
absl::StatusOr<std::vector<StoredEpochCount>> ReadEpochCounts(sqlite::Database& db);

// The whole audit trail in seq order and the stored public key (32 raw bytes, "" when none
// is stored). FailedPrecondition (naming the file) when the database has no audit table.
using StoredTrail = audit::StoredTrail;
absl::StatusOr<StoredTrail> ReadAuditTrail(sqlite::Database& db);

// Calls `each(agency, tokens)` for every stored report, `tokens` the opened token blob
// (kStoredTokenBytes per token, store.h; empty when the report has none). Rows sealed
// (schema 8) are opened with `store_key`; DataLoss for a row that does not open.
absl::Status ForEachReportTokens(
    sqlite::Database& db, const crypto::SecretBytes& store_key,
    const std::function<void(const std::string& agency, std::string_view tokens)>& each);

// What a database file holds, for backup and restore.
struct DatabaseFileInfo {
  int64_t schema_version = 0;
  int64_t pages = 0;
  int64_t reports = 0;        // rows in `reports`
  int64_t batches = 0;        // rows in `batches`
  int64_t audit_entries = 0;  // rows in `audit`
};
// Schema version, page count and row counts. FailedPrecondition (naming the file and the
// missing table) when it is no aggregator database of a version this release can open.
absl::StatusOr<DatabaseFileInfo> DescribeDatabase(sqlite::Database& db);

// Writes `settings` (name -> value, replacing) into the database of `db` opened for
// writing, with no audit entry: for a database no server has opened yet (a restored copy;
// the next start records what these settings note). Nothing is written to a version-1
// database (it has no settings); FailedPrecondition when the table is missing otherwise.
absl::Status WriteSettingsUnaudited(sqlite::Database& db,
                                    const std::map<std::string, std::string>& settings);

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_STORE_OFFLINE_H_
