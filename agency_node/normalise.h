// Normalisation of identifiers before hashing, so that the ways different agencies write
// the same person give the same canonical strings.
//
// Nothing here logs, and no error message echoes its input: inputs are identifiers.
//
// Names (`Normaliser`): ICU does the Unicode work once for every script: NFKC, Cyrillic
// via BGN/PCGN Ukrainian romanisation ("Шевченко" -> "shevchenko"), every other script via
// ICU's Any-Latin ("محمد" -> "mhmd"), then Latin-ASCII (diacritics and ligatures:
// "Öztürk" -> "ozturk", "Łukasz" -> "lukasz", "Straße" -> "strasse") and lower case.
// On top of that, Dutch rules:
//  - surname prefixes ("van", "de", "van der", "ten", "in 't", "'t", "op de", "von", "el",
//    "al", ...) are found in any position: "van der Berg", "Berg, van der", "Berg v.d.",
//    "vd Berg" all give surname "berg" and surname-with-prefix "van der berg";
//  - a hyphenated double surname keeps both parts: "Jansen-de Vries" -> surname
//    "jansen-vries", with prefix "jansen-de vries"; a part that is only a prefix joins the
//    next part ("Al-Sayed" = "al Sayed" -> "sayed");
//  - given names: "Jan Maria" -> all "jan maria", first "jan", initial "j"; "J.M." or
//    "J. M." -> initial "j" only (no first given name, no full given names); a hyphenated
//    given name is one name ("Jan-Willem" -> "janwillem").
//
// The phonetic code (`DutchPhonetic`) is our own, documented in its comment below.
//
// Thread-safety: `Normaliser` is thread-safe (the ICU transliterators, which are not, are
// behind a mutex). The free functions are pure.
#ifndef SAMENZICHT_AGENCY_NODE_NORMALISE_H_
#define SAMENZICHT_AGENCY_NODE_NORMALISE_H_

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "agency_node/person.h"

namespace samenzicht::agency_node {

struct Surname {
  std::string core;         // prefixes dropped: "berg", "jansen-vries"
  std::string with_prefix;  // prefixes in front, in the order written: "van der berg"
  std::string phonetic;     // DutchPhonetic of the core letters
  std::string sorted_letters;  // the letters of the phonetic's input, sorted: a typo
                               // that swaps two letters ("Evrmeulen") keeps it
};

struct GivenNames {
  std::string all;          // every given name, "" when any was an initial
  std::string first;        // the first given name, "" when it was an initial
  std::string initial;      // first letter of the first given name
  std::string phonetic;     // DutchPhonetic of CanonicalGivenName(`first`), "" when no
                            // first name: "Kees" = "Cornelis", "Serhii" = "Sergei"
};

class Normaliser {
 public:
  // Internal if ICU cannot build its transliterators (missing ICU data).
  static absl::StatusOr<std::unique_ptr<Normaliser>> New();
  ~Normaliser();

  // Unicode text -> lower-case ASCII. Letters, digits, spaces, apostrophes, hyphens,
  // commas and periods survive; every other character becomes a space.
  // ASCII and the precomposed Latin letters U+00C0..U+024F (é, ö, ş, ł, ț...) take a
  // table path without ICU: the table is FoldWithIcu of each such code point alone, built
  // in New(); bench/perf/ascii_fold_check proves Fold = FoldWithIcu for every one of them
  // alone and next to every other and every ASCII character.
  std::string Fold(std::string_view utf8) const;

  // Fold through the ICU transliterators only (no fast path): the reference for the check.
  std::string FoldWithIcu(std::string_view utf8) const;

  // InvalidArgument (message without the value) when no letter is left, or when the field
  // is a placeholder for an unknown name ("Onbekend", "N.N.", "Anoniem", "X"; for given
  // names also "Baby", "Meisje", "Jongen", "Cliënt"): such a field is treated as missing.
  absl::StatusOr<Surname> NormaliseSurname(std::string_view utf8) const;
  absl::StatusOr<GivenNames> NormaliseGivenNames(std::string_view utf8) const;
  // A place name: folded, letters only ("'s-Hertogenbosch" -> "shertogenbosch", "Den Haag"
  // -> "denhaag"). InvalidArgument (message without the value) when no letter is left.
  absl::StatusOr<std::string> NormaliseCity(std::string_view utf8) const;

