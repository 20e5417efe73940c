// The privacy officer's checks with the real binaries: an aggregator with its own audit
// key, a node submitting the demo CSV, `agency-node sent` compared with the aggregator's
// trail batch by batch, `aggregator audit verify` and `audit report` offline after stop.
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "aggregator/audit_store.h"
#include "tests/testing/pki.h"
#include "tests/testing/subprocess.h"

namespace samenzicht {
namespace {

namespace fs = std::filesystem;
using ::samenzicht::testing::Background;
using ::samenzicht::testing::RunCommand;
using ::samenzicht::testing::RunResult;
using ::testing::HasSubstr;

std::string LastWord(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  auto p = s.find_last_of(" \n");
  return p == std::string::npos ? s : s.substr(p + 1);
}

TEST(AuditE2eTest, NodeSentLogMatchesTheAggregatorsVerifiedTrail) {
  const std::string dir = ::testing::TempDir() + "/audit_e2e." + std::to_string(::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir + "/police");
  const std::string pki = samenzicht::testing::MakePki(
      "audit_e2e." + std::to_string(::getpid()), {{"aggregator", "server"}, {"police", "agency"}});
  ASSERT_FALSE(pki.empty());
  const std::string profile = std::string(SAMENZICHT_SOURCE_DIR) + "/deploy/config/profile.textproto";
  const std::string csv = std::string(SAMENZICHT_SOURCE_DIR) + "/deploy/demo/data/police.csv";
  ASSERT_EQ(RunCommand({AGENCY_NODE_BIN, "keygen", "--out", dir + "/hashing.key", "--epoch", "1"}).exit_code, 0);
  ASSERT_EQ(RunCommand({AGGREGATOR_BIN, "store-keygen", "--out", dir + "/store.key"}).exit_code, 0);
  RunResult audit_key = RunCommand({AGGREGATOR_BIN, "audit-keygen", "--out", dir + "/audit.key"});
  ASSERT_EQ(audit_key.exit_code, 0) << audit_key.err;
  const std::string audit_pub = LastWord(audit_key.out);
  RunResult sk = RunCommand({AGENCY_NODE_BIN, "signing-keygen", "--out", dir + "/police/signing.key"});
  ASSERT_EQ(sk.exit_code, 0) << sk.err;
  const std::string areas =
      "areas: [\"binnenstad\", \"oude_wijken\", \"west\", \"oost\", \"zuid\", \"haren\", \"ten_boer\"]\n";
  std::ofstream(dir + "/aggregator.textproto")
      << "listen_address: \"127.0.0.1:0\"\n"
      << "tls { ca_cert_file: \"" << pki << "/ca.crt\" cert_file: \"" << pki
      << "/aggregator.crt\" key_file: \"" << pki << "/aggregator.key\" }\n"
      << "data_dir: \"" << dir << "/data\"\nstore_key_file: \"" << dir << "/store.key\"\n"
      << "audit_key_file: \"" << dir << "/audit.key\"\naudit_checkpoint_every: 3\n"
      << "profile_file: \"" << profile << "\"\nkey_epoch: 1\nmin_cell_size: 5\n" << areas
      << "agencies { node_id: \"police\" domain: DOMAIN_POLICE signing_public_key: \""
      << LastWord(sk.out) << "\" }\n";
  auto server = std::make_unique<Background>(
      std::vector<std::string>{AGGREGATOR_BIN, "serve", "--config", dir + "/aggregator.textproto",
                               "--port-file", dir + "/port"},
      dir + "/aggregator.log");
  std::string port = samenzicht::testing::WaitForFile(dir + "/port");
  ASSERT_FALSE(port.empty()) << server->log();
  while (!port.empty() && port.back() == '\n') port.pop_back();
  std::ofstream(dir + "/police/node.textproto")
      << "node_id: \"police\"\naggregator_address: \"127.0.0.1:" << port
      << "\"\naggregator_server_name: \"localhost\"\n"
      << "tls { ca_cert_file: \"" << pki << "/ca.crt\" cert_file: \"" << pki
      << "/police.crt\" key_file: \"" << pki << "/police.key\" }\n"
      << "hashing_key_file: \"" << dir << "/hashing.key\"\nsigning_key_file: \"signing.key\"\n"
      << "profile_file: \"" << profile << "\"\nstate_dir: \"state\"\nmax_batch_reports: 10\n" << areas;
  RunResult submit = RunCommand({AGENCY_NODE_BIN, "submit", "--config", dir + "/police/node.textproto",
                                 "--in", csv});
  ASSERT_EQ(submit.exit_code, 0) << submit.out << submit.err;
  EXPECT_EQ(server->Stop(), 0) << server->log();

  // What the node says it sent (and the aggregator acknowledged)...
  RunResult sent = RunCommand({AGENCY_NODE_BIN, "sent", "--config", dir + "/police/node.textproto",
                               "--format", "json"});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  for (const char* identifier : {"POSTMA", "Daria", "559639132", "9724DD", "PL-2024-1000"}) {
    EXPECT_EQ(sent.out.find(identifier), std::string::npos) << identifier << " in `sent`";
  }
  EXPECT_THAT(sent.out, HasSubstr("\"report_list\":[{\"report_id\":\""));
  EXPECT_THAT(sent.out, HasSubstr("\"tokens\":"));
  RunResult sent_csv = RunCommand({AGENCY_NODE_BIN, "sent", "--config",
                                   dir + "/police/node.textproto", "--format", "csv"});
  std::multiset<std::string> node_digests, node_batches;
  std::istringstream lines(sent_csv.out);
  std::string line;
  std::getline(lines, line);  // header
  while (std::getline(lines, line)) {
    std::vector<std::string> f;
    std::stringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, ',')) f.push_back(cell);
    ASSERT_GE(f.size(), 6u) << line;
    EXPECT_EQ(f[5], "OK") << line;
    node_batches.insert(f[0]);
    node_digests.insert(f[1]);
  }
  ASSERT_GE(node_digests.size(), 2u);

