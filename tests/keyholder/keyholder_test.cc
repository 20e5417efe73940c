// The key service: a batch evaluates over mutual TLS and agrees with the key; a certificate
// of another role is refused; the hourly and daily limits refuse before evaluating
// anything and survive a restart; the trail holds every evaluation and `audit verify`
// finds tampering.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/sqlite/sqlite.h"
#include "crypto/encoding.h"
#include "crypto/key_file.h"
#include "crypto/oprf.h"
#include "crypto/signature.h"
#include "keyholder/commands.h"
#include "keyholder/key_service.h"
#include "keyholder/server.h"
#include "rpc/tls.h"
#include "samenzicht/v1/keyholder.grpc.pb.h"
#include "tests/testing/keyholder_service.h"
#include "tests/testing/pki.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::keyholder {
namespace {

using ::samenzicht::testing::StatusIs;
namespace oprf = crypto::oprf;

const rpc::Peer kPolice{"police", rpc::Role::kAgency};

std::string Blinded(const std::vector<std::string_view>& inputs, oprf::BlindBatch* out = nullptr) {
  auto b = oprf::BlindBatch::New(inputs);
  EXPECT_TRUE(b.ok());
  std::string e = b->blinded_elements();
  if (out != nullptr) *out = std::move(*b);
  return e;
}

uint64_t EvaluationsInTrail(const Trail& t, const std::string& node) {
  uint64_t n = 0;
  for (const auto& e : t.entries) {
    if (e.event != "evaluation" || e.actor != node) continue;
    const size_t p = e.details.find("\"evaluations\":");
    n += std::stoull(e.details.substr(p + 14));
  }
  return n;
}

class KeyServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/keyservice";
    std::filesystem::remove_all(dir_);
    ASSERT_OK_AND_ASSIGN(signer_, crypto::Signer::Generate());
  }
  std::unique_ptr<KeyService> Open(Limits limits) {
    std::vector<oprf::EpochKey> keys;
    keys.push_back({1, *oprf::ServerKey::Derive(std::string(32, 'k'), "test")});
    auto s = KeyService::Open(std::move(keys), dir_, limits, signer_.get(), [this] { return now_; });
    EXPECT_OK(s);
    return s.ok() ? std::move(*s) : nullptr;
  }
  std::string dir_;
  std::unique_ptr<crypto::Signer> signer_;
  int64_t now_ = int64_t{1767225600} * 1000;  // 2026-01-01 00:00 UTC
};

TEST_F(KeyServiceTest, HourlyLimitRefusesBeforeEvaluatingAndSurvivesRestart) {
  Limits limits;
  limits.per_hour = 10;
  limits.per_day = 25;
  auto service = Open(limits);
  ASSERT_NE(service, nullptr);
  std::vector<std::string_view> eight(8, "x"), three(3, "y");
  ASSERT_OK(service->Evaluate(kPolice, 1, Blinded(eight)));
  EXPECT_THAT(service->Evaluate(kPolice, 1, Blinded(three)),
              StatusIs(absl::StatusCode::kResourceExhausted, "this hour"));
  EXPECT_EQ(service->UsedThisHour("police"), 8u) << "a refused call must not be charged";
  // Another node has its own allowance.
  ASSERT_OK(service->Evaluate({"zorg", rpc::Role::kAgency}, 1, Blinded(three)));
  ASSERT_OK(service->Evaluate(kPolice, 1, Blinded({"z", "z"})));  // exactly 10

  // A restart does not reset the counts: they are rebuilt from the trail.
  service.reset();
  service = Open(limits);
  ASSERT_NE(service, nullptr);
  EXPECT_EQ(service->UsedThisHour("police"), 10u);
  EXPECT_THAT(service->Evaluate(kPolice, 1, Blinded({"a"})),
              StatusIs(absl::StatusCode::kResourceExhausted));

  // The next hour the hourly allowance is back; the daily one still counts.
  now_ += int64_t{3600} * 1000;
  ASSERT_OK(service->Evaluate(kPolice, 1, Blinded(eight)));
  EXPECT_EQ(service->UsedToday("police"), 18u);
  now_ += int64_t{3600} * 1000;
  EXPECT_THAT(service->Evaluate(kPolice, 1, Blinded(eight)),  // 26 > 25 a day
              StatusIs(absl::StatusCode::kResourceExhausted, "today"));
  EXPECT_EQ(service->UsedToday("police"), 18u);
}

