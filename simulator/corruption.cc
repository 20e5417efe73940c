#include "simulator/corruption.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "model/vocabulary.h"

namespace samenzicht::simulator {
namespace {

std::u32string Decode(std::string_view s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
    char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
    for (int k = 1; k < len && i + k < s.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    }
    out.push_back(cp);
    i += static_cast<size_t>(len);
  }
  return out;
}

std::string Encode(const std::u32string& s) {
  std::string out;
  for (char32_t cp : s) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }
  return out;
}

char32_t UpperCp(char32_t c) {
  if (c >= 'a' && c <= 'z') return c - 32;
  if (c >= 0xe0 && c <= 0xfe && c != 0xf7) return c - 0x20;
  if (c == 0x131) return 'I';  // dotless i
  if (c >= 0x100 && c <= 0x137) return c & ~char32_t{1};
  if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e)) return (c % 2 == 0) ? c - 1 : c;
  if (c >= 0x14a && c <= 0x177) return c & ~char32_t{1};
  if (c >= 0x218 && c <= 0x21b) return c & ~char32_t{1};
  if (c >= 0x430 && c <= 0x44f) return c - 0x20;
  if (c >= 0x450 && c <= 0x45f) return c - 0x50;
  return c;
}

// Neighbouring keys on a QWERTY keyboard.
std::string_view Neighbours(char c) {
  static const std::array<std::string_view, 26> kKeys = {
      "qwsz", "vghn", "xdfv", "serfcx", "wsdr", "drtgvc", "ftyhbv", "gyujnb", "ujko", "huikmn",
      "jiolm", "kop", "njk", "bhjm", "iklp", "ol", "wa", "edft", "awedxz", "rfgy", "yhji",
      "cfgb", "qase", "zsdc", "tghu", "asx"};
  return kKeys[static_cast<size_t>(c - 'a')];
}

enum Op {
  kCallName, kFirstOnly, kInitials, kGivenVariant, kGivenTypo, kNative, kSurnameVariant,
  kSurnameTypo, kPrefixAfter, kPrefixCapital, kUpper, kDobMissing, kDobSwap, kDobTypo,
  kDutchDate, kGenderMissing, kBsnMissing, kBsnWrongDigit, kBsnFormat, kPhoneMissing,
  kPhoneOld, kPhoneStyle, kEmailMissing, kEmailUpper, kAddressMissing, kAddressOld,
  kPostcodeFormat, kCityUpper, kOpCount
};

double Factor(Noise n) {
  switch (n) {
    case Noise::kNone: return 0;
    case Noise::kLight: return 0.3;
    case Noise::kModerate: return 1;
    case Noise::kHeavy: return 2.5;
    default: return 0;  // published models are written by published.cc
  }
  return 0;
}

std::string CapitalisePrefix(const std::string& prefix) {
  std::string s = prefix;
  if (!s.empty() && s[0] != '\'') s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

std::string FormatPhone(const std::string& digits, int style) {
  // digits: "06" + 8 digits
  std::string rest = digits.substr(2);
  switch (style) {
    case 1: return "06-" + rest;
    case 2: return "+31 6 " + rest;
    case 3: return "00316" + rest;
    case 4: return "06 " + rest.substr(0, 4) + " " + rest.substr(4);
    default: return digits;
  }
}

}  // namespace

std::u32string DecodeUtf8(std::string_view utf8) { return Decode(utf8); }
std::string EncodeUtf8(const std::u32string& cps) { return Encode(cps); }

std::string CityOf(const Address& a) {
  if (!a.city.empty()) return a.city;
  if (a.area == "haren") return "Haren";
  if (a.area == "ten_boer") return "Ten Boer";
  return "Groningen";
}

absl::StatusOr<Noise> ParseNoise(absl::string_view word) {
  if (word == "none") return Noise::kNone;
  if (word == "light") return Noise::kLight;
  if (word == "moderate") return Noise::kModerate;
  if (word == "heavy") return Noise::kHeavy;
  if (word == "geco") return Noise::kGeco;
  if (word == "pseudopeople") return Noise::kPseudopeople;
  if (word == "splink") return Noise::kSplink;
  if (word == "ons") return Noise::kOns;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown noise level '", word,
      "' (none, light, moderate, heavy, geco, pseudopeople, splink, ons)"));
}

bool IsPublishedModel(Noise n) {
  return n == Noise::kGeco || n == Noise::kPseudopeople || n == Noise::kSplink ||
         n == Noise::kOns;
}

