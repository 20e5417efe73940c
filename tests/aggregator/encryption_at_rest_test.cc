// Encryption at rest, from the attacker's side: someone holding a copy of the data folder
// (aggregator.db) and of a backup, but not the store key, must find neither a stored token
// nor a category, and a report's sealed values moved to another row must not be taken for
// that row's data.
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "aggregator/admin/backup.h"
#include "aggregator/store/store.h"
#include "crypto/keyed_hash.h"
#include "tests/aggregator/test_util.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::aggregator {
namespace {

namespace fs = std::filesystem;
using samenzicht::testing::StatusIs;
using testing::FreshDir;
using testing::MakeReport;
using testing::Tok;

const std::vector<std::string> kRules = {"nid", "name_dob", "phone"};
constexpr char kArea[] = "noordoostkwartier";

BatchToStore Batch(const std::string& id, const std::string& agency,
                   const std::vector<v1::Report>& reports, uint32_t epoch = 0) {
  BatchToStore b;
  b.batch_id = id;
  b.agency = agency;
  b.digest = std::string(32, 'd');
  b.received_unix = 1700000000;
  b.report_count = static_cast<uint32_t>(reports.size());
  b.key_epoch = epoch;
  for (size_t i = 0; i < reports.size(); ++i) b.reports.push_back({static_cast<uint32_t>(i), &reports[i]});
  return b;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every file of the data folder and the backup, as the attacker copies them.
std::vector<std::pair<std::string, std::string>> StolenFiles(const std::string& data_dir,
                                                             const std::string& backup) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& f : fs::recursive_directory_iterator(data_dir)) {
    if (f.is_regular_file()) files.emplace_back(f.path().string(), ReadFile(f.path().string()));
  }
  files.emplace_back(backup, ReadFile(backup));
  return files;
}

// One value of a row as SQLite hands it to anyone who opens the file.
struct Cell {
  int type;
  std::string bytes;
};

std::vector<std::map<std::string, Cell>> Rows(const std::string& db_path, const std::string& table) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, ("SELECT * FROM " + table + " ORDER BY 1").c_str(), -1, &st, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  std::vector<std::map<std::string, Cell>> rows;
  while (st != nullptr && sqlite3_step(st) == SQLITE_ROW) {
    std::map<std::string, Cell> row;
    for (int c = 0; c < sqlite3_column_count(st); ++c) {
      const int type = sqlite3_column_type(st, c);
      const char* p = static_cast<const char*>(sqlite3_column_blob(st, c));
      row[sqlite3_column_name(st, c)] = {type, p ? std::string(p, sqlite3_column_bytes(st, c)) : ""};
    }
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rows;
}

// The longest run of bytes `a` and `b` have in common (short strings only).
size_t LongestCommonRun(const std::string& a, const std::string& b) {
  size_t best = 0;
  std::vector<size_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : 0;
      best = std::max(best, cur[j]);
    }
    std::swap(prev, cur);
  }
  return best;
}

class EncryptionAtRestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = FreshDir("encryption_at_rest");
    dir_ = root_ + "/data";
    key_ = std::make_unique<crypto::SecretBytes>(*crypto::SecretBytes::Random(32));
  }
  // One person reported by two agencies (the same national-id token), with categories
  // that differ in every field.
  void StoreOnePersonTwice() {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir_, *key_, kRules));
    v1::Report a = MakeReport(1, {{"nid", Tok(7)}, {"phone", Tok(8)}}, v1::FORM_CRIMINAL, 202403);
    a.set_age_band(v1::AGE_BAND_13_17);
    a.set_gender(v1::GENDER_FEMALE);
    a.add_coercion(v1::COERCION_DEBT_BONDAGE);
    a.set_area(kArea);
    v1::Report b = MakeReport(2, {{"nid", Tok(7)}}, v1::FORM_SEXUAL, 202403);
    b.set_age_band(v1::AGE_BAND_18_26);
    b.add_living_situation(v1::LIVING_SITUATION_HOMELESS);
    std::vector<v1::Report> police{a}, zorg{b};
    ASSERT_OK(store->CommitBatch(Batch(testing::Id(100), "police", police)));
    ASSERT_OK(store->CommitBatch(Batch(testing::Id(101), "zorg", zorg)));
  }

  std::string root_, dir_;
  std::unique_ptr<crypto::SecretBytes> key_;
};

