#include "aggregator/store/store.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "audit/aggregator_events.h"
#include "crypto/signature.h"
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

// A store in a fresh folder `name`, recording its audit trail signed by `*signer` (made
// here; it must outlive the store), with checkpoints beside the data folder.
void OpenWithAudit(const std::string& name, std::unique_ptr<crypto::Signer>* signer,
                   std::unique_ptr<Store>* store) {
  const std::string dir = FreshDir(name) + "/data";
  ASSERT_OK_AND_ASSIGN(*store, Store::Open(dir, Key(), kRules));
  ASSERT_OK_AND_ASSIGN(*signer, crypto::Signer::Generate());
  AuditOptions o;
  o.signer = signer->get();
  o.checkpoint_dir = dir + "/../checkpoints";
  ASSERT_OK((*store)->AttachAudit(o));
}

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

// Probe-rule tokens keep their role through the store, and a probe meets its
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
  EXPECT_EQ(c.previous_digest, store->KeyedBatchDigest(std::string(32, 'd')));
  EXPECT_EQ(store->generation(), gen);
  EXPECT_EQ(*store->CountRows("reports"), 1);
  EXPECT_EQ(*store->CountRows("batches"), 1);
}

// A correction: the same agency sends a stored report again with other categories. The
// report keeps its id and row, takes the new content under the next version, the totals'
// dataset holds only the latest version, and each correction is in the audit trail. The
// same content again is a plain duplicate; a replay of the first batch changes nothing.
TEST(StoreTest, AReportSentAgainWithOtherContentIsCorrectedInPlace) {
  std::unique_ptr<crypto::Signer> signer;  // outlives the store
  std::unique_ptr<Store> store;
  ASSERT_NO_FATAL_FAILURE(OpenWithAudit("store_correction", &signer, &store));
  v1::Report first = MakeReport(1, {{"nid", Tok(1)}}, v1::FORM_CRIMINAL, 202403);
  std::vector<v1::Report> a{first, MakeReport(2, {{"nid", Tok(2)}}, v1::FORM_LABOUR)};
  BatchToStore batch_a = Batch(testing::Id(20), "police", a);
  ASSERT_OK_AND_ASSIGN(CommitResult c, store->CommitBatch(batch_a));
  EXPECT_EQ(c.accepted, 2u);
  EXPECT_EQ(c.corrected, 0u);

  v1::Report changed = first;
  changed.set_form(v1::FORM_SEXUAL);
  changed.add_coercion(v1::COERCION_DEBT_BONDAGE);
  std::vector<v1::Report> b{changed, a[1]};
  ASSERT_OK_AND_ASSIGN(c, store->CommitBatch(Batch(testing::Id(21), "police", b)));
  EXPECT_EQ(c.accepted, 0u);
  EXPECT_EQ(c.duplicates, 2u);
  EXPECT_EQ(c.corrected, 1u);
  EXPECT_TRUE(c.refused.empty());

  auto facts = [&] {
    Dataset d = *store->LoadDataset(NoDomain);
    std::vector<std::pair<int, uint32_t>> out;
    for (const ReportFacts& f : d.reports) out.emplace_back(f.form, f.coercion);
    return out;
  };
  const std::vector<std::pair<int, uint32_t>> corrected = {
      {v1::FORM_SEXUAL, 1u << v1::COERCION_DEBT_BONDAGE}, {v1::FORM_LABOUR, 0u}};
  EXPECT_EQ(facts(), corrected);
  EXPECT_EQ(*store->CountRows("reports"), 2);

  // A second correction (the signal month) raises the version again.
  v1::Report again = changed;
  again.set_signal_month(202404);
  std::vector<v1::Report> c2{again};
  ASSERT_OK_AND_ASSIGN(c, store->CommitBatch(Batch(testing::Id(22), "police", c2)));
  EXPECT_EQ(c.corrected, 1u);
  // The same content once more: a plain duplicate, no new version.
  ASSERT_OK_AND_ASSIGN(c, store->CommitBatch(Batch(testing::Id(23), "police", c2)));
  EXPECT_EQ(c.duplicates, 1u);
  EXPECT_EQ(c.corrected, 0u);
  // A replay of the first batch (same batch id) changes nothing: no rollback to version 1.
  ASSERT_OK_AND_ASSIGN(c, store->CommitBatch(batch_a));
  EXPECT_TRUE(c.replayed);
  EXPECT_EQ(facts()[0], corrected[0]);
  EXPECT_EQ(store->LoadDataset(NoDomain)->reports[0].signal_month, 202404u);

  ASSERT_OK_AND_ASSIGN(std::vector<audit::Entry> entries, store->ReadAudit(1, 100));
  std::vector<std::string> corrections;
  for (const auto& e : entries) {
    if (e.event == kEventReportCorrected) corrections.push_back(e.details);
  }
  ASSERT_EQ(corrections.size(), 2u);
  EXPECT_NE(corrections[0].find(testing::Id(1)), std::string::npos) << corrections[0];
  EXPECT_NE(corrections[0].find("\"version\":2"), std::string::npos) << corrections[0];
  EXPECT_NE(corrections[1].find("\"version\":3"), std::string::npos) << corrections[1];
  EXPECT_NE(corrections[1].find(testing::Id(22)), std::string::npos) << corrections[1];

  // Another agency cannot correct the police's report: refused, nothing changed.
  ASSERT_OK_AND_ASSIGN(c, store->CommitBatch(Batch(testing::Id(24), "zorg", a)));
  ASSERT_EQ(c.refused.size(), 2u);
  EXPECT_EQ(c.refused[0].code, absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(facts()[0], corrected[0]);
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

  // Report 1 again with the same content: a duplicate (other content would be a
  // correction, AReportSentAgainWithOtherContentIsCorrectedInPlace).
  std::vector<v1::Report> b{a[0], MakeReport(2, {}), MakeReport(3, {})};
  ASSERT_OK_AND_ASSIGN(CommitResult c, store->CommitBatch(Batch(testing::Id(11), "police", b)));
  EXPECT_EQ(c.accepted, 1u);
  EXPECT_EQ(c.duplicates, 1u);
  EXPECT_EQ(c.corrected, 0u);
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

// The departure recorder is told, inside the transaction, which rows a retraction or a
// correction takes out; what it returns is written in that transaction with its audit entry,
// and its error rolls the whole change back (the report stays, no entry is written, and the
// retraction can be made again).
TEST(StoreTest, ADepartureRecorderWritesInTheTransactionOfARetractionOrCorrection) {
  struct Recorder : DepartureRecorder {
    std::vector<int64_t> told;
    int before = 0;
    bool fail = false;
    void BeforeRetraction() override { ++before; }
    absl::StatusOr<std::vector<SettingWrite>> Leaving(const std::vector<int64_t>& rows,
                                                      const SettingReader& read) override {
      if (fail) return absl::DataLossError("recorder failed");
      absl::StatusOr<std::string> value = read("left");
      if (!value.ok()) return value.status();
      for (int64_t r : rows) {
        told.push_back(r);
        absl::StrAppend(&*value, r, ";");
      }
      return std::vector<SettingWrite>{
          {"left", *value, kEventDisclosureDeparture, "aggregator", "{}"}};
    }
  };
  std::unique_ptr<crypto::Signer> signer;  // outlives the store
  std::unique_ptr<Store> store;
  ASSERT_NO_FATAL_FAILURE(OpenWithAudit("store_recorder", &signer, &store));
  Recorder recorder;
  store->SetDepartureRecorder(&recorder);
  std::vector<v1::Report> a{MakeReport(1, {{"nid", Tok(1)}}, v1::FORM_CRIMINAL, 202403),
                            MakeReport(2, {{"nid", Tok(2)}}, v1::FORM_LABOUR, 202403)};
  ASSERT_OK(store->CommitBatch(Batch(testing::Id(20), "police", a)));
  ASSERT_OK_AND_ASSIGN(Dataset d, store->LoadDataset(NoDomain));
  ASSERT_EQ(d.rows.size(), 2u);
  EXPECT_TRUE(recorder.told.empty());  // new reports leave nothing
  auto events = [&] {
    std::vector<std::string> out;
    absl::StatusOr<std::vector<audit::Entry>> read = store->ReadAudit(1, 100);
    EXPECT_TRUE(read.ok()) << read.status();
    if (read.ok()) {
      for (const audit::Entry& e : *read) out.push_back(e.event);
    }
    return out;
  };
  const size_t entries = events().size();

  recorder.fail = true;
  EXPECT_THAT(store->Retract("police", {testing::Id(2)}, 1),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(*store->CountRows("reports"), 2);
  EXPECT_EQ(events().size(), entries);
  EXPECT_EQ(store->LoadSettings()->count("left"), 0u);

  recorder.fail = false;
  ASSERT_OK_AND_ASSIGN(RetractResult rr, store->Retract("police", {testing::Id(2)}, 1));
  EXPECT_EQ(rr.retracted, 1u);
  EXPECT_EQ(recorder.before, 2);
  EXPECT_EQ(recorder.told, std::vector<int64_t>{d.rows[1]});
  EXPECT_EQ((*store->LoadSettings())["left"], absl::StrCat(d.rows[1], ";"));
  std::vector<std::string> after = events();
  ASSERT_EQ(after.size(), entries + 2);
  EXPECT_EQ(after[entries], kEventRetraction);
  EXPECT_EQ(after[entries + 1], kEventDisclosureDeparture);

  // A correction: told in the batch's transaction.
  std::vector<v1::Report> b{MakeReport(1, {{"nid", Tok(1)}}, v1::FORM_SEXUAL, 202403)};
  ASSERT_OK_AND_ASSIGN(CommitResult c, store->CommitBatch(Batch(testing::Id(21), "police", b)));
  EXPECT_EQ(c.corrected, 1u);
  EXPECT_EQ(recorder.told, (std::vector<int64_t>{d.rows[1], d.rows[0]}));
  EXPECT_EQ((*store->LoadSettings())["left"], absl::StrCat(d.rows[1], ";", d.rows[0], ";"));

  // Removed: told nothing more.
  store->ClearDepartureRecorder(&recorder);
  ASSERT_OK(store->Retract("police", {testing::Id(1)}, 2));
  EXPECT_EQ(recorder.told.size(), 2u);
  EXPECT_EQ(recorder.before, 2);
}

// A retracted report's row number is never given to a new report, also not after a restart:
// the release freeze, stable person ids and a sealed row's place are keyed by it, and a new
// report with the old number would be taken for the retracted one.
TEST(StoreTest, ARetractedReportsRowNumberIsNeverGivenAgain) {
  std::string dir = FreshDir("store_rows") + "/data";
  auto key = Key();
  int64_t highest = 0;
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, key, kRules));
    std::vector<v1::Report> a{MakeReport(1, {}), MakeReport(2, {}), MakeReport(3, {})};
    ASSERT_OK(store->CommitBatch(Batch(testing::Id(10), "police", a)));
    ASSERT_OK_AND_ASSIGN(Dataset d, store->LoadDataset(NoDomain));
    ASSERT_EQ(d.rows.size(), 3u);
    highest = *std::max_element(d.rows.begin(), d.rows.end());
    // the newest report (the highest row) is retracted; the next report must not take its number
    ASSERT_OK_AND_ASSIGN(RetractResult rr, store->Retract("police", {testing::Id(3)}, 1));
    ASSERT_EQ(rr.retracted, 1u);
    std::vector<v1::Report> b{MakeReport(4, {})};
    ASSERT_OK(store->CommitBatch(Batch(testing::Id(11), "police", b)));
    ASSERT_OK_AND_ASSIGN(d, store->LoadDataset(NoDomain));
    ASSERT_EQ(d.rows.size(), 3u);
    EXPECT_EQ(*std::max_element(d.rows.begin(), d.rows.end()), highest + 1);
    ASSERT_OK(store->Retract("police", {testing::Id(4)}, 2));
    // not changeable by an administrator
    EXPECT_THAT(store->SetSetting(kSettingLastReportRow, "0", "setting_changed", "admin", "{}"),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
  // after a restart, with the two highest numbers retracted
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, key, kRules));
  std::vector<v1::Report> c{MakeReport(5, {})};
  ASSERT_OK(store->CommitBatch(Batch(testing::Id(12), "police", c)));
  ASSERT_OK_AND_ASSIGN(Dataset d, store->LoadDataset(NoDomain));
  ASSERT_EQ(d.rows.size(), 3u);
  EXPECT_EQ(*std::max_element(d.rows.begin(), d.rows.end()), highest + 2);
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


// --- Schema 4: tokens as one blob per report, 16-byte report ids ------------------

// Runs `sql` on the database in `dir` (no foreign keys, as a plain sqlite3 shell would).
void RunSql(const std::string& dir, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir + "/aggregator.db").c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

// The first row's value of a one-column query on the store's database ("" if none).
std::string SqlValue(const std::string& dir, const std::string& sql) {
  std::vector<std::string> rows = testing::Column(dir + "/aggregator.db", sql);
  return rows.empty() ? "" : rows.front();
}

// The schema-3 tables as release 3 created them, with one batch: report 1 (two tokens,
// rules 1 and 3), report 2 (no token), and report 5 retracted.
std::string SchemaThreeSql(const std::string& report1_id) {
  return absl::StrCat(R"sql(
PRAGMA auto_vacuum = INCREMENTAL;
CREATE TABLE rules(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE batches(batch_id TEXT PRIMARY KEY, agency TEXT NOT NULL, digest BLOB NOT NULL,
  received_at INTEGER NOT NULL, report_count INTEGER NOT NULL, accepted INTEGER NOT NULL,
  duplicates INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE reports(id INTEGER PRIMARY KEY, report_id TEXT NOT NULL UNIQUE,
  agency TEXT NOT NULL, batch_id TEXT NOT NULL REFERENCES batches(batch_id),
  signal_month INTEGER NOT NULL, form INTEGER NOT NULL, contact INTEGER NOT NULL,
  age_band INTEGER NOT NULL, gender INTEGER NOT NULL, background INTEGER NOT NULL,
  living_situation INTEGER NOT NULL, recruitment_location INTEGER NOT NULL,
  coercion INTEGER NOT NULL, forced_crime INTEGER NOT NULL, area TEXT NOT NULL,
  key_epoch INTEGER NOT NULL DEFAULT 0);
CREATE TABLE tokens(report INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
  rule INTEGER NOT NULL REFERENCES rules(id), token BLOB NOT NULL CHECK(length(token) = 32));
CREATE INDEX tokens_by_report ON tokens(report);
CREATE TABLE retracted(report_id TEXT PRIMARY KEY, agency TEXT NOT NULL, at INTEGER NOT NULL)
  WITHOUT ROWID;
CREATE TABLE audit(seq INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, event TEXT NOT NULL,
  actor TEXT NOT NULL, details TEXT NOT NULL, prev_hash BLOB NOT NULL, hash BLOB NOT NULL,
  signature BLOB NOT NULL);
CREATE TABLE settings(name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
INSERT INTO rules(id, name) VALUES (1, 'nid'), (2, 'name_dob'), (3, 'phone');
INSERT INTO batches VALUES ('b1', 'police', x'00', 1700000000, 2, 2, 0);
INSERT INTO reports VALUES (7, ')sql", report1_id, R"sql(', 'police', 'b1', 202403, 2, 0, 3, 0, 0,
  0, 0, 6, 0, 'oost', 1);
INSERT INTO reports VALUES (9, ')sql", testing::Id(2), R"sql(', 'police', 'b1', 202404, 0, 0, 0, 0, 0,
  0, 0, 0, 0, '', 1);
INSERT INTO tokens VALUES (7, 3, x')sql", std::string(64, '3'), R"sql(');
INSERT INTO tokens VALUES (7, 1, x')sql", std::string(64, '1'), R"sql(');
INSERT INTO retracted VALUES (')sql", testing::Id(5), R"sql(', 'police', 1700000001);
PRAGMA user_version = 3;
)sql");
}

uint64_t FingerprintOf(char byte) {
  const std::string t(32, byte);
  return TokenFingerprint(reinterpret_cast<const uint8_t*>(t.data()));
}

TEST(StoreTest, UpgradesASchemaThreeDatabaseBuiltBySql) {
  std::string dir = FreshDir("store_v3_sql") + "/data";
  std::filesystem::create_directories(dir);
  RunSql(dir, SchemaThreeSql(testing::Id(1)));
  auto key = Key();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, key, kRules));
  EXPECT_EQ(SqlValue(dir, "PRAGMA user_version"), absl::StrCat(kSchemaVersion));
  EXPECT_EQ(SqlValue(dir, "SELECT count(*) FROM sqlite_schema WHERE name = 'tokens'"), "0");
  EXPECT_EQ(SqlValue(dir, "SELECT hex(report_id) FROM report_ids WHERE id = 7"),
            "00000000000000000000000000000001");
  // Rule byte and token, in the order of the token rows (sealed since version 8: opened).
  const std::vector<testing::OpenedRow> opened = testing::OpenedRows(dir + "/aggregator.db", key);
  ASSERT_EQ(opened.size(), 2u);
  EXPECT_EQ(opened[0].id, 7);
  EXPECT_EQ(crypto::ToHex(opened[0].tokens),
            absl::StrCat("0300", std::string(64, '3'), "0100", std::string(64, '1')));
  EXPECT_EQ(*store->CountRows("tokens"), 2);

  ASSERT_OK_AND_ASSIGN(Dataset d, store->LoadDataset(NoDomain));
  ASSERT_EQ(d.reports.size(), 2u);
  EXPECT_EQ(d.reports[0].signal_month, 202403u);
  EXPECT_EQ(d.reports[0].form, 2);
  EXPECT_EQ(d.reports[0].age_band, 3);
  EXPECT_EQ(d.reports[0].coercion, 6u);
  EXPECT_TRUE(d.reports[0].has_token);
  EXPECT_FALSE(d.reports[1].has_token);
  ASSERT_EQ(d.tokens.size(), 2u);
  EXPECT_EQ(d.tokens.report(0), 0u);
  EXPECT_EQ(d.tokens.rule(0), 3);
  EXPECT_EQ(d.tokens.fingerprint(0), FingerprintOf('\x33'));
  EXPECT_EQ(d.tokens.rule(1), 1);
  EXPECT_EQ(d.tokens.fingerprint(1), FingerprintOf('\x11'));
  EXPECT_EQ(d.rules[1], "nid");
  EXPECT_EQ(d.rules[3], "phone");

  // The converted ids behave as before: duplicate, retracted, another agency's.
  std::vector<v1::Report> again{MakeReport(1, {}), MakeReport(5, {}), MakeReport(6, {})};
  ASSERT_OK_AND_ASSIGN(CommitResult c, store->CommitBatch(Batch(testing::Id(20), "police", again)));
  EXPECT_EQ(c.duplicates, 1u);
  EXPECT_EQ(c.accepted, 1u);
  ASSERT_EQ(c.refused.size(), 1u);
  EXPECT_EQ(c.refused[0].index, 1u);
  EXPECT_EQ(c.refused[0].code, absl::StatusCode::kFailedPrecondition);
  std::vector<v1::Report> taken{MakeReport(2, {})};
  ASSERT_OK_AND_ASSIGN(c, store->CommitBatch(Batch(testing::Id(21), "zorg", taken)));
  ASSERT_EQ(c.refused.size(), 1u);
  EXPECT_EQ(c.refused[0].code, absl::StatusCode::kAlreadyExists);
  ASSERT_OK_AND_ASSIGN(RetractResult rr, store->Retract("police", {testing::Id(1)}, 2));
  EXPECT_EQ(rr.retracted, 1u);
  EXPECT_EQ(*store->CountRows("tokens"), 0);
}

TEST(StoreTest, AFailedUpgradeLeavesTheSchemaThreeDatabaseUnchanged) {
  std::string dir = FreshDir("store_v3_bad") + "/data";
  std::filesystem::create_directories(dir);
  RunSql(dir, SchemaThreeSql("not-a-hex-report-id"));
  auto key = Key();
  EXPECT_THAT(Store::Open(dir, key, kRules),
              StatusIs(absl::StatusCode::kInternal, "not 32 lower-case hex characters"));
  EXPECT_EQ(SqlValue(dir, "PRAGMA user_version"), "3");
  EXPECT_EQ(SqlValue(dir, "SELECT count(*) FROM tokens"), "2");
  EXPECT_EQ(SqlValue(dir, "SELECT report_id FROM reports WHERE id = 7"), "not-a-hex-report-id");
}

TEST(StoreTest, SchemaThreeRoundTripKeepsEveryReportAndToken) {
  std::string dir = FreshDir("store_v3_roundtrip") + "/data";
  auto key = Key();
  Dataset before;
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, key, kRules));
    std::vector<v1::Report> reports;
    for (int i = 0; i < 300; ++i) {
      std::vector<std::pair<std::string, std::string>> tokens;
      if (i % 3 != 0) tokens.push_back({"nid", Tok(i % 50)});
      if (i % 2 == 0) tokens.push_back({"phone", Tok(1000 + i)});
      if (i % 5 == 0) tokens.push_back({"name_dob", Tok(2000 + i % 7)});
      reports.push_back(MakeReport(i + 1, tokens));
    }
    ASSERT_OK(store->CommitBatch(Batch(testing::Id(1), "police", reports)));
    ASSERT_OK(store->Retract("police", {testing::Id(3)}, 5));
    ASSERT_OK_AND_ASSIGN(before, store->LoadDataset(NoDomain));
  }
  testing::DowngradeToSchemaSix(dir + "/aggregator.db", key);
  RunSql(dir, testing::kDowngradeToSchemaThree);
  ASSERT_EQ(SqlValue(dir, "PRAGMA user_version"), "3");
  ASSERT_EQ(SqlValue(dir, "SELECT count(*) FROM tokens"), std::to_string(before.tokens.size()));

  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, key, kRules));
  ASSERT_OK_AND_ASSIGN(Dataset after, store->LoadDataset(NoDomain));
  ASSERT_EQ(after.reports.size(), before.reports.size());
  ASSERT_EQ(after.tokens.size(), before.tokens.size());
  for (size_t i = 0; i < before.tokens.size(); ++i) {
    EXPECT_EQ(after.tokens.report(i), before.tokens.report(i));
    EXPECT_EQ(after.tokens.rule(i), before.tokens.rule(i));
    EXPECT_EQ(after.tokens.fingerprint(i), before.tokens.fingerprint(i));
  }
  LinkResult a = Link(static_cast<uint32_t>(after.reports.size()), after.tokens, 50, after.rules.size());
  LinkResult b = Link(static_cast<uint32_t>(before.reports.size()), before.tokens, 50, before.rules.size());
  EXPECT_EQ(a.person, b.person);
  // The retraction survived the conversion.
  std::vector<v1::Report> retracted{MakeReport(3, {})};
  ASSERT_OK_AND_ASSIGN(CommitResult c, store->CommitBatch(Batch(testing::Id(2), "police", retracted)));
  ASSERT_EQ(c.refused.size(), 1u);
  EXPECT_EQ(c.refused[0].code, absl::StatusCode::kFailedPrecondition);
}