TEST_F(KeyServiceTest, DailyLimitRefuses) {
  Limits limits;
  limits.per_hour = 10;
  limits.per_day = 15;
  auto service = Open(limits);
  ASSERT_NE(service, nullptr);
  std::vector<std::string_view> ten(10, "x");
  ASSERT_OK(service->Evaluate(kPolice, 1, Blinded(ten)));
  now_ += int64_t{3600} * 1000;
  EXPECT_THAT(service->Evaluate(kPolice, 1, Blinded(ten)),
              StatusIs(absl::StatusCode::kResourceExhausted, "today"));
  EXPECT_EQ(service->UsedToday("police"), 10u);
  now_ += int64_t{24} * 3600 * 1000;
  ASSERT_OK(service->Evaluate(kPolice, 1, Blinded(ten)));
}

TEST_F(KeyServiceTest, RefusesWrongRoleUnknownEpochAndInvalidElements) {
  auto service = Open(Limits{});
  ASSERT_NE(service, nullptr);
  const std::string blinded = Blinded({"x"});
  for (rpc::Role r : {rpc::Role::kAnalyst, rpc::Role::kPrivacyOfficer, rpc::Role::kAdmin}) {
    EXPECT_THAT(service->Evaluate({"someone", r}, 1, blinded),
                StatusIs(absl::StatusCode::kPermissionDenied, "only agency nodes"));
  }
  EXPECT_THAT(service->Evaluate(kPolice, 2, blinded), StatusIs(absl::StatusCode::kNotFound, "epoch 2"));
  EXPECT_THAT(service->Evaluate(kPolice, 1, blinded + std::string(32, '\xff')),
              StatusIs(absl::StatusCode::kInvalidArgument, "blinded element 1"));
  EXPECT_EQ(service->UsedThisHour("police"), 0u) << "a refused batch is not charged";
  ASSERT_OK_AND_ASSIGN(Trail trail, ReadTrail(dir_));
  int denied = 0;
  for (const auto& e : trail.entries) denied += e.event == "permission_denied";
  EXPECT_EQ(denied, 3);
  EXPECT_EQ(EvaluationsInTrail(trail, "police"), 0u);
}

// The privacy officer compares two key services' reports row by row for the epoch they
// serve together: the first service's report keeps an older epoch it served alone apart.
TEST_F(KeyServiceTest, AuditReportCountsPerDayNodeAndEpoch) {
  std::vector<oprf::EpochKey> keys;
  keys.push_back({4, *oprf::ServerKey::Derive(std::string(32, 'k'), "test")});
  keys.push_back({5, *oprf::ServerKey::Derive(std::string(32, 'l'), "test")});
  ASSERT_OK_AND_ASSIGN(auto service, KeyService::Open(std::move(keys), dir_, Limits{}, signer_.get(),
                                                      [this] { return now_; }));
  ASSERT_OK(service->Evaluate(kPolice, 4, Blinded({"a", "b", "c"})));
  ASSERT_OK(service->Evaluate(kPolice, 5, Blinded({"a", "b"})));
  ASSERT_OK(service->Evaluate(kPolice, 5, Blinded({"d", "e", "f"})));
  EXPECT_THAT(service->Evaluate({"someone", rpc::Role::kAnalyst}, 5, Blinded({"a"})),
              StatusIs(absl::StatusCode::kPermissionDenied));
  std::ostringstream report;
  ASSERT_OK(AuditReportCommand(dir_, crypto::Base64Encode(signer_->public_key()), report));
  const std::string r = report.str();
  ASSERT_NE(r.find("day,node,epoch"), std::string::npos) << r;
  EXPECT_EQ(r.substr(r.find("day,node,epoch")),
            "day,node,epoch,evaluations,refused_calls\n"
            "2026-01-01,police,4,3,0\n"
            "2026-01-01,police,5,5,0\n"
            "2026-01-01,someone,,0,1\n");
}

