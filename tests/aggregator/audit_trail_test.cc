// The audit trail of a real, running aggregator: what is recorded, that nothing sensitive
// is, and that `audit verify` finds every kind of tampering and names the entry.
#include <filesystem>
#include <fstream>

#include "audit/aggregator_events.h"
#include "aggregator/audit_store.h"
#include "common/sqlite/sqlite.h"
#include "crypto/encoding.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/aggregator/audit_fixture.h"

namespace samenzicht::aggregator {
namespace {

using samenzicht::testing::StatusIs;
using testing::Id;
using testing::MakeReport;
using testing::Tok;
namespace fs = std::filesystem;

class AuditTrailTest : public testing::AuditServerTest {
 protected:
  // Months released by now from the reports' month (MakeReport: 2024-01) on, each frozen
  // with a `disclosure_release` entry at the first query (grace one month).
  static int ReleasedMonths() {
    const absl::CivilMonth now = absl::ToCivilMonth(absl::Now(), absl::UTCTimeZone());
    return static_cast<int>((now.year() - 2024) * 12 + now.month() - 1 - 2 + 1);
  }

  // A trail with every kind of event: batches, a partly refused batch, a refused batch,
  // the freeze of the released months, a query, a retraction of a report of a released
  // month (with the departure it causes, recorded in the same transaction), start and stop.
  void MakeTrail() {
    std::vector<v1::BatchAck> acks;
    ASSERT_TRUE(Submit("police", {PoliceBatch({MakeReport(1, {{"nid", Tok(1)}}, v1::FORM_SEXUAL),
                                               MakeReport(2, {{"phone", Tok(2)}}, v1::FORM_LABOUR),
                                               MakeReport(3, {}, v1::FORM_SEXUAL)})},
                       &acks).ok());
    ASSERT_TRUE(Submit("zorg", {ZorgBatch({MakeReport(11, {{"nid", Tok(1)}}, v1::FORM_CRIMINAL),
                                           MakeReport(12, {{"nid", std::string(5, 'x')}})})},
                       &acks).ok());
    auto bad = MakePayloadFor("police", {MakeReport(20, {{"nid", Tok(20)}})});
    ASSERT_TRUE(Submit("police", {testing::Sign(*zorg_signer_, bad)}, &acks).ok());
    ASSERT_EQ(acks.size(), 3u);
    v1::TotalsResponse t;
    ASSERT_TRUE(Totals("gemeente", &t, {v1::DIMENSION_FORM}).ok());
    v1::RetractResponse rr;
    ASSERT_TRUE(Retract("police", {Id(2), Id(99)}, &rr).ok());
    ASSERT_EQ(rr.retracted(), 1u);
    StopServer();
  }

  v1::BatchPayload MakePayloadFor(const std::string& node, std::vector<v1::Report> reports) {
    return testing::MakePayload(node, profile_, testing::kAuditEpoch, std::move(reports));
  }

  std::vector<audit::Entry> Entries() {
    auto t = ReadTrail(data_dir_);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? t->entries : std::vector<audit::Entry>{};
  }

  std::string LastCheckpointFile() {
    std::string last;
    for (const auto& e : fs::directory_iterator(data_dir_ + "/checkpoints")) {
      if (e.path().string() > last) last = e.path().string();
    }
    return last;
  }

  absl::StatusOr<VerifyOutcome> Verify(bool with_checkpoint = true) {
    VerifyOptions o;
    o.public_key_b64 = audit_public_key_;
    if (with_checkpoint) o.checkpoint_files.push_back(kept_checkpoint_);
    return VerifyTrail(data_dir_, o);
  }

  // Copies the newest checkpoint out of the system, as the privacy officer does.
  void KeepCheckpoint() {
    kept_checkpoint_ = dir_ + "/kept.checkpoint";
    fs::copy_file(LastCheckpointFile(), kept_checkpoint_, fs::copy_options::overwrite_existing);
  }

