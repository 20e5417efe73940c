// Storage faults on the aggregator: a vanished aggregator.db is refused at start when the
// data folder shows it had one, and a full disk is logged at error level with its cause and
// answered with "the aggregator's disk is full", never a file name.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <sstream>

#include <sqlite3.h>

#include "aggregator/admin/admin.h"
#include "audit/aggregator_events.h"
#include "aggregator/admin/audited_store.h"
#include "aggregator/intake/intake.h"
#include "aggregator/query/query_history.h"
#include "aggregator/server/service_status.h"
#include "aggregator/store/store.h"
#include "common/disk_full.h"
#include "common/files.h"
#include "common/sqlite/sqlite.h"
#include "crypto/key_file.h"
#include "tests/aggregator/fixture_builder.h"
#include "tests/aggregator/test_util.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::aggregator {
namespace {

namespace fs = std::filesystem;
using ::samenzicht::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

std::string Fresh(const std::string& tag) {
  std::string d = ::testing::TempDir() + "/storage_faults_test/" + tag;
  fs::remove_all(d);
  fs::create_directories(d + "/keys");
  return d;
}

v1::AggregatorConfig Config(const std::string& d) {
  v1::AggregatorConfig c;
  c.set_data_dir(d + "/data");
  c.set_store_key_file(d + "/keys/store.key");
  c.set_audit_key_file(d + "/keys/audit.key");
  c.set_profile_file(SAMENZICHT_SOURCE_DIR "/deploy/config/profile.textproto");
  c.set_audit_checkpoint_every(1);
  return c;
}

// The database is deleted while the data folder keeps its marker and checkpoints: the
// aggregator does not start on an empty database, and says how to restore.
TEST(StorageFaultsTest, ADeletedDatabaseIsRefusedAtStart) {
  const std::string d = Fresh("deleted");
  ASSERT_OK(crypto::GenerateKeyFile(d + "/keys/store.key", crypto::KeyKind::kStore).status());
  ASSERT_OK(crypto::GenerateKeyFile(d + "/keys/audit.key", crypto::KeyKind::kSigning).status());
  const v1::AggregatorConfig c = Config(d);
  {
    ASSERT_OK_AND_ASSIGN(AuditedStore s, OpenAuditedStore(c));  // a new folder: fine
    ASSERT_OK(s.store->AppendAudit("test_event", "admin", "{}"));
  }
  {
    ASSERT_OK_AND_ASSIGN(AuditedStore s, OpenAuditedStore(c));  // and again
  }
  for (const char* f : {"aggregator.db", "aggregator.db-wal", "aggregator.db-shm"}) {
    fs::remove(fs::path(c.data_dir()) / f);
  }
  auto reopened = OpenAuditedStore(c);
  EXPECT_THAT(reopened, StatusIs(absl::StatusCode::kFailedPrecondition, "aggregator.db is missing"));
  EXPECT_THAT(std::string(reopened.status().message()), HasSubstr("aggregator restore"));
  EXPECT_FALSE(fs::exists(fs::path(c.data_dir()) / "aggregator.db"));  // nothing made

  // Without the marker, the checkpoints alone tell.
  fs::remove(fs::path(c.data_dir()) / kDatabaseMarkerName);
  EXPECT_THAT(OpenAuditedStore(c), StatusIs(absl::StatusCode::kFailedPrecondition, "checkpoint"));
}

TEST(StorageFaultsTest, SqliteFullIsMarkedAsAFullDisk) {
  const std::string d = Fresh("sqlite_full");
  sqlite::OpenOptions o;
  o.label = "test db";
  ASSERT_OK_AND_ASSIGN(auto db, sqlite::Database::Open(d + "/t.db", o));
  ASSERT_OK(db->Exec("CREATE TABLE t(x BLOB)"));
  ASSERT_OK(db->Exec("PRAGMA max_page_count=20"));  // as if the disk had 20 pages
  absl::Status s;
  for (int i = 0; i < 100 && s.ok(); ++i) {
    s = db->Exec("INSERT INTO t VALUES (zeroblob(4000))");
  }
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_TRUE(disk_full::Is(s)) << s;
}

// The analyst's query fails while the query history cannot be written for want of space:
// the answer says the disk is full, the log says so at error level with the cause.
TEST(StorageFaultsTest, AFullDiskIsLoggedAndAnsweredAsSuch) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  const std::string d = Fresh("history_full");
  const std::string path = d + "/query_history.tsv";
  ASSERT_OK_AND_ASSIGN(auto history, QueryHistory::Open(path));
  fs::create_symlink("/dev/full", path);  // every write: ENOSPC
  AskedQuery q;
  q.analyst = "analyst";
  absl::Status s = history->Record(q);
  ASSERT_TRUE(disk_full::Is(s)) << s;

