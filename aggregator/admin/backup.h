// Backup and restore of the aggregator's database while it runs.
//
//   ASSIGN_OR_RETURN(BackupInfo b, BackupDatabase(config.data_dir(), "/backup/agg-2025-01.db"));
//   ASSIGN_OR_RETURN(BackupInfo r, RestoreDatabase("/backup/agg-2025-01.db", "/var/lib/new"));
//
// `BackupDatabase` opens its own read-only connection to `data_dir`/aggregator.db and copies
// it with SQLite's online backup API (sqlite3_backup_init/step/finish) in ONE step, i.e. in
// one read transaction: the copy is the consistent snapshot of the last committed
// transaction when the step began (every batch is one transaction, so a backup holds whole
// batches and their audit entries, never half of one). In WAL mode a reader never blocks
// the writer, so the server keeps accepting batches while the copy runs. The copy is
// written to a temporary file (mode 0600) beside `out`, switched to rollback-journal mode
// (a single self-contained file), checked with `PRAGMA quick_check`, synced and renamed to
// `out`. `out` must not exist yet.
//
// What a backup holds: exactly the database (reports, re-keyed tokens, batches, retractions,
// rules, settings, audit trail). It never holds the store key, the audit signing key or
// the checkpoints: they are files outside the database. Keep the store key out of backups
// (without it the stored tokens cannot be matched against anything); back up the audit
// checkpoints separately (they are what proves a restored trail was not rewritten).
//
// `RestoreDatabase` refuses a `data_dir` that exists and is not empty (FailedPrecondition),
// checks the backup (DataLoss when it is not an SQLite database or fails quick_check;
// FailedPrecondition when it is not an aggregator database of a schema version this
// release can open), creates `data_dir` with mode 0700 and writes aggregator.db with mode
// 0600 in WAL mode. The next `Store::Open` upgrades an older schema.
//
// Errors: InvalidArgument (empty paths), AlreadyExists (`out` exists), NotFound (no
// database / no backup file), DataLoss, FailedPrecondition, Internal (SQLite or I/O).
//
// Thread-safety: the functions are independent of any Store object and may run while a
// server writes to the same database (from another thread or process).
#ifndef SAMENZICHT_AGGREGATOR_ADMIN_BACKUP_H_
#define SAMENZICHT_AGGREGATOR_ADMIN_BACKUP_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace samenzicht::aggregator {

struct BackupInfo {
  std::string path;  // the file written
  int64_t schema_version = 0;
  int64_t pages = 0;
  int64_t reports = 0;        // rows in `reports`
  int64_t batches = 0;        // rows in `batches`
  int64_t audit_entries = 0;  // rows in `audit`
};

absl::StatusOr<BackupInfo> BackupDatabase(const std::string& data_dir, const std::string& out);

absl::StatusOr<BackupInfo> RestoreDatabase(const std::string& backup_file,
                                           const std::string& data_dir);

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_ADMIN_BACKUP_H_
