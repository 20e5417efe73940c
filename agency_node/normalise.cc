#include "agency_node/normalise.h"

#include <unicode/translit.h>
#include <unicode/uniset.h>
#include <unicode/unistr.h>
#include <unicode/utypes.h>

#include <algorithm>
#include <optional>
#include <span>
#include <string>
#include <ctime>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "model/config.h"
#include "phonenumbers/phonenumber.pb.h"
#include "phonenumbers/phonenumberutil.h"

namespace samenzicht::agency_node {
namespace {

bool IsVowel(char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The letters (a-z) of folded text, in order: "'s-Hertogenbosch" -> "shertogenbosch".
std::string LettersOf(std::string_view folded) {
  std::string out;
  for (char c : folded) {
    if (IsLower(c)) out.push_back(c);
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// The words of a surname in one character buffer, reused between calls (one per thread):
// no allocation per word or per name once grown.
struct SurnameWords {
  struct Word {
    uint32_t begin, size;
    bool prefix;  // IsSurnamePrefix
  };
  std::string text;
  std::vector<Word> words;

  std::string_view View(const Word& w) const {
    return std::string_view(text).substr(w.begin, w.size);
  }
  void Add(std::string_view w) {
    words.push_back({static_cast<uint32_t>(text.size()), static_cast<uint32_t>(w.size()),
                     IsSurnamePrefix(w)});
    text.append(w);
  }
  // The characters appended since `begin` become a word.
  void EndWord(size_t begin) {
    words.push_back({static_cast<uint32_t>(begin), static_cast<uint32_t>(text.size() - begin),
                     IsSurnamePrefix(std::string_view(text).substr(begin))});
  }
};

// Surname words after abbreviation expansion. "'t" is kept as a word; other apostrophes
// and periods are dropped ("O'Brien" -> "obrien").
void AppendSurnameWords(std::string_view raw, SurnameWords* out) {
  static constexpr struct {
    std::string_view abbr, first, second;  // second "" for one word
  } kAbbrev[] = {
      {"v.d.", "van", "der"}, {"v.d", "van", "der"},   {"vd", "van", "der"},
      {"v.d.r.", "van", "der"}, {"vdr", "van", "der"}, {"v.", "van", ""},
      {"v", "van", ""},       {"in't", "in", "'t"},    {"int'", "in", "'t"},
      {"'t", "'t", ""},       {"t'", "'t", ""},        {"v.den", "van", "den"},
      {"v.der", "van", "der"}, {"v.de", "van", "de"},
  };
  for (const auto& a : kAbbrev) {
    if (raw == a.abbr) {
      out->Add(a.first);
      if (!a.second.empty()) out->Add(a.second);
      return;
    }
  }
  // "v.d.berg": an abbreviation glued to the name.
  if (raw.substr(0, 4) == "v.d." && raw.size() > 4) {
    out->Add("van");
    out->Add("der");
    AppendSurnameWords(raw.substr(4), out);
    return;
  }
  size_t begin = out->text.size();
  for (char c : raw) {
    if (IsLower(c) || IsDigit(c)) {
      out->text.push_back(c);
    } else if (c == '.' && out->text.size() > begin) {
      out->EndWord(begin);
      begin = out->text.size();
    }
  }
  if (out->text.size() > begin) out->EndWord(begin);
}

// Calls `f` with each piece of `s` between separators (any of `seps`), dropping empty ones.
template <typename F>
void ForEachPiece(std::string_view s, std::string_view seps, F f) {
  size_t begin = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || seps.find(s[i]) != std::string_view::npos) {
      if (i > begin) f(s.substr(begin, i - begin));
      begin = i + 1;
    }
  }
}

// The Arabic article written together with the name ("Elamrani", "Alahmad", and
// "al'hmd" from Arabic script) is dropped for the phonetic code, as it is when written
// apart ("El Amrani" -> "amrani"). Only with at least four letters left, so "Elsen" stays.
// Dutch names that start with "el"/"al" ("Elbers", "Alders") lose it on every side alike.
std::string_view WithoutGluedArticle(std::string_view letters) {
  if (letters.size() >= 6 && (letters.substr(0, 2) == "al" || letters.substr(0, 2) == "el")) {
    return letters.substr(2);
  }
  return letters;
}

// Call names, diminutives and spelling/transliteration variants of given names that Dutch
// agencies meet, each group to one representative. Used for the given-name phonetic code
// only (FIELD_GIVEN_NAME_PHONETIC), so "Kees" and "Cornelis", "Serhii" and "Sergei",
// "Aicha" and "Aisha" give the same code; the first given name and the initial stay as
// written. Sources: common Dutch roepnamen of Catholic/Protestant baptismal names; Polish,
// Ukrainian/Russian and Bulgarian diminutives and transliterations; French (Maghreb) and
// English transliterations of Arabic names; Turkish forms. Groups are kept apart when the
// call name is used for several formal names (Bert, Toos, Sasha for women).
const std::vector<std::vector<const char*>>& GivenNameGroups() {
  static const auto* groups = new std::vector<std::vector<const char*>>{
      // Dutch
      {"johannes", "jan", "hans", "johan", "hannes", "jannes", "joop"},
      {"cornelis", "kees", "cees", "cor", "cornelius", "neeltje"},
      {"jacobus", "koos", "jaap", "sjaak", "jacob", "jakob", "jakub", "kuba", "cobus"},
      {"hendrik", "henk", "hendrikus", "henricus", "hein", "henri"},
      {"pieter", "piet", "petrus", "peter"},
      {"nicolaas", "klaas", "nico", "niek", "claas"},
      {"wilhelmus", "willem", "wim", "pim", "wil", "willy"},
      {"gerardus", "gerrit", "gerard", "gert", "geert", "ger"},
      {"adrianus", "arie", "adriaan", "aad", "janus"},
      {"antonius", "anton", "antoon", "toon", "ton", "teun", "tonny"},
      {"franciscus", "frans", "cis"},
      {"josephus", "jozef", "josef", "joseph", "sjef", "jos", "joep"},
      {"bartholomeus", "bart", "bartlomiej", "bartek"},
      {"hermanus", "herman", "manus"},
      {"martinus", "tinus", "maarten", "martijn"},
      {"gijsbertus", "gijs", "gijsbert"},
      {"everardus", "evert"},
      {"theodorus", "theo", "dorus"},
      {"maria", "marie", "mies", "ria", "mieke", "marieke", "mariia", "mariya", "marija"},
      {"elisabeth", "elizabeth", "lies", "liesbeth", "lisa", "liza", "els", "bep", "betty",
       "ilse", "elise", "elzbieta", "ela"},
      {"catharina", "katharina", "catherine", "katrien", "catrien", "karin", "katarina", "kitty",
       "trijntje", "cato", "kateryna", "ekaterina", "katerina", "katya", "yekaterina",
       "katarzyna", "kasia"},
      {"geertruida", "truus", "trudy", "truida"},
      {"johanna", "hanneke", "joke", "janneke", "jannie"},
      {"margaretha", "margriet", "margreet", "greet", "grietje", "greta", "gretha"},
      {"wilhelmina", "mina", "wilma", "willemien"},
      // Arabic, Turkish (French, English and Dutch transliterations)
      {"mohamed", "mo", "momo", "mohammed", "muhammad", "mohammad", "mohamad", "mehmet"},
      {"abdelkader", "kader", "abdulkadir", "abdelkadir"},
      {"aisha", "aicha", "aischa", "ayesha", "aysha", "ayse", "aiesha"},
      {"anwar", "anouar", "anuar", "enver"},
      {"othman", "osman", "usman", "uthman", "otman", "outman"},
      {"youssef", "yusuf", "youssouf", "yousef", "joesoef", "yousouf", "youcef"},
      {"ibrahim", "brahim", "ebrahim", "ibrahiem"},
      {"hicham", "hisham", "hichem"},
      {"rachid", "rashid", "rachied", "rasjid"},
      {"chaima", "shaima", "shayma", "chayma"},
      {"khadija", "khadidja", "chadija", "hadija", "hatice"},
      {"fatima", "fatma", "fadma"},
      {"mustafa", "mostafa", "moustafa", "mustapha", "mostapha"},
      {"omar", "umar", "omer", "oumar"},
      {"abdullah", "abdallah", "abdellah", "abdulla"},
      {"said", "saeed", "saied"},
      {"nour", "noor", "nur"},
      {"chantal", "shantal", "shantall"},
      {"hamza", "hamsa"},
      {"yassin", "yassine", "yasin"},
      {"zakaria", "zakariya", "zakariyya", "zacharia"},
      // Ukrainian, Russian, Bulgarian, Polish (transliterations and diminutives)
      {"aleksandr", "oleksandr", "alexander", "aleksander", "alexandr", "sasha", "sascha",
       "olek", "aleks", "sanya", "alexandru"},
      {"aleksandra", "oleksandra", "alexandra", "ola", "olenka"},
      {"sergei", "serhii", "serhiy", "sergii", "sergiy", "sergey", "sergej", "serhey", "serghei"},
      {"olga", "olha", "olya", "olia"},
      {"mykola", "nikolai", "nikolay", "mikola", "kolya", "mikolaj", "nicolae"},
      {"volodymyr", "vladimir", "volodya", "wladimir", "wlodzimierz", "vova"},
      {"dmytro", "dmitri", "dmitry", "dmitrii", "dima", "dmitrij", "dimitar", "mitko", "dimitri"},
      {"andrii", "andriy", "andrei", "andrey", "andrej", "andrzej"},
      {"yurii", "yuri", "yuriy", "jurij", "juri", "yura"},
      {"mykhailo", "mikhail", "michail", "misha", "mychajlo", "mykhaylo"},
      {"oleksii", "aleksei", "alexei", "alexey", "oleksiy", "olexiy", "alyosha", "aleksey"},
      {"ivan", "vanya"},
      {"tetiana", "tatiana", "tatyana", "tanya", "tetyana", "tatjana"},
      {"nataliia", "natalia", "natalya", "nataliya", "natasha", "natalja"},
      {"yuliia", "yulia", "yuliya", "iuliia"},
      {"iryna", "irina", "ira"},
      {"hryhorii", "grigorii", "grigory", "hryhoriy", "grigori"},
      {"hristo", "christo", "hristos", "christos"},
      {"heorhii", "georgi", "georgiy", "georgii", "heorhiy"},
      {"yevhen", "evgeny", "yevgeny", "evgeni", "jevgeni", "zhenya", "yevheniy", "yevhenii"},
      {"svitlana", "svetlana", "sveta"},
      {"liudmyla", "lyudmila", "ludmila", "luda", "ludmyla"},
      {"viktoriia", "viktoria", "victoria", "vika", "viktoriya"},
      {"anastasiia", "anastasia", "nastya", "anastasiya"},
      {"malgorzata", "gosia", "malgosia"},
      {"barbara", "basia"},
      {"joanna", "asia"},
      {"wojciech", "wojtek"},
      {"tomasz", "tomek"},
      {"magdalena", "magda", "madzia"},
      {"krzysztof", "krzys"},
  };
  return *groups;
}

// Name -> representative; views of the literals above (first group wins for a name in two).
const absl::flat_hash_map<std::string_view, std::string_view>& GivenNameCanon() {
  static const auto* canon = [] {
    auto* m = new absl::flat_hash_map<std::string_view, std::string_view>;
    for (const auto& g : GivenNameGroups()) {
      for (const char* name : g) m->emplace(name, g[0]);
    }
    return m;
  }();
  return *canon;
}

std::string_view CanonicalGivenNameView(std::string_view first) {
  const auto& canon = GivenNameCanon();
  auto it = canon.find(first);
  return it == canon.end() ? first : it->second;
}

}  // namespace

std::string CanonicalGivenName(std::string_view first) {
  return std::string(CanonicalGivenNameView(first));
}

bool IsSurnamePrefix(std::string_view w) {
  static constexpr std::string_view kPrefixes[] = {
      "van", "de",  "der", "den", "ten", "ter", "te",  "het",  "'t",    "in",   "op",  "uit",
      "aan", "bij", "onder", "over", "voor", "von", "vom", "zu", "zum", "zur", "del", "della",
      "di",  "da",  "du",  "dos", "das", "le",  "la",  "les",  "el",    "al"};
  for (std::string_view p : kPrefixes) {
    if (w == p) return true;  // compares sizes first
  }
  return false;
}

namespace {

// Words case systems put where a name is unknown ("Onbekend", "N.N.", "Anoniem", "Baby",
// "Cliënt", "X"), compared on the field's letters only, folded. Such a field is not a
// name: two records that both hold "Onbekend" say nothing about being one person, and a
// record whose name is unknown must not be linked by it. Record-linkage practice replaces
// these values by missing before comparing; pseudopeople's "fake name" error writes them.
// Given names and surnames have their own lists: "Jongen" and "Zoon" are placeholders for a
// child's given name, not surnames to drop.
bool PlaceholderName(std::string_view folded, bool given) {
  const std::string letters = LettersOf(folded);
  static constexpr std::string_view kBoth[] = {"onbekend", "onbekende", "unknown", "nn",
                                               "anoniem",  "anonymous", "test",    "x",
                                               "xx",       "xxx",       "nomennescio"};
  static constexpr std::string_view kGiven[] = {"voornaam", "baby",    "meisje", "jongen",
                                                "zoon",     "dochter", "client", "kind"};
  static constexpr std::string_view kSurname[] = {"achternaam"};
  for (std::string_view w : kBoth) {
    if (letters == w) return true;
  }
  for (std::string_view w : given ? std::span<const std::string_view>(kGiven)
                                  : std::span<const std::string_view>(kSurname)) {
    if (letters == w) return true;
  }
  return false;
}

}  // namespace

namespace {

// Fold's table path covers U+00C0..U+024F (Latin-1 Supplement letters, Latin Extended-A
// and -B). ×, ÷ and the rest are in it too: whatever ICU makes of them alone.
constexpr uint32_t kLatinFirst = 0xC0, kLatinEnd = 0x250;

struct LatinFold {
  bool handled = false;  // false: ICU's output does not fit `text`; Fold uses ICU
  uint8_t size = 0;
  char text[4] = {};
};

}  // namespace

struct Normaliser::Icu {
  std::unique_ptr<icu::Transliterator> cyrillic;
  std::unique_ptr<icu::Transliterator> latin;
  LatinFold latin_table[kLatinEnd - kLatinFirst];  // FoldWithIcu of each code point alone
};

Normaliser::Normaliser(std::unique_ptr<Icu> icu) : icu_(std::move(icu)) {}

Normaliser::~Normaliser() = default;

absl::StatusOr<std::unique_ptr<Normaliser>> Normaliser::New() {
  UErrorCode status = U_ZERO_ERROR;
  UParseError perr;
  // Cyrillic first, with a romanisation that gives the spellings Dutch and English
  // documents use ("Shevchenko", not ISO 9 "Ševčenko"); the filter keeps it off other
  // scripts (it would turn an apostrophe into a quote mark).
  std::unique_ptr<icu::Transliterator> cyr(icu::Transliterator::createInstance(
      icu::UnicodeString::fromUTF8("Ukrainian-Latin/BGN"), UTRANS_FORWARD, perr, status));
  if (U_FAILURE(status) || cyr == nullptr) {
    return absl::InternalError(std::string("ICU: cannot create the Cyrillic transliterator: ") +
                               u_errorName(status));
  }
  status = U_ZERO_ERROR;
  auto* filter = new icu::UnicodeSet(icu::UnicodeString::fromUTF8("[:Cyrillic:]"), status);
  if (U_FAILURE(status)) {
    delete filter;
    return absl::InternalError(std::string("ICU: bad filter: ") + u_errorName(status));
  }
  cyr->adoptFilter(filter);
  status = U_ZERO_ERROR;
  std::unique_ptr<icu::Transliterator> latin(icu::Transliterator::createInstance(
      icu::UnicodeString::fromUTF8("NFKC; Any-Latin; Latin-ASCII; Lower"), UTRANS_FORWARD, perr,
      status));
  if (U_FAILURE(status) || latin == nullptr) {
    return absl::InternalError(std::string("ICU: cannot create the Latin transliterator: ") +
                               u_errorName(status));
  }
  auto icu = std::make_unique<Icu>();
  icu->cyrillic = std::move(cyr);
  icu->latin = std::move(latin);
  auto normaliser = std::unique_ptr<Normaliser>(new Normaliser(std::move(icu)));
  for (uint32_t cp = kLatinFirst; cp < kLatinEnd; ++cp) {
    const char utf8[2] = {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
    const std::string folded = normaliser->FoldWithIcu(std::string_view(utf8, 2));
    LatinFold& f = normaliser->icu_->latin_table[cp - kLatinFirst];
    if (folded.size() > sizeof f.text) continue;
    f.handled = true;
    f.size = static_cast<uint8_t>(folded.size());
    folded.copy(f.text, folded.size());
  }
  return normaliser;
}

namespace {

// One character of a folded string, as Fold keeps it: lower-case letters, digits and
// apostrophes, hyphens, commas and periods; upper case lowered; anything else a space.
char FoldedAscii(unsigned char c) {
  if (IsLower(c) || IsDigit(c) || c == '\'' || c == '-' || c == ',' || c == '.') return c;
  if (c >= 'A' && c <= 'Z') return static_cast<char>(c - 'A' + 'a');
  return ' ';
}

}  // namespace

std::string Normaliser::Fold(std::string_view utf8) const {
  // Plain ASCII (most records) and precomposed Latin letters (most of the rest: Polish,
  // Turkish, Romanian, French names) skip ICU and its lock (ICU was ~30%, then
  // 14%, of the normalisation time). The same output as FoldWithIcu for every ASCII
  // character and every code point of the table (bench/perf/ascii_fold_check.cc).
  std::string out;
  out.reserve(utf8.size());
  const auto* s = reinterpret_cast<const unsigned char*>(utf8.data());
  const size_t n = utf8.size();
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      out.push_back(FoldedAscii(c == '`' ? '\'' : c));  // the one ASCII apostrophe look-alike
      continue;
    }
    // A two-byte sequence of U+00C0..U+024F (lead bytes C3..C9) in the table.
    if (c >= 0xC3 && c <= 0xC9 && i + 1 < n && (s[i + 1] & 0xC0) == 0x80) {
      const uint32_t cp = (uint32_t{c & 0x1Fu} << 6) | (s[i + 1] & 0x3Fu);
      if (cp >= kLatinFirst && cp < kLatinEnd) {
        const LatinFold& f = icu_->latin_table[cp - kLatinFirst];
        if (f.handled) {
          out.append(f.text, f.size);
          ++i;
          continue;
        }
      }
    }
    return FoldWithIcu(utf8);
  }
  return out;
}

std::string Normaliser::FoldWithIcu(std::string_view utf8) const {
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(utf8.data(), utf8.size()));
  // Apostrophe look-alikes, so "in ’t Veld" = "in 't Veld".
  static const UChar kApostrophes[] = {0x2018, 0x2019, 0x02BC, 0x0060, 0x00B4, 0x2032};
  for (UChar a : kApostrophes) u.findAndReplace(icu::UnicodeString(a), icu::UnicodeString('\''));
  {
    std::lock_guard<std::mutex> lock(mu_);
    icu_->cyrillic->transliterate(u);
    icu_->latin->transliterate(u);
  }
  std::string s;
  u.toUTF8String(s);
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c >= 0x80) continue;  // a letter Latin-ASCII could not map: dropped
    out.push_back(FoldedAscii(c));
  }
  return out;
}

