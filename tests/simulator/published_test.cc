// The published noise models (simulator/published.h): each test measures a documented
// parameter of its model on a fixed seed, with a tolerance a wrong implementation fails.
#include "simulator/published.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "model/vocabulary.h"
#include "samenzicht/v1/categories.pb.h"
#include "simulator/simulator.h"
#include "tests/testing/subprocess.h"

namespace samenzicht::simulator {
namespace {

using ::testing::HasSubstr;

Simulation Sim(int persons, Noise noise, uint64_t seed = 1) {
  SimulatorOptions opt;
  opt.persons = persons;
  opt.noise = noise;
  opt.seed = seed;
  auto sim = Simulate(opt);
  EXPECT_TRUE(sim.ok()) << sim.status();
  return *std::move(sim);
}

uint64_t Fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::string AllCsv(const Simulation& sim) {
  std::string s;
  for (const Record& r : sim.records) s += CsvLine(r);
  return s;
}

// RFC 4180 fields of one line (no embedded line breaks in the simulator's output).
std::vector<std::string> ParseCsvLine(const std::string& line, bool* ok) {
  std::vector<std::string> out(1);
  bool quoted = false;
  *ok = true;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      if (!out.back().empty()) *ok = false;
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else if (c == '\n' || c == '\r') {
      if (i + 1 != line.size()) *ok = false;
    } else {
      out.back() += c;
    }
  }
  if (quoted) *ok = false;
  return out;
}

bool ValidUtf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (int k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    }
    i += static_cast<size_t>(len);
  }
  return true;
}

const std::vector<Noise> kPublished = {Noise::kGeco, Noise::kPseudopeople, Noise::kSplink,
                                       Noise::kOns};

// --- levels and the old levels ---------------------------------------------------------

TEST(PublishedLevels, ParseAndNames) {
  for (const char* w : {"geco", "pseudopeople", "splink", "ons"}) {
    auto n = ParseNoise(w);
    ASSERT_TRUE(n.ok()) << w;
    EXPECT_EQ(NoiseName(*n), w);
    EXPECT_TRUE(IsPublishedModel(*n));
  }
  for (Noise n : {Noise::kNone, Noise::kLight, Noise::kModerate, Noise::kHeavy}) {
    EXPECT_FALSE(IsPublishedModel(n));
  }
  EXPECT_FALSE(ParseNoise("GeCo").ok());
}

// Fingerprints of the four old levels (500 persons, seed 3, 6 agencies): the old levels stay
// byte-identical. Taken when a street's postcode was made to follow its street and house
// number; against the fingerprints from before the published models were added, only the
// street and postcode columns changed (every other column and the draws behind them are equal).
TEST(PublishedLevels, OldLevelsAreByteIdenticalToBefore) {
  EXPECT_EQ(Fnv1a(AllCsv(Sim(500, Noise::kNone, 3))), 0x225a9c8335cb422cull);
  EXPECT_EQ(Fnv1a(AllCsv(Sim(500, Noise::kLight, 3))), 0x2d8b6c08e0191bb8ull);
  EXPECT_EQ(Fnv1a(AllCsv(Sim(500, Noise::kModerate, 3))), 0x579ec451cf87101cull);
  EXPECT_EQ(Fnv1a(AllCsv(Sim(500, Noise::kHeavy, 3))), 0xe14e91dea2de390dull);
}

TEST(PublishedLevels, DeterministicValidCsvAndCategoryWords) {
  for (Noise n : kPublished) {
    Simulation a = Sim(600, n, 7), b = Sim(600, n, 7);
    EXPECT_EQ(AllCsv(a), AllCsv(b)) << NoiseName(n);
    std::set<std::string> ids;
    for (const Record& r : a.records) {
      EXPECT_TRUE(ids.insert(r.record_id).second) << r.record_id;
      std::string line = CsvLine(r);
      bool ok = false;
      std::vector<std::string> f = ParseCsvLine(line, &ok);
      EXPECT_TRUE(ok) << line;
      ASSERT_EQ(f.size(), CsvHeader().size()) << line;
      EXPECT_EQ(f[0], r.record_id);
      EXPECT_TRUE(ValidUtf8(line)) << line;
      if (!r.ids.gender.empty()) {
        EXPECT_TRUE(model::ParseWord(v1::DIMENSION_GENDER, r.ids.gender).ok()) << r.ids.gender;
      }
    }
  }
}