// Schema 5: report ids in `report_ids`, no index on them; uniqueness is the store's map.
TEST(StoreTest, UpgradesASchemaFourDatabaseAndKeepsEveryIdDecision) {
  std::string dir = FreshDir("store_v4") + "/data";
  auto key = Key();
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, key, kRules));
    std::vector<v1::Report> a{MakeReport(1, {{"nid", Tok(1)}}), MakeReport(2, {}),
                              MakeReport(3, {{"phone", Tok(3)}})};
    ASSERT_OK(store->CommitBatch(Batch(testing::Id(10), "police", a)));
    ASSERT_OK(store->Retract("police", {testing::Id(2)}, 1));
  }
  testing::DowngradeToSchemaSix(dir + "/aggregator.db", key);
  RunSql(dir, testing::kDowngradeToSchemaFour);
  ASSERT_EQ(SqlValue(dir, "PRAGMA user_version"), "4");
  ASSERT_EQ(SqlValue(dir, "SELECT count(*) FROM sqlite_schema WHERE name = 'report_ids'"), "0");

  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, key, kRules));
  EXPECT_EQ(SqlValue(dir, "PRAGMA user_version"), absl::StrCat(kSchemaVersion));
  EXPECT_EQ(testing::Column(dir + "/aggregator.db", "SELECT id || ':' || hex(report_id) FROM report_ids"),
            (std::vector<std::string>{"1:00000000000000000000000000000001",
                                      "3:00000000000000000000000000000003"}));
  // No index on reports or report_ids beyond their row numbers.
  EXPECT_EQ(SqlValue(dir, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND "
                          "tbl_name IN ('reports', 'report_ids')"), "0");
  EXPECT_EQ(SqlValue(dir, "SELECT count(*) FROM pragma_table_info('reports') WHERE name = 'report_id'"), "0");
  EXPECT_EQ(*store->CountRows("tokens"), 2);
  ASSERT_OK_AND_ASSIGN(size_t held, store->LoadReportIds());
  EXPECT_EQ(held, 3u);  // two stored, one retracted

  std::vector<v1::Report> b{MakeReport(1, {}), MakeReport(2, {}), MakeReport(4, {})};
  ASSERT_OK_AND_ASSIGN(CommitResult c, store->CommitBatch(Batch(testing::Id(11), "police", b)));
  EXPECT_EQ(c.duplicates, 1u);
  EXPECT_EQ(c.accepted, 1u);
  ASSERT_EQ(c.refused.size(), 1u);
  EXPECT_EQ(c.refused[0].code, absl::StatusCode::kFailedPrecondition);
  std::vector<v1::Report> taken{MakeReport(3, {}), MakeReport(4, {})};
  ASSERT_OK_AND_ASSIGN(c, store->CommitBatch(Batch(testing::Id(12), "zorg", taken)));
  ASSERT_EQ(c.refused.size(), 2u);
  EXPECT_EQ(c.refused[0].code, absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(c.refused[1].code, absl::StatusCode::kAlreadyExists);
  // Retraction deletes the id row with its report.
  ASSERT_OK_AND_ASSIGN(RetractResult rr, store->Retract("police", {testing::Id(3)}, 2));
  EXPECT_EQ(rr.retracted, 1u);
  EXPECT_EQ(SqlValue(dir, "SELECT count(*) FROM report_ids"), "2");
  EXPECT_EQ(SqlValue(dir, "SELECT count(*) FROM report_ids WHERE id NOT IN (SELECT id FROM reports)"), "0");
}

