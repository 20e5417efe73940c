#include "aggregator/store.h"

#include <sys/stat.h>

#include <fstream>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "tests/aggregator/test_util.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::aggregator {
namespace {

using samenzicht::testing::StatusIs;
using testing::FreshDir;
using testing::MakeReport;
using testing::Tok;

const std::vector<std::string> kRules = {"nid", "name_dob", "phone"};

crypto::SecretBytes Key() { return *crypto::SecretBytes::Random(32); }

BatchToStore Batch(const std::string& id, const std::string& agency,
                   const std::vector<v1::Report>& reports) {
  BatchToStore b;
  b.batch_id = id;
  b.agency = agency;
  b.digest = std::string(32, 'd');
  b.received_unix = 1700000000;
  b.report_count = static_cast<uint32_t>(reports.size());
  for (size_t i = 0; i < reports.size(); ++i) b.reports.push_back({static_cast<uint32_t>(i), &reports[i]});
  return b;
}

int NoDomain(const std::string&) { return 0; }

TEST(StoreTest, RoundTripKeepsCategoriesAndRekeysTokens) {
  std::string dir = FreshDir("store_roundtrip") + "/data";
  auto key = Key();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, key, kRules));
  v1::Report r = MakeReport(1, {{"phone", Tok(1)}, {"nid", Tok(2)}}, v1::FORM_CRIMINAL, 202403);
  r.set_age_band(v1::AGE_BAND_13_17);
  r.add_coercion(v1::COERCION_DEBT_BONDAGE);
  r.add_coercion(v1::COERCION_SEXTORTION);
  r.set_area("oost");
  std::vector<v1::Report> reports{r, MakeReport(2, {})};
  ASSERT_OK_AND_ASSIGN(CommitResult c, store->CommitBatch(Batch(testing::Id(77), "police", reports)));
  EXPECT_FALSE(c.replayed);
  EXPECT_EQ(c.accepted, 2u);
  EXPECT_EQ(c.duplicates, 0u);
  EXPECT_TRUE(c.refused.empty());

  ASSERT_OK_AND_ASSIGN(Dataset d, store->LoadDataset([](const std::string& a) {
    return a == "police" ? 1 : 0;
  }));
  ASSERT_EQ(d.reports.size(), 2u);
  EXPECT_EQ(d.reports[0].signal_month, 202403u);
  EXPECT_EQ(d.reports[0].form, v1::FORM_CRIMINAL);
  EXPECT_EQ(d.reports[0].age_band, v1::AGE_BAND_13_17);
  EXPECT_EQ(d.reports[0].coercion, (1u << v1::COERCION_DEBT_BONDAGE) | (1u << v1::COERCION_SEXTORTION));
  EXPECT_EQ(d.reports[0].domain, 1);
  ASSERT_EQ(d.areas, std::vector<std::string>{"oost"});
  EXPECT_EQ(d.reports[0].area, 1);
  EXPECT_TRUE(d.reports[0].has_token);
  EXPECT_FALSE(d.reports[1].has_token);
  ASSERT_EQ(d.tokens.size(), 2u);
  for (size_t i = 0; i < d.tokens.size(); ++i) {  // the table keeps 64-bit fingerprints
    const std::string t1 = Tok(1), t2 = Tok(2);
    EXPECT_NE(d.tokens.fingerprint(i), TokenFingerprint(reinterpret_cast<const uint8_t*>(t1.data())));
    EXPECT_NE(d.tokens.fingerprint(i), TokenFingerprint(reinterpret_cast<const uint8_t*>(t2.data())));
  }

  // Reopening with the same key: same re-keyed values, so new reports link to old ones.
  store.reset();
  ASSERT_OK_AND_ASSIGN(store, Store::Open(dir, key, kRules));
  std::vector<v1::Report> more{MakeReport(3, {{"nid", Tok(2)}})};
  ASSERT_OK(store->CommitBatch(Batch(testing::Id(78), "police", more)));
  ASSERT_OK_AND_ASSIGN(Dataset d2, store->LoadDataset(NoDomain));
  LinkResult link = Link(static_cast<uint32_t>(d2.reports.size()), d2.tokens, 50, d2.rules.size());
  EXPECT_EQ(link.persons, 2u);
  EXPECT_EQ(link.person[0], link.person[2]);
}

