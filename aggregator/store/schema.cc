#include "aggregator/store/schema.h"

#include <sqlite3.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "aggregator/store/sealed_rows.h"
#include "common/status_macros.h"
#include "crypto/keyed_hash.h"

namespace samenzicht::aggregator {
namespace {

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

// Schema version 2: the audit trail and the administrator's settings.
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

// Schema version 3 (key rotation): the hashing-key epoch of each report's tokens.
// Reports stored before version 3 get the epoch the aggregator last ran with (the only
// epoch it accepted then; 0 when it never recorded one).
constexpr char kSchemaV3[] = R"sql(
ALTER TABLE reports ADD COLUMN key_epoch INTEGER NOT NULL DEFAULT 0;
UPDATE reports SET key_epoch = coalesce(
  (SELECT CAST(value AS INTEGER) FROM settings WHERE name = 'last_key_epoch'),
  (SELECT CAST(value AS INTEGER) FROM settings WHERE name = 'key_epoch'), 0);
PRAGMA user_version = 3;
)sql";

// Schema version 4 (ingest speed): a report's tokens as one blob column of the
// report row (see store.h) instead of one `tokens` row per token plus the tokens_by_report
// index entry, and report ids as 16 raw bytes instead of 32 hex characters in the unique
// index. Converted in the same transaction as the rest of `Open`'s upgrade, with the
// connection functions of `MigrationFunctions` (SQLite 3.40 has no unhex()). The dropped
// tables' pages are overwritten (secure_delete) and go to the free list (ReclaimSpace).
constexpr char kSchemaV4[] = R"sql(
CREATE TABLE reports_v4(
  id INTEGER PRIMARY KEY,
  report_id BLOB NOT NULL UNIQUE CHECK(length(report_id) = 16),
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
  area TEXT NOT NULL,
  key_epoch INTEGER NOT NULL DEFAULT 0,
  tokens BLOB NOT NULL DEFAULT x'' CHECK(length(tokens) % 34 = 0));
INSERT INTO reports_v4(id, report_id, agency, batch_id, signal_month, form, contact, age_band,
    gender, background, living_situation, recruitment_location, coercion, forced_crime, area,
    key_epoch, tokens)
  SELECT r.id, samenzicht_id16(r.report_id), r.agency, r.batch_id, r.signal_month, r.form,
    r.contact, r.age_band, r.gender, r.background, r.living_situation, r.recruitment_location,
    r.coercion, r.forced_crime, r.area, r.key_epoch,
    (SELECT samenzicht_tokens(t.rule, t.token) FROM
       (SELECT rule, token FROM tokens WHERE report = r.id ORDER BY rowid) AS t)
  FROM reports r ORDER BY r.id;
DROP TABLE tokens;
DROP TABLE reports;
ALTER TABLE reports_v4 RENAME TO reports;
CREATE TABLE retracted_v4(
  report_id BLOB PRIMARY KEY CHECK(length(report_id) = 16),
  agency TEXT NOT NULL,
  at INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO retracted_v4(report_id, agency, at)
  SELECT samenzicht_id16(report_id), agency, at FROM retracted;
DROP TABLE retracted;
ALTER TABLE retracted_v4 RENAME TO retracted;
PRAGMA user_version = 4;
)sql";

// Schema version 5 (ingest speed): report ids move out of `reports` into the
// compact table `report_ids` (one 16-byte id per report row, same row number), which has
// no index beyond its row number. A UNIQUE index on 128 random bits is written at a random
// page for every report, and at ingest rates that index was most of the WAL; uniqueness is
// now kept by the store's in-memory map of every id (report_id_map.h), loaded from
// `report_ids` and `retracted`. A `report_ids` row goes with its report by a trigger, not a
// foreign key: a trigger also fires on a connection without foreign keys (the sqlite3
// shell's default), and a foreign key would cost a look-up in `reports` per id inserted.
constexpr char kSchemaV5[] = R"sql(
ALTER TABLE reports RENAME TO reports_v4;
CREATE TABLE reports(
  id INTEGER PRIMARY KEY,
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
  area TEXT NOT NULL,
  key_epoch INTEGER NOT NULL DEFAULT 0,
  tokens BLOB NOT NULL DEFAULT x'' CHECK(length(tokens) % 34 = 0));
INSERT INTO reports(id, agency, batch_id, signal_month, form, contact, age_band, gender,
    background, living_situation, recruitment_location, coercion, forced_crime, area,
    key_epoch, tokens)
  SELECT id, agency, batch_id, signal_month, form, contact, age_band, gender, background,
    living_situation, recruitment_location, coercion, forced_crime, area, key_epoch, tokens
  FROM reports_v4 ORDER BY id;
CREATE TABLE report_ids(
  id INTEGER PRIMARY KEY,
  report_id BLOB NOT NULL CHECK(length(report_id) = 16));
INSERT INTO report_ids(id, report_id) SELECT id, report_id FROM reports_v4 ORDER BY id;
DROP TABLE reports_v4;
CREATE TRIGGER report_ids_go_with_their_report AFTER DELETE ON reports
  BEGIN DELETE FROM report_ids WHERE id = OLD.id; END;
PRAGMA user_version = 5;
)sql";

