// The synthetic municipality end to end: a population of victims, the agencies' CSV
// exports of signals about them (in the agency node's CSV contract), and the ground truth.
//
//   SimulatorOptions opt;  opt.persons = 2000;  opt.noise = Noise::kHeavy;
//   Simulation sim = Simulate(opt);                 // deterministic for the options
//   RETURN_IF_ERROR(WriteSimulation(sim, "/tmp/sim"));
//
// Files written by `WriteSimulation` into the folder:
//   <agency>.csv        one per agency, header as in the CSV contract
//   truth.csv           record_id,true_person_id for every record of every agency
//   population.csv      every person, seen or not: true_person_id, categories, the
//                       agencies that saw them (`;`) and their number of records
//   histories.csv       capture histories over the agencies: <agency...>,count
//                       (the input of `aggregator estimate`, persons seen at least once)
//   summary.json        sizes: persons, persons signalled, records, per agency counts
#ifndef SAMENZICHT_SIMULATOR_SIMULATOR_H_
#define SAMENZICHT_SIMULATOR_SIMULATOR_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "simulator/agencies.h"
#include "simulator/corruption.h"
#include "simulator/population.h"
#include "simulator/published.h"

namespace samenzicht::simulator {

struct SimulatorOptions {
  int persons = 800;
  int agencies = 6;
  Noise noise = Noise::kModerate;
  uint64_t seed = 1;
  Date start{2024, 1, 1};
  int months = 24;
  // GeCo's own parameters (noise geco only): the share of non-original records that are
  // corrupted at all, the modifications per corrupted record (at most one per attribute),
  // and the attributes that may be modified (empty: all of GeCo's example configuration).
  // The defaults are the example configuration: every duplicate, 5 modifications.
  GecoParameters geco;
  // How given names and surnames are drawn (names.h); the default keeps every earlier
  // output byte for byte.
  NameFrequencies name_frequencies = NameFrequencies::kUniform;
  // By default most homeless persons have no address on any record (no postcode, street or
  // house number). True gives them one like everyone else, as in benchmarks built from
  // registers where every original record is complete; the random draws stay the same.
  bool every_person_has_address = false;
};

// "uniform" or "zipf". InvalidArgument otherwise.
absl::StatusOr<NameFrequencies> ParseNameFrequencies(absl::string_view word);

// "2024-01" -> {2024, 1, 1}. InvalidArgument otherwise.
absl::StatusOr<Date> ParseMonth(absl::string_view text);

// One row of an agency's CSV export.
struct Record {
  std::string record_id;  // "police-000017"
  int agency = 0;
  int person = 0;
  Identifiers ids;
  // geco, splink: the person's first record, which the model keeps clean (the original).
  bool original = false;
  // Category columns as CSV words ("" = unknown).
  std::string form, contact, age_band, background, living_situation, recruitment_location,
      coercion, forced_crime, area, signal_date;
};

struct Simulation {
  SimulatorOptions options;
  std::vector<Person> people;
  std::vector<Agency> agencies;
  std::vector<Record> records;  // by agency, then signal date

  // Number of persons with at least one record.
  int SignalledPersons() const;
};

// InvalidArgument for persons < 1, agencies < 1 or > 100, months < 1.
absl::StatusOr<Simulation> Simulate(const SimulatorOptions& options);

// The CSV contract's header, in the order the simulator writes it.
const std::vector<std::string>& CsvHeader();
// RFC 4180: quoted when it holds a comma, quote, CR or LF; quotes doubled.
std::string CsvField(absl::string_view value);
// One CSV line (with "\n") for a record.
std::string CsvLine(const Record& r);

// Measured corruption per identifier field: over the records whose clean value (the
// person's `Canonical` identifiers) is not empty, how many were written differently and
// how many left blank. `copies_only` leaves out the originals (geco, splink).
struct FieldRate {
  std::string field;
  int with_value = 0, changed = 0, blanked = 0;
};
std::vector<FieldRate> CorruptionRates(const Simulation& sim, bool copies_only = false);
// A table of `CorruptionRates` (all records, and copies only when there are originals).
std::string FormatCorruptionRates(const Simulation& sim);

// Writes the files listed above into `dir` (created if needed). Errors name the path.
absl::Status WriteSimulation(const Simulation& sim, const std::string& dir);

}  // namespace samenzicht::simulator

#endif  // SAMENZICHT_SIMULATOR_SIMULATOR_H_