// Probe-rule tokens (issue 3) keep their role through the store, and a probe meets its
// anchors (same rule, same re-keyed value) in the linkage.
TEST(StoreTest, KeepsTheRoleOfProbeRuleTokens) {
  std::string dir = FreshDir("store_roles") + "/data";
  auto key = Key();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, key, kRules));
  v1::Report a1 = MakeReport(1, {{"name_dob", Tok(5)}});
  a1.mutable_tokens(0)->set_role(v1::TOKEN_ROLE_ANCHOR);
  v1::Report a2 = MakeReport(2, {{"name_dob", Tok(5)}});
  a2.mutable_tokens(0)->set_role(v1::TOKEN_ROLE_ANCHOR);
  v1::Report probe = MakeReport(3, {{"name_dob", Tok(5)}, {"nid", Tok(9)}});
  probe.mutable_tokens(0)->set_role(v1::TOKEN_ROLE_PROBE);
  v1::Report probe_of_one = MakeReport(4, {{"name_dob", Tok(6)}});
  probe_of_one.mutable_tokens(0)->set_role(v1::TOKEN_ROLE_PROBE);
  v1::Report anchor_of_one = MakeReport(5, {{"name_dob", Tok(6)}});
  anchor_of_one.mutable_tokens(0)->set_role(v1::TOKEN_ROLE_ANCHOR);
  std::vector<v1::Report> reports{a1, a2, probe, probe_of_one, anchor_of_one};
  ASSERT_OK(store->CommitBatch(Batch(testing::Id(90), "police", reports)));
  store.reset();  // the role rows survive a reopen
  ASSERT_OK_AND_ASSIGN(store, Store::Open(dir, key, kRules));
  ASSERT_OK_AND_ASSIGN(Dataset d, store->LoadDataset(NoDomain));
  ASSERT_EQ(d.tokens.size(), 6u);
  std::vector<TokenRole> roles;
  for (size_t i = 0; i < d.tokens.size(); ++i) {
    roles.push_back(d.tokens.role(i));
    if (d.tokens.role(i) != TokenRole::kOrdinary) {
      EXPECT_EQ(d.rules[d.tokens.rule(i)], "name_dob");
    }
  }
  EXPECT_EQ(roles, (std::vector<TokenRole>{TokenRole::kAnchor, TokenRole::kAnchor, TokenRole::kProbe,
                                           TokenRole::kOrdinary, TokenRole::kProbe,
                                           TokenRole::kAnchor}));
  LinkResult link = Link(static_cast<uint32_t>(d.reports.size()), d.tokens, 50, d.rules.size());
  EXPECT_EQ(link.person, (std::vector<uint32_t>{0, 1, 2, 3, 3}));
  EXPECT_EQ(link.ambiguous_probe_reports, 1u);
}

TEST(StoreTest, FilesArePrivate) {
  std::string dir = FreshDir("store_private") + "/data";
  auto key = Key();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, key, kRules));
  struct stat st;
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700);
  ASSERT_EQ(::stat((dir + "/aggregator.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
}

TEST(StoreTest, ReplayedBatchChangesNothing) {
  std::string dir = FreshDir("store_replay") + "/data";
  auto key = Key();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, key, kRules));
  std::vector<v1::Report> reports{MakeReport(1, {{"nid", Tok(1)}})};
  ASSERT_OK(store->CommitBatch(Batch(testing::Id(5), "police", reports)));
  uint64_t gen = store->generation();
  std::vector<v1::Report> other{MakeReport(2, {{"nid", Tok(2)}})};
  ASSERT_OK_AND_ASSIGN(CommitResult c, store->CommitBatch(Batch(testing::Id(5), "police", other)));
  EXPECT_TRUE(c.replayed);
  EXPECT_EQ(c.previous_digest, std::string(32, 'd'));
  EXPECT_EQ(store->generation(), gen);
  EXPECT_EQ(*store->CountRows("reports"), 1);
  EXPECT_EQ(*store->CountRows("batches"), 1);
}

