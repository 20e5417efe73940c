#include "aggregator/store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "aggregator/audit_events.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "crypto/encoding.h"

namespace samenzicht::aggregator {
namespace {

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
      return absl::InternalError(absl::StrCat("database: ", sqlite3_errmsg(db)));
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

bool IsCorruption(int rc) {
  rc &= 0xff;
  return rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT;
}

absl::Status SqlError(sqlite3* db, int rc, const std::string& path, const char* what) {
  std::string msg = absl::StrCat(path, ": ", what, ": ", sqlite3_errmsg(db));
  if (IsCorruption(rc)) {
    return absl::DataLossError(absl::StrCat(
        msg, "; the database is damaged: the aggregator will not serve totals from it. "
             "Restore aggregator.db from a backup (the nodes resend what was not acknowledged)"));
  }
  return absl::InternalError(msg);
}

absl::Status Exec(sqlite3* db, const std::string& path, const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (err) sqlite3_free(err);
  if (rc != SQLITE_OK) return SqlError(db, rc, path, "statement failed");
  return absl::OkStatus();
}

// The role of a probe-rule token (issue 3) is kept in the tokens' rule column: rule "x" has
// the rows "x" (ordinary), "x#anchor" and "x#probe" in `rules` ('#' is not allowed in a rule
// name), indexed by v1::TokenRole.
constexpr int kRoles = 3;
constexpr const char* kRoleSuffix[kRoles] = {"", "#anchor", "#probe"};

constexpr char kSchema[] = R"sql(
CREATE TABLE rules(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE);
CREATE TABLE batches(
  batch_id TEXT PRIMARY KEY,
  agency TEXT NOT NULL,
  digest BLOB NOT NULL,
  received_at INTEGER NOT NULL,
  report_count INTEGER NOT NULL,
  accepted INTEGER NOT NULL,
  duplicates INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE reports(
  id INTEGER PRIMARY KEY,
  report_id TEXT NOT NULL UNIQUE,
  agency TEXT NOT NULL,
  batch_id TEXT NOT NULL REFERENCES batches(batch_id),
  signal_month INTEGER NOT NULL,
  form INTEGER NOT NULL,
  contact INTEGER NOT NULL,
  age_band INTEGER NOT NULL,
  gender INTEGER NOT NULL,
  background INTEGER NOT NULL,
  living_situation INTEGER NOT NULL,
  recruitment_location INTEGER NOT NULL,
  coercion INTEGER NOT NULL,
  forced_crime INTEGER NOT NULL,
  area TEXT NOT NULL);
CREATE TABLE tokens(
  report INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
  rule INTEGER NOT NULL REFERENCES rules(id),
  token BLOB NOT NULL CHECK(length(token) = 32));
CREATE INDEX tokens_by_report ON tokens(report);
CREATE TABLE retracted(
  report_id TEXT PRIMARY KEY,
  agency TEXT NOT NULL,
  at INTEGER NOT NULL) WITHOUT ROWID;
PRAGMA user_version = 1;
)sql";

// Schema version 2 (issue 6): the audit trail and the administrator's settings.
constexpr char kSchemaV2[] = R"sql(
CREATE TABLE audit(
  seq INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  event TEXT NOT NULL,
  actor TEXT NOT NULL,
  details TEXT NOT NULL,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL,
  signature BLOB NOT NULL);
CREATE TABLE settings(
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL) WITHOUT ROWID;
PRAGMA user_version = 2;
)sql";

// Schema version 3 (issue 9, key rotation): the hashing-key epoch of each report's tokens.
// Reports stored before version 3 get the epoch the aggregator last ran with (the only
// epoch it accepted then; 0 when it never recorded one).
constexpr char kSchemaV3[] = R"sql(
ALTER TABLE reports ADD COLUMN key_epoch INTEGER NOT NULL DEFAULT 0;
UPDATE reports SET key_epoch = coalesce(
  (SELECT CAST(value AS INTEGER) FROM settings WHERE name = 'last_key_epoch'),
  (SELECT CAST(value AS INTEGER) FROM settings WHERE name = 'key_epoch'), 0);
PRAGMA user_version = 3;
)sql";

constexpr char kAuditPublicKeySetting[] = "audit_public_key";

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

