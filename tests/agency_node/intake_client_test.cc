// The node against a fake in-process Intake server over mutual TLS: signatures, headers,
// acks in the sent log, stable report ids across submissions, refusals, unreachable
// aggregator, retraction, and that no identifier reaches any file, log or output.
#include "agency_node/intake_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "agency_node/commands.h"
#include "agency_node/daemon.h"
#include "agency_node/store/outbox.h"
#include "agency_node/store/state_store.h"
#include "agency_node/tokeniser.h"
#include "common/files.h"
#include "crypto/key_file.h"
#include "model/config.h"
#include "tests/agency_node/fake_intake.h"
#include "tests/testing/pki.h"
#include "tests/testing/status_matchers.h"
#include "model/tokens.h"

namespace samenzicht::agency_node {
namespace {

using ::samenzicht::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSignals[] =
    "record_id,given_names,surname,date_of_birth,gender,national_id,phone,email,postcode,"
    "street,house_number,city,form,signal_date\n"
    "LEAK-1,Xandrijntje,Quirijnsdochter,1987-11-23,female,123456782,06 9876 5432,"
    "xandrijntje.q@voorbeeld.nl,9711 XZ,Zwaanhofstraat,4711X,Appingedam,sexual,2024-02-03\n"
    "LEAK-2,Zbigniew,\"Brzęczyszczykiewicz, van\",23-11-1987,male,123456783,+31 6 98765431,"
    "zbigniew@przyklad.pl,9722 QW,Oosterhamrikkade,4712Y,Delfzijl,criminal,03-02-2024\n"
    "LEAK-3,Олександр,Шевченко,31-02-1990,male,,0031698765430,,,,,,labour,\n";

// Identifiers of kSignals, in the forms they could leak in.
const std::vector<std::string>& Needles() {
  static const auto* v = new std::vector<std::string>{
      "xandrijntje", "quirijnsdochter", "zbigniew", "brzeczyszczykiewicz", "brzęczyszczykiewicz",
      "oleksandr", "shevchenko", "олександр", "шевченко", "1987-11-23", "23-11-1987",
      "19871123", "23111987", "31-02-1990", "123456782", "123456783", "0698765432",
      "698765432", "+31698765431", "98765430", "9876 5432", "voorbeeld.nl", "przyklad.pl",
      "9711xz", "9711 xz", "9722qw", "zwaanhofstraat", "oosterhamrikkade", "4711x", "4712y",
      "appingedam", "delfzijl"};
  return *v;
}

void ExpectNoIdentifier(const std::string& what, const std::string& text) {
  std::string lower = absl::AsciiStrToLower(absl::string_view(text));
  for (const auto& n : Needles()) {
    EXPECT_EQ(lower.find(absl::AsciiStrToLower(absl::string_view(n))), std::string::npos)
        << "identifier '" << n << "' found in " << what;
  }
}

std::string Slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class NodeAgainstFakeIntake : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string tag = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    pki_ = samenzicht::testing::MakePki("intake_client_test_" + tag,
                                        {{"aggregator", "server"}, {"police", "agency"}});
    ASSERT_FALSE(pki_.empty());
    dir_ = ::testing::TempDir() + "/intake_client_test_" + tag + "/node";
    std::filesystem::remove_all(dir_);
    ASSERT_OK(files::MakeDirs(dir_));
    ASSERT_OK(crypto::GenerateKeyFile(dir_ + "/hashing.key", crypto::KeyKind::kHashing, 3).status());
    ASSERT_OK_AND_ASSIGN(std::string pub,
                         crypto::GenerateKeyFile(dir_ + "/signing.key", crypto::KeyKind::kSigning));
    ASSERT_OK_AND_ASSIGN(crypto::Verifier verifier, crypto::Verifier::FromBase64(pub));
    service_ = std::make_unique<testing::FakeIntake>(std::move(verifier));
    server_ = testing::StartServer(service_.get(), samenzicht::testing::TlsFor(pki_, "aggregator"),
                                   &port_);
    ASSERT_NE(server_, nullptr);
    csv_ = dir_ + "/signals.csv";
    ASSERT_OK(files::WriteFileAtomic(csv_, kSignals, 0600));
    config_ = WriteConfig("127.0.0.1:" + std::to_string(port_));
    log_sink_ = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text_);
    log_ = std::make_shared<spdlog::logger>("test", log_sink_);
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  std::string WriteConfig(const std::string& address) {
    auto tls = samenzicht::testing::TlsFor(pki_, "police");
    std::string text = "node_id: \"police\"\naggregator_address: \"" + address +
                       "\"\ntls { ca_cert_file: \"" + tls.ca_cert_file() + "\" cert_file: \"" +
                       tls.cert_file() + "\" key_file: \"" + tls.key_file() +
                       "\" }\nhashing_key_file: \"hashing.key\"\nsigning_key_file: \"signing.key\"\n"
                       "profile_file: \"" SAMENZICHT_SOURCE_DIR "/deploy/config/profile.textproto\"\n"
                       "state_dir: \"state\"\nmax_batch_reports: 2\nareas: [\"oost\"]\n";
    std::string path = dir_ + "/node_" + std::to_string(++configs_) + ".textproto";
    EXPECT_OK(files::WriteFileAtomic(path, text, 0600));
    return path;
  }

