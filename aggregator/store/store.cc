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

// The status of SQLite result `rc`: the mapping of common/sqlite/sqlite.h (BUSY/LOCKED ->
// Unavailable, CORRUPT/NOTADB -> DataLoss, FULL -> ResourceExhausted, ...), with one rule of
// the store's own: a constraint that fails inside the store's statements (CONSTRAINT, which
// the mapping makes AlreadyExists or FailedPrecondition) is Internal. The store decides
// "already stored" and "retracted" itself before it writes (CommitResult, StoreRefusal), so
// a constraint that still fails is a fault of the server or of a hand-edited database, and
// CommitBatch's callers treat it as a store failure (intake.h: Internal, nothing stored).
absl::Status SqlError(sqlite3* db, int rc, const std::string& path, const char* what) {
  std::string msg = absl::StrCat(path, ": ", what, ": ", sqlite3_errmsg(db));
  switch (sqlite::CodeFromSqlite(rc)) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
      return absl::InternalError(msg);
    case absl::StatusCode::kDataLoss:
      return absl::DataLossError(absl::StrCat(msg, kCorruptionHint));
    default:
      break;
  }
  // A full disk (SQLITE_FULL, or an I/O error whose cause was ENOSPC or EDQUOT, as from
  // fsync) is marked, so the services log it at error level and answer "the aggregator's
  // disk is full" instead of this message with its file name (common/disk_full.h).
  if ((rc & 0xff) == SQLITE_FULL ||
      ((rc & 0xff) == SQLITE_IOERR && disk_full::IsErrno(sqlite3_system_errno(db)))) {
    return disk_full::Mark(absl::ResourceExhaustedError(msg));
  }
  return sqlite::StatusFromSqlite(rc, msg);
}