TEST(PublishedLevels, AboutFivePercentOfPersonsLiveAbroadOnlyUnderTheNewLevels) {
  auto foreign = [](const Person& p) {
    return !p.address.city.empty();
  };
  for (Noise n : kPublished) {
    Simulation sim = Sim(4000, n, 2);
    int abroad = 0, be = 0, de = 0;
    for (const Person& p : sim.people) {
      if (!foreign(p)) continue;
      ++abroad;
      const std::string& pc = p.address.postcode;
      const bool belgian = pc.rfind("B-", 0) == 0 || pc.size() == 4;
      const bool german = pc.rfind("D-", 0) == 0 || pc.size() == 5;
      EXPECT_TRUE(belgian != german) << pc;
      be += belgian;
      de += german;
      EXPECT_TRUE(p.phone.rfind(belgian ? "+32" : "+49", 0) == 0 ||
                  p.phone.rfind(belgian ? "0032" : "0049", 0) == 0)
          << p.phone << " " << pc;
      EXPECT_EQ(Canonical(p).city, p.address.city);
    }
    EXPECT_NEAR(abroad / 4000.0, 0.05, 0.012) << NoiseName(n);
    EXPECT_GT(be, 40);
    EXPECT_GT(de, 40);
  }
  for (Noise n : {Noise::kNone, Noise::kModerate, Noise::kHeavy}) {
    Simulation sim = Sim(1000, n, 2);
    for (const Person& p : sim.people) EXPECT_FALSE(foreign(p));
    for (const Record& r : sim.records) {
      EXPECT_THAT((std::set<std::string>{"", "Groningen", "Haren", "Ten Boer", "GRONINGEN",
                                         "HAREN", "TEN BOER"}),
                  ::testing::Contains(r.ids.city));
    }
  }
}