std::string NoiseName(Noise n) {
  switch (n) {
    case Noise::kNone: return "none";
    case Noise::kLight: return "light";
    case Noise::kModerate: return "moderate";
    case Noise::kHeavy: return "heavy";
    case Noise::kGeco: return "geco";
    case Noise::kPseudopeople: return "pseudopeople";
    case Noise::kSplink: return "splink";
    case Noise::kOns: return "ons";
  }
  return "?";
}

std::string Upper(std::string_view utf8) {
  std::u32string s = Decode(utf8);
  for (char32_t& c : s) c = UpperCp(c);
  return Encode(s);
}

std::string Typo(std::string_view utf8, Rng& rng) {
  std::u32string s = Decode(utf8);
  if (s.size() < 3) return std::string(utf8);
  // Mostly not the first letter: people rarely mistype the start of a name.
  size_t pos = rng.Bernoulli(0.1) ? 0 : 1 + rng.Below(s.size() - 1);
  int kind = static_cast<int>(rng.Below(3));
  if (kind == 1 && pos + 1 >= s.size()) pos = s.size() - 2;
  if (kind == 0) {
    char32_t c = s[pos];
    bool upper = c >= 'A' && c <= 'Z';
    char32_t lower = upper ? c + 32 : c;
    if (lower >= 'a' && lower <= 'z') {
      std::string_view n = Neighbours(static_cast<char>(lower));
      char32_t r = static_cast<char32_t>(n[rng.Below(n.size())]);
      s[pos] = upper ? r - 32 : r;
    } else {
      s[pos] = static_cast<char32_t>('a' + rng.Below(26));
    }
  } else if (kind == 1) {
    if (s[pos] == s[pos + 1]) {
      s.erase(pos, 1);  // "ss" -> "s": transposing equal letters would change nothing
    } else {
      std::swap(s[pos], s[pos + 1]);
    }
  } else {
    s.erase(pos, 1);
  }
  return Encode(s);
}

std::string PrefixAfter(const Person& p) {
  return p.surname_prefix.empty() ? p.surname : p.surname + ", " + p.surname_prefix;
}

Identifiers Canonical(const Person& p) {
  Rng unused(0);
  return WriteIdentifiers(p, Agency{}, Noise::kNone, unused);
}