  std::string kept_checkpoint_;
};

TEST_F(AuditTrailTest, RecordsEveryEventWithItsCounts) {
  MakeTrail();
  std::vector<audit::Entry> e = Entries();
  std::vector<std::string> events;
  int releases = 0;
  for (const auto& x : e) {
    // The query's snapshot freezes every released month first (Cell Key Method), each
    // with its own entry.
    if (x.event == "disclosure_release") {
      ++releases;
      EXPECT_EQ(events.back(), "batch_refused");
      continue;
    }
    events.push_back(x.event);
  }
  EXPECT_EQ(releases, ReleasedMonths());
  EXPECT_THAT(events, ::testing::ElementsAre("configuration_change", "key_epoch_change", "start",
                                             "batch_received", "batch_received", "batch_refused",
                                             "query", "retraction", "disclosure_departure",
                                             "stop"));
  auto find = [&](const std::string& ev, const std::string& actor) -> std::string {
    for (const auto& x : e) {
      if (x.event == ev && x.actor == actor) return x.details;
    }
    return "";
  };
  using ::testing::HasSubstr;
  std::string police = find("batch_received", "police");
  EXPECT_THAT(police, HasSubstr("\"reports\":3,\"accepted\":3,\"duplicates\":0,\"refused\":0"));
  EXPECT_THAT(police, HasSubstr("\"batch_digest\":\""));
  EXPECT_THAT(police, ::testing::Not(HasSubstr("node_signature")));
  EXPECT_THAT(find("batch_received", "zorg"), HasSubstr("\"accepted\":1,\"duplicates\":0,\"refused\":1"));
  EXPECT_THAT(find("batch_refused", "police"), HasSubstr("\"code\":\"UNAUTHENTICATED\""));
  std::string query = find("query", "gemeente");
  EXPECT_THAT(query, HasSubstr("\"by\":\"form\""));
  EXPECT_THAT(query, HasSubstr("\"method\":\"cell_key\""));
  EXPECT_THAT(query, HasSubstr("\"answered\":true"));
  EXPECT_THAT(query, HasSubstr("\"role\":\"analyst\""));
  EXPECT_THAT(find("retraction", "police"),
              HasSubstr("\"requested\":2,\"retracted\":1,\"not_found\":1"));
  EXPECT_EQ(find("disclosure_departure", "aggregator"),
            "{\"month\":\"2024-01\",\"agency\":\"police\",\"reports\":1}");
  // Every entry verifies with the audit key.
  ASSERT_OK_AND_ASSIGN(VerifyOutcome v, Verify(false));
  EXPECT_EQ(v.entries, e.size());
}

TEST_F(AuditTrailTest, HoldsNoTokenAndNoIdentifier) {
  MakeTrail();
  std::string all;
  for (const auto& x : Entries()) all += x.event + "|" + x.actor + "|" + x.details + "\n";
  for (int t : {1, 2, 20}) {
    for (const std::string& needle :
         {Tok(t), crypto::Base64Encode(Tok(t)), crypto::ToHex(Tok(t)), Tok(t).substr(0, 16),
          crypto::ToHex(Tok(t)).substr(0, 32)}) {
      EXPECT_EQ(all.find(needle), std::string::npos) << "token " << t << " in the trail";
    }
  }
  // Nor the report ids (random, but they belong to the agency's map). Category words appear
  // only as the keys of suppressed cells of a query.
  for (int id : {1, 2, 3, 11, 12, 20}) EXPECT_EQ(all.find(Id(id)), std::string::npos);
  // The checkpoint files hold a hash, a key and a signature only.
  for (const auto& f : fs::directory_iterator(data_dir_ + "/checkpoints")) {
    std::ifstream in(f.path());
    std::string line;
    std::getline(in, line);
    EXPECT_OK(audit::Checkpoint::Parse(line));
  }
}

TEST_F(AuditTrailTest, AnUntouchedTrailVerifies) {
  MakeTrail();
  KeepCheckpoint();
  ASSERT_OK_AND_ASSIGN(VerifyOutcome v, Verify());
  EXPECT_EQ(v.entries, 10u + ReleasedMonths());
  EXPECT_EQ(v.checkpoints_checked, 1);
  EXPECT_EQ(v.trust_source, "--public-key");
  // The key found in the data directory is used only with a warning.
  ASSERT_OK_AND_ASSIGN(v, VerifyTrail(data_dir_, {}));
  EXPECT_EQ(v.trust_source, "data directory");
  ASSERT_FALSE(v.warnings.empty());
  EXPECT_THAT(v.warnings[0], ::testing::HasSubstr("trusted only because it was found there"));
  // The checkpoint alone is a trust anchor too.
  VerifyOptions o;
  o.checkpoint_files = {kept_checkpoint_};
  ASSERT_OK_AND_ASSIGN(v, VerifyTrail(data_dir_, o));
  EXPECT_EQ(v.trust_source, "checkpoint");
  // A restart continues the same chain.
  StartServer();
  StopServer();
  ASSERT_OK_AND_ASSIGN(v, Verify());
  EXPECT_EQ(v.entries, 12u + ReleasedMonths());
}

TEST_F(AuditTrailTest, AModifiedEntryIsNamed) {
  MakeTrail();
  KeepCheckpoint();
  Sql("UPDATE audit SET details = replace(details, '\"accepted\":3', '\"accepted\":2') WHERE seq = 4");
  EXPECT_THAT(Verify(), StatusIs(absl::StatusCode::kDataLoss, "entry 4: content does not match"));
}

TEST_F(AuditTrailTest, ADeletedEntryIsNamed) {
  MakeTrail();
  KeepCheckpoint();
  Sql("DELETE FROM audit WHERE seq = 6");
  EXPECT_THAT(Verify(), StatusIs(absl::StatusCode::kDataLoss, "entry 7 (position 6): expected entry 6"));
}

TEST_F(AuditTrailTest, AnInsertedEntryIsNamed) {
  MakeTrail();
  KeepCheckpoint();
  // Make room after entry 4 and insert a well-formed entry chained to it, re-hashed, but
  // signed with another key (the forger does not hold the audit key).
  std::vector<audit::Entry> e = Entries();
  auto forger = *crypto::Signer::Generate();
  audit::AuditChain chain(forger.get(), e[3].seq, e[3].hash);
  audit::Entry fake = chain.Next("retraction", "police", "{\"retracted\":0}", e[3].time_ms + 1);
  Sql("UPDATE audit SET seq = -seq WHERE seq >= 5; UPDATE audit SET seq = 1 - seq WHERE seq < 0;");
  Sql("INSERT INTO audit VALUES (5, " + std::to_string(fake.time_ms) +
      ", 'retraction', 'police', '{\"retracted\":0}', x'" + crypto::ToHex(fake.prev_hash) + "', x'" +
      crypto::ToHex(fake.hash) + "', x'" + crypto::ToHex(fake.signature) + "')");
  EXPECT_THAT(Verify(), StatusIs(absl::StatusCode::kDataLoss, "entry 5: signature does not verify"));
}

TEST_F(AuditTrailTest, ReorderedEntriesAreNamed) {
  MakeTrail();
  KeepCheckpoint();
  Sql("UPDATE audit SET seq = -1 WHERE seq = 5; UPDATE audit SET seq = 5 WHERE seq = 6; "
      "UPDATE audit SET seq = 6 WHERE seq = -1;");
  EXPECT_THAT(Verify(), StatusIs(absl::StatusCode::kDataLoss, "entry 5: does not chain"));
}

TEST_F(AuditTrailTest, ATruncatedTailIsFoundAgainstAKeptCheckpoint) {
  MakeTrail();
  KeepCheckpoint();
  Sql("DELETE FROM audit WHERE seq >= 8");
  // Without the kept checkpoint nothing can tell (the officer is warned)...
  ASSERT_OK_AND_ASSIGN(VerifyOutcome v, Verify(false));
  EXPECT_EQ(v.entries, 7u);
  EXPECT_THAT(v.warnings.back(), ::testing::HasSubstr("cannot be detected"));
  // ...with it, the truncation is named.
  EXPECT_THAT(Verify(), StatusIs(absl::StatusCode::kDataLoss, "ends at entry 7"));
}

TEST_F(AuditTrailTest, ARewrittenTrailSignedWithAnotherKeyIsRefused) {
  MakeTrail();
  KeepCheckpoint();
  // Re-sign the whole trail with a new key and store that key in the data folder.
  std::vector<audit::Entry> e = Entries();
  auto forger = *crypto::Signer::Generate();
  audit::AuditChain chain(forger.get(), 0, "");
  std::string sql;
  for (auto& x : e) {
    if (x.event == "retraction") x.details = "{}";
    audit::Entry n = chain.Next(x.event, x.actor, x.details, x.time_ms);
    chain.Commit(n);
    std::string quoted;
    for (char c : n.details) quoted += c == '\'' ? std::string("''") : std::string(1, c);
    sql += "UPDATE audit SET details = '" + quoted + "', prev_hash = x'" + crypto::ToHex(n.prev_hash) +
           "', hash = x'" + crypto::ToHex(n.hash) + "', signature = x'" + crypto::ToHex(n.signature) +
           "' WHERE seq = " + std::to_string(n.seq) + ";";
  }
  sql += "UPDATE settings SET value = '" + crypto::Base64Encode(forger->public_key()) +
         "' WHERE name = 'audit_public_key';";
  Sql(sql);
  // Trusting the data folder is fooled -- which is why it warns...
  EXPECT_OK(VerifyTrail(data_dir_, {}));
  // ...the real key and the kept checkpoint are not.
  EXPECT_THAT(Verify(false), StatusIs(absl::StatusCode::kDataLoss, "entry 1: signature"));
  VerifyOptions o;
  o.checkpoint_files = {kept_checkpoint_};
  EXPECT_THAT(VerifyTrail(data_dir_, o), StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(AuditTrailTest, RetractionIsImmediateAndInTheTrail) {
  std::vector<v1::BatchAck> acks;
  ASSERT_TRUE(Submit("police", {PoliceBatch({MakeReport(1, {{"nid", Tok(1)}}),
                                             MakeReport(2, {{"nid", Tok(2)}}),
                                             MakeReport(3, {{"nid", Tok(3)}}),
                                             MakeReport(4, {{"nid", Tok(4)}})})},
                     &acks).ok());
  EXPECT_EQ(Counts(), std::make_pair(uint64_t{4}, uint64_t{4}));
  v1::RetractResponse rr;
  ASSERT_TRUE(Retract("police", {Id(1), Id(2)}, &rr).ok());
  EXPECT_EQ(rr.retracted(), 2u);
  EXPECT_EQ(Counts(), std::make_pair(uint64_t{2}, uint64_t{2}));  // at once, no restart
  ASSERT_OK_AND_ASSIGN(int64_t tokens, server_->store()->CountRows("tokens"));
  EXPECT_EQ(tokens, 2);  // deleted, not flagged
  v1::GetTrailResponse trail;
  ASSERT_TRUE(v1::Audit::NewStub(Channel("fg"))
                  ->GetTrail(Ctx().get(), v1::GetTrailRequest(), &trail)
                  .ok());
  bool found = false;
  for (const auto& e : trail.entries()) {
    if (e.event() == "retraction") {
      found = true;
      EXPECT_EQ(e.actor(), "police");
      EXPECT_THAT(e.details_json(), ::testing::HasSubstr("\"retracted\":2"));
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(AuditTrailTest, ReportSummarisesPerAgencyAndAnalyst) {
  MakeTrail();
  ASSERT_OK_AND_ASSIGN(Trail t, ReadTrail(data_dir_));
  ReportOptions o;
  o.format = "csv";
  ASSERT_OK_AND_ASSIGN(std::string csv, AuditReport(t.entries, o));
  std::string month = MonthText(MonthOfMs(t.entries[0].time_ms));
  EXPECT_THAT(csv, ::testing::HasSubstr("month,party,batches,reports,accepted,duplicates,"
                                        "refused_reports,batches_refused,retractions,retracted,"
                                        "queries,suppressed_cells,purges,purged_reports,left_released\n"));
  EXPECT_THAT(csv, ::testing::HasSubstr(month + ",police,1,3,3,0,0,1,1,1,0,0,0,0,1\n"));
  EXPECT_THAT(csv, ::testing::HasSubstr(month + ",zorg,1,2,1,0,1,0,0,0,0,0,0,0,0\n"));
  EXPECT_THAT(csv, ::testing::HasSubstr(month + ",gemeente,0,0,0,0,0,0,0,0,1,"));
  o.format = "json";
  ASSERT_OK_AND_ASSIGN(std::string json, AuditReport(t.entries, o));
  EXPECT_THAT(json, ::testing::HasSubstr("\"party\":\"police\",\"batches\":1,\"reports\":3"));
  o.format = "table";
  ASSERT_OK_AND_ASSIGN(std::string table, AuditReport(t.entries, o));
  EXPECT_THAT(table, ::testing::HasSubstr("police"));
  o.from_month = 209901;
  ASSERT_OK_AND_ASSIGN(csv, AuditReport(t.entries, {.from_month = 209901, .format = "csv"}));
  EXPECT_EQ(csv.find("police"), std::string::npos);
  EXPECT_THAT(AuditReport(t.entries, {.format = "xml"}), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(AuditTrailTest, AnotherAuditKeyIsRefusedAtStart) {
  StopServer();
  std::filesystem::remove(dir_ + "/audit2.key");
  ASSERT_OK(crypto::GenerateKeyFile(dir_ + "/audit2.key", crypto::KeyKind::kSigning));
  config_.set_audit_key_file(dir_ + "/audit2.key");
  EXPECT_THAT(Server::Start(config_), StatusIs(absl::StatusCode::kFailedPrecondition, "one key"));
}


// A trail in the shapes earlier versions of the aggregator wrote, entry for entry, beside
// today's: a batch_received with the node's signature and without token counts, a query
// with its grouping as a list and a count of suppressed cells, a purge and a key retirement
// without the request's role. Stored in an aggregator.db, it verifies offline, reads back
// byte for byte, and the privacy officer's report counts it as the reader of that time did
// (every number read by its key, a missing one as 0).
TEST(AuditTrailCompatTest, ATrailInTheShapesOfEarlierVersionsVerifiesAndIsReportedAsBefore) {
  const std::string dir = testing::TestDir("audit_compat");
  { ASSERT_OK(testing::OpenTestStore(dir, testing::TestProfile()).status()); }
  const std::string data_dir = dir + "/data";
  struct Written {
    const char* event;
    const char* actor;
    const char* details;
  };
  const std::vector<Written> written = {
      {"start", "aggregator", R"({"config_digest":"d1","key_epoch":1,"retention_months":24,"agencies":2})"},
      {"batch_received", "police",
       R"({"agency":"police","batch_id":"b-1","reports":10,"accepted":7,"duplicates":2,"refused":1,)"
       R"("key_epoch":1,"replaced":0,"batch_digest":"ab12","node_signature":"c2lnbmF0dXJl"})"},
      {"batch_received", "zorg",
       R"({"agency":"zorg","batch_id":"b-2","reports":4,"accepted":3,"duplicates":0,"refused":1,)"
       R"("key_epoch":1,"replaced":0,"corrected":0,"tokens":12,"max_tokens_per_report":4,)"
       R"("reports_beyond_profile":0,"batch_digest":"cd34"})"},
      {"batch_refused", "police",
       R"({"agency":"police","batch_id":"b-3","code":"FAILED_PRECONDITION",)"
       R"("reason":"key epoch 2 is not in use","batch_digest":"ef56"})"},
      {"retraction", "police", R"({"agency":"police","requested":3,"retracted":2,"not_found":1})"},
      {"query", "gemeente",
       R"({"role":"analyst","by":["form","age_band"],"from":"2024-01","to":"2024-03","rows":4,)"
       R"("suppressed":2,"suppressed_cells":["total_persons","unlinkable_signals"]})"},
      {"query", "gemeente",
       R"({"role":"analyst","via":"grpc","view":"totals","by":"form","from":"2024-01",)"
       R"("to":"2024-03","method":"cell_key","answered":true,"perturbed_cells":12})"},
      {"retention_purge", "aggregator", R"({"cutoff_month":"2022-03","reports":12,"tokens":30})"},
      {"retention_purge", "local_operator",
       R"({"role":"local_operator","asked":"purge","outcome":"OK","cutoff_month":"2022-04",)"
       R"("reports":5,"tokens":9})"},
      {"key_epoch_retired", "aggregator", R"({"before_epoch":1,"reports":5,"tokens":9})"},
      {"disclosure_departure", "aggregator", R"({"month":"2024-01","agency":"police","reports":4})"},
      {"disclosure_departure", "aggregator", R"({"month":"2024-02","agency":"police","reports":2})"},
      {"disclosure_departure", "aggregator", R"({"month":"2024-02","agency":"zorg","reports":1})"},
      {"stop", "aggregator", "{}"},
  };
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<crypto::Signer> signer, crypto::Signer::Generate());
  {
    audit::AuditChain chain(signer.get(), 0, "");
    sqlite::OpenOptions o;
    o.label = "trail";
    ASSERT_OK_AND_ASSIGN(auto db, sqlite::Database::Open(data_dir + "/aggregator.db", o));
    ASSERT_OK_AND_ASSIGN(sqlite::Statement ins,
                         db->Prepare("INSERT INTO audit(seq, time_ms, event, actor, details, "
                                     "prev_hash, hash, signature) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
    int64_t time_ms = 1710028800000;  // 2024-03-10T00:00:00Z
    for (const Written& w : written) {
      audit::Entry e = chain.Next(w.event, w.actor, w.details, time_ms += 60000);
      ASSERT_OK(ins.Bind(1, static_cast<int64_t>(e.seq))
                    .Bind(2, e.time_ms)
                    .Bind(3, e.event)
                    .Bind(4, e.actor)
                    .Bind(5, e.details)
                    .BindBlob(6, e.prev_hash)
                    .BindBlob(7, e.hash)
                    .BindBlob(8, e.signature)
                    .Run());
      chain.Commit(e);
    }
  }

  ASSERT_OK_AND_ASSIGN(
      VerifyOutcome v,
      VerifyTrail(data_dir, {.public_key_b64 = crypto::Base64Encode(signer->public_key())}));
  EXPECT_EQ(v.entries, written.size());
  EXPECT_EQ(v.trust_source, "--public-key");
  ASSERT_OK_AND_ASSIGN(Trail t, ReadTrail(data_dir));
  ASSERT_EQ(t.entries.size(), written.size());
  for (size_t i = 0; i < written.size(); ++i) EXPECT_EQ(t.entries[i].details, written[i].details);

  ASSERT_OK_AND_ASSIGN(std::string csv, AuditReport(t.entries, {.format = "csv"}));
  EXPECT_EQ(csv,
            "month,party,batches,reports,accepted,duplicates,refused_reports,batches_refused,"
            "retractions,retracted,queries,suppressed_cells,purges,purged_reports,left_released\n"
            "2024-03,aggregator,0,0,0,0,0,0,0,0,0,0,1,12,0\n"
            "2024-03,gemeente,0,0,0,0,0,0,0,0,2,2,0,0,0\n"
            "2024-03,local_operator,0,0,0,0,0,0,0,0,0,0,1,5,0\n"
            "2024-03,police,1,10,7,2,1,1,1,2,0,0,0,0,6\n"
            "2024-03,zorg,1,4,3,0,1,0,0,0,0,0,0,0,1\n");
  // A series of reports of released months taken out by one agency is named in the table.
  ASSERT_OK_AND_ASSIGN(std::string table, AuditReport(t.entries, {.format = "table"}));
  EXPECT_THAT(table, ::testing::HasSubstr(
                         "check: police took 6 report(s) of released months out of their "
                         "published places in 2024-03"));
  EXPECT_THAT(table, ::testing::Not(::testing::HasSubstr("check: zorg")));
}

// A database without an audit table (made by an aggregator that kept none) is named as
// such; one with a trail but no settings table reads, without a stored key.
TEST(AuditTrailReadTest, NoAuditTableIsNamedAndNoSettingsTableReads) {
  const std::string dir = ::testing::TempDir() + "/audit_trail_read";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = dir + "/aggregator.db";
  {
    sqlite::OpenOptions o;
    o.label = path;
    auto db = sqlite::Database::Open(path, o);
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE((*db)->Exec("CREATE TABLE reports(x)").ok());
  }
  EXPECT_THAT(ReadTrail(dir), StatusIs(absl::StatusCode::kFailedPrecondition,
                                       "aggregator.db: has no audit trail (made by an older aggregator"));
  {
    sqlite::OpenOptions o;
    o.label = path;
    auto db = sqlite::Database::Open(path, o);
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE((*db)->Exec("CREATE TABLE audit(seq INTEGER, time_ms INTEGER, event TEXT, actor TEXT, "
                            "details TEXT, prev_hash BLOB, hash BLOB, signature BLOB);"
                            "INSERT INTO audit VALUES (2, 20, 'b', 'y', '{}', x'01', x'02', x'03');"
                            "INSERT INTO audit VALUES (1, 10, 'a', 'x', '{}', x'00', x'01', x'02')").ok());
  }
  auto trail = ReadTrail(dir);
  ASSERT_TRUE(trail.ok()) << trail.status();
  ASSERT_EQ(trail->entries.size(), 2u);
  EXPECT_EQ(trail->entries[0].seq, 1u);
  EXPECT_EQ(trail->entries[0].event, "a");
  EXPECT_EQ(trail->entries[1].actor, "y");
  EXPECT_EQ(trail->entries[1].signature, std::string("\x03"));
  EXPECT_EQ(trail->stored_public_key, "");
}

}  // namespace
}  // namespace samenzicht::aggregator