  // kSignals sends every record, two of them without an identifier that did not parse
  // (LEAK-2's BSN fails the eleven-test, LEAK-3's date of birth is impossible): `submit`
  // ends with the fields-not-used status (exit 4), which this returns as OK once checked;
  // any other status as it is.
  absl::Status Submit(std::string* out = nullptr) {
    std::ostringstream os;
    absl::Status s = SubmitCommand(config_, csv_, *log_, os, Date{2024, 6, 15});
    stdout_text_ += os.str();
    if (out) *out = os.str();
    if (IsFieldsNotUsed(s)) {
      EXPECT_THAT(std::string(s.message()),
                  HasSubstr("every record was sent, but 2 record(s) without 2 identifier"));
      return absl::OkStatus();
    }
    return s;
  }

  // The report ids of payloads [begin, end) as received, in order.
  std::vector<std::string> ReportIds(size_t begin, size_t end) const {
    std::vector<std::string> ids;
    for (size_t i = begin; i < end; ++i) {
      for (const auto& r : service_->payloads[i].reports()) ids.push_back(r.report_id());
    }
    return ids;
  }

  std::string pki_, dir_, csv_, config_;
  int port_ = 0, configs_ = 0;
  std::unique_ptr<testing::FakeIntake> service_;
  std::unique_ptr<grpc::Server> server_;
  std::ostringstream log_text_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> log_sink_;
  std::shared_ptr<spdlog::logger> log_;
  std::string stdout_text_;
};