// The report-id map follows what another process committed to the same database.
TEST(StoreTest, SeesReportIdsAnotherWriterCommitted) {
  std::string dir = FreshDir("store_two_writers") + "/data";
  auto key = Key();
  ASSERT_OK_AND_ASSIGN(auto first, Store::Open(dir, key, kRules));
  ASSERT_OK_AND_ASSIGN(auto second, Store::Open(dir, key, kRules));
  std::vector<v1::Report> one{MakeReport(1, {})};
  std::vector<v1::Report> two{MakeReport(2, {})};
  ASSERT_OK(first->CommitBatch(Batch(testing::Id(10), "police", one)));  // its map is loaded
  ASSERT_OK(second->CommitBatch(Batch(testing::Id(11), "zorg", two)));
  ASSERT_OK_AND_ASSIGN(CommitResult c, first->CommitBatch(Batch(testing::Id(12), "police", two)));
  EXPECT_EQ(c.accepted, 0u);
  ASSERT_EQ(c.refused.size(), 1u);
  EXPECT_EQ(c.refused[0].code, absl::StatusCode::kAlreadyExists);

  ASSERT_OK_AND_ASSIGN(RetractResult rr, second->Retract("police", {testing::Id(1)}, 1));
  EXPECT_EQ(rr.retracted, 1u);
  ASSERT_OK_AND_ASSIGN(c, first->CommitBatch(Batch(testing::Id(13), "police", one)));
  ASSERT_EQ(c.refused.size(), 1u);
  EXPECT_EQ(c.refused[0].code, absl::StatusCode::kFailedPrecondition);
  ASSERT_OK_AND_ASSIGN(rr, first->Retract("zorg", {testing::Id(2)}, 2));
  EXPECT_EQ(rr.retracted, 1u);
  EXPECT_EQ(*first->CountRows("reports"), 0);
  EXPECT_EQ(*first->CountRows("report_ids"), 0);
  // A retraction is the first write after the other's commit: it too sees the new id.
  std::vector<v1::Report> three{MakeReport(3, {})};
  ASSERT_OK(second->CommitBatch(Batch(testing::Id(14), "zorg", three)));
  ASSERT_OK_AND_ASSIGN(rr, first->Retract("zorg", {testing::Id(3)}, 3));
  EXPECT_EQ(rr.retracted, 1u);
  EXPECT_TRUE(rr.not_found.empty());
}

