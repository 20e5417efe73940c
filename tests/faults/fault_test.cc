// Fault tests: the real binaries on loopback, the simulator's exports as ground truth.
// Processes are killed with SIGKILL during delivery and restarted; at the end the
// aggregator must hold every signal exactly once (the exact totals of `aggregator
// exact-totals` == the simulator's truth; the analyst's published totals are perturbed) and
// every node's outbox must be empty. Each test starts its own aggregator on a free
// loopback port, is bounded in time (every wait has a deadline) and stops what it started.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/pki.h"
#include "tests/testing/subprocess.h"

namespace samenzicht {
namespace {

namespace fs = std::filesystem;
using ::samenzicht::testing::Background;
using ::samenzicht::testing::RunCommand;
using ::samenzicht::testing::RunResult;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr int kAgencies = 3;
// `agency-node submit`'s exit status when every record was sent, some without an identifier
// that did not parse (README, exit codes): the simulated exports (noise "light", seed 7)
// hold such identifiers on purpose, one in each agency's export.
constexpr int kExitFieldsNotUsed = 4;
constexpr int kChunks = 6;  // each agency's export arrives as this many files
// The district codes of the simulated exports, on the nodes and the aggregator.
const std::string kAreas =
    "areas: [\"binnenstad\", \"oude_wijken\", \"west\", \"oost\", \"zuid\", \"haren\", "
    "\"ten_boer\"]\n";

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// One integer from a SQLite database opened read-only; -1 on any error.
int64_t QueryInt(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  int64_t v = -1;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 2000);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return v;
}

class FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/faults." + std::to_string(::getpid()) + "." +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // Ground truth from the simulator.
    RunResult sim = RunCommand({SIMULATOR_BIN, "--out", dir_ + "/sim", "--persons", "300",
                                "--agencies", std::to_string(kAgencies), "--noise", "light",
                                "--seed", "7"});
    ASSERT_EQ(sim.exit_code, 0) << sim.err;
    for (const auto& e : fs::directory_iterator(dir_ + "/sim")) {
      std::string name = e.path().filename().string();
      if (e.path().extension() == ".csv" && name != "truth.csv" && name != "population.csv" &&
          name != "histories.csv") {
        agencies_.push_back(e.path().stem().string());
      }
    }
    std::sort(agencies_.begin(), agencies_.end());
    ASSERT_EQ(agencies_.size(), static_cast<size_t>(kAgencies)) << sim.out;
    for (const auto& a : agencies_) {
      std::istringstream in(Slurp(dir_ + "/sim/" + a + ".csv"));
      std::string line;
      int n = -1;
      while (std::getline(in, line)) n += line.empty() ? 0 : 1;
      expected_signals_ += n;
    }
    std::istringstream truth(Slurp(dir_ + "/sim/truth.csv"));
    std::string line;
    int truth_rows = -1;
    while (std::getline(truth, line)) truth_rows += line.empty() ? 0 : 1;
    ASSERT_EQ(truth_rows, expected_signals_) << "truth.csv and the exports disagree";
    ASSERT_GT(expected_signals_, 100);