TEST_F(NodeAgainstFakeIntake, SubmitSignsWithTheNodeKeyAndLogsAcks) {
  std::string out;
  ASSERT_OK(Submit(&out));
  // This configuration names no revocation list: the operator is told, once.
  EXPECT_THAT(log_text_.str(),
              HasSubstr("tls names no crl_directory: a revoked aggregator certificate would not "
                        "be noticed"));
  EXPECT_THAT(out, HasSubstr("records read:    3"));
  EXPECT_THAT(out, HasSubstr("reports sent:    3 in 2 batches"));
  EXPECT_THAT(out, HasSubstr("accepted:        3"));
  ASSERT_EQ(service_->payloads.size(), 2u);  // max_batch_reports: 2
  ASSERT_OK_AND_ASSIGN(auto profile,
                       model::LoadProfile(SAMENZICHT_SOURCE_DIR "/deploy/config/profile.textproto"));
  for (size_t i = 0; i < service_->payloads.size(); ++i) {
    EXPECT_TRUE(service_->signatures_ok[i]);
    EXPECT_EQ(service_->peers[i], "police");
    const auto& p = service_->payloads[i];
    EXPECT_EQ(p.node_id(), "police");
    EXPECT_EQ(p.profile_fingerprint(), model::ProfileFingerprint(profile));
    EXPECT_EQ(p.key_epoch(), 3u);
    EXPECT_GT(p.created_unix(), 0);
  }
  // The valid BSN gives an nid token, the typo (LEAK-2) none.
  const std::vector<std::string> rules = RuleNames(profile);
  auto has_rule = [&](const v1::Report& r, const std::string& rule) {
    bool found = false;
    model::ForEachToken(r, rules, [&](const model::TokenRef& t) {
      found = found || (t.rule >= 0 && rules[t.rule] == rule);
    });
    return found;
  };
  EXPECT_TRUE(has_rule(service_->payloads[0].reports(0), "nid"));
  EXPECT_FALSE(has_rule(service_->payloads[0].reports(1), "nid"));
  EXPECT_EQ(service_->payloads[0].reports(0).form(), v1::FORM_SEXUAL);
  EXPECT_EQ(service_->payloads[0].reports(0).signal_month(), 202402u);

  ASSERT_OK_AND_ASSIGN(auto cfg, model::LoadNodeConfig(config_));
  ASSERT_OK_AND_ASSIGN(auto store, StateStore::Open(cfg.state_dir()));
  ASSERT_OK_AND_ASSIGN(auto sent, store->ListSent());
  ASSERT_EQ(sent.size(), 2u);
  for (const auto& b : sent) {
    ASSERT_TRUE(b.ack_code.has_value());
    EXPECT_EQ(*b.ack_code, 0);
    EXPECT_GT(b.ack_unix, 0);
    EXPECT_EQ(b.digest_hex.size(), 64u);
  }
  EXPECT_EQ(sent[0].batch_id, service_->payloads[0].batch_id());
  EXPECT_EQ(sent[0].accepted + sent[1].accepted, 3);
}

TEST_F(NodeAgainstFakeIntake, SecondSubmitReusesReportIdsAndCountsDuplicates) {
  ASSERT_OK(Submit());
  std::string out;
  ASSERT_OK(Submit(&out));
  ASSERT_EQ(service_->payloads.size(), 4u);
  EXPECT_EQ(ReportIds(0, 2), ReportIds(2, 4));
  EXPECT_NE(service_->payloads[0].batch_id(), service_->payloads[2].batch_id());
  EXPECT_THAT(out, HasSubstr("accepted:        0"));
  EXPECT_THAT(out, HasSubstr("duplicates:      3"));
}

// The state folder is lost (its disk, a reinstall) and the export is imported again, as
// the operations guide says: every record gets the report id it had, so the aggregator
// counts nothing twice. The ids come from the node's signing key, not from node.db.
TEST_F(NodeAgainstFakeIntake, ReImportAfterLosingTheStateFolderCountsNothingTwice) {
  ASSERT_OK(Submit());
  ASSERT_OK_AND_ASSIGN(auto cfg, model::LoadNodeConfig(config_));
  std::filesystem::remove_all(cfg.state_dir());
  std::string out;
  ASSERT_OK(Submit(&out));
  ASSERT_EQ(service_->payloads.size(), 4u);
  EXPECT_EQ(ReportIds(0, 2), ReportIds(2, 4));
  EXPECT_THAT(out, HasSubstr("accepted:        0"));
  EXPECT_THAT(out, HasSubstr("duplicates:      3"));
}

TEST_F(NodeAgainstFakeIntake, RefusedReportIsNamedByReportAndRecordIdAndFails) {
  service_->refuse_first_report = true;
  std::string out;
  EXPECT_THAT(Submit(&out), StatusIs(absl::StatusCode::kFailedPrecondition, "refused"));
  EXPECT_THAT(out, HasSubstr("(record LEAK-1) refused: INVALID_ARGUMENT: token 0"));
  ASSERT_OK_AND_ASSIGN(auto cfg, model::LoadNodeConfig(config_));
  ASSERT_OK_AND_ASSIGN(auto store, StateStore::Open(cfg.state_dir()));
  ASSERT_OK_AND_ASSIGN(auto sent, store->ListSent());
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(*sent[0].ack_code, 3);
  EXPECT_EQ(sent[0].refused_reports, 1);
}

