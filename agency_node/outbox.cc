#include "agency_node/outbox.h"

#include <sqlite3.h>

#include <ctime>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "crypto/encoding.h"
#include "model/tokens.h"

namespace samenzicht::agency_node {
namespace {

absl::Status SqliteError(sqlite3* db, const std::string& what) {
  int code = db ? sqlite3_errcode(db) : SQLITE_ERROR;
  std::string msg = absl::StrCat("node outbox: ", what, ": ", db ? sqlite3_errmsg(db) : "no db");
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED) return absl::UnavailableError(msg);
  if (code == SQLITE_READONLY || code == SQLITE_PERM || code == SQLITE_CANTOPEN) {
    return absl::PermissionDeniedError(msg);
  }
  if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) return absl::DataLossError(msg);
  return absl::InternalError(msg);
}

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Stmt() { sqlite3_finalize(stmt_); }
  bool ok() const { return rc_ == SQLITE_OK; }
  Stmt& Text(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Blob(int i, const std::string& s) {
    sqlite3_bind_blob(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Int(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  int Step() { return sqlite3_step(stmt_); }
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::string Col(int c) {
    const void* p = sqlite3_column_blob(stmt_, c);
    return p ? std::string(static_cast<const char*>(p), sqlite3_column_bytes(stmt_, c)) : "";
  }
  int64_t ColInt(int c) { return sqlite3_column_int64(stmt_, c); }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

constexpr char kSchema[] = R"sql(
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

}  // namespace

absl::StatusOr<std::unique_ptr<Outbox>> Outbox::Open(const std::string& state_dir) {
  if (state_dir.empty()) return absl::InvalidArgumentError("state_dir is not set");
  std::string path = state_dir + "/node.db";
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    absl::Status s = SqliteError(db, absl::StrCat("open ", path));
    sqlite3_close_v2(db);
    return s;
  }
  std::unique_ptr<Outbox> o(new Outbox(db));
  sqlite3_busy_timeout(db, 5000);
  RETURN_IF_ERROR(o->Exec("PRAGMA journal_mode=WAL"));
  RETURN_IF_ERROR(o->Exec("PRAGMA synchronous=FULL"));
  RETURN_IF_ERROR(o->Exec(kSchema));
  return o;
}

Outbox::~Outbox() { sqlite3_close_v2(db_); }

absl::Status Outbox::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string what = err ? err : "exec";
    sqlite3_free(err);
    return SqliteError(db_, what);
  }
  return absl::OkStatus();
}

absl::Status Outbox::Enqueue(const std::vector<BuiltBatch>& batches,
                             const std::string& source_digest) {
  RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  auto fail = [&](absl::Status s) {
    (void)Exec("ROLLBACK");
    return s;
  };
  {
    int64_t reports = 0;
    for (const auto& b : batches) reports += static_cast<int64_t>(b.log.size());
    if (!source_digest.empty()) {
      Stmt ins(db_,
               "INSERT OR IGNORE INTO imported_files(digest_hex, batches, reports, at_unix) "
               "VALUES (?, ?, ?, ?)");
      if (!ins.ok()) return fail(SqliteError(db_, "prepare"));
      ins.Text(1, source_digest).Int(2, static_cast<int64_t>(batches.size())).Int(3, reports);
      ins.Int(4, time(nullptr));
      if (ins.Step() != SQLITE_DONE) return fail(SqliteError(db_, "record imported file"));
      if (sqlite3_changes(db_) == 0) {
        return fail(absl::AlreadyExistsError("this file was imported before"));
      }
    }
    Stmt ins(db_,
             "INSERT INTO outbox(batch_id, signed_batch, report_count, created_unix) "
             "VALUES (?, ?, ?, ?)");
    if (!ins.ok()) return fail(SqliteError(db_, "prepare"));
    for (const BuiltBatch& b : batches) {
      std::string bytes;
      if (!b.signed_batch.SerializeToString(&bytes)) {
        return fail(absl::InternalError("cannot serialise a signed batch"));
      }
      ins.Text(1, b.batch_id).Blob(2, bytes).Int(3, static_cast<int64_t>(b.log.size()));
      ins.Int(4, b.created_unix);
      if (ins.Step() != SQLITE_DONE) return fail(SqliteError(db_, "enqueue batch"));
      ins.Reset();
    }
  }
  return Exec("COMMIT");
}

absl::StatusOr<bool> Outbox::WasImported(const std::string& source_digest) {
  Stmt s(db_, "SELECT 1 FROM imported_files WHERE digest_hex = ?");
  if (!s.ok()) return SqliteError(db_, "prepare");
  s.Text(1, source_digest);
  int rc = s.Step();
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(db_, "look up imported file");
}

absl::StatusOr<std::vector<BuiltBatch>> Outbox::Pending(int limit) {
  Stmt s(db_,
         "SELECT batch_id, signed_batch, created_unix FROM outbox ORDER BY seq LIMIT ?");
  if (!s.ok()) return SqliteError(db_, "prepare");
  s.Int(1, limit);
  std::vector<BuiltBatch> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    BuiltBatch b;
    b.batch_id = s.Col(0);
    b.created_unix = s.ColInt(2);
    v1::BatchPayload payload;
    if (!b.signed_batch.ParseFromString(s.Col(1)) ||
        !payload.ParseFromString(b.signed_batch.payload())) {
      return absl::DataLossError(
          absl::StrCat("node outbox: batch ", b.batch_id, " does not parse; the database is damaged"));
    }
    b.digest = BatchDigest(b.signed_batch.payload());
    for (const v1::Report& r : payload.reports()) {
      b.log.push_back({r.report_id(), CategoriesSummary(r), model::TokenCount(r)});
    }
    out.push_back(std::move(b));
  }
  if (rc != SQLITE_DONE) return SqliteError(db_, "list pending batches");
  return out;
}

absl::StatusOr<std::pair<int64_t, int64_t>> Outbox::Size() {
  Stmt s(db_, "SELECT COUNT(*), COALESCE(SUM(report_count), 0) FROM outbox");
  if (!s.ok()) return SqliteError(db_, "prepare");
  if (s.Step() != SQLITE_ROW) return SqliteError(db_, "count pending batches");
  return std::make_pair(s.ColInt(0), s.ColInt(1));
}

absl::Status Outbox::Remove(const std::string& batch_id) {
  Stmt s(db_, "DELETE FROM outbox WHERE batch_id = ?");
  if (!s.ok()) return SqliteError(db_, "prepare");
  s.Text(1, batch_id);
  if (s.Step() != SQLITE_DONE) return SqliteError(db_, "remove delivered batch");
  return absl::OkStatus();
}

absl::Status Outbox::RecordFailedAttempt(const std::string& reason) {
  Stmt s(db_, "UPDATE outbox SET attempts = attempts + 1, last_error = ?");
  if (!s.ok()) return SqliteError(db_, "prepare");
  s.Text(1, reason.substr(0, 500));
  if (s.Step() != SQLITE_DONE) return SqliteError(db_, "record attempt");
  return absl::OkStatus();
}

}  // namespace samenzicht::agency_node
