#include "aggregator/store/store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "audit/aggregator_events.h"
#include "audit/stored_trail.h"
#include "aggregator/store/checkpointer.h"
#include "aggregator/store/report_id_map.h"
#include "aggregator/store/schema.h"
#include "aggregator/store/sealed_rows.h"
#include "common/disk_full.h"
#include "common/files.h"
#include "common/sqlite/sqlite.h"
#include "common/status_macros.h"
#include "crypto/encoding.h"
#include "model/tokens.h"

namespace samenzicht::aggregator {
namespace {

// What to do about a damaged database, appended to its DataLoss message.
constexpr char kCorruptionHint[] =
    "; the database is damaged: the aggregator will not serve totals from it. Restore "
    "aggregator.db from a backup (the nodes resend what was not acknowledged)";

using sqlite::Statement;
using sqlite::Transaction;

// The role of a probe-rule token is kept in the tokens' rule column: rule "x" has
// the rows "x" (ordinary), "x#anchor" and "x#probe" in `rules` ('#' is not allowed in a rule
// name), indexed by v1::TokenRole.
constexpr int kRoles = 3;
constexpr const char* kRoleSuffix[kRoles] = {"", "#anchor", "#probe"};

// Steps `st` onto the one row it returns; Internal when it returns none.
absl::Status StepToRow(Statement& st, const std::string& path, absl::string_view what) {
  ASSIGN_OR_RETURN(const bool row, st.Step());
  if (!row) return absl::InternalError(absl::StrCat(path, ": ", what, ": no row"));
  return absl::OkStatus();
}

// The bytes of a column (sqlite::Statement::BlobView) for the sealed-row functions.
std::string_view StdView(absl::string_view v) { return std::string_view(v.data(), v.size()); }

// A connection to the store's database, read-only for the readers (LoadDataset,
// ReadAudit); the writer's carries the pragmas of `Open`. The status of an SQLite failure is
// the mapping of common/sqlite/sqlite.h (BUSY/LOCKED -> Unavailable, CORRUPT/NOTADB ->
// DataLoss with kCorruptionHint, FULL -> ResourceExhausted marked as a full disk, ...), with
// one rule of the store's own: a failed constraint is Internal. The store decides "already
// stored" and "retracted" itself before it writes (CommitResult, StoreRefusal), so a
// constraint that still fails is a fault of the server or of a hand-edited database, and
// CommitBatch's callers treat it as a store failure (intake.h: Internal, nothing stored).
absl::StatusOr<std::unique_ptr<sqlite::Database>> OpenConnection(const std::string& path,
                                                                 bool read_only) {
  sqlite::OpenOptions options;
  options.label = path;
  options.read_only = read_only;
  options.no_mutex = true;
  options.busy_timeout_ms = 10000;
  options.corruption_hint = kCorruptionHint;
  options.constraint_failure_is_internal = true;
  return sqlite::Database::Open(path, options);
}

// Registers the profile's rules in `rules`; returns their ids, profile rule index * kRoles
// + role.
absl::StatusOr<std::vector<int>> RegisterRules(sqlite::Database& db, const std::string& path,
                                               const std::vector<std::string>& rule_names) {
  // Register the profile's rules; ids of rules seen before stay stable. Each rule also gets
  // a row per probe-rule role (kRoleSuffix), so a token's role is stored in its rule column.
  // One write transaction, taken (waiting up to the busy timeout) before the first read:
  // with a read left open on this connection, the next insert would fail at once with
  // "database is locked" when another connection (a running server) committed in between;
  // seen when `aggregator backup` recorded its audit entry during ingest.
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db));
  std::vector<int> rule_ids;
  ASSIGN_OR_RETURN(Statement ins, db.Prepare("INSERT OR IGNORE INTO rules(name) VALUES (?1)"));
  ASSIGN_OR_RETURN(Statement sel, db.Prepare("SELECT id FROM rules WHERE name = ?1"));
  for (const std::string& rule : rule_names) {
    for (const char* suffix : kRoleSuffix) {
      const std::string name = rule + suffix;
      RETURN_IF_ERROR(ins.Bind(1, name).Run());
      sel.Reset();
      RETURN_IF_ERROR(StepToRow(sel.Bind(1, name), path, "rules"));
      if (sel.Int(0) < 1 || sel.Int(0) > kMaxStoredRuleId) {
        // A token's rule is 14 bits of its entry in `reports.tokens` (store.h).
        return absl::FailedPreconditionError(absl::StrCat(
            path, ": rule '", name, "' would get number ", sel.Int(0), "; the store holds at most ",
            kMaxStoredRuleId, " rule rows over its lifetime"));
      }
      rule_ids.push_back(static_cast<int>(sel.Int(0)));
    }
  }
  sel.Reset();
  RETURN_IF_ERROR(tx.Commit());
  return rule_ids;
}

// The categories of `r` as a report row seals them.
StoredFacts FactsOf(const v1::Report& r) {
  StoredFacts f;
  f.form = static_cast<uint8_t>(r.form());
  f.contact = static_cast<uint8_t>(r.contact());
  f.age_band = static_cast<uint8_t>(r.age_band());
  f.gender = static_cast<uint8_t>(r.gender());
  f.background = static_cast<uint8_t>(r.background());
  f.living = MaskOf(r.living_situation());
  f.recruitment = MaskOf(r.recruitment_location());
  f.coercion = MaskOf(r.coercion());
  f.forced_crime = MaskOf(r.forced_crime());
  f.area = r.area();
  return f;
}

absl::Status PrepareDataDir(const std::string& data_dir) {
  RETURN_IF_ERROR(files::MakeDirs(data_dir));
  struct stat st;
  if (::stat(data_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(data_dir, ": not a folder"));
  }
  if ((st.st_mode & 0077) != 0 && ::chmod(data_dir.c_str(), 0700) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(data_dir, ": is accessible by others and cannot be made private; run: chmod 700 ",
                     data_dir));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& data_dir,
                                                   const crypto::SecretBytes& store_key,
                                                   const std::vector<std::string>& rule_names) {
  if (store_key.size() != 32) return absl::InvalidArgumentError("store key must be 32 bytes");
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::KeyedHasher> hasher,
                   crypto::KeyedHasher::New(store_key, kStorePurpose, 0, rule_names));
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::KeyedHasher> digest_hasher,
                   crypto::KeyedHasher::New(store_key, kBatchDigestPurpose, 0, {"batch"}));
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::RowSealer> sealer, crypto::RowSealer::New(store_key));
  RETURN_IF_ERROR(PrepareDataDir(data_dir));
  const std::string path = (std::filesystem::path(data_dir) / kDatabaseFileName).string();

  // An existing database file that is empty was truncated: SQLite would take it for a new
  // database and the aggregator would serve zero totals.
  {
    std::error_code ec;
    if (std::filesystem::exists(path, ec) && std::filesystem::file_size(path, ec) == 0 && !ec) {
      return absl::DataLossError(absl::StrCat(
          path, ": the database file is empty (truncated?); the aggregator will not serve totals "
                "from it. Restore aggregator.db from a backup, or remove the empty file if this "
                "is a new deployment"));
    }
  }
  // Create the file ourselves so it is 0600 from the first byte; SQLite gives the -wal and
  // -shm files the same mode.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return absl::FailedPreconditionError(absl::StrCat(path, ": cannot create: ", strerror(errno)));
  ::fchmod(fd, 0600);
  ::close(fd);

  ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Database> writer,
                   OpenConnection(path, /*read_only=*/false));
  sqlite::Database& db = *writer;  // `writer` closes the connection on every return

  // Integrity first: a damaged file is refused before anything is written to it.
  {
    ASSIGN_OR_RETURN(Statement st, db.Prepare("PRAGMA quick_check"));
    RETURN_IF_ERROR(StepToRow(st, path, "integrity check failed"));
    std::string verdict = st.Text(0);
    if (verdict != "ok") {
      return absl::DataLossError(
          absl::StrCat(path, ": integrity check failed (", verdict.substr(0, 200),
                       "); the aggregator will not serve totals from a damaged database. Restore "
                       "aggregator.db from a backup"));
    }
  }

  // secure_delete: deleted reports and tokens are overwritten, not left in free pages.
  // cache_size: 64 MiB of pages (the default 2 MiB is smaller than the report-id index of a
  // few hundred thousand reports, and every insert would read index pages back).
  // wal_autocheckpoint: the WAL is copied back into the database file once it holds 10,000
  // pages (~40 MiB) instead of SQLite's 1,000 (55-60k -> 72-85k reports/s when report ids
  // were still indexed, docs/performance.md). It applies while `Open` upgrades the schema;
  // then the Store's Checkpointer (below) replaces it on this connection.
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                             "PRAGMA foreign_keys=ON", "PRAGMA secure_delete=ON",
                             "PRAGMA cache_size=-65536", "PRAGMA wal_autocheckpoint=10000"}) {
    RETURN_IF_ERROR(db.Exec(pragma));
  }

  ASSIGN_OR_RETURN(const int64_t version, db.UserVersion());
  if (version == 0) {
    ASSIGN_OR_RETURN(Statement st, db.Prepare("SELECT count(*) FROM sqlite_schema"));
    RETURN_IF_ERROR(StepToRow(st, path, "reading the schema"));
    if (st.Int(0) != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, ": holds tables but no samenzicht schema version; not an aggregator database"));
    }
    // Freed pages can be returned to the file system (ReclaimSpace); only settable before
    // the first table exists.
    RETURN_IF_ERROR(db.Exec("PRAGMA auto_vacuum=INCREMENTAL"));
  }
  if (version > kSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": database schema version ", version, " is not the supported version ",
                     kSchemaVersion, "; use the aggregator release that wrote it"));
  }
  const crypto::KeyedHasher& digest_key = *digest_hasher;
  const std::vector<sqlite::Migration> migrations = StoreMigrations(
      [&digest_key](std::string_view digest) { return digest_key.Hash(0, digest); }, *sealer);
  if (migrations.back().version != kSchemaVersion) {
    return absl::InternalError("store.h's kSchemaVersion is not the last migration");
  }
  if (version < kSchemaVersion) {
    RETURN_IF_ERROR(sqlite::Migrate(db, migrations));
    // A conversion rewrites whole tables: give the WAL's copy of them back to the disk now
    // (best effort; a reader of another process can hold it, then the next checkpoint does).
    if (version != 0) (void)db.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }

  ASSIGN_OR_RETURN(std::vector<int> rule_ids, RegisterRules(db, path, rule_names));
  ::chmod(path.c_str(), 0600);
  std::unique_ptr<Store> store(
      new Store(path, std::move(writer), std::move(hasher), std::move(rule_ids)));
  store->digest_hasher_ = std::move(digest_hasher);
  store->sealer_ = std::move(sealer);
  ASSIGN_OR_RETURN(store->checkpointer_, Checkpointer::Start(path));
  // Replaces wal_autocheckpoint on the writer connection.
  sqlite3_wal_hook(store->writer_->handle(), &Checkpointer::OnCommit, store->checkpointer_.get());
  return store;
}

