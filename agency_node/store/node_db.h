// `<state_dir>/node.db`: the one owner of the node's database file and its schema. The
// StateStore (state_store.h) and the Outbox (outbox.h) each hold a connection opened here
// and use their own tables; neither declares a table or a pragma of its own.
//
//   ASSIGN_OR_RETURN(auto db, OpenNodeDatabase(state_dir, "node state"));
//
// Every connection: mode 0600, WAL, synchronous=FULL, foreign keys on, busy timeout 5 s.
// Errors are the mapping of common/sqlite/sqlite.h (BUSY -> Unavailable, CORRUPT ->
// DataLoss, ...).
//
// Schema versions (`PRAGMA user_version`), the migrations in node_db.cc:
//   1  the tables as they were before node.db had a version: `report_map`, `sent_batches`,
//      `sent_reports`, `retractions` (StateStore) and `outbox`, `imported_files` (Outbox).
//      A node.db without a version (user_version 0) is treated as version 1: migration 1
//      creates only what is missing, so an old file opens with its data and is upgraded;
//   2  `sent_reports.error_field`: the field a refused report's error names;
//   3  `outbox.held`, `outbox.held_reason`: batches held after a refusal that was not about
//      their content, until `agency-node resend`;
//   4  `sent_batches.corrected`, `sent_batches.rekeyed`: of an acknowledged batch, the
//      reports that replaced an earlier version (a correction) and those that took the
//      batch's newer key epoch.
// A node.db of a newer build is refused (FailedPrecondition).
//
// To change the schema: add a migration to kNodeMigrations (node_db.cc) and raise
// kNodeSchemaVersion; nothing else declares node.db's tables.
#ifndef SAMENZICHT_AGENCY_NODE_STORE_NODE_DB_H_
#define SAMENZICHT_AGENCY_NODE_STORE_NODE_DB_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/sqlite/sqlite.h"

namespace samenzicht::agency_node {

inline constexpr int kNodeSchemaVersion = 4;
inline constexpr char kNodeDatabaseFileName[] = "node.db";

// Opens (creating if needed) `<state_dir>/node.db` and brings its schema to
// kNodeSchemaVersion. The folder must exist. `label` prefixes every message of the
// connection ("node state", "node outbox"). InvalidArgument when `state_dir` is empty.
absl::StatusOr<std::unique_ptr<sqlite::Database>> OpenNodeDatabase(const std::string& state_dir,
                                                                   const std::string& label);

}  // namespace samenzicht::agency_node

#endif  // SAMENZICHT_AGENCY_NODE_STORE_NODE_DB_H_
