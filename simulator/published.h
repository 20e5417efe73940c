// Published corruption models as noise levels of the simulator: `geco`, `pseudopeople`,
// `splink`, `ons` (see simulator/README.md for the table of each model's parameters and
// how the simulator applies them).
//
//   geco          Tran, Vatsalan & Christen 2013 (GeCo), its example configuration: the
//                 person's first record is the original (clean), every other record gets
//                 5 modifications, at most one per attribute.
//   pseudopeople  IHME pseudopeople's default noise: per cell 1% for each noise type of the
//                 column, token-level types 10% per token (character).
//   splink        Splink's synthetic data generator: one clean record per person plus
//                 Zipf(theta 0.5) corrupted copies (at most 20 records per person); each
//                 copy gets each corruption with its probability.
//   ons           ONS census vs. survey design targets: forename 35%, surname 32%, sex 1%,
//                 day 15%, month 13%, year 13%, postcode 4% of records; movers,
//                 duplicates in the same and in another household, twins.
//
// Under all four, 5% of persons have a foreign (Belgian or German) address and phone.
// The four levels write from the canonical identifiers (`Canonical`) plus only the
// model's corruptions: none of the simulator's own format variation, so every difference
// from the clean record is a modification of the model.
//
// Deterministic: every draw comes from an `Rng` stream named after its purpose.
#ifndef SAMENZICHT_SIMULATOR_PUBLISHED_H_
#define SAMENZICHT_SIMULATOR_PUBLISHED_H_

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "simulator/agencies.h"
#include "simulator/corruption.h"
#include "simulator/population.h"
#include "simulator/random.h"

namespace samenzicht::simulator {

// One record to write under a published model.
struct PlannedRecord {
  Sighting sighting;
  bool original = false;                // geco, splink: the person's first record, clean
  std::optional<Address> other_address;  // ons: a mover's record or a duplicate in
                                         // another household
};

// What a record needs beyond the person.
// GeCo's generator parameters (see SimulatorOptions::geco).
struct GecoParameters {
  double corrupted_fraction = 1.0;
  int modifications = 5;
  std::set<std::string> attributes;  // CSV column names; empty = all
};

struct PublishedContext {
  bool original = false;
  const GecoParameters* geco = nullptr;  // nullptr = the example configuration
  const Address* other_address = nullptr;
  const Person* housemate = nullptr;  // pseudopeople: copy_from_household_member source
};

// Population changes of the published levels, before the agencies observe: 5% of
// persons get a foreign address and phone (all four), ons adds twins (1.5% of persons
// start a pair: the next person becomes their twin).
void AdaptPopulation(std::vector<Person>& people, Noise model, uint64_t seed);

// The records of a published level from the agencies' sightings, ordered like the
// sightings (agency, signal date, person, repeat). splink: records per signalled person
// = 1 + Zipf copies, at least one per agency that saw them, at most 20 (unless seen by
// more than 20 agencies); ons: duplicates and movers; geco, pseudopeople: the
// sightings as they are. Marks each person's first record (by date, agency, repeat).
std::vector<PlannedRecord> PlanRecords(const std::vector<Person>& people,
                                       std::vector<Sighting> sightings, Noise model,
                                       const ObservationOptions& options);

// pseudopeople's households: the simulator has none, so a "household member" is another
// person of the same 4-digit postcode area (the same town abroad).
struct PostcodeAreas {
  std::vector<int> area_of;               // per person; -1 without a postcode
  std::vector<std::vector<int>> members;  // per area, its persons in index order
  // Another person of `person`'s area, uniformly; -1 when there is none.
  int Housemate(int person, Rng& rng) const;
};
PostcodeAreas SamePostcodeArea(const std::vector<Person>& people);

// Writes one record of `p` under `model`. `applied`, when not null, receives one entry
// "field:kind" per modification made ("given_names:phonetic", "date_of_birth:blank").
Identifiers WritePublished(const Person& p, Noise model, const PublishedContext& ctx,
                           Rng& rng, std::vector<std::string>* applied = nullptr);

// The Zipf distribution of splink_synthetic_data (GeCo's, theta 0.5): P(k) proportional
// to k^-0.5 for k = 1..max.
std::vector<double> ZipfWeights(int max);

// Building blocks, exposed for the tests.
// A QWERTY neighbour of an ASCII letter or digit: `row` same row (left/right), else same
// column (the keys above and below); "" when none.
std::string KeyboardNeighbours(char c, bool row);
// One of GeCo's phonetic rules applied at a random applicable place; false if none applies.
bool ApplyPhoneticRule(std::u32string& s, Rng& rng);
// One OCR confusion at a random applicable place; false if none applies.
bool ApplyOcrError(std::u32string& s, Rng& rng);
// The number of phonetic rules in the table (about 30).
int PhoneticRuleCount();

}  // namespace samenzicht::simulator

#endif  // SAMENZICHT_SIMULATOR_PUBLISHED_H_