absl::StatusOr<std::string> Normaliser::NormaliseCity(std::string_view utf8) const {
  std::string out = LettersOf(Fold(utf8));
  if (out.empty()) return absl::InvalidArgumentError("no letters in the place name");
  return out;
}

absl::StatusOr<Surname> Normaliser::NormaliseSurname(std::string_view utf8) const {
  const std::string folded = Fold(utf8);
  if (PlaceholderName(folded, /*given=*/false)) {
    return absl::InvalidArgumentError("the surname is a placeholder for an unknown name");
  }
  // Parts of a double surname ("-"), each a range of words ("," and " " between words).
  thread_local SurnameWords sw;
  thread_local std::vector<std::pair<size_t, size_t>> parts, merged;
  sw.text.clear();
  sw.words.clear();
  parts.clear();
  merged.clear();
  ForEachPiece(folded, "-", [&](std::string_view part) {
    const size_t first = sw.words.size();
    ForEachPiece(part, " ,", [&](std::string_view raw) { AppendSurnameWords(raw, &sw); });
    if (sw.words.size() > first) parts.emplace_back(first, sw.words.size());
  });
  auto all_prefix = [&](size_t b, size_t e) {
    for (size_t k = b; k < e; ++k) {
      if (!sw.words[k].prefix) return false;
    }
    return true;
  };
  // A part made only of prefixes ("Al-" in "Al-Sayed") belongs to the next part, or to the
  // previous one when it is last. Parts are consecutive ranges of words, so a merged part
  // is one too: from the first carried part to the end of the part that takes them.
  size_t carry_begin = 0;  // the carried prefix-only parts start here
  for (const auto& [b, e] : parts) {
    if (all_prefix(b, e)) continue;
    merged.emplace_back(carry_begin, e);
    carry_begin = e;
  }
  const size_t total = sw.words.size();
  if (carry_begin < total) {
    if (merged.empty()) merged.emplace_back(carry_begin, total);  // only prefixes: a name anyway
    else merged.back().second = total;
  }
  Surname out;
  std::string letters;
  for (size_t m = 0; m < merged.size(); ++m) {
    const auto [b, e] = merged[m];
    const bool only_prefix = all_prefix(b, e);
    if (m > 0) {
      out.core.push_back('-');
      out.with_prefix.push_back('-');
    }
    // core: the words that are not prefixes (all of them when all are), joined by " ";
    // with prefix: the prefixes in the order written, then the core.
    const size_t core_start = out.core.size();
    bool first_core = true, first_prefix = true;
    for (size_t k = b; k < e; ++k) {
      const std::string_view w = sw.View(sw.words[k]);
      if (!only_prefix && sw.words[k].prefix) {
        if (!first_prefix) out.with_prefix.push_back(' ');
        out.with_prefix.append(w);
        first_prefix = false;
      } else {
        if (!first_core) out.core.push_back(' ');
        out.core.append(w);
        first_core = false;
        for (char c : w) {
          if (IsLower(c)) letters.push_back(c);
        }
      }
    }
    if (!first_prefix) out.with_prefix.push_back(' ');
    out.with_prefix.append(out.core, core_start, std::string::npos);
  }
  if (letters.empty()) return absl::InvalidArgumentError("no letters in the surname");
  const std::string_view phonetic_input = WithoutGluedArticle(letters);
  out.phonetic = DutchPhonetic(phonetic_input);
  out.sorted_letters = std::string(phonetic_input);
  std::sort(out.sorted_letters.begin(), out.sorted_letters.end());
  return out;
}