// CommitBatch's statements, prepared once on the writer connection and reset after use.
struct Store::WriteStatements {
  Statement find_batch, insert_batch, update_batch, find_retracted, insert_report, insert_report_id,
      find_report, replace_tokens, correct_report, last_row, save_last_row;
  std::string facts, tokens;  // a report's sealed values
  std::string opened;         // a stored report's opened facts or tokens (scratch)

  // `facts` and `tokens` become the sealed categories of `r` and its token blob at `place`.
  void Seal(const crypto::RowSealer& sealer, const RowPlace& place, const v1::Report& r,
            std::string_view blob) {
    facts.clear();
    tokens.clear();
    SealFacts(sealer, place, FactsOf(r), &facts);
    SealTokens(sealer, place, blob, &tokens);
  }

  static absl::StatusOr<std::unique_ptr<WriteStatements>> Prepare(sqlite::Database& db) {
    auto w = std::make_unique<WriteStatements>();
    ASSIGN_OR_RETURN(
        w->find_batch,
        db.Prepare("SELECT digest, accepted, duplicates FROM batches WHERE batch_id = ?1"));
    ASSIGN_OR_RETURN(w->insert_batch,
                     db.Prepare("INSERT INTO batches(batch_id, agency, digest, received_at, "
                                "report_count, accepted, duplicates) VALUES (?1,?2,?3,?4,?5,0,0)"));
    ASSIGN_OR_RETURN(w->update_batch,
                     db.Prepare("UPDATE batches SET accepted = ?2, duplicates = ?3 "
                                "WHERE batch_id = ?1"));
    ASSIGN_OR_RETURN(w->find_retracted,
                     db.Prepare("SELECT agency FROM retracted WHERE report_id = ?1"));
    // Whether a report id is new is decided by the in-memory map (ReportIdMap); a new
    // report's row and id row are appended, an existing one is read by its row number.
    ASSIGN_OR_RETURN(
        w->insert_report,
        db.Prepare("INSERT INTO reports(id, agency, batch_id, signal_month, key_epoch, facts, "
                   "tokens) VALUES (?1,?2,?3,?4,?5,?6,?7)"));
    // A new report's row id is chosen before it is inserted: its sealed values are bound
    // to it (sealed_rows.h). The next one after the highest ever given out, stored or not
    // (kSettingLastReportRow): a deleted report's number is never given again.
    ASSIGN_OR_RETURN(w->last_row, db.Prepare(absl::StrCat(
                                      "SELECT max(coalesce((SELECT max(id) FROM reports), 0), "
                                      "coalesce((SELECT CAST(value AS INTEGER) FROM settings "
                                      "WHERE name = '",
                                      kSettingLastReportRow, "'), 0))")));
    ASSIGN_OR_RETURN(w->save_last_row,
                     db.Prepare(absl::StrCat("INSERT INTO settings(name, value) VALUES ('",
                                             kSettingLastReportRow,
                                             "', ?1) ON CONFLICT(name) DO UPDATE SET value = "
                                             "excluded.value")));
    ASSIGN_OR_RETURN(w->insert_report_id,
                     db.Prepare("INSERT INTO report_ids(id, report_id) VALUES (?1, ?2)"));
    ASSIGN_OR_RETURN(w->find_report,
                     db.Prepare("SELECT agency, key_epoch, signal_month, facts, tokens, version "
                                "FROM reports WHERE id = ?1"));
    // Key rotation: the same agency re-sends a report under a newer key epoch.
    ASSIGN_OR_RETURN(w->replace_tokens,
                     db.Prepare("UPDATE reports SET tokens = ?2, key_epoch = ?3 WHERE id = ?1"));
    // A correction: the same report id, the batch's content (sealed again), the next version.
    ASSIGN_OR_RETURN(w->correct_report,
                     db.Prepare("UPDATE reports SET batch_id = ?2, signal_month = ?3, "
                                "key_epoch = ?4, facts = ?5, tokens = ?6, "
                                "version = version + 1 WHERE id = ?1"));
    return w;
  }
  // Leaves no statement active (and no binding pointing into a finished batch).
  void ResetAll() {
    for (Statement* st : {&find_batch, &insert_batch, &update_batch, &find_retracted,
                          &insert_report, &insert_report_id, &find_report, &replace_tokens,
                          &correct_report, &last_row, &save_last_row}) {
      st->Reset();
    }
  }
};

Store::Store(std::string path, std::unique_ptr<sqlite::Database> writer,
             std::unique_ptr<crypto::KeyedHasher> hasher, std::vector<int> rule_ids)
    : path_(std::move(path)),
      writer_(std::move(writer)),
      hasher_(std::move(hasher)),
      rule_ids_(std::move(rule_ids)),
      report_ids_(std::make_unique<ReportIds>()) {}

absl::Status Store::SyncReportIds() {
  ReportIds& ids = *report_ids_;
  int64_t version = 0;
  {
    ASSIGN_OR_RETURN(Statement st, writer_->Prepare("PRAGMA data_version"));
    RETURN_IF_ERROR(StepToRow(st, path_, "data_version"));
    version = st.Int(0);
  }
  if (ids.loaded && version == ids.data_version) return absl::OkStatus();
  ids.loaded = false;
  ids.added.clear();
  ids.row.clear();
  try {
    RETURN_IF_ERROR(LoadReportIdsLocked());
  } catch (const std::bad_alloc&) {
    ids.row.clear();
    return absl::ResourceExhaustedError(
        absl::StrCat(path_, ": not enough memory for the report ids; nothing stored"));
  }
  ids.data_version = version;
  ids.loaded = true;
  return absl::OkStatus();
}

absl::Status Store::LoadReportIdsLocked() {
  ReportIds& ids = *report_ids_;
  {
    ASSIGN_OR_RETURN(
        Statement count,
        writer_->Prepare(
            "SELECT (SELECT count(*) FROM report_ids) + (SELECT count(*) FROM retracted)"));
    RETURN_IF_ERROR(StepToRow(count, path_, "counting report ids"));
    // Room for a full group beyond what is held, so the first groups do not grow the map.
    ids.row.reserve(static_cast<size_t>(count.Int(0)) + kMaxCommitGroupReports);
  }
  auto load = [&](const char* sql, const char* what) -> absl::Status {
    ASSIGN_OR_RETURN(Statement st, writer_->Prepare(sql));
    while (true) {
      ASSIGN_OR_RETURN(const bool row, st.Step());
      if (!row) return absl::OkStatus();
      const absl::string_view blob = st.BlobView(1);
      if (blob.size() != kReportIdBytes) {
        return absl::DataLossError(absl::StrCat(path_, ": ", what, " row ", st.Int(0),
                                                " holds no 16-byte report id"));
      }
      auto [it, inserted] = ids.row.emplace(
          ReportIds::KeyOf(reinterpret_cast<const uint8_t*>(blob.data())), st.Int(0));
      if (!inserted) {
        return absl::DataLossError(absl::StrCat(
            path_, ": a report id is held twice (", what, " row ", st.Int(0), ", and row ",
            it->second, " of report_ids or retracted (0)); no batch is stored until it is "
            "repaired: restore a backup, or ask the report's agency which one to retract"));
      }
    }
  };
  RETURN_IF_ERROR(load("SELECT id, report_id FROM report_ids", "report_ids"));
  return load("SELECT 0, report_id FROM retracted", "retracted");
}