    std::vector<std::pair<std::string, std::string>> parties = {{"aggregator", "server"},
                                                                {"analyst", "analyst"}};
    for (const auto& a : agencies_) parties.push_back({a, "agency"});
    pki_ = samenzicht::testing::MakePki(dir_.substr(::testing::TempDir().size() + 1), parties);
    ASSERT_FALSE(pki_.empty());
    ASSERT_EQ(RunCommand({AGENCY_NODE_BIN, "keygen", "--out", dir_ + "/hashing.key"}).exit_code, 0);
    ASSERT_EQ(RunCommand({AGGREGATOR_BIN, "store-keygen", "--out", dir_ + "/store.key"}).exit_code, 0);
    port_ = FreePort();
    address_ = "127.0.0.1:" + std::to_string(port_);
    std::string entries;
    for (const auto& a : agencies_) {
      fs::create_directories(dir_ + "/" + a);
      RunResult r = RunCommand({AGENCY_NODE_BIN, "signing-keygen", "--out", dir_ + "/" + a + "/signing.key"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      std::string pub = Trim(r.out);
      pub = pub.substr(pub.find_last_of(" \n") == std::string::npos ? 0 : pub.find_last_of(" \n") + 1);
      entries += "agencies { node_id: \"" + a + "\" domain: DOMAIN_OTHER signing_public_key: \"" +
                 pub + "\" }\n";
      WriteFile(NodeConfig(a),
                "node_id: \"" + a + "\"\naggregator_address: \"" + address_ +
                    "\"\naggregator_server_name: \"localhost\"\n" + Tls(a) +
                    "hashing_key_file: \"" + dir_ + "/hashing.key\"\n"
                    "signing_key_file: \"signing.key\"\nprofile_file: \"" + Profile() +
                    "\"\nstate_dir: \"state\"\nimport_dir: \"in\"\nmax_batch_reports: 7\n"
                    "poll_interval_ms: 100\nretry_initial_ms: 100\nretry_max_ms: 800\n" + kAreas);
    }
    agencies_config_ = entries;
    WriteAggregatorConfig(/*reports_per_second=*/120);
    WriteFile(dir_ + "/analyst.textproto", "aggregator_address: \"" + address_ +
                                               "\"\naggregator_server_name: \"localhost\"\n" +
                                               Tls("analyst"));
  }

  void TearDown() override {
    for (auto& n : nodes_) n.reset();
    aggregator_.reset();
  }

  void WriteAggregatorConfig(int reports_per_second) {
    WriteFile(dir_ + "/aggregator.textproto",
              "listen_address: \"" + address_ + "\"\n" + Tls("aggregator") + "data_dir: \"" +
                  dir_ + "/data\"\nstore_key_file: \"" + dir_ + "/store.key\"\nprofile_file: \"" +
                  Profile() + "\"\nkey_epoch: 1\nmin_cell_size: 5\nshutdown_grace_seconds: 2\n" +
                  "max_reports_per_second: " + std::to_string(reports_per_second) + "\n" +
                  kAreas + agencies_config_);
  }

  std::string Tls(const std::string& name) const {
    return "tls { ca_cert_file: \"" + pki_ + "/ca.crt\" cert_file: \"" + pki_ + "/" + name +
           ".crt\" key_file: \"" + pki_ + "/" + name + ".key\" }\n";
  }
  static std::string Profile() {
    return std::string(SAMENZICHT_SOURCE_DIR) + "/deploy/config/profile.textproto";
  }
  std::string NodeConfig(const std::string& a) const { return dir_ + "/" + a + "/node.textproto"; }
  std::string NodeDb(const std::string& a) const { return dir_ + "/" + a + "/state/node.db"; }
  std::string AggregatorDb() const { return dir_ + "/data/aggregator.db"; }

  void StartAggregator() {
    fs::remove(dir_ + "/port");
    aggregator_ = std::make_unique<Background>(
        std::vector<std::string>{AGGREGATOR_BIN, "serve", "--config", dir_ + "/aggregator.textproto",
                                 "--port-file", dir_ + "/port"},
        dir_ + "/aggregator." + std::to_string(restarts_++) + ".log");
    ASSERT_FALSE(samenzicht::testing::WaitForFile(dir_ + "/port", 20s).empty()) << aggregator_->log();
  }

  void StartNode(int i) {
    const std::string& a = agencies_[i];
    nodes_[i] = std::make_unique<Background>(
        std::vector<std::string>{AGENCY_NODE_BIN, "serve", "--config", NodeConfig(a)},
        dir_ + "/" + a + "/serve." + std::to_string(restarts_++) + ".log");
  }
  void StartNodes() {
    for (int i = 0; i < kAgencies; ++i) StartNode(i);
  }

  // Splits each agency's export into kChunks files; they are dropped into import_dir by
  // DropChunk (written under a dot name, then renamed in).
  void DropChunk(int chunk) {
    for (const auto& a : agencies_) {
      std::istringstream in(Slurp(dir_ + "/sim/" + a + ".csv"));
      std::string header, line;
      std::getline(in, header);
      std::vector<std::string> rows;
      while (std::getline(in, line)) if (!line.empty()) rows.push_back(line);
      std::string out = header + "\n";
      for (size_t r = chunk; r < rows.size(); r += kChunks) out += rows[r] + "\n";
      fs::create_directories(dir_ + "/" + a + "/in");
      std::string tmp = dir_ + "/" + a + "/in/.part" + std::to_string(chunk);
      WriteFile(tmp, out);
      fs::rename(tmp, dir_ + "/" + a + "/in/export-" + std::to_string(chunk) + ".csv");
    }
  }

  // Queued batches over every node, or -1 while a database cannot be read yet.
  int64_t Queued() const {
    int64_t total = 0;
    for (const auto& a : agencies_) {
      int64_t n = QueryInt(NodeDb(a), "SELECT COUNT(*) FROM outbox");
      if (n < 0) return -1;
      total += n;
    }
    return total;
  }
  bool ImportDirsEmpty() const {
    for (const auto& a : agencies_) {
      for (const auto& e : fs::directory_iterator(dir_ + "/" + a + "/in")) {
        if (e.path().extension() == ".csv") return false;
      }
    }
    return true;
  }

  // Waits (bounded) until every file is imported and every outbox is empty.
  void WaitUntilDelivered(std::chrono::seconds limit = 60s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (ImportDirsEmpty() && Queued() == 0) return;
      std::this_thread::sleep_for(100ms);
    }
    std::string logs;
    for (int i = 0; i < kAgencies; ++i) if (nodes_[i]) logs += nodes_[i]->log().substr(0, 4000);
    FAIL() << "not delivered within " << limit.count() << " s; queued " << Queued() << "\n"
           << logs;
  }

