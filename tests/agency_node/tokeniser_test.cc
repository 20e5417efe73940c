#include "agency_node/tokeniser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include "agency_node/csv.h"
#include "agency_node/national_id.h"
#include "agency_node/normalise.h"
#include "agency_node/signal.h"
#include "crypto/encoding.h"
#include "crypto/secret_bytes.h"
#include "model/config.h"
#include "tests/testing/status_matchers.h"
#include "model/tokens.h"
#include "tests/agency_node/keyholder_fixture.h"

namespace samenzicht::agency_node {
namespace {

using ::samenzicht::testing::StatusIs;
using testing::CountingOracle;
using v1::Field;

// Most tests here pin the rules of profile version 3 (any shared token links); the
// shipped profile (version 4) has its own tests at the end.
v1::LinkageProfile DefaultProfile() {
  auto p = model::LoadProfile(std::string(SAMENZICHT_SOURCE_DIR) + "/bench/linkage_quality/profiles/v3.textproto");
  EXPECT_TRUE(p.ok()) << p.status();
  return *p;
}

v1::LinkageProfile ShippedProfile() {
  auto p = model::LoadProfile(std::string(SAMENZICHT_SOURCE_DIR) + "/deploy/config/profile.textproto");
  EXPECT_TRUE(p.ok()) << p.status();
  return *p;
}

std::unique_ptr<Tokeniser> MakeTokeniser(const crypto::SecretBytes& key, uint32_t epoch,
                                         const v1::LinkageProfile& profile = DefaultProfile()) {
  auto h = crypto::KeyedHasher::New(key, kTokenPurpose, epoch, RuleNames(profile));
  EXPECT_TRUE(h.ok()) << h.status();
  auto t = Tokeniser::New(profile, std::move(*h));
  EXPECT_TRUE(t.ok()) << t.status();
  return std::move(*t);
}

class TokeniserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = std::make_unique<crypto::SecretBytes>(*crypto::SecretBytes::Random(32));
    tokeniser_ = MakeTokeniser(*key_, 1);
    normaliser_ = *Normaliser::New();
  }

  // rule -> token for the one record in `csv` (header + one row).
  std::map<std::string, std::string> Tokens(const std::string& header, const std::string& row,
                                            const Tokeniser* t = nullptr) {
    auto csv = ParseCsv(header + "\n" + row + "\n");
    EXPECT_TRUE(csv.ok());
    SignalOptions o;
    o.today = Date{2024, 6, 15};
    auto f = ParseSignals(*csv, *normaliser_, o);
    EXPECT_TRUE(f.ok()) << f.status();
    EXPECT_EQ(f->signals.size(), 1u);
    v1::Report r;
    const Tokeniser* tk = t ? t : tokeniser_.get();
    const int added = tk->Tokenise(f->signals[0].person, r.mutable_packed_tokens());
    EXPECT_EQ(added, model::TokenCount(r));
    EXPECT_TRUE(model::UnpackTokens(tk->rule_names(), &r).ok());
    std::map<std::string, std::string> out;
    roles_.clear();
    for (const auto& tok : r.tokens()) {
      EXPECT_EQ(tok.value().size(), 32u);
      out[tok.rule()] = tok.value();
      roles_[tok.rule()] = tok.role();
    }
    return out;
  }

  std::unique_ptr<crypto::SecretBytes> key_;
  std::unique_ptr<Tokeniser> tokeniser_;
  std::map<std::string, v1::TokenRole> roles_;  // of the last Tokens() call
  std::unique_ptr<Normaliser> normaliser_;
  std::vector<std::unique_ptr<Tokeniser>> keep_;
};

constexpr char kHeader[] = "record_id,given_names,surname,date_of_birth,national_id,phone,postcode";