// The connection functions the version-4 upgrade uses, registered for its transaction only:
//   samenzicht_id16(text)              a v3 report id as its 16 bytes;
//   samenzicht_tokens(rule, token)     aggregate: the v4 token blob of a report's rows.
class MigrationFunctions {
 public:
  explicit MigrationFunctions(sqlite3* db) : db_(db) {
    sqlite3_create_function_v2(db, "samenzicht_id16", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                               nullptr, &Id16, nullptr, nullptr, nullptr);
    sqlite3_create_function_v2(db, "samenzicht_tokens", 2, SQLITE_UTF8, nullptr, nullptr,
                               &TokensStep, &TokensFinal, nullptr);
  }
  ~MigrationFunctions() {
    sqlite3_create_function_v2(db_, "samenzicht_id16", 1, SQLITE_UTF8, nullptr, nullptr, nullptr,
                               nullptr, nullptr);
    sqlite3_create_function_v2(db_, "samenzicht_tokens", 2, SQLITE_UTF8, nullptr, nullptr,
                               nullptr, nullptr, nullptr);
  }
  MigrationFunctions(const MigrationFunctions&) = delete;
  MigrationFunctions& operator=(const MigrationFunctions&) = delete;

 private:
  static void Id16(sqlite3_context* ctx, int, sqlite3_value** argv) {
    const unsigned char* t = sqlite3_value_text(argv[0]);
    uint8_t id[kReportIdBytes];
    if (t == nullptr ||
        !ReportIdBytes(std::string_view(reinterpret_cast<const char*>(t),
                                        static_cast<size_t>(sqlite3_value_bytes(argv[0]))),
                       id)) {
      sqlite3_result_error(ctx, "a stored report id is not 32 lower-case hex characters", -1);
      return;
    }
    sqlite3_result_blob(ctx, id, sizeof id, SQLITE_TRANSIENT);
  }
  static void TokensStep(sqlite3_context* ctx, int, sqlite3_value** argv) {
    auto** blob = static_cast<std::string**>(sqlite3_aggregate_context(ctx, sizeof(std::string*)));
    if (blob == nullptr) {
      sqlite3_result_error_nomem(ctx);
      return;
    }
    const int64_t rule = sqlite3_value_int64(argv[0]);
    if (rule < 1 || rule > kMaxStoredRuleId) {
      sqlite3_result_error(ctx, "a stored token's rule id does not fit in 14 bits", -1);
      return;
    }
    if (sqlite3_value_bytes(argv[1]) != static_cast<int>(crypto::kTokenBytes)) {
      sqlite3_result_error(ctx, "a stored token has the wrong length", -1);
      return;
    }
    if (*blob == nullptr) *blob = new std::string;
    (*blob)->push_back(static_cast<char>(rule & 0xff));  // the rule word, little-endian
    (*blob)->push_back(static_cast<char>(rule >> 8));
    (*blob)->append(static_cast<const char*>(sqlite3_value_blob(argv[1])), crypto::kTokenBytes);
  }
  static void TokensFinal(sqlite3_context* ctx) {
    auto** blob = static_cast<std::string**>(sqlite3_aggregate_context(ctx, 0));
    if (blob == nullptr || *blob == nullptr) {
      sqlite3_result_zeroblob(ctx, 0);
      return;
    }
    sqlite3_result_blob(ctx, (*blob)->data(), static_cast<int>((*blob)->size()), SQLITE_TRANSIENT);
    delete *blob;
    *blob = nullptr;
  }

