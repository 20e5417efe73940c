// The errors the linkage must tolerate, one by one, through the real pipeline: the agency
// node's CSV reader, normaliser and tokeniser with the shipped profile, then the
// aggregator's probabilistic linkage. Each case is one person written twice (a clean record
// and the same person with one kind of error) among a simulated municipality's records, a
// namesake (same names, another date of birth and address), a twin (same surname, date of
// birth and address, another given name) and, where the person has a phone number, a
// housemate (the same date of birth and address, other names, another phone number; once
// more with the surname left blank), who must all stay apart from the person.
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "agency_node/csv.h"
#include "agency_node/normalise.h"
#include "agency_node/signal.h"
#include "agency_node/tokeniser.h"
#include "aggregator/linkage/probabilistic_linkage.h"
#include "crypto/keyed_hash.h"
#include "crypto/secret_bytes.h"
#include "model/config.h"
#include "model/tokens.h"
#include "simulator/simulator.h"

namespace samenzicht {
namespace {

// The identifier columns of a test record; categories are copied from a simulated record.
struct Ids {
  std::string given, surname, dob, postcode, city, phone, gender = "f";
};

struct Case {
  const char* name;  // the kind of error
  Ids clean, variant;
};

std::vector<Case> Cases() {
  // Each case its own person: its own names, written out clean and with the error.
  // Each its own date of birth and address too (the variants below edit them).
  int k = 0;
  auto person = [&k](std::string given, std::string surname) {
    ++k;
    return Ids{std::move(given), std::move(surname), absl::StrFormat("200%d-03-%02d", k % 8, 10 + k),
               absl::StrFormat("97%02dAB", 10 + 3 * k), "Groningen", /*phone=*/"", /*gender=*/"f"};
  };
  auto variant = [](Ids ids, auto change) {
    change(ids);
    return ids;
  };
  std::vector<Case> cases;
  auto add = [&](const char* name, Ids clean, auto change) {
    cases.push_back({name, clean, variant(clean, change)});
  };
  add("one character substituted in the surname", person("Wilhelmina", "Zwanenburg"),
      [](Ids& v) { v.surname = "Zwanenbarg"; });
  add("one character deleted from the given name", person("Gerarda", "Oosterhuis"),
      [](Ids& v) { v.given = "Gerada"; });
  add("two characters wrong in the surname", person("Hendrika", "Kloosterman"),
      [](Ids& v) { v.surname = "Klosterman"; v.given = "Hendrica"; });
  add("letters transposed in the surname", person("Johanna", "Wijnbergen"),
      [](Ids& v) { v.surname = "Wijnbegren"; });
  add("a call name for the given name", person("Johannes", "Bosscher"),
      [](Ids& v) { v.given = "Hans"; v.gender = "m"; });
  add("given name and surname swapped", person("Geertruida", "Steenbergen"),
      [](Ids& v) { std::swap(v.given, v.surname); });
  add("initial only", person("Adriana", "Hofstede"), [](Ids& v) { v.given = "A."; });
  add("a wrong digit in the date of birth", person("Petronella", "Dijkhuizen"),
      [](Ids& v) { v.dob[9] = v.dob[9] == '7' ? '8' : '7'; });
  add("day and month swapped", person("Theodora", "Roozendaal"),
      [](Ids& v) { v.dob = v.dob.substr(0, 5) + v.dob.substr(8, 2) + "-" + v.dob.substr(5, 2); });
  add("date of birth off by nine days", person("Jacoba", "Westerveld"),
      [](Ids& v) { v.dob = absl::StrCat(v.dob.substr(0, 8), std::stoi(v.dob.substr(8, 2)) + 9); });
  add("date of birth missing", person("Margaretha", "Kruithof"), [](Ids& v) { v.dob = ""; });
  add("postcode mistyped", person("Elisabeth", "Valkenburg"),
      [](Ids& v) { std::swap(v.postcode[2], v.postcode[3]); });
  add("postcode missing", person("Antonia", "Brouwershaven"), [](Ids& v) { v.postcode = ""; });
  add("a foreign postcode written two ways", variant(person("Catharina", "Lindeboom"),
      [](Ids& v) { v.postcode = "B-2000"; v.city = "Antwerpen"; }),
      [](Ids& v) { v.postcode = "2000"; });
  add("a name in Cyrillic script", person("Olga", "Petrenko"),
      [](Ids& v) { v.given = "Ольга"; v.surname = "Петренко"; });
  add("surname misspelt and the date of birth missing", person("Maria", "Vandenbroucke"),
      [](Ids& v) { v.surname = "Vandenbrouke"; v.dob = ""; });
  add("a foreign phone number written two ways", variant(person("Agnieszka", "Wisniewska"),
      [](Ids& v) { v.phone = "+48 601 234 567"; }),
      [](Ids& v) { v.phone = "0048601234567"; v.postcode = ""; v.dob = ""; });
  add("a second given name on one record", person("Anna", "Vermeulen"),
      [](Ids& v) { v.given = "Anna Maria"; });
  add("a double surname on one record", person("Fenna", "Bijlsma"),
      [](Ids& v) { v.surname = "Bijlsma-de Boer"; });
  add("the surname prefix written apart and together", person("Sanne", "van der Heijden"),
      [](Ids& v) { v.surname = "Vanderheijden"; });
  add("accents dropped", person("Zoë", "Müller"), [](Ids& v) { v.given = "Zoe"; v.surname = "Muller"; });
  add("y written for ij", person("Lotte", "Bruijn"), [](Ids& v) { v.surname = "Bruyn"; });
  add("a new phone number", variant(person("Wouter", "Dekker"), [](Ids& v) { v.phone = "0612345678"; }),
      [](Ids& v) { v.phone = "0687654321"; });
  return cases;
}

TEST(LinkageToleranceTest, EachKindOfErrorIsLinkedAndANamesakeIsNot) {
  // Background: a simulated municipality (6 agencies, moderate noise).
  simulator::SimulatorOptions opt;
  opt.persons = 1500;
  opt.seed = 7;
  auto sim = simulator::Simulate(opt);
  ASSERT_TRUE(sim.ok()) << sim.status();
  const std::vector<std::string>& header = simulator::CsvHeader();
  std::string csv = absl::StrJoin(header, ",") + "\n";
  for (const auto& r : sim->records) csv += simulator::CsvLine(r);
  // The categories of the first simulated record, for the test records.
  auto first = agency_node::ParseCsv(csv);
  ASSERT_TRUE(first.ok()) << first.status();
  std::map<std::string, std::string> categories;
  for (size_t c = 0; c < header.size(); ++c) categories[header[c]] = first->records[0].fields[c];

  const std::vector<Case> cases = Cases();
  auto row = [&](const std::string& id, const Ids& ids) {
    std::map<std::string, std::string> v = categories;
    for (const char* c : {"national_id", "email", "street", "house_number"}) v[c] = "";
    v["phone"] = ids.phone;
    v["record_id"] = id;
    v["given_names"] = ids.given;
    v["surname"] = ids.surname;
    v["date_of_birth"] = ids.dob;
    v["postcode"] = ids.postcode;
    v["city"] = ids.city;
    v["gender"] = ids.gender;
    std::vector<std::string> out;
    for (const auto& h : header) out.push_back(v[h]);
    return absl::StrJoin(out, ",") + "\n";
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    csv += row(absl::StrCat("case", i, "-clean"), cases[i].clean);
    csv += row(absl::StrCat("case", i, "-variant"), cases[i].variant);
    Ids namesake = cases[i].clean;  // same names, born four years later, other address
    namesake.dob = "2010-07-25";
    namesake.postcode = "9741CD";
    csv += row(absl::StrCat("case", i, "-namesake"), namesake);
    // The same surname, birthday and address, a given name with another initial than either
    // record's.
    Ids twin = cases[i].clean;
    twin.given = "Floor";
    for (const Ids* r : {&cases[i].clean, &cases[i].variant}) {
      if (!r->given.empty() && (r->given[0] == 'F' || r->given[0] == 'f')) twin.given = "Sophia";
    }
    twin.phone = "";
    // Not for the swapped names: a record "Steenbergen Geertruida" born on the twins' birthday
    // at their address is as much the twin's as the person's to the tokens (nothing but the
    // date of birth and the postcode is shared with either), and the model links on those.
    if (std::string(cases[i].name).find("swapped") == std::string::npos && cases[i].clean.phone.empty()) {
      csv += row(absl::StrCat("case", i, "-twin"), twin);
    }
    // Another person of the household whose record carries the person's date of birth (a
    // birthday copied from another member) and address, with other names and another phone
    // number. Only where the person has a phone number: without one, nothing but the names
    // tells the two apart, and the model links on date of birth and postcode. (No twin there:
    // a twin without a phone number and the housemate are the same case again.)
    if (!cases[i].clean.phone.empty()) {
      Ids housemate = cases[i].clean;
      housemate.given = "Ilse";
      housemate.surname = "Brink";
      housemate.phone = "0655512345";
      csv += row(absl::StrCat("case", i, "-housemate"), housemate);
      // The same with the surname left blank (one name to compare, not two).
      housemate.given = "Karim";
      housemate.surname = "";
      housemate.phone = "0655512346";
      csv += row(absl::StrCat("case", i, "-housemate-nosurname"), housemate);
    }
  }

  auto profile = model::LoadProfile(std::string(SAMENZICHT_SOURCE_DIR) + "/deploy/config/profile.textproto");
  ASSERT_TRUE(profile.ok()) << profile.status();
  auto parsed = agency_node::ParseCsv(csv);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  auto normaliser = agency_node::Normaliser::New();
  ASSERT_TRUE(normaliser.ok());
  auto file = agency_node::ParseSignals(*parsed, **normaliser, agency_node::SignalOptions());
  ASSERT_TRUE(file.ok()) << file.status();
  auto key = crypto::SecretBytes::Random(32);
  ASSERT_TRUE(key.ok());
  const std::vector<std::string> rules = agency_node::RuleNames(*profile);
  auto hasher = crypto::KeyedHasher::New(*key, agency_node::kTokenPurpose, 1, rules);
  ASSERT_TRUE(hasher.ok());
  auto tokeniser = agency_node::Tokeniser::New(*profile, std::move(*hasher));
  ASSERT_TRUE(tokeniser.ok());

  aggregator::TokenTable tokens;
  std::map<std::string, uint32_t> report_of;
  uint32_t n = 0;
  for (agency_node::Signal& s : file->signals) {
    const uint32_t report = n++;
    report_of[s.record_id] = report;
    (*tokeniser)->Tokenise(s.person, s.report.mutable_packed_tokens());
    model::ForEachToken(s.report, rules, [&](const model::TokenRef& t) {
      tokens.Add(report, static_cast<uint16_t>(t.rule),
                 reinterpret_cast<const uint8_t*>(t.value.data()),
                 static_cast<aggregator::TokenRole>(t.role));
    });
  }
  // Why a pair was (not) linked, for the failure message: shared rules, levels, posterior.
  std::map<std::pair<uint32_t, uint32_t>, std::string> why;
  const aggregator::ProbabilisticLinkResult result = aggregator::LinkWithProfile(
      n, tokens, *profile, rules, [&](const aggregator::ExplainedPair& p) {
        std::string text = "shared:";
        for (size_t r = 0; r < rules.size() && r < 64; ++r) {
          if (p.shared_rules >> r & 1) absl::StrAppend(&text, " ", rules[r]);
        }
        absl::StrAppend(&text, "; levels");
        for (int c = 0; c < aggregator::kNumComparisons; ++c) absl::StrAppend(&text, " ", int{p.level[c]});
        absl::StrAppend(&text, "; posterior ", p.posterior);
        why[{p.a, p.b}] = text;
      });
  auto explain = [&](uint32_t a, uint32_t b) {
    auto it = why.find({std::min(a, b), std::max(a, b)});
    return it == why.end() ? std::string("no candidate pair (no shared token)") : it->second;
  };
  const std::vector<uint32_t>& person = result.link.person;

  std::vector<std::string> missed, merged;
  int housemates = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string id = absl::StrCat("case", i);
    ASSERT_TRUE(report_of.count(id + "-clean") && report_of.count(id + "-variant") &&
                report_of.count(id + "-namesake"))
        << cases[i].name << ": a test record was skipped by the node";
    const uint32_t a = report_of[id + "-clean"], b = report_of[id + "-variant"],
                   c = report_of[id + "-namesake"];
    if (person[a] != person[b]) missed.push_back(absl::StrCat(cases[i].name, " (", explain(a, b), ")"));
    if (person[a] == person[c]) merged.push_back(absl::StrCat(cases[i].name, " (", explain(a, c), ")"));
    if (report_of.count(id + "-twin")) {
      const uint32_t t = report_of[id + "-twin"];
      if (person[a] == person[t]) merged.push_back(absl::StrCat(cases[i].name, ", twin (", explain(a, t), ")"));
    }
    if (report_of.count(id + "-housemate")) {
      ++housemates;
      const uint32_t h = report_of[id + "-housemate"];
      if (person[a] == person[h]) merged.push_back(absl::StrCat(cases[i].name, ", housemate (", explain(a, h), ")"));
      ASSERT_TRUE(report_of.count(id + "-housemate-nosurname")) << cases[i].name;
      const uint32_t hn = report_of[id + "-housemate-nosurname"];
      if (person[a] == person[hn]) {
        merged.push_back(absl::StrCat(cases[i].name, ", housemate without surname (", explain(a, hn), ")"));
      }
    }
  }
  EXPECT_TRUE(missed.empty()) << "not linked: " << absl::StrJoin(missed, "; ");
  EXPECT_TRUE(merged.empty()) << "merged with another person: " << absl::StrJoin(merged, "; ");
  EXPECT_EQ(housemates, 2);  // the two cases with a phone number
}

}  // namespace
}  // namespace samenzicht