// The same person in two records of one export: the key service is asked for each distinct
// input once, and every record still gets every token it would get alone.
TEST_F(TokeniserTest, OprfBatchAsksTheKeyServiceForEachDistinctInputOnce) {
  auto csv = ParseCsv(std::string(kHeader) + "\n" +
                      "P-1,Anna,Jansen,1990-05-17,111222333,0612345678,9711AA\n"
                      "P-2,Anna,Jansen,1990-05-17,111222333,0612345678,9711AA\n"
                      "P-3,Pieter,Bakker,1985-02-03,,,3514AB\n");
  ASSERT_OK(csv.status());
  SignalOptions o;
  o.today = Date{2024, 6, 15};
  auto f = ParseSignals(*csv, *normaliser_, o);
  ASSERT_OK(f.status());
  ASSERT_EQ(f->signals.size(), 3u);
  auto batch = [&](const std::vector<size_t>& which, CountingOracle** oracle_out) {
    auto oracle = std::make_unique<CountingOracle>();
    *oracle_out = oracle.get();
    auto t = Tokeniser::NewWithOracle(ShippedProfile(), std::move(oracle));
    EXPECT_OK(t.status());
    std::vector<const Person*> persons;
    std::vector<std::string> packed(which.size());
    std::vector<std::string*> out;
    for (size_t i = 0; i < which.size(); ++i) {
      persons.push_back(&f->signals[which[i]].person);
      out.push_back(&packed[i]);
    }
    EXPECT_OK((*t)->TokeniseBatch(persons, out));
    keep_.push_back(std::move(*t));
    return packed;
  };
  CountingOracle *all = nullptr, *anna = nullptr, *pieter = nullptr;
  const std::vector<std::string> together = batch({0, 1, 2}, &all);
  const std::vector<std::string> alone_anna = batch({0}, &anna);
  const std::vector<std::string> alone_pieter = batch({2}, &pieter);
  ASSERT_EQ(together.size(), 3u);
  EXPECT_EQ(together[0], alone_anna[0]);
  EXPECT_EQ(together[1], alone_anna[0]) << "the same person's second record: the same tokens";
  EXPECT_EQ(together[2], alone_pieter[0]);

  const std::vector<std::string> asked = all->asked();
  const std::set<std::string> distinct(asked.begin(), asked.end());
  EXPECT_EQ(asked.size(), distinct.size()) << "an input asked twice";
  std::set<std::string> expected;
  for (const auto& in : anna->asked()) expected.insert(in);
  for (const auto& in : pieter->asked()) expected.insert(in);
  EXPECT_EQ(distinct, expected);
  // Alone: one input per distinct value part of the record's tokens (each field value,
  // each member of a deletion neighbourhood, each name of a name-deletion pair), however
  // many rules and fields share it; far fewer than its tokens.
  auto probe = Tokeniser::NewWithOracle(ShippedProfile(), std::make_unique<CountingOracle>());
  ASSERT_OK(probe.status());
  const Person& p = f->signals[0].person;
  std::set<std::string> parts;
  const v1::LinkageProfile shipped = ShippedProfile();
  for (const auto& rule : shipped.rules()) {
    bool present = true;
    for (int fld : rule.fields()) present = present && p.Has(static_cast<Field>(fld));
    if (!present) continue;
    for (int fld : rule.fields()) {
      const std::string& v = p.Get(static_cast<Field>(fld));
      if (fld == Field::FIELD_NAME_DELETIONS) {
        for (const std::string& pair : NameDeletionPairs(v)) {
          const size_t sep = pair.find(kNameJoiner);
          parts.insert(pair.substr(0, sep));
          parts.insert(pair.substr(sep + 1));
        }
      } else if (model::IsMultiValuedField(static_cast<Field>(fld))) {
        for (const std::string& d : DeletionNeighbourhood(v)) parts.insert(d);
      } else {
        parts.insert(v);
      }
    }
  }
  std::set<std::string> expected_anna;
  for (const std::string& part : parts) expected_anna.insert((*probe)->OracleInput(part));
  const std::vector<std::string> asked_anna = anna->asked();
  EXPECT_EQ(asked_anna.size(), expected_anna.size()) << "an input asked twice";
  EXPECT_EQ(std::set<std::string>(asked_anna.begin(), asked_anna.end()), expected_anna);
  EXPECT_LT(asked_anna.size() * 2, alone_anna[0].size() / 34) << "fewer than half an input per token";
  // Several calls of at most 7 inputs (the oracle's maximum).
  EXPECT_GE(all->calls(), static_cast<int>((asked.size() + 6) / 7));
}