// Partial acceptance is not a refusal: the batch counts as delivered, only the listed report
// as refused, and `sent` names it (report id, record id, field, reason).
TEST_F(NodeAgainstFakeIntake, PartialAcceptanceCountsOnlyTheListedReportAsRefused) {
  service_->partially_accept_first_batch = true;
  std::string out;
  EXPECT_THAT(Submit(&out), StatusIs(absl::StatusCode::kFailedPrecondition,
                                     "0 of 2 batch(es) and 1 report(s) were refused"));
  EXPECT_THAT(out, HasSubstr("accepted:        2"));
  EXPECT_THAT(out, HasSubstr("refused:         1 report(s), 0 batch(es); 1 batch(es) stored "
                             "except the refused reports"));
  EXPECT_THAT(out, HasSubstr("(record LEAK-1) refused: INVALID_ARGUMENT: area is not"));
  ASSERT_OK_AND_ASSIGN(auto cfg, model::LoadNodeConfig(config_));
  {
    ASSERT_OK_AND_ASSIGN(auto store, StateStore::Open(cfg.state_dir()));
    ASSERT_OK_AND_ASSIGN(auto sent, store->ListSent());
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(*sent[0].ack_code, 0);
    EXPECT_EQ(sent[0].accepted, 1);
    EXPECT_EQ(sent[0].refused_reports, 1);
    EXPECT_EQ(sent[1].refused_reports, 0);
    ASSERT_OK_AND_ASSIGN(auto reports, store->ListReports(sent[0].batch_id));
    ASSERT_EQ(reports.size(), 2u);
    ASSERT_TRUE(reports[0].error_code.has_value());
    EXPECT_EQ(*reports[0].error_code, 3);
    EXPECT_EQ(reports[0].error_field, "area");
    EXPECT_FALSE(reports[1].error_code.has_value());
  }
  std::ostringstream table, json;
  ASSERT_OK(SentCommand(config_, "table", table));
  const std::string refused_id = service_->payloads[0].reports(0).report_id();
  EXPECT_THAT(table.str(), HasSubstr("  refused report " + refused_id +
                                     ": INVALID_ARGUMENT area: area is not a district "
                                     "configured on the aggregator"));
  // The operator finds the refused signal by the agency's own record id.
  EXPECT_THAT(table.str(), HasSubstr("  refused report " + refused_id +
                                     ": INVALID_ARGUMENT area: area is not a district "
                                     "configured on the aggregator (record LEAK-1)\n"));
  EXPECT_THAT(table.str(), ::testing::Not(HasSubstr("LEAK-2")));  // only refused ones named
  ASSERT_OK(SentCommand(config_, "json", json));
  EXPECT_THAT(json.str(), HasSubstr("\"refused\":{\"code\":\"INVALID_ARGUMENT\",\"field\":\"area\""));
  EXPECT_THAT(json.str(), HasSubstr("\"record_id\":\"LEAK-1\"}"));
  EXPECT_THAT(json.str(), ::testing::Not(HasSubstr("LEAK-2")));
}

// A refused batch without a per-report list refused every report of it.
TEST_F(NodeAgainstFakeIntake, ARefusedBatchCountsEveryReportAsRefused) {
  service_->refuse_batch = true;
  std::string out;
  EXPECT_THAT(Submit(&out), StatusIs(absl::StatusCode::kFailedPrecondition,
                                     "2 of 2 batch(es) and 3 report(s) were refused"));
  EXPECT_THAT(out, HasSubstr("accepted:        0"));
  ASSERT_OK_AND_ASSIGN(auto cfg, model::LoadNodeConfig(config_));
  ASSERT_OK_AND_ASSIGN(auto store, StateStore::Open(cfg.state_dir()));
  ASSERT_OK_AND_ASSIGN(auto sent, store->ListSent());
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(*sent[0].ack_code, 9);
  EXPECT_EQ(sent[0].refused_reports, 2);
  EXPECT_EQ(sent[1].refused_reports, 1);
}

