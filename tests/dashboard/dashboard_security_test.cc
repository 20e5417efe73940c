// The dashboard's HTTPS port under attack, on loopback: revoked and crafted client
// certificates, request bodies, and the TLS versions and cipher suites an OpenSSL client
// can get. Only the static page is fetched (no query layer is needed for that): every
// refusal happens before a route runs.
#include "aggregator/dashboard/dashboard.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include <httplib.h>

#include "tests/testing/pki.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::aggregator {
namespace {

using ::samenzicht::testing::StatusIs;

std::string Shell(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

class DashboardSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string tag = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    pki_ = samenzicht::testing::MakePki(
        "dashboard_security_" + tag,
        {{"aggregator", "server"}, {"alice", "analyst"}, {"bob", "analyst"}, {"police", "agency"}});
    ASSERT_FALSE(pki_.empty());
    script_ = std::string(SAMENZICHT_SOURCE_DIR) + "/deploy/pki.sh";
  }

  void StartDashboard() {
    v1::TlsFiles tls = samenzicht::testing::TlsFor(pki_, "aggregator");
    tls.set_crl_directory(pki_ + "/crl");
    auto d = Dashboard::Start("127.0.0.1:0", tls, nullptr);
    ASSERT_OK(d);
    dashboard_ = std::move(*d);
  }

  // The HTTP status of GET / as `who`, or -1 when there is no answer (handshake refused).
  int Get(const std::string& who, const std::string& path = "/") {
    httplib::SSLClient cli("127.0.0.1", dashboard_->port(), pki_ + "/" + who + ".crt",
                           pki_ + "/" + who + ".key");
    cli.set_ca_cert_path((pki_ + "/ca.crt").c_str());
    cli.enable_server_certificate_verification(true);
    cli.set_connection_timeout(5);
    cli.set_read_timeout(5);
    auto res = cli.Get(path.c_str());
    return res ? res->status : -1;
  }

  // `openssl s_client` against the dashboard with `args`; its output (stdout and stderr).
  std::string SClient(const std::string& args) {
    return Shell("timeout 10 openssl s_client -brief -connect 127.0.0.1:" +
               std::to_string(dashboard_->port()) + " -servername localhost -cert " + pki_ +
               "/alice.crt -key " + pki_ + "/alice.key -CAfile " + pki_ + "/ca.crt " + args +
               " </dev/null 2>&1");
  }

  std::string pki_, script_;
  std::unique_ptr<Dashboard> dashboard_;
};

TEST_F(DashboardSecurityTest, ARevokedAnalystCertificateIsRefused) {
  ASSERT_EQ(std::system((script_ + " revoke " + pki_ + " bob >/dev/null").c_str()), 0);
  StartDashboard();
  EXPECT_EQ(Get("alice"), 200);
  EXPECT_EQ(Get("bob"), -1);
  EXPECT_EQ(Get("police"), 403);
}

TEST_F(DashboardSecurityTest, ACrlFolderWithoutARevocationListIsAClearError) {
  v1::TlsFiles tls = samenzicht::testing::TlsFor(pki_, "aggregator");
  tls.set_crl_directory(pki_ + "/no-such-folder");
  EXPECT_THAT(Dashboard::Start("127.0.0.1:0", tls, nullptr),
              StatusIs(absl::StatusCode::kNotFound, "crl_directory"));
  std::filesystem::create_directories(pki_ + "/empty-crl");
  tls.set_crl_directory(pki_ + "/empty-crl");
  EXPECT_THAT(Dashboard::Start("127.0.0.1:0", tls, nullptr),
              StatusIs(absl::StatusCode::kNotFound, "no revocation list"));
}