absl::StatusOr<GivenNames> Normaliser::NormaliseGivenNames(std::string_view utf8) const {
  const std::string folded = Fold(utf8);
  if (PlaceholderName(folded, /*given=*/true)) {
    return absl::InvalidArgumentError("the given names are a placeholder for an unknown name");
  }
  // Every name's letters, joined by " ", built straight into `all`: "J.M." -> "j." "m.";
  // "Joh." -> "joh." (an abbreviation); "Jan-Willem" -> "janwillem". A name of one letter
  // or ended by a period is abbreviated.
  GivenNames out;
  std::string& all = out.all;
  size_t names = 0, first_size = 0;
  bool first_abbreviated = false, any_abbreviated = false;
  size_t begin = 0;  // of the current name in `all`
  auto end_name = [&](bool abbreviated) {
    const size_t size = all.size() - begin;
    abbreviated |= size == 1;
    if (names == 0) {
      first_size = size;
      first_abbreviated = abbreviated;
    }
    any_abbreviated |= abbreviated;
    ++names;
    all.push_back(' ');
    begin = all.size();
  };
  ForEachPiece(folded, " ,", [&](std::string_view raw) {
    for (char c : raw) {
      if (IsLower(c)) {
        all.push_back(c);
      } else if (c == '.' && all.size() > begin) {
        end_name(true);
      }
    }
    if (all.size() > begin) end_name(false);
  });
  if (names == 0) return absl::InvalidArgumentError("no letters in the given names");
  all.pop_back();  // the space after the last name
  out.initial = all.substr(0, 1);
  if (!first_abbreviated) {
    out.first = all.substr(0, first_size);
    out.phonetic = DutchPhonetic(CanonicalGivenNameView(out.first));
  }
  if (any_abbreviated) all.clear();
  return out;
}