  sqlite3* const db_;
};

// Version 4 with the connection functions its SQL calls.
absl::Status MigrateToVersion4(sqlite::Database& db) {
  MigrationFunctions functions(db.handle());
  return db.Exec(kSchemaV4);
}

// Schema version 6 (security review): `batches.digest` held the payload's plain BLAKE2b,
// which anyone holding a copy of the database and the agencies' hashing key could compare
// with the digest of a guessed payload. It now holds the digest keyed with the store key.
absl::Status MigrateToVersion6(sqlite::Database& db, const DigestKeyer& key_digest) {
  std::vector<std::pair<std::string, std::string>> rows;
  {
    ASSIGN_OR_RETURN(sqlite::Statement sel, db.Prepare("SELECT batch_id, digest FROM batches"));
    while (true) {
      ASSIGN_OR_RETURN(bool row, sel.Step());
      if (!row) break;
      rows.emplace_back(sel.Text(0), sel.Blob(1));
    }
  }
  ASSIGN_OR_RETURN(sqlite::Statement upd,
                   db.Prepare("UPDATE batches SET digest = ?2 WHERE batch_id = ?1"));
  for (const auto& [batch_id, digest] : rows) {
    upd.Bind(1, batch_id).BindBlob(2, key_digest(digest));
    RETURN_IF_ERROR(upd.Run());
  }
  return absl::OkStatus();
}

// Schema version 7 (corrections): the version of each stored report. A report the same
// agency sends again with other categories or tokens replaces the stored content in place
// (the same row and report id) and its version goes up by one. Skipped when the column is
// there already (a database whose user_version was set back by hand).
absl::Status MigrateToVersion7(sqlite::Database& db) {
  bool present = false;
  {
    ASSIGN_OR_RETURN(sqlite::Statement has,
                     db.Prepare("SELECT count(*) FROM pragma_table_info('reports') "
                                "WHERE name = 'version'"));
    ASSIGN_OR_RETURN(bool row, has.Step());
    present = row && has.Int(0) > 0;
  }  // the statement is finished before the table is altered
  if (present) return absl::OkStatus();
  return db.Exec("ALTER TABLE reports ADD COLUMN version INTEGER NOT NULL DEFAULT 1");
}

// Schema version 8 (encryption at rest): a report's categories and area (`facts`) and its
// tokens are sealed with the store key (sealed_rows.h); the readable columns are the row
// id, agency, batch, signal month and key epoch. Every existing row is sealed here; the
// plaintext table is dropped, its pages overwritten (secure_delete).
constexpr char kSchemaV8Before[] = R"sql(
ALTER TABLE reports RENAME TO reports_v7;
CREATE TABLE reports(
  id INTEGER PRIMARY KEY,
  agency TEXT NOT NULL,
  batch_id TEXT NOT NULL REFERENCES batches(batch_id),
  signal_month INTEGER NOT NULL,
  key_epoch INTEGER NOT NULL DEFAULT 0,
  facts BLOB NOT NULL,
  tokens BLOB NOT NULL DEFAULT x'',
  version INTEGER NOT NULL DEFAULT 1);
)sql";
constexpr char kSchemaV8After[] = R"sql(
DROP TABLE reports_v7;
CREATE TRIGGER report_ids_go_with_their_report AFTER DELETE ON reports
  BEGIN DELETE FROM report_ids WHERE id = OLD.id; END;
)sql";

