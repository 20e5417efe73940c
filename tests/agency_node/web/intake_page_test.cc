// The intake page's server logic over real HTTPS on 127.0.0.1: sign-in (wrong password,
// lockout, CSRF), the form (required fields named, invalid values named), the import into
// the outbox, correction and withdrawal, another account's signal, and what is kept or
// logged about the person.
#include "agency_node/web/intake_page.h"

#include <spdlog/sinks/ostream_sink.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agency_node/store/outbox.h"
#include "agency_node/store/state_store.h"
#include "agency_node/web/intake_store.h"
#include "crypto/key_file.h"
#include "crypto/oprf.h"
#include "keyholder/server.h"
#include "model/config.h"
#include "samenzicht/v1/intake.pb.h"
#include "tests/agency_node/keyholder_fixture.h"
#include "tests/agency_node/web/intake_fixture.h"
#include "tests/testing/keyholder_service.h"
#include "tests/testing/pki.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::agency_node::web {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// What a professional types about the person: none of it may appear in a log line, a
// message, or any file of the node in the clear.
const std::map<std::string, std::string> kPerson = {
    {"given_names", "Zoëlle Marijke"}, {"surname", "Vandermeulenbroek"},
    {"date_of_birth", "17-04-2011"},  {"national_id", "111222333"},
    {"phone", "0612345678"},          {"email", "zoelle.vdm@example.nl"},
    {"postcode", "3514 AB"},          {"house_number", "77"}};

constexpr char kPassword[] = "correct horse battery";

// A browser in miniature: keeps cookies, reads the CSRF token from each page.
class Client {
 public:
  explicit Client(int port) : cli_("127.0.0.1", port) {
    cli_.enable_server_certificate_verification(false);
    cli_.set_follow_location(false);
    // A sign-in hashes the password: on a starved CPU (a loaded machine) that outlasts the
    // library's 5 s default, and the test saw no answer at all.
    cli_.set_read_timeout(60, 0);
  }
  httplib::Result Get(const std::string& path) {
    auto r = cli_.Get(path, Headers());
    Remember(r);
    return r;
  }
  httplib::Result Post(const std::string& path, httplib::Params params,
                       httplib::Headers extra = {}) {
    httplib::Headers h = Headers();
    h.insert(extra.begin(), extra.end());
    auto r = cli_.Post(path, h, params);
    Remember(r);
    return r;
  }
  // The hidden csrf field of the last page.
  std::string csrf() const { return csrf_; }
  int SignIn(const std::string& name, const std::string& password) {
    Get("/login");
    auto r = Post("/login", {{"name", name}, {"password", password}, {"csrf", csrf_}});
    if (r && r->status == 303) Get("/");
    return r ? r->status : -1;
  }

 private:
  httplib::Headers Headers() const {
    std::string c;
    for (const auto& [k, v] : cookies_) c += (c.empty() ? "" : "; ") + k + "=" + v;
    if (c.empty()) return {};
    return {{"Cookie", c}};
  }
  void Remember(const httplib::Result& r) {
    if (!r) return;
    for (size_t i = 0; i < r->get_header_value_count("Set-Cookie"); ++i) {
      std::string c = r->get_header_value("Set-Cookie", i);
      std::string kv = c.substr(0, c.find(';'));
      size_t eq = kv.find('=');
      std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
      if (v.empty()) cookies_.erase(k);
      else cookies_[k] = v;
    }
    size_t at = r->body.find("name=\"csrf\" value=\"");
    if (at != std::string::npos) {
      at += 19;
      csrf_ = r->body.substr(at, r->body.find('"', at) - at);
    }
  }
  httplib::SSLClient cli_;
  std::map<std::string, std::string> cookies_;
  std::string csrf_;
};

