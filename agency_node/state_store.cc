#include "agency_node/state_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "crypto/encoding.h"

namespace samenzicht::agency_node {
namespace {

absl::Status SqliteError(sqlite3* db, const std::string& what) {
  int code = db ? sqlite3_errcode(db) : SQLITE_ERROR;
  std::string msg = absl::StrCat("node state: ", what, ": ", db ? sqlite3_errmsg(db) : "no db");
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED) return absl::UnavailableError(msg);
  if (code == SQLITE_READONLY || code == SQLITE_PERM || code == SQLITE_CANTOPEN) {
    return absl::PermissionDeniedError(msg);
  }
  return absl::InternalError(msg);
}

// A prepared statement, finalised on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  bool ok() const { return rc_ == SQLITE_OK; }
  Stmt& Bind(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& BindNull(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }
  int Step() { return sqlite3_step(stmt_); }
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::string Text(int col) {
    const unsigned char* t = sqlite3_column_text(stmt_, col);
    return t ? std::string(reinterpret_cast<const char*>(t), sqlite3_column_bytes(stmt_, col)) : "";
  }
  int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }
  bool IsNull(int col) { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

constexpr char kSchema[] = R"sql(
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
)sql";

}  // namespace

absl::StatusOr<std::unique_ptr<StateStore>> StateStore::Open(const std::string& state_dir) {
  if (state_dir.empty()) return absl::InvalidArgumentError("state_dir is not set");
  RETURN_IF_ERROR(files::MakeDirs(state_dir));
  if (chmod(state_dir.c_str(), 0700) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat(state_dir, ": cannot set mode 0700: ", std::strerror(errno)));
  }
  std::string path = state_dir + "/node.db";
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    absl::Status s = SqliteError(db, absl::StrCat("open ", path));
    sqlite3_close_v2(db);
    return s;
  }
  chmod(path.c_str(), 0600);
  std::unique_ptr<StateStore> store(new StateStore(db, path));
  sqlite3_busy_timeout(db, 5000);
  RETURN_IF_ERROR(store->Exec("PRAGMA journal_mode=WAL"));
  RETURN_IF_ERROR(store->Exec("PRAGMA synchronous=FULL"));
  RETURN_IF_ERROR(store->Exec("PRAGMA foreign_keys=ON"));
  RETURN_IF_ERROR(store->Exec(kSchema));
  return store;
}

StateStore::~StateStore() { sqlite3_close_v2(db_); }

absl::Status StateStore::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string what = err ? err : "exec";
    sqlite3_free(err);
    return SqliteError(db_, what);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> StateStore::AssignReportIds(
    const std::vector<std::string>& record_ids) {
  RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  std::vector<std::string> out;
  out.reserve(record_ids.size());
  {
    Stmt find(db_, "SELECT report_id FROM report_map WHERE record_id = ?");
    Stmt insert(db_,
                "INSERT INTO report_map(record_id, report_id, first_seen_unix) VALUES (?, ?, ?)");
    if (!find.ok() || !insert.ok()) {
      absl::Status s = SqliteError(db_, "prepare");
      (void)Exec("ROLLBACK");
      return s;
    }
    const int64_t now = time(nullptr);
    for (const std::string& rid : record_ids) {
      find.Bind(1, rid);
      int rc = find.Step();
      if (rc == SQLITE_ROW) {
        out.push_back(find.Text(0));
        find.Reset();
        continue;
      }
      find.Reset();
      if (rc != SQLITE_DONE) {
        absl::Status s = SqliteError(db_, "look up report id");
        (void)Exec("ROLLBACK");
        return s;
      }
      std::string report_id = crypto::RandomId();
      insert.Bind(1, rid).Bind(2, report_id).Bind(3, now);
      if (insert.Step() != SQLITE_DONE) {
        absl::Status s = SqliteError(db_, "store report id");
        (void)Exec("ROLLBACK");
        return s;
      }
      insert.Reset();
      out.push_back(std::move(report_id));
    }
  }
  RETURN_IF_ERROR(Exec("COMMIT"));
  return out;
}

absl::StatusOr<std::string> StateStore::FindReportId(const std::string& record_id) {
  Stmt s(db_, "SELECT report_id FROM report_map WHERE record_id = ?");
  if (!s.ok()) return SqliteError(db_, "prepare");
  s.Bind(1, record_id);
  int rc = s.Step();
  if (rc == SQLITE_ROW) return s.Text(0);
  if (rc == SQLITE_DONE) return absl::NotFoundError("record id was never sent by this node");
  return SqliteError(db_, "look up report id");
}

absl::StatusOr<std::string> StateStore::FindRecordId(const std::string& report_id) {
  Stmt s(db_, "SELECT record_id FROM report_map WHERE report_id = ?");
  if (!s.ok()) return SqliteError(db_, "prepare");
  s.Bind(1, report_id);
  int rc = s.Step();
  if (rc == SQLITE_ROW) return s.Text(0);
  if (rc == SQLITE_DONE) return absl::NotFoundError("unknown report id");
  return SqliteError(db_, "look up record id");
}