absl::Status MigrateToVersion8(sqlite::Database& db, const crypto::RowSealer& sealer) {
  RETURN_IF_ERROR(db.Exec(kSchemaV8Before));
  ASSIGN_OR_RETURN(sqlite::Statement sel,
                   db.Prepare("SELECT id, agency, batch_id, signal_month, key_epoch, form, contact, "
                              "age_band, gender, background, living_situation, "
                              "recruitment_location, coercion, forced_crime, area, tokens, "
                              "version "
                              "FROM reports_v7 ORDER BY id"));
  ASSIGN_OR_RETURN(sqlite::Statement ins,
                   db.Prepare("INSERT INTO reports(id, agency, batch_id, signal_month, key_epoch, "
                              "facts, tokens, version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  std::string facts_sealed, tokens_sealed;
  while (true) {
    ASSIGN_OR_RETURN(bool row, sel.Step());
    if (!row) break;
    const std::string agency = sel.Text(1);
    const std::string tokens = sel.Blob(15);
    if (tokens.size() % kStoredTokenBytes != 0) {
      return absl::DataLossError(absl::StrCat("report row ", sel.Int(0), ": its stored tokens are damaged"));
    }
    RowPlace place{sel.Int(0), agency, static_cast<uint32_t>(sel.Int(3)),
                   static_cast<uint32_t>(sel.Int(4))};
    StoredFacts f;
    f.form = static_cast<uint8_t>(sel.Int(5));
    f.contact = static_cast<uint8_t>(sel.Int(6));
    f.age_band = static_cast<uint8_t>(sel.Int(7));
    f.gender = static_cast<uint8_t>(sel.Int(8));
    f.background = static_cast<uint8_t>(sel.Int(9));
    f.living = static_cast<uint32_t>(sel.Int(10));
    f.recruitment = static_cast<uint32_t>(sel.Int(11));
    f.coercion = static_cast<uint32_t>(sel.Int(12));
    f.forced_crime = static_cast<uint32_t>(sel.Int(13));
    f.area = sel.Text(14);
    facts_sealed.clear();
    tokens_sealed.clear();
    SealFacts(sealer, place, f, &facts_sealed);
    SealTokens(sealer, place, tokens, &tokens_sealed);
    ins.Bind(1, place.row)
        .Bind(2, agency)
        .Bind(3, sel.Text(2))
        .Bind(4, sel.Int(3))
        .Bind(5, sel.Int(4))
        .BindBlob(6, facts_sealed)
        .BindBlob(7, tokens_sealed)
        .Bind(8, sel.Int(16));
    RETURN_IF_ERROR(ins.Run());
  }
  return db.Exec(kSchemaV8After);
}

}  // namespace

bool ReportIdBytes(std::string_view hex, uint8_t out[kReportIdBytes]) {
  if (hex.size() != 2 * kReportIdBytes) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < kReportIdBytes; ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

std::vector<sqlite::Migration> StoreMigrations(DigestKeyer key_digest,
                                               const crypto::RowSealer& sealer) {
  return {
      {1, kSchema},
      {2, kSchemaV2},
      {3, kSchemaV3},
      {4, nullptr, MigrateToVersion4},
      {5, kSchemaV5},
      {6, nullptr,
       [key_digest = std::move(key_digest)](sqlite::Database& db) {
         return MigrateToVersion6(db, key_digest);
       }},
      {7, nullptr, MigrateToVersion7},
      {8, nullptr, [&sealer](sqlite::Database& db) { return MigrateToVersion8(db, sealer); }},
  };
}

}  // namespace samenzicht::aggregator