absl::StatusOr<size_t> Store::LoadReportIds() {
  std::lock_guard<std::mutex> lock(write_mu_);
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(*writer_, Transaction::Mode::kDeferred));
  RETURN_IF_ERROR(SyncReportIds());
  RETURN_IF_ERROR(tx.Commit());
  return report_ids_->row.size();
}

size_t Store::ReportIdMemoryBytes() const {
  std::lock_guard<std::mutex> lock(write_mu_);
  return report_ids_->MemoryBytes();
}

Store::~Store() {
  if (checkpointer_ != nullptr) {  // null only when Open failed to start it
    std::lock_guard<std::mutex> lock(write_mu_);
    sqlite3_wal_hook(writer_->handle(), nullptr, nullptr);
    checkpointer_.reset();
  }
  write_statements_.reset();  // finalised before the connection (writer_) closes
}

void Store::SetCheckpointPages(int background_pages, int inline_pages) {
  std::lock_guard<std::mutex> lock(write_mu_);
  checkpointer_->SetPages(background_pages, inline_pages);  // an opened Store always has one
}

void Store::SetKnownAreas(const std::vector<std::string>& areas) { known_areas_ = areas; }

std::string Store::KeyedBatchDigest(std::string_view payload_digest) const {
  return digest_hasher_->Hash(0, payload_digest);
}

// A batch's report ids (16 bytes each), re-keyed token blobs and keyed digest, made before
// the writer lock.
struct Store::EncodedBatch {
  std::string digest;               // KeyedBatchDigest(batch.digest)
  std::vector<uint8_t> ids;         // 16 bytes per report
  std::vector<uint8_t> tokens;      // the token blobs, one after the other
  std::vector<uint32_t> token_end;  // report i's blob ends here (starts at token_end[i-1])

  const uint8_t* id(size_t i) const { return ids.data() + i * kReportIdBytes; }
  absl::string_view id_bytes(size_t i) const {
    return absl::string_view(reinterpret_cast<const char*>(id(i)), kReportIdBytes);
  }
  const uint8_t* blob(size_t i) const { return tokens.data() + (i == 0 ? 0 : token_end[i - 1]); }
  size_t blob_size(size_t i) const { return token_end[i] - (i == 0 ? 0 : token_end[i - 1]); }
};

// One caller waiting for a group commit (guarded by commit_mu_ while queued): a CommitBatch
// call (`batch` set) or an AppendAudit call (`event` set).
struct Store::PendingCommit {
  const BatchToStore* batch = nullptr;
  const EncodedBatch* enc = nullptr;
  const std::string* event = nullptr;
  const std::string* actor = nullptr;
  const std::string* details = nullptr;
  absl::StatusOr<CommitResult> result = absl::InternalError("not committed");
  bool done = false;
};

// What one leader commits (CommitGroup): the entries and batches to write; CommitGroup
// moves each to `finished` once its result is set, or a batch it did not write to
// `deferred` (back to the front of the queue, in order).
struct Store::GroupItems {
  std::vector<PendingCommit*> audits, batches;
  std::vector<PendingCommit*> finished, deferred;
};

absl::StatusOr<Store::EncodedBatch> Store::Encode(const BatchToStore& batch) const {
  // Report ids to bytes, and every agency token keyed again with the store key; only the
  // result reaches a statement.
  EncodedBatch enc;
  enc.digest = KeyedBatchDigest(batch.digest);
  const size_t n = batch.reports.size();
  size_t token_count = 0;
  for (const ReportToStore& item : batch.reports) token_count += model::TokenCount(*item.report);
  enc.ids.resize(n * kReportIdBytes);
  enc.tokens.resize(token_count * kStoredTokenBytes);
  enc.token_end.resize(n);
  uint8_t* out = enc.tokens.data();
  for (size_t i = 0; i < n; ++i) {
    const v1::Report& r = *batch.reports[i].report;
    if (!ReportIdBytes(r.report_id(), enc.ids.data() + i * kReportIdBytes)) {
      return absl::InternalError("unvalidated report id reached the store");  // a bug upstream
    }
    bool valid = r.packed_tokens().size() % model::kPackedTokenBytes == 0;
    model::ForEachToken(r, hasher_->labels(), [&](const model::TokenRef& t) {
      if (t.rule < 0 || static_cast<size_t>(t.rule) >= hasher_->labels().size() ||
          t.value.size() != crypto::kTokenBytes) {
        valid = false;
        return;
      }
      const int role = v1::TokenRole_IsValid(t.role) ? t.role : 0;
      const int rule_id = rule_ids_[static_cast<size_t>(t.rule) * kRoles + role];
      out[0] = static_cast<uint8_t>(rule_id & 0xff);  // little-endian, flag bits 0
      out[1] = static_cast<uint8_t>(rule_id >> 8);
      hasher_->HashInto(static_cast<size_t>(t.rule), t.value, out + 2);
      out += kStoredTokenBytes;
    });
    if (!valid) return absl::InternalError("unvalidated token reached the store");  // a bug upstream
    enc.token_end[i] = static_cast<uint32_t>(out - enc.tokens.data());
  }
  return enc;
}

absl::StatusOr<CommitResult> Store::CommitBatch(const BatchToStore& batch) {
  // Outside every lock: batches of several nodes are encoded in parallel.
  ASSIGN_OR_RETURN(const EncodedBatch enc, Encode(batch));
  PendingCommit me;
  me.batch = &batch;
  me.enc = &enc;
  WaitForGroupCommit(&me);
  return std::move(me.result);
}

// Group commit: the first caller to find no commit under way becomes the leader and commits
// what is queued by then in ONE transaction (one WAL sync, and the index pages the batches
// share written once); the others wait for it. A caller returns once its own item is
// committed (or failed). The leader keeps leading until its own item is done, then hands
// over to a waiting caller.
//
// Audit entries (AppendAudit: a query's, an administrator's, a refused batch's) take the
// same queue as light items, not a write path of their own. SQLite has one writer at a
// time, so a second connection could not write while a group's transaction is open; and an
// entry kept outside the `audit` table until later (a file or memory of its own) would
// either not be durable when the query is answered or split the chain's one order across
// two places a crash can leave out of step. What keeps an entry from waiting behind ingest
// is how groups are cut, as a database gives short transactions priority over a bulk load:
//  - the entries waiting when a group is formed are written first in its transaction;
//  - an entry that begins to wait while a group is being written joins that open
//    transaction before the group's next batch;
//  - a group holding an entry takes no batch after its first: the batches not yet written
//    go back to the front of the queue (the next group), and the group commits.
// So an entry waits for at most one batch (the one being written when it arrived, or the
// group's first) and one COMMIT (its fsync, and a WAL checkpoint the commit may run,
// checkpointer.h), never for a group of up to kMaxCommitGroupReports reports or for the
// groups queued behind it; its caller returns only after that COMMIT, so an answered
// query's entry survives a crash. Every group writes at least one batch when batches wait,
// so a stream of queries cannot starve the ingest; it costs the ingest at most one more
// COMMIT per query (a cut group commits twice). Every entry is chained inside the
// transaction that stores it, in the order written, so the trail stays one hash chain.
void Store::WaitForGroupCommit(PendingCommit* me) {
  std::unique_lock<std::mutex> lock(commit_mu_);
  if (me->batch != nullptr) {
    commit_queue_.push_back(me);
    ++pending_commits_;
  } else {
    audit_queue_.push_back(me);
    audits_waiting_.store(audit_queue_.size());
    if (test_hooks_.audit_waiting) test_hooks_.audit_waiting();
  }
  while (!me->done) {
    if (commit_leader_) {
      commit_cv_.wait(lock);
      continue;
    }
    commit_leader_ = true;
    GroupItems group;
    group.audits.assign(audit_queue_.begin(), audit_queue_.end());
    audit_queue_.clear();
    audits_waiting_.store(0);
    size_t reports = 0;
    while (!commit_queue_.empty() &&
           (group.batches.empty() ||
            reports + commit_queue_.front()->batch->reports.size() <= max_group_reports_)) {
      reports += commit_queue_.front()->batch->reports.size();
      group.batches.push_back(commit_queue_.front());
      commit_queue_.pop_front();
    }
    lock.unlock();
    CommitGroup(&group);
    lock.lock();
    for (auto it = group.deferred.rbegin(); it != group.deferred.rend(); ++it) {
      commit_queue_.push_front(*it);
    }
    for (PendingCommit* p : group.finished) {
      p->done = true;
      if (p->batch != nullptr) --pending_commits_;
    }
    commit_leader_ = false;
    commit_cv_.notify_all();
  }
}