// One report is refused (an area the aggregator does not know), then the aggregator
// restarts while the next batch is in flight: the refused report is still named (report id,
// record id, reason, field) in the output, though the attempt failed.
TEST_F(NodeAgainstFakeIntake, ARefusalFollowedByARestartIsStillNamed) {
  service_->partially_accept_first_batch = true;
  service_->fail_stream_at_batch = 2;
  std::string out;
  EXPECT_THAT(Submit(&out), StatusIs(absl::StatusCode::kUnavailable, "restarting"));
  const std::string refused_id = service_->payloads[0].reports(0).report_id();
  EXPECT_THAT(out, HasSubstr("report " + refused_id + " (record LEAK-1) refused: "
                             "INVALID_ARGUMENT: area is not a district configured on the "
                             "aggregator (field area)"));
  // And `sent` names it by report id, field and reason.
  std::ostringstream table;
  ASSERT_OK(SentCommand(config_, "table", table));
  EXPECT_THAT(table.str(), HasSubstr("refused report " + refused_id + ": INVALID_ARGUMENT area"));
  EXPECT_THAT(table.str(), HasSubstr("configured on the aggregator (record LEAK-1)\n"));
  EXPECT_THAT(table.str(), HasSubstr("queued: 1 batch(es), 1 report(s)"));
}

// The node's log (`agency-node serve`) names the refused report by record id, field and
// reason, although the aggregator restarts while the next batch of the attempt is in flight.
TEST_F(NodeAgainstFakeIntake, TheDaemonLogNamesARefusedRecordDespiteARestart) {
  service_->partially_accept_first_batch = true;
  service_->fail_stream_at_batch = 2;
  ASSERT_OK(files::MakeDirs(dir_ + "/in"));
  ASSERT_OK(files::WriteFileAtomic(dir_ + "/in/signals.csv", kSignals, 0600));
  ASSERT_OK_AND_ASSIGN(v1::NodeConfig config, model::LoadNodeConfig(config_));
  config.set_import_dir(dir_ + "/in");
  config.set_poll_interval_ms(20);
  config.set_retry_initial_ms(20);
  config.set_retry_max_ms(50);
  StopSignal stop;
  absl::Status result;
  std::thread daemon([&] { result = RunDaemon(config, stop, *log_); });
  // Until the second attempt has delivered the batch the restart cut off (at most 20 s).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  auto acknowledged = [&] {
    auto store = StateStore::Open(config.state_dir());
    if (!store.ok()) return 0;
    auto sent = (*store)->ListSent();
    int n = 0;
    for (const auto& b : sent.ok() ? *sent : std::vector<SentBatch>{}) n += b.ack_code.has_value();
    return n;
  };
  while (acknowledged() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  stop.Stop();
  daemon.join();
  EXPECT_OK(result);
  ASSERT_GE(service_->payloads.size(), 3u);
  log_->flush();
  const std::string refused_id = service_->payloads[0].reports(0).report_id();
  EXPECT_THAT(log_text_.str(), HasSubstr("report " + refused_id + " (record LEAK-1) refused: "
                                         "INVALID_ARGUMENT: area is not a district configured "
                                         "on the aggregator (field area)"));
  ExpectNoIdentifier("the daemon's log", log_text_.str());
}

// The config for a fresh state folder of its own (`tag`), same aggregator and keys.
std::string ConfigWithState(const std::string& config, const std::string& tag) {
  std::ifstream f(config);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string text = ss.str();
  const std::string from = "state_dir: \"state\"";
  text.replace(text.find(from), from.size(), "state_dir: \"state_" + tag + "\"");
  std::string path = config + "." + tag;
  EXPECT_OK(files::WriteFileAtomic(path, text, 0600));
  return path;
}