// A purged report's id is free again (as before schema 5); the others stay known.
TEST(StoreTest, PurgedReportIdsLeaveTheMap) {
  std::string dir = FreshDir("store_purge_ids") + "/data";
  auto key = Key();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, key, kRules));
  std::vector<v1::Report> a{MakeReport(1, {}, v1::FORM_UNSPECIFIED, 202001),
                            MakeReport(2, {}, v1::FORM_UNSPECIFIED, 202401)};
  ASSERT_OK(store->CommitBatch(Batch(testing::Id(10), "police", a)));
  ASSERT_OK_AND_ASSIGN(PurgeResult p, store->Purge(202101, 0, "test"));
  EXPECT_EQ(p.reports, 1);
  EXPECT_EQ(*store->CountRows("report_ids"), 1);
  ASSERT_OK_AND_ASSIGN(CommitResult c, store->CommitBatch(Batch(testing::Id(11), "police", a)));
  EXPECT_EQ(c.accepted, 1u);
  EXPECT_EQ(c.duplicates, 1u);
  EXPECT_EQ(*store->CountRows("reports"), 2);
}

// A database holding one report id twice (only possible by hand: there is no index) is
// refused by name rather than deduplicated wrongly.
TEST(StoreTest, RefusesAReportIdHeldTwice) {
  std::string dir = FreshDir("store_id_twice") + "/data";
  auto key = Key();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, key, kRules));
  std::vector<v1::Report> a{MakeReport(1, {}), MakeReport(2, {})};
  ASSERT_OK(store->CommitBatch(Batch(testing::Id(10), "police", a)));
  RunSql(dir, "UPDATE report_ids SET report_id = (SELECT report_id FROM report_ids WHERE id = 1) "
              "WHERE id = 2");
  std::vector<v1::Report> b{MakeReport(3, {})};
  EXPECT_THAT(store->CommitBatch(Batch(testing::Id(11), "police", b)),
              StatusIs(absl::StatusCode::kDataLoss, "a report id is held twice (report_ids row 2"));
  EXPECT_EQ(*store->CountRows("reports"), 2);
}