Identifiers WriteIdentifiers(const Person& p, const Agency& agency, Noise noise, Rng& rng) {
  // Decisions first, all of them, so that every level sees the same draws.
  std::array<double, kOpCount> u;
  for (double& x : u) x = rng.Real();
  const double f = Factor(noise);
  const bool any = noise != Noise::kNone;
  std::array<double, kOpCount> prob{};
  auto err = [&](Op op, double base) { prob[op] = std::min(0.95, base * f); };
  auto fmt = [&](Op op, double base) { prob[op] = any ? base : 0; };
  err(kCallName, agency.call_name);
  fmt(kFirstOnly, agency.first_name_only);
  err(kInitials, 0.03);
  err(kGivenVariant, 0.15);
  err(kGivenTypo, 0.03);
  err(kNative, 0.08);
  err(kSurnameVariant, 0.15);
  err(kSurnameTypo, 0.03);
  fmt(kPrefixAfter, 0.15);
  fmt(kPrefixCapital, 0.3);
  fmt(kUpper, agency.upper_surname ? 0.8 : 0.05);
  err(kDobMissing, agency.missing_dob);
  err(kDobSwap, 0.03);
  err(kDobTypo, 0.015);
  fmt(kDutchDate, agency.dutch_dates ? 0.9 : 0);
  err(kGenderMissing, 0.04);
  err(kBsnMissing, agency.missing_bsn);
  err(kBsnWrongDigit, 0.02);
  fmt(kBsnFormat, 0.15);
  err(kPhoneMissing, agency.missing_phone);
  err(kPhoneOld, 0.1);
  fmt(kPhoneStyle, 0.85);
  err(kEmailMissing, agency.missing_email);
  fmt(kEmailUpper, 0.1);
  err(kAddressMissing, agency.missing_address);
  err(kAddressOld, 0.08);
  fmt(kPostcodeFormat, 0.3);
  fmt(kCityUpper, 0.2);
  auto on = [&](Op op) { return u[op] < prob[op]; };

  Identifiers out;

  // Given names.
  std::vector<std::string> given = p.given_names;
  if (on(kCallName) && !p.call_name.empty()) {
    given = {p.call_name};
  } else if (on(kFirstOnly) && given.size() > 1) {
    given.resize(1);
  }
  if (on(kGivenVariant) && !SpellingVariants(given[0]).empty()) {
    given[0] = rng.Pick(SpellingVariants(given[0]));
  }
  if (on(kGivenTypo)) given[0] = Typo(given[0], rng);
  const bool native = on(kNative) && !NativeScript(p.given_names[0]).empty();
  if (on(kInitials)) {
    std::string s;
    for (const auto& g : given) {
      std::u32string cps = Decode(g);
      s += Encode(std::u32string(1, UpperCp(cps[0]))) + ".";
    }
    out.given_names = s;
  } else {
    for (size_t k = 0; k < given.size(); ++k) {
      std::string g = given[k];
      if (native && !NativeScript(g).empty()) g = std::string(NativeScript(g));
      if (k > 0) out.given_names += " ";
      out.given_names += g;
    }
  }

  // Surname.
  std::string prefix = p.surname_prefix, core = p.surname;
  if (on(kSurnameVariant)) {
    const auto& full_variants = SpellingVariants(p.FullSurname());
    if (!full_variants.empty()) {
      std::tie(prefix, core) = SplitSurnamePrefix(rng.Pick(full_variants));
    } else if (!SpellingVariants(core).empty()) {
      core = rng.Pick(SpellingVariants(core));
    }
  }
  if (on(kSurnameTypo)) core = Typo(core, rng);
  if (native && !NativeScript(p.FullSurname()).empty()) {
    out.surname = std::string(NativeScript(p.FullSurname()));
  } else if (prefix.empty()) {
    out.surname = core;
  } else if (on(kPrefixAfter)) {
    out.surname = core + ", " + prefix;
  } else {
    out.surname = (on(kPrefixCapital) ? CapitalisePrefix(prefix) : prefix) + " " + core;
  }
  if (on(kUpper)) {
    out.surname = Upper(out.surname);
    if (!agency.upper_surname) out.given_names = Upper(out.given_names);
  }

  // Date of birth.
  if (!on(kDobMissing)) {
    Date d = p.dob;
    if (on(kDobSwap) && d.day <= 12 && d.day != d.month) std::swap(d.day, d.month);
    if (on(kDobTypo)) {
      if (rng.Bernoulli(0.5)) {
        d.year += rng.Bernoulli(0.5) ? 1 : -1;
        d.day = std::min(d.day, DaysInMonth(d.year, d.month));
      } else {
        int nd = d.day + (rng.Bernoulli(0.5) ? 1 : -1) * rng.Between(1, 9);
        if (nd < 1 || nd > DaysInMonth(d.year, d.month)) nd = d.day == 1 ? 2 : d.day - 1;
        d.day = nd;
      }
    }
    if (on(kDutchDate)) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%02d-%02d-%04d", d.day, d.month, d.year);
      out.date_of_birth = buf;
    } else {
      out.date_of_birth = IsoDate(d);
    }
  }

  if (!on(kGenderMissing)) out.gender = model::Word(v1::DIMENSION_GENDER, p.gender);

  // BSN.
  if (!p.bsn.empty() && !on(kBsnMissing)) {
    std::string b = p.bsn;
    if (on(kBsnWrongDigit)) {
      size_t pos = rng.Below(9);
      char c;
      do c = static_cast<char>('0' + rng.Below(10)); while (c == b[pos]);
      b[pos] = c;
    }
    if (on(kBsnFormat)) {
      b = rng.Bernoulli(0.5) ? b.substr(0, 3) + " " + b.substr(3, 3) + " " + b.substr(6)
                             : b.substr(0, 4) + "." + b.substr(4, 2) + "." + b.substr(6);
    }
    out.national_id = b;
  }

  // Phone.
  if (!p.phone.empty() && !on(kPhoneMissing)) {
    std::string ph = on(kPhoneOld) && !p.old_phone.empty() ? p.old_phone : p.phone;
    out.phone = on(kPhoneStyle) ? FormatPhone(ph, agency.phone_style) : ph;
  }

  if (!p.email.empty() && !on(kEmailMissing)) {
    out.email = on(kEmailUpper) ? Upper(p.email.substr(0, 1)) + p.email.substr(1) : p.email;
  }

  // Address.
  if (!on(kAddressMissing)) {
    const Address& a = on(kAddressOld) && p.old_address ? *p.old_address : p.address;
    if (!a.postcode.empty()) {
      out.street = a.street;
      out.house_number = a.house_number;
      out.postcode = a.postcode;
      if (on(kPostcodeFormat)) {
        std::string letters = a.postcode.substr(4);
        if (rng.Bernoulli(0.5)) {
          for (char& c : letters) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        out.postcode = a.postcode.substr(0, 4) + " " + letters;
      }
    }
    out.city = CityOf(a);
    if (on(kCityUpper)) out.city = Upper(out.city);
  }
  return out;
}

}  // namespace samenzicht::simulator
