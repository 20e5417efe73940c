// The schema of `aggregator.db` (store.h describes what is on disk): the SQL of every
// version and the migrations between them, run by sqlite::Migrate on `PRAGMA user_version`.
//
//   RETURN_IF_ERROR(sqlite::Migrate(db, StoreMigrations(key_digest, sealer)));  // 0 (new) .. kSchemaVersion
//
// To change the schema: add the next migration to StoreMigrations (schema.cc), raise
// kSchemaVersion (store.h) and describe the version there; offline.cc (DescribeDatabase,
// ReadEpochCounts, ...) reads every version without a Store and lists the tables a version
// must have.
//
// Thread-safety: free functions and constants.
#ifndef SAMENZICHT_AGGREGATOR_STORE_SCHEMA_H_
#define SAMENZICHT_AGGREGATOR_STORE_SCHEMA_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "aggregator/store/store.h"
#include "common/sqlite/sqlite.h"
#include "crypto/row_seal.h"

namespace samenzicht::aggregator {

// Migration k brings schema version k-1 to k (1: a new database's first tables); the last
// is kSchemaVersion. Version 4 registers the connection functions it needs (samenzicht_id16,
// samenzicht_tokens) for its own run only. Version 6 replaces every `batches.digest` by
// `key_digest(digest)` (Store::KeyedBatchDigest: it needs the store key). Version 7 adds
// `reports.version` (corrections); version 8 seals
// every report row with `sealer` (sealed_rows.h), which must outlive the migrations.
using DigestKeyer = std::function<std::string(std::string_view payload_digest)>;
std::vector<sqlite::Migration> StoreMigrations(DigestKeyer key_digest,
                                               const crypto::RowSealer& sealer);

// `hex` (32 lower-case hex characters) as the 16 bytes a report id is stored as; false for
// anything else.
bool ReportIdBytes(std::string_view hex, uint8_t out[kReportIdBytes]);

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_STORE_SCHEMA_H_
