// Backup while the aggregator runs and writes, restore into a new data folder, a server on
// the restored folder. The backup is taken by the real binary (another process)
// while a thread keeps submitting batches to the in-process server; the restored totals
// must be the totals of a committed prefix that holds at least every batch acknowledged
// before the backup began, and the restored audit trail must verify
// (`aggregator audit verify`) and record every batch the restored database holds.
#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <set>
#include <thread>

#include "audit/aggregator_events.h"
#include "aggregator/admin/audited_store.h"
#include "aggregator/admin/backup.h"
#include "common/files.h"
#include "tests/aggregator/audit_fixture.h"
#include "tests/testing/subprocess.h"

namespace samenzicht::aggregator::testing {
namespace {

using ::samenzicht::testing::RunCommand;
using ::samenzicht::testing::RunResult;

std::string Out(const RunResult& r) { return r.out + r.err; }

mode_t ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

class BackupTest : public AuditServerTest {
 protected:
  // Five reports, four persons (reports 0 and 1 share the national-id token).
  std::vector<v1::Report> FiveReports(int base) {
    return {MakeReport(base + 0, {{"nid", Tok(base + 0)}}),
            MakeReport(base + 1, {{"nid", Tok(base + 0)}, {"phone", Tok(base + 1)}}),
            MakeReport(base + 2, {{"nid", Tok(base + 2)}}),
            MakeReport(base + 3, {{"phone", Tok(base + 3)}}),
            MakeReport(base + 4, {{"name_dob", Tok(base + 4)}})};
  }