std::string DutchPhonetic(std::string_view folded) {
  thread_local std::string letters;  // reused: no allocation per call once grown
  letters.clear();
  for (char c : folded) {
    if (IsLower(c)) letters.push_back(c);
  }
  const std::string_view w = letters;
  const size_t n = w.size();
  std::string code;
  // No reserve(16): past std::string's inline capacity (15) it allocated on every call;
  // codes are cut at 8 symbols below, so most never outgrow it.
  bool started = false;
  auto at = [&](size_t i) { return i < n ? w[i] : '\0'; };
  auto has = [&](size_t i, std::string_view s) { return w.substr(i, s.size()) == s; };
  auto emit = [&](std::string_view symbols) {
    for (char s : symbols) {
      if (code.empty() || code.back() != s) code.push_back(s);
    }
    started = true;
  };
  auto vowel = [&]() {
    if (!started) emit("A");
  };
  size_t i = 0;
  while (i < n) {
    char c = w[i];
    // Every digraph below starts with one of these letters: other letters skip the checks.
    const bool may_start_digraph = c == 't' || c == 's' || c == 'c' || c == 'k' || c == 'g' ||
                                   c == 'p' || c == 'd' || c == 'w' || c == 'q';
    if (may_start_digraph) {
      if (has(i, "tsch")) { emit("G"); i += 4; continue; }
      if (has(i, "sch")) { emit(i + 3 == n ? "S" : "SG"); i += 3; continue; }
      if (has(i, "tsj") || has(i, "tch")) { emit("G"); i += 3; continue; }
      if (has(i, "ch") || has(i, "kh") || has(i, "gh") || has(i, "cz")) { emit("G"); i += 2; continue; }
      if (has(i, "ph")) { emit("F"); i += 2; continue; }
      if (has(i, "th") || has(i, "dt")) { emit("T"); i += 2; continue; }
      if (has(i, "sh") || has(i, "sz") || has(i, "sj")) { emit("S"); i += 2; continue; }
      if (has(i, "ck")) { emit("K"); i += 2; continue; }
      // "dj" is the j of Indonesian/Surinamese and French-Maghrebi spellings:
      // "Kromodimedjo" = "Kromodimejo", "Djamila" = "Jamila".
      if (has(i, "dj")) { ++i; continue; }
      // "uw" in "ouw", "auw", "uw" is a vowel: "Bouwman" = "Bouman".
      if (c == 'w' && i > 0 && w[i - 1] == 'u') { ++i; continue; }
      if (has(i, "qu")) { emit("KF"); i += 2; continue; }
    }
    switch (c) {
      case 'a': case 'e': case 'i': case 'o': case 'u':
        vowel();
        break;
      case 'j': case 'y':
        if ((i == 0 || (i == 1 && w[0] == 'd')) && IsVowel(at(i + 1))) emit("J");
        else vowel();
        break;
      case 'h':
        // A name starting with "h" starts with a vowel sound for this code, so a name
        // written without its unwritten vowels ("حسن" -> "hsn") = "Hassan".
        if (i == 0) vowel();
        break;
      case 'b': case 'p': emit("P"); break;
      case 'f': case 'v': case 'w': emit("F"); break;
      case 'd': case 't': emit("T"); break;
      case 'g': emit("G"); break;
      case 'k': case 'q': emit("K"); break;
      case 'c': {
        char nx = at(i + 1);
        emit(nx == 'e' || nx == 'i' || nx == 'y' ? "S" : "K");
        break;
      }
      case 's': case 'z': emit("S"); break;
      case 'x': emit("KS"); break;
      case 'l': emit("L"); break;
      case 'm': emit("M"); break;
      case 'n': emit("N"); break;
      case 'r': emit("R"); break;
      default: break;
    }
    ++i;
  }
  if (code.size() > 8) code.resize(8);
  return code;
}