// Token equality is the same in both modes: over a noisy simulated export (the same
// person under variant spellings, typing errors, swapped names), two tokens are equal in
// the OPRF mode exactly when they are equal in the shared-key mode, entry by entry, and
// rule and role of every entry agree. So splitting the values into separately evaluated
// parts neither loses a link nor adds one.
TEST_F(TokeniserTest, OprfTokensAreEqualExactlyWhenSharedKeyTokensAre) {
  auto csv = ReadCsvFile(std::string(SAMENZICHT_SOURCE_DIR) + "/tests/agency_node/testdata/golden_simulated.csv");
  ASSERT_OK(csv.status());
  SignalOptions o;
  o.today = Date{2026, 11, 22};  // as in the golden test: the file's dates lie before it
  auto nid = NationalIds::FromProfile(ShippedProfile());
  ASSERT_OK(nid.status());
  o.national_ids = *nid;
  auto f = ParseSignals(*csv, *normaliser_, o);
  ASSERT_OK(f.status());
  ASSERT_GT(f->signals.size(), 500u);
  auto shared = MakeTokeniser(*key_, 1, ShippedProfile());
  auto oprf = Tokeniser::NewWithOracle(ShippedProfile(), std::make_unique<CountingOracle>());
  ASSERT_OK(oprf.status());
  std::vector<const Person*> persons;
  std::vector<std::string> a(f->signals.size()), b(f->signals.size());
  std::vector<std::string*> out;
  for (size_t i = 0; i < f->signals.size(); ++i) {
    persons.push_back(&f->signals[i].person);
    shared->Tokenise(f->signals[i].person, &a[i]);
    out.push_back(&b[i]);
  }
  ASSERT_OK((*oprf)->TokeniseBatch(persons, out));
  // value -> the first (record, entry) it occurs at, in each mode.
  std::map<std::string, std::pair<size_t, size_t>> first_a, first_b;
  size_t entries = 0, shared_entries = 0;
  for (size_t r = 0; r < a.size(); ++r) {
    ASSERT_EQ(a[r].size(), b[r].size()) << "record " << r;
    for (size_t e = 0; e * 34 < a[r].size(); ++e) {
      const std::string ea = a[r].substr(e * 34, 34), eb = b[r].substr(e * 34, 34);
      ASSERT_EQ(ea.substr(0, 2), eb.substr(0, 2)) << "rule and role of record " << r << " entry " << e;
      auto ia = first_a.try_emplace(ea.substr(2), r, e).first;
      auto ib = first_b.try_emplace(eb.substr(2), r, e).first;
      ASSERT_EQ(ia->second, ib->second) << "record " << r << " entry " << e;
      ++entries;
      shared_entries += ia->second != std::make_pair(r, e);
    }
  }
  EXPECT_EQ(first_a.size(), first_b.size());
  EXPECT_GT(shared_entries, entries / 10) << "the export has many shared tokens to compare";
  for (const auto& [value, at] : first_b) EXPECT_EQ(first_a.count(value), 0u) << "a token of both modes";
}

TEST_F(TokeniserTest, OneTokenPerRuleWhoseFieldsArePresent) {
  auto all = Tokens(kHeader, "R,Jan,Jansen,2005-03-12,123456782,0612345678,9712CP");
  std::vector<std::string> rules;
  for (const auto& [r, v] : all) rules.push_back(r);
  EXPECT_THAT(rules, ::testing::UnorderedElementsAre(
                         "nid", "phone", "name_dob", "phon_dob", "name_dob_swap", "phon2_dob",
                         "sorted_dob", "name_year_pc", "given_dob_pc", "phon_year_pc",
                         "sorted_year_pc", "phon_md_pc", "phon2_pc", "sorted_pc",
                         "init_surname_pc", "name_md_probe"));
  auto partial = Tokens(kHeader, "R,J.,Jansen,2005-03-12,,,");
  std::vector<std::string> partial_rules;
  for (const auto& [r, v] : partial) partial_rules.push_back(r);
  EXPECT_THAT(partial_rules, ::testing::ElementsAre("phon_dob"));
  EXPECT_TRUE(Tokens(kHeader, "R,,,,,,").empty());
}