TEST(PublishedLevels, HelpListsEveryLevelOnItsOwnLine) {
  auto help = samenzicht::testing::Run({SIMULATOR_BIN, "--help"});
  ASSERT_EQ(help.exit_code, 0);
  for (const char* w : {"none", "light", "moderate", "heavy", "geco", "pseudopeople", "splink",
                        "ons"}) {
    EXPECT_THAT(help.out, HasSubstr("\n  " + std::string(w) + " ")) << w;
  }
  auto bad = samenzicht::testing::Run({SIMULATOR_BIN, "--out", ::testing::TempDir() + "/y",
                                       "--noise", "febrl"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("geco, pseudopeople, splink, ons"));
}

// --- building blocks ---------------------------------------------------------------------

TEST(PublishedBlocks, KeyboardPhoneticAndOcrTables) {
  EXPECT_EQ(KeyboardNeighbours('d', true), "sf");
  EXPECT_EQ(KeyboardNeighbours('d', false), "erxc");
  EXPECT_EQ(KeyboardNeighbours('1', true), "2");
  EXPECT_EQ(KeyboardNeighbours('1', false), "q");
  EXPECT_EQ(KeyboardNeighbours('p', true), "o");
  EXPECT_EQ(KeyboardNeighbours('-', true), "");
  EXPECT_GE(PhoneticRuleCount(), 30);
  Rng rng(5);
  std::set<std::string> seen;
  for (int i = 0; i < 300; ++i) {
    std::u32string s = DecodeUtf8("Meijer");
    ASSERT_TRUE(ApplyPhoneticRule(s, rng));
    seen.insert(EncodeUtf8(s));
  }
  EXPECT_TRUE(seen.count("Meyer")) << "ij -> y";
  EXPECT_TRUE(seen.count("Meeijer") == 0);
  EXPECT_FALSE(seen.count("Meijer"));
  std::u32string none = DecodeUtf8("Ba");
  EXPECT_FALSE(ApplyPhoneticRule(none, rng));
  seen.clear();
  for (int i = 0; i < 300; ++i) {
    std::u32string s = DecodeUtf8("Willem");
    ASSERT_TRUE(ApplyOcrError(s, rng));
    seen.insert(EncodeUtf8(s));
  }
  EXPECT_TRUE(seen.count("Vvillem") || seen.count("Wil1em") || seen.count("Willern")) << "w->vv, l->1, m->rn";
  EXPECT_FALSE(seen.count("Willem"));
}

TEST(PublishedBlocks, ZipfIsGecoThetaHalf) {
  std::vector<double> w = ZipfWeights(20);
  ASSERT_EQ(w.size(), 20u);
  EXPECT_DOUBLE_EQ(w[0], 1.0);
  EXPECT_NEAR(w[3], 0.5, 1e-12);     // 4^-0.5
  EXPECT_NEAR(w[15], 0.25, 1e-12);   // 16^-0.5
}

// --- GeCo ------------------------------------------------------------------------------

TEST(Geco, OriginalIsCleanAndEveryCopyHasExactlyFiveModificationsOnePerAttribute) {
  Simulation sim = Sim(2000, Noise::kGeco);
  std::map<int, int> originals;
  std::map<std::string, int> per_attribute;
  int copies = 0;
  for (const Record& r : sim.records) {
    const Identifiers c = Canonical(sim.people[r.person]);
    const Identifiers& w = r.ids;
    // Not in GeCo's example configuration: written as they are in every record.
    EXPECT_EQ(w.national_id, c.national_id);
    EXPECT_EQ(w.email, c.email);
    EXPECT_EQ(w.street, c.street);
    EXPECT_EQ(w.house_number, c.house_number);
    std::vector<std::pair<const char*, bool>> diff = {
        {"given_names", w.given_names != c.given_names}, {"surname", w.surname != c.surname},
        {"postcode", w.postcode != c.postcode},          {"city", w.city != c.city},
        {"phone", w.phone != c.phone},                   {"gender", w.gender != c.gender},
        {"date_of_birth", w.date_of_birth != c.date_of_birth}};
    int changed = 0;
    for (auto [name, d] : diff) {
      changed += d;
      if (d && !r.original) ++per_attribute[name];
    }
    if (r.original) {
      ++originals[r.person];
      EXPECT_EQ(changed, 0) << r.record_id;
      continue;
    }
    ++copies;
    int available = 5 + !c.postcode.empty() + !c.phone.empty();  // given, surname, city,
                                                                  // gender, dob always
    EXPECT_EQ(changed, std::min(5, available)) << r.record_id;
  }
  EXPECT_EQ(static_cast<int>(originals.size()), sim.SignalledPersons());
  for (const auto& [person, n] : originals) EXPECT_EQ(n, 1);
  EXPECT_GT(copies, 1500);
  // Selection by weight: the names (.20 each) are chosen far more often than the date of
  // birth (.05); 5 of at most 7 attributes, so every attribute is chosen often.
  EXPECT_GT(per_attribute["given_names"], 0.8 * copies);
  EXPECT_GT(per_attribute["surname"], 0.8 * copies);
  EXPECT_LT(per_attribute["date_of_birth"], 0.6 * copies);
  EXPECT_GT(per_attribute["date_of_birth"], 0.3 * copies);
}

TEST(Geco, ModificationsNamedPerAttributeAndCorruptorsFollowTheirWeights) {
  Simulation sim = Sim(600, Noise::kGeco, 4);
  std::map<std::string, int> kinds;
  int given = 0, keyboard_ok = 0, keyboard = 0;
  for (size_t i = 0; i < sim.people.size(); ++i) {
    const Person& p = sim.people[i];
    const Identifiers c = Canonical(p);
    // The given-name corruptor shares are measured where a phonetic rule applies (where
    // none does, GeCo's phonetic corruptor changes nothing and another one is drawn).
    std::u32string probe = DecodeUtf8(p.given_names[0]);
    Rng probe_rng(1);
    const bool phonetic_applies = ApplyPhoneticRule(probe, probe_rng);
    for (uint64_t k = 0; k < 5; ++k) {
      Rng rng = Rng::For(99, "geco-test", i, k);
      std::vector<std::string> applied;
      PublishedContext ctx;
      Identifiers w = WritePublished(p, Noise::kGeco, ctx, rng, &applied);
      ASSERT_EQ(applied.size(), 5u);
      std::set<std::string> attrs;
      for (const std::string& a : applied) {
        std::string attr = a.substr(0, a.find(':'));
        EXPECT_TRUE(attrs.insert(attr).second) << "two modifications in " << attr;
        if (attr == "given_names" && !phonetic_applies) continue;
        ++kinds[a];
        if (attr == "given_names") ++given;
      }
      if (std::find(applied.begin(), applied.end(), "given_names:keyboard") != applied.end()) {
        ++keyboard;
        std::u32string a = DecodeUtf8(c.given_names), b = DecodeUtf8(w.given_names);
        int d = 0;
        if (a.size() == b.size()) {
          for (size_t j = 0; j < a.size(); ++j) d += a[j] != b[j];
        }
        keyboard_ok += d == 1;
      }
      Rng again = Rng::For(99, "geco-test", i, k);
      PublishedContext original;
      original.original = true;
      Identifiers o = WritePublished(p, Noise::kGeco, original, again, nullptr);
      EXPECT_EQ(o.given_names, c.given_names);
      EXPECT_EQ(o.postcode, c.postcode);
    }
  }
  // Given name: phonetic .7, edit/ocr/keyboard .1 each.
  ASSERT_GT(given, 1000);
  EXPECT_NEAR(kinds["given_names:phonetic"] / static_cast<double>(given), 0.70, 0.06);
  EXPECT_NEAR(kinds["given_names:keyboard"] / static_cast<double>(given), 0.10, 0.04);
  EXPECT_EQ(keyboard_ok, keyboard) << "a keyboard error replaces one character";
  // Postcode: keyboard .8, missing .2.
  double pc = kinds["postcode:keyboard"] + kinds["postcode:missing"];
  EXPECT_NEAR(kinds["postcode:missing"] / pc, 0.2, 0.04);
  // City: edit .1, missing .1, keyboard .4, phonetic .4.
  double city = kinds["city:edit"] + kinds["city:missing"] + kinds["city:keyboard"] +
                kinds["city:phonetic"];
  EXPECT_NEAR(kinds["city:missing"] / city, 0.1, 0.04);
  EXPECT_NEAR(kinds["city:keyboard"] / city, 0.4, 0.06);
}

// --- pseudopeople ------------------------------------------------------------------------

TEST(Pseudopeople, BlankRatePerCellIsOnePercent) {
  Simulation sim = Sim(6000, Noise::kPseudopeople, 1);
  std::vector<FieldRate> rates = CorruptionRates(sim);
  int cells = 0, blanks = 0;
  for (const FieldRate& f : rates) {
    ASSERT_GT(f.with_value, 3000) << f.field;
    double blank = static_cast<double>(f.blanked) / f.with_value;
    EXPECT_NEAR(blank, 0.01, 0.005) << f.field;
    cells += f.with_value;
    blanks += f.blanked;
    // Every column has at least blanking; none is noised far beyond the defaults.
    double changed = static_cast<double>(f.changed) / f.with_value;
    EXPECT_LT(changed, 0.09) << f.field;
    EXPECT_GE(changed, blank) << f.field;
  }
  EXPECT_NEAR(static_cast<double>(blanks) / cells, 0.01, 0.0015);
}

TEST(Pseudopeople, NoiseTypesAtTheirDefaultRates) {
  Simulation sim = Sim(1500, Noise::kPseudopeople, 3);
  PostcodeAreas areas = SamePostcodeArea(sim.people);
  std::map<std::string, int> kinds;
  int writes = 0, with_nick = 0;
  for (size_t i = 0; i < sim.people.size(); ++i) {
    const Person& p = sim.people[i];
    with_nick += !Nicknames(p.given_names[0]).empty();
    for (uint64_t k = 0; k < 20; ++k) {
      Rng rng = Rng::For(5, "pp-test", i, k);
      PublishedContext ctx;
      Rng pick = Rng::For(5, "pp-housemate", i, k);
      int h = areas.Housemate(static_cast<int>(i), pick);
      if (h >= 0) {
        EXPECT_NE(h, static_cast<int>(i));
        EXPECT_EQ(areas.area_of[h], areas.area_of[i]);
        ctx.housemate = &sim.people[h];
      }
      std::vector<std::string> applied;
      WritePublished(p, Noise::kPseudopeople, ctx, rng, &applied);
      for (const std::string& a : applied) ++kinds[a];
      ++writes;
    }
  }
  auto rate = [&](const char* k) { return kinds[k] / static_cast<double>(writes); };
  EXPECT_NEAR(rate("gender:choose_wrong_option"), 0.01 * 0.99, 0.002);
  EXPECT_NEAR(rate("given_names:use_fake_name"), 0.01 * 0.99, 0.002);
  EXPECT_NEAR(rate("date_of_birth:misreport_age"), 0.01 * 0.99, 0.002);
  // A typo is made in a chosen cell when at least one of its characters (10% each) is hit:
  // for names of 4-12 letters that is most, but not all, chosen cells.
  EXPECT_GT(rate("surname:make_typos"), 0.004);
  EXPECT_LT(rate("surname:make_typos"), 0.01);
  EXPECT_GT(kinds["date_of_birth:copy_from_household_member"], 0);
  EXPECT_GT(kinds["given_names:use_nickname"], 0);
  EXPECT_NEAR(rate("given_names:use_nickname"),
              0.01 * 0.99 * with_nick / static_cast<double>(sim.people.size()), 0.002);
}

// --- splink ------------------------------------------------------------------------------

TEST(Splink, AtMostTwentyRecordsPerPersonZipfTailAndOneCleanOriginal) {
  Simulation sim = Sim(3000, Noise::kSplink, 1);
  std::map<int, int> records, originals;
  for (const Record& r : sim.records) {
    ++records[r.person];
    if (r.original) {
      ++originals[r.person];
      Identifiers c = Canonical(sim.people[r.person]);
      EXPECT_EQ(r.ids.given_names, c.given_names);
      EXPECT_EQ(r.ids.date_of_birth, c.date_of_birth);
    }
  }
  std::map<int, int> freq;  // records per person -> persons
  for (const auto& [p, n] : records) {
    EXPECT_LE(n, 20) << sim.people[p].id;
    EXPECT_GE(n, 2);
    ++freq[n];
    EXPECT_EQ(originals[p], 1);
  }
  const double persons = records.size();
  auto band = [&](int lo, int hi) {
    double s = 0;
    for (int n = lo; n <= hi; ++n) s += freq[n];
    return s / (hi - lo + 1) / persons;
  };
  // P(k copies) ~ k^-0.5: the frequency falls with the count, and the tail is long: about
  // a third of persons have 10 or more records (a geometric or Poisson count would not).
  EXPECT_GT(band(2, 4), 1.3 * band(8, 10));
  EXPECT_GT(band(8, 10), 1.2 * band(16, 20));
  double ten_plus = 0;
  for (int n = 10; n <= 20; ++n) ten_plus += freq[n];
  EXPECT_NEAR(ten_plus / persons, 0.37, 0.05);
  EXPECT_GT(freq[20], 0.02 * persons);
}

TEST(Splink, CorruptionsOfTheCopiesAtTheirProbabilities) {
  Simulation sim = Sim(1500, Noise::kSplink, 2);
  int copies = 0, dob_missing = 0, name_missing = 0, inverted = 0, dob_shift = 0;
  for (const Record& r : sim.records) {
    if (r.original) continue;
    ++copies;
    const Person& p = sim.people[r.person];
    Identifiers c = Canonical(p);
    if (r.ids.date_of_birth.empty()) {
      ++dob_missing;
    } else if (r.ids.date_of_birth != c.date_of_birth) {
      std::vector<std::string> d = absl::StrSplit(r.ids.date_of_birth, '-');
      Date w{std::stoi(d[0]), std::stoi(d[1]), std::stoi(d[2])};
      int64_t days = DaysFromCivil(w) - DaysFromCivil(p.dob);
      EXPECT_TRUE(days != 0 && std::abs(days) <= 50) << r.ids.date_of_birth;
      ++dob_shift;
    }
    if (r.ids.given_names.empty() && r.ids.surname.empty()) ++name_missing;
    if (!r.ids.surname.empty() && r.ids.surname == c.given_names && r.ids.given_names == c.surname) {
      ++inverted;
    }
  }
  ASSERT_GT(copies, 5000);
  EXPECT_NEAR(dob_missing / static_cast<double>(copies), 0.10, 0.015);
  EXPECT_NEAR(dob_shift / static_cast<double>(copies), 0.10 * 0.9, 0.015);
  EXPECT_NEAR(name_missing / static_cast<double>(copies), 0.10, 0.015);
  // Inversion .05, seen as such when no other name corruption hit the copy.
  EXPECT_GT(inverted / static_cast<double>(copies), 0.01);
  EXPECT_LT(inverted / static_cast<double>(copies), 0.05);
}

// --- ONS ---------------------------------------------------------------------------------

Date ParseIso(const std::string& s) {
  std::vector<std::string> d = absl::StrSplit(s, '-');
  return Date{std::stoi(d[0]), std::stoi(d[1]), std::stoi(d[2])};
}

TEST(Ons, PerturbationRatesMatchTheDesignTargets) {
  Simulation sim = Sim(4000, Noise::kOns, 1);
  int n = 0, fore = 0, sur = 0, sex = 0, day = 0, month = 0, year = 0, pc_n = 0, pc = 0;
  for (const Record& r : sim.records) {
    const Person& p = sim.people[r.person];
    Identifiers c = Canonical(p);
    ++n;
    fore += r.ids.given_names != c.given_names;
    sur += r.ids.surname != c.surname;
    sex += r.ids.gender != c.gender;
    Date w = ParseIso(r.ids.date_of_birth);
    day += w.day != p.dob.day;
    month += w.month != p.dob.month;
    year += w.year != p.dob.year;
    if (!c.postcode.empty() && r.ids.street == c.street && r.ids.house_number == c.house_number) {
      ++pc_n;  // not a mover's record, nor a duplicate in another household
      pc += r.ids.postcode != c.postcode;
    }
    EXPECT_EQ(r.ids.national_id, c.national_id);
  }
  ASSERT_GT(n, 6000);
  EXPECT_NEAR(fore / static_cast<double>(n), 0.35, 0.03);
  EXPECT_NEAR(sur / static_cast<double>(n), 0.32, 0.03);
  EXPECT_NEAR(sex / static_cast<double>(n), 0.01, 0.005);
  EXPECT_NEAR(day / static_cast<double>(n), 0.15, 0.03);
  EXPECT_NEAR(month / static_cast<double>(n), 0.13, 0.03);
  EXPECT_NEAR(year / static_cast<double>(n), 0.13, 0.03);
  EXPECT_NEAR(pc / static_cast<double>(pc_n), 0.04, 0.012);
}

TEST(Ons, DuplicatesMoversAndTwins) {
  Simulation sim = Sim(4000, Noise::kOns, 1);
  // Duplicates: several records of one person at one agency on one day.
  std::map<std::tuple<int, int, std::string>, std::vector<const Record*>> groups;
  std::map<int, int> records;
  for (const Record& r : sim.records) {
    groups[{r.person, r.agency, r.signal_date}].push_back(&r);
    ++records[r.person];
  }
  std::set<int> household, other;
  for (const auto& [key, list] : groups) {
    if (list.size() < 2) continue;
    EXPECT_LE(list.size(), 6u);
    const Identifiers c = Canonical(sim.people[std::get<0>(key)]);
    bool moved = false;
    for (const Record* r : list) moved |= r->ids.street != c.street;
    (moved ? other : household).insert(std::get<0>(key));
  }
  const double signalled = sim.SignalledPersons();
  EXPECT_NEAR(household.size() / signalled, 0.02, 0.01);
  EXPECT_NEAR(other.size() / signalled, 0.05, 0.015);
  // Movers: among persons with several records, some have another address in one.
  int several = 0, movers = 0;
  for (const auto& [person, n] : records) {
    if (n < 2) continue;
    ++several;
    const Identifiers c = Canonical(sim.people[person]);
    bool moved = false;
    for (const Record& r : sim.records) {
      if (r.person == person && r.ids.street != c.street) moved = true;
    }
    movers += moved;
  }
  EXPECT_GT(movers / static_cast<double>(several), 0.08);
  // Twins: same surname, date of birth and postcode; another given name.
  std::map<std::tuple<std::string, int64_t, std::string>, std::set<std::string>> by_key;
  for (const Person& p : sim.people) {
    if (p.address.postcode.empty()) continue;
    by_key[{p.FullSurname(), DaysFromCivil(p.dob), p.address.postcode}].insert(p.given_names[0]);
  }
  int twins = 0;
  for (const auto& [key, names] : by_key) twins += names.size() >= 2;
  EXPECT_GT(twins, 25) << "1.5% of 4000 persons start a pair (those with an address)";
  EXPECT_LT(twins, 90);
  Simulation moderate = Sim(4000, Noise::kModerate, 1);
  by_key.clear();
  for (const Person& p : moderate.people) {
    if (p.address.postcode.empty()) continue;
    by_key[{p.FullSurname(), DaysFromCivil(p.dob), p.address.postcode}].insert(p.given_names[0]);
  }
  int coincidences = 0;
  for (const auto& [key, names] : by_key) coincidences += names.size() >= 2;
  EXPECT_LT(coincidences, 3);
}

}  // namespace
}  // namespace samenzicht::simulator
