#include "agency_node/store/node_db.h"

#include <vector>

#include "common/status_macros.h"

namespace samenzicht::agency_node {
namespace {

// Version 1: the tables of the unversioned node.db, created only when missing.
constexpr char kVersion1[] = R"sql(
CREATE TABLE IF NOT EXISTS report_map (
  record_id TEXT PRIMARY KEY,
  report_id TEXT NOT NULL UNIQUE,
  first_seen_unix INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sent_batches (
  batch_id TEXT PRIMARY KEY,
  digest_hex TEXT NOT NULL,
  report_count INTEGER NOT NULL,
  created_unix INTEGER NOT NULL,
  sent_unix INTEGER NOT NULL,
  ack_code INTEGER,
  ack_message TEXT NOT NULL DEFAULT '',
  accepted INTEGER NOT NULL DEFAULT 0,
  duplicates INTEGER NOT NULL DEFAULT 0,
  refused_reports INTEGER NOT NULL DEFAULT 0,
  ack_unix INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sent_reports (
  batch_id TEXT NOT NULL REFERENCES sent_batches(batch_id),
  position INTEGER NOT NULL,
  report_id TEXT NOT NULL,
  categories TEXT NOT NULL,
  token_count INTEGER NOT NULL,
  error_code INTEGER,
  error_message TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (batch_id, position)
);
CREATE TABLE IF NOT EXISTS retractions (
  report_id TEXT NOT NULL,
  outcome TEXT NOT NULL,
  at_unix INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  batch_id TEXT NOT NULL UNIQUE,
  signed_batch BLOB NOT NULL,
  report_count INTEGER NOT NULL,
  created_unix INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS imported_files (
  digest_hex TEXT PRIMARY KEY,
  batches INTEGER NOT NULL,
  reports INTEGER NOT NULL,
  at_unix INTEGER NOT NULL
);
)sql";

// Version 2: the field a refused report's error names (BatchAck ReportError.field).
constexpr char kVersion2[] = R"sql(
ALTER TABLE sent_reports ADD COLUMN error_field TEXT NOT NULL DEFAULT '';
)sql";

// Version 3: batches the aggregator refused for a reason outside their content (another
// key epoch or profile, a permission) are held in the outbox until `agency-node resend`.
constexpr char kVersion3[] = R"sql(
ALTER TABLE outbox ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN held_reason TEXT NOT NULL DEFAULT '';
)sql";

// Version 4: the acknowledgement's counts of corrected reports (another version of a
// stored report) and of reports that took the batch's newer key epoch (BatchAck.corrected,
// BatchAck.rekeyed).
constexpr char kVersion4[] = R"sql(
ALTER TABLE sent_batches ADD COLUMN corrected INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sent_batches ADD COLUMN rekeyed INTEGER NOT NULL DEFAULT 0;
)sql";

// Numbered 1, 2, ...; the last is kNodeSchemaVersion (node_db_test checks).
const std::vector<sqlite::Migration>& NodeMigrations() {
  static const auto* m = new std::vector<sqlite::Migration>{
      {1, kVersion1},
      {2, kVersion2},
      {3, kVersion3},
      {4, kVersion4},
  };
  return *m;
}

}  // namespace

absl::StatusOr<std::unique_ptr<sqlite::Database>> OpenNodeDatabase(const std::string& state_dir,
                                                                   const std::string& label) {
  if (state_dir.empty()) return absl::InvalidArgumentError("state_dir is not set");
  sqlite::OpenOptions options;
  options.label = label;
  options.file_mode = 0600;
  options.busy_timeout_ms = 5000;
  options.pragmas = {"journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"};
  options.corruption_hint = "; the node's database is damaged";
  ASSIGN_OR_RETURN(auto db,
                   sqlite::Database::Open(state_dir + "/" + kNodeDatabaseFileName, options));
  RETURN_IF_ERROR(sqlite::Migrate(*db, NodeMigrations()));
  return db;
}

}  // namespace samenzicht::agency_node
