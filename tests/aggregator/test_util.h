// Shared builders for the aggregator tests: a profile, tokens, reports and signed batches
// made directly with crypto::Signer (no agency_node code).
#ifndef SAMENZICHT_TESTS_AGGREGATOR_TEST_UTIL_H_
#define SAMENZICHT_TESTS_AGGREGATOR_TEST_UTIL_H_

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "aggregator/intake/intake.h"
#include "aggregator/store/sealed_rows.h"
#include "crypto/row_seal.h"
#include "crypto/encoding.h"
#include "crypto/signature.h"
#include "model/config.h"
#include "model/tokens.h"
#include "samenzicht/v1/config.pb.h"
#include "samenzicht/v1/intake.pb.h"
#include "samenzicht/v1/profile.pb.h"

namespace samenzicht::aggregator::testing {

inline v1::LinkageProfile TestProfile(uint32_t max_reports_per_token = 0) {
  v1::LinkageProfile p;
  p.set_name("test");
  p.set_version(1);
  p.set_max_reports_per_token(max_reports_per_token);
  auto* r = p.add_rules();
  r->set_name("nid");
  r->add_fields(v1::FIELD_NATIONAL_ID);
  r = p.add_rules();
  r->set_name("name_dob");
  r->add_fields(v1::FIELD_FIRST_GIVEN_NAME);
  r->add_fields(v1::FIELD_SURNAME);
  r->add_fields(v1::FIELD_DATE_OF_BIRTH);
  r = p.add_rules();
  r->set_name("phone");
  r->add_fields(v1::FIELD_PHONE);
  // A rule with a multi-valued field (profile version 4): several tokens per report.
  r = p.add_rules();
  r->set_name("surdel_dob");
  r->add_fields(v1::FIELD_SURNAME_DELETIONS);
  r->add_fields(v1::FIELD_DATE_OF_BIRTH);
  return p;
}

// A distinct, recognisable 32-byte token value for a small integer.
inline std::string Tok(int n) {
  std::string t(32, '\0');
  for (int i = 0; i < 32; ++i) t[i] = static_cast<char>((n * 131 + i * 7 + 0x5a) & 0xff);
  t[0] = static_cast<char>(n & 0xff);
  t[1] = static_cast<char>((n >> 8) & 0xff);
  t[31] = static_cast<char>(0xa5);
  return t;
}

// 32 lower-case hex from a small integer.
inline std::string Id(int n) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%032x", n);
  return buf;
}

inline v1::Report MakeReport(int id, std::vector<std::pair<std::string, std::string>> tokens,
                             v1::Form form = v1::FORM_UNSPECIFIED, uint32_t month = 202401) {
  v1::Report r;
  r.set_report_id(Id(id));
  r.set_signal_month(month);
  r.set_form(form);
  for (auto& [rule, value] : tokens) {
    auto* t = r.add_tokens();
    t->set_rule(rule);
    t->set_value(value);
  }
  return r;
}

// `r` with its `tokens` rewritten as `packed_tokens` (the form agency nodes send), rule
// indexes from `profile`.
inline v1::Report Packed(const v1::LinkageProfile& profile, v1::Report r) {
  for (const v1::Token& t : r.tokens()) {
    int rule = 0;
    while (rule < profile.rules_size() && profile.rules(rule).name() != t.rule()) ++rule;
    EXPECT_LT(rule, profile.rules_size()) << t.rule();
    EXPECT_EQ(t.value().size(), model::kTokenValueBytes);
    model::AppendPackedToken(static_cast<size_t>(rule), t.role(),
                             reinterpret_cast<const uint8_t*>(t.value().data()),
                             r.mutable_packed_tokens());
  }
  r.clear_tokens();
  return r;
}

inline v1::BatchPayload MakePayload(const std::string& node, const v1::LinkageProfile& profile,
                                    uint32_t epoch, std::vector<v1::Report> reports,
                                    std::string batch_id = "") {
  v1::BatchPayload p;
  p.set_batch_id(batch_id.empty() ? crypto::RandomId() : batch_id);
  p.set_node_id(node);
  p.set_profile_fingerprint(model::ProfileFingerprint(profile));
  p.set_key_epoch(epoch);
  p.set_created_unix(1700000000);
  for (auto& r : reports) *p.add_reports() = std::move(r);
  return p;
}