// Batch number `b`: 200 reports (ids 200 * b + 1 on), each with two tokens.
void CommitNumberedBatch(Store* store, int b) {
  std::vector<v1::Report> reports;
  for (int i = 0; i < 200; ++i) {
    const int id = 200 * b + i + 1;
    reports.push_back(MakeReport(id, {{"nid", Tok(id)}, {"phone", Tok(id + 1000000)}}));
  }
  ASSERT_OK(store->CommitBatch(Batch(testing::Id(900000 + b), "police", reports)));
}

// Batches 0 to n - 1.
void CommitBatches(Store* store, int n) {
  for (int b = 0; b < n; ++b) CommitNumberedBatch(store, b);
}

uintmax_t FileSize(const std::string& path) {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

// The writer checkpoints itself once the WAL holds the inline limit, so the WAL starts over
// and stays small however much is written (without it, 100 batches make a WAL of ~6 MB).
TEST(StoreTest, TheWalStaysNearTheInlineCheckpointLimit) {
  std::string dir = FreshDir("store_wal_bound") + "/data";
  auto key = Key();
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, key, kRules));
    store->SetCheckpointPages(1 << 30, 80);  // no background checkpoint
    CommitBatches(store.get(), 100);
    EXPECT_LT(FileSize(dir + "/aggregator.db-wal"), 1u << 20);  // 80 pages and one batch's
    EXPECT_GT(FileSize(dir + "/aggregator.db"), 2u << 20);     // the reports reached the file
  }
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, key, kRules));
  EXPECT_EQ(*store->CountRows("reports"), 20000);
  EXPECT_EQ(*store->CountRows("report_ids"), 20000);
  EXPECT_EQ(*store->CountRows("tokens"), 40000);
}