 private:
  struct Icu;  // the ICU transliterators; keeps ICU headers out of this one
  explicit Normaliser(std::unique_ptr<Icu> icu);
  mutable std::mutex mu_;
  const std::unique_ptr<Icu> icu_;  // transliterators guarded by mu_
};

// True for a Dutch (or common foreign) surname prefix word after folding: "van", "de",
// "der", "den", "ten", "ter", "te", "het", "'t", "in", "op", "uit", "aan", "bij", "onder",
// "over", "voor", "von", "vom", "zu", "zum", "zur", "del", "della", "di", "da", "du", "dos",
// "das", "le", "la", "les", "el", "al".
bool IsSurnamePrefix(std::string_view word);

// The representative of a folded first given name's group of call names, diminutives and
// transliterations ("kees" -> "cornelis", "jan" -> "johannes", "serhii" -> "sergei",
// "aicha" -> "aisha", "kasia" -> "catharina"); the name itself when it is in no group.
std::string CanonicalGivenName(std::string_view first);

// A phonetic code for Dutch and the names Dutch agencies meet; input is folded ASCII
// (anything but a-z is ignored). Steps:
//  1. digraphs first: "sch" -> S+G ("s" at the end: "Bosch" = "Bos"); "ch", "kh", "gh" ->
//     G (Dutch "ch" and Arabic "kh" are the same guttural); "ph" -> F; "th" -> T;
//     "sh", "sz", "sj" -> S; "tsch", "tch", "tsj", "cz" -> G, like "ch", so "Shevchenko" =
//     "Szewczenko" = "Sjevtsjenko"; "ck" -> K; "qu" -> K+F; "dt" -> T; "x" -> K+S;
//  2. single letters to classes: b,p -> P; f,v,w -> F; d,t -> T; g -> G; k,q,c (hard) -> K;
//     c before e/i/y, s, z -> S; l -> L; m -> M; n -> N; r -> R; h -> nothing;
//  3. "j" and "y" are consonant J only at the start of the name before a vowel ("Jansen" =
//     "Yansen", "Yusuf" = "Joesoef"); elsewhere they are vowels, so "ij", "ei", "ey", "y"
//     are one sound ("Meijer" = "Meyer" = "Meier", "Dijkstra" = "Dykstra");
//  4. vowels are dropped, except that a name starting with a vowel sound starts with "A"
//     ("IJzerman" = "Yzerman" = "Eizerman");
//  5. repeated classes collapse ("Janssen" = "Jansen" -> "JNSN"; "Mohammed" = "Mohamed" =
//     "Muhammad" -> "MT"); the code is cut at 8 symbols.
// Deliberately coarse: it is only used together with a first initial and a full date of
// birth (see the linkage profile).
std::string DutchPhonetic(std::string_view folded);

// A calendar date.
struct Date {
  int year = 0, month = 0, day = 0;
  bool operator==(const Date&) const = default;
  bool operator<(const Date& o) const {
    return year != o.year ? year < o.year : month != o.month ? month < o.month : day < o.day;
  }
};

// Today's date in local time.
Date Today();

// Parses `YYYY-MM-DD` (also with `/` or `.`), `D-M-YYYY` / `DD-MM-YYYY` (`-`, `/` or `.`),
// `D-M-YY`, and eight digits `YYYYMMDD` or `DDMMYYYY` (never both readable: see the code);
// a time of day after the date (" 00:00", "T00:00:00Z") is ignored. A two-digit year is
// 20YY unless that date would be after `today`, then 19YY (a person seen today with
// "3-4-15" was born in 2015, with "3-4-87" in 1987).
// InvalidArgument (message without the value) for anything else, an impossible date
// (31-02, month 13), a date before 1900-01-01 or after `today`.
absl::StatusOr<Date> ParseDate(std::string_view text, const Date& today);

// A BSN: digits with optional spaces, dots or dashes; 8 digits get a leading zero; 9
// digits that pass the eleven-test (9*d1 + 8*d2 + ... + 2*d8 - d9 = 0 mod 11) and are not
// all zero. Returns the 9 digits. InvalidArgument otherwise.
absl::StatusOr<std::string> NormaliseBsn(std::string_view text);
bool PassesElevenTest(std::string_view nine_digits);

// A phone number of any country to its E.164 form "+<country><number>" (Debian's
// libphonenumber parses it; a number without a country code is read as Dutch). Dutch
// numbers ("06 1234 5678", "+31 6 12345678", "0031 (0)6-12345678", "050-1234567") become
// "+31" and 9 digits; "+32 470 12 34 56" (Belgium), "0049 171 1234567" (Germany) keep their
// country. InvalidArgument for anything libphonenumber does not accept as a possible number
// of its country (letters, too short, too long).
absl::StatusOr<std::string> NormalisePhone(std::string_view text);

// Trimmed and lower-cased; exactly one "@" with text on both sides, a dot in the domain,
// no whitespace. InvalidArgument otherwise.
absl::StatusOr<std::string> NormaliseEmail(std::string_view text);

// A postcode of any country as an opaque code: letters upper-cased, spaces, dots and dashes
// removed, and a leading country prefix ("B-2000", "D-47533", "NL-9711 AB", "L-1234")
// dropped, so "9711 ab" -> "9711AB", "B-2000" -> "2000", "SW1A 1AA" -> "SW1A1AA". A foreign
// postcode is never dropped for not being Dutch. InvalidArgument when, after that, fewer
// than 3 or more than 10 characters are left, no digit is among them, or a character other
// than a letter, digit, space, dot or dash occurs.
absl::StatusOr<std::string> NormalisePostcode(std::string_view text);

// "12 a", "12-A", "12a" -> "12A": a number of 1 to 5 digits (not starting with 0) and an
// optional suffix of letters or digits. InvalidArgument otherwise.
absl::StatusOr<std::string> NormaliseHouseNumber(std::string_view text);

// The deletion neighbourhood of `s`: `s` itself and every string with one character of `s`
// deleted, sorted and without repeats. Two strings within one edit of each other
// (insertion, deletion, substitution, or transposition of two neighbours) share at least one
// member. Strings shorter than 4 characters yield only themselves (their deletions would be
// one or two letters), and so do strings longer than model::kMaxDeletionNeighbourhoodLength
// (40), so a rule never yields more tokens than the aggregator accepts.
std::vector<std::string> DeletionNeighbourhood(std::string_view s);

// Joins a first given name and a surname in the base of FIELD_NAME_DELETIONS.
inline constexpr char kNameJoiner = '\x1f';

// The deletion-neighbourhood pairs of a first given name and a surname (joined by
// kNameJoiner): every (g, s) with g in DeletionNeighbourhood(given) and s in
// DeletionNeighbourhood(surname), each as g + separator + s, sorted. Two records whose given
// names are within one edit and whose surnames are within one edit share at least one pair.
// When the pairs would exceed model::kMaxTokensPerMultiValuedRule, only those with at most
// one of the two names shortened are kept (one edit in either name). Empty when either name is.
std::vector<std::string> NameDeletionPairs(std::string_view joined);

// Fills the fields of `p` that are functions of its other fields (profile version 4):
// FIELD_NAME_PAIR_PHONETIC from the two phonetic codes, FIELD_DOB_YEAR_MONTH and
// FIELD_DOB_YEAR_DAY from FIELD_DATE_OF_BIRTH, FIELD_POSTCODE_AREA from FIELD_POSTCODE,
// FIELD_CITY_PHONETIC from FIELD_CITY, and the bases of the multi-valued fields
// (FIELD_SURNAME_DELETIONS = the surname, FIELD_GIVEN_NAME_DELETIONS = the first given name,
// FIELD_POSTCODE_DELETIONS = the postcode (version 5), FIELD_NAME_DELETIONS = first given
// name and surname joined by kNameJoiner (version 6); the tokeniser expands them with
// `DeletionNeighbourhood` and `NameDeletionPairs`). Fields whose inputs are absent
// stay absent.
void DeriveLinkageFields(Person* p);

}  // namespace samenzicht::agency_node

#endif  // SAMENZICHT_AGENCY_NODE_NORMALISE_H_