  std::string WriteConfig(const v1::AggregatorConfig& c, const std::string& name) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << c.DebugString();
    return path;
  }
};

TEST_F(BackupTest, BackupWhileSubmittingRestoresACommittedPrefixWithAVerifiedTrail) {
  // Acknowledged before anything else: 10 police batches (50 reports, 40 persons) and one
  // zorg batch whose first report is the same person as police report 2.
  for (int b = 0; b < 10; ++b) {
    std::vector<v1::BatchAck> acks;
    ASSERT_TRUE(Submit("police", {PoliceBatch(FiveReports(1000 + b * 10))}, &acks).ok());
    ASSERT_EQ(acks.size(), 1u);
    ASSERT_EQ(acks[0].code(), 0) << acks[0].message();
  }
  {
    std::vector<v1::BatchAck> acks;
    ASSERT_TRUE(Submit("zorg", {ZorgBatch({MakeReport(5000, {{"nid", Tok(1002)}}),
                                           MakeReport(5001, {{"nid", Tok(5001)}})})}, &acks).ok());
    ASSERT_EQ(acks.at(0).code(), 0);
  }
  const auto base = Counts();
  ASSERT_EQ(base.second, 52u);
  ASSERT_EQ(base.first, 41u);

  // A writer keeps submitting while the backup runs.
  std::atomic<int> acked{0};
  std::atomic<bool> stop{false};
  std::atomic<bool> writer_done{false};
  // The writer stops when told to, when a batch is not acknowledged, or after 2,000 batches;
  // every wait below also ends when the writer has ended, so a slow backup (sanitizers, a
  // loaded machine) or a failed batch cannot hang the test.
  std::thread writer([&] {
    struct Done {
      std::atomic<bool>* flag;
      ~Done() { flag->store(true); }
    } done{&writer_done};
    for (int b = 0; b < 2000 && !stop.load(); ++b) {
      std::vector<v1::BatchAck> acks;
      auto batch = (b % 2 == 0) ? PoliceBatch(FiveReports(100000 + b * 10))
                                : ZorgBatch(FiveReports(100000 + b * 10));
      grpc::Status st = Submit(b % 2 == 0 ? "police" : "zorg", {batch}, &acks);
      if (!st.ok() || acks.size() != 1 || acks[0].code() != 0) {
        ADD_FAILURE() << "concurrent batch " << b << " not acknowledged: " << st.error_message();
        return;
      }
      acked.fetch_add(1);
    }
  });
  while (acked.load() < 5 && !writer_done.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (acked.load() < 5) {
    writer.join();
    FAIL() << "the writer ended after " << acked.load() << " batches, before the backup started";
  }

  const std::string config_path = WriteConfig(config_, "aggregator.textproto");
  const std::string backup = dir_ + "/aggregator-backup.db";
  const int acked_before = acked.load();
  const auto live_before = Counts();
  RunResult r = RunCommand({AGGREGATOR_BIN, "backup", "--config", config_path, "--out", backup});
  const int acked_after = acked.load();
  // Let the writer run on a little after the backup, then stop it.
  while (acked.load() < acked_after + 3 && !writer_done.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop = true;
  writer.join();
  ASSERT_EQ(r.exit_code, 0) << Out(r);
  EXPECT_NE(Out(r).find("wrote backup"), std::string::npos) << Out(r);
  EXPECT_EQ(ModeOf(backup), 0600u);
  EXPECT_FALSE(std::filesystem::exists(backup + "-wal"));
  std::cerr << "backup taken with " << acked_before << ".." << acked_after
            << " concurrent batches acknowledged; live totals before: " << live_before.first
            << " persons, " << live_before.second << " signals\n";

  // The backup holds no key material: neither the store key nor the audit key's bytes.
  {
    std::string bytes = *files::ReadFile(backup);
    for (const std::string& key_file : {dir_ + "/store.key", dir_ + "/audit.key"}) {
      std::string line = *files::ReadFile(key_file);
      std::string b64 = line.substr(line.find_last_of(' ') + 1);
      while (!b64.empty() && (b64.back() == '\n' || b64.back() == '\r')) b64.pop_back();
      auto raw = crypto::Base64Decode(b64);
      ASSERT_TRUE(raw.ok());
      EXPECT_EQ(bytes.find(*raw), std::string::npos) << key_file;
      EXPECT_EQ(bytes.find(b64), std::string::npos) << key_file;
    }
  }

  // Restore refuses a data folder that is not empty, and a file that is no database.
  {
    std::filesystem::create_directories(dir_ + "/busy");
    std::ofstream(dir_ + "/busy/something") << "x";
    RunResult busy = RunCommand({AGGREGATOR_BIN, "restore", "--backup", backup, "--data-dir", dir_ + "/busy"});
    EXPECT_NE(busy.exit_code, 0);
    EXPECT_NE(Out(busy).find("not empty"), std::string::npos) << Out(busy);
    std::ofstream(dir_ + "/garbage.db") << std::string(8192, 'g');
    auto bad = RestoreDatabase(dir_ + "/garbage.db", dir_ + "/from-garbage");
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kDataLoss) << bad.status();
    EXPECT_EQ(BackupDatabase(data_dir_, backup).status().code(), absl::StatusCode::kAlreadyExists);
  }

  const std::string restored = dir_ + "/restored";
  RunResult rr = RunCommand({AGGREGATOR_BIN, "restore", "--backup", backup, "--data-dir", restored});
  ASSERT_EQ(rr.exit_code, 0) << Out(rr);
  EXPECT_EQ(ModeOf(restored), 0700u);
  EXPECT_EQ(ModeOf(restored + "/aggregator.db"), 0600u);

  // The trail of the restored database verifies and records every batch it holds.
  RunResult v = RunCommand({AGGREGATOR_BIN, "audit", "verify", "--data-dir", restored,
                            "--public-key", audit_public_key_});
  EXPECT_EQ(v.exit_code, 0) << Out(v);
  EXPECT_NE(Out(v).find("audit trail verified"), std::string::npos) << Out(v);
  const std::string db = restored + "/aggregator.db";
  std::vector<std::string> batch_ids = Column(db, "SELECT batch_id FROM batches");
  std::vector<std::string> details = Column(
      db, std::string("SELECT details FROM audit WHERE event = '") + kEventBatchReceived + "'");
  EXPECT_EQ(batch_ids.size(), details.size());
  for (const std::string& id : batch_ids) {
    bool found = false;
    for (const std::string& d : details) found = found || d.find(id) != std::string::npos;
    EXPECT_TRUE(found) << "batch " << id << " has no batch_received entry";
  }
  // 11 batches before the writer started, then a prefix of the concurrent ones.
  const int concurrent = static_cast<int>(batch_ids.size()) - 11;
  EXPECT_GE(concurrent, acked_before);
  EXPECT_LE(concurrent, acked_after + 1);  // at most the one in flight when the copy ended

  // A server on the restored folder answers the totals of exactly that prefix.
  StopServer();
  v1::AggregatorConfig restored_config = config_;
  restored_config.set_data_dir(restored);
  config_ = restored_config;  // Counts() reads the exact totals of this data folder
  auto s = Server::Start(restored_config);
  ASSERT_OK(s);
  server_ = *std::move(s);
  address_ = "127.0.0.1:" + std::to_string(server_->port());
  const auto after = Counts();
  EXPECT_EQ(after.second, 52u + 5u * concurrent);
  EXPECT_EQ(after.first, 41u + 4u * concurrent);
  EXPECT_GE(after.second, live_before.second);
  StopServer();
  RunResult v2 = RunCommand({AGGREGATOR_BIN, "audit", "verify", "--data-dir", restored,
                             "--public-key", audit_public_key_});
  EXPECT_EQ(v2.exit_code, 0) << Out(v2);
}

TEST_F(BackupTest, RestoreChecksTheSchema) {
  StopServer();
  // An SQLite database that is not an aggregator database.
  const std::string other = dir_ + "/other.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(other.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t(x); PRAGMA user_version = 2;", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto r = RestoreDatabase(other, dir_ + "/r1");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/r1/aggregator.db"));
  // A backup of an empty aggregator restores, into an absent folder.
  auto b = BackupDatabase(data_dir_, dir_ + "/empty.db");
  ASSERT_OK(b);
  auto ok = RestoreDatabase(dir_ + "/empty.db", dir_ + "/r2");
  ASSERT_OK(ok);
  EXPECT_EQ(ok->reports, 0);
  EXPECT_GT(ok->audit_entries, 0);
  EXPECT_EQ(RestoreDatabase(dir_ + "/missing.db", dir_ + "/r3").status().code(),
            absl::StatusCode::kNotFound);
}

// Backup and restore are audit events naming the local operator, its role, what was asked
// and the outcome: a backup (made or refused) in the live trail, written while the server
// keeps appending to it; a restore in the restored trail, at the first start on it.
TEST_F(BackupTest, BackupAndRestoreAreAuditEvents) {
  ASSERT_TRUE(Submit("police", {PoliceBatch(FiveReports(100))}).ok());
  const std::string config_path = WriteConfig(config_, "aggregator.textproto");
  const std::string backup = dir_ + "/b.db";
  RunResult made = RunCommand({AGGREGATOR_BIN, "backup", "--config", config_path, "--out", backup});
  ASSERT_EQ(made.exit_code, 0) << Out(made);
  RunResult refused = RunCommand({AGGREGATOR_BIN, "backup", "--config", config_path, "--out", backup});
  EXPECT_NE(refused.exit_code, 0);
  // The server appends after the command's entries: one chain.
  ASSERT_TRUE(Submit("zorg", {ZorgBatch(FiveReports(200))}).ok());
  StopServer();
  const std::string live = data_dir_ + "/aggregator.db";
  EXPECT_EQ(Column(live, "SELECT event FROM audit ORDER BY seq DESC LIMIT 4"),
            (std::vector<std::string>{kEventStop, kEventBatchReceived, kEventBackup, kEventBackup}));
  const std::vector<std::string> actors = Column(live, "SELECT actor FROM audit WHERE event = 'backup'");
  ASSERT_EQ(actors.size(), 2u);
  EXPECT_EQ(actors[0], LocalOperator());
  EXPECT_EQ(actors[0].rfind("local:", 0), 0u);
  const std::vector<std::string> details =
      Column(live, "SELECT details FROM audit WHERE event = 'backup' ORDER BY seq");
  EXPECT_NE(details[0].find("\"role\":\"local_operator\",\"asked\":\"backup\",\"outcome\":\"OK\""),
            std::string::npos) << details[0];
  EXPECT_NE(details[0].find(backup), std::string::npos);
  EXPECT_NE(details[1].find("\"outcome\":\"ALREADY_EXISTS\""), std::string::npos) << details[1];
  RunResult v = RunCommand({AGGREGATOR_BIN, "audit", "verify", "--data-dir", data_dir_,
                            "--public-key", audit_public_key_});
  EXPECT_EQ(v.exit_code, 0) << Out(v);

  const std::string restored = dir_ + "/restored";
  RunResult rr = RunCommand({AGGREGATOR_BIN, "restore", "--backup", backup, "--data-dir", restored});
  ASSERT_EQ(rr.exit_code, 0) << Out(rr);
  v1::AggregatorConfig restored_config = config_;
  restored_config.set_data_dir(restored);
  for (int start = 0; start < 2; ++start) {  // recorded once, at the first start
    auto s = Server::Start(restored_config);
    ASSERT_OK(s);
    (*s)->Shutdown();
    (*s)->Wait();
  }
  const std::string db = restored + "/aggregator.db";
  const std::vector<std::string> restores =
      Column(db, "SELECT actor || ' ' || details FROM audit WHERE event = 'restore'");
  ASSERT_EQ(restores.size(), 1u);
  EXPECT_NE(restores[0].find(LocalOperator() + " {\"role\":\"local_operator\",\"asked\":\"restore\","
                                               "\"outcome\":\"OK\",\"backup_file\":\"" + backup),
            std::string::npos) << restores[0];
  RunResult v2 = RunCommand({AGGREGATOR_BIN, "audit", "verify", "--data-dir", restored,
                             "--public-key", audit_public_key_});
  EXPECT_EQ(v2.exit_code, 0) << Out(v2);
}

// A restore that fails writes no database, so it cannot be recorded in the trail it would
// have restored. Given the configuration (--config) of a data folder that holds a database,
// the restore is recorded there, failed or not: actor, role, what was asked, the outcome
// and why. Without one, the command says that the failure is in no trail.
TEST_F(BackupTest, AFailedRestoreIsRecordedInTheConfiguredTrail) {
  const std::string config_path = WriteConfig(config_, "aggregator.textproto");
  // Not an SQLite database.
  const std::string garbage = dir_ + "/garbage.db";
  std::ofstream(garbage) << std::string(8192, 'x');
  const std::string target = dir_ + "/restored";
  RunResult failed = RunCommand({AGGREGATOR_BIN, "restore", "--config", config_path, "--backup",
                                 garbage, "--data-dir", target});
  EXPECT_NE(failed.exit_code, 0) << Out(failed);
  EXPECT_FALSE(std::filesystem::exists(target + "/aggregator.db"));
  // A folder that is not empty.
  const std::string busy = dir_ + "/busy";
  ASSERT_TRUE(std::filesystem::create_directories(busy));
  std::ofstream(busy + "/something") << "x";
  RunResult refused = RunCommand({AGGREGATOR_BIN, "restore", "--config", config_path, "--backup",
                                  garbage, "--data-dir", busy});
  EXPECT_NE(refused.exit_code, 0) << Out(refused);
  // A backup that restores, into a folder beside the live one.
  const std::string backup = dir_ + "/b.db";
  ASSERT_OK(BackupDatabase(data_dir_, backup));
  RunResult made = RunCommand({AGGREGATOR_BIN, "restore", "--config", config_path, "--backup",
                               backup, "--data-dir", target});
  ASSERT_EQ(made.exit_code, 0) << Out(made);
  // The server keeps appending after the command's entries: one chain.
  ASSERT_TRUE(Submit("police", {PoliceBatch(FiveReports(300))}).ok());
  StopServer();

  const std::string live = data_dir_ + "/aggregator.db";
  const std::vector<std::string> restores =
      Column(live, "SELECT actor || ' ' || details FROM audit WHERE event = 'restore' ORDER BY seq");
  ASSERT_EQ(restores.size(), 3u);
  const std::string head = LocalOperator() + " {\"role\":\"local_operator\",\"asked\":\"restore\",";
  EXPECT_EQ(restores[0].rfind(head + "\"outcome\":\"DATA_LOSS\",\"reason\":\"", 0), 0u)
      << restores[0];
  EXPECT_NE(restores[0].find("\"backup_file\":\"" + garbage + "\",\"data_dir\":\"" + target + "\""),
            std::string::npos) << restores[0];
  EXPECT_EQ(restores[1].rfind(head + "\"outcome\":\"FAILED_PRECONDITION\",\"reason\":\"", 0), 0u)
      << restores[1];
  EXPECT_NE(restores[1].find("\"data_dir\":\"" + busy + "\""), std::string::npos) << restores[1];
  EXPECT_EQ(restores[2].rfind(head + "\"outcome\":\"OK\",\"backup_file\":\"" + backup +
                                  "\",\"data_dir\":\"" + target + "\"", 0), 0u)
      << restores[2];
  RunResult v = RunCommand({AGGREGATOR_BIN, "audit", "verify", "--data-dir", data_dir_,
                            "--public-key", audit_public_key_});
  EXPECT_EQ(v.exit_code, 0) << Out(v);

  // Without a configuration: refused as before, and told that no trail holds the failure.
  RunResult alone = RunCommand({AGGREGATOR_BIN, "restore", "--backup", garbage, "--data-dir",
                                dir_ + "/alone"});
  EXPECT_NE(alone.exit_code, 0);
  EXPECT_NE(alone.err.find("this failed restore is in no audit trail"), std::string::npos)
      << Out(alone);
  // Into the configuration's own (empty) data folder: no database to record it in either.
  v1::AggregatorConfig fresh = config_;
  fresh.set_data_dir(dir_ + "/fresh");
  const std::string fresh_path = WriteConfig(fresh, "fresh.textproto");
  RunResult own = RunCommand({AGGREGATOR_BIN, "restore", "--config", fresh_path, "--backup",
                              garbage, "--data-dir", dir_ + "/fresh"});
  EXPECT_NE(own.exit_code, 0);
  EXPECT_NE(own.err.find("this failed restore is in no audit trail"), std::string::npos)
      << Out(own);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/fresh/aggregator.db"));
  // The live trail gained nothing from these two.
  EXPECT_EQ(Column(live, "SELECT count(*) FROM audit WHERE event = 'restore'")[0], "3");
}

}  // namespace
}  // namespace samenzicht::aggregator::testing