TEST_F(TokeniserTest, VariantSpellingsMeetUnderTheRightRule) {
  auto a = Tokens(kHeader, "R,Jan,Jansen,12-03-2005,,,");
  auto b = Tokens(kHeader, "R,Jan,Janssen,2005-03-12,,,");
  EXPECT_EQ(a["phon_dob"], b["phon_dob"]);
  EXPECT_NE(a["name_dob"], b["name_dob"]);

  auto c = Tokens(kHeader, "R,Mohamed,El Amrani,2001-07-04,,,");
  auto d = Tokens(kHeader, "R,Mohammed,Amrani,4-7-2001,,,");
  EXPECT_EQ(c["name_dob"].size(), 32u);
  EXPECT_NE(c["name_dob"], d["name_dob"]);      // first names differ
  EXPECT_EQ(c["phon_dob"], d["phon_dob"]);      // same surname, initial and date

  auto e = Tokens(kHeader, "R,Piet,Van der Berg,1999-01-02,,,");
  auto f = Tokens(kHeader, "R,Piet,\"Berg, van der\",02-01-1999,,,");
  EXPECT_EQ(e["name_dob"], f["name_dob"]);
  EXPECT_EQ(e["phon_dob"], f["phon_dob"]);
}

TEST_F(TokeniserTest, DayMonthSwapIsCaughtByTheSwapRuleOnly) {
  auto a = Tokens(kHeader, "R,Anna,de Vries,2003-05-09,,,");
  auto b = Tokens(kHeader, "R,Anna,de Vries,2003-09-05,,,");
  EXPECT_NE(a["name_dob"], b["name_dob"]);
  EXPECT_EQ(a["name_dob_swap"], b["name_dob_swap"]);
}

TEST_F(TokeniserTest, ProbeRuleTokensAreAnchorsWithADateOfBirthAndProbesWithout) {
  auto dated = Tokens(kHeader, "R,Merve,Dijkstra,2001-05-17,,,9745VV");
  EXPECT_EQ(roles_["phon2_pc"], v1::TOKEN_ROLE_ANCHOR);
  EXPECT_EQ(roles_["init_surname_pc"], v1::TOKEN_ROLE_ANCHOR);
  EXPECT_EQ(roles_["name_dob"], v1::TOKEN_ROLE_UNSPECIFIED);
  auto undated = Tokens(kHeader, "R,Merve,Dijkstra,,,,9745 vv");
  EXPECT_EQ(roles_["phon2_pc"], v1::TOKEN_ROLE_PROBE);
  EXPECT_EQ(roles_["sorted_pc"], v1::TOKEN_ROLE_PROBE);
  EXPECT_EQ(roles_["init_surname_pc"], v1::TOKEN_ROLE_PROBE);
  // The role is not hashed: a probe carries its anchors' value.
  for (const char* rule : {"phon2_pc", "sorted_pc", "init_surname_pc"}) {
    ASSERT_EQ(dated.count(rule), 1u) << rule;
    EXPECT_EQ(dated[rule], undated[rule]) << rule;
  }
  // name_md_probe probes on the postcode.
  EXPECT_EQ(dated.count("name_md_probe"), 1u);
  Tokens(kHeader, "R,Merve,Dijkstra,2001-05-17,,,");
  EXPECT_EQ(roles_["name_md_probe"], v1::TOKEN_ROLE_PROBE);
  EXPECT_EQ(roles_.count("phon2_pc"), 0u);
  // An impossible date of birth is refused, so that record probes too.
  Tokens(kHeader, "R,Merve,Dijkstra,31-02-2001,,,9745VV");
  EXPECT_EQ(roles_["phon2_pc"], v1::TOKEN_ROLE_PROBE);
}

TEST_F(TokeniserTest, BsnTypoGivesNoNationalIdToken) {
  auto good = Tokens(kHeader, "R,,,,123456782,,");
  auto typo = Tokens(kHeader, "R,,,,123456783,,");
  EXPECT_EQ(good.count("nid"), 1u);
  EXPECT_EQ(typo.count("nid"), 0u);
}