// Below the inline limit, the checkpoint thread copies the WAL into the database file.
TEST(StoreTest, TheCheckpointThreadCopiesTheWal) {
  std::string dir = FreshDir("store_wal_thread") + "/data";
  auto key = Key();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, key, kRules));
  store->SetCheckpointPages(1 << 30, 1 << 30);  // no checkpoint at all
  CommitBatches(store.get(), 20);
  const uintmax_t before = FileSize(dir + "/aggregator.db");
  EXPECT_LT(before, 64u << 10);  // everything is still in the WAL (~1.2 MB)
  store->SetCheckpointPages(1, 1 << 30);  // background only
  std::vector<v1::Report> one{MakeReport(999999, {})};
  ASSERT_OK(store->CommitBatch(Batch(testing::Id(999999), "police", one)));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (FileSize(dir + "/aggregator.db") < (512u << 10) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(FileSize(dir + "/aggregator.db"), 512u << 10);  // the 4,001 reports take ~650 KB
  EXPECT_EQ(*store->CountRows("reports"), 4001);
}

// ReclaimSpace empties the WAL (copies of the deleted rows' pages) even while the checkpoint
// thread is busy: it waits for the thread, and says so when a reader keeps the WAL.
TEST(StoreTest, ReclaimSpaceEmptiesTheWalWhileTheThreadCheckpoints) {
  std::string dir = FreshDir("store_reclaim_wal") + "/data";
  auto key = Key();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, key, kRules));
  store->SetCheckpointPages(1, 1 << 30);  // a background checkpoint after every commit
  for (int round = 0; round < 20; ++round) {
    CommitNumberedBatch(store.get(), round);
    ASSERT_OK(store->ReclaimSpace()) << "round " << round;
    ASSERT_EQ(FileSize(dir + "/aggregator.db-wal"), 0u) << "round " << round;
  }
  // A reader holding a snapshot keeps the WAL: the call says so instead of returning OK.
  std::vector<v1::Report> more{MakeReport(999999, {})};
  ASSERT_OK(store->CommitBatch(Batch(testing::Id(599999), "police", more)));
  sqlite3* reader = nullptr;
  ASSERT_EQ(sqlite3_open((dir + "/aggregator.db").c_str(), &reader), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(reader, "BEGIN; SELECT count(*) FROM reports;", nullptr, nullptr, nullptr), SQLITE_OK);
  std::vector<v1::Report> last{MakeReport(999998, {})};
  ASSERT_OK(store->CommitBatch(Batch(testing::Id(599998), "police", last)));
  EXPECT_THAT(store->ReclaimSpace(), StatusIs(absl::StatusCode::kUnavailable, "could not be emptied"));
  sqlite3_exec(reader, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(reader);
  EXPECT_OK(store->ReclaimSpace());
  EXPECT_EQ(FileSize(dir + "/aggregator.db-wal"), 0u);
}