void Store::TakeWaitingAudits(std::vector<PendingCommit*>* audits) {
  if (audits_waiting_.load() == 0) return;  // one still being queued is taken next time
  std::lock_guard<std::mutex> lock(commit_mu_);
  audits->insert(audits->end(), audit_queue_.begin(), audit_queue_.end());
  audit_queue_.clear();
  audits_waiting_.store(0);
}

void Store::SetMaxCommitGroupReports(size_t reports) {
  std::lock_guard<std::mutex> lock(commit_mu_);
  max_group_reports_ = reports;
}

size_t Store::PendingCommits() const {
  std::lock_guard<std::mutex> lock(commit_mu_);
  return pending_commits_;
}

void Store::CommitGroup(GroupItems* g) {
  std::lock_guard<std::mutex> lock(write_mu_);
  // Answers every item of `items` with `status` (OK: an empty CommitResult).
  auto answer = [&](std::vector<PendingCommit*>* items, const absl::Status& status) {
    for (PendingCommit* p : *items) {
      if (status.ok()) {
        p->result = CommitResult();
      } else {
        p->result = status;
      }
      g->finished.push_back(p);
    }
    items->clear();
  };
  if (chain_ == nullptr && g->batches.empty()) return answer(&g->audits, absl::OkStatus());
  if (!g->batches.empty() && write_statements_ == nullptr) {
    auto prepared = WriteStatements::Prepare(*writer_);
    if (!prepared.ok()) {
      answer(&g->batches, prepared.status());
    } else {
      write_statements_ = *std::move(prepared);
    }
  }
  // A batch whose statements fail is answered with its error and the transaction is rolled
  // back; the group is then tried again without it, so the others are stored. (Not a
  // savepoint per batch: SQLite would copy every page a batch changes into a sub-journal,
  // which cost ~15% of the ingest rate; a failure is rare, a retry is cheap.)
  // Every attempt starts from here (a failed one restores it).
  std::optional<audit::AuditChain> chain_at_start;
  if (chain_ != nullptr) chain_at_start = *chain_;
  while (!g->audits.empty() || !g->batches.empty()) {
    std::vector<audit::Entry> entries;
    std::vector<CommitResult> results(g->batches.size());
    absl::Status status;
    PendingCommit* failed = nullptr;  // the item whose statements failed, if one did
    // One audit entry, chained on the last one written (no trail: nothing is written).
    auto write_audit = [&](PendingCommit* p) {
      if (chain_ == nullptr) return;
      absl::StatusOr<audit::Entry> e = AppendInTransaction(*p->event, *p->actor, *p->details);
      if (!e.ok()) {
        status = e.status();
        failed = p;
        return;
      }
      chain_->Commit(*e);  // the next item chains on; undone if the transaction fails
      entries.push_back(*std::move(e));
    };
    // Writes the entries that began to wait since the last look.
    auto join_waiting_audits = [&] {
      const size_t before = g->audits.size();
      TakeWaitingAudits(&g->audits);
      for (size_t k = before; status.ok() && k < g->audits.size(); ++k) write_audit(g->audits[k]);
    };
    // The one place that catches: an exception (out of memory) must not leave the group's
    // callers waiting forever or the chain ahead of the database.
    try {
      next_row_ = 0;  // read again in this transaction
      absl::StatusOr<Transaction> tx = Transaction::Begin(*writer_);
      status = tx.status();
      if (status.ok() && !g->batches.empty()) status = SyncReportIds();
      for (size_t k = 0; status.ok() && k < g->audits.size(); ++k) write_audit(g->audits[k]);
      for (size_t i = 0; status.ok() && i < g->batches.size(); ++i) {
        join_waiting_audits();
        if (!status.ok()) break;
        if (i > 0 && !g->audits.empty()) {
          // An entry waits for this COMMIT: the group takes no further batch (see
          // WaitForGroupCommit); the others go to the next group.
          const auto rest = g->batches.begin() + static_cast<std::ptrdiff_t>(i);
          g->deferred.insert(g->deferred.begin(), rest, g->batches.end());
          g->batches.resize(i);
          results.resize(i);
          break;
        }
        absl::StatusOr<CommitResult> r =
            WriteBatch(*g->batches[i]->batch, *g->batches[i]->enc, &entries);
        write_statements_->ResetAll();  // no statement active, none bound to a finished batch
        if (r.ok()) {
          results[i] = *std::move(r);
          if (test_hooks_.batch_written) test_hooks_.batch_written(i);
        } else {
          status = r.status();
          failed = g->batches[i];
        }
      }
      if (status.ok()) join_waiting_audits();  // they share this COMMIT
      if (status.ok() && next_row_ != 0) {
        // rows were given out in this transaction: remember the highest with them
        Statement& save = write_statements_->save_last_row;
        save.Reset();
        status = save.Bind(1, absl::StrCat(next_row_ - 1)).Run();
      }
      if (status.ok()) status = tx->Commit();
      // On failure the transaction rolls back here: nothing of this attempt is stored.
    } catch (...) {
      status = absl::ResourceExhaustedError("committing a group of batches failed (out of memory)");
      failed = nullptr;
      report_ids_->loaded = false;  // the map may be part-changed: read again by the next write
    }
    if (!status.ok()) {
      report_ids_->Undo();
      if (chain_at_start.has_value()) *chain_ = *chain_at_start;
      if (failed != nullptr) {
        failed->result = status;
        g->finished.push_back(failed);
        for (std::vector<PendingCommit*>* items : {&g->audits, &g->batches}) {
          items->erase(std::remove(items->begin(), items->end(), failed), items->end());
        }
        continue;
      }
      // The transaction itself failed (BEGIN, COMMIT, memory): nothing of it is stored. Its
      // batches are answered with the error; its entries are tried once more without them,
      // so that a batch that cannot be committed does not refuse a query.
      if (!g->batches.empty()) {
        answer(&g->batches, status);
        continue;
      }
      return answer(&g->audits, status);
    }
    report_ids_->added.clear();
    for (size_t i = 0; i < g->batches.size(); ++i) {
      if (!results[i].replayed) ++generation_;  // a replayed batch changed nothing
      g->batches[i]->result = std::move(results[i]);
      g->finished.push_back(g->batches[i]);
    }
    g->batches.clear();
    answer(&g->audits, absl::OkStatus());
    for (const audit::Entry& e : entries) CheckpointIfDue(e);
    return;
  }
}

absl::StatusOr<int64_t> Store::InsertReport(const BatchToStore& batch, const v1::Report& r,
                                            std::string_view token_blob) {
  WriteStatements& w = *write_statements_;
  if (next_row_ == 0) {
    w.last_row.Reset();
    RETURN_IF_ERROR(StepToRow(w.last_row, path_, "reading reports"));
    next_row_ = w.last_row.Int(0) + 1;
    w.last_row.Reset();
  }
  const int64_t row = next_row_;
  w.Seal(*sealer_, RowPlace{row, batch.agency, r.signal_month(), batch.key_epoch}, r, token_blob);
  Statement& ins = w.insert_report;
  ins.Reset();
  ins.Bind(1, row);
  ins.BindStatic(2, batch.agency);
  ins.BindStatic(3, batch.batch_id);
  ins.Bind(4, r.signal_month());
  ins.Bind(5, batch.key_epoch);
  ins.BindBlob(6, w.facts);
  ins.BindBlob(7, w.tokens);
  RETURN_IF_ERROR(ins.Run());
  ++next_row_;
  return row;
}

namespace {

// True when the stored row `found` (WriteStatements::find_report, stepped onto row `row`)
// holds the signal month and categories of `r` and, with `compare_tokens` (the same key
// epoch: tokens of another epoch always differ), the token blob `blob`. The sealed values
// are opened into `scratch`; one that does not open is DataLoss.
absl::StatusOr<bool> SameContent(const crypto::RowSealer& sealer, const Statement& found,
                                 int64_t row, const v1::Report& r, bool compare_tokens,
                                 std::string_view blob, std::string* scratch) {
  const std::string agency = found.Text(0);
  const RowPlace place{row, agency, static_cast<uint32_t>(found.Int(2)),
                       static_cast<uint32_t>(found.Int(1))};
  StoredFacts stored;
  RETURN_IF_ERROR(OpenFacts(sealer, place, found.Blob(3), &stored, scratch));
  if (place.signal_month != r.signal_month() || !(stored == FactsOf(r))) return false;
  if (!compare_tokens) return true;
  RETURN_IF_ERROR(OpenTokens(sealer, place, found.Blob(4), scratch));
  return *scratch == blob;
}

}  // namespace

