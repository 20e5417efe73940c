// What an agency writes about a person: the corruption model.
//
// At `Noise::kNone` every agency writes every identifier the person has, in one canonical
// form (ISO dates, "0612345678", "9711AB", all given names, "van der Berg"), so a
// person's identifiers are identical across agencies. At the other levels each record
// independently gets format variation (harmless to a good normaliser) and errors, with
// the probabilities of `kOps` times the level's factor (light 0.3, moderate 1, heavy 2.5,
// capped at 0.95), and the agency's own habits (agencies.h):
//
//   formats: "Berg, van der", "Van der Berg", upper case, "06-12345678" /
//            "+31 6 12345678" / "0031612345678", "9711 ab", "123.456.789", dd-mm-yyyy
//   errors:  one-character typos (substitution, transposition, deletion) in names;
//            spelling variants (Jansen/Janssen, Mohamed/Mohammed, Yılmaz/Yilmaz);
//            nicknames (Johannes -> Jan); first given name only; initials only;
//            the name in the person's own script (Arabic, Cyrillic); day and month of
//            birth swapped; a wrong digit in the date of birth; a wrong digit in the BSN
//            (it then fails the eleven-test); an old phone number; an old address;
//            missing fields.
//
// For a fixed record the decisions are drawn before the level is applied, so a higher
// level applies a superset of the corruptions of a lower one.
#ifndef SAMENZICHT_SIMULATOR_CORRUPTION_H_
#define SAMENZICHT_SIMULATOR_CORRUPTION_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "simulator/agencies.h"
#include "simulator/population.h"
#include "simulator/random.h"

namespace samenzicht::simulator {

// The first four levels are the simulator's own model (this file). The other four
// implement published corruption models with their documented parameters
// (simulator/published.h; simulator/README.md has the table of how each parameter maps).
enum class Noise {
  kNone, kLight, kModerate, kHeavy,
  kGeco,          // Tran, Vatsalan & Christen 2013 (GeCo), example configuration
  kPseudopeople,  // IHME pseudopeople, default noise configuration
  kSplink,        // Splink's synthetic data generator (splink_synthetic_data)
  kOns,           // ONS synthetic census vs. survey design targets
};

// "none", "light", "moderate", "heavy", "geco", "pseudopeople", "splink", "ons";
// InvalidArgument otherwise.
absl::StatusOr<Noise> ParseNoise(absl::string_view word);
std::string NoiseName(Noise n);
// True for the levels named after a published model (geco, pseudopeople, splink, ons).
bool IsPublishedModel(Noise n);

// The identifier columns of the CSV contract, as written.
struct Identifiers {
  std::string given_names, surname, date_of_birth, gender, national_id, phone, email,
      postcode, street, house_number, city;
};

// The identifiers with no noise at all.
Identifiers Canonical(const Person& p);

// What `agency` writes about `p` in one record; `rng` is that record's own stream.
Identifiers WriteIdentifiers(const Person& p, const Agency& agency, Noise noise, Rng& rng);

// One-character typo in a UTF-8 string: substitution by a neighbouring key, transposition
// of two neighbours, or deletion. Strings shorter than 3 characters are returned as is.
std::string Typo(std::string_view utf8, Rng& rng);

// Multi-byte aware helpers shared with published.cc.
std::u32string DecodeUtf8(std::string_view utf8);
std::string EncodeUtf8(const std::u32string& cps);

// The city written for an address: its own `city` (foreign addresses), else the
// municipality's place of the district ("Groningen", "Haren", "Ten Boer").
std::string CityOf(const Address& a);

// "van der Berg" -> "Berg, van der".
std::string PrefixAfter(const Person& p);

// Upper case of ASCII letters and the common Latin letters with diacritics.
std::string Upper(std::string_view utf8);

}  // namespace samenzicht::simulator

#endif  // SAMENZICHT_SIMULATOR_CORRUPTION_H_
