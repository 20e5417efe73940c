#include "model/config.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace samenzicht::model {
namespace {

using ::samenzicht::testing::StatusIs;

std::string Write(const std::string& name, const std::string& text) {
  std::string dir = ::testing::TempDir() + "/config_test";
  std::filesystem::create_directories(dir);
  std::string p = dir + "/" + name;
  std::ofstream(p) << text;
  return p;
}

TEST(ConfigTest, TheShippedDefaultProfileLoads) {
  ASSERT_OK_AND_ASSIGN(v1::LinkageProfile p,
                       LoadProfile(std::string(SAMENZICHT_SOURCE_DIR) + "/deploy/config/profile.textproto"));
  EXPECT_GE(p.rules_size(), 2);
  EXPECT_EQ(ProfileFingerprint(p).size(), 32u);
}

TEST(ConfigTest, FingerprintChangesWithRulesNotWithDescriptions) {
  v1::LinkageProfile a;
  a.set_name("p");
  auto* r = a.add_rules();
  r->set_name("nid");
  r->add_fields(v1::FIELD_NATIONAL_ID);
  v1::LinkageProfile b = a;
  b.mutable_rules(0)->set_description("just words");
  EXPECT_EQ(ProfileFingerprint(a), ProfileFingerprint(b));
  b.mutable_rules(0)->add_fields(v1::FIELD_BIRTH_YEAR);
  EXPECT_NE(ProfileFingerprint(a), ProfileFingerprint(b));
}

TEST(ConfigTest, FingerprintCoversProbeRulesAndNationalIdSchemes) {
  v1::LinkageProfile a;
  a.set_name("p");
  auto* r = a.add_rules();
  r->set_name("name_pc");
  r->add_fields(v1::FIELD_SURNAME);
  r->add_fields(v1::FIELD_POSTCODE);
  const std::string plain = ProfileFingerprint(a);
  v1::LinkageProfile b = a;
  b.mutable_rules(0)->set_probe_when_missing(v1::FIELD_DATE_OF_BIRTH);
  ASSERT_OK(ValidateProfile(b));
  EXPECT_NE(ProfileFingerprint(b), plain);
  v1::LinkageProfile c = a;
  auto* scheme = c.add_national_id_schemes();
  scheme->set_name("be_rrn");
  scheme->set_pattern("[0-9]{11}");
  scheme->set_check(v1::NationalIdScheme::CHECK_BE_MOD97);
  ASSERT_OK(ValidateProfile(c));
  const std::string with_scheme = ProfileFingerprint(c);
  EXPECT_NE(with_scheme, plain);
  c.mutable_national_id_schemes(0)->set_check(v1::NationalIdScheme::CHECK_NONE);
  EXPECT_NE(ProfileFingerprint(c), with_scheme);
  c.mutable_national_id_schemes(0)->set_description("words only");
  c.mutable_national_id_schemes(0)->set_check(v1::NationalIdScheme::CHECK_BE_MOD97);
  EXPECT_EQ(ProfileFingerprint(c), with_scheme);
}

TEST(ConfigTest, RefusesAProbeFieldThatIsOneOfTheRulesFields) {
  v1::LinkageProfile a;
  a.set_name("p");
  auto* r = a.add_rules();
  r->set_name("name_dob");
  r->add_fields(v1::FIELD_SURNAME);
  r->add_fields(v1::FIELD_DATE_OF_BIRTH);
  r->set_probe_when_missing(v1::FIELD_DATE_OF_BIRTH);
  EXPECT_THAT(ValidateProfile(a), StatusIs(absl::StatusCode::kInvalidArgument, "probe_when_missing"));
}

TEST(ConfigTest, SyntaxErrorNamesFileAndLine) {
  std::string p = Write("bad.textproto", "node_id: \"x\"\nbogus_field: 1\n");
  EXPECT_THAT(LoadNodeConfig(p), StatusIs(absl::StatusCode::kInvalidArgument, "bad.textproto:2:"));
}

TEST(ConfigTest, RelativePathsResolveAgainstTheConfigFolder) {
  std::string p = Write("node.textproto",
                        "node_id: \"police\"\nhashing_key_file: \"keys/h.key\"\nareas: [\"oost\"]\n");
  ASSERT_OK_AND_ASSIGN(v1::NodeConfig c, LoadNodeConfig(p));
  EXPECT_EQ(c.hashing_key_file(),
            (std::filesystem::path(p).parent_path() / "keys/h.key").lexically_normal().string());
}

TEST(ConfigTest, InvalidProfilesAreRefused) {
  EXPECT_THAT(LoadProfile(Write("empty.textproto", "name: \"x\"\n")),
              StatusIs(absl::StatusCode::kInvalidArgument, "no rules"));
  EXPECT_THAT(LoadProfile(Write("dup.textproto",
                                "rules { name: \"a\" fields: FIELD_NATIONAL_ID }\n"
                                "rules { name: \"a\" fields: FIELD_PHONE }\n")),
              StatusIs(absl::StatusCode::kInvalidArgument, "twice"));
  EXPECT_THAT(LoadProfile(Write("nofield.textproto", "rules { name: \"a\" }\n")),
              StatusIs(absl::StatusCode::kInvalidArgument, "no fields"));
  EXPECT_THAT(LoadProfile(Write("upper.textproto", "rules { name: \"A\" fields: FIELD_PHONE }\n")),
              StatusIs(absl::StatusCode::kInvalidArgument, "[a-z0-9_]"));
}

}  // namespace
}  // namespace samenzicht::model