absl::StatusOr<sqlite3*> OpenConnection(const std::string& path, bool read_only) {
  sqlite3* db = nullptr;
  int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  flags |= SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return absl::InternalError(absl::StrCat(path, ": cannot open database: ", msg));
  }
  sqlite3_busy_timeout(db, 10000);
  return db;
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

  ASSIGN_OR_RETURN(sqlite3 * db, OpenConnection(path, /*read_only=*/false));
  auto fail = [&](absl::Status s) {
    sqlite3_close_v2(db);
    return s;
  };

  // Integrity first: a damaged file is refused before anything is written to it.
  {
    auto st = Stmt::Prepare(db, "PRAGMA quick_check");
    if (!st.ok()) {
      int rc = sqlite3_extended_errcode(db);
      if (IsCorruption(rc)) return fail(SqlError(db, rc, path, "cannot read database"));
      return fail(st.status());
    }
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
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                             "PRAGMA foreign_keys=ON", "PRAGMA secure_delete=ON"}) {
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
    Transaction tx(db, path);
    if (auto s = tx.Begin(true); !s.ok()) return fail(s);
    if (auto s = Exec(db, path, kSchema); !s.ok()) return fail(s);
    if (auto s = Exec(db, path, kSchemaV2); !s.ok()) return fail(s);
    if (auto s = Exec(db, path, kSchemaV3); !s.ok()) return fail(s);
    if (auto s = tx.Commit(); !s.ok()) return fail(s);
  } else if (version == 1 || version == 2) {
    Transaction tx(db, path);
    if (auto s = tx.Begin(true); !s.ok()) return fail(s);
    if (version == 1) {
      if (auto s = Exec(db, path, kSchemaV2); !s.ok()) return fail(s);
    }
    if (auto s = Exec(db, path, kSchemaV3); !s.ok()) return fail(s);
    if (auto s = tx.Commit(); !s.ok()) return fail(s);
  } else if (version != kSchemaVersion) {
    return fail(absl::FailedPreconditionError(
        absl::StrCat(path, ": database schema version ", version, " is not the supported version ",
                     kSchemaVersion, "; use the aggregator release that wrote it")));
  }

  // Register the profile's rules; ids of rules seen before stay stable. Each rule also gets
  // a row per probe-rule role (kRoleSuffix), so a token's role is stored in its rule column.
  std::vector<int> rule_ids;
  {
    auto ins = Stmt::Prepare(db, "INSERT OR IGNORE INTO rules(name) VALUES (?1)");
    auto sel = Stmt::Prepare(db, "SELECT id FROM rules WHERE name = ?1");
    if (!ins.ok()) return fail(ins.status());
    if (!sel.ok()) return fail(sel.status());
    for (const std::string& rule : rule_names) {
      for (const char* suffix : kRoleSuffix) {
        const std::string name = rule + suffix;
        ins->Reset();
        ins->BindText(1, name);
        if (int rc = ins->Step(); rc != SQLITE_DONE) return fail(SqlError(db, rc, path, "rules"));
        sel->Reset();
        sel->BindText(1, name);
        if (int rc = sel->Step(); rc != SQLITE_ROW) return fail(SqlError(db, rc, path, "rules"));
        rule_ids.push_back(static_cast<int>(sel->Int(0)));
      }
    }
  }
  ::chmod(path.c_str(), 0600);
  return std::unique_ptr<Store>(new Store(path, db, std::move(hasher), std::move(rule_ids)));
}

Store::~Store() { sqlite3_close_v2(db_); }