absl::StatusOr<CommitResult> Store::WriteBatch(const BatchToStore& batch, const EncodedBatch& enc,
                                               std::vector<audit::Entry>* entries) {
  WriteStatements& w = *write_statements_;
  ReportIds& ids = *report_ids_;
  // The map names a row the database does not hold (`row` false) or reading it failed: the
  // batch is not stored, and the next write reads the map again.
  auto out_of_step = [&](const absl::StatusOr<bool>& row, const std::string& named) {
    ids.loaded = false;
    return row.ok() ? absl::InternalError(
                          absl::StrCat(path_, ": the report-id map names ", named,
                                       ", which the database does not hold; batch not stored"))
                    : row.status();
  };
  CommitResult result;
  std::vector<int64_t> corrected_rows;  // rows this batch corrects (RecordLeaving)
  w.find_batch.Reset();
  ASSIGN_OR_RETURN(const bool replayed, w.find_batch.BindStatic(1, batch.batch_id).Step());
  if (replayed) {
    result.replayed = true;
    result.previous_digest = w.find_batch.Blob(0);
    result.first_accepted = static_cast<uint32_t>(w.find_batch.Int(1));
    result.first_duplicates = static_cast<uint32_t>(w.find_batch.Int(2));
    return result;  // nothing of it is written
  }

  // The batch row first: reports refer to it.
  w.insert_batch.Reset();
  w.insert_batch.BindStatic(1, batch.batch_id);
  w.insert_batch.BindStatic(2, batch.agency);
  w.insert_batch.BindBlobStatic(3, enc.digest);
  w.insert_batch.Bind(4, batch.received_unix);
  w.insert_batch.Bind(5, batch.report_count);
  RETURN_IF_ERROR(w.insert_batch.Run());

  for (size_t i = 0; i < batch.reports.size(); ++i) {
    const ReportToStore& item = batch.reports[i];
    const v1::Report& r = *item.report;
    const ReportIds::Key key = ReportIds::KeyOf(enc.id(i));
    const auto known = ids.row.find(key);
    if (known == ids.row.end()) {  // a new report
      ASSIGN_OR_RETURN(const int64_t row,
                       InsertReport(batch, r,
                                    std::string_view(reinterpret_cast<const char*>(enc.blob(i)),
                                                     enc.blob_size(i))));
      w.insert_report_id.Reset();
      w.insert_report_id.Bind(1, row);
      w.insert_report_id.BindBlobStatic(2, enc.id_bytes(i));
      RETURN_IF_ERROR(w.insert_report_id.Run());
      ids.row.emplace(key, row);
      ids.added.push_back(key);
      ++result.accepted;
      continue;
    }

    if (known->second == ReportIds::kRetracted) {
      w.find_retracted.Reset();
      const absl::StatusOr<bool> found = w.find_retracted.BindBlobStatic(1, enc.id_bytes(i)).Step();
      if (!found.ok() || !*found) return out_of_step(found, "a retraction");
      if (w.find_retracted.TextView(0) == batch.agency) {
        result.refused.push_back({item.index, absl::StatusCode::kFailedPrecondition,
                                  "report_id was retracted and cannot be submitted again"});
      } else {
        result.refused.push_back({item.index, absl::StatusCode::kAlreadyExists,
                                  "report_id is already in use by another report"});
      }
      continue;
    }

    // The report id is stored already.
    const int64_t row = known->second;
    w.find_report.Reset();
    const absl::StatusOr<bool> found = w.find_report.Bind(1, row).Step();
    if (!found.ok() || !*found) return out_of_step(found, absl::StrCat("report row ", row));
    if (w.find_report.TextView(0) != batch.agency) {
      result.refused.push_back({item.index, absl::StatusCode::kAlreadyExists,
                                "report_id is already in use by another report"});
    } else if (const uint32_t stored_epoch = static_cast<uint32_t>(w.find_report.Int(1));
               stored_epoch <= batch.key_epoch) {
      const std::string_view blob(reinterpret_cast<const char*>(enc.blob(i)), enc.blob_size(i));
      ASSIGN_OR_RETURN(const bool same, SameContent(*sealer_, w.find_report, row, r,
                                                    stored_epoch == batch.key_epoch, blob,
                                                    &w.opened));
      if (same && stored_epoch == batch.key_epoch) {
        ++result.duplicates;
        continue;
      }
      if (same) {
        // Key rotation: the same report under a newer epoch. Its tokens are replaced; the
        // report (and its categories) stays one report, counted once.
        w.tokens.clear();
        SealTokens(*sealer_, RowPlace{row, batch.agency, 0, batch.key_epoch}, blob, &w.tokens);
        w.replace_tokens.Reset();
        w.replace_tokens.Bind(1, row);
        w.replace_tokens.BindBlob(2, w.tokens);
        w.replace_tokens.Bind(3, batch.key_epoch);
        RETURN_IF_ERROR(w.replace_tokens.Run());
        ++result.replaced;
        continue;
      }
      // A correction: the agency sent the report again with other content. The row takes
      // the new content under the next version (a key rotation's new tokens included).
      const int64_t version = w.find_report.Int(5) + 1;
      w.Seal(*sealer_, RowPlace{row, batch.agency, r.signal_month(), batch.key_epoch}, r, blob);
      Statement& c = w.correct_report;
      c.Reset();
      c.Bind(1, row);
      c.BindStatic(2, batch.batch_id);
      c.Bind(3, r.signal_month());
      c.Bind(4, batch.key_epoch);
      c.BindBlob(5, w.facts);
      c.BindBlob(6, w.tokens);
      RETURN_IF_ERROR(c.Run());
      if (stored_epoch < batch.key_epoch) {
        ++result.replaced;
      } else {
        ++result.duplicates;
      }
      ++result.corrected;
      corrected_rows.push_back(row);
      if (chain_ != nullptr) {
        const ReportCorrectedEvent d{batch.agency, batch.batch_id, r.report_id(), version};
        ASSIGN_OR_RETURN(audit::Entry entry,
                         AppendInTransaction(kEventReportCorrected, batch.agency, d.ToJson()));
        chain_->Commit(entry);
        entries->push_back(std::move(entry));
      }
    } else {
      ++result.duplicates;  // an older epoch's copy of a report stored under a newer one
    }
  }

  // The departures the corrections cause, recorded in the same transaction.
  RETURN_IF_ERROR(RecordLeaving(corrected_rows, entries));

  w.update_batch.Reset();
  w.update_batch.BindStatic(1, batch.batch_id);
  w.update_batch.Bind(2, result.accepted);
  w.update_batch.Bind(3, result.duplicates);
  RETURN_IF_ERROR(w.update_batch.Run());
  if (chain_ != nullptr) {
    BatchReceivedEvent d;
    d.agency = batch.agency;
    d.batch_id = batch.batch_id;
    d.reports = batch.report_count;
    d.accepted = result.accepted;
    d.duplicates = result.duplicates;
    d.refused = static_cast<uint32_t>(result.refused.size()) + batch.refused_before_store;
    d.key_epoch = batch.key_epoch;
    d.replaced = result.replaced;
    d.corrected = result.corrected;
    d.tokens = static_cast<int64_t>(batch.tokens);
    d.max_tokens_per_report = batch.max_tokens_per_report;
    d.reports_beyond_profile = batch.reports_beyond_profile;
    d.batch_digest = crypto::ToHex(enc.digest);
    ASSIGN_OR_RETURN(audit::Entry entry,
                     AppendInTransaction(kEventBatchReceived, batch.agency, d.ToJson()));
    chain_->Commit(entry);  // the next batch of the group chains on; undone if the group fails
    entries->push_back(std::move(entry));
  }
  return result;
}

absl::StatusOr<RetractResult> Store::Retract(const std::string& agency,
                                             const std::vector<std::string>& report_ids,
                                             int64_t now_unix) {
  std::lock_guard<std::mutex> recorder_lock(recorder_mu_);
  if (recorder_ != nullptr) recorder_->BeforeRetraction();
  std::lock_guard<std::mutex> lock(write_mu_);
  RetractResult result;
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(*writer_));
  RETURN_IF_ERROR(SyncReportIds());
  // The report_ids row goes with the report (trigger report_ids_go_with_their_report).
  ASSIGN_OR_RETURN(Statement del,
                   writer_->Prepare("DELETE FROM reports WHERE id = ?1 AND agency = ?2"));
  ASSIGN_OR_RETURN(Statement mark,
                   writer_->Prepare("INSERT OR IGNORE INTO retracted(report_id, agency, at) "
                                    "VALUES (?1, ?2, ?3)"));
  std::vector<ReportIds::Key> retracted;  // marked in the map once committed
  std::vector<int64_t> rows;              // their store rows
  for (const std::string& id : report_ids) {
    uint8_t id_bytes[kReportIdBytes];
    if (!ReportIdBytes(id, id_bytes)) {  // cannot be stored: answered like an unknown id
      result.not_found.push_back(id);
      continue;
    }
    const ReportIds::Key key = ReportIds::KeyOf(id_bytes);
    const auto known = report_ids_->row.find(key);
    if (known == report_ids_->row.end() || known->second == ReportIds::kRetracted) {
      result.not_found.push_back(id);
      continue;
    }
    del.Reset();
    del.Bind(1, known->second);
    del.Bind(2, agency);
    RETURN_IF_ERROR(del.Run());
    if (writer_->Changes() == 0) {
      result.not_found.push_back(id);
      continue;
    }
    mark.Reset();
    mark.BindBlob(1, absl::string_view(reinterpret_cast<const char*>(id_bytes), kReportIdBytes));
    mark.Bind(2, agency);
    mark.Bind(3, now_unix);
    RETURN_IF_ERROR(mark.Run());
    retracted.push_back(key);
    rows.push_back(known->second);
    ++result.retracted;
  }
  std::vector<audit::Entry> entries;
  std::optional<audit::AuditChain> chain_at_start;
  if (chain_ != nullptr) chain_at_start = *chain_;
  absl::Status status = absl::OkStatus();
  if (chain_ != nullptr) {
    const RetractionEvent d{agency, static_cast<uint32_t>(report_ids.size()), result.retracted,
                            static_cast<uint32_t>(result.not_found.size())};
    absl::StatusOr<audit::Entry> entry = AppendInTransaction(kEventRetraction, agency, d.ToJson());
    status = entry.status();
    if (entry.ok()) {
      chain_->Commit(*entry);
      entries.push_back(*std::move(entry));
    }
  }
  // The departures it causes, recorded in the same transaction.
  if (status.ok()) status = RecordLeaving(rows, &entries);
  if (status.ok()) status = tx.Commit();
  if (!status.ok()) {
    if (chain_at_start.has_value()) *chain_ = *chain_at_start;
    return status;  // rolled back: nothing of it is stored
  }
  for (const ReportIds::Key& key : retracted) report_ids_->row[key] = ReportIds::kRetracted;
  for (const audit::Entry& e : entries) CheckpointIfDue(e);
  if (result.retracted > 0) ++generation_;
  return result;
}

