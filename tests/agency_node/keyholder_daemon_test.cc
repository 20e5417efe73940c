// The daemon (`agency-node serve`) with the key service: a node whose configuration names
// the key service's client configuration instead of a hashing key delivers exactly the
// tokens `pseudonymise --keyholder` makes of the same records; while the key service is
// stopped or refuses (its rate limit) the export stays in the import folder, nothing is
// queued, sent or moved, the log names the reason (never an identifier), and once the
// service answers again the same file is delivered whole; a configuration naming both key
// sources, or neither, is refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agency_node/commands.h"
#include "agency_node/daemon.h"
#include "agency_node/store/outbox.h"
#include "agency_node/store/state_store.h"
#include "agency_node/tokeniser.h"
#include "common/files.h"
#include "crypto/key_file.h"
#include "crypto/oprf.h"
#include "google/protobuf/util/json_util.h"
#include "keyholder/server.h"
#include "model/config.h"
#include "model/tokens.h"
#include "samenzicht/v1/report.pb.h"
#include "tests/agency_node/fake_intake.h"
#include "tests/agency_node/keyholder_fixture.h"
#include "tests/testing/keyholder_service.h"
#include "tests/testing/pki.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::agency_node {
namespace {

namespace fs = std::filesystem;
using ::samenzicht::testing::StatusIs;
using ::testing::HasSubstr;

using ::samenzicht::agency_node::testing::kKeyholderSignals;

void ExpectNoIdentifier(const std::string& what, const std::string& text) {
  const std::string lower = absl::AsciiStrToLower(text);
  for (const char* n : {"wietske", "hoogeveenstra", "1991-08-17", "111222333", "5555 1234",
                        "0612345678", "9725", "9711aa", "paterswoldseweg", "4713z", "fatima",
                        "amrani", "2007-11-30", "jansen"}) {
    EXPECT_EQ(lower.find(n), std::string::npos) << "identifier '" << n << "' found in " << what;
  }
}

// A log sink the test may read while the daemon writes to it.
class TextSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::string Text() {
    std::lock_guard<std::mutex> l(mutex_);
    return text_;
  }
  int Count(const std::string& needle) {
    const std::string t = Text();
    int n = 0;
    for (size_t at = t.find(needle); at != std::string::npos; at = t.find(needle, at + 1)) ++n;
    return n;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t buf;
    formatter_->format(msg, buf);
    text_.append(buf.data(), buf.size());
  }
  void flush_() override {}

 private:
  std::string text_;
};

