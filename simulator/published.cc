#include "simulator/published.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <string_view>
#include <tuple>

#include "model/vocabulary.h"
#include "samenzicht/v1/categories.pb.h"

namespace samenzicht::simulator {
namespace {

using U = std::u32string;

void Note(std::vector<std::string>* applied, const char* field, const char* kind) {
  if (applied) applied->push_back(std::string(field) + ":" + kind);
}

bool IsUpperAscii(char32_t c) { return c >= 'A' && c <= 'Z'; }
char32_t LowerAscii(char32_t c) { return IsUpperAscii(c) ? c + 32 : c; }
char32_t UpperAscii(char32_t c) { return c >= 'a' && c <= 'z' ? c - 32 : c; }
bool IsDigit(char32_t c) { return c >= '0' && c <= '9'; }

// ---------------------------------------------------------------------------------------
// Keyboard: a QWERTY grid; rows are offset by about half a key, so the keys above key i
// of a row are i and i+1 of the row above, the keys below are i-1 and i.
constexpr std::array<std::string_view, 4> kRows = {"1234567890", "qwertyuiop", "asdfghjkl",
                                                   "zxcvbnm"};

bool FindKey(char c, int& row, int& col) {
  for (int r = 0; r < 4; ++r) {
    size_t i = kRows[r].find(c);
    if (i != std::string_view::npos) {
      row = r;
      col = static_cast<int>(i);
      return true;
    }
  }
  return false;
}

// Same row and same column together (pseudopeople: adjacent keys including diagonals).
std::string AllNeighbours(char c) {
  return KeyboardNeighbours(c, true) + KeyboardNeighbours(c, false);
}

// Position in a string of `len`: Gaussian, mean len/2 (1-based: len/2 + 1), sd len/4,
// clamped to the string (GeCo's position_mod_normal).
size_t GaussPos(size_t len, Rng& rng) {
  double x = len / 2.0 + (len / 4.0) * rng.Normal();
  long p = std::lround(x);
  if (p < 0) p = 0;
  if (p >= static_cast<long>(len)) p = static_cast<long>(len) - 1;
  return static_cast<size_t>(p);
}

// Replaces s[pos..pos+from) by `to`, keeping a capital at the start of the match.
void ReplaceKeepCase(U& s, size_t pos, size_t from_len, std::string_view to) {
  bool cap = IsUpperAscii(s[pos]);
  U rep;
  for (char c : to) rep.push_back(static_cast<char32_t>(static_cast<unsigned char>(c)));
  if (cap && !rep.empty()) rep[0] = UpperAscii(rep[0]);
  s.replace(pos, from_len, rep);
}

bool MatchesAt(const U& s, size_t pos, std::string_view pattern) {
  if (pos + pattern.size() > s.size()) return false;
  for (size_t k = 0; k < pattern.size(); ++k) {
    if (LowerAscii(s[pos + k]) != static_cast<char32_t>(static_cast<unsigned char>(pattern[k])) &&
        s[pos + k] != static_cast<char32_t>(static_cast<unsigned char>(pattern[k]))) {
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// Phonetic rules (GeCo's format: where, from, to), for Dutch and English names and the
// names Dutch agencies meet. kStart: at the start of a word; kEnd: at the end; kAll:
// anywhere. GeCo picks one applicable rule at random.
enum Where { kAll, kStart, kEnd, kMiddle };
struct PhoneticRule {
  Where where;
  std::string_view from, to;
};
const std::vector<PhoneticRule>& PhoneticRules() {
  static const auto* r = new std::vector<PhoneticRule>{
      {kAll, "ph", "f"},    {kAll, "ck", "k"},    {kEnd, "y", "i"},     {kAll, "ij", "y"},
      {kAll, "y", "ij"},    {kAll, "ei", "ij"},   {kAll, "ij", "ei"},   {kAll, "dt", "t"},
      {kEnd, "d", "t"},     {kEnd, "t", "dt"},    {kAll, "c", "k"},     {kAll, "k", "c"},
      {kAll, "z", "s"},     {kAll, "s", "z"},     {kAll, "oe", "u"},    {kAll, "u", "oe"},
      {kAll, "ou", "au"},   {kAll, "au", "ou"},   {kAll, "sch", "s"},   {kAll, "ch", "g"},
      {kMiddle, "g", "ch"}, {kAll, "ee", "e"},    {kAll, "aa", "a"},    {kAll, "oo", "o"},
      {kAll, "ie", "i"},    {kMiddle, "i", "ie"}, {kAll, "ss", "s"},    {kAll, "th", "t"},
      {kStart, "v", "f"},   {kStart, "w", "v"},   {kAll, "x", "ks"},    {kAll, "ks", "x"},
      {kAll, "q", "k"},     {kStart, "y", "j"},   {kStart, "j", "y"},   {kAll, "kh", "ch"},
      {kAll, "ll", "l"},    {kAll, "tt", "t"},    {kAll, "mm", "m"},    {kEnd, "en", "e"},
  };
  return *r;
}

bool WordStart(const U& s, size_t pos) { return pos == 0 || s[pos - 1] == ' ' || s[pos - 1] == '-'; }
bool WordEnd(const U& s, size_t end) { return end == s.size() || s[end] == ' ' || s[end] == '-'; }

std::vector<std::pair<size_t, const PhoneticRule*>> PhoneticMatches(const U& s) {
  std::vector<std::pair<size_t, const PhoneticRule*>> out;
  for (const PhoneticRule& r : PhoneticRules()) {
    for (size_t pos = 0; pos + r.from.size() <= s.size(); ++pos) {
      if (!MatchesAt(s, pos, r.from)) continue;
      bool start = WordStart(s, pos), end = WordEnd(s, pos + r.from.size());
      if (r.where == kStart && !start) continue;
      if (r.where == kEnd && !end) continue;
      if (r.where == kMiddle && (start || end)) continue;
      out.push_back({pos, &r});
    }
  }
  return out;
}

// OCR confusions (both directions).
const std::vector<std::pair<std::string_view, std::string_view>>& OcrRules() {
  static const auto* r = [] {
    std::vector<std::pair<std::string_view, std::string_view>> pairs = {
        {"5", "s"}, {"0", "o"}, {"1", "l"}, {"m", "rn"}, {"d", "cl"}, {"w", "vv"},
        {"8", "b"}, {"2", "z"}, {"1", "i"}, {"6", "g"}, {"9", "q"}, {"h", "li"},
        {"n", "ri"}, {"u", "v"}, {"e", "c"}, {"0", "d"}, {"4", "a"}, {"7", "t"},
        {"3", "e"}, {"k", "lc"}, {"a", "o"}, {"i", "j"}};
    auto* all = new std::vector<std::pair<std::string_view, std::string_view>>();
    for (auto [a, b] : pairs) {
      all->push_back({a, b});
      all->push_back({b, a});
    }
    return all;
  }();
  return *r;
}

// Every applicable OCR confusion as (position, rule index).
std::vector<std::pair<size_t, size_t>> OcrMatches(const U& s) {
  std::vector<std::pair<size_t, size_t>> out;
  const auto& rules = OcrRules();
  for (size_t k = 0; k < rules.size(); ++k) {
    for (size_t pos = 0; pos + rules[k].first.size() <= s.size(); ++pos) {
      if (MatchesAt(s, pos, rules[k].first)) out.push_back({pos, k});
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// GeCo corruptors on a code-point string. Each returns true when it changed the string.

// Keyboard: a position (Gaussian), then a neighbour in the same row (0.5) or column (0.5);
// up to 10 tries for a position holding a key of the grid.
bool GecoKeyboard(U& s, Rng& rng) {
  if (s.empty()) return false;
  for (int t = 0; t < 10; ++t) {
    size_t pos = GaussPos(s.size(), rng);
    char32_t c = LowerAscii(s[pos]);
    bool row = rng.Bernoulli(0.5);
    if (c >= 0x80) continue;
    std::string n = KeyboardNeighbours(static_cast<char>(c), row);
    if (n.empty()) continue;
    char32_t r = static_cast<char32_t>(static_cast<unsigned char>(n[rng.Below(n.size())]));
    if (IsUpperAscii(s[pos])) r = UpperAscii(r);
    if (IsDigit(s[pos]) && !IsDigit(r) && s.size() > 0) {
      // a digit's column neighbour is a letter: written upper case in a postcode/phone
      r = UpperAscii(r);
    }
    s[pos] = r;
    return true;
  }
  return false;
}

// Edit: insert, delete, substitute or transpose (0.25 each) at a uniform position.
bool GecoEdit(U& s, Rng& rng) {
  for (int t = 0; t < 10; ++t) {
    int kind = static_cast<int>(rng.Below(4));
    if (kind == 0) {
      size_t pos = rng.Below(s.size() + 1);
      char32_t c = 'a' + static_cast<char32_t>(rng.Below(26));
      if (pos == 0 && !s.empty() && IsUpperAscii(s[0])) {
        c = UpperAscii(c);
        s[0] = LowerAscii(s[0]);
      }
      s.insert(s.begin() + static_cast<long>(pos), c);
      return true;
    }
    if (s.size() < 2) continue;
    size_t pos = rng.Below(s.size());
    if (kind == 1) {
      bool cap = pos == 0 && IsUpperAscii(s[0]);
      s.erase(pos, 1);
      if (cap) s[0] = UpperAscii(s[0]);
      return true;
    }
    if (kind == 2) {
      char32_t old = LowerAscii(s[pos]);
      char32_t c;
      do c = 'a' + static_cast<char32_t>(rng.Below(26)); while (c == old);
      s[pos] = IsUpperAscii(s[pos]) ? UpperAscii(c) : c;
      return true;
    }
    if (pos + 1 >= s.size()) pos = s.size() - 2;
    if (LowerAscii(s[pos]) == LowerAscii(s[pos + 1])) continue;
    bool cap = pos == 0 && IsUpperAscii(s[0]);
    std::swap(s[pos], s[pos + 1]);
    if (cap) {
      s[0] = UpperAscii(s[0]);
      s[1] = LowerAscii(s[1]);
    }
    return true;
  }
  return false;
}

// A different, valid date for a digit change in "YYYY-MM-DD"; false after 10 tries.
bool DateDigitChange(Date& d, Rng& rng) {
  for (int t = 0; t < 10; ++t) {
    std::string iso = IsoDate(d);
    static constexpr int kDigitPos[] = {0, 1, 2, 3, 5, 6, 8, 9};
    int pos = kDigitPos[rng.Below(8)];
    char c;
    do c = static_cast<char>('0' + rng.Below(10)); while (c == iso[pos]);
    iso[pos] = c;
    Date n{std::stoi(iso.substr(0, 4)), std::stoi(iso.substr(5, 2)), std::stoi(iso.substr(8, 2))};
    if (n.year < 1900 || std::abs(n.year - d.year) > 10 || n.month < 1 || n.month > 12 ||
        n.day < 1 || n.day > DaysInMonth(n.year, n.month)) {
      continue;
    }
    d = n;
    return true;
  }
  return false;
}

Date ShiftYears(Date d, int years) {
  d.year += years;
  d.day = std::min(d.day, DaysInMonth(d.year, d.month));
  return d;
}

std::string FlipGender(const std::string& word, Rng& rng) {
  if (word == "female") return "male";
  if (word == "male") return "female";
  return rng.Bernoulli(0.5) ? "female" : "male";
}

// The first given name and the rest (" Cornelis Maria"), of a canonical given_names.
std::pair<std::string, std::string> SplitFirst(const std::string& given) {
  size_t sp = given.find(' ');
  if (sp == std::string::npos) return {given, ""};
  return {given.substr(0, sp), given.substr(sp)};
}

std::string JoinSurname(const std::string& prefix, const std::string& core) {
  return prefix.empty() ? core : prefix + " " + core;
}

// Picks an index with `weights`, among those whose `ok` is true (renormalised).
size_t PickAmong(Rng& rng, std::vector<double> weights, const std::vector<bool>& ok) {
  for (size_t i = 0; i < weights.size(); ++i) {
    if (!ok[i]) weights[i] = 0;
  }
  return rng.Weighted(weights);
}

// ---------------------------------------------------------------------------------------
// GeCo (example configuration).
Identifiers WriteGeco(const Person& p, const PublishedContext& ctx, Identifiers out, Rng& rng,
                      std::vector<std::string>* applied) {
  if (ctx.original) return out;
  static const GecoParameters kExample;
  const GecoParameters& param = ctx.geco ? *ctx.geco : kExample;
  // The example configuration draws nothing here, so its records stay as they were.
  const bool corrupted = param.corrupted_fraction >= 1.0 || rng.Real() < param.corrupted_fraction;
  enum Attr { kGiven, kSurname, kPostcode, kCity, kPhone, kGender, kDob, kAttrs };
  static const char* kNames[] = {"given_names", "surname", "postcode", "city",
                                 "phone", "gender", "date_of_birth"};
  std::vector<double> weight = {0.20, 0.20, 0.10, 0.10, 0.15, 0.10, 0.05};
  std::vector<bool> open(kAttrs, true);
  open[kPostcode] = !out.postcode.empty();
  open[kPhone] = !out.phone.empty();
  open[kGender] = !out.gender.empty();
  open[kDob] = !out.date_of_birth.empty();
  if (!param.attributes.empty()) {
    for (int a = 0; a < kAttrs; ++a) open[a] = open[a] && param.attributes.count(kNames[a]) > 0;
  }
  if (!corrupted) return out;
  int available = static_cast<int>(std::count(open.begin(), open.end(), true));
  const int wanted = std::min(param.modifications, available);
  auto [first, rest] = SplitFirst(out.given_names);
  std::string prefix = p.surname_prefix;
  int made = 0;
  while (made < wanted && std::count(open.begin(), open.end(), true) > 0) {
    const Attr a = static_cast<Attr>(PickAmong(rng, weight, open));
    open[a] = false;  // at most one modification per attribute
    bool changed = false;
    const char* kind = "";
    for (int attempt = 0; attempt < 10 && !changed; ++attempt) {
      switch (a) {
        case kGiven: {
          U s = DecodeUtf8(first);
          size_t c = rng.Weighted({0.1, 0.1, 0.1, 0.7});
          kind = c == 0 ? "edit" : c == 1 ? "ocr" : c == 2 ? "keyboard" : "phonetic";
          changed = c == 0 ? GecoEdit(s, rng) : c == 1 ? ApplyOcrError(s, rng)
                  : c == 2 ? GecoKeyboard(s, rng) : ApplyPhoneticRule(s, rng);
          if (changed && EncodeUtf8(s) != first) {
            out.given_names = EncodeUtf8(s) + rest;
          } else {
            changed = false;
          }
          break;
        }
        case kSurname: {
          size_t c = rng.Weighted({0.1, 0.1, 0.1, 0.7});
          kind = c == 0 ? "misspelling" : c == 1 ? "ocr" : c == 2 ? "keyboard" : "phonetic";
          if (c == 0) {
            const auto& full = SpellingVariants(p.FullSurname());
            const auto& core = SpellingVariants(p.surname);
            if (!full.empty()) {
              out.surname = rng.Pick(full);
              changed = true;
            } else if (!core.empty()) {
              out.surname = JoinSurname(prefix, rng.Pick(core));
              changed = true;
            }
          } else {
            U s = DecodeUtf8(p.surname);
            changed = c == 1 ? ApplyOcrError(s, rng) : c == 2 ? GecoKeyboard(s, rng)
                                                             : ApplyPhoneticRule(s, rng);
            if (changed) out.surname = JoinSurname(prefix, EncodeUtf8(s));
          }
          break;
        }
        case kPostcode: {
          if (rng.Bernoulli(0.2)) {
            kind = "missing";
            out.postcode.clear();
            changed = true;
          } else {
            kind = "keyboard";
            U s = DecodeUtf8(out.postcode);
            changed = GecoKeyboard(s, rng);
            if (changed) out.postcode = EncodeUtf8(s);
          }
          break;
        }
        case kCity: {
          size_t c = rng.Weighted({0.1, 0.1, 0.4, 0.4});
          kind = c == 0 ? "edit" : c == 1 ? "missing" : c == 2 ? "keyboard" : "phonetic";
          if (c == 1) {
            out.city.clear();
            changed = true;
          } else {
            U s = DecodeUtf8(out.city);
            changed = c == 0 ? GecoEdit(s, rng) : c == 2 ? GecoKeyboard(s, rng)
                                                         : ApplyPhoneticRule(s, rng);
            if (changed) out.city = EncodeUtf8(s);
          }
          break;
        }
        case kPhone: {
          std::vector<size_t> digits;
          for (size_t i = 0; i < out.phone.size(); ++i) {
            if (IsDigit(static_cast<unsigned char>(out.phone[i]))) digits.push_back(i);
          }
          if (digits.size() < 2) break;
          if (rng.Bernoulli(0.5)) {
            kind = "wrong_digit";
            size_t i = digits[rng.Below(digits.size())];
            char c;
            do c = static_cast<char>('0' + rng.Below(10)); while (c == out.phone[i]);
            out.phone[i] = c;
            changed = true;
          } else {
            kind = "swapped_digits";
            size_t k = rng.Below(digits.size() - 1);
            size_t i = digits[k], j = digits[k + 1];
            if (out.phone[i] != out.phone[j]) {
              std::swap(out.phone[i], out.phone[j]);
              changed = true;
            }
          }
          break;
        }
        case kGender: {
          if (rng.Bernoulli(0.5)) {
            kind = "flip";
            out.gender = FlipGender(out.gender, rng);
          } else {
            kind = "blank";
            out.gender.clear();
          }
          changed = true;
          break;
        }
        case kDob: {
          Date d = p.dob;
          if (rng.Bernoulli(0.5)) {
            kind = "year";
            int off = rng.Between(1, 2) * (rng.Bernoulli(0.5) ? 1 : -1);
            d = ShiftYears(d, off);
            changed = true;
          } else {
            kind = "digit";
            changed = DateDigitChange(d, rng);
          }
          if (changed) out.date_of_birth = IsoDate(d);
          break;
        }
        default:
          break;
      }
    }
    if (changed) {
      ++made;
      Note(applied, kNames[a], kind);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// pseudopeople (default configuration).
constexpr double kCell = 0.01;   // cell probability of every column noise type
constexpr double kToken = 0.10;  // token probability of the token-level types

// make_typos: each character with kToken; a letter becomes an adjacent key (diagonals
// included), a digit an adjacent digit; 10% keep the original and insert the typo after
// it, 90% replace it.
bool PpTypos(U& s, Rng& rng) {
  bool changed = false;
  U out;
  for (char32_t c : s) {
    char32_t low = LowerAscii(c);
    bool key = low < 0x80 && (IsDigit(low) || (low >= 'a' && low <= 'z'));
    if (!key || !rng.Bernoulli(kToken)) {
      out.push_back(c);
      continue;
    }
    std::string n = IsDigit(low) ? KeyboardNeighbours(static_cast<char>(low), true)
                                 : AllNeighbours(static_cast<char>(low));
    std::string cand;
    for (char x : n) {
      if (IsDigit(low) == IsDigit(static_cast<unsigned char>(x))) cand.push_back(x);
    }
    if (cand.empty()) {
      out.push_back(c);
      continue;
    }
    char32_t r = static_cast<char32_t>(static_cast<unsigned char>(cand[rng.Below(cand.size())]));
    if (IsUpperAscii(c)) r = UpperAscii(r);
    if (rng.Bernoulli(0.1)) out.push_back(c);
    out.push_back(r);
    changed = true;
  }
  s = out;
  return changed;
}

// Token-level substitutions from a table: at each place where a rule applies, with
// kToken, one of the applicable rules (phonetic or OCR).
bool PpSubstitutions(U& s, Rng& rng, bool phonetic) {
  bool changed = false;
  for (size_t pos = 0; pos < s.size(); ++pos) {
    std::vector<std::pair<std::string_view, std::string_view>> here;
    if (phonetic) {
      for (const auto& [at, rule] : PhoneticMatches(s)) {
        if (at == pos) here.push_back({rule->from, rule->to});
      }
    } else {
      for (const auto& [a, b] : OcrRules()) {
        if (MatchesAt(s, pos, a)) here.push_back({a, b});
      }
    }
    if (here.empty() || !rng.Bernoulli(kToken)) continue;
    auto [from, to] = here[rng.Below(here.size())];
    ReplaceKeepCase(s, pos, from.size(), to);
    pos += to.empty() ? 0 : to.size() - 1;
    changed = true;
  }
  return changed;
}

// write_wrong_digits: each digit with kToken becomes another digit.
bool PpWrongDigits(std::string& s, Rng& rng) {
  bool changed = false;
  for (char& c : s) {
    if (c < '0' || c > '9' || !rng.Bernoulli(kToken)) continue;
    char n;
    do n = static_cast<char>('0' + rng.Below(10)); while (n == c);
    c = n;
    changed = true;
  }
  return changed;
}

// write_wrong_zipcode_digits: per position probabilities. US zip (5 digits): .04 .04 .20
// .36 .36, used as is for a German postcode; Dutch "9711AB": .04 .04 .20 .36 for the
// digits and .36 for each letter; Belgian 4 digits: .04 .20 .36 .36.
bool PpWrongPostcodeDigits(std::string& s, Rng& rng) {
  std::vector<size_t> digits, letters;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] >= '0' && s[i] <= '9') digits.push_back(i);
  }
  bool dutch = s.size() == 6 && digits.size() == 4;
  if (dutch) letters = {4, 5};
  std::vector<double> probs;
  if (digits.size() == 5) probs = {0.04, 0.04, 0.20, 0.36, 0.36};
  else if (dutch) probs = {0.04, 0.04, 0.20, 0.36};
  else if (digits.size() == 4) probs = {0.04, 0.20, 0.36, 0.36};
  else probs.assign(digits.size(), 0.2);
  bool changed = false;
  for (size_t k = 0; k < digits.size(); ++k) {
    if (!rng.Bernoulli(probs[k])) continue;
    char n;
    do n = static_cast<char>('0' + rng.Below(10)); while (n == s[digits[k]]);
    s[digits[k]] = n;
    changed = true;
  }
  for (size_t i : letters) {
    if (!rng.Bernoulli(0.36)) continue;
    static const std::string kLetters = "ABCDEGHJKLMNPRSTVWXZ";
    char n;
    do n = kLetters[rng.Below(kLetters.size())]; while (n == s[i]);
    s[i] = n;
    changed = true;
  }
  return changed;
}

const std::vector<std::string>& FakeGivenNames() {
  static const auto* v = new std::vector<std::string>{
      "Baby", "Onbekend", "NN", "Meisje", "Jongen", "X", "Cliënt", "Anoniem", "Test",
      "Zoon", "Dochter", "Jane", "John"};
  return *v;
}
const std::vector<std::string>& FakeSurnames() {
  static const auto* v = new std::vector<std::string>{
      "Onbekend", "NN", "X", "Doe", "Anoniem", "Achternaam", "Test", "Familie", "Onbekende"};
  return *v;
}

Identifiers WritePseudopeople(const Person& p, const PublishedContext& ctx, Identifiers out,
                              Rng& rng, std::vector<std::string>* applied) {
  auto blank = [&](std::string& f, const char* name) {
    if (!f.empty() && rng.Bernoulli(kCell)) {
      f.clear();
      Note(applied, name, "leave_blank");
    }
  };
  auto tokens = [&](std::string& f, const char* name, bool phonetic, bool ocr, bool typos) {
    if (f.empty()) return;
    U s = DecodeUtf8(f);
    if (phonetic && rng.Bernoulli(kCell) && PpSubstitutions(s, rng, true)) {
      Note(applied, name, "make_phonetic_errors");
    }
    if (ocr && rng.Bernoulli(kCell) && PpSubstitutions(s, rng, false)) {
      Note(applied, name, "make_ocr_errors");
    }
    if (typos && rng.Bernoulli(kCell) && PpTypos(s, rng)) Note(applied, name, "make_typos");
    f = EncodeUtf8(s);
  };
  auto wrong_digits = [&](std::string& f, const char* name) {
    if (!f.empty() && rng.Bernoulli(kCell) && PpWrongDigits(f, rng)) {
      Note(applied, name, "write_wrong_digits");
    }
  };

  // Pseudopeople's order of column noise: leave_blank, choose_wrong_option,
  // copy_from_household_member, swap_month_and_day, write_wrong_zipcode_digits,
  // misreport_age, write_wrong_digits, use_nickname, use_fake_name, make_phonetic_errors,
  // make_ocr_errors, make_typos; a blanked cell gets no further noise.
  blank(out.given_names, "given_names");
  blank(out.surname, "surname");
  blank(out.date_of_birth, "date_of_birth");
  blank(out.gender, "gender");
  blank(out.national_id, "national_id");
  blank(out.phone, "phone");
  blank(out.email, "email");
  blank(out.postcode, "postcode");
  blank(out.street, "street");
  blank(out.house_number, "house_number");
  blank(out.city, "city");

  if (!out.gender.empty() && rng.Bernoulli(kCell)) {
    std::vector<std::string> other;
    for (int g : {v1::GENDER_FEMALE, v1::GENDER_MALE, v1::GENDER_OTHER}) {
      std::string w = model::Word(v1::DIMENSION_GENDER, g);
      if (w != out.gender) other.push_back(w);
    }
    out.gender = rng.Pick(other);
    Note(applied, "gender", "choose_wrong_option");
  }

  Date dob = p.dob;
  bool dob_changed = false;
  if (!out.date_of_birth.empty() && rng.Bernoulli(kCell) && ctx.housemate &&
      !(ctx.housemate->dob == p.dob)) {
    dob = ctx.housemate->dob;
    dob_changed = true;
    Note(applied, "date_of_birth", "copy_from_household_member");
  }
  if (!out.national_id.empty() && rng.Bernoulli(kCell) && ctx.housemate &&
      !ctx.housemate->bsn.empty() && ctx.housemate->bsn != out.national_id) {
    out.national_id = ctx.housemate->bsn;
    Note(applied, "national_id", "copy_from_household_member");
  }
  if (!out.date_of_birth.empty() && rng.Bernoulli(kCell) && dob.day <= 12 &&
      dob.day != dob.month) {
    std::swap(dob.day, dob.month);
    dob_changed = true;
    Note(applied, "date_of_birth", "swap_month_and_day");
  }
  if (!out.postcode.empty() && rng.Bernoulli(kCell) && PpWrongPostcodeDigits(out.postcode, rng)) {
    Note(applied, "postcode", "write_wrong_zipcode_digits");
  }
  if (!out.date_of_birth.empty() && rng.Bernoulli(kCell)) {
    // misreport_age: the age off by -2 (.1), -1 (.4), +1 (.4), +2 (.1) years; there is no
    // age column, so the year of birth moves the other way.
    static const int kOffsets[] = {-2, -1, 1, 2};
    int off = kOffsets[rng.Weighted({0.1, 0.4, 0.4, 0.1})];
    dob = ShiftYears(dob, -off);
    dob_changed = true;
    Note(applied, "date_of_birth", "misreport_age");
  }
  if (dob_changed) out.date_of_birth = IsoDate(dob);
  wrong_digits(out.date_of_birth, "date_of_birth");
  wrong_digits(out.national_id, "national_id");
  wrong_digits(out.phone, "phone");
  wrong_digits(out.house_number, "house_number");

  if (!out.given_names.empty() && rng.Bernoulli(kCell)) {
    auto [first, rest] = SplitFirst(out.given_names);
    const auto& nicks = Nicknames(first);
    if (!nicks.empty()) {
      out.given_names = rng.Pick(nicks) + rest;
      Note(applied, "given_names", "use_nickname");
    }
  }
  if (!out.given_names.empty() && rng.Bernoulli(kCell)) {
    out.given_names = rng.Pick(FakeGivenNames());
    Note(applied, "given_names", "use_fake_name");
  }
  if (!out.surname.empty() && rng.Bernoulli(kCell)) {
    out.surname = rng.Pick(FakeSurnames());
    Note(applied, "surname", "use_fake_name");
  }

  tokens(out.given_names, "given_names", true, true, true);
  tokens(out.surname, "surname", true, true, true);
  tokens(out.date_of_birth, "date_of_birth", false, true, true);
  tokens(out.national_id, "national_id", false, true, true);
  tokens(out.phone, "phone", false, true, true);
  tokens(out.email, "email", false, false, true);
  tokens(out.postcode, "postcode", false, true, true);
  tokens(out.street, "street", true, true, true);
  tokens(out.house_number, "house_number", false, true, true);
  tokens(out.city, "city", true, true, true);
  return out;
}

// ---------------------------------------------------------------------------------------
// splink_synthetic_data: each corrupted copy gets each corruption with its probability.
Identifiers WriteSplink(const Person& p, const PublishedContext& ctx, Identifiers out, Rng& rng,
                        std::vector<std::string>* applied) {
  if (ctx.original) return out;
  // Date of birth: +-1..50 days (.10), missing (.10).
  if (rng.Bernoulli(0.10)) {
    int days = rng.Between(1, 50) * (rng.Bernoulli(0.5) ? 1 : -1);
    out.date_of_birth = IsoDate(CivilFromDays(DaysFromCivil(p.dob) + days));
    Note(applied, "date_of_birth", "timedelta");
  }
  if (rng.Bernoulli(0.10)) {
    out.date_of_birth.clear();
    Note(applied, "date_of_birth", "missing");
  }
  // Alternative full name (.40): what the person's names allow: first given name only (of
  // several), a spelling variant of the first given name, of the surname.
  std::string given = out.given_names, surname = out.surname;
  if (rng.Bernoulli(0.40)) {
    std::vector<int> options;
    if (p.given_names.size() > 1) options.push_back(0);
    if (!SpellingVariants(p.given_names[0]).empty()) options.push_back(1);
    if (!SpellingVariants(p.FullSurname()).empty() || !SpellingVariants(p.surname).empty()) {
      options.push_back(2);
    }
    if (!options.empty()) {
      int o = options[rng.Below(options.size())];
      auto [first, rest] = SplitFirst(given);
      if (o == 0) {
        given = first;
      } else if (o == 1) {
        given = rng.Pick(SpellingVariants(p.given_names[0])) + rest;
      } else {
        const auto& full = SpellingVariants(p.FullSurname());
        surname = !full.empty() ? rng.Pick(full)
                                : JoinSurname(p.surname_prefix, rng.Pick(SpellingVariants(p.surname)));
      }
      Note(applied, "name", "alternative");
    }
  }
  // Nickname / diminutive (.10).
  if (rng.Bernoulli(0.10)) {
    const auto& nicks = Nicknames(p.given_names[0]);
    if (!p.call_name.empty() || !nicks.empty()) {
      given = !p.call_name.empty() ? p.call_name : rng.Pick(nicks);
      Note(applied, "given_names", "nickname");
    }
  }
  // Keyboard typo in a name (.20): given name or surname.
  if (rng.Bernoulli(0.20)) {
    bool in_given = rng.Bernoulli(0.5);
    U s = DecodeUtf8(in_given ? given : surname);
    for (int t = 0; t < 10; ++t) {
      size_t pos = rng.Below(s.size());
      char32_t low = LowerAscii(s[pos]);
      if (!(low >= 'a' && low <= 'z')) continue;
      std::string n = AllNeighbours(static_cast<char>(low));
      std::string letters;
      for (char x : n) {
        if (x >= 'a' && x <= 'z') letters.push_back(x);
      }
      char32_t r = static_cast<char32_t>(static_cast<unsigned char>(letters[rng.Below(letters.size())]));
      s[pos] = IsUpperAscii(s[pos]) ? UpperAscii(r) : r;
      (in_given ? given : surname) = EncodeUtf8(s);
      Note(applied, in_given ? "given_names" : "surname", "typo");
      break;
    }
  }
  // Name inversion (.05): given names and surname swap fields.
  if (rng.Bernoulli(0.05)) {
    std::swap(given, surname);
    Note(applied, "name", "inversion");
  }
  // Full name missing (.10).
  if (rng.Bernoulli(0.10)) {
    given.clear();
    surname.clear();
    Note(applied, "name", "missing");
  }
  out.given_names = given;
  out.surname = surname;
  return out;
}

// ---------------------------------------------------------------------------------------
// ONS census vs. survey design targets.

// A perturbed forename, always different from `given` (canonical all given names).
std::string OnsForename(const Person& p, const std::string& given, Rng& rng, const char** kind) {
  auto [first, rest] = SplitFirst(given);
  for (int t = 0; t < 10; ++t) {
    // typo .45, spelling variant .15, call name / nickname .15, initial .10,
    // first given name only .10, missing .05 (renormalised over those that apply).
    std::vector<bool> ok = {true, !SpellingVariants(first).empty(),
                            !p.call_name.empty() || !Nicknames(first).empty(), true,
                            !rest.empty(), true};
    size_t c = PickAmong(rng, {0.45, 0.15, 0.15, 0.10, 0.10, 0.05}, ok);
    std::string r;
    switch (c) {
      case 0: {
        U s = DecodeUtf8(first);
        GecoEdit(s, rng);
        r = EncodeUtf8(s) + rest;
        *kind = "typo";
        break;
      }
      case 1: r = rng.Pick(SpellingVariants(first)) + rest; *kind = "variant"; break;
      case 2:
        r = !p.call_name.empty() ? p.call_name : rng.Pick(Nicknames(first));
        *kind = "nickname";
        break;
      case 3: {
        U s = DecodeUtf8(first);
        r = EncodeUtf8(U(1, UpperAscii(s[0]))) + ".";
        *kind = "initial";
        break;
      }
      case 4: r = first; *kind = "first_only"; break;
      default: r.clear(); *kind = "missing"; break;
    }
    if (r != given) return r;
  }
  *kind = "typo";
  return given + "e";
}

std::string OnsSurname(const Person& p, const std::string& surname, Rng& rng, const char** kind) {
  for (int t = 0; t < 10; ++t) {
    // typo .45, spelling variant .20, phonetic .15, prefix dropped .10, missing .10.
    const auto& full = SpellingVariants(p.FullSurname());
    const auto& core = SpellingVariants(p.surname);
    std::vector<bool> ok = {true, !full.empty() || !core.empty(), true,
                            !p.surname_prefix.empty(), true};
    size_t c = PickAmong(rng, {0.45, 0.20, 0.15, 0.10, 0.10}, ok);
    std::string r;
    switch (c) {
      case 0: {
        U s = DecodeUtf8(p.surname);
        GecoEdit(s, rng);
        r = JoinSurname(p.surname_prefix, EncodeUtf8(s));
        *kind = "typo";
        break;
      }
      case 1:
        r = !full.empty() ? rng.Pick(full) : JoinSurname(p.surname_prefix, rng.Pick(core));
        *kind = "variant";
        break;
      case 2: {
        U s = DecodeUtf8(p.surname);
        if (!ApplyPhoneticRule(s, rng)) continue;
        r = JoinSurname(p.surname_prefix, EncodeUtf8(s));
        *kind = "phonetic";
        break;
      }
      case 3: r = p.surname; *kind = "prefix_dropped"; break;
      default: r.clear(); *kind = "missing"; break;
    }
    if (r != surname) return r;
  }
  *kind = "typo";
  return surname + "e";
}

Identifiers WriteOns(const Person& p, const PublishedContext& ctx, Identifiers out, Rng& rng,
                     std::vector<std::string>* applied) {
  const char* kind = "";
  if (rng.Bernoulli(0.35)) {
    out.given_names = OnsForename(p, out.given_names, rng, &kind);
    Note(applied, "given_names", kind);
  }
  if (rng.Bernoulli(0.32)) {
    out.surname = OnsSurname(p, out.surname, rng, &kind);
    Note(applied, "surname", kind);
  }
  if (rng.Bernoulli(0.01)) {
    out.gender = FlipGender(out.gender, rng);
    Note(applied, "gender", "flip");
  }
  // Date of birth: month, then day (valid in the final month), then year, independently.
  Date d = p.dob;
  const bool month = rng.Bernoulli(0.13), day = rng.Bernoulli(0.15), year = rng.Bernoulli(0.13);
  if (month) {
    std::vector<int> months;
    for (int m = 1; m <= 12; ++m) {
      if (m != d.month && d.day <= DaysInMonth(d.year, m)) months.push_back(m);
    }
    d.month = months[rng.Below(months.size())];
    Note(applied, "date_of_birth", "month");
  }
  if (day) {
    int n;
    if (rng.Bernoulli(0.5)) {
      // a slip of one to three days, else a transposition or any other day
      n = d.day + rng.Between(1, 3) * (rng.Bernoulli(0.5) ? 1 : -1);
    } else {
      n = (d.day % 10) * 10 + d.day / 10;
      if (n == d.day || rng.Bernoulli(0.5)) n = rng.Between(1, DaysInMonth(d.year, d.month));
    }
    if (n < 1 || n > DaysInMonth(d.year, d.month) || n == d.day) n = d.day == 1 ? 2 : d.day - 1;
    d.day = n;
    Note(applied, "date_of_birth", "day");
  }
  if (year) {
    int off = rng.Between(1, 2) * (rng.Bernoulli(0.5) ? 1 : -1);
    if (d.month == 2 && d.day == 29) off = off > 0 ? 4 : -4;
    d.year += off;
    Note(applied, "date_of_birth", "year");
  }
  if (month || day || year) out.date_of_birth = IsoDate(d);
  // Address: a mover's record or a duplicate in another household has the other address.
  if (ctx.other_address) {
    const Address& a = *ctx.other_address;
    out.street = a.street;
    out.house_number = a.house_number;
    out.postcode = a.postcode;
    out.city = CityOf(a);
    Note(applied, "address", "other_household");
  }
  if (!out.postcode.empty() && rng.Bernoulli(0.04)) {
    std::string& pc = out.postcode;
    std::vector<size_t> pos;
    for (size_t i = 0; i < pc.size(); ++i) {
      if (std::isalnum(static_cast<unsigned char>(pc[i]))) pos.push_back(i);
    }
    // one character: a digit to another digit, a letter to another letter
    size_t i = pos[pos.size() > 2 ? 1 + rng.Below(pos.size() - 1) : rng.Below(pos.size())];
    char c;
    if (IsDigit(static_cast<unsigned char>(pc[i]))) {
      do c = static_cast<char>('0' + rng.Below(10)); while (c == pc[i]);
    } else {
      static const std::string kLetters = "ABCDEGHJKLMNPRSTVWXZ";
      do c = kLetters[rng.Below(kLetters.size())]; while (c == pc[i]);
    }
    pc[i] = c;
    Note(applied, "postcode", "character");
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Foreign addresses and phones.
struct ForeignPlace {
  const char* city;
  const char* postcode;
  std::vector<const char*> streets;
};

const std::vector<ForeignPlace>& BelgianPlaces() {
  static const auto* v = new std::vector<ForeignPlace>{
      {"Antwerpen", "2000", {"Meir", "Nationalestraat", "Kammenstraat", "Lange Koepoortstraat"}},
      {"Antwerpen", "2060", {"Handelstraat", "Kerkstraat", "Offerandestraat"}},
      {"Borgerhout", "2140", {"Turnhoutsebaan", "Kroonstraat"}},
      {"Brussel", "1000", {"Nieuwstraat", "Lakensestraat", "Anspachlaan"}},
      {"Bruxelles", "1000", {"Rue Neuve", "Boulevard Anspach", "Rue de Laeken"}},
      {"Gent", "9000", {"Veldstraat", "Korenmarkt", "Sint-Pietersnieuwstraat"}},
      {"Mechelen", "2800", {"Bruul", "Hoogstraat"}},
      {"Leuven", "3000", {"Bondgenotenlaan", "Diestsestraat"}},
      {"Hasselt", "3500", {"Demerstraat", "Koning Albertstraat"}},
      {"Turnhout", "2300", {"Gasthuisstraat", "Otterstraat"}},
  };
  return *v;
}

const std::vector<ForeignPlace>& GermanPlaces() {
  static const auto* v = new std::vector<ForeignPlace>{
      {"Kleve", "47533", {"Große Straße", "Hagsche Straße", "Kavarinerstraße"}},
      {"Emmerich am Rhein", "46446", {"Steinstraße", "Kaßstraße"}},
      {"Leer", "26789", {"Mühlenstraße", "Heisfelder Straße", "Bahnhofsring"}},
      {"Emden", "26721", {"Neutorstraße", "Große Straße", "Am Delft"}},
      {"Bunde", "26831", {"Kirchring", "Neuschanzer Straße"}},
      {"Papenburg", "26871", {"Hauptkanal rechts", "Friederikenstraße"}},
      {"Nordhorn", "48529", {"Hauptstraße", "Bentheimer Straße"}},
      {"Gronau", "48599", {"Neustraße", "Enscheder Straße"}},
      {"Oldenburg", "26122", {"Lange Straße", "Achternstraße", "Heiligengeiststraße"}},
      {"Aachen", "52062", {"Pontstraße", "Adalbertstraße"}},
  };
  return *v;
}

void MakeForeign(Person& p, Rng& rng) {
  const bool belgian = rng.Bernoulli(0.5);
  const ForeignPlace& place = rng.Pick(belgian ? BelgianPlaces() : GermanPlaces());
  Address a;
  a.area = p.address.area;  // where in the municipality the person is met
  a.city = place.city;
  a.street = place.streets[rng.Below(place.streets.size())];
  a.house_number = std::to_string(rng.Between(1, 180));
  if (rng.Bernoulli(0.1)) a.house_number += static_cast<char>('a' + rng.Below(3));
  // As real exports write them: with the country letter ("B-2000", "D-47533") or not.
  a.postcode = rng.Bernoulli(0.5) ? std::string(belgian ? "B-" : "D-") + place.postcode
                                  : std::string(place.postcode);
  p.address = a;
  // A mobile number in international format: +32 4xx xx xx xx, +49 15x/16x/17x ...
  std::string digits;
  if (belgian) {
    digits = "4" + std::to_string(rng.Between(60, 99));
    for (int k = 0; k < 6; ++k) digits.push_back(static_cast<char>('0' + rng.Below(10)));
  } else {
    static const char* kPrefixes[] = {"151", "152", "160", "162", "170", "171", "172", "176"};
    digits = kPrefixes[rng.Below(8)];
    for (int k = 0; k < 8; ++k) digits.push_back(static_cast<char>('0' + rng.Below(10)));
  }
  const std::string cc = belgian ? "32" : "49";
  switch (rng.Below(3)) {
    case 0: p.phone = "+" + cc + digits; break;
    case 1:
      p.phone = belgian ? "+32 " + digits.substr(0, 3) + " " + digits.substr(3, 2) + " " +
                              digits.substr(5, 2) + " " + digits.substr(7)
                        : "+49 " + digits.substr(0, 3) + " " + digits.substr(3);
      break;
    default: p.phone = "00" + cc + digits; break;
  }
  p.old_phone.clear();
  p.old_address.reset();
}

Address NewLocalAddress(const Person& p, Rng& rng) {
  if (p.old_address) return *p.old_address;
  const auto& ds = Districts();
  const District& d = ds[rng.Below(ds.size())];
  Address a;
  a.area = d.area;
  a.street = rng.Pick(d.streets);
  a.house_number = std::to_string(rng.Between(1, 120));
  SkipRandomPostcode(rng, d);
  a.postcode = PostcodeFor(d, a.street, a.house_number);
  return a;
}

bool SightingLess(const Sighting& a, const Sighting& b) {
  if (a.agency != b.agency) return a.agency < b.agency;
  int64_t da = DaysFromCivil(a.signal_date), db = DaysFromCivil(b.signal_date);
  if (da != db) return da < db;
  if (a.person != b.person) return a.person < b.person;
  return a.repeat < b.repeat;
}

}  // namespace

std::string KeyboardNeighbours(char c, bool row) {
  int r = 0, i = 0;
  if (!FindKey(c, r, i)) return "";
  std::string out;
  auto add = [&](int rr, int ii) {
    if (rr < 0 || rr > 3 || ii < 0 || ii >= static_cast<int>(kRows[rr].size())) return;
    out.push_back(kRows[rr][ii]);
  };
  if (row) {
    add(r, i - 1);
    add(r, i + 1);
  } else {
    add(r - 1, i);
    add(r - 1, i + 1);
    add(r + 1, i - 1);
    add(r + 1, i);
  }
  return out;
}

int PhoneticRuleCount() { return static_cast<int>(PhoneticRules().size()); }

bool ApplyPhoneticRule(std::u32string& s, Rng& rng) {
  auto matches = PhoneticMatches(s);
  if (matches.empty()) return false;
  auto [pos, rule] = matches[rng.Below(matches.size())];
  ReplaceKeepCase(s, pos, rule->from.size(), rule->to);
  return true;
}

bool ApplyOcrError(std::u32string& s, Rng& rng) {
  auto matches = OcrMatches(s);
  if (matches.empty()) return false;
  // GeCo: a position from the position function (Gaussian), up to 10 tries to find one
  // where a confusion applies; then any applicable place.
  for (int t = 0; t < 10; ++t) {
    size_t pos = GaussPos(s.size(), rng);
    std::vector<size_t> here;
    for (const auto& [at, k] : matches) {
      if (at == pos) here.push_back(k);
    }
    if (here.empty()) continue;
    const auto& rule = OcrRules()[here[rng.Below(here.size())]];
    ReplaceKeepCase(s, pos, rule.first.size(), rule.second);
    return true;
  }
  auto [pos, k] = matches[rng.Below(matches.size())];
  ReplaceKeepCase(s, pos, OcrRules()[k].first.size(), OcrRules()[k].second);
  return true;
}

std::vector<double> ZipfWeights(int max) {
  std::vector<double> w;
  for (int k = 1; k <= max; ++k) w.push_back(1.0 / std::sqrt(static_cast<double>(k)));
  return w;
}

void AdaptPopulation(std::vector<Person>& people, Noise model, uint64_t seed) {
  if (!IsPublishedModel(model)) return;
  if (model == Noise::kOns) {
    // Twins: same surname, address, date of birth; another given name.
    std::vector<bool> twin(people.size(), false);
    for (size_t i = 0; i + 1 < people.size(); ++i) {
      Rng rng = Rng::For(seed, "ons-twin", i);
      if (twin[i] || !rng.Bernoulli(0.015)) continue;
      twin[i] = twin[i + 1] = true;
      const Person& a = people[i];
      Person& b = people[i + 1];
      b.origin = a.origin;
      b.background = a.background;
      b.dob = a.dob;
      b.address = a.address;
      b.old_address = a.old_address;
      b.surname_prefix = a.surname_prefix;
      b.surname = a.surname;
      const OriginNames& names = NamesOf(a.origin);
      bool female = b.gender == v1::GENDER_FEMALE;
      if (!names.surnames_female.empty()) {
        // the gendered form of the family name
        for (size_t k = 0; k < names.surnames.size(); ++k) {
          if (names.surnames[k] == a.FullSurname() || names.surnames_female[k] == a.FullSurname()) {
            std::tie(b.surname_prefix, b.surname) =
                SplitSurnamePrefix(female ? names.surnames_female[k] : names.surnames[k]);
          }
        }
      }
      const auto& pool = female ? names.female : names.male;
      std::string g;
      do g = rng.Pick(pool); while (g == a.given_names[0] && pool.size() > 1);
      b.given_names = {g};
      const auto& nicks = Nicknames(g);
      b.call_name = !nicks.empty() && rng.Bernoulli(0.6) ? rng.Pick(nicks) : "";
      b.email.clear();
    }
  }
  for (size_t i = 0; i < people.size(); ++i) {
    Rng rng = Rng::For(seed, "foreign", i);
    if (rng.Bernoulli(0.05)) MakeForeign(people[i], rng);
  }
}

PostcodeAreas SamePostcodeArea(const std::vector<Person>& people) {
  PostcodeAreas out;
  out.area_of.assign(people.size(), -1);
  std::map<std::string, int> index;
  for (size_t i = 0; i < people.size(); ++i) {
    const Address& a = people[i].address;
    if (a.postcode.empty()) continue;
    std::string key = a.city.empty() ? a.postcode.substr(0, 4) : a.city;
    auto [it, fresh] = index.emplace(key, static_cast<int>(out.members.size()));
    if (fresh) out.members.emplace_back();
    out.area_of[i] = it->second;
    out.members[it->second].push_back(static_cast<int>(i));
  }
  return out;
}

int PostcodeAreas::Housemate(int person, Rng& rng) const {
  if (person < 0 || person >= static_cast<int>(area_of.size()) || area_of[person] < 0) return -1;
  const std::vector<int>& m = members[area_of[person]];
  if (m.size() < 2) return -1;
  size_t k = rng.Below(m.size() - 1);  // uniform over the others: self maps to the last
  return m[k] == person ? m.back() : m[k];
}

std::vector<PlannedRecord> PlanRecords(const std::vector<Person>& people,
                                       std::vector<Sighting> sightings, Noise model,
                                       const ObservationOptions& options) {
  const int64_t first_day = DaysFromCivil(options.start);
  const int64_t period = DaysFromCivil(AddMonths(options.start, options.months)) - first_day;
  std::map<int, std::vector<PlannedRecord>> of;  // person -> records
  if (model == Noise::kSplink) {
    // 1 + Zipf copies per person, at most 20 records; at least the first sighting of
    // every agency that saw the person (who saw whom does not change).
    std::map<int, std::vector<Sighting>> firsts;
    for (const Sighting& s : sightings) {
      if (s.repeat == 0) firsts[s.person].push_back(s);
    }
    static const std::vector<double> kZipf = ZipfWeights(19);
    for (auto& [person, list] : firsts) {
      Rng rng = Rng::For(options.seed, "splink-copies", static_cast<uint64_t>(person));
      int total = 1 + 1 + static_cast<int>(rng.Weighted(kZipf));  // 2..20
      for (const Sighting& s : list) of[person].push_back({s, false, std::nullopt});
      for (int k = static_cast<int>(list.size()); k < total; ++k) {
        Sighting s = list[rng.Below(list.size())];
        s.repeat = 100 + k;
        s.signal_date = CivilFromDays(first_day + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(period))));
        of[person].push_back({s, false, std::nullopt});
      }
    }
  } else {
    for (const Sighting& s : sightings) of[s.person].push_back({s, false, std::nullopt});
  }
  if (model == Noise::kOns) {
    for (auto& [person, list] : of) {
      Rng rng = Rng::For(options.seed, "ons-duplicates", static_cast<uint64_t>(person));
      const Person& p = people[person];
      const Address other = NewLocalAddress(p, rng);
      double u = rng.Real();
      const Sighting base = list[rng.Below(list.size())].sighting;
      if (u < 0.02) {
        // duplicated 2-5 times in one household: 1-4 extra records, same agency and date
        int extra = rng.Between(1, 4);
        for (int k = 0; k < extra; ++k) {
          Sighting s = base;
          s.repeat = 200 + k;
          list.push_back({s, false, std::nullopt});
        }
      } else if (u < 0.07) {
        // duplicated in another household: one extra record with the other address
        Sighting s = base;
        s.repeat = 210;
        list.push_back({s, false, other});
      }
      // Movers: 10% of persons with several records have another address in one of them.
      if (list.size() >= 2 && rng.Bernoulli(0.10)) {
        size_t k = 1 + rng.Below(list.size() - 1);
        list[k].other_address = other;
      }
    }
  }
  std::vector<PlannedRecord> out;
  for (auto& [person, list] : of) {
    // The person's first record: earliest signal date, then agency, then repeat.
    size_t first = 0;
    for (size_t k = 1; k < list.size(); ++k) {
      const Sighting& a = list[k].sighting;
      const Sighting& b = list[first].sighting;
      int64_t da = DaysFromCivil(a.signal_date), db = DaysFromCivil(b.signal_date);
      if (std::tie(da, a.agency, a.repeat) < std::tie(db, b.agency, b.repeat)) first = k;
    }
    list[first].original = model == Noise::kGeco || model == Noise::kSplink;
    for (auto& r : list) out.push_back(std::move(r));
  }
  std::stable_sort(out.begin(), out.end(), [](const PlannedRecord& a, const PlannedRecord& b) {
    return SightingLess(a.sighting, b.sighting);
  });
  return out;
}

Identifiers WritePublished(const Person& p, Noise model, const PublishedContext& ctx, Rng& rng,
                           std::vector<std::string>* applied) {
  Identifiers out = Canonical(p);
  switch (model) {
    case Noise::kGeco: return WriteGeco(p, ctx, out, rng, applied);
    case Noise::kPseudopeople: return WritePseudopeople(p, ctx, out, rng, applied);
    case Noise::kSplink: return WriteSplink(p, ctx, out, rng, applied);
    case Noise::kOns: return WriteOns(p, ctx, out, rng, applied);
    default: return out;
  }
}

}  // namespace samenzicht::simulator