absl::Status StateStore::RecordSent(const SentBatch& b, const std::vector<SentReport>& reports) {
  RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  auto fail = [&](const std::string& what) {
    absl::Status s = SqliteError(db_, what);
    (void)Exec("ROLLBACK");
    return s;
  };
  {
    Stmt ins(db_,
             "INSERT OR IGNORE INTO sent_batches(batch_id, digest_hex, report_count, "
             "created_unix, sent_unix) VALUES (?, ?, ?, ?, ?)");
    if (!ins.ok()) return fail("prepare");
    ins.Bind(1, b.batch_id).Bind(2, b.digest_hex).Bind(3, int64_t{b.report_count});
    ins.Bind(4, b.created_unix).Bind(5, b.sent_unix);
    if (ins.Step() != SQLITE_DONE) return fail("log batch");
    Stmt rep(db_,
             "INSERT OR IGNORE INTO sent_reports(batch_id, position, report_id, categories, "
             "token_count) VALUES (?, ?, ?, ?, ?)");
    if (!rep.ok()) return fail("prepare");
    for (size_t i = 0; i < reports.size(); ++i) {
      rep.Bind(1, b.batch_id).Bind(2, static_cast<int64_t>(i)).Bind(3, reports[i].report_id);
      rep.Bind(4, reports[i].categories).Bind(5, int64_t{reports[i].token_count});
      if (rep.Step() != SQLITE_DONE) return fail("log report");
      rep.Reset();
    }
  }
  return Exec("COMMIT");
}

absl::Status StateStore::RecordAck(const v1::BatchAck& ack, int64_t now_unix) {
  RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  auto fail = [&](const std::string& what) {
    absl::Status s = SqliteError(db_, what);
    (void)Exec("ROLLBACK");
    return s;
  };
  {
    Stmt up(db_,
            "UPDATE sent_batches SET ack_code = ?, ack_message = ?, accepted = ?, duplicates = ?, "
            "refused_reports = ?, ack_unix = ? WHERE batch_id = ?");
    if (!up.ok()) return fail("prepare");
    up.Bind(1, int64_t{ack.code()}).Bind(2, ack.message()).Bind(3, int64_t{ack.accepted()});
    up.Bind(4, int64_t{ack.duplicates()}).Bind(5, static_cast<int64_t>(ack.errors_size()));
    up.Bind(6, now_unix).Bind(7, ack.batch_id());
    if (up.Step() != SQLITE_DONE) return fail("log ack");
    if (sqlite3_changes(db_) == 0) {
      (void)Exec("ROLLBACK");
      return absl::NotFoundError("acknowledgement for a batch this node did not log");
    }
    Stmt err(db_,
             "UPDATE sent_reports SET error_code = ?, error_message = ? WHERE batch_id = ? AND "
             "position = ?");
    if (!err.ok()) return fail("prepare");
    for (const auto& e : ack.errors()) {
      err.Bind(1, int64_t{e.code()}).Bind(2, e.message()).Bind(3, ack.batch_id());
      err.Bind(4, int64_t{e.index()});
      if (err.Step() != SQLITE_DONE) return fail("log report error");
      err.Reset();
    }
  }
  return Exec("COMMIT");
}

absl::Status StateStore::RecordRetraction(const std::string& report_id, const std::string& outcome,
                                          int64_t now_unix) {
  Stmt s(db_, "INSERT INTO retractions(report_id, outcome, at_unix) VALUES (?, ?, ?)");
  if (!s.ok()) return SqliteError(db_, "prepare");
  s.Bind(1, report_id).Bind(2, outcome).Bind(3, now_unix);
  if (s.Step() != SQLITE_DONE) return SqliteError(db_, "log retraction");
  return absl::OkStatus();
}

absl::StatusOr<std::set<std::string>> StateStore::RetractedReportIds() {
  Stmt s(db_, "SELECT report_id FROM retractions WHERE outcome = 'retracted'");
  if (!s.ok()) return SqliteError(db_, "prepare");
  std::set<std::string> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.insert(s.Text(0));
  if (rc != SQLITE_DONE) return SqliteError(db_, "list retractions");
  return out;
}

absl::StatusOr<std::vector<SentBatch>> StateStore::ListSent() {
  Stmt s(db_,
         "SELECT batch_id, digest_hex, report_count, created_unix, sent_unix, ack_code, "
         "ack_message, accepted, duplicates, refused_reports, ack_unix FROM sent_batches "
         "ORDER BY sent_unix, rowid");
  if (!s.ok()) return SqliteError(db_, "prepare");
  std::vector<SentBatch> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    SentBatch b;
    b.batch_id = s.Text(0);
    b.digest_hex = s.Text(1);
    b.report_count = static_cast<int>(s.Int(2));
    b.created_unix = s.Int(3);
    b.sent_unix = s.Int(4);
    if (!s.IsNull(5)) b.ack_code = static_cast<int>(s.Int(5));
    b.ack_message = s.Text(6);
    b.accepted = static_cast<int>(s.Int(7));
    b.duplicates = static_cast<int>(s.Int(8));
    b.refused_reports = static_cast<int>(s.Int(9));
    b.ack_unix = s.Int(10);
    out.push_back(std::move(b));
  }
  if (rc != SQLITE_DONE) return SqliteError(db_, "list batches");
  return out;
}

absl::StatusOr<std::vector<SentReport>> StateStore::ListReports(const std::string& batch_id) {
  Stmt s(db_,
         "SELECT report_id, categories, token_count FROM sent_reports WHERE batch_id = ? "
         "ORDER BY position");
  if (!s.ok()) return SqliteError(db_, "prepare");
  s.Bind(1, batch_id);
  std::vector<SentReport> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    out.push_back({s.Text(0), s.Text(1), static_cast<int>(s.Int(2))});
  }
  if (rc != SQLITE_DONE) return SqliteError(db_, "list reports");
  return out;
}

}  // namespace samenzicht::agency_node