inline v1::SignedBatch Sign(const crypto::Signer& signer, const std::string& payload_bytes) {
  v1::SignedBatch b;
  b.set_payload(payload_bytes);
  b.set_signature(signer.Sign(kBatchContext, payload_bytes));
  return b;
}

inline v1::SignedBatch Sign(const crypto::Signer& signer, const v1::BatchPayload& payload) {
  return Sign(signer, payload.SerializeAsString());
}

// Turns a schema-5 aggregator database back into what schema 4 stored (the report id a
// UNIQUE column of `reports`, no `report_ids` table), in plain SQL on a connection without
// foreign keys: the input of the upgrade tests.
inline constexpr char kDowngradeToSchemaFour[] = R"sql(
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
INSERT INTO reports_v4 SELECT r.id, i.report_id, r.agency, r.batch_id, r.signal_month, r.form,
  r.contact, r.age_band, r.gender, r.background, r.living_situation, r.recruitment_location,
  r.coercion, r.forced_crime, r.area, r.key_epoch, r.tokens
  FROM reports r JOIN report_ids i ON i.id = r.id;
DROP TABLE report_ids;
DROP TABLE reports;
ALTER TABLE reports_v4 RENAME TO reports;
PRAGMA user_version = 4;
)sql";

// Turns a schema-4 aggregator database back into what schema 3 stored (text report ids, one
// `tokens` row per token), in plain SQL on a connection without foreign keys: the input of
// the upgrade tests. The 2-byte little-endian rule word is read back through hex().
inline constexpr char kDowngradeFourToThree[] = R"sql(
CREATE TABLE reports_v3(
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
  area TEXT NOT NULL,
  key_epoch INTEGER NOT NULL DEFAULT 0);
INSERT INTO reports_v3 SELECT id, lower(hex(report_id)), agency, batch_id, signal_month, form,
  contact, age_band, gender, background, living_situation, recruitment_location, coercion,
  forced_crime, area, key_epoch FROM reports;
CREATE TABLE tokens(
  report INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
  rule INTEGER NOT NULL REFERENCES rules(id),
  token BLOB NOT NULL CHECK(length(token) = 32));
CREATE INDEX tokens_by_report ON tokens(report);
WITH RECURSIVE t(report, blob, i) AS (
    SELECT id, tokens, 0 FROM reports WHERE length(tokens) > 0
    UNION ALL SELECT report, blob, i + 1 FROM t WHERE (i + 1) * 34 < length(blob)),
  e(report, i, h, token) AS (
    SELECT report, i, hex(substr(blob, 34 * i + 1, 2)), substr(blob, 34 * i + 3, 32) FROM t)
  INSERT INTO tokens(report, rule, token)
  SELECT report,
    (instr('0123456789ABCDEF', substr(h, 1, 1)) - 1) * 16 + instr('0123456789ABCDEF', substr(h, 2, 1)) - 1 +
    256 * ((instr('0123456789ABCDEF', substr(h, 3, 1)) - 1) * 16 + instr('0123456789ABCDEF', substr(h, 4, 1)) - 1),
    token
  FROM e ORDER BY report, i;
DROP TABLE reports;
ALTER TABLE reports_v3 RENAME TO reports;
CREATE TABLE retracted_v3(
  report_id TEXT PRIMARY KEY,
  agency TEXT NOT NULL,
  at INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO retracted_v3 SELECT lower(hex(report_id)), agency, at FROM retracted;
DROP TABLE retracted;
ALTER TABLE retracted_v3 RENAME TO retracted;
PRAGMA user_version = 3;
)sql";
// Schema 5 to 3.
inline const std::string kDowngradeToSchemaThree =
    std::string(kDowngradeToSchemaFour) + kDowngradeFourToThree;