Date Today() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  return Date{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
}

namespace {

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

bool Valid(const Date& d) {
  return d.month >= 1 && d.month <= 12 && d.day >= 1 && d.day <= DaysInMonth(d.year, d.month);
}

}  // namespace

namespace {

// The date part of "2005-03-12 00:00", "2005-03-12T00:00:00Z" or "12-3-2005 0:00:00.000"
// (a time of day after a space or 'T', as spreadsheets and databases export dates):
// `text` without the time; `text` itself when there is none; nullopt when what follows
// the date is not a time of day.
std::optional<std::string_view> WithoutTimeOfDay(std::string_view text) {
  const size_t p = text.find_first_of(" T");
  if (p == std::string_view::npos) return text;
  std::string_view rest = Trim(text.substr(p + 1));
  if (!rest.empty() && rest.back() == 'Z') rest.remove_suffix(1);
  if (rest.find(':') == std::string_view::npos || !IsDigit(rest.front())) return std::nullopt;
  for (char c : rest) {
    if (!IsDigit(c) && c != ':' && c != '.') return std::nullopt;
  }
  return Trim(text.substr(0, p));
}

int Digits(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

}  // namespace

absl::StatusOr<Date> ParseDate(std::string_view text, const Date& today) {
  std::optional<std::string_view> date_part = WithoutTimeOfDay(Trim(text));
  if (!date_part) return absl::InvalidArgumentError("not a date");
  text = *date_part;
  // Eight digits without separators: YYYYMMDD, else DDMMYYYY. Never both: a year from 1900
  // on starts with 19 or 20, which as the month of YYYYMMDD's reading is impossible.
  if (text.size() == 8 && std::all_of(text.begin(), text.end(), IsDigit)) {
    Date d{Digits(text.substr(0, 4)), Digits(text.substr(4, 2)), Digits(text.substr(6, 2))};
    if (!Valid(d) || d.year < 1900) {
      d = {Digits(text.substr(4, 4)), Digits(text.substr(2, 2)), Digits(text.substr(0, 2))};
    }
    if (!Valid(d)) return absl::InvalidArgumentError("impossible date");
    if (d.year < 1900) return absl::InvalidArgumentError("date before 1900");
    if (today < d) return absl::InvalidArgumentError("date in the future");
    return d;
  }
  // Groups of digits separated by '-', '/' or '.'; only the first three are kept (more is
  // not a date). A group's value is only used when it has at most 4 digits.
  size_t count = 0, size[3] = {0, 0, 0};
  int value[3] = {0, 0, 0};
  size_t cur_size = 0;
  int cur_value = 0;
  auto end_group = [&] {
    if (count < 3) size[count] = cur_size, value[count] = cur_value;
    ++count;
    cur_size = 0;
    cur_value = 0;
  };
  for (char c : text) {
    if (IsDigit(c)) {
      if (cur_size < 8) cur_value = cur_value * 10 + (c - '0');
      ++cur_size;
    } else if (c == '-' || c == '/' || c == '.') {
      if (cur_size == 0) return absl::InvalidArgumentError("not a date");
      end_group();
    } else {
      return absl::InvalidArgumentError("not a date");
    }
  }
  end_group();
  if (count != 3 || size[2] == 0) return absl::InvalidArgumentError("not a date");
  Date d;
  if (size[0] == 4) {
    if (size[1] > 2 || size[2] > 2) return absl::InvalidArgumentError("not a date");
    d = {value[0], value[1], value[2]};
  } else {
    if (size[0] > 2 || size[1] > 2) return absl::InvalidArgumentError("not a date");
    d.day = value[0];
    d.month = value[1];
    if (size[2] == 4) {
      d.year = value[2];
    } else if (size[2] == 2) {
      int yy = value[2];
      d.year = 2000 + yy;
      if (today < d) d.year = 1900 + yy;
    } else {
      return absl::InvalidArgumentError("not a date");
    }
  }
  if (!Valid(d)) return absl::InvalidArgumentError("impossible date");
  if (d.year < 1900) return absl::InvalidArgumentError("date before 1900");
  if (today < d) return absl::InvalidArgumentError("date in the future");
  return d;
}

bool PassesElevenTest(std::string_view s) {
  if (s.size() != 9) return false;
  int sum = 0;
  bool all_zero = true;
  for (int i = 0; i < 9; ++i) {
    if (!IsDigit(s[i])) return false;
    int d = s[i] - '0';
    all_zero &= d == 0;
    sum += (i < 8 ? 9 - i : -1) * d;
  }
  return !all_zero && sum % 11 == 0;
}

absl::StatusOr<std::string> NormaliseBsn(std::string_view text) {
  std::string digits;
  for (char c : Trim(text)) {
    if (IsDigit(c)) digits.push_back(c);
    else if (c != ' ' && c != '.' && c != '-') return absl::InvalidArgumentError("not a number");
  }
  if (digits.size() == 8) digits.insert(digits.begin(), '0');
  if (digits.size() != 9) return absl::InvalidArgumentError("not 9 digits");
  if (!PassesElevenTest(digits)) return absl::InvalidArgumentError("fails the eleven-test");
  return digits;
}

absl::StatusOr<std::string> NormalisePhone(std::string_view text) {
  using i18n::phonenumbers::PhoneNumber;
  using i18n::phonenumbers::PhoneNumberUtil;
  std::string s(Trim(text));
  if (s.empty()) return absl::InvalidArgumentError("not a phone number");
  // "+31 (0)6 ..." : the trunk zero in parentheses is not dialled from abroad.
  for (size_t p; (p = s.find("(0)")) != std::string::npos;) s.erase(p, 3);
  size_t digits = 0;
  bool plus = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (IsDigit(c)) {
      // A number is dialled with a country code (+, 00) or a trunk zero; "612345678" is
      // not a number anyone writes down whole.
      if (digits++ == 0 && !plus && c != '0') {
        return absl::InvalidArgumentError("not a phone number: no 0, 00 or + prefix");
      }
      continue;
    }
    if (c == '+' && digits == 0 && !plus) plus = true;
    else if (c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')') continue;
    else return absl::InvalidArgumentError("not a phone number");
  }
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  PhoneNumber number;
  if (util.Parse(s, "NL", &number) != PhoneNumberUtil::NO_PARSING_ERROR) {
    return absl::InvalidArgumentError("not a phone number");
  }
  // Valid for its country (length and number range, from the library's metadata), or of
  // the length of its country's mobile or fixed-line numbers: a block allocated after the
  // library's metadata is not dropped.
  std::string national;
  util.GetNationalSignificantNumber(number, &national);
  const bool dutch_length = number.country_code() != 31 || national.size() == 9;
  if (!util.IsValidNumber(number) &&
      !(dutch_length && (util.IsPossibleNumberForType(number, PhoneNumberUtil::MOBILE) ||
                         util.IsPossibleNumberForType(number, PhoneNumberUtil::FIXED_LINE)))) {
    return absl::InvalidArgumentError("not a valid phone number for its country");
  }
  std::string e164;
  util.Format(number, PhoneNumberUtil::E164, &e164);
  return e164;
}

