#include "rpc/tls.h"

#include <gtest/gtest.h>

#include "tests/testing/pki.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::rpc {
namespace {

using ::samenzicht::testing::StatusIs;

TEST(PeerTest, RoleAndNameComeFromTheSubject) {
  auto p = PeerFromSubject("CN=police-groningen,OU=agency,O=Samenzicht");
  ASSERT_OK(p);
  EXPECT_EQ(p->common_name, "police-groningen");
  EXPECT_EQ(p->role, Role::kAgency);
  EXPECT_EQ(PeerFromSubject("CN=fg,OU=privacy_officer,O=Samenzicht")->role, Role::kPrivacyOfficer);
  EXPECT_THAT(PeerFromSubject("CN=x,OU=hacker,O=Samenzicht"), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(PeerFromSubject("OU=agency,O=Samenzicht"), StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST(CredentialsTest, RefusesAPrivateKeyReadableByOthers) {
  std::string dir = samenzicht::testing::MakePki("tls_test", {{"aggregator", "server"}});
  v1::TlsFiles tls = samenzicht::testing::TlsFor(dir, "aggregator");
  ASSERT_OK(ServerCredentials(tls));
  ASSERT_EQ(::chmod(tls.key_file().c_str(), 0644), 0);
  EXPECT_THAT(ServerCredentials(tls), StatusIs(absl::StatusCode::kFailedPrecondition, "chmod 600"));
  tls.set_cert_file(dir + "/missing.crt");
  ASSERT_EQ(::chmod(tls.key_file().c_str(), 0600), 0);
  EXPECT_THAT(ServerCredentials(tls), StatusIs(absl::StatusCode::kNotFound));
}

TEST(StatusTest, MapsCodesBothWays) {
  grpc::Status g = ToGrpcStatus(absl::FailedPreconditionError("wrong epoch"));
  EXPECT_EQ(g.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(g.error_message(), "wrong epoch");
  EXPECT_THAT(FromGrpcStatus(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "x")),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

}  // namespace
}  // namespace samenzicht::rpc

// A tiny service to make calls against: the standard health-check-free way is a generic
// call; we use the Intake service's Retract with an empty request.
#include <grpcpp/grpcpp.h>

#include "samenzicht/v1/intake.grpc.pb.h"

namespace samenzicht::rpc {
namespace {

class EchoIntake final : public v1::Intake::Service {
  grpc::Status Retract(grpc::ServerContext* ctx, const v1::RetractRequest*,
                       v1::RetractResponse*) override {
    auto peer = PeerOf(*ctx);
    if (!peer.ok()) return ToGrpcStatus(peer.status());
    return grpc::Status::OK;
  }
};

grpc::StatusCode CallAs(int port, const std::string& pki, const std::string& name) {
  auto channel = Connect("127.0.0.1:" + std::to_string(port), samenzicht::testing::TlsFor(pki, name), "localhost");
  if (!channel.ok()) return grpc::StatusCode::INTERNAL;
  auto stub = v1::Intake::NewStub(*channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::RetractRequest req;
  v1::RetractResponse resp;
  return stub->Retract(&ctx, req, &resp).error_code();
}

TEST(RevocationTest, ARevokedCertificateIsRefusedInTheHandshakeAndARenewedOneWorks) {
  std::string dir = samenzicht::testing::MakePki(
      "revocation_test", {{"aggregator", "server"}, {"police", "agency"}, {"youth-care", "agency"}});
  v1::TlsFiles tls = samenzicht::testing::TlsFor(dir, "aggregator");
  tls.set_crl_directory(dir + "/crl");
  auto start = [&](int* port) {
    auto creds = ServerCredentials(tls);
    EXPECT_TRUE(creds.ok()) << creds.status();
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", *creds, port);
    auto svc = std::make_unique<EchoIntake>();
    b.RegisterService(svc.get());
    auto server = b.BuildAndStart();
    return std::make_pair(std::move(server), std::move(svc));
  };
  int port = 0;
  auto [server, svc] = start(&port);
  ASSERT_NE(port, 0);
  EXPECT_EQ(CallAs(port, dir, "police"), grpc::StatusCode::OK);
  server->Shutdown();

  std::string script = std::string(SAMENZICHT_SOURCE_DIR) + "/deploy/pki.sh";
  ASSERT_EQ(std::system((script + " revoke " + dir + " police >/dev/null").c_str()), 0);
  int port2 = 0;
  auto [server2, svc2] = start(&port2);  // the CRL is read when the server starts
  EXPECT_EQ(CallAs(port2, dir, "police"), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(CallAs(port2, dir, "youth-care"), grpc::StatusCode::OK);
  server2->Shutdown();

  ASSERT_EQ(std::system((script + " renew " + dir + " police >/dev/null").c_str()), 0);
  int port3 = 0;
  auto [server3, svc3] = start(&port3);
  EXPECT_EQ(CallAs(port3, dir, "police"), grpc::StatusCode::OK);
  server3->Shutdown();
}

TEST(RevocationTest, AMissingCrlFolderIsAClearError) {
  std::string dir = samenzicht::testing::MakePki("revocation_missing", {{"aggregator", "server"}});
  v1::TlsFiles tls = samenzicht::testing::TlsFor(dir, "aggregator");
  tls.set_crl_directory(dir + "/no-such-folder");
  EXPECT_THAT(ServerCredentials(tls), samenzicht::testing::StatusIs(absl::StatusCode::kNotFound, "crl_directory"));
}

}  // namespace
}  // namespace samenzicht::rpc
