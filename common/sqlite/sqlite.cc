#include "common/sqlite/sqlite.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/disk_full.h"
#include "common/status_macros.h"

namespace samenzicht::sqlite {

absl::StatusCode CodeFromSqlite(int rc) {
  switch (rc) {  // extended codes that differ from their primary code's mapping
    case SQLITE_IOERR_CORRUPTFS:
      return absl::StatusCode::kDataLoss;
    case SQLITE_IOERR_NOMEM:
      return absl::StatusCode::kResourceExhausted;
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_ROWID:
      return absl::StatusCode::kAlreadyExists;
    default:
      break;
  }
  switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
      return absl::StatusCode::kOk;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_PROTOCOL:
    case SQLITE_IOERR:
      return absl::StatusCode::kUnavailable;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::StatusCode::kDataLoss;
    case SQLITE_FULL:
    case SQLITE_NOMEM:
    case SQLITE_TOOBIG:
      return absl::StatusCode::kResourceExhausted;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
    case SQLITE_CANTOPEN:
      return absl::StatusCode::kPermissionDenied;
    case SQLITE_CONSTRAINT:
      return absl::StatusCode::kFailedPrecondition;
    case SQLITE_INTERRUPT:
      return absl::StatusCode::kCancelled;
    case SQLITE_ABORT:
    case SQLITE_SCHEMA:
      return absl::StatusCode::kAborted;
    default:
      return absl::StatusCode::kInternal;
  }
}

absl::Status StatusFromSqlite(int rc, absl::string_view message) {
  absl::StatusCode code = CodeFromSqlite(rc);
  if (code == absl::StatusCode::kOk) return absl::OkStatus();
  return absl::Status(code, message);
}

// ---- Database ----------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<Database>> Database::Open(const std::string& path,
                                                         const OpenOptions& options) {
  int flags = options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  if (!options.read_only && options.create) flags |= SQLITE_OPEN_CREATE;
  if (options.no_mutex) flags |= SQLITE_OPEN_NOMUTEX;
  if (options.uri) flags |= SQLITE_OPEN_URI;
  sqlite3* handle = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &handle, flags, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status s = StatusFromSqlite(
        rc, absl::StrCat(options.label, ": cannot open ", path, ": ",
                         handle ? sqlite3_errmsg(handle) : "out of memory"));
    sqlite3_close_v2(handle);
    return s;
  }
  std::unique_ptr<Database> db(new Database(handle, path, options));
  if (options.file_mode != 0 && !options.read_only && !options.uri &&
      ::chmod(path.c_str(), static_cast<mode_t>(options.file_mode)) != 0) {
    return absl::PermissionDeniedError(absl::StrCat(options.label, ": ", path,
                                                    ": cannot set the file's mode: ",
                                                    std::strerror(errno)));
  }
  sqlite3_busy_timeout(handle, options.busy_timeout_ms);
  for (const std::string& p : options.pragmas) {
    RETURN_IF_ERROR(db->Exec(absl::StrCat("PRAGMA ", p)));
  }
  return db;
}

Database::~Database() { sqlite3_close_v2(db_); }

absl::Status Database::Error(int rc, absl::string_view what) const {
  std::string message = absl::StrCat(options_.label, ": ", what, ": ", sqlite3_errmsg(db_));
  absl::Status s = StatusFromSqlite(rc, message);
  if (s.ok() || (options_.constraint_failure_is_internal && (rc & 0xff) == SQLITE_CONSTRAINT)) {
    return absl::InternalError(message);
  }
  if (absl::IsDataLoss(s) && !options_.corruption_hint.empty()) {
    return absl::DataLossError(absl::StrCat(message, options_.corruption_hint));
  }
  // A full disk: SQLITE_FULL, or an I/O error caused by ENOSPC or EDQUOT (an fsync).
  if ((rc & 0xff) == SQLITE_FULL ||
      ((rc & 0xff) == SQLITE_IOERR && disk_full::IsErrno(sqlite3_system_errno(db_)))) {
    return disk_full::Mark(s);  // common/disk_full.h
  }
  return s;
}

absl::Status Database::LastError(absl::string_view what) const {
  return Error(sqlite3_extended_errcode(db_), what);
}

absl::Status Database::Exec(absl::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  std::string what = err ? err : "statement failed";
  sqlite3_free(err);
  if (rc != SQLITE_OK) return Error(sqlite3_extended_errcode(db_), what);
  return absl::OkStatus();
}

absl::StatusOr<Statement> Database::Prepare(absl::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
      SQLITE_OK) {
    sqlite3_finalize(stmt);
    return LastError("prepare");
  }
  return Statement(this, stmt);
}

int64_t Database::Changes() const { return sqlite3_changes(db_); }

int64_t Database::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }

absl::StatusOr<int64_t> Database::UserVersion() {
  ASSIGN_OR_RETURN(Statement s, Prepare("PRAGMA user_version"));
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return absl::InternalError(absl::StrCat(options_.label, ": no user_version"));
  return s.Int(0);
}

// ---- Statement ---------------------------------------------------------------------------

Statement::Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }

Statement& Statement::operator=(Statement&& o) noexcept {
  std::swap(db_, o.db_);
  std::swap(stmt_, o.stmt_);
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::Bind(int i, absl::string_view text) {
  sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::Bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}

Statement& Statement::BindBlob(int i, absl::string_view bytes) {
  if (bytes.empty()) {
    sqlite3_bind_zeroblob(stmt_, i, 0);  // an empty blob stays a blob, not NULL
  } else {
    sqlite3_bind_blob(stmt_, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  }
  return *this;
}

Statement& Statement::BindBlobStatic(int i, absl::string_view bytes) {
  if (bytes.empty()) {
    sqlite3_bind_zeroblob(stmt_, i, 0);
  } else {
    sqlite3_bind_blob(stmt_, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_STATIC);
  }
  return *this;
}

Statement& Statement::BindStatic(int i, absl::string_view text) {
  sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
  return *this;
}

Statement& Statement::BindNull(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}

absl::StatusOr<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  // The statement's text names what failed; it holds `?` for every value, never a value.
  absl::string_view sql = sqlite3_sql(stmt_);
  return db_->Error(sqlite3_extended_errcode(sqlite3_db_handle(stmt_)), sql.substr(0, 80));
}

absl::Status Statement::Run() {
  absl::StatusOr<bool> row;
  do {
    row = Step();
  } while (row.ok() && *row);
  Reset();
  return row.status();
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t Statement::Int(int c) const { return sqlite3_column_int64(stmt_, c); }

std::string Statement::Text(int c) const {
  const unsigned char* t = sqlite3_column_text(stmt_, c);
  return t ? std::string(reinterpret_cast<const char*>(t), sqlite3_column_bytes(stmt_, c)) : "";
}

std::string Statement::Blob(int c) const {
  const void* b = sqlite3_column_blob(stmt_, c);
  return b ? std::string(static_cast<const char*>(b), sqlite3_column_bytes(stmt_, c)) : "";
}

bool Statement::IsNull(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }

absl::string_view Statement::TextView(int c) const {
  const unsigned char* t = sqlite3_column_text(stmt_, c);
  if (t == nullptr) return {};
  return absl::string_view(reinterpret_cast<const char*>(t),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_, c)));
}

absl::string_view Statement::BlobView(int c) const {
  const void* b = sqlite3_column_blob(stmt_, c);
  if (b == nullptr) return {};
  return absl::string_view(static_cast<const char*>(b),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_, c)));
}

// ---- Transaction -------------------------------------------------------------------------

absl::StatusOr<Transaction> Transaction::Begin(Database& db, Mode mode) {
  RETURN_IF_ERROR(db.Exec(mode == Mode::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN"));
  return Transaction(&db);
}

Transaction::~Transaction() {
  if (db_ != nullptr) sqlite3_exec(db_->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

absl::Status Transaction::Commit() {
  Database* db = db_;
  absl::Status s = db->Exec("COMMIT");
  if (s.ok()) {
    db_ = nullptr;
  }  // else the destructor rolls back (a failed COMMIT may leave the transaction open)
  return s;
}

// ---- Migrations --------------------------------------------------------------------------

absl::Status Migrate(Database& db, const std::vector<Migration>& migrations) {
  const int target = migrations.empty() ? 0 : migrations.back().version;
  // A read first: most opens find the schema current and need no write lock.
  ASSIGN_OR_RETURN(int64_t version, db.UserVersion());
  if (version == target) return absl::OkStatus();
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db));
  ASSIGN_OR_RETURN(version, db.UserVersion());  // another connection may have upgraded it
  if (version > target) {
    return absl::FailedPreconditionError(absl::StrCat(
        db.label(), ": the database has schema version ", version, "; this build knows up to ",
        target, ": it was written by a newer version of the program"));
  }
  if (version == target) return absl::OkStatus();
  for (size_t i = 0; i < migrations.size(); ++i) {
    const Migration& m = migrations[i];
    if (m.version != static_cast<int>(i) + 1) {
      return absl::InternalError(absl::StrCat(db.label(), ": migration ", i + 1, " is numbered ",
                                              m.version));
    }
    if (m.version <= version) continue;
    absl::Status s = m.sql != nullptr ? db.Exec(m.sql) : m.apply(db);
    if (!s.ok()) {
      return absl::Status(s.code(), absl::StrCat("upgrading the database from schema version ",
                                                 m.version - 1, ": ", s.message()));
    }
  }
  RETURN_IF_ERROR(db.Exec(absl::StrCat("PRAGMA user_version = ", target)));
  return tx.Commit();
}

}  // namespace samenzicht::sqlite