bool WaitUntil(const std::function<bool()>& done, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

class KeyholderDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    dir_ = ::testing::TempDir() + "/keyholder_daemon/" + name;
    fs::remove_all(dir_);
    node_ = dir_ + "/police";
    ASSERT_OK(files::MakeDirs(dir_ + "/service"));
    ASSERT_OK(files::MakeDirs(node_));
    pki_ = samenzicht::testing::MakePki(
        absl::StrCat("keyholder_daemon_", name),
        {{"keyholder", "server"}, {"aggregator", "server"}, {"police", "agency"}});
    ASSERT_FALSE(pki_.empty());
    ASSERT_OK(crypto::oprf::GenerateServerKeyFile(dir_ + "/service/oprf-1.key", 1));
    ASSERT_OK(crypto::GenerateKeyFile(dir_ + "/service/audit.key", crypto::KeyKind::kSigning).status());
    ASSERT_OK_AND_ASSIGN(server_, keyholder::Server::Start(KeyholderConfig("127.0.0.1:0", 0)));
    keyholder_port_ = server_->port();

    // The aggregator.
    ASSERT_OK_AND_ASSIGN(std::string pub,
                         crypto::GenerateKeyFile(node_ + "/signing.key", crypto::KeyKind::kSigning));
    ASSERT_OK_AND_ASSIGN(crypto::Verifier verifier, crypto::Verifier::FromBase64(pub));
    intake_ = std::make_unique<testing::FakeIntake>(std::move(verifier));
    intake_server_ = testing::StartServer(intake_.get(), samenzicht::testing::TlsFor(pki_, "aggregator"),
                                          &intake_port_);
    ASSERT_NE(intake_server_, nullptr);

    // The node: its certificate, its signing key, the key service's client configuration
    // (the same file `pseudonymise --keyholder` takes); no hashing key.
    for (const char* f : {"ca.crt", "police.crt", "police.key"}) {
      fs::copy_file(pki_ + "/" + f, node_ + "/" + f);
    }
    ASSERT_OK(files::WriteFileAtomic(
        node_ + "/keyholder.textproto",
        samenzicht::testing::KeyServiceClientText(keyholder_port_, 1, "ca.crt", "police.crt", "police.key"),
        0600));
    ASSERT_OK(files::WriteFileAtomic(node_ + "/in.csv", kKeyholderSignals, 0600));
    ASSERT_OK(files::WriteFileAtomic(
        node_ + "/node.textproto",
        absl::StrCat("node_id: \"police\"\naggregator_address: \"127.0.0.1:", intake_port_, "\"\n",
                     "tls { ca_cert_file: \"ca.crt\" cert_file: \"police.crt\" key_file: \"police.key\" }\n",
                     "keyholder_config_file: \"keyholder.textproto\"\n",
                     "signing_key_file: \"signing.key\"\n",
                     "profile_file: \"" SAMENZICHT_SOURCE_DIR "/deploy/config/profile.textproto\"\n",
                     "state_dir: \"state\"\nimport_dir: \"import\"\nareas: [\"zuid\", \"oost\"]\n",
                     "poll_interval_ms: 20\nretry_initial_ms: 20\nretry_max_ms: 200\n",
                     "processed_retention_days: 1\n"),
        0600));
    sink_ = std::make_shared<TextSink>();
    log_ = std::make_shared<spdlog::logger>("test", sink_);
  }
  void TearDown() override {
    StopDaemon();
    if (intake_server_) intake_server_->Shutdown();
  }

  v1::KeyholderConfig KeyholderConfig(const std::string& address, uint64_t per_hour) {
    v1::KeyholderConfig config = samenzicht::testing::KeyServiceConfig(
        pki_, "keyholder", dir_ + "/service/data", dir_ + "/service/oprf-1.key", dir_ + "/service/audit.key");
    config.set_listen_address(address);
    config.set_max_evaluations_per_node_per_hour(per_hour);
    return config;
  }

  void StartDaemon() {
    ASSERT_OK_AND_ASSIGN(config_, model::LoadNodeConfig(node_ + "/node.textproto"));
    daemon_ = std::thread([this] { result_ = RunDaemon(config_, stop_, *log_); });
  }
  void StopDaemon() {
    if (!daemon_.joinable()) return;
    stop_.Stop();
    daemon_.join();
  }
  void DropExport() {
    ASSERT_OK(files::MakeDirs(node_ + "/import"));
    fs::copy_file(node_ + "/in.csv", node_ + "/import/export.csv");
  }
  int Acknowledged() {
    auto store = StateStore::Open(config_.state_dir());
    if (!store.ok()) return 0;
    auto sent = (*store)->ListSent();
    int n = 0;
    for (const auto& b : sent.ok() ? *sent : std::vector<SentBatch>{}) n += b.ack_code.has_value();
    return n;
  }
  std::vector<std::string> Files(const std::string& sub) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(node_ + "/import/" + sub, ec)) {
      if (e.is_regular_file()) out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  // record id -> {"rule:base64 value"} of what `pseudonymise --keyholder` writes.
  std::map<std::string, std::set<std::string>> Pseudonymised() {
    PseudonymiseOptions o;
    o.keyholder = node_ + "/keyholder.textproto";
    o.in = node_ + "/in.csv";
    o.out = dir_ + "/pseudonymised.jsonl";
    o.map = dir_ + "/map.csv";
    o.profile = SAMENZICHT_SOURCE_DIR "/deploy/config/profile.textproto";
    o.areas = {"zuid", "oost"};
    std::ostringstream os;
    EXPECT_OK(PseudonymiseCommand(o, *log_, os));
    std::map<std::string, std::string> record_of;  // report id -> record id
    std::ifstream map(o.map);
    std::string line;
    std::getline(map, line);
    while (std::getline(map, line)) {
      std::vector<std::string> f = absl::StrSplit(line, ',');
      if (f.size() == 2) record_of[f[1]] = f[0];
    }
    std::map<std::string, std::set<std::string>> out;
    std::ifstream jsonl(o.out);
    while (std::getline(jsonl, line)) {
      v1::Report r;
      EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(line, &r).ok());
      for (const auto& t : r.tokens()) out[record_of[r.report_id()]].insert(absl::StrCat(t.rule(), ":", t.value()));
    }
    return out;
  }

  // The same for what reached the aggregator (read after the daemon stopped).
  std::map<std::string, std::set<std::string>> Delivered() {
    std::map<std::string, std::set<std::string>> out;
    auto profile = model::LoadProfile(config_.profile_file());
    EXPECT_OK(profile.status());
    auto store = StateStore::Open(config_.state_dir());
    EXPECT_OK(store.status());
    std::map<std::string, std::string> record_of;
    for (const char* rec : {"P-1", "P-2", "P-3"}) {
      auto id = (*store)->FindReportId(rec);
      if (id.ok()) record_of[*id] = rec;
    }
    for (v1::BatchPayload p : intake_->payloads) {
      for (v1::Report& r : *p.mutable_reports()) {
        EXPECT_OK(model::UnpackTokens(RuleNames(*profile), &r));
        EXPECT_EQ(record_of.count(r.report_id()), 1u) << "a report of no record of the export";
        for (const auto& t : r.tokens()) out[record_of[r.report_id()]].insert(absl::StrCat(t.rule(), ":", t.value()));
      }
    }
    return out;
  }

  std::string dir_, node_, pki_;
  int keyholder_port_ = 0, intake_port_ = 0;
  std::unique_ptr<keyholder::Server> server_;
  std::unique_ptr<testing::FakeIntake> intake_;
  std::unique_ptr<grpc::Server> intake_server_;
  std::shared_ptr<TextSink> sink_;
  std::shared_ptr<spdlog::logger> log_;
  v1::NodeConfig config_;
  StopSignal stop_;
  std::thread daemon_;
  absl::Status result_;
};