  // The ground-truth check: the exact total of signals (the operator's unpublished count,
  // through the same loading and counting as the query service), and the stored reports.
  // The analyst's published totals must be answered too (they are perturbed, so not equal).
  void ExpectTotalsEqualTruth() {
    RunResult published = RunCommand({AGGREGATOR_BIN, "totals", "--config",
                                      dir_ + "/analyst.textproto", "--format", "csv"});
    ASSERT_EQ(published.exit_code, 0) << published.err;
    RunResult r = RunCommand({AGGREGATOR_BIN, "exact-totals", "--config",
                              dir_ + "/aggregator.textproto", "--format", "csv"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // The overall row is the last line: persons,signals.
    std::string last = Trim(r.out);
    last = last.substr(last.find_last_of('\n') + 1);
    long signals = std::stol(last.substr(last.find_last_of(',') + 1));
    EXPECT_EQ(signals, expected_signals_) << r.out;
    EXPECT_EQ(QueryInt(AggregatorDb(), "SELECT COUNT(*) FROM reports"), expected_signals_);
    // Every report id a node assigned is stored exactly once.
    int64_t assigned = 0;
    for (const auto& a : agencies_) {
      assigned += QueryInt(NodeDb(a), "SELECT COUNT(*) FROM report_map");
      EXPECT_EQ(QueryInt(AggregatorDb(), "SELECT COUNT(*) FROM reports WHERE agency = '" + a + "'"),
                QueryInt(NodeDb(a), "SELECT COUNT(*) FROM report_map"))
          << a;
    }
    EXPECT_EQ(assigned, expected_signals_);
  }

  std::string dir_, pki_, address_, agencies_config_;
  std::vector<std::string> agencies_;
  int port_ = 0;
  int expected_signals_ = 0;
  int restarts_ = 0;
  std::unique_ptr<Background> aggregator_;
  std::unique_ptr<Background> nodes_[kAgencies];
};

TEST_F(FaultTest, AggregatorKilledFiveTimesDuringDelivery) {
  StartAggregator();
  StartNodes();
  int kills = 0;
  for (int chunk = 0; chunk < kChunks; ++chunk) {
    if (kills >= 5) {
      DropChunk(chunk);
      continue;
    }
    if (chunk % 2 == 0) {
      // Killed while the nodes are importing and delivering this chunk.
      DropChunk(chunk);
      std::this_thread::sleep_for(std::chrono::milliseconds(150 + 100 * chunk));
      aggregator_->Kill();  // SIGKILL: no chance to finish anything
    } else {
      // Killed first: the nodes import this chunk into their outboxes and their delivery
      // attempts fail until the aggregator is back (the outbox must keep every signal).
      aggregator_->Kill();
      DropChunk(chunk);
      std::this_thread::sleep_for(800ms);  // > two poll intervals: imported, attempts failed
    }
    ++kills;
    std::this_thread::sleep_for(300ms);
    StartAggregator();
  }
  EXPECT_EQ(kills, 5);
  WaitUntilDelivered();
  ExpectTotalsEqualTruth();
  // Replays happened and were answered as such (not counted): resends after the kills.
  std::string logs;
  for (int i = 0; i < kAgencies; ++i) logs += nodes_[i]->log();
  EXPECT_THAT(logs, HasSubstr("delivery attempt"));
}

TEST_F(FaultTest, NodeKilledDuringDeliveryAndRestarted) {
  WriteAggregatorConfig(/*reports_per_second=*/25);  // slow, so the kills hit mid-stream
  StartAggregator();
  StartNodes();
  for (int chunk = 0; chunk < kChunks; ++chunk) DropChunk(chunk);
  for (int round = 0; round < 4; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500 + 150 * round));
    int victim = round % kAgencies;
    nodes_[victim]->Kill();
    StartNode(victim);
  }
  WaitUntilDelivered();
  ExpectTotalsEqualTruth();
  // At least one node was killed with batches still queued and delivered them on restart.
  std::string logs;
  for (const auto& a : agencies_) {
    for (const auto& e : fs::directory_iterator(dir_ + "/" + a)) {
      if (e.path().filename().string().rfind("serve.", 0) == 0) logs += Slurp(e.path().string());
    }
  }
  EXPECT_THAT(logs, HasSubstr("from before; delivering"));
}