TEST(StoreTest, DuplicatesOtherAgenciesAndRetractions) {
  std::string dir = FreshDir("store_dups") + "/data";
  auto key = Key();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, key, kRules));
  std::vector<v1::Report> a{MakeReport(1, {{"nid", Tok(1)}}), MakeReport(2, {})};
  ASSERT_OK(store->CommitBatch(Batch(testing::Id(10), "police", a)));

  ASSERT_OK_AND_ASSIGN(RetractResult rr, store->Retract("zorg", {testing::Id(2)}, 1));
  EXPECT_EQ(rr.retracted, 0u);
  EXPECT_EQ(rr.not_found, std::vector<std::string>{testing::Id(2)});
  ASSERT_OK_AND_ASSIGN(rr, store->Retract("police", {testing::Id(2), testing::Id(99)}, 1));
  EXPECT_EQ(rr.retracted, 1u);
  EXPECT_EQ(rr.not_found, std::vector<std::string>{testing::Id(99)});

  std::vector<v1::Report> b{MakeReport(1, {}), MakeReport(2, {}), MakeReport(3, {})};
  ASSERT_OK_AND_ASSIGN(CommitResult c, store->CommitBatch(Batch(testing::Id(11), "police", b)));
  EXPECT_EQ(c.accepted, 1u);
  EXPECT_EQ(c.duplicates, 1u);
  ASSERT_EQ(c.refused.size(), 1u);
  EXPECT_EQ(c.refused[0].index, 1u);
  EXPECT_EQ(c.refused[0].code, absl::StatusCode::kFailedPrecondition);

  ASSERT_OK_AND_ASSIGN(c, store->CommitBatch(Batch(testing::Id(12), "zorg", b)));
  EXPECT_EQ(c.accepted, 0u);
  ASSERT_EQ(c.refused.size(), 3u);
  for (const auto& r : c.refused) EXPECT_EQ(r.code, absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(*store->CountRows("reports"), 2);
  EXPECT_EQ(*store->CountRows("tokens"), 1);
}

TEST(StoreTest, RefusesAGarbageFile) {
  std::string dir = FreshDir("store_garbage") + "/data";
  std::filesystem::create_directories(dir);
  {
    std::ofstream f(dir + "/aggregator.db", std::ios::binary);
    for (int i = 0; i < 4096; ++i) f << static_cast<char>((i * 37) & 0xff);
  }
  auto key = Key();
  EXPECT_THAT(Store::Open(dir, key, kRules),
              StatusIs(absl::StatusCode::kDataLoss, "Restore aggregator.db from a backup"));
}

TEST(StoreTest, RefusesADatabaseTruncatedToNothing) {
  std::string dir = FreshDir("store_empty") + "/data";
  {
    auto key = Key();
    auto store = Store::Open(dir, key, kRules);
    ASSERT_TRUE(store.ok()) << store.status();
  }
  std::filesystem::resize_file(dir + "/aggregator.db", 0);
  std::filesystem::remove(dir + "/aggregator.db-wal");
  auto key = Key();
  EXPECT_THAT(Store::Open(dir, key, kRules),
              StatusIs(absl::StatusCode::kDataLoss, "the database file is empty"));
}

TEST(StoreTest, RefusesACorruptedDatabase) {
  std::string dir = FreshDir("store_corrupt") + "/data";
  auto key = Key();
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, key, kRules));
    std::vector<v1::Report> reports;
    for (int i = 0; i < 400; ++i) reports.push_back(MakeReport(i + 1, {{"nid", Tok(i)}}));
    ASSERT_OK(store->CommitBatch(Batch(testing::Id(1), "police", reports)));
  }
  // Checkpointed on close: the main file holds everything. Overwrite pages in the middle.
  std::string path = dir + "/aggregator.db";
  auto size = std::filesystem::file_size(path);
  ASSERT_GT(size, 8192u);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096 + 100);
    std::string junk(std::min<size_t>(size - 4096 - 200, 8192), '\x7f');
    f.write(junk.data(), junk.size());
  }
  EXPECT_THAT(Store::Open(dir, key, kRules), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(StoreTest, RefusesAnUnknownSchemaVersion) {
  std::string dir = FreshDir("store_version") + "/data";
  auto key = Key();
  { ASSERT_OK(Store::Open(dir, key, kRules)); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir + "/aggregator.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 42", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_THAT(Store::Open(dir, key, kRules),
              StatusIs(absl::StatusCode::kFailedPrecondition, "schema version 42"));
}

TEST(StoreTest, RefusesAForeignDatabase) {
  std::string dir = FreshDir("store_foreign") + "/data";
  std::filesystem::create_directories(dir);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir + "/aggregator.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE x(y)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto key = Key();
  EXPECT_THAT(Store::Open(dir, key, kRules), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(StoreTest, RefusesAShortKey) {
  auto key = *crypto::SecretBytes::Random(16);
  EXPECT_THAT(Store::Open(FreshDir("store_key") + "/data", key, kRules),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace samenzicht::aggregator