absl::StatusOr<Dataset> Store::LoadDataset(
    const std::function<int(const std::string& agency)>& domain_of_agency) const {
  ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Database> reader,
                   OpenConnection(path_, /*read_only=*/true));
  sqlite::Database& db = *reader;
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db, Transaction::Mode::kDeferred));

  Dataset d;
  // Stored rule id -> (rule id of the bare name, role): the rows of kRoleSuffix.
  std::vector<std::pair<uint16_t, TokenRole>> rule_of_id;
  {
    ASSIGN_OR_RETURN(Statement st, db.Prepare("SELECT id, name FROM rules ORDER BY id"));
    while (true) {
      ASSIGN_OR_RETURN(const bool row, st.Step());
      if (!row) break;
      size_t id = static_cast<size_t>(st.Int(0));
      if (id >= kMaxRules) return absl::DataLossError(absl::StrCat(path_, ": a rule id is too large"));
      if (d.rules.size() <= id) d.rules.resize(id + 1);
      d.rules[id] = st.Text(1);
    }
    absl::flat_hash_map<std::string, uint16_t> id_of_name;
    for (size_t id = 0; id < d.rules.size(); ++id) id_of_name[d.rules[id]] = static_cast<uint16_t>(id);
    rule_of_id.resize(d.rules.size());
    for (size_t id = 0; id < d.rules.size(); ++id) {
      rule_of_id[id] = {static_cast<uint16_t>(id), TokenRole::kOrdinary};
      for (int role = 1; role < kRoles; ++role) {
        if (!absl::EndsWith(d.rules[id], kRoleSuffix[role])) continue;
        auto base = id_of_name.find(
            d.rules[id].substr(0, d.rules[id].size() - std::strlen(kRoleSuffix[role])));
        if (base != id_of_name.end()) rule_of_id[id] = {base->second, static_cast<TokenRole>(role)};
      }
    }
  }
  absl::flat_hash_map<std::string, uint16_t> area_index;
  // Per agency (node id): its domain and its number (1 + index into d.agencies).
  absl::flat_hash_map<std::string, std::pair<int, AgencyIndex>> agency_cache;
  {
    ASSIGN_OR_RETURN(Statement count,
                     db.Prepare(absl::StrCat("SELECT count(*), coalesce(sum(",
                                             TokenCountSql("tokens"), "), 0) FROM reports")));
    RETURN_IF_ERROR(StepToRow(count, path_, "counting reports"));
    d.reports.reserve(static_cast<size_t>(count.Int(0)));
    d.rows.reserve(static_cast<size_t>(count.Int(0)));
    d.versions.reserve(static_cast<size_t>(count.Int(0)));
    d.tokens.Reserve(static_cast<size_t>(count.Int(1)));
    ASSIGN_OR_RETURN(Statement st,
                     db.Prepare("SELECT id, agency, signal_month, key_epoch, facts, tokens, "
                                "version FROM reports ORDER BY id"));
    StoredFacts facts;
    std::string plain, token_blob;
    while (true) {
      ASSIGN_OR_RETURN(const bool row, st.Step());
      if (!row) break;
      ReportFacts f;
      std::string agency = st.Text(1);
      // Every row is opened: a sealed value that does not open here (moved, altered, another
      // key) stops the load, so no totals are served from it.
      const RowPlace place{st.Int(0), agency, static_cast<uint32_t>(st.Int(2)),
                           static_cast<uint32_t>(st.Int(3))};
      if (absl::Status s = OpenFacts(*sealer_, place, StdView(st.BlobView(4)), &facts, &plain);
          !s.ok()) {
        return absl::DataLossError(absl::StrCat(path_, ": ", s.message(), kCorruptionHint));
      }
      if (absl::Status s = OpenTokens(*sealer_, place, StdView(st.BlobView(5)), &token_blob);
          !s.ok()) {
        return absl::DataLossError(absl::StrCat(path_, ": ", s.message(), kCorruptionHint));
      }
      auto ag = agency_cache.find(agency);
      if (ag == agency_cache.end()) {
        if (d.agencies.size() >= kMaxDatasetAgencies) {
          return absl::ResourceExhaustedError(absl::StrCat(
              path_, ": reports of more than ", kMaxDatasetAgencies,
              " agencies; the counting code numbers at most that many (dataset.h)"));
        }
        d.agencies.push_back(agency);
        const auto number = static_cast<AgencyIndex>(d.agencies.size());
        ag = agency_cache.emplace(agency, std::make_pair(domain_of_agency(agency), number)).first;
      }
      f.domain = static_cast<uint8_t>(ag->second.first);
      f.agency = ag->second.second;
      f.signal_month = place.signal_month;
      f.form = facts.form;
      f.contact = facts.contact;
      f.age_band = facts.age_band;
      f.gender = facts.gender;
      f.background = facts.background;
      f.living = facts.living;
      f.recruitment = facts.recruitment;
      f.coercion = facts.coercion;
      f.forced_crime = facts.forced_crime;
      std::string& area = facts.area;
      if (!known_areas_.empty() &&
          std::find(known_areas_.begin(), known_areas_.end(), area) == known_areas_.end()) {
        area.clear();  // not a configured district: never a row label
      }
      if (!area.empty()) {
        auto it = area_index.find(area);
        if (it == area_index.end()) {
          d.areas.push_back(area);
          it = area_index.emplace(area, static_cast<uint16_t>(d.areas.size())).first;
        }
        f.area = it->second;
      }
      const uint32_t index = static_cast<uint32_t>(d.reports.size());
      const auto* blob = reinterpret_cast<const uint8_t*>(token_blob.data());
      const size_t blob_size = token_blob.size();
      if (blob_size % kStoredTokenBytes != 0) {
        return absl::DataLossError(absl::StrCat(path_, ": a report's stored tokens are damaged"));
      }
      for (size_t off = 0; off < blob_size; off += kStoredTokenBytes) {
        const size_t rule_id = (blob[off] | blob[off + 1] << 8) & kStoredTokenRuleMask;
        if (rule_id >= rule_of_id.size()) {
          return absl::DataLossError(absl::StrCat(path_, ": a stored token has an unknown rule"));
        }
        d.tokens.Add(index, rule_of_id[rule_id].first, blob + off + 2, rule_of_id[rule_id].second);
      }
      f.has_token = blob_size > 0;
      d.reports.push_back(f);
      d.rows.push_back(place.row);
      d.versions.push_back(static_cast<uint32_t>(st.Int(6)));
    }
  }
  return d;
}

absl::StatusOr<int64_t> Store::CountRows(const std::string& table) const {
  if (table != "batches" && table != "reports" && table != "report_ids" && table != "tokens" &&
      table != "retracted" && table != "audit" && table != "settings") {
    return absl::InvalidArgumentError("unknown table");
  }
  std::lock_guard<std::mutex> lock(write_mu_);
  // Tokens are counted in their blobs (schema 4 has no tokens table).
  const std::string sql =
      table == "tokens"
          ? absl::StrCat("SELECT coalesce(sum(", TokenCountSql("tokens"), "), 0) FROM reports")
          : absl::StrCat("SELECT count(*) FROM ", table);
  ASSIGN_OR_RETURN(Statement st, writer_->Prepare(sql));
  RETURN_IF_ERROR(StepToRow(st, path_, "count"));
  return st.Int(0);
}

// --- Audit trail, settings, retention -------------------------------------------

