// An in-process aggregator on 127.0.0.1 port 0 with real mutual TLS, a certificate for
// every role, a foreign CA, and an audit key file: the fixture of the audit, roles and
// retention tests.
#ifndef SAMENZICHT_TESTS_AGGREGATOR_AUDIT_FIXTURE_H_
#define SAMENZICHT_TESTS_AGGREGATOR_AUDIT_FIXTURE_H_

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "aggregator/exact_totals.h"
#include "aggregator/server/server.h"
#include "crypto/key_file.h"
#include "rpc/tls.h"
#include "samenzicht/v1/admin.grpc.pb.h"
#include "samenzicht/v1/intake.grpc.pb.h"
#include "samenzicht/v1/query.grpc.pb.h"
#include "tests/aggregator/fixture_builder.h"
#include "tests/aggregator/test_util.h"
#include "tests/testing/pki.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::aggregator::testing {

inline constexpr uint32_t kAuditEpoch = 1;

class AuditServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = samenzicht::testing::MakePki(
        "audit_pki", {{"aggregator", "server"}, {"police", "agency"}, {"zorg", "agency"},
                      {"gemeente", "analyst"}, {"fg", "privacy_officer"}, {"beheer", "admin"}});
    foreign_pki_ = samenzicht::testing::MakePki(
        "audit_foreign", {{"police", "agency"}, {"gemeente", "analyst"}, {"fg", "privacy_officer"},
                          {"beheer", "admin"}});
  }

  void SetUp() override {
    ASSERT_FALSE(pki_.empty());
    dir_ = TestDir(std::string("audit_") + CurrentTest().test_suite_name() + "_");
    profile_ = TestProfile();
    ASSERT_OK_AND_ASSIGN(config_, ServedConfig(dir_, pki_, profile_, kAuditEpoch));
    data_dir_ = config_.data_dir();
    auto pub = crypto::GenerateKeyFile(dir_ + "/audit.key", crypto::KeyKind::kSigning);
    ASSERT_OK(pub);
    audit_public_key_ = *pub;
    config_.set_audit_key_file(dir_ + "/audit.key");
    config_.set_audit_checkpoint_every(5);
    police_signer_ = *crypto::Signer::Generate();
    zorg_signer_ = *crypto::Signer::Generate();
    AddAgency(config_, "police", v1::DOMAIN_POLICE, *police_signer_);
    AddAgency(config_, "zorg", v1::DOMAIN_YOUTH_CARE, *zorg_signer_);
    StartServer();
  }

  void StartServer() {
    auto s = Server::Start(config_);
    ASSERT_OK(s);
    server_ = *std::move(s);
    address_ = "127.0.0.1:" + std::to_string(server_->port());
  }

  void StopServer() {
    if (server_) {
      server_->Shutdown();
      server_->Wait();
      server_.reset();
    }
  }

  void TearDown() override { StopServer(); }

  std::shared_ptr<grpc::Channel> Channel(const std::string& who, const std::string& pki = "") {
    if (who.empty()) {  // CA only, no client certificate
      grpc::SslCredentialsOptions o;
      std::ifstream in(pki_ + "/ca.crt");
      o.pem_root_certs.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      grpc::ChannelArguments args;
      args.SetSslTargetNameOverride("localhost");
      return grpc::CreateCustomChannel(address_, grpc::SslCredentials(o), args);
    }
    auto ch = rpc::Connect(address_, samenzicht::testing::TlsFor(pki.empty() ? pki_ : pki, who),
                           "localhost");
    EXPECT_TRUE(ch.ok()) << ch.status();
    return *ch;
  }

  static std::unique_ptr<grpc::ClientContext> Ctx() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return ctx;
  }

  // The stream's final status (OK when every batch was acknowledged).
  grpc::Status Submit(const std::string& who, const std::vector<v1::SignedBatch>& batches,
                      std::vector<v1::BatchAck>* acks = nullptr, const std::string& pki = "") {
    auto stub = v1::Intake::NewStub(Channel(who, pki));
    auto ctx = Ctx();
    auto stream = stub->SubmitBatches(ctx.get());
    for (const auto& b : batches) {
      v1::SubmitRequest req;
      *req.mutable_batch() = b;
      if (!stream->Write(req)) break;
      v1::BatchAck ack;
      if (!stream->Read(&ack)) break;
      if (acks) acks->push_back(ack);
    }
    stream->WritesDone();
    return stream->Finish();
  }

  grpc::Status Retract(const std::string& who, const std::vector<std::string>& ids,
                       v1::RetractResponse* resp, const std::string& pki = "") {
    v1::RetractRequest req;
    for (const auto& id : ids) req.add_report_ids(id);
    return v1::Intake::NewStub(Channel(who, pki))->Retract(Ctx().get(), req, resp);
  }

  grpc::Status Totals(const std::string& who, v1::TotalsResponse* resp,
                      std::vector<v1::Dimension> by = {}, const std::string& pki = "") {
    v1::TotalsRequest req;
    for (auto d : by) req.add_by(d);
    return v1::Query::NewStub(Channel(who, pki))->Totals(Ctx().get(), req, resp);
  }

  // The exact, unpublished totals (the operator's path, exact_totals.h), read from the
  // store next to the server; the analyst's published answer must come too (it is
  // perturbed by the Cell Key Method, so it is not compared).
  absl::StatusOr<v1::TotalsResponse> Exact(std::vector<v1::Dimension> by = {}) {
    v1::TotalsRequest req;
    for (auto d : by) req.add_by(d);
    return ExactTotals(config_, req);
  }
  std::pair<uint64_t, uint64_t> Counts() {
    if (server_ != nullptr) {
      // Answered, or refused only because no month is released yet (data of this month).
      v1::TotalsResponse published;
      grpc::Status st = Totals("gemeente", &published);
      EXPECT_TRUE(st.ok() || (st.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
                              st.error_message().find("released") != std::string::npos))
          << st.error_message();
    }
    absl::StatusOr<v1::TotalsResponse> r = Exact();
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return {0, 0};
    return {r->total_persons().value(), r->total_signals().value()};
  }

  v1::SignedBatch PoliceBatch(std::vector<v1::Report> reports) {
    return Sign(*police_signer_, MakePayload("police", profile_, kAuditEpoch, std::move(reports)));
  }
  v1::SignedBatch ZorgBatch(std::vector<v1::Report> reports) {
    return Sign(*zorg_signer_, MakePayload("zorg", profile_, kAuditEpoch, std::move(reports)));
  }

  // Runs SQL against the (stopped) aggregator's database.
  void Sql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((data_dir_ + "/aggregator.db").c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "") << " in " << sql;
    sqlite3_free(err);
    sqlite3_close(db);
  }

  static std::string pki_, foreign_pki_;
  std::string dir_, data_dir_, address_, audit_public_key_;
  v1::LinkageProfile profile_;
  v1::AggregatorConfig config_;
  std::unique_ptr<crypto::Signer> police_signer_, zorg_signer_;
  std::unique_ptr<Server> server_;
};
inline std::string AuditServerTest::pki_, AuditServerTest::foreign_pki_;

}  // namespace samenzicht::aggregator::testing

#endif  // SAMENZICHT_TESTS_AGGREGATOR_AUDIT_FIXTURE_H_