TEST_F(KeyServiceTest, TrailRecordsEveryEvaluationAndTamperingIsDetected) {
  auto service = Open(Limits{});
  ASSERT_NE(service, nullptr);
  uint64_t total = 0;
  for (int call = 1; call <= 5; ++call) {
    std::vector<std::string_view> in(call, "v");
    ASSERT_OK(service->Evaluate(kPolice, 1, Blinded(in)));
    total += call;
  }
  service.reset();
  ASSERT_OK_AND_ASSIGN(Trail trail, ReadTrail(dir_));
  EXPECT_EQ(EvaluationsInTrail(trail, "police"), total);
  EXPECT_EQ(trail.entries.size(), 6u);  // start + 5 calls
  const std::string pk = crypto::Base64Encode(signer_->public_key());
  std::ostringstream os;
  ASSERT_OK(AuditVerifyCommand(dir_, pk, {}, os));
  EXPECT_NE(os.str().find("6 entries"), std::string::npos) << os.str();

  // Someone lowers a count after the fact.
  {
    sqlite::OpenOptions o;
    o.label = "tamper";
    ASSERT_OK_AND_ASSIGN(auto db, sqlite::Database::Open(dir_ + "/keyholder.db", o));
    ASSERT_OK(db->Exec("UPDATE audit SET details = replace(details, '\"evaluations\":4', "
                       "'\"evaluations\":1') WHERE seq = 5"));
    ASSERT_EQ(db->Changes(), 1);
  }
  std::ostringstream os2;
  EXPECT_THAT(AuditVerifyCommand(dir_, pk, {}, os2), StatusIs(absl::StatusCode::kDataLoss, "entry 5"));
  // Or deletes an entry.
  {
    sqlite::OpenOptions o;
    o.label = "tamper";
    ASSERT_OK_AND_ASSIGN(auto db, sqlite::Database::Open(dir_ + "/keyholder.db", o));
    ASSERT_OK(db->Exec("UPDATE audit SET details = replace(details, '\"evaluations\":1', "
                       "'\"evaluations\":4') WHERE seq = 5"));
    std::ostringstream os3;
    ASSERT_OK(AuditVerifyCommand(dir_, pk, {}, os3));
    ASSERT_OK(db->Exec("DELETE FROM audit WHERE seq = 3"));
  }
  std::ostringstream os4;
  EXPECT_THAT(AuditVerifyCommand(dir_, pk, {}, os4), StatusIs(absl::StatusCode::kDataLoss));
  // A trail verified with another key than its signer's fails.
  std::ostringstream os5;
  auto other = *crypto::Signer::Generate();
  EXPECT_FALSE(AuditVerifyCommand(dir_, crypto::Base64Encode(other->public_key()), {}, os5).ok());
}

std::vector<std::string> Events(const Trail& t) {
  std::vector<std::string> out;
  for (const auto& e : t.entries) out.push_back(e.event);
  return out;
}