TEST_F(DashboardSecurityTest, CraftedSubjectsGainNoAnalystRole) {
  namespace t = samenzicht::testing;
  ASSERT_TRUE(t::IssueWithSubject(pki_, "o_comma_ou", "/O=Samenzicht,OU=analyst/OU=agency/CN=mallory"));
  ASSERT_TRUE(t::IssueWithSubject(pki_, "cn_comma", "/O=Samenzicht/OU=analyst/CN=alice,OU=analyst"));
  ASSERT_TRUE(t::IssueWithSubject(pki_, "two_ou", "/O=Samenzicht/OU=analyst/OU=agency/CN=mallory"));
  ASSERT_TRUE(t::IssueWithSubject(pki_, "two_ou_rev", "/O=Samenzicht/OU=agency/OU=analyst/CN=mallory"));
  ASSERT_TRUE(t::IssueWithSubject(pki_, "two_cn", "/O=Samenzicht/OU=analyst/CN=alice/CN=mallory"));
  ASSERT_TRUE(t::IssueWithSubject(pki_, "no_ou", "/O=Samenzicht/CN=mallory"));
  StartDashboard();
  EXPECT_EQ(Get("alice"), 200);
  EXPECT_EQ(Get("o_comma_ou"), 403);  // an agency certificate, whatever its O says
  EXPECT_EQ(Get("cn_comma"), 401);
  EXPECT_EQ(Get("two_ou"), 403);
  EXPECT_EQ(Get("two_ou_rev"), 403);
  EXPECT_EQ(Get("two_cn"), 401);
  EXPECT_EQ(Get("no_ou"), 403);
}

TEST_F(DashboardSecurityTest, RequestBodiesAreRefusedBeforeTheyAreRead) {
  StartDashboard();
  httplib::SSLClient cli("127.0.0.1", dashboard_->port(), pki_ + "/alice.crt", pki_ + "/alice.key");
  cli.set_ca_cert_path((pki_ + "/ca.crt").c_str());
  cli.enable_server_certificate_verification(true);
  cli.set_read_timeout(10);
  cli.set_write_timeout(10);
  std::string body(8 << 20, 'x');
  auto res = cli.Post("/api/insight", body, "application/octet-stream");
  // Either the answer (405) or a connection closed before all 8 MiB were taken.
  if (res) {
    EXPECT_EQ(res->status, 405);
  }
  // A chunked body that never ends: the answer comes at once, without waiting for it.
  std::string raw = Shell(
      "(printf 'POST /api/insight HTTP/1.1\\r\\nHost: localhost\\r\\nTransfer-Encoding: "
      "chunked\\r\\n\\r\\n100000\\r\\n'; head -c 4096 /dev/zero; sleep 4) | timeout 3 "
      "openssl s_client -quiet -connect 127.0.0.1:" + std::to_string(dashboard_->port()) +
      " -cert " + pki_ + "/alice.crt -key " + pki_ + "/alice.key -CAfile " + pki_ +
      "/ca.crt 2>/dev/null");
  EXPECT_NE(raw.find("HTTP/1.1 405"), std::string::npos) << raw;
  // The dashboard still answers afterwards.
  auto get = cli.Get("/");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(Get("alice"), 200);
}

TEST_F(DashboardSecurityTest, OnlyAeadSuitesAndTls12OrNewerWithAnOpenSslClient) {
  StartDashboard();
  // TLS 1.3 and TLS 1.2 with an AEAD suite work.
  std::string ok13 = SClient("-tls1_3");
  EXPECT_NE(ok13.find("Protocol version: TLSv1.3"), std::string::npos) << ok13;
  std::string ok12 = SClient("-tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256");
  EXPECT_NE(ok12.find("Ciphersuite: ECDHE-ECDSA-AES128-GCM-SHA256"), std::string::npos) << ok12;
  std::string chacha = SClient("-tls1_2 -cipher ECDHE-ECDSA-CHACHA20-POLY1305");
  EXPECT_NE(chacha.find("Ciphersuite: ECDHE-ECDSA-CHACHA20-POLY1305"), std::string::npos) << chacha;
  // CBC with SHA-1 or SHA-256, and every non-AEAD suite, are refused.
  for (const char* cbc : {"ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA",
                          "ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA384",
                          "ALL:!AESGCM:!CHACHA20:!AESCCM:@SECLEVEL=0"}) {
    std::string out = SClient(std::string("-tls1_2 -cipher '") + cbc + "'");
    EXPECT_EQ(out.find("CONNECTION ESTABLISHED"), std::string::npos) << cbc << ":\n" << out;
  }
  // TLS 1.1 and 1.0 are refused (the client allowed to try them).
  for (const char* old : {"-tls1_1", "-tls1"}) {
    std::string out = SClient(std::string(old) + " -cipher 'ALL:@SECLEVEL=0'");
    EXPECT_EQ(out.find("CONNECTION ESTABLISHED"), std::string::npos) << old << ":\n" << out;
  }
}

}  // namespace
}  // namespace samenzicht::aggregator