// The attack: a copy of the data folder and of a backup, no store key. Neither the
// agencies' tokens nor the store's re-keyed tokens (which would link the two reports of one
// person) nor the area appear in any file; no column of `reports` other than the row id,
// agency, batch, signal month and key epoch holds a readable value; and the two reports of
// one person share no run of 16 bytes (equal tokens would).
TEST_F(EncryptionAtRestTest, AStolenDatabaseAndBackupHoldNoTokenAndNoCategory) {
  StoreOnePersonTwice();
  const std::string backup = root_ + "/aggregator.backup.db";
  ASSERT_OK(BackupDatabase(dir_, backup).status());

  ASSERT_OK_AND_ASSIGN(auto store_hasher,
                       crypto::KeyedHasher::New(*key_, kStorePurpose, 0, kRules));
  const std::vector<std::pair<std::string, std::string>> secrets = {
      {"agency nid token", Tok(7)},
      {"agency phone token", Tok(8)},
      {"stored nid token", store_hasher->Hash(0, Tok(7))},
      {"stored phone token", store_hasher->Hash(2, Tok(8))},
      {"area", kArea},
  };
  for (const auto& [file, bytes] : StolenFiles(dir_, backup)) {
    for (const auto& [what, secret] : secrets) {
      EXPECT_EQ(bytes.find(secret), std::string::npos) << what << " readable in " << file;
    }
  }

  // `version` counts a report's corrections, as the audit trail's report_corrected entries do.
  const std::set<std::string> readable = {"id", "agency", "batch_id", "signal_month", "key_epoch",
                                          "version"};
  for (const std::string& db : {dir_ + "/aggregator.db", backup}) {
    const auto rows = Rows(db, "reports");
    ASSERT_EQ(rows.size(), 2u) << db;
    for (const auto& row : rows) {
      for (const auto& [column, cell] : row) {
        if (readable.count(column) != 0) continue;
        EXPECT_EQ(cell.type, SQLITE_BLOB) << db << ": column " << column << " is readable";
      }
    }
    for (const auto& [column, cell] : rows[0]) {
      if (readable.count(column) != 0) continue;
      for (const auto& [other_column, other] : rows[1]) {
        if (readable.count(other_column) != 0) continue;
        EXPECT_LT(LongestCommonRun(cell.bytes, other.bytes), 16u)
            << db << ": " << column << " of one report and " << other_column
            << " of the other share bytes (a shared token links them)";
      }
    }
  }
}

// Swapping two rows' stored values (everything but the row id) in the file: the store
// refuses to load them as the other report's data.
TEST_F(EncryptionAtRestTest, SwappedRowsAreDataLoss) {
  StoreOnePersonTwice();
  std::vector<std::string> columns;
  // Held in a variable: a range-for over Rows(...)[0] reads a destroyed temporary.
  const auto rows = Rows(dir_ + "/aggregator.db", "reports");
  for (const auto& [column, cell] : rows.at(0)) {
    if (column != "id") columns.push_back(column);
  }
  std::string sql =
      "PRAGMA foreign_keys = OFF; CREATE TEMP TABLE s AS SELECT * FROM reports; UPDATE reports SET ";
  for (size_t i = 0; i < columns.size(); ++i) {
    sql += (i ? ", " : "") + columns[i] + " = (SELECT " + columns[i] + " FROM s WHERE s.id = 3 - reports.id)";
  }
  sql += " WHERE id IN (1, 2);";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/aggregator.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);

  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir_, *key_, kRules));
  EXPECT_THAT(store->LoadDataset([](const std::string&) { return 0; }),
              StatusIs(absl::StatusCode::kDataLoss, "report row 1"));
}