absl::StatusOr<CommitResult> Store::CommitBatch(const BatchToStore& batch) {
  std::lock_guard<std::mutex> lock(write_mu_);
  CommitResult result;
  Transaction tx(db_, path_);
  RETURN_IF_ERROR(tx.Begin(true));

  ASSIGN_OR_RETURN(Stmt find_batch,
                   Stmt::Prepare(db_, "SELECT digest FROM batches WHERE batch_id = ?1"));
  find_batch.BindText(1, batch.batch_id);
  if (int rc = find_batch.Step(); rc == SQLITE_ROW) {
    result.replayed = true;
    result.previous_digest = find_batch.Blob(0);
    return result;  // the transaction rolls back: nothing changes
  } else if (rc != SQLITE_DONE) {
    return SqlError(db_, rc, path_, "reading batches");
  }

  ASSIGN_OR_RETURN(Stmt find_report,
                   Stmt::Prepare(db_, "SELECT agency, key_epoch, id FROM reports WHERE report_id = ?1"));
  ASSIGN_OR_RETURN(Stmt find_retracted,
                   Stmt::Prepare(db_, "SELECT agency FROM retracted WHERE report_id = ?1"));
  ASSIGN_OR_RETURN(
      Stmt insert_report,
      Stmt::Prepare(db_,
                    "INSERT INTO reports(report_id, agency, batch_id, signal_month, form, contact, "
                    "age_band, gender, background, living_situation, recruitment_location, "
                    "coercion, forced_crime, area, key_epoch) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,"
                    "?9,?10,?11,?12,?13,?14,?15)"));
  ASSIGN_OR_RETURN(Stmt insert_token,
                   Stmt::Prepare(db_, "INSERT INTO tokens(report, rule, token) VALUES (?1,?2,?3)"));
  // Key rotation (issue 9): the same agency re-sends a report under a newer key epoch.
  ASSIGN_OR_RETURN(Stmt delete_tokens, Stmt::Prepare(db_, "DELETE FROM tokens WHERE report = ?1"));
  ASSIGN_OR_RETURN(Stmt set_epoch,
                   Stmt::Prepare(db_, "UPDATE reports SET key_epoch = ?2 WHERE id = ?1"));

  // The batch row first: reports refer to it.
  ASSIGN_OR_RETURN(Stmt insert_batch,
                   Stmt::Prepare(db_,
                                 "INSERT INTO batches(batch_id, agency, digest, received_at, "
                                 "report_count, accepted, duplicates) VALUES (?1,?2,?3,?4,?5,0,0)"));
  insert_batch.BindText(1, batch.batch_id);
  insert_batch.BindText(2, batch.agency);
  insert_batch.BindBlob(3, batch.digest.data(), static_cast<int>(batch.digest.size()));
  insert_batch.BindInt(4, batch.received_unix);
  insert_batch.BindInt(5, batch.report_count);
  if (int rc = insert_batch.Step(); rc != SQLITE_DONE) return SqlError(db_, rc, path_, "storing batch");

  uint8_t rekeyed[crypto::kTokenBytes];
  // Stores the re-keyed tokens of `r` for report row `rowid`.
  auto store_tokens = [&](const v1::Report& r, int64_t rowid) -> absl::Status {
    for (const v1::Token& t : r.tokens()) {
      int rule = hasher_->LabelIndex(t.rule());
      if (rule < 0 || t.value().size() != crypto::kTokenBytes) {
        return absl::InternalError("unvalidated token reached the store");  // a bug upstream
      }
      // The agency token is keyed again here; only the result is bound to the statement.
      hasher_->HashInto(static_cast<size_t>(rule), t.value(), rekeyed);
      insert_token.Reset();
      insert_token.BindInt(1, rowid);
      const int role = v1::TokenRole_IsValid(t.role()) ? t.role() : 0;
      insert_token.BindInt(2, rule_ids_[static_cast<size_t>(rule) * kRoles + role]);
      insert_token.BindBlob(3, rekeyed, crypto::kTokenBytes);
      if (int rc = insert_token.Step(); rc != SQLITE_DONE) {
        return SqlError(db_, rc, path_, "storing token");
      }
    }
    return absl::OkStatus();
  };
  for (const ReportToStore& item : batch.reports) {
    const v1::Report& r = *item.report;
    find_report.Reset();
    find_report.BindText(1, r.report_id());
    if (int rc = find_report.Step(); rc == SQLITE_ROW) {
      if (find_report.Text(0) == batch.agency &&
          static_cast<uint32_t>(find_report.Int(1)) < batch.key_epoch) {
        // Key rotation: the same report under a newer epoch. Its tokens are replaced; the
        // report (and its categories) stays one report, counted once.
        const int64_t rowid = find_report.Int(2);
        delete_tokens.Reset();
        delete_tokens.BindInt(1, rowid);
        if (int rc2 = delete_tokens.Step(); rc2 != SQLITE_DONE) {
          return SqlError(db_, rc2, path_, "replacing tokens");
        }
        RETURN_IF_ERROR(store_tokens(r, rowid));
        set_epoch.Reset();
        set_epoch.BindInt(1, rowid);
        set_epoch.BindInt(2, batch.key_epoch);
        if (int rc2 = set_epoch.Step(); rc2 != SQLITE_DONE) {
          return SqlError(db_, rc2, path_, "replacing tokens");
        }
        ++result.replaced;
      } else if (find_report.Text(0) == batch.agency) {
        ++result.duplicates;
      } else {
        result.refused.push_back({item.index, absl::StatusCode::kAlreadyExists,
                                  "report_id is already in use by another report"});
      }
      continue;
    } else if (rc != SQLITE_DONE) {
      return SqlError(db_, rc, path_, "reading reports");
    }
    find_retracted.Reset();
    find_retracted.BindText(1, r.report_id());
    if (int rc = find_retracted.Step(); rc == SQLITE_ROW) {
      if (find_retracted.Text(0) == batch.agency) {
        result.refused.push_back({item.index, absl::StatusCode::kFailedPrecondition,
                                  "report_id was retracted and cannot be submitted again"});
      } else {
        result.refused.push_back({item.index, absl::StatusCode::kAlreadyExists,
                                  "report_id is already in use by another report"});
      }
      continue;
    } else if (rc != SQLITE_DONE) {
      return SqlError(db_, rc, path_, "reading retracted");
    }

    insert_report.Reset();
    insert_report.BindText(1, r.report_id());
    insert_report.BindText(2, batch.agency);
    insert_report.BindText(3, batch.batch_id);
    insert_report.BindInt(4, r.signal_month());
    insert_report.BindInt(5, r.form());
    insert_report.BindInt(6, r.contact());
    insert_report.BindInt(7, r.age_band());
    insert_report.BindInt(8, r.gender());
    insert_report.BindInt(9, r.background());
    insert_report.BindInt(10, MaskOf(r.living_situation()));
    insert_report.BindInt(11, MaskOf(r.recruitment_location()));
    insert_report.BindInt(12, MaskOf(r.coercion()));
    insert_report.BindInt(13, MaskOf(r.forced_crime()));
    insert_report.BindText(14, r.area());
    insert_report.BindInt(15, batch.key_epoch);
    if (int rc = insert_report.Step(); rc != SQLITE_DONE) {
      return SqlError(db_, rc, path_, "storing report");
    }
    int64_t rowid = sqlite3_last_insert_rowid(db_);
    RETURN_IF_ERROR(store_tokens(r, rowid));
    ++result.accepted;
  }

  ASSIGN_OR_RETURN(Stmt update_batch,
                   Stmt::Prepare(db_,
                                 "UPDATE batches SET accepted = ?2, duplicates = ?3 "
                                 "WHERE batch_id = ?1"));
  update_batch.BindText(1, batch.batch_id);
  update_batch.BindInt(2, result.accepted);
  update_batch.BindInt(3, result.duplicates);
  if (int rc = update_batch.Step(); rc != SQLITE_DONE) return SqlError(db_, rc, path_, "storing batch");
  std::optional<audit::Entry> entry;
  if (chain_ != nullptr) {
    JsonObject d;
    d.Add("agency", batch.agency)
        .Add("batch_id", batch.batch_id)
        .Add("reports", batch.report_count)
        .Add("accepted", result.accepted)
        .Add("duplicates", result.duplicates)
        .Add("refused", static_cast<uint32_t>(result.refused.size()) + batch.refused_before_store)
        .Add("key_epoch", batch.key_epoch)
        .Add("replaced", result.replaced)
        .Add("batch_digest", crypto::ToHex(batch.digest))
        .Add("node_signature", crypto::Base64Encode(batch.node_signature));
    ASSIGN_OR_RETURN(entry, AppendInTransaction(kEventBatchReceived, batch.agency, d.str()));
  }
  RETURN_IF_ERROR(tx.Commit());
  AfterCommit(entry);
  ++generation_;
  return result;
}

