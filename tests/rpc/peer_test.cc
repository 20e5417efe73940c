// rpc/peer.h on its own: this binary links samenzicht_peer and no gRPC plumbing.
#include "rpc/peer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "tests/testing/pki.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::rpc {
namespace {

using ::samenzicht::testing::StatusIs;

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(PeerTest, RoleAndNameComeFromTheCertificateEntries) {
  std::string dir = samenzicht::testing::MakePki(
      "peer_test", {{"police-groningen", "agency"}, {"fg", "privacy_officer"}});
  ASSERT_TRUE(samenzicht::testing::IssueWithSubject(dir, "hacker", "/O=Samenzicht/OU=hacker/CN=x"));
  auto p = PeerFromPem(ReadText(dir + "/police-groningen.crt"));
  ASSERT_OK(p);
  EXPECT_EQ(p->common_name, "police-groningen");
  EXPECT_EQ(p->role, Role::kAgency);
  EXPECT_EQ(PeerFromPem(ReadText(dir + "/fg.crt"))->role, Role::kPrivacyOfficer);
  EXPECT_THAT(PeerFromPem(ReadText(dir + "/hacker.crt")),
              StatusIs(absl::StatusCode::kPermissionDenied, "no known role"));
  EXPECT_THAT(PeerFromPem("not a certificate"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PeerTest, RoleNamesAreTheCertificateOUs) {
  EXPECT_STREQ(RoleName(Role::kAgency), "agency");
  EXPECT_STREQ(RoleName(Role::kAnalyst), "analyst");
  EXPECT_STREQ(RoleName(Role::kPrivacyOfficer), "privacy_officer");
  EXPECT_STREQ(RoleName(Role::kAdmin), "admin");
}

}  // namespace
}  // namespace samenzicht::rpc
