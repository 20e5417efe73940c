#include "model/tokens.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "model/config.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::model {
namespace {

using ::samenzicht::testing::StatusIs;

std::string Value(uint8_t seed) {
  std::string v(kTokenValueBytes, '\0');
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<char>(seed + 3 * i);
  return v;
}

void Append(size_t rule, v1::TokenRole role, const std::string& value, std::string* packed) {
  AppendPackedToken(rule, role, reinterpret_cast<const uint8_t*>(value.data()), packed);
}

const std::vector<std::string> kRules = {"nid", "name_dob", "name_md_probe"};

TEST(TokensTest, PackedEntriesAreRuleRoleValue) {
  std::string packed;
  Append(0, v1::TOKEN_ROLE_UNSPECIFIED, Value(1), &packed);
  Append(2, v1::TOKEN_ROLE_PROBE, Value(9), &packed);
  ASSERT_EQ(packed.size(), 2 * kPackedTokenBytes);
  EXPECT_EQ(packed.substr(0, 2), std::string("\x00\x00", 2));
  EXPECT_EQ(packed.substr(2, 32), Value(1));
  EXPECT_EQ(packed.substr(34, 2), std::string("\x02\x02", 2));
  EXPECT_EQ(packed.substr(36, 32), Value(9));
}

TEST(TokensTest, BothFormsAreVisitedInOrderAndCounted) {
  v1::Report r;
  auto* t = r.add_tokens();
  t->set_rule("name_dob");
  t->set_value(Value(4));
  t = r.add_tokens();
  t->set_rule("shoe_size");
  t->set_value("short");
  Append(2, v1::TOKEN_ROLE_ANCHOR, Value(5), r.mutable_packed_tokens());
  r.mutable_packed_tokens()->append("\x01\x00", 2);  // a partial entry: not visited
  EXPECT_EQ(TokenCount(r), 3);
  std::vector<std::string> seen;
  ForEachToken(r, kRules, [&](const TokenRef& t) {
    seen.push_back(absl::StrCat(t.index, ":", t.rule, ":", t.role, ":", t.value.size(), ":",
                                t.value.size() == 32 ? static_cast<int>(t.value[0]) : -1));
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"0:1:0:32:4", "1:-1:0:5:-1", "0:2:1:32:5"}));
}

TEST(TokensTest, UnpackGivesTheNamedForm) {
  v1::Report r;
  r.set_report_id("x");
  Append(1, v1::TOKEN_ROLE_UNSPECIFIED, Value(7), r.mutable_packed_tokens());
  Append(2, v1::TOKEN_ROLE_PROBE, Value(8), r.mutable_packed_tokens());
  ASSERT_OK(UnpackTokens(kRules, &r));
  EXPECT_TRUE(r.packed_tokens().empty());
  ASSERT_EQ(r.tokens_size(), 2);
  EXPECT_EQ(r.tokens(0).rule(), "name_dob");
  EXPECT_EQ(r.tokens(0).role(), v1::TOKEN_ROLE_UNSPECIFIED);
  EXPECT_EQ(r.tokens(0).value(), Value(7));
  EXPECT_EQ(r.tokens(1).rule(), "name_md_probe");
  EXPECT_EQ(r.tokens(1).role(), v1::TOKEN_ROLE_PROBE);
  EXPECT_EQ(r.tokens(1).value(), Value(8));
}

TEST(TokensTest, UnpackRefusesABadEntryAndChangesNothing) {
  v1::Report r;
  Append(0, v1::TOKEN_ROLE_UNSPECIFIED, Value(1), r.mutable_packed_tokens());
  Append(3, v1::TOKEN_ROLE_UNSPECIFIED, Value(2), r.mutable_packed_tokens());
  const v1::Report before = r;
  EXPECT_THAT(UnpackTokens(kRules, &r),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "packed_tokens[1] names no rule of the linkage profile"));
  EXPECT_EQ(r.SerializeAsString(), before.SerializeAsString());
  r.mutable_packed_tokens()->resize(40);
  EXPECT_THAT(UnpackTokens(kRules, &r),
              StatusIs(absl::StatusCode::kInvalidArgument, "packed_tokens[1] is a partial entry"));
  EXPECT_EQ(r.tokens_size(), 0);
}

TEST(TokensTest, AProfileHasAtMostAsManyRulesAsAByteCanName) {
  v1::LinkageProfile p;
  p.set_name("many");
  for (size_t i = 0; i <= kMaxProfileRules; ++i) {
    auto* rule = p.add_rules();
    rule->set_name(absl::StrCat("r", i));
    rule->add_fields(v1::FIELD_PHONE);
  }
  EXPECT_THAT(ValidateProfile(p), StatusIs(absl::StatusCode::kInvalidArgument,
                                           "linkage profile has 257 rules; at most 256"));
  p.mutable_rules()->RemoveLast();
  EXPECT_OK(ValidateProfile(p));
}

}  // namespace
}  // namespace samenzicht::model
