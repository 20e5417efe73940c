// The agencies of the synthetic municipality and which victims each of them sees.
//
// Each agency has a reporting domain and writing habits (which fields its case system
// usually lacks, how it writes phone numbers and dates, whether professionals use the
// name a person goes by). Whether agency j sees person i is a logistic model:
//
//   logit P(seen) = base_j + effects_j(categories of i) + 0.8 * visibility_i
//                   + sum over agencies k < j that saw i of boost(k -> j)
//
// The shared `visibility` factor and the boosts (police -> youth care, youth care ->
// education, social work -> financial services, ...) make the agencies' lists
// positively dependent, as real registries are; some persons are seen by none.
#ifndef SAMENZICHT_SIMULATOR_AGENCIES_H_
#define SAMENZICHT_SIMULATOR_AGENCIES_H_

#include <string>
#include <vector>

#include "simulator/population.h"

namespace samenzicht::simulator {

struct Agency {
  std::string name;  // also the prefix of its record ids: "police", "youth_care", "police_2"
  int domain = 0;    // samenzicht.v1.Domain
  // Writing habits at the moderate noise level (scaled by the level, none at "none").
  double missing_bsn = 0.2, missing_phone = 0.3, missing_email = 0.6, missing_address = 0.2;
  double missing_dob = 0.03;
  double call_name = 0.2;        // writes the name the person goes by
  double first_name_only = 0.4;  // writes only the first of several given names
  int phone_style = 0;           // see corruption.cc
  bool dutch_dates = false;      // writes dates of birth as dd-mm-yyyy
  bool upper_surname = false;    // writes surnames in capitals
};

// The first `count` agencies of the default list: police, youth_care, mental_health,
// social_work, education, municipality, financial, shelter, health_care, other; beyond
// ten, the list repeats with a suffix ("police_2").
std::vector<Agency> DefaultAgencies(int count);

// One signal of one agency about one person.
struct Sighting {
  int person = 0;  // index into the population
  int agency = 0;  // index into the agencies
  Date signal_date;
  int repeat = 0;  // 0 for the agency's first signal about the person, 1, 2 for repeats
};

struct ObservationOptions {
  uint64_t seed = 1;
  Date start{2024, 1, 1};
  int months = 24;
};

// All signals, ordered by agency, then signal date, then person. Deterministic; does not
// depend on the noise level, so every level has the same truth.
std::vector<Sighting> Observe(const std::vector<Person>& people,
                              const std::vector<Agency>& agencies,
                              const ObservationOptions& options);

}  // namespace samenzicht::simulator

#endif  // SAMENZICHT_SIMULATOR_AGENCIES_H_