// A node retrying at its limit (the daemon's backoff tops out at 30 s: about 120 calls an
// hour) leaves one entry when first refused and one with the count when the window is
// over, not one per call; the count survives a crash; the chain verifies, the report
// counts every refused call, and a lowered count is detected.
TEST_F(KeyServiceTest, RepeatedRefusalsAreOneEntryPerWindowWithTheirCount) {
  Limits limits;
  limits.per_hour = 10;
  auto service = Open(limits);
  ASSERT_NE(service, nullptr);
  std::vector<std::string_view> eight(8, "x"), three(3, "y");
  ASSERT_OK(service->Evaluate(kPolice, 1, Blinded(eight)));
  for (int call = 0; call < 50; ++call) {  // 00:00:30 to 00:25:00
    now_ += 30 * 1000;
    EXPECT_THAT(service->Evaluate(kPolice, 1, Blinded(three)),
                StatusIs(absl::StatusCode::kResourceExhausted, "this hour"));
  }
  ASSERT_OK_AND_ASSIGN(Trail trail, ReadTrail(dir_));
  EXPECT_EQ(Events(trail), (std::vector<std::string>{"start", "evaluation", "limit_refused"}))
      << "50 refusals in one hour";

  // A crash now: the count is on disk (a copy of the database as it is stands in for it).
  const std::string crashed = ::testing::TempDir() + "/keyservice-crashed";
  std::filesystem::remove_all(crashed);
  std::filesystem::create_directories(crashed);
  for (const char* f : {"keyholder.db", "keyholder.db-wal"}) {
    if (std::filesystem::exists(dir_ + "/" + f)) std::filesystem::copy_file(dir_ + "/" + f, crashed + "/" + f);
  }

  // The next hour: the node's next call closes the window with one entry.
  now_ = int64_t{1767225600} * 1000 + int64_t{3600} * 1000 + 5000;
  ASSERT_OK(service->Evaluate(kPolice, 1, Blinded(eight)));
  for (int call = 0; call < 20; ++call) {
    now_ += 30 * 1000;
    EXPECT_FALSE(service->Evaluate(kPolice, 1, Blinded(three)).ok());
  }
  service.reset();  // a stop writes the open window's count
  ASSERT_OK_AND_ASSIGN(trail, ReadTrail(dir_));
  EXPECT_EQ(Events(trail), (std::vector<std::string>{"start", "evaluation", "limit_refused",
                                                    "limit_refused_repeated", "evaluation",
                                                    "limit_refused", "limit_refused_repeated"}));
  EXPECT_EQ(trail.entries[3].actor, "police");
  EXPECT_EQ(trail.entries[3].details,
            "{\"limit\":\"hour\",\"window_start_ms\":1767225600000,\"epoch\":1,\"refused_calls\":49,"
            "\"asked\":147,\"first_ms\":1767225660000,\"last_ms\":1767227100000}");
  EXPECT_EQ(JsonCount(trail.entries[6].details, "refused_calls"), 19u);
  const std::string pk = crypto::Base64Encode(signer_->public_key());
  std::ostringstream report;
  ASSERT_OK(AuditReportCommand(dir_, pk, report));
  EXPECT_NE(report.str().find("\n2026-01-01,police,1,16,70\n"), std::string::npos) << report.str();

  // The crashed copy: its next start writes the 49 counted refusals before its start entry.
  {
    std::vector<oprf::EpochKey> keys;
    keys.push_back({1, *oprf::ServerKey::Derive(std::string(32, 'k'), "test")});
    ASSERT_OK_AND_ASSIGN(auto restarted, KeyService::Open(std::move(keys), crashed, limits, signer_.get(),
                                                          [this] { return now_; }));
  }
  ASSERT_OK_AND_ASSIGN(Trail after_crash, ReadTrail(crashed));
  EXPECT_EQ(Events(after_crash), (std::vector<std::string>{"start", "evaluation", "limit_refused",
                                                          "limit_refused_repeated", "start"}));
  EXPECT_EQ(JsonCount(after_crash.entries[3].details, "refused_calls"), 49u);
  std::ostringstream crash_report;
  ASSERT_OK(AuditReportCommand(crashed, pk, crash_report));
  EXPECT_NE(crash_report.str().find("\n2026-01-01,police,1,8,50\n"), std::string::npos) << crash_report.str();
  std::filesystem::remove_all(crashed);

  // Someone lowers a count after the fact.
  {
    sqlite::OpenOptions o;
    o.label = "tamper";
    ASSERT_OK_AND_ASSIGN(auto db, sqlite::Database::Open(dir_ + "/keyholder.db", o));
    ASSERT_OK(db->Exec("UPDATE audit SET details = replace(details, '\"refused_calls\":49', "
                       "'\"refused_calls\":1') WHERE seq = 4"));
    ASSERT_EQ(db->Changes(), 1);
  }
  std::ostringstream os;
  EXPECT_THAT(AuditVerifyCommand(dir_, pk, {}, os), StatusIs(absl::StatusCode::kDataLoss, "entry 4"));
}