absl::StatusOr<RetractResult> Store::Retract(const std::string& agency,
                                             const std::vector<std::string>& report_ids,
                                             int64_t now_unix) {
  std::lock_guard<std::mutex> lock(write_mu_);
  RetractResult result;
  Transaction tx(db_, path_);
  RETURN_IF_ERROR(tx.Begin(true));
  ASSIGN_OR_RETURN(Stmt del, Stmt::Prepare(db_,
                                           "DELETE FROM reports WHERE report_id = ?1 AND agency = ?2"));
  ASSIGN_OR_RETURN(Stmt mark, Stmt::Prepare(db_,
                                            "INSERT OR IGNORE INTO retracted(report_id, agency, at) "
                                            "VALUES (?1, ?2, ?3)"));
  for (const std::string& id : report_ids) {
    del.Reset();
    del.BindText(1, id);
    del.BindText(2, agency);
    if (int rc = del.Step(); rc != SQLITE_DONE) return SqlError(db_, rc, path_, "retracting");
    if (sqlite3_changes(db_) == 0) {
      result.not_found.push_back(id);
      continue;
    }
    mark.Reset();
    mark.BindText(1, id);
    mark.BindText(2, agency);
    mark.BindInt(3, now_unix);
    if (int rc = mark.Step(); rc != SQLITE_DONE) return SqlError(db_, rc, path_, "retracting");
    ++result.retracted;
  }
  std::optional<audit::Entry> entry;
  if (chain_ != nullptr) {
    JsonObject d;
    d.Add("agency", agency)
        .Add("requested", static_cast<uint32_t>(report_ids.size()))
        .Add("retracted", result.retracted)
        .Add("not_found", static_cast<uint32_t>(result.not_found.size()));
    ASSIGN_OR_RETURN(entry, AppendInTransaction(kEventRetraction, agency, d.str()));
  }
  RETURN_IF_ERROR(tx.Commit());
  AfterCommit(entry);
  if (result.retracted > 0) ++generation_;
  return result;
}