  std::ostringstream log;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  auto logger = std::make_shared<spdlog::logger>("test", sink);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(logger);
  grpc::Status answer = ServiceStatus(s, "Query.Totals");
  spdlog::set_default_logger(previous);
  logger->flush();
  EXPECT_EQ(answer.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(answer.error_message(), HasSubstr("the aggregator's disk is full"));
  EXPECT_THAT(answer.error_message(), Not(HasSubstr("query_history")));
  EXPECT_THAT(log.str(), HasSubstr("[error]"));
  EXPECT_THAT(log.str(), HasSubstr("Query.Totals: the aggregator's disk is full"));
  EXPECT_THAT(log.str(), HasSubstr("No space left on device"));

  // Any other failure is passed on as it was.
  grpc::Status other = ServiceStatus(absl::NotFoundError("x"), "Query.Totals");
  EXPECT_EQ(other.error_code(), grpc::StatusCode::NOT_FOUND);
}

// Every SQLite connection opened while this is registered (sqlite3_auto_extension) may not
// grow its database file: as if the disk were full from its current size on.
int NoMorePages(sqlite3* db, char** /*error*/, const sqlite3_api_routines* /*api*/) {
  sqlite3_exec(db, "PRAGMA max_page_count=1", nullptr, nullptr, nullptr);  // clamps to the size
  return SQLITE_OK;
}

// The store's disk fills up while agencies deliver: each batch's commit fails. The intake
// answers "the aggregator's disk is full" (no file name), the log says so at error level with
// SQLite's cause, nothing of the batch is stored, and once there is space it is delivered.
TEST(StorageFaultsTest, ACommitOnAFullDiskIsLoggedAndAnsweredAsSuch) {
  const std::string d = Fresh("commit_full");
  const v1::LinkageProfile profile = testing::TestProfile();
  ASSERT_OK_AND_ASSIGN(crypto::SecretBytes key, crypto::SecretBytes::Random(32));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<crypto::Signer> signer, crypto::Signer::Generate());
  v1::AggregatorConfig config;
  testing::AddAgency(config, "police", v1::DOMAIN_POLICE, *signer);
  config.set_key_epoch(1);
  config.add_areas("oost");
  const rpc::Peer police{"police", rpc::Role::kAgency};
  std::vector<v1::Report> reports;
  for (int i = 1; i <= 400; ++i) {
    reports.push_back(testing::Packed(
        profile, testing::MakeReport(i, {{"nid", testing::Tok(i)}, {"phone", testing::Tok(1000 + i)}})));
  }
  const v1::SignedBatch batch = testing::Sign(
      *signer, testing::MakePayload("police", profile, 1, reports, testing::Id(4242)));
  { ASSERT_OK(Store::Open(d + "/data", key, testing::RuleNames(profile)).status()); }

  ASSERT_EQ(sqlite3_auto_extension(reinterpret_cast<void (*)()>(NoMorePages)), SQLITE_OK);
  absl::StatusOr<v1::BatchAck> ack;
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(d + "/data", key, testing::RuleNames(profile)));
    ASSERT_OK_AND_ASSIGN(auto intake, Intake::New(config, profile, store.get()));
    ack = intake->Submit(police, batch);
    EXPECT_EQ(*store->CountRows("batches"), 0);
  }
  sqlite3_cancel_auto_extension(reinterpret_cast<void (*)()>(NoMorePages));
  ASSERT_THAT(ack, StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_TRUE(disk_full::Is(ack.status())) << ack.status();

  std::ostringstream log;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  auto logger = std::make_shared<spdlog::logger>("test", sink);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(logger);
  grpc::Status answer = ServiceStatus(ack.status(), "Intake.SubmitBatches");
  spdlog::set_default_logger(previous);
  logger->flush();
  EXPECT_EQ(answer.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(answer.error_message(), kDiskFullMessage);
  EXPECT_THAT(log.str(), HasSubstr("[error] Intake.SubmitBatches: the aggregator's disk is full: "));
  EXPECT_THAT(log.str(), HasSubstr("database or disk is full"));

  // Space again: the node's retry of the same batch is stored whole.
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(d + "/data", key, testing::RuleNames(profile)));
  ASSERT_OK_AND_ASSIGN(auto intake, Intake::New(config, profile, store.get()));
  ASSERT_OK_AND_ASSIGN(v1::BatchAck delivered, intake->Submit(police, batch));
  EXPECT_EQ(delivered.code(), 0) << delivered.message();
  EXPECT_EQ(delivered.accepted(), 400u);
}

