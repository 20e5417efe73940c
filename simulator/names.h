// Name, street and postcode material for the synthetic municipality.
//
// Names are grouped by origin (the country a person or their parents come from); the
// simulator picks an origin from the person's background (see population.h). Spelling
// variants and nicknames are the ways agencies in the Netherlands actually write the
// same name differently: "Janssen" for "Jansen", "Mohammed" for "Mohamed", "Yilmaz" for
// "Yılmaz", "Jan" for "Johannes".
//
// All functions return references to static data; they are thread-safe.
#ifndef SAMENZICHT_SIMULATOR_NAMES_H_
#define SAMENZICHT_SIMULATOR_NAMES_H_

#include <string>
#include <string_view>
#include <vector>

#include "simulator/random.h"

namespace samenzicht::simulator {

enum class Origin {
  kDutch,
  kMoroccan,
  kTurkish,
  kSurinamese,
  kAntillean,
  kPolish,
  kRomanian,
  kBulgarian,
  kUkrainian,
  kEritrean,
  kSyrian,
  kAfghan,
  kNigerian,
};
inline constexpr int kOriginCount = 13;

// "dutch", "moroccan", ...
std::string_view OriginName(Origin o);

struct OriginNames {
  std::vector<std::string> male, female;
  // Surnames as written in full ("van der Berg"). Where the language inflects surnames
  // by gender (Polish, Bulgarian), `surnames_female` holds the female form at the same
  // index; otherwise it is empty.
  std::vector<std::string> surnames, surnames_female;
  // Extra given names for second and third given names (Dutch and Surinamese mostly).
  std::vector<std::string> middle_male, middle_female;
};
const OriginNames& NamesOf(Origin o);

// How given names and surnames are drawn from an origin's lists.
//   kUniform: every list entry equally often (the default).
//   kZipf: heavy-tailed, as real name frequencies are: the entry of rank k (the lists are
//     in order of frequency) gets weight 1 / (k + 9) (a Zipf-Mandelbrot law with exponent
//     1; the offset 9 makes rank 10 about half as common as rank 1, as among the most
//     common Dutch surnames). Dutch surnames are drawn from the list followed by
//     RareDutchSurnames(), which gives the long tail of rare names.
enum class NameFrequencies { kUniform, kZipf };
std::string_view NameFrequenciesName(NameFrequencies f);  // "uniform", "zipf"

// Plausible rare Dutch surnames made by combining Dutch name parts ("Hofstra", "Brinkema",
// "van Dalhuizen"), none in NamesOf(kDutch).surnames; a fixed list in a fixed order (a few
// thousand entries).
const std::vector<std::string>& RareDutchSurnames();

// The rank (0-based) drawn with weight 1 / (rank + 1 + 9) among `n` ranks; n > 0.
size_t ZipfRank(Rng& rng, size_t n);

// Other spellings of `name` that an agency might write ("Janssen" for "Jansen"), without
// `name` itself; empty when none are known.
const std::vector<std::string>& SpellingVariants(std::string_view name);

// Short forms of a given name ("Jan", "Hans" for "Johannes"); empty when none.
const std::vector<std::string>& Nicknames(std::string_view given_name);

// The spelling of a Latin-script name in the person's own script (Arabic for Syrian and
// Moroccan names, Cyrillic for Ukrainian ones), or "" when the table has none.
std::string_view NativeScript(std::string_view latin);

// Splits a Dutch surname into prefix and core: "van der Berg" -> {"van der", "Berg"};
// "Visser" -> {"", "Visser"}. Only the lower-case Dutch prefixes are split off.
std::pair<std::string, std::string> SplitSurnamePrefix(std::string_view full);

// A district of the municipality (Groningen) with its postcode numbers and streets.
struct District {
  std::string area;                 // CSV word: "binnenstad", "oude_wijken", ...
  double weight;                    // share of victims living there
  std::vector<int> postcode_numbers;
  std::vector<std::string> streets;
};
const std::vector<District>& Districts();

// The postcode of an address in district `d`: a street has one four-digit area, and each side
// of each stretch of 24 house numbers its own two letters, as in a real town, so that two
// records with the same street and house number have the same postcode. Deterministic.
std::string PostcodeFor(const District& d, std::string_view street, std::string_view house_number);

// Takes from `rng` the draws a random postcode of `d` took before postcodes followed the
// street (letters, then the four digits), so that every later draw stays as it was.
void SkipRandomPostcode(Rng& rng, const District& d);

}  // namespace samenzicht::simulator

#endif  // SAMENZICHT_SIMULATOR_NAMES_H_