absl::StatusOr<std::string> NormaliseEmail(std::string_view text) {
  std::string s = absl::AsciiStrToLower(std::string(Trim(text)));
  size_t at = s.find('@');
  if (at == std::string::npos || at == 0 || s.find('@', at + 1) != std::string::npos) {
    return absl::InvalidArgumentError("not an e-mail address");
  }
  std::string_view domain = std::string_view(s).substr(at + 1);
  if (domain.size() < 3 || domain.find('.') == std::string::npos || domain.front() == '.' ||
      domain.back() == '.') {
    return absl::InvalidArgumentError("not an e-mail address");
  }
  for (char c : s) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c)) || c == ',' || c == ';') {
      return absl::InvalidArgumentError("not an e-mail address");
    }
  }
  return s;
}

absl::StatusOr<std::string> NormalisePostcode(std::string_view text) {
  std::string_view t = Trim(text);
  // A country prefix: one to three letters and a dash before a digit ("B-2000", "NL-9711").
  {
    size_t i = 0;
    while (i < t.size() && i < 3 && absl::ascii_isalpha(static_cast<unsigned char>(t[i]))) ++i;
    if (i > 0 && i + 1 < t.size() && t[i] == '-' && IsDigit(t[i + 1])) t.remove_prefix(i + 1);
  }
  std::string s;
  bool digit = false;
  for (char c : t) {
    if (c == ' ' || c == '-' || c == '.') continue;
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError("not a postcode");
    }
    digit |= IsDigit(c);
    s.push_back(absl::ascii_toupper(static_cast<unsigned char>(c)));
  }
  if (s.size() < 3 || s.size() > 10 || !digit) return absl::InvalidArgumentError("not a postcode");
  return s;
}