TEST_F(TokeniserTest, PhoneFormsGiveOneToken) {
  EXPECT_EQ(Tokens(kHeader, "R,,,,,06 1234 5678,")["phone"],
            Tokens(kHeader, "R,,,,,+31 (0)6-12345678,")["phone"]);
}

TEST_F(TokeniserTest, TokensDifferAcrossRulesEpochsAndKeys) {
  const std::string row = "R,Jan,Jansen,2005-03-12,123456782,0612345678,9712CP";
  auto base = Tokens(kHeader, row);
  std::set<std::string> distinct;
  for (const auto& [r, v] : base) distinct.insert(v);
  EXPECT_EQ(distinct.size(), base.size());

  auto epoch2 = MakeTokeniser(*key_, 2);
  auto other_key = crypto::SecretBytes::Random(32);
  auto keyed = MakeTokeniser(*other_key, 1);
  auto e2 = Tokens(kHeader, row, epoch2.get());
  auto k2 = Tokens(kHeader, row, keyed.get());
  for (const auto& [rule, v] : base) {
    EXPECT_NE(v, e2[rule]) << rule;
    EXPECT_NE(v, k2[rule]) << rule;
  }
  // Deterministic for the same key and epoch.
  auto again = MakeTokeniser(*key_, 1);
  EXPECT_EQ(Tokens(kHeader, row, again.get()), base);
}

TEST_F(TokeniserTest, EncodingIsUnambiguous) {
  // ("ab", "c") and ("a", "bc") must encode differently for a two-field rule.
  v1::LinkageProfile profile;
  auto* rule = profile.add_rules();
  rule->set_name("two");
  rule->add_fields(v1::FIELD_FIRST_GIVEN_NAME);
  rule->add_fields(v1::FIELD_SURNAME);
  auto t = MakeTokeniser(*key_, 1, profile);
  Person p1, p2;
  p1.Set(Field::FIELD_FIRST_GIVEN_NAME, "ab");
  p1.Set(Field::FIELD_SURNAME, "c");
  p2.Set(Field::FIELD_FIRST_GIVEN_NAME, "a");
  p2.Set(Field::FIELD_SURNAME, "bc");
  EXPECT_NE(t->EncodeForTest(0, p1), t->EncodeForTest(0, p2));
  EXPECT_EQ(t->EncodeForTest(0, p1), std::string("\x03\x00\x00\x00\x02" "ab" "\x05\x00\x00\x00\x01" "c", 13));
  v1::Report r1, r2;
  ASSERT_EQ(t->Tokenise(p1, r1.mutable_packed_tokens()), 1);
  ASSERT_EQ(t->Tokenise(p2, r2.mutable_packed_tokens()), 1);
  EXPECT_NE(r1.packed_tokens().substr(2), r2.packed_tokens().substr(2));
}

TEST_F(TokeniserTest, HasherMustMatchTheProfile) {
  auto profile = DefaultProfile();
  auto h = crypto::KeyedHasher::New(*key_, kTokenPurpose, 1, {"nid", "phone"});
  ASSERT_TRUE(h.ok());
  EXPECT_THAT(Tokeniser::New(profile, std::move(*h)), StatusIs(absl::StatusCode::kInvalidArgument));
  v1::LinkageProfile empty;
  auto h2 = crypto::KeyedHasher::New(*key_, kTokenPurpose, 1, {"x"});
  EXPECT_THAT(Tokeniser::New(empty, std::move(*h2)), StatusIs(absl::StatusCode::kInvalidArgument));
}