absl::StatusOr<Dataset> Store::LoadDataset(
    const std::function<int(const std::string& agency)>& domain_of_agency) const {
  ASSIGN_OR_RETURN(sqlite3 * db, OpenConnection(path_, /*read_only=*/true));
  struct Closer {
    sqlite3* db;
    ~Closer() { sqlite3_close_v2(db); }
  } closer{db};
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
  absl::flat_hash_map<int64_t, uint32_t> index_of_row;
  absl::flat_hash_map<std::string, uint16_t> area_index;
  absl::flat_hash_map<std::string, int> domain_cache;
  {
    ASSIGN_OR_RETURN(Stmt count, Stmt::Prepare(db, "SELECT count(*) FROM reports"));
    if (count.Step() == SQLITE_ROW) {
      d.reports.reserve(static_cast<size_t>(count.Int(0)));
      index_of_row.reserve(static_cast<size_t>(count.Int(0)));
    }
    ASSIGN_OR_RETURN(
        Stmt st, Stmt::Prepare(db,
                               "SELECT id, agency, signal_month, form, contact, age_band, gender, "
                               "background, living_situation, recruitment_location, coercion, "
                               "forced_crime, area FROM reports ORDER BY id"));
    int rc;
    while ((rc = st.Step()) == SQLITE_ROW) {
      ReportFacts f;
      std::string agency = st.Text(1);
      auto dom = domain_cache.find(agency);
      if (dom == domain_cache.end()) dom = domain_cache.emplace(agency, domain_of_agency(agency)).first;
      f.domain = static_cast<uint8_t>(dom->second);
      f.signal_month = static_cast<uint32_t>(st.Int(2));
      f.form = static_cast<uint8_t>(st.Int(3));
      f.contact = static_cast<uint8_t>(st.Int(4));
      f.age_band = static_cast<uint8_t>(st.Int(5));
      f.gender = static_cast<uint8_t>(st.Int(6));
      f.background = static_cast<uint8_t>(st.Int(7));
      f.living = static_cast<uint32_t>(st.Int(8));
      f.recruitment = static_cast<uint32_t>(st.Int(9));
      f.coercion = static_cast<uint32_t>(st.Int(10));
      f.forced_crime = static_cast<uint32_t>(st.Int(11));
      std::string area = st.Text(12);
      if (!area.empty()) {
        auto it = area_index.find(area);
        if (it == area_index.end()) {
          d.areas.push_back(area);
          it = area_index.emplace(area, static_cast<uint16_t>(d.areas.size())).first;
        }
        f.area = it->second;
      }
      index_of_row.emplace(st.Int(0), static_cast<uint32_t>(d.reports.size()));
      d.reports.push_back(f);
    }
    if (rc != SQLITE_DONE) return SqlError(db, rc, path_, "reading reports");
  }
  {
    ASSIGN_OR_RETURN(Stmt count, Stmt::Prepare(db, "SELECT count(*) FROM tokens"));
    if (count.Step() == SQLITE_ROW) d.tokens.Reserve(static_cast<size_t>(count.Int(0)));
    ASSIGN_OR_RETURN(Stmt st, Stmt::Prepare(db, "SELECT report, rule, token FROM tokens"));
    int rc;
    while ((rc = st.Step()) == SQLITE_ROW) {
      auto it = index_of_row.find(st.Int(0));
      if (it == index_of_row.end()) continue;
      if (sqlite3_column_bytes(st.get(), 2) != static_cast<int>(kTokenSize)) {
        return absl::DataLossError(absl::StrCat(path_, ": a stored token has the wrong length"));
      }
      const size_t rule_id = static_cast<size_t>(st.Int(1));
      if (rule_id >= rule_of_id.size()) {
        return absl::DataLossError(absl::StrCat(path_, ": a stored token has an unknown rule"));
      }
      d.tokens.Add(it->second, rule_of_id[rule_id].first,
                   static_cast<const uint8_t*>(sqlite3_column_blob(st.get(), 2)),
                   rule_of_id[rule_id].second);
      d.reports[it->second].has_token = true;
    }
    if (rc != SQLITE_DONE) return SqlError(db, rc, path_, "reading tokens");
  }
  return d;
}

