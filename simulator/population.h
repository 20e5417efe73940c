// The synthetic population: victims of trafficking in one municipality, with their true
// identifiers and the categories of the reports' data model
// (proto/samenzicht/v1/report.proto).
//
//   PopulationOptions opt{.persons = 800, .seed = 7};
//   std::vector<Person> people = GeneratePopulation(opt);
//
// The category distributions follow the research report on trafficking in Groningen
// (report 002, appendix A); simulator/README.md lists the figures taken. Every person is
// a victim; whether any agency sees them is decided later (agencies.h).
#ifndef SAMENZICHT_SIMULATOR_POPULATION_H_
#define SAMENZICHT_SIMULATOR_POPULATION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "simulator/names.h"
#include "simulator/random.h"

namespace samenzicht::simulator {

// A calendar date (proleptic Gregorian).
struct Date {
  int year = 0, month = 0, day = 0;
  bool operator==(const Date&) const = default;
};
int64_t DaysFromCivil(const Date& d);
Date CivilFromDays(int64_t days);
Date AddMonths(const Date& d, int months);  // day clamped to the month's length
int DaysInMonth(int year, int month);
std::string IsoDate(const Date& d);          // "2007-03-09"
// Completed years at `when`.
int AgeAt(const Date& dob, const Date& when);
// The AgeBand enum value (samenzicht.v1.AgeBand) of an age in years.
int AgeBandOf(int age);

// A valid BSN: nine digits passing the eleven-test, first digit not 0.
std::string MakeBsn(Rng& rng);
// 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 == 0 (mod 11), nine digits, not all zero.
bool PassesElevenTest(std::string_view nine_digits);

struct Address {
  std::string street;
  std::string house_number;  // "12", "12A"
  std::string postcode;      // "9711AB"
  std::string area;          // CSV area word of the district
  // Only for a foreign address (published noise models): the postcode as written there
  // ("B-2000", "2000", "D-47533", "47533") and its city ("Antwerpen", "Kleve"); empty for
  // an address in the municipality, whose city follows from `area`.
  std::string city;
};

struct Person {
  std::string id;            // "P000001"
  Origin origin = Origin::kDutch;
  int gender = 0;            // samenzicht.v1.Gender
  std::vector<std::string> given_names;  // official, in order
  // The name the person goes by when it is not the first given name ("Jan" for
  // "Johannes"), else "".
  std::string call_name;
  std::string surname_prefix;  // "van der", or ""
  std::string surname;         // "Berg" (the part after the prefix)
  Date dob;
  std::string bsn;             // "" when the person has none (recently arrived)
  std::string phone;           // "0612345678", or ""
  std::string old_phone;       // a previous number, or ""
  std::string email;           // or ""
  Address address;
  std::optional<Address> old_address;  // a previous address in the municipality

  // True categories (samenzicht.v1 enum values).
  int form = 0;
  int background = 0;
  std::vector<int> living_situation;
  std::vector<int> recruitment_location;
  std::vector<int> coercion;
  std::vector<int> forced_crime;

  // Latent visibility to the help system: the shared factor that makes agencies'
  // observations positively dependent.
  double visibility = 0;

  // "van der Berg".
  std::string FullSurname() const;
};

struct PopulationOptions {
  int persons = 800;
  uint64_t seed = 1;
  Date start{2024, 1, 1};  // first day of the observation period
  int months = 24;
  // How names are drawn from the lists (names.h); kUniform keeps every earlier population.
  NameFrequencies name_frequencies = NameFrequencies::kUniform;
  // False: most homeless persons have no address (SimulatorOptions).
  bool every_person_has_address = false;
};

// Deterministic for the options.
std::vector<Person> GeneratePopulation(const PopulationOptions& options);

}  // namespace samenzicht::simulator

#endif  // SAMENZICHT_SIMULATOR_POPULATION_H_
