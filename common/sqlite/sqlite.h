// The one way this project reaches SQLite: opening a database file (pragmas, file mode,
// busy timeout), prepared statements, RAII transactions, schema migrations on
// `PRAGMA user_version`, and ONE mapping of SQLite result codes to absl::Status.
//
//   sqlite::OpenOptions options;
//   options.label = "node state";
//   options.pragmas = {"journal_mode=WAL", "synchronous=FULL"};
//   ASSIGN_OR_RETURN(auto db, sqlite::Database::Open(dir + "/node.db", options));
//   RETURN_IF_ERROR(sqlite::Migrate(*db, kMigrations));          // brings user_version to N
//   ASSIGN_OR_RETURN(sqlite::Transaction tx, sqlite::Transaction::Begin(*db));
//   ASSIGN_OR_RETURN(sqlite::Statement ins, db->Prepare("INSERT INTO t(a, b) VALUES (?, ?)"));
//   RETURN_IF_ERROR(ins.Bind(1, "x").Bind(2, int64_t{7}).Run());
//   RETURN_IF_ERROR(tx.Commit());                                 // else rolled back
//
// The status mapping (`StatusFromSqlite`; messages are "<label>: <what>: <sqlite message>"):
//   SQLITE_BUSY, SQLITE_LOCKED                 Unavailable       another connection holds
//                                                                the lock past the busy
//                                                                timeout: try again later;
//   SQLITE_PROTOCOL                            Unavailable       (a WAL lock race);
//   SQLITE_CORRUPT, SQLITE_NOTADB,
//   SQLITE_IOERR_CORRUPTFS                     DataLoss          the file is damaged or is
//                                                                not a database;
//   SQLITE_FULL, SQLITE_NOMEM, SQLITE_TOOBIG,
//   SQLITE_IOERR_NOMEM                         ResourceExhausted disk or memory is full, or
//                                                                a value is too large;
//   SQLITE_IOERR (any other)                   Unavailable       the disk failed to read or
//                                                                write: nothing of the
//                                                                statement is stored;
//   SQLITE_READONLY, SQLITE_PERM, SQLITE_AUTH,
//   SQLITE_CANTOPEN                            PermissionDenied  the file or its folder
//                                                                cannot be opened/written;
//   SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY,
//   _ROWID                                     AlreadyExists
//   SQLITE_CONSTRAINT (any other: foreign key,
//   check, not null, trigger)                  FailedPrecondition
//     (every constraint is Internal on a connection opened with
//      OpenOptions::constraint_failure_is_internal)
//   SQLITE_INTERRUPT                           Cancelled
//   SQLITE_ABORT, SQLITE_SCHEMA                Aborted           retry the transaction;
//   anything else (SQLITE_ERROR, MISUSE, RANGE,
//   MISMATCH, INTERNAL, ...)                   Internal          a bug in the SQL or its use.
// Extended result codes are read with sqlite3_extended_errcode; a connection's primary
// result codes are not changed, so code that still calls sqlite3 directly sees what it did.
//
// Migrations: `user_version` 0 is a database without a schema (new, or made before it had
// a version); migration k brings version k-1 to k. `Migrate` runs every migration above the
// stored version in ONE write transaction and stamps the version in it, so a failed upgrade
// leaves nothing and two processes upgrading at once do it once. A database with a version
// above the last migration is refused (FailedPrecondition): it was made by a newer build.
//
// Thread-safety: a Database and its statements are for one thread at a time (the project
// opens one connection per thread); several connections, in this or other processes, may
// share a file (SQLite serialises writers, the busy timeout waits for them).
#ifndef SAMENZICHT_COMMON_SQLITE_SQLITE_H_
#define SAMENZICHT_COMMON_SQLITE_SQLITE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct sqlite3;
struct sqlite3_stmt;