// Prepared statement with RAII finalisation.
class Stmt {
 public:
  Stmt() = default;
  Stmt(Stmt&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  ~Stmt() { sqlite3_finalize(s_); }
  static absl::StatusOr<Stmt> Prepare(sqlite3* db, const char* sql) {
    Stmt st;
    if (sqlite3_prepare_v2(db, sql, -1, &st.s_, nullptr) != SQLITE_OK) {
      return SqlError(db, sqlite3_extended_errcode(db), "database", "prepare");
    }
    return st;
  }
  sqlite3_stmt* get() const { return s_; }
  void Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  void BindText(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void BindBlob(int i, const void* p, int n) { sqlite3_bind_blob(s_, i, p, n, SQLITE_TRANSIENT); }
  // Without a copy: `p` must stay valid until the statement is reset.
  // An empty blob stays a blob (a null pointer would bind NULL).
  void BindBlobStatic(int i, const void* p, size_t n) {
    if (n == 0) {
      sqlite3_bind_zeroblob(s_, i, 0);
    } else {
      sqlite3_bind_blob(s_, i, p, static_cast<int>(n), SQLITE_STATIC);
    }
  }
  void BindTextStatic(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  // Column `c` equals `v` (text), without copying it.
  bool TextEquals(int c, const std::string& v) const {
    const unsigned char* t = sqlite3_column_text(s_, c);
    return t != nullptr && static_cast<size_t>(sqlite3_column_bytes(s_, c)) == v.size() &&
           std::memcmp(t, v.data(), v.size()) == 0;
  }
  void BindInt(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
  // SQLITE_ROW or SQLITE_DONE, else an error code.
  int Step() { return sqlite3_step(s_); }
  int64_t Int(int c) const { return sqlite3_column_int64(s_, c); }
  std::string Text(int c) const {
    const unsigned char* t = sqlite3_column_text(s_, c);
    return t ? std::string(reinterpret_cast<const char*>(t), sqlite3_column_bytes(s_, c)) : "";
  }
  std::string Blob(int c) const {
    const void* b = sqlite3_column_blob(s_, c);
    return b ? std::string(static_cast<const char*>(b), sqlite3_column_bytes(s_, c)) : "";
  }

 private:
  sqlite3_stmt* s_ = nullptr;
};

absl::Status Exec(sqlite3* db, const std::string& path, const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (err) sqlite3_free(err);
  if (rc != SQLITE_OK) return SqlError(db, rc, path, "statement failed");
  return absl::OkStatus();
}

// The role of a probe-rule token is kept in the tokens' rule column: rule "x" has
// the rows "x" (ordinary), "x#anchor" and "x#probe" in `rules` ('#' is not allowed in a rule
// name), indexed by v1::TokenRole.
constexpr int kRoles = 3;
constexpr const char* kRoleSuffix[kRoles] = {"", "#anchor", "#probe"};

// Rolls back unless committed.
class Transaction {
 public:
  Transaction(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  absl::Status Begin(bool write) {
    RETURN_IF_ERROR(Exec(db_, path_, write ? "BEGIN IMMEDIATE" : "BEGIN"));
    open_ = true;
    return absl::OkStatus();
  }
  absl::Status Commit() {
    RETURN_IF_ERROR(Exec(db_, path_, "COMMIT"));
    open_ = false;
    return absl::OkStatus();
  }
  ~Transaction() {
    if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }

 private:
  sqlite3* db_;
  std::string path_;
  bool open_ = false;
};

// A connection to the store's database, read-only for the readers (LoadDataset,
// ReadAudit); the writer's carries the pragmas of `Open`.
absl::StatusOr<std::unique_ptr<sqlite::Database>> OpenConnection(const std::string& path,
                                                                 bool read_only) {
  sqlite::OpenOptions options;
  options.label = path;
  options.read_only = read_only;
  options.no_mutex = true;
  options.busy_timeout_ms = 10000;
  options.corruption_hint = kCorruptionHint;
  return sqlite::Database::Open(path, options);
}

// Registers the profile's rules in `rules`; returns their ids, profile rule index * kRoles
// + role.
absl::StatusOr<std::vector<int>> RegisterRules(sqlite3* db, const std::string& path,
                                               const std::vector<std::string>& rule_names) {
  // Register the profile's rules; ids of rules seen before stay stable. Each rule also gets
  // a row per probe-rule role (kRoleSuffix), so a token's role is stored in its rule column.
  // One write transaction, taken (waiting up to the busy timeout) before the first read:
  // with a read left open on this connection, the next insert would fail at once with
  // "database is locked" when another connection (a running server) committed in between;
  // seen when `aggregator backup` recorded its audit entry during ingest.
  Transaction tx(db, path);
  RETURN_IF_ERROR(tx.Begin(/*write=*/true));
  std::vector<int> rule_ids;
  auto ins = Stmt::Prepare(db, "INSERT OR IGNORE INTO rules(name) VALUES (?1)");
  auto sel = Stmt::Prepare(db, "SELECT id FROM rules WHERE name = ?1");
  if (!ins.ok()) return ins.status();
  if (!sel.ok()) return sel.status();
  for (const std::string& rule : rule_names) {
    for (const char* suffix : kRoleSuffix) {
      const std::string name = rule + suffix;
      ins->Reset();
      ins->BindText(1, name);
      if (int rc = ins->Step(); rc != SQLITE_DONE) return SqlError(db, rc, path, "rules");
      sel->Reset();
      sel->BindText(1, name);
      if (int rc = sel->Step(); rc != SQLITE_ROW) return SqlError(db, rc, path, "rules");
      if (sel->Int(0) < 1 || sel->Int(0) > kMaxStoredRuleId) {
        // A token's rule is 14 bits of its entry in `reports.tokens` (store.h).
        return absl::FailedPreconditionError(absl::StrCat(
            path, ": rule '", name, "' would get number ", sel->Int(0),
            "; the store holds at most ", kMaxStoredRuleId, " rule rows over its lifetime"));
      }
      rule_ids.push_back(static_cast<int>(sel->Int(0)));
    }
  }
  sel->Reset();
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
  sqlite3* const db = writer->handle();
  auto fail = [](absl::Status s) { return s; };  // `writer` closes the connection

  // Integrity first: a damaged file is refused before anything is written to it.
  {
    auto st = Stmt::Prepare(db, "PRAGMA quick_check");
    if (!st.ok()) return fail(SqlError(db, sqlite3_extended_errcode(db), path, "cannot read database"));
    int rc = st->Step();
    if (rc != SQLITE_ROW) return fail(SqlError(db, rc, path, "integrity check failed"));
    std::string verdict = st->Text(0);
    if (verdict != "ok") {
      return fail(absl::DataLossError(absl::StrCat(
          path, ": integrity check failed (", verdict.substr(0, 200),
          "); the aggregator will not serve totals from a damaged database. Restore "
          "aggregator.db from a backup")));
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
    if (auto s = Exec(db, path, pragma); !s.ok()) return fail(s);
  }

  int64_t version = 0;
  {
    auto st = Stmt::Prepare(db, "PRAGMA user_version");
    if (!st.ok()) return fail(st.status());
    if (st->Step() == SQLITE_ROW) version = st->Int(0);
  }
  if (version == 0) {
    int64_t tables = 0;
    auto st = Stmt::Prepare(db, "SELECT count(*) FROM sqlite_schema");
    if (!st.ok()) return fail(st.status());
    if (st->Step() == SQLITE_ROW) tables = st->Int(0);
    if (tables != 0) {
      return fail(absl::FailedPreconditionError(absl::StrCat(
          path, ": holds tables but no samenzicht schema version; not an aggregator database")));
    }
    // Freed pages can be returned to the file system (ReclaimSpace); only settable before
    // the first table exists.
    if (auto s = Exec(db, path, "PRAGMA auto_vacuum=INCREMENTAL"); !s.ok()) return fail(s);
  }
  if (version > kSchemaVersion) {
    return fail(absl::FailedPreconditionError(
        absl::StrCat(path, ": database schema version ", version, " is not the supported version ",
                     kSchemaVersion, "; use the aggregator release that wrote it")));
  }
  const crypto::KeyedHasher& digest_key = *digest_hasher;
  const std::vector<sqlite::Migration> migrations = StoreMigrations(
      [&digest_key](std::string_view digest) { return digest_key.Hash(0, digest); }, *sealer);
  if (migrations.back().version != kSchemaVersion) {
    return fail(absl::InternalError("store.h's kSchemaVersion is not the last migration"));
  }
  if (version < kSchemaVersion) {
    if (auto s = sqlite::Migrate(*writer, migrations); !s.ok()) return fail(s);
    // A conversion rewrites whole tables: give the WAL's copy of them back to the disk now
    // (best effort; a reader of another process can hold it, then the next checkpoint does).
    if (version != 0) sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
  }

  ASSIGN_OR_RETURN(std::vector<int> rule_ids, RegisterRules(db, path, rule_names));
  ::chmod(path.c_str(), 0600);
  std::unique_ptr<Store> store(
      new Store(path, std::move(writer), std::move(hasher), std::move(rule_ids)));
  store->digest_hasher_ = std::move(digest_hasher);
  store->sealer_ = std::move(sealer);
  ASSIGN_OR_RETURN(store->checkpointer_, Checkpointer::Start(path));
  // Replaces wal_autocheckpoint on the writer connection.
  sqlite3_wal_hook(db, &Checkpointer::OnCommit, store->checkpointer_.get());
  return store;
}

// CommitBatch's statements, prepared once on the writer connection and reset after use.
struct Store::WriteStatements {
  Stmt find_batch, insert_batch, update_batch, find_retracted, insert_report, insert_report_id,
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

  static absl::StatusOr<std::unique_ptr<WriteStatements>> Prepare(sqlite3* db) {
    auto w = std::make_unique<WriteStatements>();
    ASSIGN_OR_RETURN(w->find_batch, Stmt::Prepare(db, "SELECT digest, accepted, duplicates FROM batches WHERE batch_id = ?1"));
    ASSIGN_OR_RETURN(w->insert_batch,
                     Stmt::Prepare(db,
                                   "INSERT INTO batches(batch_id, agency, digest, received_at, "
                                   "report_count, accepted, duplicates) VALUES (?1,?2,?3,?4,?5,0,0)"));
    ASSIGN_OR_RETURN(w->update_batch,
                     Stmt::Prepare(db,
                                   "UPDATE batches SET accepted = ?2, duplicates = ?3 "
                                   "WHERE batch_id = ?1"));
    ASSIGN_OR_RETURN(w->find_retracted,
                     Stmt::Prepare(db, "SELECT agency FROM retracted WHERE report_id = ?1"));
    // Whether a report id is new is decided by the in-memory map (ReportIdMap); a new
    // report's row and id row are appended, an existing one is read by its row number.
    ASSIGN_OR_RETURN(
        w->insert_report,
        Stmt::Prepare(db,
                      "INSERT INTO reports(id, agency, batch_id, signal_month, key_epoch, facts, "
                      "tokens) VALUES (?1,?2,?3,?4,?5,?6,?7)"));
    // A new report's row id is chosen before it is inserted: its sealed values are bound
    // to it (sealed_rows.h). The next one after the highest ever given out, stored or not
    // (kSettingLastReportRow): a deleted report's number is never given again.
    ASSIGN_OR_RETURN(
        w->last_row,
        Stmt::Prepare(db, absl::StrCat("SELECT max(coalesce((SELECT max(id) FROM reports), 0), "
                                       "coalesce((SELECT CAST(value AS INTEGER) FROM settings "
                                       "WHERE name = '",
                                       kSettingLastReportRow, "'), 0))")
                              .c_str()));
    ASSIGN_OR_RETURN(
        w->save_last_row,
        Stmt::Prepare(db, absl::StrCat("INSERT INTO settings(name, value) VALUES ('",
                                       kSettingLastReportRow,
                                       "', ?1) ON CONFLICT(name) DO UPDATE SET value = "
                                       "excluded.value")
                              .c_str()));
    ASSIGN_OR_RETURN(w->insert_report_id,
                     Stmt::Prepare(db, "INSERT INTO report_ids(id, report_id) VALUES (?1, ?2)"));
    ASSIGN_OR_RETURN(w->find_report,
                     Stmt::Prepare(db,
                                   "SELECT agency, key_epoch, signal_month, facts, tokens, version "
                                   "FROM reports WHERE id = ?1"));
    // Key rotation: the same agency re-sends a report under a newer key epoch.
    ASSIGN_OR_RETURN(w->replace_tokens,
                     Stmt::Prepare(db, "UPDATE reports SET tokens = ?2, key_epoch = ?3 WHERE id = ?1"));
    // A correction: the same report id, the batch's content (sealed again), the next version.
    ASSIGN_OR_RETURN(w->correct_report,
                     Stmt::Prepare(db,
                                   "UPDATE reports SET batch_id = ?2, signal_month = ?3, "
                                   "key_epoch = ?4, facts = ?5, tokens = ?6, "
                                   "version = version + 1 WHERE id = ?1"));
    return w;
  }
  // Leaves no statement active (and no binding pointing into a finished batch).
  void ResetAll() {
    for (Stmt* st : {&find_batch, &insert_batch, &update_batch, &find_retracted, &insert_report,
                     &insert_report_id, &find_report, &replace_tokens, &correct_report,
                     &last_row, &save_last_row}) {
      st->Reset();
    }
  }
};

Store::Store(std::string path, std::unique_ptr<sqlite::Database> writer,
             std::unique_ptr<crypto::KeyedHasher> hasher, std::vector<int> rule_ids)
    : path_(std::move(path)),
      writer_(std::move(writer)),
      db_(writer_->handle()),
      hasher_(std::move(hasher)),
      rule_ids_(std::move(rule_ids)),
      report_ids_(std::make_unique<ReportIds>()) {}

absl::Status Store::SyncReportIds() {
  ReportIds& ids = *report_ids_;
  int64_t version = 0;
  {
    ASSIGN_OR_RETURN(Stmt st, Stmt::Prepare(db_, "PRAGMA data_version"));
    if (int rc = st.Step(); rc != SQLITE_ROW) return SqlError(db_, rc, path_, "data_version");
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
    ASSIGN_OR_RETURN(Stmt count, Stmt::Prepare(db_,
        "SELECT (SELECT count(*) FROM report_ids) + (SELECT count(*) FROM retracted)"));
    if (int rc = count.Step(); rc != SQLITE_ROW) return SqlError(db_, rc, path_, "counting report ids");
    // Room for a full group beyond what is held, so the first groups do not grow the map.
    ids.row.reserve(static_cast<size_t>(count.Int(0)) + kMaxCommitGroupReports);
  }
  auto load = [&](const char* sql, const char* what) -> absl::Status {
    ASSIGN_OR_RETURN(Stmt st, Stmt::Prepare(db_, sql));
    int rc;
    while ((rc = st.Step()) == SQLITE_ROW) {
      const void* blob = sqlite3_column_blob(st.get(), 1);
      if (blob == nullptr || sqlite3_column_bytes(st.get(), 1) != kReportIdBytes) {
        return absl::DataLossError(absl::StrCat(path_, ": ", what, " row ", st.Int(0),
                                                " holds no 16-byte report id"));
      }
      auto [it, inserted] =
          ids.row.emplace(ReportIds::KeyOf(static_cast<const uint8_t*>(blob)), st.Int(0));
      if (!inserted) {
        return absl::DataLossError(absl::StrCat(
            path_, ": a report id is held twice (", what, " row ", st.Int(0), ", and row ",
            it->second, " of report_ids or retracted (0)); no batch is stored until it is "
            "repaired: restore a backup, or ask the report's agency which one to retract"));
      }
    }
    return rc == SQLITE_DONE ? absl::OkStatus() : SqlError(db_, rc, path_, what);
  };
  RETURN_IF_ERROR(load("SELECT id, report_id FROM report_ids", "report_ids"));
  return load("SELECT 0, report_id FROM retracted", "retracted");
}

absl::StatusOr<size_t> Store::LoadReportIds() {
  std::lock_guard<std::mutex> lock(write_mu_);
  Transaction tx(db_, path_);
  RETURN_IF_ERROR(tx.Begin(false));
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
    sqlite3_wal_hook(db_, nullptr, nullptr);
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
  const uint8_t* blob(size_t i) const { return tokens.data() + (i == 0 ? 0 : token_end[i - 1]); }
  size_t blob_size(size_t i) const { return token_end[i] - (i == 0 ? 0 : token_end[i - 1]); }
};

// One CommitBatch call waiting for its group's transaction (guarded by commit_mu_).
struct Store::PendingCommit {
  const BatchToStore* batch;
  const EncodedBatch* enc;
  absl::StatusOr<CommitResult> result = absl::InternalError("batch not committed");
  bool done = false;
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

  // Group commit: the first caller to find no commit under way becomes the leader and
  // commits every batch queued by then in ONE transaction (one WAL sync, and the index
  // pages the batches share written once); the others wait for it. A caller returns once
  // its own batch is committed (or its group failed). The leader keeps leading until its
  // own batch is done, then hands over to a waiting caller.
  PendingCommit me{&batch, &enc};
  std::unique_lock<std::mutex> lock(commit_mu_);
  commit_queue_.push_back(&me);
  ++pending_commits_;
  while (!me.done) {
    if (commit_leader_) {
      commit_cv_.wait(lock);
      continue;
    }
    commit_leader_ = true;
    std::vector<PendingCommit*> group;
    size_t reports = 0;
    while (!commit_queue_.empty() &&
           (group.empty() ||
            reports + commit_queue_.front()->batch->reports.size() <= max_group_reports_)) {
      reports += commit_queue_.front()->batch->reports.size();
      group.push_back(commit_queue_.front());
      commit_queue_.pop_front();
    }
    lock.unlock();
    CommitGroup(group);
    lock.lock();
    for (PendingCommit* p : group) p->done = true;
    pending_commits_ -= group.size();
    commit_leader_ = false;
    commit_cv_.notify_all();
  }
  return std::move(me.result);
}

void Store::SetMaxCommitGroupReports(size_t reports) {
  std::lock_guard<std::mutex> lock(commit_mu_);
  max_group_reports_ = reports;
}

size_t Store::PendingCommits() const {
  std::lock_guard<std::mutex> lock(commit_mu_);
  return pending_commits_;
}

void Store::CommitGroup(const std::vector<PendingCommit*>& group) {
  std::lock_guard<std::mutex> lock(write_mu_);
  std::vector<PendingCommit*> todo = group;
  auto fail_all = [&](const absl::Status& s) {
    for (PendingCommit* p : todo) p->result = s;
  };
  if (write_statements_ == nullptr) {
    auto prepared = WriteStatements::Prepare(db_);
    if (!prepared.ok()) return fail_all(prepared.status());
    write_statements_ = *std::move(prepared);
  }
  // A batch whose statements fail is answered with its error and the transaction is rolled
  // back; the group is then tried again without it, so the others are stored. (Not a
  // savepoint per batch: SQLite would copy every page a batch changes into a sub-journal,
  // which cost ~15% of the ingest rate; a failure is rare, a retry is cheap.)
  // Every attempt starts from here (a failed one restores it).
  std::optional<audit::AuditChain> chain_at_start;
  if (chain_ != nullptr) chain_at_start = *chain_;
  while (!todo.empty()) {
    std::vector<audit::Entry> entries;
    std::vector<CommitResult> results(todo.size());
    absl::Status status;
    size_t failed = todo.size();  // index of the batch that failed, if one did
    // The one place that catches: an exception (out of memory) must not leave the group's
    // callers waiting forever or the chain ahead of the database.
    try {
      next_row_ = 0;  // read again in this transaction
      Transaction tx(db_, path_);
      status = tx.Begin(true);
      if (status.ok()) status = SyncReportIds();
      for (size_t i = 0; status.ok() && i < todo.size(); ++i) {
        absl::StatusOr<CommitResult> r = WriteBatch(*todo[i]->batch, *todo[i]->enc, &entries);
        write_statements_->ResetAll();  // no statement active, none bound to a finished batch
        if (r.ok()) {
          results[i] = *std::move(r);
        } else {
          status = r.status();
          failed = i;
        }
      }
      if (status.ok() && next_row_ != 0) {
        // rows were given out in this transaction: remember the highest with them
        Stmt& save = write_statements_->save_last_row;
        save.Reset();
        save.BindText(1, absl::StrCat(next_row_ - 1));
        if (int rc = save.Step(); rc != SQLITE_DONE) {
          status = SqlError(db_, rc, path_, "storing the last report row");
        }
        save.Reset();
      }
      if (status.ok()) status = tx.Commit();
      // On failure the transaction rolls back here: nothing of this attempt is stored.
    } catch (...) {
      status = absl::ResourceExhaustedError("committing a group of batches failed (out of memory)");
      failed = todo.size();
      report_ids_->loaded = false;  // the map may be part-changed: read again by the next write
    }
    if (!status.ok()) {
      report_ids_->Undo();
      if (chain_at_start.has_value()) *chain_ = *chain_at_start;
      if (failed == todo.size()) return fail_all(status);  // the transaction itself failed
      todo[failed]->result = status;
      todo.erase(todo.begin() + static_cast<std::ptrdiff_t>(failed));
      continue;
    }
    report_ids_->added.clear();
    for (size_t i = 0; i < todo.size(); ++i) {
      if (!results[i].replayed) ++generation_;  // a replayed batch changed nothing
      todo[i]->result = std::move(results[i]);
    }
    for (const audit::Entry& e : entries) CheckpointIfDue(e);
    return;
  }
}

absl::StatusOr<int64_t> Store::InsertReport(const BatchToStore& batch, const v1::Report& r,
                                            std::string_view token_blob) {
  WriteStatements& w = *write_statements_;
  if (next_row_ == 0) {
    w.last_row.Reset();
    if (int rc = w.last_row.Step(); rc != SQLITE_ROW) return SqlError(db_, rc, path_, "reading reports");
    next_row_ = w.last_row.Int(0) + 1;
    w.last_row.Reset();
  }
  const int64_t row = next_row_;
  w.Seal(*sealer_, RowPlace{row, batch.agency, r.signal_month(), batch.key_epoch}, r, token_blob);
  Stmt& ins = w.insert_report;
  ins.Reset();
  ins.BindInt(1, row);
  ins.BindTextStatic(2, batch.agency);
  ins.BindTextStatic(3, batch.batch_id);
  ins.BindInt(4, r.signal_month());
  ins.BindInt(5, batch.key_epoch);
  ins.BindBlob(6, w.facts.data(), static_cast<int>(w.facts.size()));
  ins.BindBlob(7, w.tokens.data(), static_cast<int>(w.tokens.size()));
  if (int rc = ins.Step(); rc != SQLITE_DONE) return SqlError(db_, rc, path_, "storing report");
  ++next_row_;
  return row;
}

namespace {

// True when the stored row `found` (WriteStatements::find_report, stepped onto row `row`)
// holds the signal month and categories of `r` and, with `compare_tokens` (the same key
// epoch: tokens of another epoch always differ), the token blob `blob`. The sealed values
// are opened into `scratch`; one that does not open is DataLoss.
absl::StatusOr<bool> SameContent(const crypto::RowSealer& sealer, const Stmt& found, int64_t row,
                                 const v1::Report& r, bool compare_tokens, std::string_view blob,
                                 std::string* scratch) {
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
  // The map names a row the database does not hold (rc SQLITE_DONE) or reading it failed:
  // the batch is not stored, and the next write reads the map again.
  auto out_of_step = [&](int rc, const std::string& named, const char* reading) {
    ids.loaded = false;
    return rc == SQLITE_DONE
               ? absl::InternalError(absl::StrCat(path_, ": the report-id map names ", named,
                                                  ", which the database does not hold; batch not stored"))
               : SqlError(db_, rc, path_, reading);
  };
  CommitResult result;
  w.find_batch.Reset();
  w.find_batch.BindTextStatic(1, batch.batch_id);
  if (int rc = w.find_batch.Step(); rc == SQLITE_ROW) {
    result.replayed = true;
    result.previous_digest = w.find_batch.Blob(0);
    result.first_accepted = static_cast<uint32_t>(w.find_batch.Int(1));
    result.first_duplicates = static_cast<uint32_t>(w.find_batch.Int(2));
    return result;  // nothing of it is written
  } else if (rc != SQLITE_DONE) {
    return SqlError(db_, rc, path_, "reading batches");
  }

  // The batch row first: reports refer to it.
  w.insert_batch.Reset();
  w.insert_batch.BindTextStatic(1, batch.batch_id);
  w.insert_batch.BindTextStatic(2, batch.agency);
  w.insert_batch.BindBlobStatic(3, enc.digest.data(), enc.digest.size());
  w.insert_batch.BindInt(4, batch.received_unix);
  w.insert_batch.BindInt(5, batch.report_count);
  if (int rc = w.insert_batch.Step(); rc != SQLITE_DONE) return SqlError(db_, rc, path_, "storing batch");

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
      w.insert_report_id.BindInt(1, row);
      w.insert_report_id.BindBlobStatic(2, enc.id(i), kReportIdBytes);
      if (int rc = w.insert_report_id.Step(); rc != SQLITE_DONE) {
        return SqlError(db_, rc, path_, "storing report id");
      }
      ids.row.emplace(key, row);
      ids.added.push_back(key);
      ++result.accepted;
      continue;
    }

    if (known->second == ReportIds::kRetracted) {
      w.find_retracted.Reset();
      w.find_retracted.BindBlobStatic(1, enc.id(i), kReportIdBytes);
      if (int rc = w.find_retracted.Step(); rc != SQLITE_ROW) {
        return out_of_step(rc, "a retraction", "reading retracted");
      }
      if (w.find_retracted.TextEquals(0, batch.agency)) {
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
    w.find_report.BindInt(1, row);
    if (int rc = w.find_report.Step(); rc != SQLITE_ROW) {
      return out_of_step(rc, absl::StrCat("report row ", row), "reading reports");
    }
    if (!w.find_report.TextEquals(0, batch.agency)) {
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
        w.replace_tokens.BindInt(1, row);
        w.replace_tokens.BindBlob(2, w.tokens.data(), static_cast<int>(w.tokens.size()));
        w.replace_tokens.BindInt(3, batch.key_epoch);
        if (int rc = w.replace_tokens.Step(); rc != SQLITE_DONE) {
          return SqlError(db_, rc, path_, "replacing tokens");
        }
        ++result.replaced;
        continue;
      }
      // A correction: the agency sent the report again with other content. The row takes
      // the new content under the next version (a key rotation's new tokens included).
      const int64_t version = w.find_report.Int(5) + 1;
      w.Seal(*sealer_, RowPlace{row, batch.agency, r.signal_month(), batch.key_epoch}, r, blob);
      Stmt& c = w.correct_report;
      c.Reset();
      c.BindInt(1, row);
      c.BindTextStatic(2, batch.batch_id);
      c.BindInt(3, r.signal_month());
      c.BindInt(4, batch.key_epoch);
      c.BindBlob(5, w.facts.data(), static_cast<int>(w.facts.size()));
      c.BindBlob(6, w.tokens.data(), static_cast<int>(w.tokens.size()));
      if (int rc = c.Step(); rc != SQLITE_DONE) return SqlError(db_, rc, path_, "correcting report");
      if (stored_epoch < batch.key_epoch) {
        ++result.replaced;
      } else {
        ++result.duplicates;
      }
      ++result.corrected;
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

  w.update_batch.Reset();
  w.update_batch.BindTextStatic(1, batch.batch_id);
  w.update_batch.BindInt(2, result.accepted);
  w.update_batch.BindInt(3, result.duplicates);
  if (int rc = w.update_batch.Step(); rc != SQLITE_DONE) return SqlError(db_, rc, path_, "storing batch");
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
  std::lock_guard<std::mutex> lock(write_mu_);
  RetractResult result;
  Transaction tx(db_, path_);
  RETURN_IF_ERROR(tx.Begin(true));
  RETURN_IF_ERROR(SyncReportIds());
  // The report_ids row goes with the report (trigger report_ids_go_with_their_report).
  ASSIGN_OR_RETURN(Stmt del, Stmt::Prepare(db_, "DELETE FROM reports WHERE id = ?1 AND agency = ?2"));
  ASSIGN_OR_RETURN(Stmt mark, Stmt::Prepare(db_,
                                            "INSERT OR IGNORE INTO retracted(report_id, agency, at) "
                                            "VALUES (?1, ?2, ?3)"));
  std::vector<ReportIds::Key> retracted;  // marked in the map once committed
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
    del.BindInt(1, known->second);
    del.BindText(2, agency);
    if (int rc = del.Step(); rc != SQLITE_DONE) return SqlError(db_, rc, path_, "retracting");
    if (sqlite3_changes(db_) == 0) {
      result.not_found.push_back(id);
      continue;
    }
    mark.Reset();
    mark.BindBlob(1, id_bytes, kReportIdBytes);
    mark.BindText(2, agency);
    mark.BindInt(3, now_unix);
    if (int rc = mark.Step(); rc != SQLITE_DONE) return SqlError(db_, rc, path_, "retracting");
    retracted.push_back(key);
    ++result.retracted;
  }
  std::optional<audit::Entry> entry;
  if (chain_ != nullptr) {
    const RetractionEvent d{agency, static_cast<uint32_t>(report_ids.size()), result.retracted,
                            static_cast<uint32_t>(result.not_found.size())};
    ASSIGN_OR_RETURN(entry, AppendInTransaction(kEventRetraction, agency, d.ToJson()));
  }
  RETURN_IF_ERROR(tx.Commit());
  for (const ReportIds::Key& key : retracted) report_ids_->row[key] = ReportIds::kRetracted;
  AfterCommit(entry);
  if (result.retracted > 0) ++generation_;
  return result;
}

absl::StatusOr<Dataset> Store::LoadDataset(
    const std::function<int(const std::string& agency)>& domain_of_agency) const {
  ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Database> reader,
                   OpenConnection(path_, /*read_only=*/true));
  sqlite3* const db = reader->handle();
  Transaction tx(db, path_);
  RETURN_IF_ERROR(tx.Begin(false));

  Dataset d;
  // Stored rule id -> (rule id of the bare name, role): the rows of kRoleSuffix.
  std::vector<std::pair<uint16_t, TokenRole>> rule_of_id;
  {
    ASSIGN_OR_RETURN(Stmt st, Stmt::Prepare(db, "SELECT id, name FROM rules ORDER BY id"));
    while (st.Step() == SQLITE_ROW) {
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
  // Per agency (node id): its domain and its number (1 + index into d.agencies; 0 beyond
  // kMaxDatasetAgencies).
  absl::flat_hash_map<std::string, std::pair<int, uint16_t>> agency_cache;
  {
    ASSIGN_OR_RETURN(Stmt count, Stmt::Prepare(db, absl::StrCat(
        "SELECT count(*), coalesce(sum(", TokenCountSql("tokens"), "), 0) FROM reports").c_str()));
    if (count.Step() == SQLITE_ROW) {
      d.reports.reserve(static_cast<size_t>(count.Int(0)));
      d.rows.reserve(static_cast<size_t>(count.Int(0)));
      d.versions.reserve(static_cast<size_t>(count.Int(0)));
      d.tokens.Reserve(static_cast<size_t>(count.Int(1)));
    }
    ASSIGN_OR_RETURN(
        Stmt st, Stmt::Prepare(db,
                               "SELECT id, agency, signal_month, key_epoch, facts, tokens, "
                               "version FROM reports ORDER BY id"));
    auto column = [&st](int c) {
      const void* p = sqlite3_column_blob(st.get(), c);
      return std::string_view(static_cast<const char*>(p), p ? sqlite3_column_bytes(st.get(), c) : 0);
    };
    StoredFacts facts;
    std::string plain, token_blob;
    int rc;
    while ((rc = st.Step()) == SQLITE_ROW) {
      ReportFacts f;
      std::string agency = st.Text(1);
      // Every row is opened: a sealed value that does not open here (moved, altered, another
      // key) stops the load, so no totals are served from it.
      const RowPlace place{st.Int(0), agency, static_cast<uint32_t>(st.Int(2)),
                           static_cast<uint32_t>(st.Int(3))};
      if (absl::Status s = OpenFacts(*sealer_, place, column(4), &facts, &plain); !s.ok()) {
        return absl::DataLossError(absl::StrCat(path_, ": ", s.message(), kCorruptionHint));
      }
      if (absl::Status s = OpenTokens(*sealer_, place, column(5), &token_blob); !s.ok()) {
        return absl::DataLossError(absl::StrCat(path_, ": ", s.message(), kCorruptionHint));
      }
      auto ag = agency_cache.find(agency);
      if (ag == agency_cache.end()) {
        uint16_t number = 0;
        if (d.agencies.size() < kMaxDatasetAgencies) {
          d.agencies.push_back(agency);
          number = static_cast<uint16_t>(d.agencies.size());
        }
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
    if (rc != SQLITE_DONE) return SqlError(db, rc, path_, "reading reports");
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
  ASSIGN_OR_RETURN(Stmt st, Stmt::Prepare(db_, sql.c_str()));
  if (int rc = st.Step(); rc != SQLITE_ROW) return SqlError(db_, rc, path_, "count");
  return st.Int(0);
}

// --- Audit trail, settings, retention -------------------------------------------

namespace {

absl::StatusOr<std::vector<audit::Entry>> ReadEntries(sqlite3* db, const std::string& path,
                                                      uint64_t from_seq, int64_t limit) {
  const std::string sql =
      absl::StrCat("SELECT ", audit::kEntryColumns, " FROM audit WHERE seq >= ?1 ORDER BY seq LIMIT ?2");
  ASSIGN_OR_RETURN(Stmt st, Stmt::Prepare(db, sql.c_str()));
  st.BindInt(1, static_cast<int64_t>(from_seq));
  st.BindInt(2, limit);
  std::vector<audit::Entry> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) out.push_back(audit::EntryFromRow(st));
  if (rc != SQLITE_DONE) return SqlError(db, rc, path, "reading the audit trail");
  return out;
}

absl::Status PutSetting(sqlite3* db, const std::string& path, const std::string& name,
                        const std::string& value) {
  ASSIGN_OR_RETURN(Stmt st, Stmt::Prepare(db,
                                          "INSERT INTO settings(name, value) VALUES (?1, ?2) "
                                          "ON CONFLICT(name) DO UPDATE SET value = excluded.value"));
  st.BindText(1, name);
  st.BindText(2, value);
  if (int rc = st.Step(); rc != SQLITE_DONE) return SqlError(db, rc, path, "storing a setting");
  return absl::OkStatus();
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
  Transaction tx(db_, path_);
  RETURN_IF_ERROR(tx.Begin(true));
  // Nothing is written when the key is recorded already: another process's write makes a
  // running server read its report ids again.
  bool key_recorded = false;
  {
    ASSIGN_OR_RETURN(Stmt st, Stmt::Prepare(db_, "SELECT value FROM settings WHERE name = ?1"));
    st.BindText(1, kSettingAuditPublicKey);
    int rc = st.Step();
    if (rc == SQLITE_ROW) {
      key_recorded = true;
      if (st.Text(0) != pk) {
        return absl::FailedPreconditionError(absl::StrCat(
            path_, ": the audit trail is signed with key ", st.Text(0), " but audit_key_file holds ",
            pk, "; configure the original audit key (a trail has exactly one key)"));
      }
    } else if (rc != SQLITE_DONE) {
      return SqlError(db_, rc, path_, "reading settings");
    }
  }
  uint64_t last_seq = 0;
  std::string last_hash;
  {
    ASSIGN_OR_RETURN(Stmt st, Stmt::Prepare(db_, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"));
    int rc = st.Step();
    if (rc == SQLITE_ROW) {
      last_seq = static_cast<uint64_t>(st.Int(0));
      last_hash = st.Blob(1);
      if (last_hash.size() != crypto::kDigestBytes) {
        return absl::DataLossError(absl::StrCat(path_, ": the last audit entry (", last_seq,
                                                ") has a malformed hash; run `aggregator audit verify`"));
      }
    } else if (rc != SQLITE_DONE) {
      return SqlError(db_, rc, path_, "reading the audit trail");
    }
  }
  if (!key_recorded) RETURN_IF_ERROR(PutSetting(db_, path_, kSettingAuditPublicKey, pk));
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
    ASSIGN_OR_RETURN(Stmt head, Stmt::Prepare(db_, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"));
    const int rc = head.Step();
    if (rc == SQLITE_ROW && static_cast<uint64_t>(head.Int(0)) != chain_->last_seq()) {
      *chain_ = audit::AuditChain(audit_options_.signer, static_cast<uint64_t>(head.Int(0)), head.Blob(1));
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      return SqlError(db_, rc, path_, "reading the audit trail");
    }
  }
  audit::Entry e = chain_->Next(event, actor, details, NowMs());
  ASSIGN_OR_RETURN(Stmt st, Stmt::Prepare(db_,
                                          "INSERT INTO audit(seq, time_ms, event, actor, details, "
                                          "prev_hash, hash, signature) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)"));
  st.BindInt(1, static_cast<int64_t>(e.seq));
  st.BindInt(2, e.time_ms);
  st.BindText(3, e.event);
  st.BindText(4, e.actor);
  st.BindText(5, e.details);
  st.BindBlob(6, e.prev_hash.data(), static_cast<int>(e.prev_hash.size()));
  st.BindBlob(7, e.hash.data(), static_cast<int>(e.hash.size()));
  st.BindBlob(8, e.signature.data(), static_cast<int>(e.signature.size()));
  if (int rc = st.Step(); rc != SQLITE_DONE) return SqlError(db_, rc, path_, "writing the audit trail");
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
  std::lock_guard<std::mutex> lock(write_mu_);
  if (chain_ == nullptr) return absl::OkStatus();
  Transaction tx(db_, path_);
  RETURN_IF_ERROR(tx.Begin(true));
  ASSIGN_OR_RETURN(audit::Entry e, AppendInTransaction(event, actor, details));
  RETURN_IF_ERROR(tx.Commit());
  AfterCommit(e);
  return absl::OkStatus();
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
  return ReadEntries(reader->handle(), path_, from_seq, limit);
}

absl::StatusOr<std::map<std::string, std::string>> Store::LoadSettings() const {
  std::lock_guard<std::mutex> lock(write_mu_);
  ASSIGN_OR_RETURN(Stmt st, Stmt::Prepare(db_, "SELECT name, value FROM settings"));
  std::map<std::string, std::string> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) out[st.Text(0)] = st.Text(1);
  if (rc != SQLITE_DONE) return SqlError(db_, rc, path_, "reading settings");
  return out;
}

absl::Status Store::SetSetting(const std::string& name, const std::string& value,
                               const std::string& event, const std::string& actor,
                               const std::string& details) {
  if (name == kSettingAuditPublicKey || name == kSettingLastReportRow) {
    return absl::InvalidArgumentError("setting is not changeable");
  }
  std::lock_guard<std::mutex> lock(write_mu_);
  Transaction tx(db_, path_);
  RETURN_IF_ERROR(tx.Begin(true));
  RETURN_IF_ERROR(PutSetting(db_, path_, name, value));
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
  Transaction tx(db_, path_);
  RETURN_IF_ERROR(tx.Begin(true));
  constexpr char kExpired[] =
      "(r.signal_month > 0 AND r.signal_month < ?1) OR (r.signal_month = 0 AND "
      "(SELECT b.received_at FROM batches b WHERE b.batch_id = r.batch_id) < ?2)";
  {
    ASSIGN_OR_RETURN(Stmt st, Stmt::Prepare(db_, absl::StrCat(
        "SELECT count(*), coalesce(sum(", TokenCountSql("r.tokens"), "), 0)",
        " FROM reports r WHERE ", kExpired).c_str()));
    st.BindInt(1, cutoff_month);
    st.BindInt(2, cutoff_unix);
    if (int rc = st.Step(); rc != SQLITE_ROW) return SqlError(db_, rc, path_, "purge");
    result.reports = st.Int(0);
    result.tokens = st.Int(1);
  }
  std::vector<ReportIds::Key> purged;  // their ids leave the map once committed
  if (result.reports > 0) {
    ASSIGN_OR_RETURN(Stmt ids, Stmt::Prepare(db_, absl::StrCat(
        "SELECT report_id FROM report_ids WHERE id IN (SELECT r.id FROM reports r WHERE ",
        kExpired, ")").c_str()));
    ids.BindInt(1, cutoff_month);
    ids.BindInt(2, cutoff_unix);
    purged.reserve(static_cast<size_t>(result.reports));
    int rc;
    while ((rc = ids.Step()) == SQLITE_ROW) {
      if (sqlite3_column_bytes(ids.get(), 0) != kReportIdBytes) continue;  // never stored so
      purged.push_back(ReportIds::KeyOf(static_cast<const uint8_t*>(sqlite3_column_blob(ids.get(), 0))));
    }
    if (rc != SQLITE_DONE) return SqlError(db_, rc, path_, "purge");
    // The tokens go with their report rows, the ids with their report_ids rows (the
    // trigger); both are overwritten (secure_delete).
    ASSIGN_OR_RETURN(Stmt del_reports, Stmt::Prepare(db_, absl::StrCat(
        "DELETE FROM reports AS r WHERE ", kExpired).c_str()));
    del_reports.BindInt(1, cutoff_month);
    del_reports.BindInt(2, cutoff_unix);
    if (int rc = del_reports.Step(); rc != SQLITE_DONE) return SqlError(db_, rc, path_, "purge");
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
  Transaction tx(db_, path_);
  RETURN_IF_ERROR(tx.Begin(true));
  int64_t reports = 0, tokens = 0;
  {
    ASSIGN_OR_RETURN(Stmt st, Stmt::Prepare(db_, absl::StrCat(
        "SELECT count(*), coalesce(sum(", TokenCountSql("tokens"), "), 0)",
        " FROM reports WHERE key_epoch < ?1 AND length(tokens) > 0").c_str()));
    st.BindInt(1, epoch);
    if (int rc = st.Step(); rc != SQLITE_ROW) return SqlError(db_, rc, path_, "retiring epochs");
    reports = st.Int(0);
    tokens = st.Int(1);
  }
  if (tokens > 0) {
    // The old blobs are overwritten (secure_delete) by the empty one.
    ASSIGN_OR_RETURN(Stmt del, Stmt::Prepare(db_,
        "UPDATE reports SET tokens = x'' WHERE key_epoch < ?1 AND length(tokens) > 0"));
    del.BindInt(1, epoch);
    if (int rc = del.Step(); rc != SQLITE_DONE) return SqlError(db_, rc, path_, "retiring epochs");
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
    ASSIGN_OR_RETURN(Stmt st, Stmt::Prepare(db_, "PRAGMA auto_vacuum"));
    if (st.Step() == SQLITE_ROW) mode = st.Int(0);
  }
  // The WAL still holds copies of the deleted rows' pages until it is emptied; the
  // checkpoint thread must not be in the middle of a checkpoint then (TRUNCATE would find it
  // and silently do nothing).
  Checkpointer::Pause pause(checkpointer_.get());
  RETURN_IF_ERROR(Exec(db_, path_, mode == 2 ? "PRAGMA incremental_vacuum" : "VACUUM"));
  ASSIGN_OR_RETURN(Stmt st, Stmt::Prepare(db_, "PRAGMA wal_checkpoint(TRUNCATE)"));
  if (int rc = st.Step(); rc != SQLITE_ROW) return SqlError(db_, rc, path_, "wal_checkpoint");
  if (st.Int(0) != 0) {  // a reader kept its snapshot past the busy timeout
    return absl::UnavailableError(absl::StrCat(
        path_, "-wal could not be emptied (a long read held it); until the next purge or "
               "restart it may still hold pages of deleted reports: run the purge again"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> Store::FreePages() const {
  std::lock_guard<std::mutex> lock(write_mu_);
  ASSIGN_OR_RETURN(Stmt st, Stmt::Prepare(db_, "PRAGMA freelist_count"));
  if (int rc = st.Step(); rc != SQLITE_ROW) return SqlError(db_, rc, path_, "freelist_count");
  return st.Int(0);
}

}  // namespace samenzicht::aggregator