inline std::string FreshDir(const std::string& tag) {
  std::string dir = ::testing::TempDir() + "/" + tag;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Rows of a one-column query on a database file (opened read-only), as text.
inline std::vector<std::string> Column(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::vector<std::string> out;
  EXPECT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  while (sqlite3_step(st) == SQLITE_ROW) {
    const unsigned char* t = sqlite3_column_text(st, 0);
    out.push_back(t ? reinterpret_cast<const char*>(t) : "");
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

// The stored reports of a schema-8 database (`db_path`), opened with `store_key`: row id,
// agency, signal month, key epoch, categories and token blob, in row order. Fails the test
// for a row that does not open.
struct OpenedRow {
  int64_t id = 0;
  std::string agency, batch_id;
  uint32_t signal_month = 0, key_epoch = 0;
  StoredFacts facts;
  std::string tokens;
};
inline std::vector<OpenedRow> OpenedRows(const std::string& db_path,
                                         const crypto::SecretBytes& store_key) {
  std::vector<OpenedRow> rows;
  auto sealer = crypto::RowSealer::New(store_key);
  EXPECT_TRUE(sealer.ok()) << sealer.status();
  if (!sealer.ok()) return rows;
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db,
                               "SELECT id, agency, batch_id, signal_month, key_epoch, facts, tokens "
                               "FROM reports ORDER BY id",
                               -1, &st, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  auto blob = [&st](int c) {
    const void* p = sqlite3_column_blob(st, c);
    return std::string(static_cast<const char*>(p), p ? sqlite3_column_bytes(st, c) : 0);
  };
  std::string scratch;
  while (st != nullptr && sqlite3_step(st) == SQLITE_ROW) {
    OpenedRow r;
    r.id = sqlite3_column_int64(st, 0);
    r.agency = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
    r.batch_id = reinterpret_cast<const char*>(sqlite3_column_text(st, 2));
    r.signal_month = static_cast<uint32_t>(sqlite3_column_int64(st, 3));
    r.key_epoch = static_cast<uint32_t>(sqlite3_column_int64(st, 4));
    const RowPlace place{r.id, r.agency, r.signal_month, r.key_epoch};
    absl::Status s = OpenFacts(**sealer, place, blob(5), &r.facts, &scratch);
    EXPECT_TRUE(s.ok()) << s;
    s = OpenTokens(**sealer, place, blob(6), &r.tokens);
    EXPECT_TRUE(s.ok()) << s;
    rows.push_back(std::move(r));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rows;
}

// The stored areas, opened, in row order.
inline std::vector<std::string> StoredAreas(const std::string& db_path,
                                            const crypto::SecretBytes& store_key) {
  std::vector<std::string> areas;
  for (const OpenedRow& r : OpenedRows(db_path, store_key)) areas.push_back(r.facts.area);
  return areas;
}

// Turns a schema-8 aggregator database back into what schema 6 stored (categories, area and
// tokens in plain columns of `reports`): the input of the upgrade tests, before the SQL
// downgrades above.
inline void DowngradeToSchemaSix(const std::string& db_path, const crypto::SecretBytes& store_key) {
  const std::vector<OpenedRow> rows = OpenedRows(db_path, store_key);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  auto exec = [db](const char* sql) {
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "") << " in " << sql;
    sqlite3_free(err);
  };
  exec(R"sql(BEGIN;
DROP TABLE reports;
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
CREATE TRIGGER report_ids_go_with_their_report AFTER DELETE ON reports
  BEGIN DELETE FROM report_ids WHERE id = OLD.id; END;)sql");
  sqlite3_stmt* ins = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db,
                               "INSERT INTO reports VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,"
                               "?13,?14,?15,?16)",
                               -1, &ins, nullptr),
            SQLITE_OK);
  for (const OpenedRow& r : rows) {
    sqlite3_reset(ins);
    sqlite3_bind_int64(ins, 1, r.id);
    sqlite3_bind_text(ins, 2, r.agency.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins, 3, r.batch_id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(ins, 4, r.signal_month);
    const int64_t values[] = {r.facts.form,   r.facts.contact,     r.facts.age_band,
                              r.facts.gender, r.facts.background,  r.facts.living,
                              r.facts.recruitment, r.facts.coercion, r.facts.forced_crime};
    for (int i = 0; i < 9; ++i) sqlite3_bind_int64(ins, 5 + i, values[i]);
    sqlite3_bind_text(ins, 14, r.facts.area.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(ins, 15, r.key_epoch);
    sqlite3_bind_blob(ins, 16, r.tokens.data(), static_cast<int>(r.tokens.size()), SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(ins), SQLITE_DONE) << sqlite3_errmsg(db);
  }
  sqlite3_finalize(ins);
  exec("PRAGMA user_version = 6; COMMIT;");
  sqlite3_close(db);
}

}  // namespace samenzicht::aggregator::testing

#endif  // SAMENZICHT_TESTS_AGGREGATOR_TEST_UTIL_H_
