#include "rpc/tls.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <thread>

#include "tests/testing/pki.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::rpc {
namespace {

using ::samenzicht::testing::StatusIs;

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
  grpc::Status Retract(grpc::ServerContext* ctx, const v1::RetractRequest* req,
                       v1::RetractResponse*) override {
    auto peer = PeerOf(*ctx);
    if (!peer.ok()) return ToGrpcStatus(peer.status());
    // A call with report ids stands for real work (the load test).
    if (req->report_ids_size() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ctx->AddTrailingMetadata("peer-role", RoleName(peer->role));
    ctx->AddTrailingMetadata("peer-name", peer->common_name);
    return grpc::Status::OK;
  }
};

// The outcome of a call as `name` of `pki`: the status code and, when OK, the role and
// name the server saw ("agency/police").
struct CallResult {
  grpc::StatusCode code;
  std::string peer;
};

CallResult CallAsWithPeer(int port, const std::string& pki, const std::string& name) {
  auto channel = Connect("127.0.0.1:" + std::to_string(port), samenzicht::testing::TlsFor(pki, name), "localhost");
  if (!channel.ok()) return {grpc::StatusCode::INTERNAL, ""};
  auto stub = v1::Intake::NewStub(*channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::RetractRequest req;
  v1::RetractResponse resp;
  grpc::StatusCode code = stub->Retract(&ctx, req, &resp).error_code();
  std::string peer;
  const auto& md = ctx.GetServerTrailingMetadata();
  auto role = md.find("peer-role");
  auto who = md.find("peer-name");
  if (role != md.end() && who != md.end()) {
    peer = std::string(role->second.data(), role->second.size()) + "/" +
           std::string(who->second.data(), who->second.size());
  }
  return {code, peer};
}

grpc::StatusCode CallAs(int port, const std::string& pki, const std::string& name) {
  return CallAsWithPeer(port, pki, name).code;
}

std::pair<std::unique_ptr<grpc::Server>, std::unique_ptr<EchoIntake>> StartEcho(
    const v1::TlsFiles& tls, int* port, const ServerLimits* limits = nullptr) {
  auto creds = ServerCredentials(tls);
  EXPECT_TRUE(creds.ok()) << creds.status();
  grpc::ServerBuilder b;
  if (limits != nullptr) ApplyServerLimits(b, *limits);
  b.AddListeningPort("127.0.0.1:0", *creds, port);
  auto svc = std::make_unique<EchoIntake>();
  b.RegisterService(svc.get());
  auto server = b.BuildAndStart();
  return std::make_pair(std::move(server), std::move(svc));
}

// Certificates signed by the deployment CA whose subjects try to smuggle a second role or
// name past a parser that splits the printed subject on commas.
struct Crafted {
  const char* name;
  const char* subject;
};
constexpr Crafted kCrafted[] = {
    {"o_comma_ou", "/O=Samenzicht,OU=analyst/OU=agency/CN=mallory"},
    {"o_comma_cn", "/O=Samenzicht,CN=police/OU=agency/CN=mallory"},
    {"cn_comma", "/O=Samenzicht/OU=agency/CN=mallory,OU=analyst"},
    {"two_ou", "/O=Samenzicht/OU=analyst/OU=agency/CN=mallory"},
    {"multi_ou", "/O=Samenzicht/OU=agency+OU=analyst/CN=mallory"},
    {"two_cn", "/O=Samenzicht/OU=analyst/CN=alice/CN=mallory"},
    {"no_ou", "/O=Samenzicht/CN=mallory"},
    {"no_cn", "/O=Samenzicht/OU=analyst"},
};

std::string MakeCraftedPki(const std::string& tag) {
  std::string dir = samenzicht::testing::MakePki(
      tag, {{"aggregator", "server"}, {"police", "agency"}, {"alice", "analyst"}});
  for (const Crafted& c : kCrafted) samenzicht::testing::IssueWithSubject(dir, c.name, c.subject);
  return dir;
}

TEST(PeerTest, CraftedSubjectsGainNoOtherRoleOrNameOverGrpc) {
  std::string dir = MakeCraftedPki("crafted_grpc");
  int port = 0;
  auto [server, svc] = StartEcho(samenzicht::testing::TlsFor(dir, "aggregator"), &port);
  ASSERT_NE(port, 0);
  // The honest certificates.
  EXPECT_EQ(CallAsWithPeer(port, dir, "police").peer, "agency/police");
  EXPECT_EQ(CallAsWithPeer(port, dir, "alice").peer, "analyst/alice");
  // A comma inside O is part of O: one OU (agency) and one CN (mallory).
  CallResult r = CallAsWithPeer(port, dir, "o_comma_ou");
  EXPECT_EQ(r.code, grpc::StatusCode::OK);
  EXPECT_EQ(r.peer, "agency/mallory");
  r = CallAsWithPeer(port, dir, "o_comma_cn");
  EXPECT_EQ(r.code, grpc::StatusCode::OK);
  EXPECT_EQ(r.peer, "agency/mallory");
  // A name with a comma, two OUs, two CNs, no OU, no CN: refused.
  EXPECT_EQ(CallAs(port, dir, "cn_comma"), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(CallAs(port, dir, "two_ou"), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(CallAs(port, dir, "multi_ou"), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(CallAs(port, dir, "two_cn"), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(CallAs(port, dir, "no_ou"), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(CallAs(port, dir, "no_cn"), grpc::StatusCode::UNAUTHENTICATED);
  server->Shutdown();
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

grpc::StatusCode CallWith(int port, const v1::TlsFiles& tls, const std::string& server_name) {
  auto channel = Connect("127.0.0.1:" + std::to_string(port), tls, server_name);
  if (!channel.ok()) return grpc::StatusCode::INTERNAL;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::RetractResponse resp;
  return v1::Intake::NewStub(*channel)->Retract(&ctx, v1::RetractRequest(), &resp).error_code();
}

TEST(RevocationTest, AClientWithTheCrlRefusesARevokedServerCertificate) {
  std::string dir = samenzicht::testing::MakePki(
      "client_revocation", {{"aggregator", "server"}, {"police", "agency"}});
  v1::TlsFiles client = samenzicht::testing::TlsFor(dir, "police");
  client.set_crl_directory(dir + "/crl");
  int port = 0;
  auto [server, svc] = StartEcho(samenzicht::testing::TlsFor(dir, "aggregator"), &port);
  ASSERT_NE(port, 0);
  EXPECT_EQ(CallWith(port, client, "localhost"), grpc::StatusCode::OK);
  // The host name is still checked with the CRL in use.
  EXPECT_EQ(CallWith(port, client, "not-the-aggregator"), grpc::StatusCode::UNAVAILABLE);

  std::string script = std::string(SAMENZICHT_SOURCE_DIR) + "/deploy/pki.sh";
  ASSERT_EQ(std::system((script + " revoke " + dir + " aggregator >/dev/null").c_str()), 0);
  // The server still presents its (now revoked) certificate.
  EXPECT_EQ(CallWith(port, client, "localhost"), grpc::StatusCode::UNAVAILABLE);
  server->Shutdown();

  client.set_crl_directory(dir + "/no-such-folder");
  EXPECT_THAT(Connect("127.0.0.1:1", client, "localhost"),
              samenzicht::testing::StatusIs(absl::StatusCode::kNotFound, "crl_directory"));
}

TEST(RevocationTest, AMissingCrlFolderIsAClearError) {
  std::string dir = samenzicht::testing::MakePki("revocation_missing", {{"aggregator", "server"}});
  v1::TlsFiles tls = samenzicht::testing::TlsFor(dir, "aggregator");
  tls.set_crl_directory(dir + "/no-such-folder");
  EXPECT_THAT(ServerCredentials(tls), samenzicht::testing::StatusIs(absl::StatusCode::kNotFound, "crl_directory"));
}

// A bounded load test on loopback: a flood of concurrent calls and oversized messages
// from one agency while another keeps submitting. The limits are those of
// ApplyServerLimits, made small so that the flood reaches them.
TEST(ServerLimitsTest, IntakeKeepsAcknowledgingUnderOversizedAndManyConcurrentCalls) {
  std::string dir = samenzicht::testing::MakePki(
      "server_limits", {{"aggregator", "server"}, {"police", "agency"}, {"mallory", "agency"}});
  ServerLimits limits;
  limits.max_threads = 8;
  limits.memory_bytes = 64 << 20;
  limits.max_concurrent_streams = 4;
  limits.max_receive_message_bytes = 1 << 20;
  int port = 0;
  auto [server, svc] = StartEcho(samenzicht::testing::TlsFor(dir, "aggregator"), &port, &limits);
  ASSERT_NE(port, 0);
  const std::string address = "127.0.0.1:" + std::to_string(port);

  auto call = [&](const std::shared_ptr<grpc::Channel>& ch, size_t ids, size_t id_bytes) {
    v1::RetractRequest req;
    for (size_t i = 0; i < ids; ++i) req.add_report_ids(std::string(id_bytes, 'a' + i % 26));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::RetractResponse resp;
    return v1::Intake::NewStub(ch)->Retract(&ctx, req, &resp).error_code();
  };

  std::atomic<bool> stop{false};
  std::atomic<int> flood_ok{0}, flood_exhausted{0}, flood_other{0};
  std::atomic<int> oversized_ok{0}, oversized_refused{0};
  std::vector<std::thread> flood;
  for (int t = 0; t < 24; ++t) {
    flood.emplace_back([&, t] {
      auto ch = Connect(address, samenzicht::testing::TlsFor(dir, "mallory"), "localhost");
      if (!ch.ok()) return;
      for (int i = 0; i < 200 && !stop.load(); ++i) {
        if ((i + t) % 4 == 0) {  // 2 MiB: over the 1 MiB limit
          grpc::StatusCode c = call(*ch, 64, 32 << 10);
          (c == grpc::StatusCode::OK ? oversized_ok : oversized_refused)++;
        } else {
          grpc::StatusCode c = call(*ch, 4, 32);
          (c == grpc::StatusCode::OK                   ? flood_ok
           : c == grpc::StatusCode::RESOURCE_EXHAUSTED ? flood_exhausted
                                                       : flood_other)++;
        }
      }
    });
  }
  // The honest node: 30 calls, each retried (as a node does) while the server is full.
  auto police = Connect(address, samenzicht::testing::TlsFor(dir, "police"), "localhost");
  ASSERT_OK(police);
  int acknowledged = 0, retries = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 30; ++i) {
    for (int attempt = 0; attempt < 20; ++attempt) {
      grpc::StatusCode c = call(*police, 4, 32);
      if (c == grpc::StatusCode::OK) {
        ++acknowledged;
        break;
      }
      ++retries;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stop = true;
  for (auto& th : flood) th.join();
  server->Shutdown();
  std::cout << "load: police acknowledged " << acknowledged << "/30 in " << seconds << " s ("
            << retries << " retries); flood ok " << flood_ok << ", resource exhausted "
            << flood_exhausted << ", other " << flood_other << "; oversized refused "
            << oversized_refused << ", accepted " << oversized_ok << "\n";
  EXPECT_EQ(acknowledged, 30);
  EXPECT_LT(seconds, 60);
  EXPECT_EQ(oversized_ok, 0);
  EXPECT_GT(oversized_refused, 0);
  EXPECT_GT(flood_ok, 0);
}

}  // namespace
}  // namespace samenzicht::rpc