// A batch refused for something other than its own content is never dropped: a passing
// state keeps it queued for the next attempt; a standing one holds it (listed by `sent`,
// queued again by `resend`); only a refusal of its content (INVALID_ARGUMENT) ends it.
TEST_F(NodeAgainstFakeIntake, EachRefusalCodeKeepsOrDropsTheBatchAsItShould) {
  struct Case {
    grpc::StatusCode code;
    RefusalKind kind;
  };
  const Case cases[] = {
      {grpc::StatusCode::FAILED_PRECONDITION, RefusalKind::kHold},
      {grpc::StatusCode::PERMISSION_DENIED, RefusalKind::kHold},
      {grpc::StatusCode::UNAUTHENTICATED, RefusalKind::kHold},
      {grpc::StatusCode::NOT_FOUND, RefusalKind::kHold},
      {grpc::StatusCode::RESOURCE_EXHAUSTED, RefusalKind::kRetry},
      {grpc::StatusCode::UNAVAILABLE, RefusalKind::kRetry},
      {grpc::StatusCode::INTERNAL, RefusalKind::kRetry},
      {grpc::StatusCode::ABORTED, RefusalKind::kRetry},
      {grpc::StatusCode::INVALID_ARGUMENT, RefusalKind::kFinal},
  };
  const std::string base = config_;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.code);
    EXPECT_EQ(RefusalKindOf(c.code), c.kind);
    config_ = ConfigWithState(base, std::to_string(c.code));
    service_->refuse_code = c.code;
    std::string out;
    EXPECT_FALSE(Submit(&out).ok());
    ASSERT_OK_AND_ASSIGN(auto cfg, model::LoadNodeConfig(config_));
    {
      ASSERT_OK_AND_ASSIGN(auto outbox, Outbox::Open(cfg.state_dir()));
      ASSERT_OK_AND_ASSIGN(auto queued, outbox->Size());
      ASSERT_OK_AND_ASSIGN(auto held, outbox->Held());
      switch (c.kind) {
        case RefusalKind::kHold:
          EXPECT_EQ(held.size(), 2u);
          EXPECT_EQ(queued.first, 0);
          EXPECT_THAT(out, HasSubstr("held:            2 batch(es)"));
          break;
        case RefusalKind::kRetry:
          EXPECT_TRUE(held.empty());
          EXPECT_EQ(queued.first, 2);  // the first was refused for now, the second not sent
          EXPECT_THAT(out, HasSubstr("stay in the outbox"));
          break;
        case RefusalKind::kFinal:
          EXPECT_TRUE(held.empty());
          EXPECT_EQ(queued.first, 0);
          break;
      }
    }
    std::ostringstream table;
    ASSERT_OK(SentCommand(config_, "table", table));
    if (c.kind == RefusalKind::kHold) {
      EXPECT_THAT(table.str(), HasSubstr("2 batch(es) held in the outbox"));
      // The cause is fixed: resend, and the next attempt delivers everything.
      service_->refuse_code = 0;
      std::ostringstream resent;
      ASSERT_OK(ResendCommand(config_, resent));
      EXPECT_THAT(resent.str(), HasSubstr("queued again: 2 held batch(es)"));
      ASSERT_OK_AND_ASSIGN(auto node, Delivery::New(cfg, Date{2024, 6, 15}));
      ASSERT_OK_AND_ASSIGN(SubmitSummary sum, node->DrainOnce());
      EXPECT_EQ(sum.batches_delivered, 2);
      EXPECT_EQ(sum.reports_sent, 3);
      ASSERT_OK_AND_ASSIGN(auto outbox, Outbox::Open(cfg.state_dir()));
      ASSERT_OK_AND_ASSIGN(auto left, outbox->Size());
      EXPECT_EQ(left.first, 0);
    }
  }
}