TEST_F(KeyholderDaemonTest, DeliversTheTokensPseudonymiseMakesWithTheKeyService) {
  StartDaemon();
  DropExport();
  ASSERT_TRUE(WaitUntil([&] { return Acknowledged() >= 1; }, std::chrono::seconds(20)))
      << sink_->Text();
  StopDaemon();
  EXPECT_OK(result_);
  const uint64_t daemon_evaluations = server_->service()->UsedToday("police");

  const auto delivered = Delivered();
  const auto expected = Pseudonymised();
  ASSERT_EQ(expected.size(), 3u);
  size_t tokens = 0;
  for (const auto& [record, t] : expected) {
    EXPECT_FALSE(t.empty()) << record;
    tokens += t.size();
  }
  EXPECT_EQ(delivered, expected) << "the daemon's tokens differ from pseudonymise --keyholder's";
  // The key service made them: it counted one evaluation per distinct value part of the
  // export for this node, for the daemon and again for pseudonymise.
  EXPECT_EQ(daemon_evaluations, testing::DistinctOracleInputs(kKeyholderSignals));
  EXPECT_LT(daemon_evaluations * 2, tokens);
  EXPECT_EQ(server_->service()->UsedToday("police"), 2 * daemon_evaluations);
  EXPECT_EQ(Files(""), std::vector<std::string>{});
  EXPECT_EQ(Files("done"), std::vector<std::string>{"export.csv"});
  ExpectNoIdentifier("the daemon's log", sink_->Text());
}

TEST_F(KeyholderDaemonTest, WhileTheKeyServiceIsDownTheExportStaysAndIsDeliveredLater) {
  server_.reset();  // the key service is stopped
  StartDaemon();
  DropExport();
  // Several attempts fail, each named in the log.
  ASSERT_TRUE(WaitUntil([&] { return sink_->Count("key service") >= 3; }, std::chrono::seconds(20)))
      << sink_->Text();
  EXPECT_EQ(Files(""), std::vector<std::string>{"export.csv"}) << "the export must stay in the import folder";
  EXPECT_EQ(Files("done"), std::vector<std::string>{});
  EXPECT_EQ(Files("failed"), std::vector<std::string>{});
  EXPECT_EQ(Acknowledged(), 0);
  {
    auto outbox = Outbox::Open(config_.state_dir());
    ASSERT_OK(outbox.status());
    auto size = (*outbox)->Size();
    ASSERT_OK(size.status());
    EXPECT_EQ(size->first, 0) << "nothing is queued without tokens";
  }
  const std::string down_log = sink_->Text();
  EXPECT_THAT(down_log, HasSubstr("export.csv: not imported yet"));
  EXPECT_THAT(down_log, HasSubstr("UNAVAILABLE"));
  EXPECT_THAT(down_log, HasSubstr(absl::StrCat("key service at 127.0.0.1:", keyholder_port_)));

  // The key service comes back on the same address: the same file is delivered whole.
  ASSERT_OK_AND_ASSIGN(server_, keyholder::Server::Start(KeyholderConfig(
                                    absl::StrCat("127.0.0.1:", keyholder_port_), 0)));
  ASSERT_TRUE(WaitUntil([&] { return Acknowledged() >= 1; }, std::chrono::seconds(60)))
      << sink_->Text();
  StopDaemon();
  EXPECT_OK(result_);
  EXPECT_EQ(Files(""), std::vector<std::string>{});
  EXPECT_EQ(Files("done"), std::vector<std::string>{"export.csv"});
  EXPECT_EQ(Files("failed"), std::vector<std::string>{});
  EXPECT_EQ(Delivered(), Pseudonymised()) << "every record of the export arrives, with its tokens";
  ExpectNoIdentifier("the daemon's log", sink_->Text());
}