// A report deleted on a connection without foreign keys (the sqlite3 shell's default) takes
// its id row with it, so ingest goes on.
TEST(StoreTest, AReportDeletedByHandTakesItsIdRow) {
  std::string dir = FreshDir("store_hand_delete") + "/data";
  auto key = Key();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, key, kRules));
  std::vector<v1::Report> a{MakeReport(1, {}), MakeReport(2, {})};
  ASSERT_OK(store->CommitBatch(Batch(testing::Id(10), "police", a)));
  RunSql(dir, "PRAGMA foreign_keys = OFF; DELETE FROM reports WHERE id = 2");
  EXPECT_EQ(SqlValue(dir, "SELECT count(*) FROM report_ids"), "1");
  std::vector<v1::Report> b{MakeReport(2, {}), MakeReport(3, {})};
  ASSERT_OK_AND_ASSIGN(CommitResult c, store->CommitBatch(Batch(testing::Id(11), "police", b)));
  EXPECT_EQ(c.accepted, 2u);
  EXPECT_EQ(*store->CountRows("reports"), 3);
}

TEST(StoreTest, TokensAreOneBlobPerReportWithTheRuleByte) {
  std::string dir = FreshDir("store_blob") + "/data";
  auto key = Key();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, key, kRules));
  std::vector<v1::Report> reports{MakeReport(1, {{"phone", Tok(1)}, {"nid", Tok(2)}}), MakeReport(2, {})};
  ASSERT_OK(store->CommitBatch(Batch(testing::Id(1), "police", reports)));
  EXPECT_EQ(SqlValue(dir, "SELECT count(*) FROM sqlite_schema WHERE name = 'tokens'"), "0");
  EXPECT_EQ(SqlValue(dir, "SELECT length(report_id) FROM report_ids WHERE id = 1"), "16");
  // Rule words (little-endian): phone is rules.id 7, nid 1 (each rule has three rows, one
  // per role, in profile order); flag bits clear; the tokens are re-keyed. On disk the blob
  // is sealed (nonce and tag: 40 bytes more); opened with the key it is the 68 bytes.
  EXPECT_EQ(SqlValue(dir, "SELECT length(tokens) FROM reports WHERE id = 1"), "108");
  const std::vector<testing::OpenedRow> opened = testing::OpenedRows(dir + "/aggregator.db", key);
  ASSERT_EQ(opened.size(), 2u);
  ASSERT_EQ(opened[0].tokens.size(), 68u);
  EXPECT_EQ(crypto::ToHex(opened[0].tokens.substr(0, 2)) + crypto::ToHex(opened[0].tokens.substr(34, 2)),
            "07000100");
  EXPECT_NE(crypto::ToHex(opened[0].tokens.substr(2, 32)), crypto::ToHex(Tok(1)));
  EXPECT_EQ(SqlValue(dir, "SELECT length(tokens) FROM reports WHERE id = 2"), "0");
}