// The service's own log follows the trail: a node retrying every 30 s at its hourly limit
// gives one line for its first refusal and one line for the rest of that hour (with the
// count), not a line per call; another node's refusal in the same hour has its own line.
TEST_F(KeyServiceTest, RepeatedRefusalsAreOneServiceLogLinePerNodeAndWindow) {
  std::ostringstream log;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "keyholder-test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log)));
  Limits limits;
  limits.per_hour = 10;
  {
    auto service = Open(limits);
    ASSERT_NE(service, nullptr);
    const rpc::Peer zorg{"zorg", rpc::Role::kAgency};
    std::vector<std::string_view> eight(8, "x"), three(3, "y");
    ASSERT_OK(service->Evaluate(kPolice, 1, Blinded(eight)));
    for (int call = 0; call < 120; ++call) {  // 00:00:30 to 01:00:00 minus 30 s: one hour
      now_ += 30 * 1000;
      if (call == 100) {
        EXPECT_THAT(service->Evaluate(zorg, 1, Blinded(std::vector<std::string_view>(11, "z"))),
                    StatusIs(absl::StatusCode::kResourceExhausted));
      }
      if (call == 119) break;
      EXPECT_THAT(service->Evaluate(kPolice, 1, Blinded(three)),
                  StatusIs(absl::StatusCode::kResourceExhausted, "this hour"));
    }
    spdlog::default_logger()->flush();
    auto lines_with = [&log](const std::string& what) {
      int n = 0;
      std::istringstream in(log.str());
      for (std::string line; std::getline(in, line);) n += line.find(what) != std::string::npos;
      return n;
    };
    // During the hour: police's first refusal and zorg's, nothing for police's 118 others.
    EXPECT_EQ(lines_with("evaluation for police refused"), 1) << log.str();
    EXPECT_EQ(lines_with("evaluation for zorg refused"), 1) << log.str();
    EXPECT_EQ(lines_with("evaluation for police refused: RESOURCE_EXHAUSTED: node police asked "
                         "for 3 evaluations; 8 of its 10 this hour are used"),
              1)
        << log.str();

    // The next hour: police's next (answered) call writes the hour's count as one line.
    now_ = int64_t{1767225600} * 1000 + int64_t{3600} * 1000 + 5000;
    ASSERT_OK(service->Evaluate(kPolice, 1, Blinded(eight)));
    spdlog::default_logger()->flush();
    EXPECT_EQ(lines_with("evaluation for police refused"), 2) << log.str();
    EXPECT_EQ(lines_with("evaluation for police refused 118 more time(s) at the hourly limit "
                         "from 2026-01-01T00:01:00Z to 2026-01-01T00:59:30Z (354 evaluation(s) "
                         "asked, epoch 1); trail entry limit_refused_repeated"),
              1)
        << log.str();
    EXPECT_EQ(lines_with("evaluation for zorg refused"), 1) << log.str();
  }
  spdlog::set_default_logger(previous);
  // The trail agrees: police's first refusal and one entry with the 118 others.
  ASSERT_OK_AND_ASSIGN(Trail trail, ReadTrail(dir_));
  EXPECT_EQ(Events(trail), (std::vector<std::string>{"start", "evaluation", "limit_refused",
                                                    "limit_refused", "limit_refused_repeated",
                                                    "evaluation"}));
  EXPECT_EQ(JsonCount(trail.entries[4].details, "refused_calls"), 118u);
}