// An epoch stored with Admin.SetKeyEpoch that differs from the configuration's is said at
// error level at every start and audited, not applied in silence.
TEST(StorageFaultsTest, AStoredKeyEpochOverridingTheConfigurationIsLoggedAndAudited) {
  const std::string d = Fresh("epoch");
  ASSERT_OK(crypto::GenerateKeyFile(d + "/keys/store.key", crypto::KeyKind::kStore).status());
  ASSERT_OK(crypto::GenerateKeyFile(d + "/keys/audit.key", crypto::KeyKind::kSigning).status());
  v1::AggregatorConfig c = Config(d);
  c.set_key_epoch(1);
  ASSERT_OK_AND_ASSIGN(AuditedStore s, OpenAuditedStore(c));
  ASSERT_OK(s.store->SetSetting(kSettingKeyEpoch, "2", kEventKeyEpochChange, "admin", "{}"));
  ::testing::internal::CaptureStdout();  // the library logs on spdlog's default logger
  auto admin = Administration::Start(c, s.store.get(), nullptr);
  spdlog::default_logger()->flush();
  const std::string log = ::testing::internal::GetCapturedStdout();
  ASSERT_OK(admin.status());
  EXPECT_THAT(log, HasSubstr("[error]"));
  EXPECT_THAT(log, HasSubstr("overrides key_epoch 1 of the configuration"));
  ASSERT_OK_AND_ASSIGN(auto entries, s.store->ReadAudit(1, 1000));
  bool audited = false;
  for (const auto& e : entries) {
    audited = audited || (e.event == kEventKeyEpochChange &&
                          e.details.find("stored setting overrides") != std::string::npos);
  }
  EXPECT_TRUE(audited);
}

// An administrator set "no limit" (0) once; the configuration says 24 months. Every start
// says so at error level and in the trail, as for the key epoch.
TEST(StorageFaultsTest, AStoredRetentionOverridingTheConfigurationIsLoggedAndAudited) {
  const std::string d = Fresh("retention");
  ASSERT_OK(crypto::GenerateKeyFile(d + "/keys/store.key", crypto::KeyKind::kStore).status());
  ASSERT_OK(crypto::GenerateKeyFile(d + "/keys/audit.key", crypto::KeyKind::kSigning).status());
  v1::AggregatorConfig c = Config(d);
  c.set_retention_months(24);
  ASSERT_OK_AND_ASSIGN(AuditedStore s, OpenAuditedStore(c));
  ASSERT_OK(s.store->SetSetting(kSettingRetention, "0", kEventRetentionChange, "admin", "{}"));
  ::testing::internal::CaptureStdout();  // the library logs on spdlog's default logger
  auto admin = Administration::Start(c, s.store.get(), nullptr);
  spdlog::default_logger()->flush();
  const std::string log = ::testing::internal::GetCapturedStdout();
  ASSERT_OK(admin.status());
  EXPECT_EQ((*admin)->retention_months(), 0u) << "the stored setting is in force";
  EXPECT_THAT(log, HasSubstr("[error]"));
  EXPECT_THAT(log, HasSubstr("overrides retention_months 24 of the configuration"));
  ASSERT_OK_AND_ASSIGN(auto entries, s.store->ReadAudit(1, 1000));
  int audited = 0;
  for (const auto& e : entries) {
    if (e.event == kEventRetentionChange &&
        e.details.find("stored setting overrides") != std::string::npos) {
      ++audited;
    }
  }
  EXPECT_EQ(audited, 1);
}

}  // namespace
}  // namespace samenzicht::aggregator