  // ...is exactly what the aggregator's trail holds, batch by batch. The trail keeps each
  // digest keyed with the store key (docs/security.md), so batches are matched by id and
  // no node digest appears in it.
  auto trail = aggregator::ReadTrail(dir + "/data");
  ASSERT_TRUE(trail.ok()) << trail.status();
  std::multiset<std::string> trail_batches;
  for (const auto& e : trail->entries) {
    if (e.event != "batch_received") continue;
    EXPECT_EQ(e.actor, "police");
    auto p = e.details.find("\"batch_id\":\"");
    ASSERT_NE(p, std::string::npos);
    trail_batches.insert(e.details.substr(p + 12, 32));
    for (const std::string& d : node_digests) EXPECT_EQ(e.details.find(d), std::string::npos);
  }
  EXPECT_EQ(node_batches, trail_batches);

  // The officer verifies offline with the key the administrator gave them and the newest
  // checkpoint copied out of the system.
  std::string checkpoint;
  for (const auto& f : fs::directory_iterator(dir + "/data/checkpoints")) {
    if (f.path().string() > checkpoint) checkpoint = f.path().string();
  }
  fs::copy_file(checkpoint, dir + "/kept.checkpoint");
  RunResult v = RunCommand({AGGREGATOR_BIN, "audit", "verify", "--data-dir", dir + "/data",
                            "--checkpoint", dir + "/kept.checkpoint", "--public-key", audit_pub});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_THAT(v.out, HasSubstr("audit trail verified"));
  RunResult r = RunCommand({AGGREGATOR_BIN, "audit", "report", "--data-dir", dir + "/data",
                            "--format", "csv"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(",police," + std::to_string(node_digests.size()) + ","));

  // One changed count, and the verification fails naming the entry.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir + "/data/aggregator.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE audit SET details = replace(details, '\"duplicates\":0', "
                         "'\"duplicates\":1') WHERE seq = (SELECT min(seq) FROM audit WHERE "
                         "event = 'batch_received')",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  v = RunCommand({AGGREGATOR_BIN, "audit", "verify", "--data-dir", dir + "/data", "--checkpoint",
                  dir + "/kept.checkpoint", "--public-key", audit_pub});
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_THAT(v.err, HasSubstr("content does not match its hash"));
  EXPECT_THAT(v.err, HasSubstr("NOT verified: entry "));
}

}  // namespace
}  // namespace samenzicht