TEST_F(KeyServiceTest, CheckpointsCatchATruncatedTrail) {
  Limits limits;
  limits.checkpoint_every = 3;
  auto service = Open(limits);
  ASSERT_NE(service, nullptr);
  for (int call = 0; call < 5; ++call) ASSERT_OK(service->Evaluate(kPolice, 1, Blinded({"v"})));
  service.reset();  // entries 1 (start) to 6
  const std::string cp = dir_ + "/checkpoints/000000000006.checkpoint";
  ASSERT_TRUE(std::filesystem::exists(dir_ + "/checkpoints/000000000003.checkpoint"));
  ASSERT_TRUE(std::filesystem::exists(cp));
  const std::string pk = crypto::Base64Encode(signer_->public_key());
  std::ostringstream os;
  ASSERT_OK(AuditVerifyCommand(dir_, pk, {cp}, os));
  {
    sqlite::OpenOptions o;
    o.label = "tamper";
    ASSERT_OK_AND_ASSIGN(auto db, sqlite::Database::Open(dir_ + "/keyholder.db", o));
    ASSERT_OK(db->Exec("DELETE FROM audit WHERE seq >= 5"));  // the last two evaluations
  }
  std::ostringstream os2;
  EXPECT_OK(AuditVerifyCommand(dir_, pk, {}, os2)) << "a cut tail alone still chains";
  std::ostringstream os3;
  EXPECT_THAT(AuditVerifyCommand(dir_, pk, {cp}, os3), StatusIs(absl::StatusCode::kDataLoss));
}

// Over gRPC with the deployment's certificates: a batch evaluates and agrees with the
// key; an analyst's certificate is refused.
// Through the gRPC server (its own log line per refused call was the ~120 lines an hour):
// 30 calls refused at the hourly limit leave one line in the service log.
TEST(KeyholderServerTest, ACallerRetryingAtItsLimitIsOneLogLine) {
  const std::string tmp = ::testing::TempDir() + "/keyholder_server_log";
  std::filesystem::remove_all(tmp);
  std::filesystem::create_directories(tmp);
  const std::string pki =
      samenzicht::testing::MakePki("keyholder_server_log", {{"keyholder", "server"}, {"police", "agency"}});
  ASSERT_FALSE(pki.empty());
  ASSERT_OK(oprf::GenerateServerKeyFile(tmp + "/oprf-1.key", 1));
  std::ostringstream pub_out, note;
  ASSERT_OK(AuditKeygenCommand(tmp + "/audit.key", pub_out, note));
  v1::KeyholderConfig config = samenzicht::testing::KeyServiceConfig(
      pki, "keyholder", tmp + "/data", tmp + "/oprf-1.key", tmp + "/audit.key");
  config.set_max_evaluations_per_node_per_hour(2);
  std::ostringstream log;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "keyholder-server-test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log)));
  const int64_t hour_before = absl::ToUnixSeconds(absl::Now()) / 3600;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Server> server, Server::Start(config));
    ASSERT_OK_AND_ASSIGN(auto ch, rpc::Connect(absl::StrCat("127.0.0.1:", server->port()),
                                               samenzicht::testing::TlsFor(pki, "police"), ""));
    auto stub = v1::KeyHolder::NewStub(ch);
    for (int call = 0; call < 31; ++call) {
      std::vector<std::string_view> two(2, "a");
      v1::EvaluateRequest req;
      req.set_epoch(1);
      req.set_blinded_elements(Blinded(two));
      grpc::ClientContext ctx;
      v1::EvaluateResponse resp;
      grpc::Status st = stub->Evaluate(&ctx, req, &resp);
      EXPECT_EQ(st.error_code(), call == 0 ? grpc::StatusCode::OK : grpc::StatusCode::RESOURCE_EXHAUSTED)
          << call << ": " << st.error_message();
    }
    spdlog::default_logger()->flush();
    const std::string during = log.str();
    int refused_lines = 0;
    for (size_t p = during.find("evaluation for police refused"); p != std::string::npos;
         p = during.find("evaluation for police refused", p + 1)) {
      ++refused_lines;
    }
    // An hour boundary during the calls would open a second window (a second line).
    if (absl::ToUnixSeconds(absl::Now()) / 3600 == hour_before) {
      EXPECT_EQ(refused_lines, 1) << during;
    }
    server->Shutdown();
  }
  spdlog::default_logger()->flush();
  spdlog::set_default_logger(previous);
  // At the stop, the 29 further refusals are one line (and one trail entry).
  if (absl::ToUnixSeconds(absl::Now()) / 3600 == hour_before) {
    EXPECT_NE(log.str().find("evaluation for police refused 29 more time(s) at the hourly limit"),
              std::string::npos)
        << log.str();
  }
  std::filesystem::remove_all(tmp);
}