TEST_F(FaultTest, AggregatorUnreachableThenBack) {
  WriteAggregatorConfig(/*reports_per_second=*/0);
  StartNodes();
  for (int chunk = 0; chunk < kChunks; ++chunk) DropChunk(chunk);
  // Everything is imported and queued while nobody answers.
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!ImportDirsEmpty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(ImportDirsEmpty());
  std::this_thread::sleep_for(1500ms);  // several failed attempts with backoff
  int64_t queued = Queued();
  EXPECT_GE(queued, expected_signals_ / 7);
  EXPECT_THAT(nodes_[0]->log(), HasSubstr("stay queued; retry in"));
  StartAggregator();
  WaitUntilDelivered(30s);
  ExpectTotalsEqualTruth();
  // Graceful stop: SIGTERM ends every daemon with exit code 0.
  for (int i = 0; i < kAgencies; ++i) EXPECT_EQ(nodes_[i]->Stop(), 0) << nodes_[i]->log();
  EXPECT_EQ(aggregator_->Stop(), 0);
}

TEST_F(FaultTest, SubmitWhileUnreachableQueuesAndTheNextSubmitDelivers) {
  const std::string& a = agencies_[0];
  RunResult r = RunCommand({AGENCY_NODE_BIN, "submit", "--config", NodeConfig(a), "--in",
                            dir_ + "/sim/" + a + ".csv"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("stay in the outbox"));
  EXPECT_GT(QueryInt(NodeDb(a), "SELECT COUNT(*) FROM outbox"), 0);
  StartAggregator();
  // A second submit of another file sends both: the queued batches and the new ones.
  for (size_t i = 1; i < agencies_.size(); ++i) {
    r = RunCommand({AGENCY_NODE_BIN, "submit", "--config", NodeConfig(agencies_[i]), "--in",
                    dir_ + "/sim/" + agencies_[i] + ".csv"});
    EXPECT_EQ(r.exit_code, kExitFieldsNotUsed) << r.out << r.err;
  }
  r = RunCommand({AGENCY_NODE_BIN, "submit", "--config", NodeConfig(a), "--in",
                  dir_ + "/sim/" + a + ".csv"});
  EXPECT_EQ(r.exit_code, kExitFieldsNotUsed) << r.out << r.err;
  EXPECT_EQ(QueryInt(NodeDb(a), "SELECT COUNT(*) FROM outbox"), 0);
  ExpectTotalsEqualTruth();
}

// Starts `aggregator serve` and waits (bounded) for it to exit by itself.
RunResult ServeExpectingExit(const std::string& config, const std::string& log) {
  pid_t pid = samenzicht::testing::internal::Spawn(
      {AGGREGATOR_BIN, "serve", "--config", config}, log + ".out", log + ".err");
  RunResult r;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      r.out = Slurp(log + ".out");
      r.err = Slurp(log + ".err");
      return r;
    }
    std::this_thread::sleep_for(50ms);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  r.exit_code = 0;  // it kept serving: the caller's expectation fails
  r.err = "still serving after 20 s: " + Slurp(log + ".err");
  return r;
}

