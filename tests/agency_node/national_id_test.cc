#include "agency_node/national_id.h"

#include <gtest/gtest.h>

#include "agency_node/csv.h"
#include "agency_node/signal.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::agency_node {
namespace {

v1::LinkageProfile ProfileWithSchemes() {
  v1::LinkageProfile p;
  p.set_name("t");
  auto* rule = p.add_rules();
  rule->set_name("nid");
  rule->add_fields(v1::FIELD_NATIONAL_ID);
  auto* be = p.add_national_id_schemes();
  be->set_name("be_rrn");
  be->set_pattern("[0-9]{11}");
  be->set_check(v1::NationalIdScheme::CHECK_BE_MOD97);
  auto* passport = p.add_national_id_schemes();
  passport->set_name("nl_passport");
  passport->set_pattern("[A-NP-Z]{2}[A-NP-Z0-9]{6}[0-9]");
  auto* vnr = p.add_national_id_schemes();
  vnr->set_name("v_number");
  vnr->set_pattern("[0-9]{10}");
  return p;
}

TEST(NationalIdTest, BsnIsTheDefaultSchemeAndKeepsItsValue) {
  NationalIds ids;
  EXPECT_EQ(*ids.Normalise("", "1112.22.333"), "111222333");
  EXPECT_EQ(*ids.Normalise("BSN", "111222333"), "111222333");
  EXPECT_EQ(ids.Normalise("bsn", "111222334").status().code(),
            absl::StatusCode::kInvalidArgument);  // fails the eleven-test
}

TEST(NationalIdTest, BelgianRijksregisternummerMod97) {
  ASSERT_OK_AND_ASSIGN(NationalIds ids, NationalIds::FromProfile(ProfileWithSchemes()));
  // Born 1985-07-30: 97 - (850730033 mod 97) = 28.
  EXPECT_EQ(*ids.Normalise("be_rrn", "85.07.30-033.28"), "be_rrn:85073003328");
  // Born 2001-02-03: the check is over 2010203004 (97 - that mod 97 = 67).
  EXPECT_EQ(*ids.Normalise("BE_RRN", " 01.02.03-004.67 "), "be_rrn:01020300467");
  auto wrong = ids.Normalise("be_rrn", "85.07.30-033.29");  // a wrong check digit
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(wrong.status().message(), "fails the check of scheme be_rrn");
  EXPECT_EQ(ids.Normalise("be_rrn", "85.07.30-033").status().message(),
            "does not match the pattern of scheme be_rrn");
  EXPECT_EQ(ids.Normalise("be_rrn", "85,07,30").status().message(),
            "not an identity number of scheme be_rrn");
  EXPECT_TRUE(PassesBelgianMod97("85073003328"));
  EXPECT_FALSE(PassesBelgianMod97("8507300332"));
  EXPECT_FALSE(PassesBelgianMod97("8507300332X"));
}

TEST(NationalIdTest, PatternOnlySchemes) {
  ASSERT_OK_AND_ASSIGN(NationalIds ids, NationalIds::FromProfile(ProfileWithSchemes()));
  // Dutch passport: no letter O; lower case and separators normalised.
  EXPECT_EQ(*ids.Normalise("nl_passport", "nw-k3 7pc4 1"), "nl_passport:NWK37PC41");
  EXPECT_FALSE(ids.Normalise("nl_passport", "OWK37PC41").ok());
  // V-number (vreemdelingennummer): 10 digits.
  EXPECT_EQ(*ids.Normalise("v_number", "26.1234.5678"), "v_number:2612345678");
  EXPECT_FALSE(ids.Normalise("v_number", "261234567").ok());
}

TEST(NationalIdTest, SchemesNeverGiveTheSameValue) {
  ASSERT_OK_AND_ASSIGN(NationalIds ids, NationalIds::FromProfile(ProfileWithSchemes()));
  // The same ten digits as a V-number and as a (nine-digit) BSN differ; so do two schemes
  // with the same pattern.
  EXPECT_NE(*ids.Normalise("v_number", "1112223330"), *ids.Normalise("bsn", "111222333"));
  EXPECT_NE(*ids.Normalise("v_number", "8507300332"), "8507300332");
}

TEST(NationalIdTest, UnknownSchemeIsRefused) {
  ASSERT_OK_AND_ASSIGN(NationalIds ids, NationalIds::FromProfile(ProfileWithSchemes()));
  auto r = ids.Normalise("de_personalausweis", "T22000129");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "national_id_scheme is not a scheme of the linkage profile");
  EXPECT_FALSE(NationalIds().Normalise("be_rrn", "85073003328").ok());
}

TEST(NationalIdTest, BadSchemesAreRefusedWithTheProfile) {
  v1::LinkageProfile p = ProfileWithSchemes();
  p.mutable_national_id_schemes(0)->set_pattern("[0-9");
  EXPECT_EQ(NationalIds::FromProfile(p).status().code(), absl::StatusCode::kInvalidArgument);
  p = ProfileWithSchemes();
  p.mutable_national_id_schemes(1)->set_name("bsn");
  EXPECT_FALSE(NationalIds::FromProfile(p).ok());
  p = ProfileWithSchemes();
  p.mutable_national_id_schemes(1)->set_name("be_rrn");
  EXPECT_FALSE(NationalIds::FromProfile(p).ok());
}

// The CSV contract: an optional column national_id_scheme (empty = BSN); a failing id is
// named in a warning (never its value) and not used; the record still goes.
TEST(NationalIdTest, CsvColumnNamesTheScheme) {
  ASSERT_OK_AND_ASSIGN(auto csv, ParseCsv("record_id,national_id,national_id_scheme\n"
                                          "A,85.07.30-033.28,be_rrn\n"
                                          "B,111222333,\n"
                                          "C,111222333,bsn\n"
                                          "D,85.07.30-033.29,be_rrn\n"
                                          "E,123456789,fr_insee\n"
                                          "F,,be_rrn\n"));
  SignalOptions options;
  ASSERT_OK_AND_ASSIGN(options.national_ids, NationalIds::FromProfile(ProfileWithSchemes()));
  ASSERT_OK_AND_ASSIGN(auto normaliser, Normaliser::New());
  ASSERT_OK_AND_ASSIGN(SignalFile f, ParseSignals(csv, *normaliser, options));
  ASSERT_EQ(f.signals.size(), 6u);
  EXPECT_EQ(f.signals[0].person.Get(v1::FIELD_NATIONAL_ID), "be_rrn:85073003328");
  EXPECT_EQ(f.signals[1].person.Get(v1::FIELD_NATIONAL_ID), "111222333");
  EXPECT_EQ(f.signals[2].person.Get(v1::FIELD_NATIONAL_ID), "111222333");
  EXPECT_FALSE(f.signals[3].person.Has(v1::FIELD_NATIONAL_ID));
  EXPECT_FALSE(f.signals[4].person.Has(v1::FIELD_NATIONAL_ID));
  EXPECT_FALSE(f.signals[5].person.Has(v1::FIELD_NATIONAL_ID));
  ASSERT_EQ(f.warnings.size(), 2u);
  EXPECT_EQ(FormatIssue(f.warnings[0]),
            "line 5, record D, field national_id: fails the check of scheme be_rrn; not used");
  EXPECT_EQ(FormatIssue(f.warnings[1]),
            "line 6, record E, field national_id: national_id_scheme is not a scheme of the "
            "linkage profile; not used");
}

}  // namespace
}  // namespace samenzicht::agency_node
