#include "aggregator/linkage/offline_link.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <google/protobuf/util/json_util.h>

#include "tests/aggregator/test_util.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::aggregator {
namespace {

using samenzicht::testing::StatusIs;
using testing::MakeReport;
using testing::Tok;

std::string Json(const v1::Report& r) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(r, &out, o).ok());
  return out;
}

TEST(OfflineLinkTest, WritesOnePersonPerReportInInputOrder) {
  std::string dir = testing::FreshDir("offline_link");
  {
    std::ofstream a(dir + "/police.jsonl");
    a << Json(MakeReport(1, {{"nid", Tok(1)}})) << "\n";
    a << "{not json\n";
    a << Json(MakeReport(2, {{"phone", Tok(2)}})) << "\n";
    std::ofstream b(dir + "/zorg.jsonl");
    b << Json(MakeReport(3, {{"phone", Tok(2)}, {"name_dob", Tok(3)}})) << "\n";
    b << Json(MakeReport(4, {})) << "\n";
    b << Json(MakeReport(5, {{"nid", Tok(1)}, {"phone", std::string(5, 'x')}})) << "\n";
  }
  std::ostringstream out, warnings;
  ASSERT_OK_AND_ASSIGN(LinkSummary s, LinkJsonlFiles({dir + "/police.jsonl", dir + "/zorg.jsonl"},
                                                     50, &out, &warnings));
  EXPECT_EQ(out.str(), "report_id,person_id\n" + testing::Id(1) + ",1\n" + testing::Id(2) +
                           ",2\n" + testing::Id(3) + ",2\n" + testing::Id(4) + ",3\n" +
                           testing::Id(5) + ",1\n");
  EXPECT_EQ(s.reports, 5u);
  EXPECT_EQ(s.persons, 3u);
  EXPECT_EQ(s.unlinkable, 1u);
  EXPECT_EQ(s.skipped_lines, 1u);
  EXPECT_NE(warnings.str().find("police.jsonl:2"), std::string::npos);
  EXPECT_NE(warnings.str().find("zorg.jsonl:3: tokens[1]"), std::string::npos);
  EXPECT_EQ(FormatSummary(s),
            "reports=5 persons=3 unlinkable=1 oversized_tokens_ignored=0 skipped_lines=1 "
            "ambiguous_probe_reports=0");
}

// Probe-rule tokens keep their role through the JSON lines: two namesakes at one
// postcode with different dates of birth (anchors, reports 1 and 2) stay apart, a record
// without a date of birth (probe, report 3) is ambiguous, and one whose token has a single
// anchor (reports 4, 5) joins it.
TEST(OfflineLinkTest, ProbeRolesComeFromTheReports) {
  std::string dir = testing::FreshDir("offline_link_probe");
  auto with_role = [](int id, int token, v1::TokenRole role) {
    v1::Report r = MakeReport(id, {{"name_pc", Tok(token)}});
    r.mutable_tokens(0)->set_role(role);
    return r;
  };
  {
    std::ofstream a(dir + "/a.jsonl");
    a << Json(with_role(1, 7, v1::TOKEN_ROLE_ANCHOR)) << "\n";
    a << Json(with_role(2, 7, v1::TOKEN_ROLE_ANCHOR)) << "\n";
    a << Json(with_role(3, 7, v1::TOKEN_ROLE_PROBE)) << "\n";
    a << Json(with_role(4, 8, v1::TOKEN_ROLE_ANCHOR)) << "\n";
    a << Json(with_role(5, 8, v1::TOKEN_ROLE_PROBE)) << "\n";
  }
  std::ostringstream out, warnings;
  ASSERT_OK_AND_ASSIGN(LinkSummary s, LinkJsonlFiles({dir + "/a.jsonl"}, 50, &out, &warnings));
  EXPECT_EQ(s.persons, 4u);
  EXPECT_EQ(s.ambiguous_probe_reports, 1u);
  EXPECT_EQ(out.str(), "report_id,person_id\n" + testing::Id(1) + ",1\n" + testing::Id(2) +
                           ",2\n" + testing::Id(3) + ",3\n" + testing::Id(4) + ",4\n" +
                           testing::Id(5) + ",4\n");
}

TEST(OfflineLinkTest, OversizedTokensAreReported) {
  std::string dir = testing::FreshDir("offline_link_oversized");
  {
    std::ofstream a(dir + "/a.jsonl");
    for (int i = 1; i <= 4; ++i) a << Json(MakeReport(i, {{"phone", Tok(9)}})) << "\n";
  }
  std::ostringstream out, warnings;
  ASSERT_OK_AND_ASSIGN(LinkSummary s, LinkJsonlFiles({dir + "/a.jsonl"}, 3, &out, &warnings));
  EXPECT_EQ(s.persons, 4u);
  EXPECT_EQ(s.oversized_tokens.at("phone"), 1u);
}

TEST(OfflineLinkTest, PackedTokensAreNamedAsUnreadableWithoutTheProfile) {
  std::string dir = testing::FreshDir("offline_link_packed");
  {
    std::ofstream a(dir + "/a.jsonl");
    a << Json(MakeReport(1, {{"nid", Tok(1)}})) << "\n";
    a << Json(testing::Packed(testing::TestProfile(), MakeReport(2, {{"nid", Tok(1)}}))) << "\n";
  }
  std::ostringstream out, warnings;
  ASSERT_OK_AND_ASSIGN(LinkSummary s, LinkJsonlFiles({dir + "/a.jsonl"}, 50, &out, &warnings));
  EXPECT_EQ(s.reports, 2u);
  EXPECT_EQ(s.persons, 2u);  // the packed report's token is not used
  EXPECT_EQ(s.unlinkable, 1u);
  EXPECT_NE(warnings.str().find("a.jsonl:2: packed_tokens cannot be read without the linkage profile"),
            std::string::npos)
      << warnings.str();
}

TEST(OfflineLinkTest, MissingFileIsNamed) {
  std::ostringstream out, warnings;
  EXPECT_THAT(LinkJsonlFiles({"/nonexistent/x.jsonl"}, 50, &out, &warnings),
              StatusIs(absl::StatusCode::kNotFound, "/nonexistent/x.jsonl"));
}

}  // namespace
}  // namespace samenzicht::aggregator
