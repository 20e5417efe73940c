// The keyless yardsticks of bench/linkage_quality: Jaro-Winkler against published values,
// the comparison levels, the plaintext Fellegi-Sunter linkage on a small made-up population
// (it must link typo'd records of one person and keep persons apart without any label),
// and the frequency attack's ranking.
#include "bench/linkage_quality/plaintext_fs.h"

#include <map>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace samenzicht::bench {
namespace {

TEST(JaroWinklerTest, PublishedValues) {
  // Winkler (1990) / the usual textbook examples.
  EXPECT_NEAR(JaroWinkler("martha", "marhta"), 0.9611, 1e-4);
  EXPECT_NEAR(JaroWinkler("dwayne", "duane"), 0.84, 1e-4);
  EXPECT_NEAR(JaroWinkler("dixon", "dicksonx"), 0.8133, 1e-4);
  EXPECT_EQ(JaroWinkler("jansen", "jansen"), 1.0);
  EXPECT_EQ(JaroWinkler("", "jansen"), 0.0);
  EXPECT_EQ(JaroWinkler("abc", "xyz"), 0.0);
  EXPECT_DOUBLE_EQ(JaroWinkler("jansen", "janssen"), JaroWinkler("janssen", "jansen"));
}

ClearRecord Rec(std::string given, std::string surname, int y, int m, int d) {
  ClearRecord r;
  r.initial = given.substr(0, 1);
  r.given = std::move(given);
  r.surname = std::move(surname);
  r.surname_phonetic = r.surname;
  r.dob_year = y, r.dob_month = m, r.dob_day = d;
  return r;
}

TEST(CompareRecordsTest, Levels) {
  ClearRecord a = Rec("johannes", "jansen", 2005, 3, 9);
  ClearRecord b = Rec("johannes", "janssen", 2005, 9, 3);
  std::vector<int> g = CompareRecords(a, b);
  EXPECT_EQ(g[kCmpGiven], 4);    // exact
  EXPECT_EQ(g[kCmpSurname], 2);  // jw >= 0.92
  EXPECT_EQ(g[kCmpDob], 2);      // day <-> month swap
  EXPECT_EQ(g[kCmpPostcode], -1);  // missing: neutral
  b.dob_year = 2006, b.dob_month = 1, b.dob_day = 1;
  EXPECT_EQ(CompareRecords(a, b)[kCmpDob], 1);  // year within 1
  b.dob_year = 2010;
  EXPECT_EQ(CompareRecords(a, b)[kCmpDob], 0);

  ClearRecord swapped = Rec("jansen", "johannes", 2005, 3, 9);
  g = CompareRecords(a, swapped);
  EXPECT_EQ(g[kCmpGiven], 5);
  EXPECT_EQ(g[kCmpSurname], 4);
  EXPECT_EQ(g[kCmpDob], 3);

  // A call name: another spelling, the same phonetic code after call names.
  ClearRecord kees = Rec("kees", "jansen", 2005, 3, 9), cornelis = Rec("cornelis", "jansen", 2005, 3, 9);
  kees.given_phonetic = cornelis.given_phonetic = "KRNLS";
  EXPECT_EQ(CompareRecords(kees, cornelis)[kCmpGiven], 6);
  ClearRecord meijer = Rec("jan", "meijer", 2005, 3, 9), meier = Rec("jan", "maier", 2005, 3, 9);
  meijer.surname_phonetic = meier.surname_phonetic = "MR";
  EXPECT_EQ(CompareRecords(meijer, meier)[kCmpSurname], 5);

  ClearRecord initial_only = a;
  initial_only.given.clear();
  EXPECT_EQ(CompareRecords(a, initial_only)[kCmpGiven], 1);

  // The address: street and house number, both needed; a street typo with the same number.
  EXPECT_EQ(CompareRecords(a, b)[kCmpAddress], -1);
  a.street = "korreweg", a.house_number = "12a";
  b.street = "korreweg", b.house_number = "12a";
  EXPECT_EQ(CompareRecords(a, b)[kCmpAddress], 3);
  b.street = "korrewegg";
  EXPECT_EQ(CompareRecords(a, b)[kCmpAddress], 2);
  b.street = "korreweg", b.house_number = "14";
  EXPECT_EQ(CompareRecords(a, b)[kCmpAddress], 1);
  b.street = "hereweg", b.house_number = "12a";
  EXPECT_EQ(CompareRecords(a, b)[kCmpAddress], 0);
  b.house_number.clear();
  EXPECT_EQ(CompareRecords(a, b)[kCmpAddress], -1);
  // A comparison vector with every comparison set still fits its code (9 comparisons).
  EXPECT_EQ(kFsComparisons, 9);
}

// Persons with random names and dates; 1 to 4 records each, some with a typo in a name,
// a swapped day and month, or missing fields.
struct Population {
  std::vector<ClearRecord> records;
  std::vector<int> truth;
};

Population MakePopulation(int persons, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  auto word = [&](int len) {
    std::string w;
    for (int i = 0; i < len; ++i) w += static_cast<char>('a' + pick(26));
    return w;
  };
  Population pop;
  for (int p = 0; p < persons; ++p) {
    ClearRecord base = Rec(word(5 + pick(4)), word(6 + pick(4)), 1990 + pick(20), 1 + pick(12),
                           1 + pick(28));
    base.postcode = std::to_string(1000 + pick(9000)) + "AB";
    base.city = pick(2) ? "groningen" : "assen";
    if (pick(2)) base.phone = "+316" + std::to_string(10000000 + pick(89999999));
    const int n = 1 + pick(4);
    for (int r = 0; r < n; ++r) {
      ClearRecord x = base;
      if (r > 0) {
        switch (pick(6)) {
          case 0: x.surname[2] = static_cast<char>('a' + pick(26)); break;
          case 1: x.given[1] = static_cast<char>('a' + pick(26)); break;
          case 2: std::swap(x.dob_day, x.dob_month); break;
          case 3: x.postcode.clear(); break;
          case 4: x.phone.clear(); x.given.clear(); break;
          default: break;
        }
        x.surname_phonetic = x.surname;
      }
      pop.records.push_back(std::move(x));
      pop.truth.push_back(p);
    }
  }
  return pop;
}

class LinkFellegiSunterMethodTest : public ::testing::TestWithParam<FsMethod> {};
INSTANTIATE_TEST_SUITE_P(Methods, LinkFellegiSunterMethodTest,
                         ::testing::Values(FsMethod::kSplink, FsMethod::kFastLink));

TEST_P(LinkFellegiSunterMethodTest, LinksTypoRecordsWithoutLabels) {
  Population pop = MakePopulation(400, 7);
  FsOptions options;
  options.random_pairs = 20000;
  options.method = GetParam();
  FsResult result = LinkFellegiSunter(pop.records, options);
  ASSERT_EQ(result.label.size(), pop.records.size());
  int64_t tp = 0, predicted = 0, actual = 0;
  for (size_t i = 0; i < pop.records.size(); ++i) {
    for (size_t j = i + 1; j < pop.records.size(); ++j) {
      const bool same = pop.truth[i] == pop.truth[j];
      const bool linked = result.label[i] == result.label[j];
      tp += same && linked;
      predicted += linked;
      actual += same;
    }
  }
  ASSERT_GT(actual, 0);
  EXPECT_GE(double(tp) / predicted, 0.99);
  EXPECT_GE(double(tp) / actual, 0.95);
  EXPECT_GT(result.candidate_pairs, 0);
  EXPECT_GT(result.model.lambda, 0);
  // The learned weights point the right way: exact agreement on a name is evidence for a
  // match, disagreement against.
  const auto& given = result.model.comparisons[kCmpGiven].levels;
  EXPECT_GT(given[4].m, given[4].u);
  EXPECT_LT(given[0].m, given[0].u);
  EXPECT_FALSE(DescribeModel(result.model).empty());
}

TEST(LinkFellegiSunterTest, EmptyAndSingle) {
  EXPECT_TRUE(LinkFellegiSunter({}, {}).label.empty());
  EXPECT_EQ(LinkFellegiSunter({Rec("a", "b", 2000, 1, 1)}, {}).label.size(), 1u);
}

TEST(FrequencyAttackTest, DistinctFrequenciesAreBroken) {
  std::unordered_map<std::string, int64_t> known = {{"a", 50}, {"b", 20}, {"c", 7}};
  std::unordered_map<std::string, int64_t> observed = {{"a", 9}, {"b", 4}, {"c", 2}};
  AttackResult r = FrequencyAttack(known, observed, 1);
  EXPECT_EQ(r.distinct_tokens, 3);
  EXPECT_EQ(r.distinct_right, 3);
  EXPECT_EQ(r.occurrences, 15);
  EXPECT_EQ(r.occurrences_right, 15);
  EXPECT_EQ(r.known_values, 3);
}

TEST(FrequencyAttackTest, UniqueValuesAreGuessesAndReproducible) {
  std::unordered_map<std::string, int64_t> known, observed;
  for (int i = 0; i < 2000; ++i) known[std::to_string(i)] = 1;
  for (int i = 0; i < 1000; ++i) observed[std::to_string(i * 2)] = 1;
  observed["nobody"] = 3;  // not in the reference: ranked first, matched to a wrong value
  AttackResult r = FrequencyAttack(known, observed, 5);
  EXPECT_EQ(r.distinct_tokens, 1001);
  EXPECT_LT(r.distinct_fraction(), 0.01);  // ~1/2000 per value by chance
  AttackResult again = FrequencyAttack(known, observed, 5);
  EXPECT_EQ(again.distinct_right, r.distinct_right);
}

}  // namespace
}  // namespace samenzicht::bench
