#include "common/sqlite/sqlite.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "tests/testing/status_matchers.h"

namespace samenzicht::sqlite {
namespace {

using ::samenzicht::testing::StatusIs;
using ::testing::HasSubstr;

std::string FreshPath(const std::string& tag) {
  std::string d = ::testing::TempDir() + "/sqlite_test/" + tag;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d + "/test.db";
}

OpenOptions Options() {
  OpenOptions o;
  o.label = "test db";
  o.busy_timeout_ms = 0;
  o.pragmas = {"journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"};
  return o;
}

// The documented table, code by code.
TEST(SqliteStatusTest, EveryResultCodeMapsAsDocumented) {
  using C = absl::StatusCode;
  const std::vector<std::pair<int, C>> table = {
      {SQLITE_OK, C::kOk},
      {SQLITE_ROW, C::kOk},
      {SQLITE_DONE, C::kOk},
      {SQLITE_BUSY, C::kUnavailable},
      {SQLITE_BUSY_SNAPSHOT, C::kUnavailable},
      {SQLITE_LOCKED, C::kUnavailable},
      {SQLITE_PROTOCOL, C::kUnavailable},
      {SQLITE_CORRUPT, C::kDataLoss},
      {SQLITE_NOTADB, C::kDataLoss},
      {SQLITE_IOERR_CORRUPTFS, C::kDataLoss},
      {SQLITE_FULL, C::kResourceExhausted},
      {SQLITE_NOMEM, C::kResourceExhausted},
      {SQLITE_TOOBIG, C::kResourceExhausted},
      {SQLITE_IOERR_NOMEM, C::kResourceExhausted},
      {SQLITE_IOERR, C::kUnavailable},
      {SQLITE_IOERR_FSYNC, C::kUnavailable},
      {SQLITE_IOERR_WRITE, C::kUnavailable},
      {SQLITE_READONLY, C::kPermissionDenied},
      {SQLITE_PERM, C::kPermissionDenied},
      {SQLITE_AUTH, C::kPermissionDenied},
      {SQLITE_CANTOPEN, C::kPermissionDenied},
      {SQLITE_CONSTRAINT_UNIQUE, C::kAlreadyExists},
      {SQLITE_CONSTRAINT_PRIMARYKEY, C::kAlreadyExists},
      {SQLITE_CONSTRAINT_ROWID, C::kAlreadyExists},
      {SQLITE_CONSTRAINT, C::kFailedPrecondition},
      {SQLITE_CONSTRAINT_FOREIGNKEY, C::kFailedPrecondition},
      {SQLITE_CONSTRAINT_NOTNULL, C::kFailedPrecondition},
      {SQLITE_CONSTRAINT_CHECK, C::kFailedPrecondition},
      {SQLITE_CONSTRAINT_TRIGGER, C::kFailedPrecondition},
      {SQLITE_INTERRUPT, C::kCancelled},
      {SQLITE_ABORT, C::kAborted},
      {SQLITE_SCHEMA, C::kAborted},
      {SQLITE_ERROR, C::kInternal},
      {SQLITE_MISUSE, C::kInternal},
      {SQLITE_RANGE, C::kInternal},
      {SQLITE_MISMATCH, C::kInternal},
      {SQLITE_INTERNAL, C::kInternal},
  };
  for (const auto& [rc, code] : table) {
    SCOPED_TRACE(sqlite3_errstr(rc));
    EXPECT_EQ(CodeFromSqlite(rc), code) << rc;
    absl::Status s = StatusFromSqlite(rc, "what");
    EXPECT_EQ(s.code(), code);
    if (!s.ok()) {
      EXPECT_EQ(s.message(), "what");
    }
  }
}

TEST(SqliteTest, AFileThatIsNotADatabaseIsDataLoss) {
  std::string path = FreshPath("notadb");
  std::ofstream(path) << std::string(4096, 'x');
  OpenOptions o = Options();
  o.corruption_hint = "; restore it from a backup";
  EXPECT_THAT(Database::Open(path, o),
              StatusIs(absl::StatusCode::kDataLoss, "restore it from a backup"));
}

TEST(SqliteTest, AWriteLockHeldByAnotherConnectionIsUnavailable) {
  std::string path = FreshPath("locked");
  ASSERT_OK_AND_ASSIGN(auto holder, Database::Open(path, Options()));
  ASSERT_OK(holder->Exec("CREATE TABLE t(a)"));
  ASSERT_OK_AND_ASSIGN(auto other, Database::Open(path, Options()));
  ASSERT_OK_AND_ASSIGN(Transaction held, Transaction::Begin(*holder));
  EXPECT_THAT(Transaction::Begin(*other), StatusIs(absl::StatusCode::kUnavailable, "test db"));
  EXPECT_THAT(other->Exec("INSERT INTO t VALUES (1)"), StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_OK(held.Commit());
  EXPECT_OK(other->Exec("INSERT INTO t VALUES (1)"));
}

TEST(SqliteTest, ConstraintsMapToAlreadyExistsAndFailedPrecondition) {
  std::string path = FreshPath("constraints");
  ASSERT_OK_AND_ASSIGN(auto db, Database::Open(path, Options()));
  ASSERT_OK(db->Exec("CREATE TABLE p(id TEXT PRIMARY KEY);"
                     "CREATE TABLE c(p TEXT NOT NULL REFERENCES p(id), n INTEGER CHECK (n > 0));"
                     "INSERT INTO p VALUES ('a');"));
  ASSERT_OK_AND_ASSIGN(Statement ins, db->Prepare("INSERT INTO p VALUES (?)"));
  EXPECT_THAT(ins.Bind(1, "a").Run(), StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_OK(ins.Bind(1, "b").Run());  // Run resets: usable again
  EXPECT_THAT(db->Exec("INSERT INTO c VALUES ('zz', 1)"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(db->Exec("INSERT INTO c VALUES ('a', 0)"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(db->Prepare("SELECT nope FROM p"), StatusIs(absl::StatusCode::kInternal, "nope"));
}

// A connection whose owner decides "already stored" itself: every failed constraint,
// a trigger's RAISE and a deferred foreign key at COMMIT included, is Internal.
TEST(SqliteTest, ConstraintsAreInternalWhenTheOptionSaysSo) {
  std::string path = FreshPath("constraints_internal");
  OpenOptions o = Options();
  o.constraint_failure_is_internal = true;
  ASSERT_OK_AND_ASSIGN(auto db, Database::Open(path, o));
  ASSERT_OK(db->Exec(
      "CREATE TABLE p(id TEXT PRIMARY KEY);"
      "CREATE TABLE c(p TEXT REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED, n INTEGER);"
      "CREATE TRIGGER no_seven BEFORE INSERT ON c WHEN NEW.n = 7 "
      "BEGIN SELECT RAISE(ABORT, 'seven refused'); END;"
      "INSERT INTO p VALUES ('a');"));
  ASSERT_OK_AND_ASSIGN(Statement ins, db->Prepare("INSERT INTO p VALUES (?)"));
  EXPECT_THAT(ins.Bind(1, "a").Run(), StatusIs(absl::StatusCode::kInternal, "UNIQUE"));
  EXPECT_THAT(db->Exec("INSERT INTO c VALUES ('a', 7)"),
              StatusIs(absl::StatusCode::kInternal, "seven refused"));
  {
    ASSERT_OK_AND_ASSIGN(Transaction tx, Transaction::Begin(*db));
    ASSERT_OK(db->Exec("INSERT INTO c VALUES ('zz', 1)"));
    EXPECT_THAT(tx.Commit(), StatusIs(absl::StatusCode::kInternal, "FOREIGN KEY"));
  }
  // Other codes keep their mapping on such a connection.
  EXPECT_THAT(db->Prepare("SELECT nope FROM p"), StatusIs(absl::StatusCode::kInternal, "nope"));
  ASSERT_OK_AND_ASSIGN(auto other, Database::Open(path, Options()));
  ASSERT_OK_AND_ASSIGN(Transaction held, Transaction::Begin(*other));
  EXPECT_THAT(db->Exec("INSERT INTO p VALUES ('b')"), StatusIs(absl::StatusCode::kUnavailable));
}

// Views of a row's columns without a copy, and text bound without a copy.
TEST(SqliteTest, ColumnViewsAndStaticText) {
  std::string path = FreshPath("views");
  ASSERT_OK_AND_ASSIGN(auto db, Database::Open(path, Options()));
  ASSERT_OK(db->Exec("CREATE TABLE t(a TEXT, b BLOB)"));
  const std::string text = "agency-7";
  ASSERT_OK_AND_ASSIGN(Statement ins, db->Prepare("INSERT INTO t VALUES (?, ?)"));
  ASSERT_OK(ins.BindStatic(1, text).BindBlob(2, std::string("\0\1\2", 3)).Run());
  ASSERT_OK(ins.BindNull(1).BindNull(2).Run());
  ASSERT_OK_AND_ASSIGN(Statement q, db->Prepare("SELECT a, b FROM t ORDER BY rowid"));
  ASSERT_OK_AND_ASSIGN(bool row, q.Step());
  ASSERT_TRUE(row);
  EXPECT_EQ(q.TextView(0), "agency-7");
  EXPECT_EQ(q.BlobView(1), absl::string_view("\0\1\2", 3));
  ASSERT_OK_AND_ASSIGN(row, q.Step());
  ASSERT_TRUE(row);
  EXPECT_EQ(q.TextView(0), "");
  EXPECT_EQ(q.BlobView(1).size(), 0u);
  // A uint32_t binds as its value.
  ASSERT_OK_AND_ASSIGN(Statement v, db->Prepare("SELECT ?"));
  ASSERT_OK_AND_ASSIGN(row, v.Bind(1, uint32_t{4000000000u}).Step());
  ASSERT_TRUE(row);
  EXPECT_EQ(v.Int(0), 4000000000);
}

TEST(SqliteTest, AReadOnlyConnectionCannotWrite) {
  std::string path = FreshPath("readonly");
  {
    ASSERT_OK_AND_ASSIGN(auto db, Database::Open(path, Options()));
    ASSERT_OK(db->Exec("CREATE TABLE t(a)"));
  }
  OpenOptions o = Options();
  o.read_only = true;
  o.pragmas.clear();
  ASSERT_OK_AND_ASSIGN(auto db, Database::Open(path, o));
  EXPECT_THAT(db->Exec("INSERT INTO t VALUES (1)"), StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST(SqliteTest, AMissingFolderIsPermissionDeniedAndFileModeIsSet) {
  OpenOptions o = Options();
  EXPECT_THAT(Database::Open(::testing::TempDir() + "/sqlite_test/no/such/dir/x.db", o),
              StatusIs(absl::StatusCode::kPermissionDenied, "cannot open"));
  std::string path = FreshPath("mode");
  o.file_mode = 0600;
  ASSERT_OK_AND_ASSIGN(auto db, Database::Open(path, o));
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(SqliteTest, ATransactionRollsBackUnlessCommitted) {
  std::string path = FreshPath("tx");
  ASSERT_OK_AND_ASSIGN(auto db, Database::Open(path, Options()));
  ASSERT_OK(db->Exec("CREATE TABLE t(a INTEGER, b TEXT, c BLOB)"));
  {
    ASSERT_OK_AND_ASSIGN(Transaction tx, Transaction::Begin(*db));
    ASSERT_OK(db->Exec("INSERT INTO t VALUES (1, 'x', x'00')"));
  }
  {
    ASSERT_OK_AND_ASSIGN(Transaction tx, Transaction::Begin(*db));
    ASSERT_OK_AND_ASSIGN(Statement ins, db->Prepare("INSERT INTO t VALUES (?, ?, ?)"));
    ASSERT_OK(ins.Bind(1, int64_t{2}).Bind(2, "two").BindBlob(3, std::string("\0\1", 2)).Run());
    ASSERT_OK(ins.Bind(1, 3).BindNull(2).BindBlob(3, "").Run());
    EXPECT_EQ(db->Changes(), 1);
    ASSERT_OK(tx.Commit());
  }
  ASSERT_OK_AND_ASSIGN(Statement q, db->Prepare("SELECT a, b, c, typeof(c) FROM t ORDER BY a"));
  ASSERT_OK_AND_ASSIGN(bool row, q.Step());
  ASSERT_TRUE(row);
  EXPECT_EQ(q.Int(0), 2);
  EXPECT_EQ(q.Text(1), "two");
  EXPECT_EQ(q.Blob(2), std::string("\0\1", 2));
  ASSERT_OK_AND_ASSIGN(row, q.Step());
  ASSERT_TRUE(row);
  EXPECT_TRUE(q.IsNull(1));
  EXPECT_EQ(q.Text(3), "blob");  // an empty blob stays a blob
  ASSERT_OK_AND_ASSIGN(row, q.Step());
  EXPECT_FALSE(row);
}

std::vector<Migration> ThreeMigrations() {
  return {
      {1, "CREATE TABLE IF NOT EXISTS a(x INTEGER)"},
      {2, "ALTER TABLE a ADD COLUMN y TEXT NOT NULL DEFAULT ''"},
      {3, nullptr, [](Database& db) { return db.Exec("CREATE TABLE b(z)"); }},
  };
}

TEST(SqliteMigrateTest, BringsANewDatabaseFromZeroToTheLastVersion) {
  std::string path = FreshPath("migrate");
  ASSERT_OK_AND_ASSIGN(auto db, Database::Open(path, Options()));
  ASSERT_OK_AND_ASSIGN(int64_t v, db->UserVersion());
  EXPECT_EQ(v, 0);
  ASSERT_OK(Migrate(*db, ThreeMigrations()));
  ASSERT_OK_AND_ASSIGN(v, db->UserVersion());
  EXPECT_EQ(v, 3);
  EXPECT_OK(db->Exec("INSERT INTO a(x, y) VALUES (1, 'y'); INSERT INTO b VALUES (1)"));
  ASSERT_OK(Migrate(*db, ThreeMigrations()));  // current: nothing to do
}

TEST(SqliteMigrateTest, RunsOnlyTheStepsAboveTheStoredVersion) {
  std::string path = FreshPath("partial");
  ASSERT_OK_AND_ASSIGN(auto db, Database::Open(path, Options()));
  std::vector<Migration> first = ThreeMigrations();
  first.resize(1);
  ASSERT_OK(Migrate(*db, first));
  ASSERT_OK(db->Exec("INSERT INTO a(x) VALUES (7)"));
  ASSERT_OK(Migrate(*db, ThreeMigrations()));
  ASSERT_OK_AND_ASSIGN(Statement q, db->Prepare("SELECT x, y FROM a"));
  ASSERT_OK_AND_ASSIGN(bool row, q.Step());
  ASSERT_TRUE(row);
  EXPECT_EQ(q.Int(0), 7);
  EXPECT_EQ(q.Text(1), "");
}

TEST(SqliteMigrateTest, AFailingStepLeavesNothingAndNamesTheVersion) {
  std::string path = FreshPath("failing");
  ASSERT_OK_AND_ASSIGN(auto db, Database::Open(path, Options()));
  std::vector<Migration> m = ThreeMigrations();
  m.push_back({4, "CREATE TABLE c(q); INSERT INTO nowhere VALUES (1)"});
  EXPECT_THAT(Migrate(*db, m),
              StatusIs(absl::StatusCode::kInternal, "upgrading the database from schema version 3"));
  ASSERT_OK_AND_ASSIGN(int64_t v, db->UserVersion());
  EXPECT_EQ(v, 0);
  EXPECT_THAT(db->Prepare("SELECT * FROM a"), StatusIs(absl::StatusCode::kInternal));
}

TEST(SqliteMigrateTest, ADatabaseOfANewerBuildIsRefused) {
  std::string path = FreshPath("newer");
  ASSERT_OK_AND_ASSIGN(auto db, Database::Open(path, Options()));
  ASSERT_OK(db->Exec("PRAGMA user_version = 9"));
  EXPECT_THAT(Migrate(*db, ThreeMigrations()),
              StatusIs(absl::StatusCode::kFailedPrecondition, "schema version 9"));
}

}  // namespace
}  // namespace samenzicht::sqlite
