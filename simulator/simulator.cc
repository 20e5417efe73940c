#include "simulator/simulator.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "model/vocabulary.h"
#include "samenzicht/v1/categories.pb.h"
#include "simulator/published.h"

namespace samenzicht::simulator {
namespace {

using model::Word;

std::string Words(v1::Dimension d, const std::vector<int>& values) {
  std::vector<std::string> w;
  for (int v : values) w.push_back(Word(d, v));
  return absl::StrJoin(w, ";");
}

// What a professional knows of a multi-valued category: all of it, the first value, or
// nothing ("" = unknown).
std::string Partial(Rng& rng, v1::Dimension d, const std::vector<int>& values, double all,
                    double first) {
  if (values.empty()) return "";
  double x = rng.Real();
  if (x < all) return Words(d, values);
  if (x < all + first) return Word(d, values[0]);
  return "";
}

void FillCategories(const Person& p, const Sighting& s, uint64_t seed, Record& r) {
  using namespace v1;
  Rng rng = Rng::For(seed, "categories", static_cast<uint64_t>(s.person),
                     static_cast<uint64_t>(s.agency), static_cast<uint64_t>(s.repeat));
  // A victim of both forms is often seen by a professional in one of them only.
  int form = p.form;
  if (form == FORM_SEXUAL_AND_CRIMINAL) {
    double x = rng.Real();
    if (x < 0.25) form = FORM_SEXUAL;
    else if (x < 0.5) form = FORM_CRIMINAL;
  }
  if (rng.Bernoulli(0.04)) form = FORM_UNSPECIFIED;
  r.form = form ? Word(DIMENSION_FORM, form) : "";
  // Survey: 82% of professionals had direct contact, 18% only observed.
  r.contact = Word(DIMENSION_CONTACT, rng.Bernoulli(0.82) ? CONTACT_DIRECT : CONTACT_OBSERVED);
  r.age_band = rng.Bernoulli(0.75)
                   ? Word(DIMENSION_AGE_BAND, AgeBandOf(AgeAt(p.dob, s.signal_date)))
                   : "";
  r.background = rng.Bernoulli(0.85) ? Word(DIMENSION_BACKGROUND, p.background) : "";
  r.living_situation = Partial(rng, DIMENSION_LIVING_SITUATION, p.living_situation, 0.6, 0.25);
  // About 30% of respondents did not know where victims were recruited.
  r.recruitment_location =
      Partial(rng, DIMENSION_RECRUITMENT_LOCATION, p.recruitment_location, 0.55, 0.15);
  // About 22% did not know the means of coercion.
  r.coercion = Partial(rng, DIMENSION_COERCION, p.coercion, 0.5, 0.28);
  bool criminal_seen = form == FORM_CRIMINAL || form == FORM_SEXUAL_AND_CRIMINAL;
  r.forced_crime = criminal_seen ? Partial(rng, DIMENSION_FORCED_CRIME, p.forced_crime, 0.7, 0.2) : "";
  r.area = rng.Bernoulli(0.9) ? p.address.area : "";
  r.signal_date = IsoDate(s.signal_date);
}

std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

// The published noise models (published.h): the population adapted (foreign addresses,
// twins), the records planned (splink copies, ons duplicates and movers), each written
// from the canonical identifiers plus the model's corruptions.
Simulation SimulatePublished(Simulation sim) {
  const SimulatorOptions& options = sim.options;
  AdaptPopulation(sim.people, options.noise, options.seed);
  const ObservationOptions obs{options.seed, options.start, options.months};
  std::vector<PlannedRecord> planned =
      PlanRecords(sim.people, Observe(sim.people, sim.agencies, obs), options.noise, obs);
  const PostcodeAreas areas = options.noise == Noise::kPseudopeople
                                  ? SamePostcodeArea(sim.people)
                                  : PostcodeAreas();
  std::vector<int> counter(sim.agencies.size(), 0);
  sim.records.reserve(planned.size());
  for (const PlannedRecord& pr : planned) {
    const Sighting& s = pr.sighting;
    Record r;
    char id[32];
    std::snprintf(id, sizeof id, "-%06d", ++counter[s.agency]);
    r.record_id = sim.agencies[s.agency].name + id;
    r.agency = s.agency;
    r.person = s.person;
    PublishedContext ctx;
    ctx.original = pr.original;
    ctx.geco = &options.geco;
    if (pr.other_address) ctx.other_address = &*pr.other_address;
    Rng pick = Rng::For(options.seed, "housemate", static_cast<uint64_t>(s.person),
                        static_cast<uint64_t>(s.agency), static_cast<uint64_t>(s.repeat));
    if (int h = areas.Housemate(s.person, pick); h >= 0) ctx.housemate = &sim.people[h];
    Rng rng = Rng::For(options.seed, "write", static_cast<uint64_t>(s.person),
                       static_cast<uint64_t>(s.agency), static_cast<uint64_t>(s.repeat));
    r.ids = WritePublished(sim.people[s.person], options.noise, ctx, rng);
    r.original = pr.original;
    FillCategories(sim.people[s.person], s, options.seed, r);
    sim.records.push_back(std::move(r));
  }
  return sim;
}

}  // namespace

absl::StatusOr<Date> ParseMonth(absl::string_view text) {
  int y = 0, m = 0;
  if (text.size() != 7 || text[4] != '-' || !absl::SimpleAtoi(text.substr(0, 4), &y) ||
      !absl::SimpleAtoi(text.substr(5, 2), &m) || m < 1 || m > 12 || y < 1900 || y > 2999) {
    return absl::InvalidArgumentError(
        absl::StrCat("--start must be a month YYYY-MM, got '", text, "'"));
  }
  return Date{y, m, 1};
}

int Simulation::SignalledPersons() const {
  std::set<int> seen;
  for (const Record& r : records) seen.insert(r.person);
  return static_cast<int>(seen.size());
}

absl::StatusOr<NameFrequencies> ParseNameFrequencies(absl::string_view word) {
  if (word == "uniform") return NameFrequencies::kUniform;
  if (word == "zipf") return NameFrequencies::kZipf;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown name frequencies '", word, "' (uniform, zipf)"));
}

absl::StatusOr<Simulation> Simulate(const SimulatorOptions& options) {
  if (options.persons < 1) return absl::InvalidArgumentError("--persons must be at least 1");
  if (options.agencies < 1 || options.agencies > 100) {
    return absl::InvalidArgumentError("--agencies must be between 1 and 100");
  }
  if (options.months < 1) return absl::InvalidArgumentError("--months must be at least 1");
  Simulation sim;
  sim.options = options;
  sim.people = GeneratePopulation(PopulationOptions{options.persons, options.seed,
                                                    options.start, options.months,
                                                    options.name_frequencies,
                                                    options.every_person_has_address});
  sim.agencies = DefaultAgencies(options.agencies);
  if (IsPublishedModel(options.noise)) return SimulatePublished(std::move(sim));
  std::vector<Sighting> sightings =
      Observe(sim.people, sim.agencies, ObservationOptions{options.seed, options.start, options.months});
  std::vector<int> counter(sim.agencies.size(), 0);
  sim.records.reserve(sightings.size());
  for (const Sighting& s : sightings) {
    Record r;
    char id[32];
    std::snprintf(id, sizeof id, "-%06d", ++counter[s.agency]);
    r.record_id = sim.agencies[s.agency].name + id;
    r.agency = s.agency;
    r.person = s.person;
    Rng rng = Rng::For(options.seed, "write", static_cast<uint64_t>(s.person),
                       static_cast<uint64_t>(s.agency), static_cast<uint64_t>(s.repeat));
    r.ids = WriteIdentifiers(sim.people[s.person], sim.agencies[s.agency], options.noise, rng);
    FillCategories(sim.people[s.person], s, options.seed, r);
    sim.records.push_back(std::move(r));
  }
  return sim;
}

const std::vector<std::string>& CsvHeader() {
  static const auto* h = new std::vector<std::string>{
      "record_id", "given_names", "surname", "date_of_birth", "gender", "national_id",
      "phone", "email", "postcode", "street", "house_number", "city", "form", "contact",
      "age_band", "background", "living_situation", "recruitment_location", "coercion",
      "forced_crime", "area", "signal_date"};
  return *h;
}

std::string CsvField(absl::string_view value) {
  if (value.find_first_of(",\"\r\n") == absl::string_view::npos) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

std::string CsvLine(const Record& r) {
  const Identifiers& i = r.ids;
  std::vector<const std::string*> cells = {
      &r.record_id, &i.given_names, &i.surname, &i.date_of_birth, &i.gender, &i.national_id,
      &i.phone, &i.email, &i.postcode, &i.street, &i.house_number, &i.city, &r.form,
      &r.contact, &r.age_band, &r.background, &r.living_situation, &r.recruitment_location,
      &r.coercion, &r.forced_crime, &r.area, &r.signal_date};
  std::string line;
  for (size_t k = 0; k < cells.size(); ++k) {
    if (k) line += ",";
    line += CsvField(*cells[k]);
  }
  return line + "\n";
}

std::vector<FieldRate> CorruptionRates(const Simulation& sim, bool copies_only) {
  std::vector<FieldRate> out;
  for (const char* f : {"given_names", "surname", "date_of_birth", "gender", "national_id",
                        "phone", "email", "postcode", "street", "house_number", "city"}) {
    out.push_back(FieldRate{f});
  }
  for (const Record& r : sim.records) {
    if (copies_only && r.original) continue;
    const Identifiers c = Canonical(sim.people[r.person]);
    const Identifiers& w = r.ids;
    const std::string* clean[] = {&c.given_names, &c.surname, &c.date_of_birth, &c.gender,
                                  &c.national_id, &c.phone,   &c.email,         &c.postcode,
                                  &c.street,      &c.house_number, &c.city};
    const std::string* written[] = {&w.given_names, &w.surname, &w.date_of_birth, &w.gender,
                                    &w.national_id, &w.phone,   &w.email,         &w.postcode,
                                    &w.street,      &w.house_number, &w.city};
    for (size_t k = 0; k < out.size(); ++k) {
      if (clean[k]->empty()) continue;
      ++out[k].with_value;
      out[k].changed += *written[k] != *clean[k];
      out[k].blanked += written[k]->empty();
    }
  }
  return out;
}

std::string FormatCorruptionRates(const Simulation& sim) {
  bool originals = false;
  for (const Record& r : sim.records) originals |= r.original;
  auto pct = [](int n, int d) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%5.1f%%", d ? 100.0 * n / d : 0.0);
    return std::string(buf);
  };
  std::vector<FieldRate> all = CorruptionRates(sim, false), copies = CorruptionRates(sim, true);
  std::string out = absl::StrCat("corruption vs. the clean identifiers, noise ",
                                 NoiseName(sim.options.noise), ", ", sim.records.size(),
                                 " records\nfield          with value  changed  blank",
                                 originals ? "   copies: changed  blank" : "", "\n");
  for (size_t k = 0; k < all.size(); ++k) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%-14s %10d", all[k].field.c_str(), all[k].with_value);
    absl::StrAppend(&out, buf, "  ", pct(all[k].changed, all[k].with_value), " ",
                    pct(all[k].blanked, all[k].with_value));
    if (originals) {
      absl::StrAppend(&out, "          ", pct(copies[k].changed, copies[k].with_value), " ",
                      pct(copies[k].blanked, copies[k].with_value));
    }
    out += "\n";
  }
  // The parts of the date of birth, over records whose written date parses (ISO or
  // dd-mm-yyyy) and so can be compared part by part.
  int n = 0, day = 0, month = 0, year = 0;
  for (const Record& r : sim.records) {
    const std::string& w = r.ids.date_of_birth;
    int y = 0, m = 0, d = 0;
    bool ok = w.size() == 10 &&
              (w[4] == '-' ? absl::SimpleAtoi(w.substr(0, 4), &y) &&
                                 absl::SimpleAtoi(w.substr(5, 2), &m) &&
                                 absl::SimpleAtoi(w.substr(8, 2), &d)
               : w[2] == '-' ? absl::SimpleAtoi(w.substr(6, 4), &y) &&
                                   absl::SimpleAtoi(w.substr(3, 2), &m) &&
                                   absl::SimpleAtoi(w.substr(0, 2), &d)
                             : false);
    if (!ok) continue;
    const Date& t = sim.people[r.person].dob;
    ++n;
    day += d != t.day;
    month += m != t.month;
    year += y != t.year;
  }
  absl::StrAppend(&out, "date of birth, over ", n, " written dates that parse: day ",
                  pct(day, n), ", month ", pct(month, n), ", year ", pct(year, n), " differ\n");
  return out;
}