TEST_F(FaultTest, CorruptOrTruncatedDatabaseIsRefusedAtStart) {
  StartAggregator();
  const std::string& a = agencies_[0];
  RunResult r = RunCommand({AGENCY_NODE_BIN, "submit", "--config", NodeConfig(a), "--in",
                            dir_ + "/sim/" + a + ".csv"});
  ASSERT_EQ(r.exit_code, kExitFieldsNotUsed) << r.out << r.err;
  ASSERT_EQ(aggregator_->Stop(), 0);  // checkpointed, clean
  aggregator_.reset();
  const std::string good = dir_ + "/good.db";
  fs::copy_file(AggregatorDb(), good);
  const auto size = fs::file_size(good);
  ASSERT_GT(size, 8192u);

  struct Damage {
    std::string name;
    std::function<void(const std::string&)> apply;
  };
  std::vector<Damage> damages = {
      {"truncated to half", [&](const std::string& p) { fs::resize_file(p, size / 2); }},
      {"garbage in the middle",
       [&](const std::string& p) {
         std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
         f.seekp(static_cast<std::streamoff>(size / 2));
         std::string junk(4096, '\xA5');
         f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
       }},
      {"header overwritten",
       [&](const std::string& p) {
         std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
         f.write("NOT A DATABASE!!", 16);
       }},
  };
  for (const auto& d : damages) {
    SCOPED_TRACE(d.name);
    fs::remove(AggregatorDb() + "-wal");
    fs::remove(AggregatorDb() + "-shm");
    fs::copy_file(good, AggregatorDb(), fs::copy_options::overwrite_existing);
    d.apply(AggregatorDb());
    RunResult s = ServeExpectingExit(dir_ + "/aggregator.textproto", dir_ + "/corrupt");
    EXPECT_NE(s.exit_code, 0) << s.err;
    EXPECT_THAT(s.err, HasSubstr("error: ")) << s.err;
    EXPECT_THAT(s.err, HasSubstr("aggregator.db")) << s.err;
    EXPECT_THAT(s.err, ::testing::AnyOf(HasSubstr("integrity"), HasSubstr("not a database"),
                                        HasSubstr("malformed"), HasSubstr("damaged"),
                                        HasSubstr("corrupt"), HasSubstr("empty")))
        << s.err;
  }
  // The intact copy still serves the same totals.
  fs::remove(AggregatorDb() + "-wal");
  fs::remove(AggregatorDb() + "-shm");
  fs::copy_file(good, AggregatorDb(), fs::copy_options::overwrite_existing);
  StartAggregator();
  RunResult t = RunCommand({AGGREGATOR_BIN, "totals", "--config", dir_ + "/analyst.textproto",
                            "--format", "csv"});
  EXPECT_EQ(t.exit_code, 0) << t.err;
}

}  // namespace
}  // namespace samenzicht