namespace {

absl::StatusOr<std::vector<audit::Entry>> ReadEntries(sqlite::Database& db, uint64_t from_seq,
                                                      int64_t limit) {
  const std::string sql =
      absl::StrCat("SELECT ", audit::kEntryColumns, " FROM audit WHERE seq >= ?1 ORDER BY seq LIMIT ?2");
  ASSIGN_OR_RETURN(Statement st, db.Prepare(sql));
  st.Bind(1, static_cast<int64_t>(from_seq));
  st.Bind(2, limit);
  std::vector<audit::Entry> out;
  while (true) {
    ASSIGN_OR_RETURN(const bool row, st.Step());
    if (!row) return out;
    out.push_back(audit::EntryFromRow(st));
  }
}

absl::Status PutSetting(sqlite::Database& db, const std::string& name, const std::string& value) {
  ASSIGN_OR_RETURN(Statement st,
                   db.Prepare("INSERT INTO settings(name, value) VALUES (?1, ?2) "
                              "ON CONFLICT(name) DO UPDATE SET value = excluded.value"));
  return st.Bind(1, name).Bind(2, value).Run();
}

}  // namespace

int64_t Store::NowMs() const {
  if (audit_options_.clock_ms) return audit_options_.clock_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

absl::Status Store::AttachAudit(AuditOptions options) {
  if (options.signer == nullptr) return absl::InvalidArgumentError("the audit trail needs a signer");
  std::lock_guard<std::mutex> lock(write_mu_);
  const std::string pk = crypto::Base64Encode(options.signer->public_key());
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(*writer_));
  // Nothing is written when the key is recorded already: another process's write makes a
  // running server read its report ids again.
  bool key_recorded = false;
  {
    ASSIGN_OR_RETURN(Statement st, writer_->Prepare("SELECT value FROM settings WHERE name = ?1"));
    ASSIGN_OR_RETURN(key_recorded, st.Bind(1, kSettingAuditPublicKey).Step());
    if (key_recorded && st.Text(0) != pk) {
      return absl::FailedPreconditionError(absl::StrCat(
          path_, ": the audit trail is signed with key ", st.Text(0), " but audit_key_file holds ",
          pk, "; configure the original audit key (a trail has exactly one key)"));
    }
  }
  uint64_t last_seq = 0;
  std::string last_hash;
  {
    ASSIGN_OR_RETURN(Statement st,
                     writer_->Prepare("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"));
    ASSIGN_OR_RETURN(const bool row, st.Step());
    if (row) {
      last_seq = static_cast<uint64_t>(st.Int(0));
      last_hash = st.Blob(1);
      if (last_hash.size() != crypto::kDigestBytes) {
        return absl::DataLossError(absl::StrCat(path_, ": the last audit entry (", last_seq,
                                                ") has a malformed hash; run `aggregator audit verify`"));
      }
    }
  }
  if (!key_recorded) RETURN_IF_ERROR(PutSetting(*writer_, kSettingAuditPublicKey, pk));
  RETURN_IF_ERROR(tx.Commit());
  if (!options.checkpoint_dir.empty()) RETURN_IF_ERROR(files::MakeDirs(options.checkpoint_dir));
  audit_options_ = std::move(options);
  chain_ = std::make_unique<audit::AuditChain>(audit_options_.signer, last_seq, std::move(last_hash));
  return absl::OkStatus();
}

absl::StatusOr<audit::Entry> Store::AppendInTransaction(const std::string& event,
                                                        const std::string& actor,
                                                        const std::string& details) {
  // Another process (`aggregator backup`, an offline purge) may have appended since this
  // chain last advanced: continue from the head in the database, inside this transaction.
  {
    ASSIGN_OR_RETURN(Statement head,
                     writer_->Prepare("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"));
    ASSIGN_OR_RETURN(const bool row, head.Step());
    if (row && static_cast<uint64_t>(head.Int(0)) != chain_->last_seq()) {
      *chain_ = audit::AuditChain(audit_options_.signer, static_cast<uint64_t>(head.Int(0)),
                                  head.Blob(1));
    }
  }
  audit::Entry e = chain_->Next(event, actor, details, NowMs());
  ASSIGN_OR_RETURN(
      Statement st,
      writer_->Prepare("INSERT INTO audit(seq, time_ms, event, actor, details, "
                       "prev_hash, hash, signature) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)"));
  st.Bind(1, static_cast<int64_t>(e.seq));
  st.Bind(2, e.time_ms);
  st.Bind(3, e.event);
  st.Bind(4, e.actor);
  st.Bind(5, e.details);
  st.BindBlob(6, e.prev_hash);
  st.BindBlob(7, e.hash);
  st.BindBlob(8, e.signature);
  RETURN_IF_ERROR(st.Run());
  return e;
}

void Store::AfterCommit(const std::optional<audit::Entry>& entry) {
  if (!entry.has_value() || chain_ == nullptr) return;
  chain_->Commit(*entry);
  CheckpointIfDue(*entry);
}

void Store::CheckpointIfDue(const audit::Entry& committed) {
  if (audit_options_.checkpoint_every == 0 || committed.seq % audit_options_.checkpoint_every != 0) {
    return;
  }
  // The entry is committed; a checkpoint that cannot be written is only a missed copy.
  (void)WriteCheckpointOf(audit::AuditChain(audit_options_.signer, committed.seq, committed.hash));
}

absl::Status Store::AppendAudit(const std::string& event, const std::string& actor,
                                const std::string& details) {
  // Through the group commit's queue (WaitForGroupCommit): written in the transaction of
  // the group in progress or the next, and returned from once that is committed.
  PendingCommit me;
  me.event = &event;
  me.actor = &actor;
  me.details = &details;
  WaitForGroupCommit(&me);
  return me.result.status();
}

absl::StatusOr<audit::Checkpoint> Store::WriteCheckpointLocked() {
  if (chain_ == nullptr) return absl::FailedPreconditionError("no audit trail is attached");
  return WriteCheckpointOf(*chain_);
}

absl::StatusOr<audit::Checkpoint> Store::WriteCheckpointOf(const audit::AuditChain& chain) {
  audit::Checkpoint c = chain.MakeCheckpoint(NowMs());
  if (!audit_options_.checkpoint_dir.empty()) {
    char name[48];
    std::snprintf(name, sizeof name, "%012llu.checkpoint", static_cast<unsigned long long>(c.seq));
    RETURN_IF_ERROR(files::WriteFileAtomic(
        (std::filesystem::path(audit_options_.checkpoint_dir) / name).string(), c.Serialize(), 0644));
  }
  return c;
}

absl::StatusOr<audit::Checkpoint> Store::WriteCheckpoint() {
  std::lock_guard<std::mutex> lock(write_mu_);
  return WriteCheckpointLocked();
}

uint64_t Store::audit_last_seq() const {
  std::lock_guard<std::mutex> lock(write_mu_);
  return chain_ == nullptr ? 0 : chain_->last_seq();
}

absl::StatusOr<std::vector<audit::Entry>> Store::ReadAudit(uint64_t from_seq, uint32_t limit) const {
  ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Database> reader,
                   OpenConnection(path_, /*read_only=*/true));
  return ReadEntries(*reader, from_seq, limit);
}

absl::StatusOr<std::map<std::string, std::string>> Store::LoadSettings() const {
  std::lock_guard<std::mutex> lock(write_mu_);
  ASSIGN_OR_RETURN(Statement st, writer_->Prepare("SELECT name, value FROM settings"));
  std::map<std::string, std::string> out;
  while (true) {
    ASSIGN_OR_RETURN(const bool row, st.Step());
    if (!row) return out;
    out[st.Text(0)] = st.Text(1);
  }
}

namespace {

// Reads a setting with `read` ("SELECT value FROM settings WHERE name = ?1"), "" when unset.
SettingReader ReaderOf(Statement& read) {
  return [&read](const std::string& name) -> absl::StatusOr<std::string> {
    read.Reset();
    read.Bind(1, name);
    ASSIGN_OR_RETURN(const bool found, read.Step());
    std::string value = found ? read.Text(0) : std::string();
    read.Reset();
    return value;
  };
}

}  // namespace

absl::Status Store::WriteSettingsInTransaction(const std::vector<SettingWrite>& writes,
                                               std::vector<audit::Entry>* entries) {
  for (const SettingWrite& w : writes) {
    if (w.name == kSettingAuditPublicKey || w.name == kSettingLastReportRow) {
      return absl::InvalidArgumentError("setting is not changeable");
    }
    RETURN_IF_ERROR(PutSetting(*writer_, w.name, w.value));
    if (chain_ != nullptr && !w.event.empty()) {
      ASSIGN_OR_RETURN(audit::Entry entry, AppendInTransaction(w.event, w.actor, w.details));
      chain_->Commit(entry);
      entries->push_back(std::move(entry));
    }
  }
  return absl::OkStatus();
}