absl::Status WriteSimulation(const Simulation& sim, const std::string& dir) {
  RETURN_IF_ERROR(files::MakeDirs(dir));
  const std::string header = absl::StrJoin(CsvHeader(), ",") + "\n";
  std::vector<std::string> csv(sim.agencies.size(), header);
  std::string truth = "record_id,true_person_id\n";
  std::vector<std::set<int>> persons_of(sim.agencies.size());
  std::vector<int> records_of(sim.agencies.size(), 0);
  std::map<int, std::set<int>> agencies_of;  // person -> agencies
  std::map<int, int> records_per_person;
  for (const Record& r : sim.records) {
    csv[r.agency] += CsvLine(r);
    absl::StrAppend(&truth, r.record_id, ",", sim.people[r.person].id, "\n");
    persons_of[r.agency].insert(r.person);
    ++records_of[r.agency];
    agencies_of[r.person].insert(r.agency);
    ++records_per_person[r.person];
  }
  for (size_t a = 0; a < sim.agencies.size(); ++a) {
    RETURN_IF_ERROR(files::WriteFileAtomic(dir + "/" + sim.agencies[a].name + ".csv", csv[a]));
  }
  RETURN_IF_ERROR(files::WriteFileAtomic(dir + "/truth.csv", truth));

  using namespace v1;
  const Date mid = AddMonths(sim.options.start, sim.options.months / 2);
  std::string pop =
      "true_person_id,form,gender,age_band,background,area,origin,agencies,records\n";
  for (size_t i = 0; i < sim.people.size(); ++i) {
    const Person& p = sim.people[i];
    std::vector<std::string> names;
    auto seen = agencies_of.find(static_cast<int>(i));
    if (seen != agencies_of.end()) {
      for (int a : seen->second) names.push_back(sim.agencies[a].name);
    }
    auto count = records_per_person.find(static_cast<int>(i));
    absl::StrAppend(&pop, p.id, ",", Word(DIMENSION_FORM, p.form), ",",
                    Word(DIMENSION_GENDER, p.gender), ",",
                    Word(DIMENSION_AGE_BAND, AgeBandOf(AgeAt(p.dob, mid))), ",",
                    Word(DIMENSION_BACKGROUND, p.background), ",", p.address.area, ",",
                    std::string(OriginName(p.origin)), ",", absl::StrJoin(names, ";"), ",",
                    count == records_per_person.end() ? 0 : count->second, "\n");
  }
  RETURN_IF_ERROR(files::WriteFileAtomic(dir + "/population.csv", pop));

  // Capture histories over the agencies.
  std::map<std::string, int> histories;
  for (const auto& [person, set] : agencies_of) {
    std::string h;
    for (size_t a = 0; a < sim.agencies.size(); ++a) {
      if (a) h += ",";
      h += set.count(static_cast<int>(a)) ? "1" : "0";
    }
    ++histories[h];
  }
  std::vector<std::string> names;
  for (const Agency& a : sim.agencies) names.push_back(a.name);
  std::string hist = absl::StrJoin(names, ",") + ",count\n";
  for (auto it = histories.rbegin(); it != histories.rend(); ++it) {
    absl::StrAppend(&hist, it->first, ",", it->second, "\n");
  }
  RETURN_IF_ERROR(files::WriteFileAtomic(dir + "/histories.csv", hist));

  std::string json = absl::StrCat(
      "{\n  \"seed\": ", sim.options.seed, ",\n  \"noise\": ", JsonString(NoiseName(sim.options.noise)),
      ",\n  \"start\": ", JsonString(IsoDate(sim.options.start).substr(0, 7)),
      ",\n  \"months\": ", sim.options.months, ",\n  \"persons\": ", sim.people.size(),
      ",\n  \"persons_signalled\": ", agencies_of.size(),
      ",\n  \"records\": ", sim.records.size(), ",\n  \"agencies\": [");
  for (size_t a = 0; a < sim.agencies.size(); ++a) {
    absl::StrAppend(&json, a ? "," : "", "\n    {\"name\": ", JsonString(sim.agencies[a].name),
                    ", \"domain\": ", JsonString(Word(DIMENSION_DOMAIN, sim.agencies[a].domain)),
                    ", \"records\": ", records_of[a], ", \"persons\": ", persons_of[a].size(), "}");
  }
  json += "\n  ]\n}\n";
  return files::WriteFileAtomic(dir + "/summary.json", json);
}

}  // namespace samenzicht::simulator
