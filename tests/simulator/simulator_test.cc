#include "simulator/simulator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/str_split.h"
#include "common/files.h"
#include "model/vocabulary.h"
#include "samenzicht/v1/categories.pb.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"

namespace samenzicht::simulator {
namespace {

using ::testing::HasSubstr;
using ::samenzicht::testing::StatusIs;

Simulation Sim(int persons, Noise noise, uint64_t seed = 3, int agencies = 6) {
  SimulatorOptions opt;
  opt.persons = persons;
  opt.noise = noise;
  opt.seed = seed;
  opt.agencies = agencies;
  auto sim = Simulate(opt);
  EXPECT_TRUE(sim.ok()) << sim.status();
  return *std::move(sim);
}

std::string AllCsv(const Simulation& sim) {
  std::string s;
  for (const Record& r : sim.records) s += CsvLine(r);
  return s;
}

bool SameIds(const Identifiers& a, const Identifiers& b) {
  return a.given_names == b.given_names && a.surname == b.surname &&
         a.date_of_birth == b.date_of_birth && a.gender == b.gender &&
         a.national_id == b.national_id && a.phone == b.phone && a.email == b.email &&
         a.postcode == b.postcode && a.street == b.street &&
         a.house_number == b.house_number && a.city == b.city;
}

// Number of identifier fields that differ from the canonical ones, over all records.
int ChangedFields(const Simulation& sim) {
  int n = 0;
  for (const Record& r : sim.records) {
    Identifiers c = Canonical(sim.people[r.person]);
    const Identifiers& w = r.ids;
    n += (w.given_names != c.given_names) + (w.surname != c.surname) +
         (w.date_of_birth != c.date_of_birth) + (w.gender != c.gender) +
         (w.national_id != c.national_id) + (w.phone != c.phone) + (w.email != c.email) +
         (w.postcode != c.postcode) + (w.city != c.city);
  }
  return n;
}

TEST(ElevenTest, KnownNumbers) {
  EXPECT_TRUE(PassesElevenTest("111222333"));
  EXPECT_TRUE(PassesElevenTest("123456782"));
  EXPECT_FALSE(PassesElevenTest("123456789"));
  EXPECT_FALSE(PassesElevenTest("000000000"));
  EXPECT_FALSE(PassesElevenTest("12345678"));
  EXPECT_FALSE(PassesElevenTest("12345678a"));
}

TEST(ElevenTest, GeneratedBsnsPassAndOneWrongDigitFails) {
  Rng rng(42);
  for (int i = 0; i < 2000; ++i) {
    std::string b = MakeBsn(rng);
    ASSERT_TRUE(PassesElevenTest(b)) << b;
    ASSERT_NE(b[0], '0');
    for (int pos = 0; pos < 9; ++pos) {
      std::string w = b;
      w[pos] = static_cast<char>('0' + (w[pos] - '0' + 1 + i % 9) % 10);
      EXPECT_FALSE(PassesElevenTest(w)) << w;
    }
  }
}

TEST(Dates, CivilRoundTripAndAge) {
  for (int64_t d = -30000; d < 30000; d += 37) {
    EXPECT_EQ(DaysFromCivil(CivilFromDays(d)), d);
  }
  EXPECT_EQ(IsoDate(CivilFromDays(DaysFromCivil({2024, 2, 29}) + 1)), "2024-03-01");
  EXPECT_EQ(AgeAt({2007, 3, 9}, {2024, 3, 8}), 16);
  EXPECT_EQ(AgeAt({2007, 3, 9}, {2024, 3, 9}), 17);
  EXPECT_EQ(AddMonths({2024, 1, 31}, 1), (Date{2024, 2, 29}));
  EXPECT_EQ(AddMonths({2024, 11, 1}, 3), (Date{2025, 2, 1}));
  EXPECT_EQ(AgeBandOf(12), v1::AGE_BAND_0_12);
  EXPECT_EQ(AgeBandOf(13), v1::AGE_BAND_13_17);
  EXPECT_EQ(AgeBandOf(26), v1::AGE_BAND_18_26);
  EXPECT_EQ(AgeBandOf(27), v1::AGE_BAND_27_PLUS);
}

TEST(ParseMonth, AcceptsYearMonthOnly) {
  ASSERT_OK_AND_ASSIGN(Date d, ParseMonth("2024-03"));
  EXPECT_EQ(d, (Date{2024, 3, 1}));
  EXPECT_THAT(ParseMonth("2024-13"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseMonth("2024-3"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseNoise("loud"), StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(Noise n, ParseNoise("heavy"));
  EXPECT_EQ(n, Noise::kHeavy);
}

TEST(Simulate, RefusesBadOptions) {
  SimulatorOptions opt;
  opt.persons = 0;
  EXPECT_THAT(Simulate(opt), StatusIs(absl::StatusCode::kInvalidArgument));
  opt.persons = 10;
  opt.agencies = 0;
  EXPECT_THAT(Simulate(opt), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(Corruption, TypoIsOneEdit) {
  Rng rng(7);
  for (int i = 0; i < 500; ++i) {
    std::string t = Typo("Janssen", rng);
    EXPECT_NE(t, "Janssen");
    EXPECT_GE(t.size(), 6u);
    EXPECT_LE(t.size(), 7u);
  }
  EXPECT_EQ(Typo("Li", rng), "Li");
  // Multi-byte letters stay whole: the result is valid UTF-8 of 5 or 6 code points.
  for (int i = 0; i < 200; ++i) {
    std::string t = Typo("Yılmaz", rng);
    int cps = 0;
    for (unsigned char c : t) cps += (c & 0xc0) != 0x80;
    EXPECT_GE(cps, 5);
    EXPECT_LE(cps, 6);
  }
}

TEST(Corruption, UpperCaseKeepsDiacritics) {
  EXPECT_EQ(Upper("van der Berg"), "VAN DER BERG");
  EXPECT_EQ(Upper("Öztürk"), "ÖZTÜRK");
  EXPECT_EQ(Upper("Łukasz Wiśniewski"), "ŁUKASZ WIŚNIEWSKI");
  EXPECT_EQ(Upper("Yılmaz"), "YILMAZ");
  EXPECT_EQ(Upper("Шевченко"), "ШЕВЧЕНКО");
}

TEST(Csv, QuotesPerRfc4180) {
  EXPECT_EQ(CsvField("Berg, van der"), "\"Berg, van der\"");
  EXPECT_EQ(CsvField("in 't Veld"), "in 't Veld");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("sexual;criminal"), "sexual;criminal");
  EXPECT_EQ(CsvHeader().size(), 22u);
}

TEST(Names, PrefixSplitAndVariants) {
  EXPECT_EQ(SplitSurnamePrefix("van der Berg"), (std::pair<std::string, std::string>{"van der", "Berg"}));
  EXPECT_EQ(SplitSurnamePrefix("in 't Veld"), (std::pair<std::string, std::string>{"in 't", "Veld"}));
  EXPECT_EQ(SplitSurnamePrefix("Visser"), (std::pair<std::string, std::string>{"", "Visser"}));
  EXPECT_THAT(SpellingVariants("Jansen"), ::testing::Contains("Janssen"));
  EXPECT_THAT(SpellingVariants("Mohamed"), ::testing::Contains("Mohammed"));
  EXPECT_THAT(SpellingVariants("Yılmaz"), ::testing::Contains("Yilmaz"));
  EXPECT_THAT(Nicknames("Johannes"), ::testing::Contains("Jan"));
  EXPECT_EQ(NativeScript("Shevchenko"), "Шевченко");
}

TEST(Simulate, IsDeterministicForASeed) {
  Simulation a = Sim(500, Noise::kModerate, 11);
  Simulation b = Sim(500, Noise::kModerate, 11);
  Simulation c = Sim(500, Noise::kModerate, 12);
  EXPECT_EQ(AllCsv(a), AllCsv(b));
  EXPECT_NE(AllCsv(a), AllCsv(c));
}

// The share of persons carrying the most common full surname, and the share carrying a
// surname nobody else in the population has.
struct SurnameShares {
  double top = 0, unique = 0;
  std::string most_common;
};
SurnameShares SharesOf(const std::vector<Person>& people) {
  std::map<std::string, int> count;
  for (const Person& p : people) ++count[p.FullSurname()];
  SurnameShares s;
  int top = 0, unique = 0;
  for (const auto& [name, n] : count) {
    if (n > top) { top = n; s.most_common = name; }
    if (n == 1) ++unique;
  }
  s.top = static_cast<double>(top) / people.size();
  s.unique = static_cast<double>(unique) / people.size();
  return s;
}

TEST(NameFrequencies, ZipfGivesAFewCommonSurnamesAndALongTail) {
  PopulationOptions opt{.persons = 2000, .seed = 1};
  SurnameShares uniform = SharesOf(GeneratePopulation(opt));
  opt.name_frequencies = NameFrequencies::kZipf;
  std::vector<Person> people = GeneratePopulation(opt);
  SurnameShares zipf = SharesOf(people);
  // Uniform lists: hardly anyone has a surname of their own.
  EXPECT_LT(uniform.unique, 0.02);
  // Zipf: a long tail (a sixth to a third of persons with a surname of their own), while
  // the most common surname stays near the published order of magnitude (0.5% to 1.5%).
  EXPECT_GT(zipf.unique, 0.15) << zipf.unique;
  EXPECT_LT(zipf.unique, 0.35) << zipf.unique;
  EXPECT_GT(zipf.top, 0.005) << zipf.top << " " << zipf.most_common;
  EXPECT_LT(zipf.top, 0.015) << zipf.top << " " << zipf.most_common;
  // Among persons of Dutch origin, one of the list's first three names (de Jong, Jansen,
  // de Vries) is the most common surname, with about the share of rank 1 under the law.
  std::map<std::string, int> dutch;
  int dutch_persons = 0;
  for (const Person& p : people) {
    if (p.origin != Origin::kDutch) continue;
    ++dutch_persons;
    ++dutch[p.FullSurname()];
  }
  ASSERT_GT(dutch_persons, 500);
  int top = 0;
  std::string top_name;
  for (const auto& [name, n] : dutch) {
    if (n > top) { top = n; top_name = name; }
  }
  const auto& common = NamesOf(Origin::kDutch).surnames;
  EXPECT_THAT(top_name, ::testing::AnyOf(common[0], common[1], common[2]));
  const auto& rare = RareDutchSurnames();
  double total = 0;
  for (size_t k = 1; k <= common.size() + rare.size(); ++k) total += 1.0 / (k + 9.0);
  EXPECT_NEAR(static_cast<double>(top) / dutch_persons, 0.1 / total, 0.008)
      << top << " of " << dutch_persons << ", expected share " << 0.1 / total;
  // The rare names are plausible Dutch surnames, none also in the common list.
  EXPECT_GT(rare.size(), 2000u);
  EXPECT_THAT(rare, ::testing::Contains("Brinkema"));
  EXPECT_THAT(rare, ::testing::Contains("van der Zandbeek"));
  for (const std::string& name : common) {
    EXPECT_THAT(rare, ::testing::Not(::testing::Contains(name)));
  }
}

TEST(NameFrequencies, DefaultIsUniformAndUnchanged) {
  // The default draws exactly as before the option existed: the same CSV bytes as an
  // explicit kUniform, and different ones from kZipf (names only).
  SimulatorOptions opt;
  opt.persons = 500;
  opt.seed = 11;
  ASSERT_EQ(opt.name_frequencies, NameFrequencies::kUniform);
  ASSERT_OK_AND_ASSIGN(Simulation a, Simulate(opt));
  opt.name_frequencies = NameFrequencies::kUniform;
  ASSERT_OK_AND_ASSIGN(Simulation b, Simulate(opt));
  opt.name_frequencies = NameFrequencies::kZipf;
  ASSERT_OK_AND_ASSIGN(Simulation z, Simulate(opt));
  EXPECT_EQ(AllCsv(a), AllCsv(b));
  EXPECT_NE(AllCsv(a), AllCsv(z));
  ASSERT_OK_AND_ASSIGN(Simulation z2, Simulate(opt));
  EXPECT_EQ(AllCsv(z), AllCsv(z2));
  ASSERT_OK_AND_ASSIGN(NameFrequencies f, ParseNameFrequencies("zipf"));
  EXPECT_EQ(f, NameFrequencies::kZipf);
  EXPECT_THAT(ParseNameFrequencies("pareto"), StatusIs(absl::StatusCode::kInvalidArgument));
}

// Golden figures: they change only when the model changes; update them deliberately.
TEST(Simulate, ExactCountsForSeed3) {
  Simulation sim = Sim(800, Noise::kModerate, 3);
  EXPECT_EQ(sim.people.size(), 800u);
  EXPECT_EQ(sim.SignalledPersons(), 573);
  EXPECT_EQ(sim.records.size(), 1356u);
}

TEST(Simulate, TruthDoesNotDependOnNoise) {
  Simulation a = Sim(600, Noise::kNone, 5);
  Simulation b = Sim(600, Noise::kHeavy, 5);
  ASSERT_EQ(a.records.size(), b.records.size());
  for (size_t i = 0; i < a.records.size(); ++i) {
    EXPECT_EQ(a.records[i].record_id, b.records[i].record_id);
    EXPECT_EQ(a.records[i].person, b.records[i].person);
    EXPECT_EQ(a.records[i].form, b.records[i].form);
  }
}

TEST(Simulate, PopulationBsnsAreValid) {
  Simulation sim = Sim(3000, Noise::kModerate);
  int with_bsn = 0;
  std::set<std::string> bsns;
  for (const Person& p : sim.people) {
    if (p.bsn.empty()) continue;
    ++with_bsn;
    EXPECT_TRUE(PassesElevenTest(p.bsn)) << p.bsn;
    bsns.insert(p.bsn);
  }
  EXPECT_GT(with_bsn, 2400);
  EXPECT_EQ(bsns.size(), static_cast<size_t>(with_bsn)) << "BSNs are unique";
}

TEST(Simulate, EveryCategoryWordParses) {
  Simulation sim = Sim(2000, Noise::kHeavy);
  std::set<std::string> areas;
  for (const District& d : Districts()) areas.insert(d.area);
  auto check = [](v1::Dimension d, const std::string& cell, bool multi) {
    if (cell.empty()) return;
    std::vector<std::string> words = absl::StrSplit(cell, ';');
    EXPECT_TRUE(multi || words.size() == 1) << cell;
    for (const std::string& w : words) {
      auto v = model::ParseWord(d, w);
      ASSERT_TRUE(v.ok()) << model::DimensionName(d) << ": " << w;
      EXPECT_NE(*v, 0) << w;
    }
  };
  for (const Record& r : sim.records) {
    check(v1::DIMENSION_FORM, r.form, false);
    check(v1::DIMENSION_CONTACT, r.contact, false);
    check(v1::DIMENSION_AGE_BAND, r.age_band, false);
    check(v1::DIMENSION_GENDER, r.ids.gender, false);
    check(v1::DIMENSION_BACKGROUND, r.background, false);
    check(v1::DIMENSION_LIVING_SITUATION, r.living_situation, true);
    check(v1::DIMENSION_RECRUITMENT_LOCATION, r.recruitment_location, true);
    check(v1::DIMENSION_COERCION, r.coercion, true);
    check(v1::DIMENSION_FORCED_CRIME, r.forced_crime, true);
    if (!r.area.empty()) {
      EXPECT_TRUE(areas.count(r.area)) << r.area;
    }
    EXPECT_GE(r.signal_date, "2024-01-01");
    EXPECT_LT(r.signal_date, "2026-01-01");
  }
}

TEST(Simulate, AgeBandMatchesDateOfBirthAtTheSignal) {
  Simulation sim = Sim(2000, Noise::kNone);
  int checked = 0;
  for (const Record& r : sim.records) {
    if (r.age_band.empty()) continue;
    const Person& p = sim.people[r.person];
    std::vector<std::string> d = absl::StrSplit(r.signal_date, '-');
    Date when{std::stoi(d[0]), std::stoi(d[1]), std::stoi(d[2])};
    EXPECT_EQ(r.age_band, model::Word(v1::DIMENSION_AGE_BAND, AgeBandOf(AgeAt(p.dob, when))));
    EXPECT_EQ(r.ids.date_of_birth, IsoDate(p.dob));
    ++checked;
  }
  EXPECT_GT(checked, 1000);
}

TEST(Simulate, RecordIdsAreUniqueAndPrefixedWithTheAgency) {
  Simulation sim = Sim(2000, Noise::kModerate, 3, 12);
  std::set<std::string> ids;
  for (const Record& r : sim.records) {
    EXPECT_TRUE(ids.insert(r.record_id).second) << r.record_id;
    EXPECT_EQ(r.record_id.rfind(sim.agencies[r.agency].name + "-", 0), 0u) << r.record_id;
  }
  EXPECT_EQ(sim.agencies[10].name, "police_2");
}

TEST(Simulate, NoNoiseMeansIdenticalIdentifiersAcrossAgencies) {
  Simulation sim = Sim(1500, Noise::kNone);
  std::map<int, std::set<int>> agencies_of;
  for (const Record& r : sim.records) {
    EXPECT_TRUE(SameIds(r.ids, Canonical(sim.people[r.person]))) << r.record_id;
    agencies_of[r.person].insert(r.agency);
  }
  int multi = 0;
  for (const auto& [p, a] : agencies_of) multi += a.size() > 1;
  EXPECT_GT(multi, 200) << "enough persons seen by several agencies to mean something";
  EXPECT_EQ(ChangedFields(sim), 0);
}

TEST(Simulate, HeavierNoiseChangesMore) {
  int none = ChangedFields(Sim(1500, Noise::kNone));
  int light = ChangedFields(Sim(1500, Noise::kLight));
  int moderate = ChangedFields(Sim(1500, Noise::kModerate));
  int heavy = ChangedFields(Sim(1500, Noise::kHeavy));
  EXPECT_EQ(none, 0);
  EXPECT_LT(none, light);
  EXPECT_LT(light, moderate);
  EXPECT_LT(moderate, heavy);
}

TEST(Simulate, ModerateNoiseHasEveryCorruptionKind) {
  Simulation sim = Sim(4000, Noise::kModerate);
  int swapped = 0, prefix_after = 0, bad_bsn = 0, native = 0, dutch_date = 0, initials = 0,
      nick = 0, variant = 0, missing_dob = 0, plus31 = 0, old_address = 0;
  for (const Record& r : sim.records) {
    const Person& p = sim.people[r.person];
    const Identifiers& w = r.ids;
    Date s = p.dob;
    std::swap(s.day, s.month);
    if (s.day <= 12 && s.day != s.month && w.date_of_birth == IsoDate(s)) ++swapped;
    if (w.surname.find(", ") != std::string::npos) ++prefix_after;
    std::string digits;
    for (char c : w.national_id) {
      if (c >= '0' && c <= '9') digits += c;
    }
    if (!digits.empty() && !PassesElevenTest(digits)) ++bad_bsn;
    if (!w.given_names.empty() && static_cast<unsigned char>(w.given_names[0]) >= 0xd0) ++native;
    if (w.date_of_birth.size() == 10 && w.date_of_birth[2] == '-') ++dutch_date;
    if (w.given_names.size() == 2 && w.given_names[1] == '.') ++initials;
    if (!p.call_name.empty() && w.given_names == p.call_name) ++nick;
    for (const std::string& v : SpellingVariants(p.surname)) variant += w.surname == v;
    if (w.date_of_birth.empty()) ++missing_dob;
    if (w.phone.rfind("+31", 0) == 0) ++plus31;
    if (p.old_address && w.postcode == p.old_address->postcode) ++old_address;
  }
  EXPECT_GT(swapped, 5);
  EXPECT_GT(prefix_after, 20);
  EXPECT_GT(bad_bsn, 20);
  EXPECT_GT(native, 3);
  EXPECT_GT(dutch_date, 500);
  EXPECT_GT(initials, 10);
  EXPECT_GT(nick, 20);
  EXPECT_GT(variant, 50);
  EXPECT_GT(missing_dob, 20);
  EXPECT_GT(plus31, 200);
  EXPECT_GT(old_address, 20);
}

TEST(Simulate, AgenciesArePositivelyDependent) {
  Simulation sim = Sim(6000, Noise::kNone);
  std::map<int, std::set<int>> seen;  // agency -> persons
  for (const Record& r : sim.records) seen[r.agency].insert(r.person);
  const double n = sim.people.size();
  // police (0) and youth care (1); social work (3) and municipality (5).
  for (auto [a, b] : std::vector<std::pair<int, int>>{{0, 1}, {3, 5}, {0, 4}}) {
    double both = 0;
    for (int p : seen[a]) both += seen[b].count(p);
    double p_b = seen[b].size() / n;
    double p_b_given_a = both / seen[a].size();
    EXPECT_GT(p_b_given_a, 1.2 * p_b) << a << "," << b;
  }
  // Some persons are seen by no agency; some agencies see the same person twice.
  EXPECT_LT(sim.SignalledPersons(), 0.85 * n);
  EXPECT_GT(sim.SignalledPersons(), 0.4 * n);
  std::map<std::pair<int, int>, int> per_agency_person;
  int repeats = 0;
  for (const Record& r : sim.records) repeats += ++per_agency_person[{r.agency, r.person}] == 2;
  EXPECT_GT(repeats, 100);
}

TEST(Simulate, DistributionsFollowTheReport) {
  Simulation sim = Sim(20000, Noise::kNone);
  std::map<int, int> form;
  int female_sexual = 0, sexual = 0, male_criminal = 0, criminal = 0, care = 0;
  for (const Person& p : sim.people) {
    ++form[p.form];
    if (p.form == v1::FORM_SEXUAL) { ++sexual; female_sexual += p.gender == v1::GENDER_FEMALE; }
    if (p.form == v1::FORM_CRIMINAL) { ++criminal; male_criminal += p.gender == v1::GENDER_MALE; }
    for (int l : p.living_situation) care += l == v1::LIVING_SITUATION_CARE_INSTITUTION;
  }
  const double n = sim.people.size();
  // 280 : 275 : 190 (+ 25 labour, 10 other) out of 780.
  EXPECT_NEAR(form[v1::FORM_SEXUAL] / n, 280.0 / 780, 0.015);
  EXPECT_NEAR(form[v1::FORM_CRIMINAL] / n, 275.0 / 780, 0.015);
  EXPECT_NEAR(form[v1::FORM_SEXUAL_AND_CRIMINAL] / n, 190.0 / 780, 0.015);
  EXPECT_NEAR(static_cast<double>(female_sexual) / sexual, 0.88, 0.02);
  EXPECT_NEAR(static_cast<double>(male_criminal) / criminal, 0.72, 0.02);
  EXPECT_GT(care / n, 0.2);
}

TEST(WriteSimulation, WritesTheFilesAndTruthCoversEveryRecord) {
  Simulation sim = Sim(400, Noise::kModerate, 9);
  std::string dir = ::testing::TempDir() + "/sim_write";
  ASSERT_OK(WriteSimulation(sim, dir));
  ASSERT_OK_AND_ASSIGN(std::string truth, files::ReadFile(dir + "/truth.csv"));
  std::vector<std::string> lines = absl::StrSplit(truth, '\n', absl::SkipEmpty());
  EXPECT_EQ(lines[0], "record_id,true_person_id");
  EXPECT_EQ(lines.size(), sim.records.size() + 1);
  std::set<std::string> truth_ids;
  for (size_t i = 1; i < lines.size(); ++i) truth_ids.insert(lines[i].substr(0, lines[i].find(',')));
  size_t rows = 0;
  for (const Agency& a : sim.agencies) {
    ASSERT_OK_AND_ASSIGN(std::string csv, files::ReadFile(dir + "/" + a.name + ".csv"));
    EXPECT_EQ(csv.rfind("record_id,given_names,surname,date_of_birth,gender,national_id,", 0), 0u);
    for (const Record& r : sim.records) {
      if (r.agency != static_cast<int>(&a - &sim.agencies[0])) continue;
      EXPECT_THAT(csv, HasSubstr(CsvLine(r)));
      EXPECT_TRUE(truth_ids.count(r.record_id)) << r.record_id;
      ++rows;
    }
  }
  EXPECT_EQ(rows, sim.records.size());
  ASSERT_OK_AND_ASSIGN(std::string pop, files::ReadFile(dir + "/population.csv"));
  EXPECT_EQ(std::count(pop.begin(), pop.end(), '\n'), 401);
  ASSERT_OK_AND_ASSIGN(std::string summary, files::ReadFile(dir + "/summary.json"));
  EXPECT_THAT(summary, HasSubstr("\"persons\": 400"));
  EXPECT_THAT(summary, HasSubstr("\"persons_signalled\": " + std::to_string(sim.SignalledPersons())));
  ASSERT_OK_AND_ASSIGN(std::string hist, files::ReadFile(dir + "/histories.csv"));
  int total = 0;
  for (absl::string_view line : absl::StrSplit(hist, '\n', absl::SkipEmpty())) {
    if (line.rfind("police", 0) == 0) continue;
    total += std::stoi(std::string(line.substr(line.rfind(',') + 1)));
  }
  EXPECT_EQ(total, sim.SignalledPersons());
}

TEST(Cli, HelpErrorsAndDeterministicOutput) {
  using samenzicht::testing::Run;
  auto help = Run({SIMULATOR_BIN, "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("--noise"));
  auto bad = Run({SIMULATOR_BIN, "--out", ::testing::TempDir() + "/x", "--noise", "loud"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("noise"));
  auto missing = Run({SIMULATOR_BIN});
  EXPECT_NE(missing.exit_code, 0);
  std::string d1 = ::testing::TempDir() + "/cli1", d2 = ::testing::TempDir() + "/cli2";
  for (const auto& d : {d1, d2}) {
    auto r = Run({SIMULATOR_BIN, "--out", d, "--persons", "300", "--agencies", "4",
                  "--noise", "heavy", "--seed", "77", "--start", "2023-06", "--months", "12"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  for (const char* f : {"police.csv", "youth_care.csv", "mental_health.csv", "social_work.csv",
                        "truth.csv", "population.csv", "summary.json", "histories.csv"}) {
    auto a = files::ReadFile(d1 + "/" + f);
    auto b = files::ReadFile(d2 + "/" + f);
    ASSERT_TRUE(a.ok() && b.ok()) << f;
    EXPECT_EQ(*a, *b) << f;
  }
  auto summary = files::ReadFile(d1 + "/summary.json");
  EXPECT_THAT(*summary, HasSubstr("\"start\": \"2023-06\""));
}

// By default most homeless persons have no address; with every_person_has_address each has
// one, and nothing else about the population changes (the same draws).
TEST(SimulatorTest, EveryPersonHasAnAddressOnlyWhenAsked) {
  SimulatorOptions opt;
  opt.persons = 600;
  opt.seed = 4;
  auto plain = Simulate(opt);
  opt.every_person_has_address = true;
  auto full = Simulate(opt);
  ASSERT_TRUE(plain.ok() && full.ok());
  ASSERT_EQ(plain->people.size(), full->people.size());
  int without = 0;
  for (size_t i = 0; i < plain->people.size(); ++i) {
    const Person& a = plain->people[i];
    const Person& b = full->people[i];
    EXPECT_EQ(a.surname, b.surname);
    EXPECT_FALSE(b.address.postcode.empty()) << "person " << i;
    if (a.address.postcode.empty()) {
      ++without;
    } else {
      EXPECT_EQ(a.address.postcode, b.address.postcode);
    }
  }
  EXPECT_GT(without, 0);
}

}  // namespace
}  // namespace samenzicht::simulator