TEST_F(KeyholderDaemonTest, ARateLimitRefusalKeepsTheExportAndIsNamed) {
  server_.reset();
  ASSERT_OK_AND_ASSIGN(server_, keyholder::Server::Start(KeyholderConfig(
                                    absl::StrCat("127.0.0.1:", keyholder_port_), 5)));
  StartDaemon();
  DropExport();
  ASSERT_TRUE(WaitUntil([&] { return sink_->Count("RESOURCE_EXHAUSTED") >= 2; }, std::chrono::seconds(20)))
      << sink_->Text();
  StopDaemon();
  EXPECT_OK(result_);
  EXPECT_EQ(Files(""), std::vector<std::string>{"export.csv"});
  EXPECT_EQ(Files("done"), std::vector<std::string>{});
  EXPECT_EQ(Files("failed"), std::vector<std::string>{});
  EXPECT_EQ(Acknowledged(), 0);
  EXPECT_TRUE(intake_->payloads.empty());
  EXPECT_EQ(server_->service()->UsedThisHour("police"), 0u) << "nothing was evaluated";
  // The operator reads which file waits, why (the service's own reason) and until when.
  EXPECT_THAT(sink_->Text(),
              HasSubstr(absl::StrCat("export.csv: not imported yet: the key service made no tokens "
                                     "(RESOURCE_EXHAUSTED: key service at 127.0.0.1:", keyholder_port_,
                                     ": node police asked for ")));
  EXPECT_THAT(sink_->Text(), HasSubstr("this hour are used; nothing was evaluated"));
  EXPECT_THAT(sink_->Text(), HasSubstr(absl::StrCat("the file stays in ", config_.import_dir(),
                                                    ", imported again in ")));
  if (::testing::Test::HasFailure()) std::cerr << sink_->Text();
  ExpectNoIdentifier("the daemon's log", sink_->Text());
}

TEST_F(KeyholderDaemonTest, AConfigWithBothKeySourcesOrNeitherIsRefused) {
  ASSERT_OK_AND_ASSIGN(v1::NodeConfig config, model::LoadNodeConfig(node_ + "/node.textproto"));
  ASSERT_OK(crypto::GenerateKeyFile(node_ + "/hashing.key", crypto::KeyKind::kHashing, 1).status());
  StopSignal stop;
  stop.Stop();  // a daemon that starts returns at once (OK)

  v1::NodeConfig both = config;
  both.set_hashing_key_file(node_ + "/hashing.key");
  absl::Status s = RunDaemon(both, stop, *log_);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, "hashing_key_file"));
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, "keyholder_config_file"));
  // `submit` with such a file is refused the same way, also when given --keyholder.
  ASSERT_OK(files::WriteFileAtomic(node_ + "/both.textproto",
                                   absl::StrCat(files::ReadFile(node_ + "/node.textproto").value(),
                                                "hashing_key_file: \"hashing.key\"\n"),
                                   0600));
  std::ostringstream os;
  EXPECT_THAT(SubmitCommand(node_ + "/both.textproto", node_ + "/in.csv", *log_, os, Today(), false,
                            node_ + "/keyholder.textproto"),
              StatusIs(absl::StatusCode::kInvalidArgument, "hashing_key_file"));

  v1::NodeConfig neither = config;
  neither.clear_keyholder_config_file();
  s = RunDaemon(neither, stop, *log_);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, "hashing_key_file"));
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, "keyholder_config_file"));
  EXPECT_TRUE(intake_->payloads.empty());
  EXPECT_EQ(server_->service()->UsedToday("police"), 0u);
}

}  // namespace
}  // namespace samenzicht::agency_node