// A node whose max_batch_reports exceeds the aggregator's: the refused batch is split to
// the size the aggregator names and its reports delivered in the same attempt, under the
// same report ids and signed again; retried unchanged it would be refused forever and hold
// up the outbox. (A RESOURCE_EXHAUSTED without a size, a full disk, is retried unchanged:
// EachRefusalCodeKeepsOrDropsTheBatchAsItShould.)
TEST_F(NodeAgainstFakeIntake, ABatchTooLargeForTheAggregatorIsSplitAndDelivered) {
  service_->max_reports = 1;  // the node sends batches of 2 (max_batch_reports: 2)
  std::string out;
  ASSERT_OK(Submit(&out));
  ASSERT_EQ(service_->payloads.size(), 4u);  // [2 refused] [1] [1] [1]
  EXPECT_EQ(service_->payloads[0].reports_size(), 2);
  const std::vector<std::string> refused = ReportIds(0, 1);
  std::set<std::string> delivered;
  for (size_t i = 1; i < service_->payloads.size(); ++i) {
    EXPECT_EQ(service_->payloads[i].reports_size(), 1);
    EXPECT_NE(service_->payloads[i].batch_id(), service_->payloads[0].batch_id());
    for (const auto& r : service_->payloads[i].reports()) delivered.insert(r.report_id());
  }
  for (bool ok : service_->signatures_ok) EXPECT_TRUE(ok);
  EXPECT_EQ(delivered.size(), 3u);
  for (const auto& id : refused) {
    EXPECT_TRUE(delivered.count(id)) << id;
    EXPECT_TRUE(service_->Stored(id)) << id;
  }
  ASSERT_OK_AND_ASSIGN(auto cfg, model::LoadNodeConfig(config_));
  ASSERT_OK_AND_ASSIGN(auto outbox, Outbox::Open(cfg.state_dir()));
  ASSERT_OK_AND_ASSIGN(auto left, outbox->Size());
  EXPECT_EQ(left.first, 0);
  ASSERT_OK_AND_ASSIGN(auto held, outbox->Held());
  EXPECT_TRUE(held.empty());
  EXPECT_THAT(out, HasSubstr("queued again in 2 batches of at most 1 report(s)"));
  EXPECT_THAT(out, HasSubstr("reports sent:    3 in 3 batches"));
  EXPECT_THAT(out, HasSubstr("refused:         0 report(s), 0 batch(es)"));
}

// A record whose batch is still in the outbox is retracted right after the batch is
// delivered, not looked for at the aggregator (where it is not yet) and then counted.
TEST_F(NodeAgainstFakeIntake, RetractingAQueuedRecordRetractsItAfterDelivery) {
  service_->refuse_code = grpc::StatusCode::UNAVAILABLE;  // everything stays queued
  EXPECT_FALSE(Submit().ok());
  std::ostringstream os;
  ASSERT_OK(RetractCommand(config_, {"LEAK-1"}, os));
  EXPECT_THAT(os.str(), HasSubstr("queued: record LEAK-1 is still in the outbox"));
  EXPECT_TRUE(service_->retract_requests.empty());
  service_->refuse_code = 0;
  ASSERT_OK_AND_ASSIGN(auto cfg, model::LoadNodeConfig(config_));
  ASSERT_OK_AND_ASSIGN(auto node, Delivery::New(cfg, Date{2024, 6, 15}));
  ASSERT_OK(node->DrainOnce().status());
  ASSERT_OK_AND_ASSIGN(auto store, StateStore::Open(cfg.state_dir()));
  ASSERT_OK_AND_ASSIGN(std::string report_id, store->FindReportId("LEAK-1"));
  ASSERT_OK_AND_ASSIGN(std::string other, store->FindReportId("LEAK-2"));
  EXPECT_FALSE(service_->Stored(report_id));  // delivered, then retracted
  EXPECT_TRUE(service_->Stored(other));
  EXPECT_EQ(service_->retract_requests, std::vector<std::string>{report_id});
  ASSERT_OK_AND_ASSIGN(auto pending, store->QueuedRetractions());
  EXPECT_TRUE(pending.empty());
}