namespace samenzicht::sqlite {

// The status for SQLite result code `rc` (primary or extended; see the table above), with
// `message`. OK for SQLITE_OK, SQLITE_ROW and SQLITE_DONE.
absl::Status StatusFromSqlite(int rc, absl::string_view message);
// Just the code of that status.
absl::StatusCode CodeFromSqlite(int rc);

struct OpenOptions {
  // Prefix of every message ("node outbox", a file path, ...).
  std::string label;
  bool read_only = false;
  bool create = true;              // with !read_only: make the file when it is missing
  bool no_mutex = false;           // SQLITE_OPEN_NOMUTEX: the caller serialises use
  bool uri = false;                // SQLITE_OPEN_URI: `path` is a "file:" URI
  int busy_timeout_ms = 5000;
  // Mode the database file gets after it is opened (e.g. 0600); 0 leaves it. A file that
  // cannot be given its mode is PermissionDenied.
  unsigned file_mode = 0;
  // Run in order after opening, as "PRAGMA <p>" ("journal_mode=WAL", "foreign_keys=ON").
  std::vector<std::string> pragmas;
  // Appended to the message of a DataLoss status, e.g. how to restore from a backup.
  std::string corruption_hint;
  // Every failed constraint (any SQLITE_CONSTRAINT code, a trigger's RAISE included) is
  // Internal instead of AlreadyExists or FailedPrecondition: for a caller that decides
  // "already stored" itself before it writes, so that a constraint that still fails is a
  // fault of the program or of a hand-edited database, not an answer to pass on.
  bool constraint_failure_is_internal = false;
};

class Statement;

// One connection. Move-free; owned through unique_ptr; closed on destruction (statements
// must be destroyed first).
class Database {
 public:
  // Opens `path` with `options`. PermissionDenied when it cannot be opened or made,
  // DataLoss when it is not a database (noticed by the first pragma or read), and the
  // mapping above for the pragmas.
  static absl::StatusOr<std::unique_ptr<Database>> Open(const std::string& path,
                                                        const OpenOptions& options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs `sql` (one or more statements, no results).
  absl::Status Exec(absl::string_view sql);
  absl::StatusOr<Statement> Prepare(absl::string_view sql);

  // The status for the connection's last error (its extended code and message) about
  // `what`; Internal when the last call did not fail.
  absl::Status LastError(absl::string_view what) const;
  // The status for result code `rc` about `what`, with the connection's message.
  absl::Status Error(int rc, absl::string_view what) const;

  // Rows changed by the last INSERT, UPDATE or DELETE.
  int64_t Changes() const;
  int64_t LastInsertRowId() const;
  absl::StatusOr<int64_t> UserVersion();

  const std::string& path() const { return path_; }
  const std::string& label() const { return options_.label; }
  // For what the wrapper does not cover (user functions, WAL hooks, checkpoints, backup).
  sqlite3* handle() const { return db_; }

 private:
  Database(sqlite3* db, std::string path, OpenOptions options)
      : db_(db), path_(std::move(path)), options_(std::move(options)) {}
  sqlite3* const db_;
  const std::string path_;
  const OpenOptions options_;
};

// A prepared statement, finalised on destruction. Move-only. Binds copy their values
// (SQLITE_TRANSIENT) unless the name says Static.
class Statement {
 public:
  Statement() = default;
  Statement(Statement&& o) noexcept;
  Statement& operator=(Statement&& o) noexcept;
  ~Statement();

  Statement& Bind(int i, absl::string_view text);
  Statement& Bind(int i, const char* text) { return Bind(i, absl::string_view(text)); }
  Statement& Bind(int i, int64_t v);
  Statement& Bind(int i, int v) { return Bind(i, int64_t{v}); }
  Statement& Bind(int i, uint32_t v) { return Bind(i, int64_t{v}); }
  Statement& BindBlob(int i, absl::string_view bytes);
  // Without a copy: the bytes must stay valid until the statement is reset.
  Statement& BindBlobStatic(int i, absl::string_view bytes);
  // Text without a copy, on the same terms.
  Statement& BindStatic(int i, absl::string_view text);
  Statement& BindNull(int i);

  // True with a row to read, false when the statement is done.
  absl::StatusOr<bool> Step();
  // Steps to the end (a statement that returns no rows); then resets it for the next use.
  absl::Status Run();
  // Ready to run again, with no bindings.
  void Reset();

  int64_t Int(int c) const;
  std::string Text(int c) const;
  std::string Blob(int c) const;
  bool IsNull(int c) const;
  // The column's bytes without a copy, valid until the next Step or Reset ("" for NULL).
  absl::string_view TextView(int c) const;
  absl::string_view BlobView(int c) const;

  sqlite3_stmt* handle() const { return stmt_; }

 private:
  friend class Database;
  Statement(const Database* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  const Database* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// A transaction that rolls back on destruction unless committed. Move-only.
class Transaction {
 public:
  enum class Mode { kDeferred, kImmediate };
  // BEGIN IMMEDIATE (kImmediate, for writes: takes the write lock now, or Unavailable
  // after the busy timeout) or BEGIN.
  static absl::StatusOr<Transaction> Begin(Database& db, Mode mode = Mode::kImmediate);
  Transaction(Transaction&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  // On failure the transaction is rolled back.
  absl::Status Commit();

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_;  // null once committed or rolled back
};

// One step of a schema: brings `user_version` from `version - 1` to `version`.
struct Migration {
  int version;
  // SQL to run, or (when null) `apply`.
  const char* sql = nullptr;
  std::function<absl::Status(Database&)> apply{};
};

// Brings `db` to the last version of `migrations` (which must be numbered 1, 2, ... in
// order) in one write transaction. FailedPrecondition when the stored version is above it;
// a failing migration's status, prefixed with "upgrading the database from schema version
// <k-1>", and nothing changed.
absl::Status Migrate(Database& db, const std::vector<Migration>& migrations);

}  // namespace samenzicht::sqlite

#endif  // SAMENZICHT_COMMON_SQLITE_SQLITE_H_
