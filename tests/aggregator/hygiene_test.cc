// Key and process hygiene of the aggregator: settings that would weaken it are refused at
// start, the audit key stays out of the data folder, and `aggregator report` (which may
// load the store key) runs without core dumps.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "aggregator/admin/audited_store.h"
#include "aggregator/query/estimate_cache.h"
#include "aggregator/server/server.h"
#include "crypto/key_file.h"
#include "model/config.h"
#include "tests/testing/pki.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"

namespace samenzicht::aggregator {
namespace {

using ::samenzicht::testing::StatusIs;
namespace fs = std::filesystem;

std::string Fresh(const std::string& name) {
  std::string d = ::testing::TempDir() + "/hygiene_test/" + name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

TEST(HygieneTest, AMinimumCellSizeOfOneIsRefused) {
  std::string d = Fresh("k1");
  v1::AggregatorConfig c;
  c.set_listen_address("127.0.0.1:0");
  c.set_data_dir(d + "/data");
  c.set_store_key_file(d + "/store.key");
  c.set_profile_file(d + "/profile.textproto");
  c.set_min_cell_size(1);
  EXPECT_THAT(Server::Start(c), StatusIs(absl::StatusCode::kInvalidArgument, "min_cell_size 1"));

  std::ofstream(d + "/aggregator.textproto")
      << "data_dir: \"data\"\nstore_key_file: \"store.key\"\nprofile_file: \"p.textproto\"\n"
         "areas: \"oost\"\nmin_cell_size: 1\n";
  EXPECT_THAT(model::LoadAggregatorConfig(d + "/aggregator.textproto"),
              StatusIs(absl::StatusCode::kInvalidArgument, "min_cell_size 1"));
}

TEST(HygieneTest, TheAuditKeyNeverLivesInTheDataFolder) {
  std::string d = Fresh("audit_key");
  v1::AggregatorConfig c;
  c.set_data_dir(d + "/data");
  c.set_store_key_file(d + "/keys/store.key");
  fs::create_directories(d + "/data");
  fs::create_directories(d + "/keys");

  // Unset: created next to the store key, not in the data folder.
  ASSERT_OK(LoadAuditSigner(c));
  EXPECT_TRUE(fs::exists(d + "/keys/" + kDefaultAuditKeyName));
  EXPECT_FALSE(fs::exists(d + "/data/" + kDefaultAuditKeyName));

  // Set to a file inside the data folder (also through a relative path): refused.
  ASSERT_OK(crypto::GenerateKeyFile(d + "/data/audit.key", crypto::KeyKind::kSigning).status());
  c.set_audit_key_file(d + "/data/audit.key");
  EXPECT_THAT(LoadAuditSigner(c), StatusIs(absl::StatusCode::kFailedPrecondition, "inside data_dir"));
  c.set_audit_key_file(d + "/keys/../data/./audit.key");
  EXPECT_THAT(LoadAuditSigner(c), StatusIs(absl::StatusCode::kFailedPrecondition, "inside data_dir"));

  // A store key inside the data folder gives no default either.
  c.clear_audit_key_file();
  c.set_store_key_file(d + "/data/store.key");
  EXPECT_THAT(LoadAuditSigner(c), StatusIs(absl::StatusCode::kFailedPrecondition, "audit-keygen"));

  // The old default still in the data folder: a clear error saying to move it.
  c.set_store_key_file(d + "/keys/store.key");
  ASSERT_OK(crypto::GenerateKeyFile(d + "/data/" + kDefaultAuditKeyName, crypto::KeyKind::kSigning)
                .status());
  EXPECT_THAT(LoadAuditSigner(c), StatusIs(absl::StatusCode::kFailedPrecondition, "move it out"));
}

v1::HiddenNumberEstimate Estimate(double value) {
  v1::HiddenNumberEstimate e;
  e.set_available(true);
  e.set_estimate(value);
  return e;
}

TEST(EstimateCacheTest, KeepsOnlyTheNewestGenerationAndAtMostItsBound) {
  EstimateCache cache(4);
  int computed = 0;
  auto compute = [&] { return Estimate(++computed); };
  // Many distinct periods: the cache never holds more than its bound.
  for (uint32_t m = 1; m <= 40; ++m) cache.Get({1, 202401, 202400 + m}, compute);
  EXPECT_EQ(computed, 40);
  EXPECT_EQ(cache.size(), 4u);
  // A cached one is answered without computing.
  EXPECT_EQ(cache.Get({1, 202401, 202440}, compute).estimate(), 40);
  EXPECT_EQ(computed, 40);
  // A newer store generation drops every older entry.
  cache.Get({2, 202401, 202402}, compute);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(EstimateCacheTest, OneComputationAtATimeOthersAreAnsweredAtOnce) {
  EstimateCache cache;
  std::mutex gate;
  gate.lock();
  std::atomic<bool> started{false};
  std::thread slow([&] {
    cache.Get({1, 1, 1}, [&] {
      started = true;
      std::lock_guard<std::mutex> wait(gate);  // holds the computation until released
      return Estimate(7);
    });
  });
  while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const auto t0 = std::chrono::steady_clock::now();
  v1::HiddenNumberEstimate busy = cache.Get({1, 2, 2}, [] { return Estimate(1); });
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
  EXPECT_FALSE(busy.available());
  EXPECT_EQ(busy.reason(), EstimateCache::kBusyReason);
  gate.unlock();
  slow.join();
  EXPECT_EQ(cache.Get({1, 1, 1}, [] { return Estimate(0); }).estimate(), 7);
  EXPECT_EQ(cache.Get({1, 2, 2}, [] { return Estimate(3); }).estimate(), 3);
}

#ifdef AGGREGATOR_BIN
// `aggregator totals` with the deployment's CRL folder in its client configuration refuses
// an aggregator whose certificate was revoked, before anything is asked.
TEST(HygieneTest, AnalystTotalsRefuseARevokedAggregatorCertificate) {
  std::string d = Fresh("totals_crl");
  std::string pki = samenzicht::testing::MakePki(
      "hygiene_totals_crl", {{"aggregator", "server"}, {"gemeente", "analyst"}});
  ASSERT_FALSE(pki.empty());
  v1::AggregatorConfig c;
  c.set_listen_address("127.0.0.1:0");
  *c.mutable_tls() = samenzicht::testing::TlsFor(pki, "aggregator");
  c.set_data_dir(d + "/data");
  c.set_store_key_file(d + "/store.key");
  c.set_audit_key_file(d + "/audit.key");
  c.set_profile_file(SAMENZICHT_SOURCE_DIR "/deploy/config/profile.textproto");
  c.set_key_epoch(1);
  c.set_min_cell_size(5);
  c.add_areas("oost");
  ASSERT_OK(crypto::GenerateKeyFile(d + "/store.key", crypto::KeyKind::kStore).status());
  ASSERT_OK(crypto::GenerateKeyFile(d + "/audit.key", crypto::KeyKind::kSigning).status());
  auto server = Server::Start(c);
  ASSERT_OK(server);

  v1::TlsFiles tls = samenzicht::testing::TlsFor(pki, "gemeente");
  std::ofstream(d + "/client.textproto")
      << "aggregator_address: \"127.0.0.1:" << (*server)->port() << "\"\n"
      << "aggregator_server_name: \"localhost\"\n"
      << "tls { ca_cert_file: \"" << tls.ca_cert_file() << "\" cert_file: \"" << tls.cert_file()
      << "\" key_file: \"" << tls.key_file() << "\" crl_directory: \"" << pki << "/crl\" }\n";
  auto totals = [&] {
    return samenzicht::testing::RunCommand(
        {AGGREGATOR_BIN, "totals", "--config", d + "/client.textproto"});
  };
  samenzicht::testing::RunResult before = totals();
  EXPECT_EQ(before.err.find("certificate verify failed"), std::string::npos) << before.err;

  std::string script = std::string(SAMENZICHT_SOURCE_DIR) + "/deploy/pki.sh";
  ASSERT_EQ(std::system((script + " revoke " + pki + " aggregator >/dev/null").c_str()), 0);
  samenzicht::testing::RunResult after = totals();  // the server still shows the revoked one
  EXPECT_NE(after.exit_code, 0);
  EXPECT_NE(after.err.find("certificate verify failed"), std::string::npos) << after.err;
  (*server)->Shutdown();
  (*server)->Wait();
}

// `aggregator report` blocks reading its configuration from a FIFO; meanwhile its limits
// show whether core dumps were turned off before anything was loaded.
// Runs `aggregator ARGS...` (one of them the FIFO "@fifo", which it blocks reading) and
// checks, while it waits, that its core dump limit is 0: a command that loads a key turns
// core dumps off before it reads anything.
void ExpectRunsWithoutCoreDumps(const std::string& tag, std::vector<std::string> args) {
  std::string d = Fresh(tag);
  std::string fifo = d + "/input";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (std::string& a : args) {
    if (a == "@fifo") a = fifo;
    if (a.rfind("@dir", 0) == 0) a = d + a.substr(4);
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    // Core dumps allowed as far as this process may, so only the command can turn them off.
    struct rlimit core;
    ::getrlimit(RLIMIT_CORE, &core);
    struct rlimit open_core = {RLIM_INFINITY, RLIM_INFINITY};
    if (::setrlimit(RLIMIT_CORE, &open_core) != 0) {
      core.rlim_cur = core.rlim_max;
      ::setrlimit(RLIMIT_CORE, &core);
    }
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    std::vector<char*> argv = {const_cast<char*>(AGGREGATOR_BIN)};
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(AGGREGATOR_BIN, argv.data());
    ::_exit(127);
  }
  ASSERT_GT(pid, 0);
  std::string limits;
  bool blocked = false;
  for (int i = 0; i < 100 && !blocked; ++i) {  // at most 10 s
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::ifstream in("/proc/" + std::to_string(pid) + "/wchan");
    std::string wchan;
    in >> wchan;
    if (wchan.find("partner") != std::string::npos || wchan.find("fifo") != std::string::npos ||
        wchan.find("pipe") != std::string::npos) {
      blocked = true;
    }
  }
  std::ifstream in("/proc/" + std::to_string(pid) + "/limits");
  std::stringstream ss;
  ss << in.rdbuf();
  limits = ss.str();
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  ASSERT_TRUE(blocked) << "aggregator " << args.at(0) << " did not wait for its input";
  size_t at = limits.find("Max core file size");
  ASSERT_NE(at, std::string::npos) << limits;
  std::string line = limits.substr(at, limits.find('\n', at) - at);
  std::istringstream fields(line.substr(std::string("Max core file size").size()));
  std::string soft, hard;
  fields >> soft >> hard;
  EXPECT_EQ(soft, "0") << args.at(0) << ": " << line;
  EXPECT_EQ(hard, "0") << args.at(0) << ": " << line;
}

TEST(HygieneTest, ReportRunsWithoutCoreDumps) {
  ExpectRunsWithoutCoreDumps("report_core", {"report", "--config", "@fifo", "--period",
                                             "2024-01..2024-01", "--out", "@dir/report.html"});
}

// The backup loads the audit signing key (and opens the store) to record itself.
TEST(HygieneTest, BackupRunsWithoutCoreDumps) {
  ExpectRunsWithoutCoreDumps("backup_core", {"backup", "--config", "@fifo", "--out",
                                             "@dir/backup.db"});
}
#endif

}  // namespace
}  // namespace samenzicht::aggregator