absl::StatusOr<int64_t> Store::CountRows(const std::string& table) const {
  if (table != "batches" && table != "reports" && table != "tokens" && table != "retracted" &&
      table != "audit" && table != "settings") {
    return absl::InvalidArgumentError("unknown table");
  }
  std::lock_guard<std::mutex> lock(write_mu_);
  ASSIGN_OR_RETURN(Stmt st, Stmt::Prepare(db_, absl::StrCat("SELECT count(*) FROM ", table).c_str()));
  if (int rc = st.Step(); rc != SQLITE_ROW) return SqlError(db_, rc, path_, "count");
  return st.Int(0);
}

// --- Audit trail, settings, retention (issue 6) -------------------------------------------

namespace {

absl::StatusOr<std::vector<audit::Entry>> ReadEntries(sqlite3* db, const std::string& path,
                                                      uint64_t from_seq, int64_t limit) {
  ASSIGN_OR_RETURN(Stmt st, Stmt::Prepare(db,
                                          "SELECT seq, time_ms, event, actor, details, prev_hash, "
                                          "hash, signature FROM audit WHERE seq >= ?1 ORDER BY seq "
                                          "LIMIT ?2"));
  st.BindInt(1, static_cast<int64_t>(from_seq));
  st.BindInt(2, limit);
  std::vector<audit::Entry> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    audit::Entry e;
    e.seq = static_cast<uint64_t>(st.Int(0));
    e.time_ms = st.Int(1);
    e.event = st.Text(2);
    e.actor = st.Text(3);
    e.details = st.Text(4);
    e.prev_hash = st.Blob(5);
    e.hash = st.Blob(6);
    e.signature = st.Blob(7);
    out.push_back(std::move(e));
  }
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
  {
    ASSIGN_OR_RETURN(Stmt st, Stmt::Prepare(db_, "SELECT value FROM settings WHERE name = ?1"));
    st.BindText(1, kAuditPublicKeySetting);
    int rc = st.Step();
    if (rc == SQLITE_ROW) {
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
  RETURN_IF_ERROR(PutSetting(db_, path_, kAuditPublicKeySetting, pk));
  RETURN_IF_ERROR(tx.Commit());
  if (!options.checkpoint_dir.empty()) RETURN_IF_ERROR(files::MakeDirs(options.checkpoint_dir));
  audit_options_ = std::move(options);
  chain_ = std::make_unique<audit::AuditChain>(audit_options_.signer, last_seq, std::move(last_hash));
  return absl::OkStatus();
}

absl::StatusOr<audit::Entry> Store::AppendInTransaction(const std::string& event,
                                                        const std::string& actor,
                                                        const std::string& details) {
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
  if (audit_options_.checkpoint_every > 0 && entry->seq % audit_options_.checkpoint_every == 0) {
    // The entry is committed; a checkpoint that cannot be written is only a missed copy.
    (void)WriteCheckpointLocked();
  }
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
  audit::Checkpoint c = chain_->MakeCheckpoint(NowMs());
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
  ASSIGN_OR_RETURN(sqlite3 * db, OpenConnection(path_, /*read_only=*/true));
  struct Closer {
    sqlite3* db;
    ~Closer() { sqlite3_close_v2(db); }
  } closer{db};
  return ReadEntries(db, path_, from_seq, limit);
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
  if (name == kAuditPublicKeySetting) return absl::InvalidArgumentError("setting is not changeable");
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
        "SELECT count(*), (SELECT count(*) FROM tokens t WHERE t.report IN (SELECT r.id FROM "
        "reports r WHERE ", kExpired, ")) FROM reports r WHERE ", kExpired).c_str()));
    st.BindInt(1, cutoff_month);
    st.BindInt(2, cutoff_unix);
    if (int rc = st.Step(); rc != SQLITE_ROW) return SqlError(db_, rc, path_, "purge");
    result.reports = st.Int(0);
    result.tokens = st.Int(1);
  }
  if (result.reports > 0) {
    // Tokens first (explicitly, not only through the cascade), then the reports.
    ASSIGN_OR_RETURN(Stmt del_tokens, Stmt::Prepare(db_, absl::StrCat(
        "DELETE FROM tokens WHERE report IN (SELECT r.id FROM reports r WHERE ", kExpired,
        ")").c_str()));
    del_tokens.BindInt(1, cutoff_month);
    del_tokens.BindInt(2, cutoff_unix);
    if (int rc = del_tokens.Step(); rc != SQLITE_DONE) return SqlError(db_, rc, path_, "purge");
    ASSIGN_OR_RETURN(Stmt del_reports, Stmt::Prepare(db_, absl::StrCat(
        "DELETE FROM reports AS r WHERE ", kExpired).c_str()));
    del_reports.BindInt(1, cutoff_month);
    del_reports.BindInt(2, cutoff_unix);
    if (int rc = del_reports.Step(); rc != SQLITE_DONE) return SqlError(db_, rc, path_, "purge");
  }
  std::optional<audit::Entry> entry;
  if (chain_ != nullptr) {
    JsonObject d;
    d.Add("cutoff_month", MonthText(cutoff_month))
        .Add("reports", result.reports)
        .Add("tokens", result.tokens);
    ASSIGN_OR_RETURN(entry, AppendInTransaction(kEventPurge, actor, d.str()));
  }
  RETURN_IF_ERROR(tx.Commit());
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
    ASSIGN_OR_RETURN(Stmt st, Stmt::Prepare(db_,
        "SELECT count(DISTINCT t.report), count(*) FROM tokens t JOIN reports r ON r.id = "
        "t.report WHERE r.key_epoch < ?1"));
    st.BindInt(1, epoch);
    if (int rc = st.Step(); rc != SQLITE_ROW) return SqlError(db_, rc, path_, "retiring epochs");
    reports = st.Int(0);
    tokens = st.Int(1);
  }
  if (tokens > 0) {
    ASSIGN_OR_RETURN(Stmt del, Stmt::Prepare(db_,
        "DELETE FROM tokens WHERE report IN (SELECT id FROM reports WHERE key_epoch < ?1)"));
    del.BindInt(1, epoch);
    if (int rc = del.Step(); rc != SQLITE_DONE) return SqlError(db_, rc, path_, "retiring epochs");
  }
  std::optional<audit::Entry> entry;
  if (chain_ != nullptr) {
    JsonObject d;
    d.Add("before_epoch", epoch).Add("reports", reports).Add("tokens", tokens);
    ASSIGN_OR_RETURN(entry, AppendInTransaction(kEventKeyEpochRetired, actor, d.str()));
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
  RETURN_IF_ERROR(Exec(db_, path_, mode == 2 ? "PRAGMA incremental_vacuum" : "VACUUM"));
  return Exec(db_, path_, "PRAGMA wal_checkpoint(TRUNCATE)");
}

absl::StatusOr<int64_t> Store::FreePages() const {
  std::lock_guard<std::mutex> lock(write_mu_);
  ASSIGN_OR_RETURN(Stmt st, Stmt::Prepare(db_, "PRAGMA freelist_count"));
  if (int rc = st.Step(); rc != SQLITE_ROW) return SqlError(db_, rc, path_, "freelist_count");
  return st.Int(0);
}

}  // namespace samenzicht::aggregator