absl::StatusOr<std::string> NormaliseHouseNumber(std::string_view text) {
  std::string s;
  for (char c : Trim(text)) {
    if (c == ' ' || c == '-') continue;
    s.push_back(absl::ascii_toupper(static_cast<unsigned char>(c)));
  }
  size_t i = 0;
  while (i < s.size() && IsDigit(s[i])) ++i;
  if (i == 0 || i > 5 || s[0] == '0' || s.size() - i > 4) {
    return absl::InvalidArgumentError("not a house number");
  }
  for (size_t k = i; k < s.size(); ++k) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(s[k]))) {
      return absl::InvalidArgumentError("not a house number");
    }
  }
  return s;
}

}  // namespace samenzicht::agency_node

namespace samenzicht::agency_node {

std::vector<std::string> DeletionNeighbourhood(std::string_view s) {
  std::vector<std::string> out;
  out.reserve(s.size() + 1);
  out.emplace_back(s);
  if (s.size() >= 4 && s.size() <= model::kMaxDeletionNeighbourhoodLength) {
    for (size_t i = 0; i < s.size(); ++i) {
      std::string d;
      d.reserve(s.size() - 1);
      d.append(s.substr(0, i));
      d.append(s.substr(i + 1));
      out.push_back(std::move(d));
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<std::string> NameDeletionPairs(std::string_view joined) {
  std::vector<std::string> out;
  const size_t sep = joined.find(kNameJoiner);
  if (sep == std::string_view::npos || sep == 0 || sep + 1 >= joined.size()) return out;
  const std::string given(joined.substr(0, sep)), surname(joined.substr(sep + 1));
  const std::vector<std::string> g = DeletionNeighbourhood(given), s = DeletionNeighbourhood(surname);
  auto pair = [](const std::string& a, const std::string& b) {
    std::string v;
    v.reserve(a.size() + b.size() + 1);
    v.append(a);
    v.push_back(kNameJoiner);
    v.append(b);
    return v;
  };
  if (g.size() * s.size() <= model::kMaxTokensPerMultiValuedRule) {
    out.reserve(g.size() * s.size());
    for (const std::string& a : g) {
      for (const std::string& b : s) out.push_back(pair(a, b));
    }
  } else {
    for (const std::string& a : g) out.push_back(pair(a, surname));
    for (const std::string& b : s) out.push_back(pair(given, b));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void DeriveLinkageFields(Person* p) {
  using v1::Field;
  const std::string& gp = p->Get(Field::FIELD_GIVEN_NAME_PHONETIC);
  const std::string& sp = p->Get(Field::FIELD_SURNAME_PHONETIC);
  if (!gp.empty() && !sp.empty()) {
    p->Set(Field::FIELD_NAME_PAIR_PHONETIC, gp < sp ? absl::StrCat(gp, "|", sp) : absl::StrCat(sp, "|", gp));
  }
  const std::string& dob = p->Get(Field::FIELD_DATE_OF_BIRTH);  // YYYYMMDD
  if (dob.size() == 8) {
    p->Set(Field::FIELD_DOB_YEAR_MONTH, dob.substr(0, 6));
    p->Set(Field::FIELD_DOB_YEAR_DAY, absl::StrCat(dob.substr(0, 4), dob.substr(6, 2)));
  }
  const std::string& pc = p->Get(Field::FIELD_POSTCODE);
  if (pc.size() >= 4) p->Set(Field::FIELD_POSTCODE_AREA, pc.substr(0, 4));
  if (!pc.empty()) p->Set(Field::FIELD_POSTCODE_DELETIONS, pc);
  const std::string& city = p->Get(Field::FIELD_CITY);
  if (!city.empty()) {
    std::string code = DutchPhonetic(city);
    if (!code.empty()) p->Set(Field::FIELD_CITY_PHONETIC, std::move(code));
  }
  p->Set(Field::FIELD_SURNAME_DELETIONS, p->Get(Field::FIELD_SURNAME));
  p->Set(Field::FIELD_GIVEN_NAME_DELETIONS, p->Get(Field::FIELD_FIRST_GIVEN_NAME));
  const std::string& given = p->Get(Field::FIELD_FIRST_GIVEN_NAME);
  const std::string& surname = p->Get(Field::FIELD_SURNAME);
  if (!given.empty() && !surname.empty()) {
    p->Set(Field::FIELD_NAME_DELETIONS, absl::StrCat(given, std::string(1, kNameJoiner), surname));
  }
}

}  // namespace samenzicht::agency_node