TEST_F(NodeAgainstFakeIntake, UnreachableAggregatorNamesAddressAndStatus) {
  server_->Shutdown();
  server_.reset();
  config_ = WriteConfig("127.0.0.1:" + std::to_string(port_));
  absl::Status s = Submit();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnavailable,
                          "127.0.0.1:" + std::to_string(port_)));
  EXPECT_THAT(std::string(s.message()), HasSubstr("UNAVAILABLE"));
  ASSERT_OK_AND_ASSIGN(auto cfg, model::LoadNodeConfig(config_));
  ASSERT_OK_AND_ASSIGN(auto store, StateStore::Open(cfg.state_dir()));
  ASSERT_OK_AND_ASSIGN(auto sent, store->ListSent());
  ASSERT_EQ(sent.size(), 1u);  // logged before sending, never acknowledged
  EXPECT_FALSE(sent[0].ack_code.has_value());
}

TEST_F(NodeAgainstFakeIntake, ANodeWithTheCrlRefusesARevokedAggregatorCertificate) {
  // The node's configuration names the deployment's revocation list.
  std::string text = Slurp(config_);
  size_t at = text.find(" }\nhashing_key_file");
  ASSERT_NE(at, std::string::npos);
  text.insert(at, " crl_directory: \"" + pki_ + "/crl\"");
  ASSERT_OK(files::WriteFileAtomic(config_, text, 0600));
  ASSERT_OK(Submit());
  size_t stored = service_->payloads.size();
  ASSERT_GT(stored, 0u);
  EXPECT_THAT(log_text_.str(), Not(HasSubstr("crl_directory")));  // no warning: it has one

  // The aggregator's certificate is revoked; the server still presents it.
  std::string script = std::string(SAMENZICHT_SOURCE_DIR) + "/deploy/pki.sh";
  ASSERT_EQ(std::system((script + " revoke " + pki_ + " aggregator >/dev/null").c_str()), 0);
  absl::Status s = Submit();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(service_->payloads.size(), stored) << "a batch reached a revoked aggregator";
}

TEST_F(NodeAgainstFakeIntake, RetractMapsRecordIds) {
  ASSERT_OK(Submit());
  std::ostringstream os;
  ASSERT_OK(RetractCommand(config_, {"LEAK-1", "LEAK-3"}, os));
  EXPECT_THAT(os.str(), HasSubstr("retracted: 2"));
  std::ostringstream again;
  ASSERT_OK(RetractCommand(config_, {"LEAK-1"}, again));
  EXPECT_THAT(again.str(), HasSubstr("not found at the aggregator: record LEAK-1"));
  std::ostringstream none;
  EXPECT_THAT(RetractCommand(config_, {"NEVER-SENT"}, none),
              StatusIs(absl::StatusCode::kNotFound, "NEVER-SENT"));
}

TEST_F(NodeAgainstFakeIntake, SentCommandFormats) {
  ASSERT_OK(Submit());
  for (const char* fmt : {"table", "csv", "json"}) {
    std::ostringstream os;
    ASSERT_OK(SentCommand(config_, fmt, os));
    EXPECT_THAT(os.str(), HasSubstr(service_->payloads[0].batch_id())) << fmt;
    EXPECT_THAT(os.str(), HasSubstr(service_->payloads[1].batch_id())) << fmt;
  }
  std::ostringstream json;
  ASSERT_OK(SentCommand(config_, "json", json));
  EXPECT_THAT(json.str(), HasSubstr("\"categories\":\"form=sexual age_band=27_plus gender=female month=2024-02\""));
  std::ostringstream bad;
  EXPECT_THAT(SentCommand(config_, "xml", bad), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(NodeAgainstFakeIntake, NoIdentifierInStateOutputOrLog) {
  ASSERT_OK(Submit());
  std::ostringstream sent;
  ASSERT_OK(SentCommand(config_, "json", sent));
  log_->flush();
  EXPECT_THAT(log_text_.str(), HasSubstr("field national_id"));  // the warnings were logged
  ExpectNoIdentifier("the log", log_text_.str());
  ExpectNoIdentifier("stdout", stdout_text_ + sent.str());
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_ + "/state")) {
    if (e.is_regular_file()) ExpectNoIdentifier(e.path().string(), Slurp(e.path().string()));
  }
  for (const auto& p : service_->payloads) ExpectNoIdentifier("a payload", p.SerializeAsString());
}

}  // namespace
}  // namespace samenzicht::agency_node