TEST(StoreTest, RefusesMoreRulesThanTheRuleWordHolds) {
  std::string dir = FreshDir("store_many_rules") + "/data";
  auto key = Key();
  { ASSERT_OK(Store::Open(dir, key, kRules)); }
  // A store whose rules (three rows each, one per role) used up the 14 bits of the rule word.
  RunSql(dir, absl::StrCat("INSERT INTO rules(id, name) VALUES (", kMaxStoredRuleId, ", 'old')"));
  std::vector<std::string> rules = kRules;
  rules.push_back("new_rule");
  EXPECT_THAT(Store::Open(dir, key, rules),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       absl::StrCat("at most ", kMaxStoredRuleId, " rule rows")));
  ASSERT_OK(Store::Open(dir, key, kRules));  // the rules it has still work
}

// The store's SQLite errors go through the one mapping (common/sqlite): a write lock another
// connection holds past the busy timeout makes a write Unavailable (it was Internal), so the
// caller may try again; nothing is written.
TEST(StoreTest, AWriteLockHeldElsewhereIsUnavailable) {
  std::string dir = FreshDir("store_locked") + "/data";
  auto key = Key();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, key, kRules));
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open((dir + "/aggregator.db").c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_THAT(store->Retract("police", {testing::Id(1)}, 1),
              StatusIs(absl::StatusCode::kUnavailable));  // after the 10 s busy timeout
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  EXPECT_OK(store->Retract("police", {testing::Id(1)}, 1).status());
}

}  // namespace
}  // namespace samenzicht::aggregator
