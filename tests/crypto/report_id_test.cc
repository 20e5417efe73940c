#include "crypto/report_id.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "crypto/key_file.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::crypto {
namespace {

TEST(ReportIdTest, StablePerRecordAndNodeAndShapedLikeAReportId) {
  const std::string dir = ::testing::TempDir() + "/report_id_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  ASSERT_OK(GenerateKeyFile(dir + "/a.key", KeyKind::kSigning).status());
  ASSERT_OK(GenerateKeyFile(dir + "/b.key", KeyKind::kSigning).status());
  ASSERT_OK_AND_ASSIGN(auto a, ReportIdDeriver::FromSigningKeyFile(dir + "/a.key"));
  ASSERT_OK_AND_ASSIGN(auto a2, ReportIdDeriver::FromSigningKeyFile(dir + "/a.key"));
  ASSERT_OK_AND_ASSIGN(auto b, ReportIdDeriver::FromSigningKeyFile(dir + "/b.key"));
  const std::string id = a->Derive("R-1");
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(a2->Derive("R-1"), id);        // the same after a restart (or a lost state)
  EXPECT_NE(a->Derive("R-2"), id);
  EXPECT_NE(b->Derive("R-1"), id);         // another node: another id
  EXPECT_THAT(ReportIdDeriver::FromSigningKeyFile(dir + "/missing.key"),
              samenzicht::testing::StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace samenzicht::crypto