httplib::Params Signal(const std::string& csrf) {
  httplib::Params p = {{"csrf", csrf}, {"signal_month", "2024-03"}, {"form", "criminal"},
                       {"contact", "direct"}, {"area", "oost"},
                       {"forced_crime", "drugs"}, {"forced_crime", "money_mule"}};
  for (const auto& [k, v] : kPerson) p.emplace(k, v);
  return p;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class IntakePageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/intake_page_test/" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ASSERT_OK_AND_ASSIGN(config_path_, samenzicht::testing::MakeIntakeNode(dir_));
    ASSERT_OK(samenzicht::testing::AddAccount(config_path_, "juf.anna", "professional", kPassword));
    ASSERT_OK(samenzicht::testing::AddAccount(config_path_, "meester.bo", "professional", kPassword));
    ASSERT_OK_AND_ASSIGN(config_, model::LoadNodeConfig(config_path_));
    sink_ = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text_);
    log_ = std::make_shared<spdlog::logger>("test", sink_);
    // No time stamps: the leak test looks for short values such as a house number "77",
    // which a time such as 04:55:30.772 would hold by chance.
    log_->set_pattern("[%l] %v");
    IntakePageOptions o;
    o.max_failures_per_name = 3;
    ASSERT_OK_AND_ASSIGN(page_, IntakePage::Start(config_, *log_, o));
  }
  void TearDown() override {
    if (page_) page_->Stop();
  }
  // Every queued report with its batch's key epoch, in queue order.
  std::vector<std::pair<v1::Report, uint32_t>> Queued() {
    auto outbox = Outbox::Open(config_.state_dir());
    EXPECT_OK(outbox.status());
    auto pending = (*outbox)->Pending(100);
    EXPECT_OK(pending.status());
    std::vector<std::pair<v1::Report, uint32_t>> out;
    for (const auto& b : *pending) {
      v1::BatchPayload payload;
      EXPECT_TRUE(payload.ParseFromString(b.signed_batch.payload()));
      for (const auto& r : payload.reports()) out.emplace_back(r, payload.key_epoch());
    }
    return out;
  }
  std::vector<v1::Report> Outbox() {
    std::vector<v1::Report> out;
    for (auto& [r, epoch] : Queued()) out.push_back(std::move(r));
    return out;
  }
  std::vector<uint32_t> OutboxEpochs() {
    std::vector<uint32_t> out;
    for (const auto& [r, epoch] : Queued()) out.push_back(epoch);
    return out;
  }
  // The reference of a receipt redirect, "/signals/ABCD-EFGH?done=new".
  static std::string ReferenceOf(const httplib::Result& r) {
    std::string loc = r->get_header_value("Location");
    std::string ref = loc.substr(std::string("/signals/").size());
    return ref.substr(0, ref.find('?'));
  }

  std::string dir_, config_path_;
  v1::NodeConfig config_;
  std::ostringstream log_text_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<IntakePage> page_;
};

TEST_F(IntakePageTest, WrongPasswordIs401ThenLockedOutWith429EvenForTheRightOne) {
  Client c(page_->port());
  EXPECT_EQ(c.SignIn("juf.anna", "wrong password here"), 401);
  EXPECT_EQ(c.SignIn("nobody", "wrong password here"), 401);  // unknown name: same answer
  auto r = c.Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 303) << "no session after a wrong password";
  EXPECT_EQ(r->get_header_value("Location"), "/login");
  EXPECT_EQ(c.SignIn("juf.anna", "wrong password again"), 401);
  EXPECT_EQ(c.SignIn("juf.anna", "wrong password, third"), 401);
  // Three wrong passwords for the name: the right one is refused for the window too.
  EXPECT_EQ(c.SignIn("juf.anna", kPassword), 429);
  // Another account is not locked by it.
  Client other(page_->port());
  EXPECT_EQ(other.SignIn("meester.bo", kPassword), 303);
  EXPECT_THAT(log_text_.str(), HasSubstr("wrong password for account juf.anna"));
  EXPECT_THAT(log_text_.str(), Not(HasSubstr(kPassword)));
  EXPECT_THAT(log_text_.str(), Not(HasSubstr("wrong password here")));
}