absl::Status Store::RecordLeaving(const std::vector<int64_t>& rows,
                                  std::vector<audit::Entry>* entries) {
  if (recorder_ == nullptr || rows.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(Statement read, writer_->Prepare("SELECT value FROM settings WHERE name = ?1"));
  const SettingReader reader = ReaderOf(read);
  ASSIGN_OR_RETURN(std::vector<SettingWrite> writes, recorder_->Leaving(rows, reader));
  return WriteSettingsInTransaction(writes, entries);
}

absl::Status Store::UpdateSettings(
    const std::function<absl::StatusOr<std::vector<SettingWrite>>(const SettingReader&)>&
        update) {
  std::lock_guard<std::mutex> lock(write_mu_);
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(*writer_));
  ASSIGN_OR_RETURN(Statement read, writer_->Prepare("SELECT value FROM settings WHERE name = ?1"));
  const SettingReader reader = ReaderOf(read);
  ASSIGN_OR_RETURN(std::vector<SettingWrite> writes, update(reader));
  if (writes.empty()) return absl::OkStatus();
  std::optional<audit::AuditChain> chain_at_start;
  if (chain_ != nullptr) chain_at_start = *chain_;
  std::vector<audit::Entry> entries;
  absl::Status status = WriteSettingsInTransaction(writes, &entries);
  if (status.ok()) status = tx.Commit();
  if (!status.ok()) {
    if (chain_at_start.has_value()) *chain_ = *chain_at_start;
    return status;
  }
  for (const audit::Entry& e : entries) CheckpointIfDue(e);
  return absl::OkStatus();
}

void Store::SetDepartureRecorder(DepartureRecorder* recorder) {
  std::lock_guard<std::mutex> recorder_lock(recorder_mu_);
  std::lock_guard<std::mutex> lock(write_mu_);
  recorder_ = recorder;
}

void Store::ClearDepartureRecorder(DepartureRecorder* recorder) {
  std::lock_guard<std::mutex> recorder_lock(recorder_mu_);
  std::lock_guard<std::mutex> lock(write_mu_);
  if (recorder_ == recorder) recorder_ = nullptr;
}

absl::Status Store::SetSetting(const std::string& name, const std::string& value,
                               const std::string& event, const std::string& actor,
                               const std::string& details) {
  if (name == kSettingAuditPublicKey || name == kSettingLastReportRow) {
    return absl::InvalidArgumentError("setting is not changeable");
  }
  std::lock_guard<std::mutex> lock(write_mu_);
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(*writer_));
  RETURN_IF_ERROR(PutSetting(*writer_, name, value));
  std::optional<audit::Entry> entry;
  if (chain_ != nullptr && !event.empty()) {
    ASSIGN_OR_RETURN(entry, AppendInTransaction(event, actor, details));
  }
  RETURN_IF_ERROR(tx.Commit());
  AfterCommit(entry);
  return absl::OkStatus();
}

absl::StatusOr<PurgeResult> Store::Purge(uint32_t cutoff_month, int64_t cutoff_unix,
                                         const std::string& actor) {
  std::lock_guard<std::mutex> lock(write_mu_);
  PurgeResult result;
  result.cutoff_month = cutoff_month;
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(*writer_));
  constexpr char kExpired[] =
      "(r.signal_month > 0 AND r.signal_month < ?1) OR (r.signal_month = 0 AND "
      "(SELECT b.received_at FROM batches b WHERE b.batch_id = r.batch_id) < ?2)";
  {
    ASSIGN_OR_RETURN(Statement st, writer_->Prepare(absl::StrCat(
                                       "SELECT count(*), coalesce(sum(", TokenCountSql("r.tokens"),
                                       "), 0)", " FROM reports r WHERE ", kExpired)));
    st.Bind(1, cutoff_month);
    st.Bind(2, cutoff_unix);
    RETURN_IF_ERROR(StepToRow(st, path_, "purge"));
    result.reports = st.Int(0);
    result.tokens = st.Int(1);
  }
  std::vector<ReportIds::Key> purged;  // their ids leave the map once committed
  if (result.reports > 0) {
    ASSIGN_OR_RETURN(
        Statement ids,
        writer_->Prepare(absl::StrCat(
            "SELECT report_id FROM report_ids WHERE id IN (SELECT r.id FROM reports r WHERE ",
            kExpired, ")")));
    ids.Bind(1, cutoff_month);
    ids.Bind(2, cutoff_unix);
    purged.reserve(static_cast<size_t>(result.reports));
    while (true) {
      ASSIGN_OR_RETURN(const bool row, ids.Step());
      if (!row) break;
      const absl::string_view id = ids.BlobView(0);
      if (id.size() != kReportIdBytes) continue;  // never stored so
      purged.push_back(ReportIds::KeyOf(reinterpret_cast<const uint8_t*>(id.data())));
    }
    // The tokens go with their report rows, the ids with their report_ids rows (the
    // trigger); both are overwritten (secure_delete).
    ASSIGN_OR_RETURN(Statement del_reports,
                     writer_->Prepare(absl::StrCat("DELETE FROM reports AS r WHERE ", kExpired)));
    del_reports.Bind(1, cutoff_month);
    del_reports.Bind(2, cutoff_unix);
    RETURN_IF_ERROR(del_reports.Run());
  }
  std::optional<audit::Entry> entry;
  if (chain_ != nullptr) {
    // Who asked: the server's own hourly purge, or an operator's `aggregator purge`.
    const PurgeEvent d{
        Request::Of(actor == kActorAggregator ? kRoleAggregator : kRoleLocalOperator, "purge",
                    absl::OkStatus()),
        MonthText(cutoff_month), result.reports, result.tokens};
    ASSIGN_OR_RETURN(entry, AppendInTransaction(kEventPurge, actor, d.ToJson()));
  }
  RETURN_IF_ERROR(tx.Commit());
  for (const ReportIds::Key& key : purged) report_ids_->row.erase(key);
  AfterCommit(entry);
  if (result.reports > 0) ++generation_;
  return result;
}

absl::StatusOr<std::pair<int64_t, int64_t>> Store::RetireKeyEpochsBefore(
    uint32_t epoch, const std::string& actor) {
  std::lock_guard<std::mutex> lock(write_mu_);
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(*writer_));
  int64_t reports = 0, tokens = 0;
  {
    ASSIGN_OR_RETURN(Statement st,
                     writer_->Prepare(absl::StrCat(
                         "SELECT count(*), coalesce(sum(", TokenCountSql("tokens"), "), 0)",
                         " FROM reports WHERE key_epoch < ?1 AND length(tokens) > 0")));
    st.Bind(1, epoch);
    RETURN_IF_ERROR(StepToRow(st, path_, "retiring epochs"));
    reports = st.Int(0);
    tokens = st.Int(1);
  }
  if (tokens > 0) {
    // The old blobs are overwritten (secure_delete) by the empty one.
    ASSIGN_OR_RETURN(
        Statement del,
        writer_->Prepare(
            "UPDATE reports SET tokens = x'' WHERE key_epoch < ?1 AND length(tokens) > 0"));
    del.Bind(1, epoch);
    RETURN_IF_ERROR(del.Run());
  }
  std::optional<audit::Entry> entry;
  if (chain_ != nullptr) {
    const KeyEpochRetiredEvent d{
        Request::Of(kRoleLocalOperator, "retire key epochs", absl::OkStatus()), epoch, reports,
        tokens};
    ASSIGN_OR_RETURN(entry, AppendInTransaction(kEventKeyEpochRetired, actor, d.ToJson()));
  }
  RETURN_IF_ERROR(tx.Commit());
  AfterCommit(entry);
  if (tokens > 0) ++generation_;
  return std::make_pair(reports, tokens);
}

absl::Status Store::ReclaimSpace() {
  std::lock_guard<std::mutex> lock(write_mu_);
  int64_t mode = 0;
  {
    ASSIGN_OR_RETURN(Statement st, writer_->Prepare("PRAGMA auto_vacuum"));
    RETURN_IF_ERROR(StepToRow(st, path_, "auto_vacuum"));
    mode = st.Int(0);
  }
  // The WAL still holds copies of the deleted rows' pages until it is emptied; the
  // checkpoint thread must not be in the middle of a checkpoint then (TRUNCATE would find it
  // and silently do nothing).
  Checkpointer::Pause pause(checkpointer_.get());
  RETURN_IF_ERROR(writer_->Exec(mode == 2 ? "PRAGMA incremental_vacuum" : "VACUUM"));
  ASSIGN_OR_RETURN(Statement st, writer_->Prepare("PRAGMA wal_checkpoint(TRUNCATE)"));
  RETURN_IF_ERROR(StepToRow(st, path_, "wal_checkpoint"));
  if (st.Int(0) != 0) {  // a reader kept its snapshot past the busy timeout
    return absl::UnavailableError(absl::StrCat(
        path_, "-wal could not be emptied (a long read held it); until the next purge or "
               "restart it may still hold pages of deleted reports: run the purge again"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> Store::FreePages() const {
  std::lock_guard<std::mutex> lock(write_mu_);
  ASSIGN_OR_RETURN(Statement st, writer_->Prepare("PRAGMA freelist_count"));
  RETURN_IF_ERROR(StepToRow(st, path_, "freelist_count"));
  return st.Int(0);
}

}  // namespace samenzicht::aggregator