TEST(KeyholderServerTest, BatchEvaluatesForAgencyAndOtherRolesAreRefused) {
  const std::string tmp = ::testing::TempDir() + "/keyholder_server";
  std::filesystem::remove_all(tmp);
  std::filesystem::create_directories(tmp);
  const std::string pki = samenzicht::testing::MakePki(
      "keyholder_server", {{"keyholder", "server"}, {"police", "agency"}, {"gemeente", "analyst"}});
  ASSERT_FALSE(pki.empty());
  ASSERT_OK(oprf::GenerateServerKeyFile(tmp + "/oprf-1.key", 1));
  // The trail key as an installed key service host makes it (`keyholder audit-keygen`).
  std::ostringstream pub_out, note;
  ASSERT_OK(AuditKeygenCommand(tmp + "/audit.key", pub_out, note));
  EXPECT_THAT(AuditKeygenCommand(tmp + "/audit.key", pub_out, note),
              StatusIs(absl::StatusCode::kAlreadyExists));
  const std::string audit_pub(absl::StripAsciiWhitespace(pub_out.str()));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Server> server,
                       Server::Start(samenzicht::testing::KeyServiceConfig(
                           pki, "keyholder", tmp + "/data", tmp + "/oprf-1.key", tmp + "/audit.key")));
  const std::string address = absl::StrCat("127.0.0.1:", server->port());

  std::vector<std::string> inputs = {"first", "second", "third"};
  std::vector<std::string_view> views(inputs.begin(), inputs.end());
  ASSERT_OK_AND_ASSIGN(oprf::BlindBatch batch, oprf::BlindBatch::New(views));
  v1::EvaluateRequest req;
  req.set_epoch(1);
  req.set_blinded_elements(batch.blinded_elements());
  {
    ASSERT_OK_AND_ASSIGN(auto ch, rpc::Connect(address, samenzicht::testing::TlsFor(pki, "police"), ""));
    auto stub = v1::KeyHolder::NewStub(ch);
    grpc::ClientContext ctx;
    v1::EvaluateResponse resp;
    grpc::Status st = stub->Evaluate(&ctx, req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    ASSERT_OK_AND_ASSIGN(std::string outputs, batch.Finalize(views, resp.evaluated_elements()));
    ASSERT_OK_AND_ASSIGN(oprf::EpochKey key, oprf::LoadServerKeyFile(tmp + "/oprf-1.key"));
    for (size_t i = 0; i < inputs.size(); ++i) {
      ASSERT_OK_AND_ASSIGN(std::string expected, oprf::Evaluate(key.key, inputs[i]));
      EXPECT_EQ(outputs.substr(i * 64, 64), expected) << i;
    }
  }
  {
    ASSERT_OK_AND_ASSIGN(auto ch, rpc::Connect(address, samenzicht::testing::TlsFor(pki, "gemeente"), ""));
    auto stub = v1::KeyHolder::NewStub(ch);
    grpc::ClientContext ctx;
    v1::EvaluateResponse resp;
    grpc::Status st = stub->Evaluate(&ctx, req, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << st.error_message();
    EXPECT_TRUE(resp.evaluated_elements().empty());
  }
  EXPECT_EQ(server->service()->UsedThisHour("police"), 3u);
  EXPECT_EQ(server->service()->UsedThisHour("gemeente"), 0u);
  server.reset();
  ASSERT_OK_AND_ASSIGN(Trail trail, ReadTrail(tmp + "/data"));
  EXPECT_EQ(EvaluationsInTrail(trail, "police"), 3u);
  // The privacy officer verifies the trail with the public key audit-keygen printed, and
  // another key does not verify it.
  std::ostringstream os;
  EXPECT_OK(AuditVerifyCommand(tmp + "/data", audit_pub, {}, os)) << os.str();
  ASSERT_OK_AND_ASSIGN(std::string other, crypto::GenerateKeyFile(tmp + "/other.key", crypto::KeyKind::kSigning));
  EXPECT_FALSE(AuditVerifyCommand(tmp + "/data", other, {}, os).ok());
}

}  // namespace
}  // namespace samenzicht::keyholder