// The readable columns are bound to the sealed ones: a report moved to another month (to
// escape retention) or another key epoch (to escape retirement) does not load.
TEST_F(EncryptionAtRestTest, AChangedMonthOrKeyEpochIsDataLoss) {
  StoreOnePersonTwice();
  for (const char* tamper : {"UPDATE reports SET signal_month = 209912 WHERE id = 2",
                             "UPDATE reports SET key_epoch = 9 WHERE id = 2"}) {
    const std::string copy = root_ + "/tampered";
    fs::remove_all(copy);
    fs::copy(dir_, copy, fs::copy_options::recursive);
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((copy + "/aggregator.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, tamper, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(copy, *key_, kRules));
    EXPECT_THAT(store->LoadDataset([](const std::string&) { return 0; }),
                StatusIs(absl::StatusCode::kDataLoss, "report row 2"))
        << tamper;
  }
}

// A database of the release before (schema 6, every column readable) is sealed when the
// store opens it: afterwards neither its file nor a backup holds a token or an area, and
// every report loads with the categories it had.
TEST_F(EncryptionAtRestTest, UpgradingSealsEveryExistingRow) {
  StoreOnePersonTwice();
  Dataset before;
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir_, *key_, kRules));
    ASSERT_OK_AND_ASSIGN(before, store->LoadDataset([](const std::string&) { return 0; }));
  }
  testing::DowngradeToSchemaSix(dir_ + "/aggregator.db", *key_);
  ASSERT_OK_AND_ASSIGN(auto store_hasher, crypto::KeyedHasher::New(*key_, kStorePurpose, 0, kRules));
  const std::string stored_nid = store_hasher->Hash(0, Tok(7));
  ASSERT_NE(ReadFile(dir_ + "/aggregator.db").find(stored_nid), std::string::npos)
      << "the schema-6 file should hold the token in the clear";

  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir_, *key_, kRules));
    ASSERT_OK_AND_ASSIGN(Dataset after, store->LoadDataset([](const std::string&) { return 0; }));
    ASSERT_EQ(after.reports.size(), before.reports.size());
    for (size_t i = 0; i < after.reports.size(); ++i) {
      EXPECT_EQ(after.reports[i].form, before.reports[i].form);
      EXPECT_EQ(after.reports[i].age_band, before.reports[i].age_band);
      EXPECT_EQ(after.reports[i].gender, before.reports[i].gender);
      EXPECT_EQ(after.reports[i].living, before.reports[i].living);
      EXPECT_EQ(after.reports[i].coercion, before.reports[i].coercion);
      EXPECT_EQ(after.reports[i].signal_month, before.reports[i].signal_month);
    }
    EXPECT_EQ(after.areas, before.areas);
    ASSERT_EQ(after.tokens.size(), 3u);
    for (size_t i = 0; i < after.tokens.size(); ++i) {
      EXPECT_EQ(after.tokens.fingerprint(i), before.tokens.fingerprint(i));
    }
  }
  const std::string backup = root_ + "/after-upgrade.backup.db";
  ASSERT_OK(BackupDatabase(dir_, backup).status());
  for (const auto& [file, bytes] : StolenFiles(dir_, backup)) {
    EXPECT_EQ(bytes.find(stored_nid), std::string::npos) << "stored token readable in " << file;
    EXPECT_EQ(bytes.find(kArea), std::string::npos) << "area readable in " << file;
  }
}

// Without the store key nothing loads: another key is DataLoss, not a dataset of noise.
TEST_F(EncryptionAtRestTest, AnotherStoreKeyCannotOpenTheRows) {
  StoreOnePersonTwice();
  ASSERT_OK_AND_ASSIGN(crypto::SecretBytes other, crypto::SecretBytes::Random(32));
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir_, other, kRules));
  EXPECT_THAT(store->LoadDataset([](const std::string&) { return 0; }),
              StatusIs(absl::StatusCode::kDataLoss, "report row 1"));
}

}  // namespace
}  // namespace samenzicht::aggregator
