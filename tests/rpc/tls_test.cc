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