TEST_F(IntakePageTest, SessionCookieIsSecureHttpOnlyStrictAndPagesForbidScripts) {
  Client c(page_->port());
  c.Get("/login");
  httplib::SSLClient raw("127.0.0.1", page_->port());
  raw.enable_server_certificate_verification(false);
  auto login = raw.Get("/login");
  ASSERT_TRUE(login);
  std::string pre = login->get_header_value("Set-Cookie");
  std::string token = pre.substr(pre.find('=') + 1, pre.find(';') - pre.find('=') - 1);
  auto r = raw.Post("/login", {{"Cookie", "__Host-sz_pre=" + token}},
                    httplib::Params{{"name", "juf.anna"}, {"password", kPassword}, {"csrf", token}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 303);
  std::string session;
  for (size_t i = 0; i < r->get_header_value_count("Set-Cookie"); ++i) {
    std::string v = r->get_header_value("Set-Cookie", i);
    if (absl::StartsWith(v, "__Host-sz_session=")) session = v;
  }
  EXPECT_THAT(session, HasSubstr("; Secure"));
  EXPECT_THAT(session, HasSubstr("; HttpOnly"));
  EXPECT_THAT(session, HasSubstr("; SameSite=Strict"));
  EXPECT_THAT(session, HasSubstr("; Path=/"));
  EXPECT_THAT(r->get_header_value("Content-Security-Policy"), HasSubstr("default-src 'none'"));
  EXPECT_EQ(r->get_header_value("Cache-Control"), "no-store");
}

TEST_F(IntakePageTest, PostsWithoutTheirCsrfTokenOrFromAnotherOriginAreRefusedWith403) {
  Client c(page_->port());
  // Sign-in without the pre-session token.
  auto r = c.Post("/login", {{"name", "juf.anna"}, {"password", kPassword}, {"csrf", "x"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  ASSERT_EQ(c.SignIn("juf.anna", kPassword), 303);
  httplib::Params p = Signal(c.csrf());
  p.erase("csrf");
  r = c.Post("/signals", p);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403) << "no token";
  p.emplace("csrf", std::string(32, 'a'));
  r = c.Post("/signals", p);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403) << "wrong token";
  r = c.Post("/signals", Signal(c.csrf()), {{"Origin", "https://evil.example"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403) << "cross-site origin";
  EXPECT_TRUE(Outbox().empty()) << "nothing refused may reach the outbox";
  // The same form with its token goes through.
  r = c.Post("/signals", Signal(c.csrf()));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 303);
  EXPECT_EQ(Outbox().size(), 1u);
}

TEST_F(IntakePageTest, MissingOrInvalidFieldsAreNamedWith400AndNothingIsQueued) {
  Client c(page_->port());
  ASSERT_EQ(c.SignIn("juf.anna", kPassword), 303);
  httplib::Params p = Signal(c.csrf());
  p.erase("signal_month");
  p.erase("form");
  auto r = c.Post("/signals", p);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_THAT(r->body, HasSubstr("data-field=\"signal_month\">Maand van het signaal is verplicht"));
  EXPECT_THAT(r->body, HasSubstr("data-field=\"form\">Vorm van uitbuiting is verplicht"));
  EXPECT_THAT(r->body, Not(HasSubstr("data-field=\"surname\"")));
  // Values the node's import would only warn about are errors here, named by field.
  p = Signal(c.csrf());
  p.erase("national_id");
  p.emplace("national_id", "123456789");  // fails the eleven-test
  p.erase("date_of_birth");
  p.emplace("date_of_birth", "31-02-2011");
  p.erase("signal_month");
  p.emplace("signal_month", "2999-01");
  r = c.Post("/signals", p);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_THAT(r->body, HasSubstr("data-field=\"signal_month\">Maand van het signaal ligt in de toekomst"));
  p.erase("signal_month");
  p.emplace("signal_month", "2024-03");
  r = c.Post("/signals", p);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_THAT(r->body, HasSubstr("data-field=\"national_id\""));
  EXPECT_THAT(r->body, HasSubstr("data-field=\"date_of_birth\""));
  EXPECT_TRUE(Outbox().empty());
}

TEST_F(IntakePageTest, EnterCorrectAndWithdrawGoThroughTheNodesImportAndRetraction) {
  Client c(page_->port());
  ASSERT_EQ(c.SignIn("juf.anna", kPassword), 303);
  auto r = c.Post("/signals", Signal(c.csrf()));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 303);
  const std::string ref = ReferenceOf(r);
  ASSERT_EQ(ref.size(), 9u) << r->get_header_value("Location");
  r = c.Get(absl::StrCat("/signals/", ref, "?done=new"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(r->body, HasSubstr("Ontvangen"));
  EXPECT_THAT(r->body, HasSubstr(ref));

  std::vector<v1::Report> queued = Outbox();
  ASSERT_EQ(queued.size(), 1u);
  const v1::Report first = queued[0];
  EXPECT_EQ(first.form(), v1::FORM_CRIMINAL);
  EXPECT_EQ(first.signal_month(), 202403u);
  EXPECT_EQ(first.area(), "oost");
  EXPECT_EQ(first.age_band(), v1::AGE_BAND_0_12) << "derived from the date of birth";
  EXPECT_EQ(first.forced_crime_size(), 2);
  EXPECT_GE(first.packed_tokens().size(), 34u * 5) << "tokens from the identifiers typed in";
  // The report id is the node's, for record web-<reference>.
  ASSERT_OK_AND_ASSIGN(auto store, StateStore::Open(config_.state_dir()));
  ASSERT_OK_AND_ASSIGN(std::string report_id, store->FindReportId("web-" + ref));
  EXPECT_EQ(first.report_id(), report_id);

  // Correction: same report id, changed categories, the same tokens.
  r = c.Get("/signals/" + ref);
  r = c.Post(absl::StrCat("/signals/", ref, "/correct"),
             {{"csrf", c.csrf()}, {"signal_month", "2024-02"}, {"form", "sexual"},
              {"area", "zuid"}, {"surname", "Someone Else"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 303);
  EXPECT_THAT(r->get_header_value("Location"), HasSubstr("done=corrected"));
  queued = Outbox();
  ASSERT_EQ(queued.size(), 2u);
  EXPECT_EQ(queued[1].report_id(), report_id);
  EXPECT_EQ(queued[1].form(), v1::FORM_SEXUAL);
  EXPECT_EQ(queued[1].signal_month(), 202402u);
  EXPECT_EQ(queued[1].area(), "zuid");
  EXPECT_EQ(queued[1].forced_crime_size(), 0);
  EXPECT_EQ(queued[1].packed_tokens(), first.packed_tokens())
      << "a correction changes categories only; the identifiers are the stored ones";

  // Withdrawal: the retraction is queued for the daemon; the identifiers are deleted.
  r = c.Get("/signals/" + ref);
  r = c.Post(absl::StrCat("/signals/", ref, "/withdraw"), {{"csrf", c.csrf()}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 303);
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> retractions, store->QueuedRetractions());
  EXPECT_THAT(retractions, ::testing::ElementsAre(report_id));
  ASSERT_OK_AND_ASSIGN(auto intake, IntakeStore::Open(config_.state_dir()));
  ASSERT_OK_AND_ASSIGN(IntakeSignal sig, intake->GetSignal(ref));
  EXPECT_EQ(sig.state, "withdrawn");
  EXPECT_FALSE(sig.has_identifiers);
  // A withdrawn signal is not corrected (and not sent again).
  r = c.Get("/signals/" + ref);
  r = c.Post(absl::StrCat("/signals/", ref, "/correct"),
             {{"csrf", c.csrf()}, {"signal_month", "2024-02"}, {"form", "labour"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409);
  EXPECT_EQ(Outbox().size(), 2u);
}

// A key rotation: the node's hashing key moves to epoch 2 and the daemon restarts. The
// page's signals (their identifiers kept for this) are sent again under the new epoch with
// the same report id, as an agency resends its complete export; a withdrawn one is not,
// and a further restart sends nothing again.
TEST_F(IntakePageTest, AfterAKeyRotationTheSignalsAreSentAgainUnderTheNewEpoch) {
  Client c(page_->port());
  ASSERT_EQ(c.SignIn("juf.anna", kPassword), 303);
  auto r = c.Post("/signals", Signal(c.csrf()));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 303);
  const std::string kept = ReferenceOf(r);
  c.Get("/");
  r = c.Post("/signals", Signal(c.csrf()));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 303);
  const std::string withdrawn = ReferenceOf(r);
  c.Get("/signals/" + withdrawn);
  r = c.Post(absl::StrCat("/signals/", withdrawn, "/withdraw"), {{"csrf", c.csrf()}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 303);
  const std::vector<v1::Report> before = Outbox();
  ASSERT_EQ(before.size(), 2u);
  EXPECT_THAT(OutboxEpochs(), ::testing::ElementsAre(1u, 1u));

  // The same restart without a rotation sends nothing again.
  page_->Stop();
  page_.reset();
  ASSERT_OK_AND_ASSIGN(page_, IntakePage::Start(config_, *log_));
  EXPECT_EQ(Outbox().size(), 2u) << log_text_.str();

  page_->Stop();
  page_.reset();
  ASSERT_OK(crypto::GenerateKeyFile(dir_ + "/hashing-epoch2.key", crypto::KeyKind::kHashing, 2).status());
  config_.set_hashing_key_file(dir_ + "/hashing-epoch2.key");
  ASSERT_OK_AND_ASSIGN(page_, IntakePage::Start(config_, *log_));
  const std::vector<v1::Report> after = Outbox();
  ASSERT_EQ(after.size(), 3u) << log_text_.str();
  EXPECT_THAT(OutboxEpochs(), ::testing::ElementsAre(1u, 1u, 2u));
  ASSERT_OK_AND_ASSIGN(auto store, StateStore::Open(config_.state_dir()));
  ASSERT_OK_AND_ASSIGN(std::string report_id, store->FindReportId("web-" + kept));
  EXPECT_EQ(after[2].report_id(), report_id);
  EXPECT_EQ(after[2].form(), before[0].form());
  EXPECT_EQ(after[2].signal_month(), before[0].signal_month());
  EXPECT_EQ(after[2].packed_tokens().size(), before[0].packed_tokens().size());
  EXPECT_NE(after[2].packed_tokens(), before[0].packed_tokens()) << "tokens of the new key";
  EXPECT_THAT(log_text_.str(), HasSubstr("1 signal(s) sent again under epoch 2"));

  page_->Stop();
  page_.reset();
  ASSERT_OK_AND_ASSIGN(page_, IntakePage::Start(config_, *log_));
  EXPECT_EQ(Outbox().size(), 3u) << "sent once per rotation";
}

// The move to the key service while the key service does not answer: the page must resend
// its kept signals under the new epoch, cannot make their tokens, and still starts (before,
// it refused to start, and under systemd the whole node restarted every 5 s). The signals
// wait; once the key service answers they are sent again, each once, with its report id.
TEST_F(IntakePageTest, StartsWhileTheKeyServiceIsDownAndSendsTheSignalsAgainOnceItAnswers) {
  Client c(page_->port());
  ASSERT_EQ(c.SignIn("juf.anna", kPassword), 303);
  auto r = c.Post("/signals", Signal(c.csrf()));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 303);
  const std::string ref = ReferenceOf(r);
  ASSERT_EQ(Outbox().size(), 1u);
  page_->Stop();
  page_.reset();

  // The key service for epoch 2 on 127.0.0.1, started once for a free port, then stopped.
  const std::string pki = samenzicht::testing::MakePki(
      "intake_page_keyholder", {{"keyholder", "server"}, {"school", "agency"}});
  ASSERT_FALSE(pki.empty());
  ASSERT_OK(crypto::oprf::GenerateServerKeyFile(dir_ + "/oprf-2.key", 2));
  ASSERT_OK(crypto::GenerateKeyFile(dir_ + "/keyholder-audit.key", crypto::KeyKind::kSigning).status());
  v1::KeyholderConfig service = samenzicht::testing::KeyServiceConfig(
      pki, "keyholder", dir_ + "/keyholder", dir_ + "/oprf-2.key", dir_ + "/keyholder-audit.key");
  ASSERT_OK_AND_ASSIGN(auto server, keyholder::Server::Start(service));
  const int port = server->port();
  server.reset();
  service.set_listen_address(absl::StrCat("127.0.0.1:", port));

  const v1::TlsFiles tls = samenzicht::testing::TlsFor(pki, "school");
  ASSERT_OK(files::WriteFileAtomic(
      dir_ + "/keyholder-client.textproto",
      samenzicht::testing::KeyServiceClientText(port, 2, tls.ca_cert_file(), tls.cert_file(), tls.key_file()),
      0600));
  config_.clear_hashing_key_file();
  config_.set_keyholder_config_file(dir_ + "/keyholder-client.textproto");
  config_.set_retry_initial_ms(20);
  config_.set_retry_max_ms(100);
  ASSERT_OK_AND_ASSIGN(page_, IntakePage::Start(config_, *log_));
  Client after(page_->port());
  EXPECT_EQ(after.SignIn("juf.anna", kPassword), 303) << "the page serves meanwhile";
  std::this_thread::sleep_for(std::chrono::milliseconds(400));  // several attempts
  EXPECT_EQ(Outbox().size(), 1u) << "nothing is sent without the key service's tokens";

  ASSERT_OK_AND_ASSIGN(server, keyholder::Server::Start(service));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (Outbox().size() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  page_->Stop();  // ends the retries before the log is read
  const std::vector<v1::Report> sent = Outbox();
  ASSERT_EQ(sent.size(), 2u) << log_text_.str();
  EXPECT_THAT(OutboxEpochs(), ::testing::ElementsAre(1u, 2u));
  ASSERT_OK_AND_ASSIGN(auto store, StateStore::Open(config_.state_dir()));
  ASSERT_OK_AND_ASSIGN(std::string report_id, store->FindReportId("web-" + ref));
  EXPECT_EQ(sent[1].report_id(), report_id);
  // One evaluation per distinct value part of the signal's identifiers (the tokens are
  // combined at the node), as for the same record in an export.
  std::string record = "record_id";
  std::string row = "web-" + ref;
  for (const auto& [field, value] : kPerson) {
    record += "," + field;
    row += ",\"" + value + "\"";
  }
  const size_t parts = agency_node::testing::DistinctOracleInputs(record + "\n" + row + "\n");
  EXPECT_EQ(server->service()->UsedToday("school"), parts);
  EXPECT_LT(parts, sent[1].packed_tokens().size() / 34) << "fewer evaluations than tokens";
  const std::string log = log_text_.str();
  EXPECT_THAT(log, HasSubstr("intake page: signals not sent again under epoch 2 profile"));
  EXPECT_THAT(log, HasSubstr("the key service made no tokens (UNAVAILABLE: key service at 127.0.0.1:"));
  EXPECT_THAT(log, HasSubstr("(attempt 2)"));
  EXPECT_THAT(log, HasSubstr("intake page: 1 signal(s) sent again under epoch 2"));
  // Every identifier but the house number "77": the log's port numbers and retry delays in
  // ms hold it by chance.
  for (const auto& [field, value] : kPerson) {
    if (field == "house_number") continue;
    EXPECT_THAT(log, Not(HasSubstr(value))) << field;
  }

  // A further start sends nothing again.
  page_.reset();
  ASSERT_OK_AND_ASSIGN(page_, IntakePage::Start(config_, *log_));
  EXPECT_EQ(Outbox().size(), 2u) << "sent once";
}

TEST_F(IntakePageTest, AnotherAccountCannotSeeCorrectOrWithdrawASignal) {
  Client anna(page_->port());
  ASSERT_EQ(anna.SignIn("juf.anna", kPassword), 303);
  auto r = anna.Post("/signals", Signal(anna.csrf()));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 303);
  const std::string ref = ReferenceOf(r);
  Client bo(page_->port());
  ASSERT_EQ(bo.SignIn("meester.bo", kPassword), 303);
  r = bo.Get("/signals/" + ref);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  r = bo.Post(absl::StrCat("/signals/", ref, "/withdraw"), {{"csrf", bo.csrf()}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  r = bo.Get("/");
  EXPECT_THAT(r->body, Not(HasSubstr(ref)));
  ASSERT_OK_AND_ASSIGN(auto store, StateStore::Open(config_.state_dir()));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> retractions, store->QueuedRetractions());
  EXPECT_TRUE(retractions.empty());
}

// The node's retention rule for what was typed about the person: the sealed identifiers
// of a signal are deleted `intake_retention_days` after it last changed (a correction
// starts the period again); after that the signal can no longer be corrected (409, the
// page says why) and is no longer sent again after a key rotation. Time is the page's
// clock, moved forward by the test.
TEST_F(IntakePageTest, TheRetentionRuleDeletesTheIdentifiersDaysAfterTheLastChange) {
  page_->Stop();
  page_.reset();
  std::atomic<int64_t> now{1'780'000'000};
  config_.set_intake_retention_days(7);
  IntakePageOptions o;
  o.clock = [&now] { return now.load(); };
  ASSERT_OK_AND_ASSIGN(page_, IntakePage::Start(config_, *log_, o));
  constexpr int64_t kDay = 86400;

  Client c(page_->port());
  ASSERT_EQ(c.SignIn("juf.anna", kPassword), 303);
  EXPECT_THAT(c.Get("/")->body, HasSubstr("automatisch verwijderd na 7 dagen"));
  auto r = c.Post("/signals", Signal(c.csrf()));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 303);
  const std::string ref = ReferenceOf(r);
  ASSERT_OK_AND_ASSIGN(auto intake, IntakeStore::Open(config_.state_dir()));
  auto kept = [&]() {
    auto sig = intake->GetSignal(ref);
    EXPECT_OK(sig.status());
    return sig.ok() && sig->has_identifiers;
  };

  // Day 6: corrected, which starts the 7 days again.
  now += 6 * kDay;
  ASSERT_EQ(c.SignIn("juf.anna", kPassword), 303) << "the session ended after 30 idle minutes";
  EXPECT_TRUE(kept());
  c.Get("/signals/" + ref);
  r = c.Post(absl::StrCat("/signals/", ref, "/correct"),
             {{"csrf", c.csrf()}, {"signal_month", "2024-02"}, {"form", "sexual"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 303);

  // Day 8: 8 days after entry, 2 after the correction: kept.
  now += 2 * kDay;
  ASSERT_EQ(c.SignIn("juf.anna", kPassword), 303);
  EXPECT_TRUE(kept());
  EXPECT_THAT(log_text_.str(), Not(HasSubstr("deleted the identifiers")));

  // Day 13 and a second: 7 days after the correction: deleted at the next request.
  now += 5 * kDay + 1;
  ASSERT_EQ(c.SignIn("juf.anna", kPassword), 303);
  EXPECT_FALSE(kept());
  EXPECT_THAT(log_text_.str(),
              HasSubstr("intake page: deleted the identifiers of 1 signal(s) after 7 days"));
  r = c.Get("/signals/" + ref);
  ASSERT_TRUE(r);
  EXPECT_THAT(r->body, HasSubstr("zijn al verwijderd; corrigeren kan niet meer"));
  r = c.Post(absl::StrCat("/signals/", ref, "/correct"),
             {{"csrf", c.csrf()}, {"signal_month", "2024-02"}, {"form", "labour"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409);
  EXPECT_EQ(Outbox().size(), 2u) << "the signal and its correction, nothing after";
  ASSERT_OK_AND_ASSIGN(auto stale, intake->SignalsToResend("epoch 2 profile 99"));
  EXPECT_TRUE(stale.empty()) << "without identifiers nothing is sent again after a rotation";
  page_.reset();  // before `now`, which its clock reads, goes
}

// The operator role manages the page's accounts on the page (GET/POST /accounts): a
// professional is refused with 403 and sees no link to it; an operator lists the accounts
// (never a hash), adds one (each field problem named, 400; a taken name 409) that can then
// sign in, removes one (its open sessions end at once; its own account 409, an unknown
// one 404), and the log names the accounts and the operator, never a password.
TEST_F(IntakePageTest, AnOperatorManagesTheAccountsOnThePageAndAProfessionalCannot) {
  ASSERT_OK(samenzicht::testing::AddAccount(config_path_, "beheer.eva", "operator", kPassword));
  Client anna(page_->port());
  ASSERT_EQ(anna.SignIn("juf.anna", kPassword), 303);
  auto r = anna.Get("/");
  ASSERT_TRUE(r);
  EXPECT_THAT(r->body, Not(HasSubstr("href=\"/accounts\"")));
  r = anna.Get("/accounts");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_THAT(r->body, HasSubstr("Alleen een beheerder"));
  r = anna.Post("/accounts", {{"csrf", anna.csrf()}, {"name", "balie-3"}, {"role", "operator"},
                              {"password", "a long enough password"},
                              {"password_repeat", "a long enough password"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(anna.SignIn("balie-3", "a long enough password"), 401) << "nothing was added";

  Client meester(page_->port());
  ASSERT_EQ(meester.SignIn("meester.bo", kPassword), 303);

  Client eva(page_->port());
  ASSERT_EQ(eva.SignIn("beheer.eva", kPassword), 303);
  r = eva.Get("/");
  ASSERT_TRUE(r);
  EXPECT_THAT(r->body, HasSubstr("<a id=\"accounts-link\" href=\"/accounts\">Accounts beheren</a>"));
  r = eva.Get("/accounts");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_THAT(r->body, HasSubstr("<td>juf.anna</td><td>Professional</td>"));
  EXPECT_THAT(r->body, HasSubstr("<td>meester.bo</td><td>Professional</td>"));
  EXPECT_THAT(r->body, HasSubstr("<td>beheer.eva</td><td>Beheerder</td>"));
  EXPECT_THAT(r->body, Not(HasSubstr("argon2")));

  // Each problem named by field; nothing added.
  r = eva.Post("/accounts", {{"csrf", eva.csrf()}, {"name", "balie 3!"}, {"role", "admin"},
                             {"password", "short"}, {"password_repeat", "other"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_THAT(r->body, HasSubstr("data-field=\"name\">Naam klopt niet"));
  EXPECT_THAT(r->body, HasSubstr("data-field=\"role\">Rol klopt niet"));
  EXPECT_THAT(r->body, HasSubstr("data-field=\"password\">Wachtwoord is te kort (minstens 12 tekens)"));
  EXPECT_THAT(r->body, HasSubstr("data-field=\"password_repeat\">Wachtwoord (nogmaals) komt niet overeen"));
  EXPECT_THAT(r->body, Not(HasSubstr("value=\"short\""))) << "a password is never shown again";
  r = eva.Post("/accounts", {{"csrf", eva.csrf()}, {"name", "juf.anna"}, {"role", "professional"},
                             {"password", "a long enough password"},
                             {"password_repeat", "a long enough password"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409);
  EXPECT_THAT(r->body, HasSubstr("Er is al een account met deze naam."));

  r = eva.Post("/accounts", {{"csrf", eva.csrf()}, {"name", "balie-3"}, {"role", "professional"},
                             {"password", "a long enough password"},
                             {"password_repeat", "a long enough password"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 303);
  EXPECT_EQ(r->get_header_value("Location"), "/accounts?done=added");
  r = eva.Get("/accounts?done=added");
  ASSERT_TRUE(r);
  EXPECT_THAT(r->body, HasSubstr("<td>balie-3</td><td>Professional</td>"));
  Client balie(page_->port());
  EXPECT_EQ(balie.SignIn("balie-3", "a long enough password"), 303);

  // Removing: not one's own account, not an unknown one; a removed account is signed out.
  r = eva.Post("/accounts/remove", {{"csrf", eva.csrf()}, {"name", "beheer.eva"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409);
  r = eva.Post("/accounts/remove", {{"csrf", eva.csrf()}, {"name", "nobody"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  r = anna.Post("/accounts/remove", {{"csrf", anna.csrf()}, {"name", "meester.bo"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403) << "a professional removes nothing";
  r = eva.Post("/accounts/remove", {{"csrf", eva.csrf()}, {"name", "meester.bo"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 303);
  EXPECT_EQ(r->get_header_value("Location"), "/accounts?done=removed");
  r = meester.Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 303) << "the removed account's session ended";
  EXPECT_EQ(r->get_header_value("Location"), "/login");
  EXPECT_EQ(meester.SignIn("meester.bo", kPassword), 401);

  ASSERT_OK_AND_ASSIGN(auto store, IntakeStore::Open(config_.state_dir()));
  ASSERT_OK_AND_ASSIGN(std::vector<Account> accounts, store->ListAccounts());
  std::vector<std::string> names;
  for (const Account& a : accounts) names.push_back(a.name + "/" + a.role);
  EXPECT_THAT(names, ::testing::UnorderedElementsAre("juf.anna/professional", "beheer.eva/operator",
                                                     "balie-3/professional"));
  const std::string log = log_text_.str();
  EXPECT_THAT(log, HasSubstr("intake page: account balie-3 (professional) added by beheer.eva"));
  EXPECT_THAT(log, HasSubstr("intake page: account meester.bo removed by beheer.eva"));
  EXPECT_THAT(log, HasSubstr("intake page: refused /accounts to juf.anna (professional): for operators only"));
  EXPECT_THAT(log, Not(HasSubstr("a long enough password")));
  EXPECT_THAT(log, Not(HasSubstr(kPassword)));
}

// Every value typed about the person in the tests below, and parts and other spellings.
std::vector<std::string> Values() {
  std::vector<std::string> values;
  for (const auto& [k, v] : kPerson) values.push_back(v);
  values.push_back("123456789");
  values.push_back("31-02-2011");
  values.push_back("Vandermeulen");  // a part of the surname
  values.push_back("ZoÃ«lle");       // ... and other spellings of the given name
  return values;
}

// The attacker reads the node's log and every file in its state folder: nothing typed about
// the person may be there in the clear (the identifiers are sealed in intake.db).
class IntakePageLeakTest : public IntakePageTest {
 protected:
  void ScanStateFiles() {
    int files = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(config_.state_dir())) {
      if (!e.is_regular_file()) continue;
      ++files;
      const std::string bytes = Slurp(e.path());
      for (const std::string& v : Values()) {
        // Two bytes such as the house number "77" turn up by chance in tokens and
        // signatures; the log is checked for them.
        if (v.size() < 5) continue;
        EXPECT_THAT(bytes, Not(HasSubstr(v))) << e.path() << " holds \"" << v << "\" in the clear";
      }
    }
    EXPECT_GE(files, 2);  // node.db and intake.db (and their WAL files)
  }
};

TEST_F(IntakePageLeakTest, NoIdentifierValueInAnyLogLineOrStateFile) {
  Client c(page_->port());
  ASSERT_EQ(c.SignIn("juf.anna", kPassword), 303);
  auto r = c.Post("/signals", Signal(c.csrf()));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 303);
  const std::string ref = ReferenceOf(r);
  // Refused forms log too: with a bad BSN and date of birth.
  httplib::Params bad = Signal(c.csrf());
  bad.erase("national_id");
  bad.emplace("national_id", "123456789");
  bad.erase("date_of_birth");
  bad.emplace("date_of_birth", "31-02-2011");
  r = c.Post("/signals", bad);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 400);
  ScanStateFiles();
  c.Get("/signals/" + ref);
  r = c.Post(absl::StrCat("/signals/", ref, "/correct"),
             {{"csrf", c.csrf()}, {"signal_month", "2024-02"}, {"form", "sexual"}});
  ASSERT_EQ(r->status, 303);
  page_->Stop();
  const std::string log = log_text_.str();
  EXPECT_THAT(log, HasSubstr(ref)) << "the log names the reference";
  EXPECT_THAT(log, HasSubstr("national_id")) << "and the field names";
  for (const std::string& v : Values()) {
    if (v.size() >= 5) {
      EXPECT_THAT(log, Not(HasSubstr(v))) << "log holds a value";
      continue;
    }
    // A short value such as the house number "77" is looked for as a word of its own: the
    // digits of a port (127.0.0.1:58775) or of a reference (AB77-CDEF) are not it.
    auto word = [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) != 0; };
    for (size_t at = log.find(v); at != std::string::npos; at = log.find(v, at + 1)) {
      const bool starts = at == 0 || !word(log[at - 1]);
      const bool ends = at + v.size() == log.size() || !word(log[at + v.size()]);
      EXPECT_FALSE(starts && ends) << "log holds the value \"" << v << "\" at " << at << ": " << log;
    }
  }
  ScanStateFiles();
  ASSERT_OK_AND_ASSIGN(auto intake, IntakeStore::Open(config_.state_dir()));
  ASSERT_OK_AND_ASSIGN(IntakeSignal sig, intake->GetSignal(ref));
  EXPECT_TRUE(sig.has_identifiers);
  EXPECT_GT(sig.sealed_identifiers.size(), 40u);
}

TEST(IntakeStoreTest, PurgeDeletesIdentifiersNotChangedSinceTheCutoff) {
  const std::string dir = ::testing::TempDir() + "/intake_store_purge";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  ASSERT_OK_AND_ASSIGN(auto store, IntakeStore::Open(dir));
  ASSERT_OK(store->AddSignal({"AAAA-AAAA", "a", "web-AAAA-AAAA", "sent", 100, 100, "form=sexual",
                              "sealed-old", true, ""}));
  ASSERT_OK(store->AddSignal({"BBBB-BBBB", "a", "web-BBBB-BBBB", "sent", 100, 500, "form=sexual",
                              "sealed-new", true, ""}));
  ASSERT_OK_AND_ASSIGN(int64_t purged, store->PurgeIdentifiers(300));
  EXPECT_EQ(purged, 1);
  ASSERT_OK_AND_ASSIGN(IntakeSignal a, store->GetSignal("AAAA-AAAA"));
  ASSERT_OK_AND_ASSIGN(IntakeSignal b, store->GetSignal("BBBB-BBBB"));
  EXPECT_FALSE(a.has_identifiers);
  EXPECT_TRUE(b.has_identifiers);
  EXPECT_EQ(b.sealed_identifiers, "sealed-new");
}

TEST(IntakeAccountsTest, AccountsAreAddedListedAndRemovedWithoutThePassword) {
  const std::string dir = ::testing::TempDir() + "/intake_accounts";
  ASSERT_OK_AND_ASSIGN(std::string config, samenzicht::testing::MakeIntakeNode(dir));
  ASSERT_OK(samenzicht::testing::AddAccount(config, "balie-1", "professional", kPassword));
  EXPECT_THAT(samenzicht::testing::AddAccount(config, "balie-1", "professional", kPassword),
              samenzicht::testing::StatusIs(absl::StatusCode::kAlreadyExists, "balie-1"));
  EXPECT_THAT(samenzicht::testing::AddAccount(config, "balie-2", "professional", "short"),
              samenzicht::testing::StatusIs(absl::StatusCode::kInvalidArgument, "at least 12"));
  EXPECT_THAT(samenzicht::testing::AddAccount(config, "balie-2", "admin", kPassword),
              samenzicht::testing::StatusIs(absl::StatusCode::kInvalidArgument, "--role"));
  std::ostringstream out;
  ASSERT_OK(AccountsListCommand(config, out));
  EXPECT_THAT(out.str(), HasSubstr("balie-1"));
  EXPECT_THAT(out.str(), Not(HasSubstr("argon2")));
  EXPECT_THAT(out.str(), Not(HasSubstr(kPassword)));
  ASSERT_OK(AccountsRemoveCommand(config, "balie-1", out));
  EXPECT_THAT(AccountsRemoveCommand(config, "balie-1", out),
              samenzicht::testing::StatusIs(absl::StatusCode::kNotFound, "balie-1"));
}

}  // namespace
}  // namespace samenzicht::agency_node::web