// Version 5: the postcode within one edit. A mistyped character anywhere in the postcode
// (not only in its last two letters, which the postcode area survives) leaves one member of
// the neighbourhood in common; another postcode in the same area shares none.
TEST_F(TokeniserTest, APostcodeWithOneMistypedCharacterSharesOnePostcodeDeletionToken) {
  const v1::LinkageProfile profile = ShippedProfile();
  auto t = MakeTokeniser(*key_, 1, profile);
  size_t rule = profile.rules_size();
  for (int i = 0; i < profile.rules_size(); ++i) {
    if (profile.rules(i).name() == "phon2_pcdel") rule = i;
  }
  ASSERT_LT(rule, static_cast<size_t>(profile.rules_size()));
  auto messages = [&](const std::string& postcode) {
    Person p;
    p.Set(Field::FIELD_GIVEN_NAME_PHONETIC, "PTR");
    p.Set(Field::FIELD_SURNAME_PHONETIC, "JNSN");
    p.Set(Field::FIELD_POSTCODE, postcode);
    DeriveLinkageFields(&p);
    return t->MessagesForTest(rule, p);
  };
  auto shared = [](const std::vector<std::string>& a, const std::vector<std::string>& b) {
    int n = 0;
    for (const auto& m : a) n += std::count(b.begin(), b.end(), m) > 0;
    return n;
  };
  const auto right = messages("9711AB");
  // The postcode and its one-character deletions: six, as both 1s leave "971AB".
  EXPECT_EQ(right.size(), 6u);
  EXPECT_EQ(shared(right, messages("9712AB")), 1);  // a digit mistyped: the area differs
  EXPECT_EQ(shared(right, messages("9711AV")), 1);
  EXPECT_EQ(shared(right, messages("971AB")), 1);   // a digit missing
  EXPECT_EQ(shared(right, messages("9711CD")), 0);  // next street: same area, other postcode
  EXPECT_EQ(shared(right, messages("9711AB")), 6);
}

TEST_F(TokeniserTest, ADeletionRuleYieldsOneTokenPerMemberOfTheNeighbourhood) {
  const v1::LinkageProfile profile = ShippedProfile();
  auto t = MakeTokeniser(*key_, 1, profile);
  size_t surdel = profile.rules_size();
  for (int i = 0; i < profile.rules_size(); ++i) {
    if (profile.rules(i).name() == "surdel_dob") surdel = i;
  }
  ASSERT_LT(surdel, static_cast<size_t>(profile.rules_size()));
  Person p;
  p.Set(Field::FIELD_SURNAME, "jansen");
  p.Set(Field::FIELD_FIRST_INITIAL, "j");
  p.Set(Field::FIELD_DOB_DAY_MONTH_UNORDERED, "20050312");
  DeriveLinkageFields(&p);
  const std::vector<std::string> messages = t->MessagesForTest(surdel, p);
  EXPECT_EQ(messages.size(), DeletionNeighbourhood("jansen").size());  // 7: jansen + 6
  EXPECT_EQ(messages.size(), 7u);
  v1::Report r;
  // Only surdel_dob has all its fields: one token per message, no other rule.
  EXPECT_EQ(t->Tokenise(p, r.mutable_packed_tokens()), 7);
  // One substituted letter: the two records share exactly one member ("jnsen"? no: the
  // member without the changed letter).
  Person q = p;
  q.Set(Field::FIELD_SURNAME, "jamsen");
  DeriveLinkageFields(&q);
  const std::vector<std::string> other = t->MessagesForTest(surdel, q);
  int shared = 0;
  for (const auto& m : messages) shared += std::count(other.begin(), other.end(), m);
  EXPECT_EQ(shared, 1);
}

TEST_F(TokeniserTest, ShippedProfileLinksSwappedNamesAndForeignPostcodes) {
  tokeniser_ = MakeTokeniser(*key_, 1, ShippedProfile());
  auto a = Tokens(kHeader, "R,Fatima,Amrani,2005-03-12,,,B-2000");
  auto b = Tokens(kHeader, "R,Amrani,Fatima,12-03-2005,,,2000");
  EXPECT_EQ(a["swap_dob"], b["swap_dob"]);
  EXPECT_EQ(a["swap_pc"], b["swap_pc"]);
  EXPECT_NE(a["name_dob"], b["name_dob"]);
  auto c = Tokens(kHeader, "R,Fatima,Amrani,2005-03-12,,,");
  EXPECT_EQ(a["phon2_ym"], c["phon2_ym"]);
  auto d = Tokens(kHeader, "R,Fatima,Amrani,2005-03-21,,,");  // another day of the month
  EXPECT_EQ(c["phon2_ym"], d["phon2_ym"]);
  EXPECT_NE(c["name_dob"], d["name_dob"]);
}

}  // namespace
}  // namespace samenzicht::agency_node
