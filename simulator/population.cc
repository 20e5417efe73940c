#include "simulator/population.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

#include "samenzicht/v1/categories.pb.h"

namespace samenzicht::simulator {
namespace {

using W = std::vector<double>;

// Draws every value of `values` independently with its probability, keeping at least one
// (the most likely by `fallback` weights) so a known category is never empty.
std::vector<int> DrawSet(Rng& rng, const std::vector<int>& values, const W& probs) {
  std::vector<int> out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (rng.Bernoulli(probs[i])) out.push_back(values[i]);
  }
  if (out.empty()) out.push_back(values[rng.Weighted(probs)]);
  return out;
}

void AddDistinct(std::vector<int>& v, int x) {
  if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
}

std::string AsciiLower(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalpha(c)) out.push_back(static_cast<char>(std::tolower(c)));
  }
  return out;
}

Address MakeAddress(Rng& rng, int district_index) {
  const District& d = Districts()[district_index];
  Address a;
  a.area = d.area;
  a.street = rng.Pick(d.streets);
  int number = rng.Bernoulli(0.7) ? rng.Between(1, 80) : rng.Between(81, 320);
  a.house_number = std::to_string(number);
  if (rng.Bernoulli(0.12)) a.house_number += static_cast<char>('A' + rng.Below(4));
  SkipRandomPostcode(rng, d);
  a.postcode = PostcodeFor(d, a.street, a.house_number);
  return a;
}

int PickDistrict(Rng& rng) {
  W w;
  for (const District& d : Districts()) w.push_back(d.weight);
  return static_cast<int>(rng.Weighted(w));
}

}  // namespace

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

int64_t DaysFromCivil(const Date& d) {
  int y = d.year - (d.month <= 2);
  int era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = static_cast<unsigned>(y - era * 400);
  unsigned mp = static_cast<unsigned>(d.month + (d.month > 2 ? -3 : 9));
  unsigned doy = (153 * mp + 2) / 5 + static_cast<unsigned>(d.day) - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<int64_t>(era) * 146097 + static_cast<int64_t>(doe) - 719468;
}

Date CivilFromDays(int64_t z) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = static_cast<unsigned>(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  unsigned d = doy - (153 * mp + 2) / 5 + 1;
  unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return Date{static_cast<int>(y + (m <= 2)), static_cast<int>(m), static_cast<int>(d)};
}

Date AddMonths(const Date& d, int months) {
  int total = d.year * 12 + (d.month - 1) + months;
  Date out{total / 12, total % 12 + 1, d.day};
  out.day = std::min(out.day, DaysInMonth(out.year, out.month));
  return out;
}

std::string IsoDate(const Date& d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
  return buf;
}

int AgeAt(const Date& dob, const Date& when) {
  int age = when.year - dob.year;
  if (when.month < dob.month || (when.month == dob.month && when.day < dob.day)) --age;
  return age;
}

int AgeBandOf(int age) {
  if (age <= 12) return v1::AGE_BAND_0_12;
  if (age <= 17) return v1::AGE_BAND_13_17;
  if (age <= 26) return v1::AGE_BAND_18_26;
  return v1::AGE_BAND_27_PLUS;
}

bool PassesElevenTest(std::string_view s) {
  if (s.size() != 9) return false;
  int sum = 0;
  bool nonzero = false;
  for (int i = 0; i < 9; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    int d = s[i] - '0';
    nonzero |= d != 0;
    sum += (i < 8 ? 9 - i : -1) * d;
  }
  return nonzero && ((sum % 11) + 11) % 11 == 0;
}

std::string MakeBsn(Rng& rng) {
  for (;;) {
    std::string s(9, '0');
    int sum = 0;
    s[0] = static_cast<char>('1' + rng.Below(9));
    sum += 9 * (s[0] - '0');
    for (int i = 1; i < 8; ++i) {
      s[i] = static_cast<char>('0' + rng.Below(10));
      sum += (9 - i) * (s[i] - '0');
    }
    int last = sum % 11;  // sum - d9 == 0 (mod 11)
    if (last > 9) continue;
    s[8] = static_cast<char>('0' + last);
    return s;
  }
}

std::string Person::FullSurname() const {
  return surname_prefix.empty() ? surname : surname_prefix + " " + surname;
}

std::vector<Person> GeneratePopulation(const PopulationOptions& options) {
  using namespace v1;  // enum values
  std::vector<Person> people;
  people.reserve(options.persons);
  // Phone numbers and e-mail addresses belong to one person; a collision is redrawn from
  // a stream of its own, so the person's other draws do not shift.
  std::set<std::string> phones_taken, emails_taken;
  const Date mid = AddMonths(options.start, options.months / 2);

  for (int i = 0; i < options.persons; ++i) {
    Rng rng = Rng::For(options.seed, "person", static_cast<uint64_t>(i));
    Person p;
    char id[16];
    std::snprintf(id, sizeof id, "P%06d", i + 1);
    p.id = id;

    // Form: the survey's lower-bound estimate of persons over two years: 280 sexual,
    // 275 criminal, 190 both; labour and other are outside the survey and kept small.
    p.form = std::vector<int>{FORM_SEXUAL, FORM_CRIMINAL, FORM_SEXUAL_AND_CRIMINAL,
                              FORM_LABOUR, FORM_OTHER}[rng.Weighted({280, 275, 190, 25, 10})];
    const bool sexual = p.form == FORM_SEXUAL;
    const bool criminal = p.form == FORM_CRIMINAL;
    const bool both = p.form == FORM_SEXUAL_AND_CRIMINAL;

    // Gender (answers "only/mostly women/men, as often"): sexual ~88% female,
    // criminal ~72% male, both about even, labour mostly male.
    W gw = sexual ? W{88, 10, 2} : criminal ? W{27, 72, 1} : both ? W{53, 45, 2} : W{35, 64, 1};
    p.gender = std::vector<int>{GENDER_FEMALE, GENDER_MALE, GENDER_OTHER}[rng.Weighted(gw)];

    // Age band most often seen (unknown left out): sexual 1/30/43/24,
    // criminal 0/34/38/20, both 0/30/38/30; labour adults.
    W aw = sexual ? W{1, 29.7, 42.6, 23.8} : criminal ? W{0.5, 34.1, 37.8, 19.5}
         : both   ? W{0.5, 30, 38, 30}     : W{0, 4, 36, 60};
    int band = static_cast<int>(rng.Weighted(aw));
    int age = band == 0 ? rng.Between(10, 12)
            : band == 1 ? rng.Between(13, 17)
            : band == 2 ? rng.Between(18, 26)
                        : 27 + static_cast<int>(rng.Below(12)) + static_cast<int>(rng.Below(20));
    int64_t birth = DaysFromCivil(mid) - static_cast<int64_t>(age) * 365 -
                    static_cast<int64_t>(age / 4) - static_cast<int64_t>(rng.Below(365));
    p.dob = CivilFromDays(birth);

    // Background ("most victims are ..."): sexual 50/16/25, criminal 56/13/22.
    W bw = sexual ? W{50, 16, 25} : criminal ? W{56, 13, 22} : both ? W{53, 15, 24} : W{15, 50, 35};
    p.background = std::vector<int>{BACKGROUND_DUTCH, BACKGROUND_EUROPEAN,
                                    BACKGROUND_NON_EUROPEAN}[rng.Weighted(bw)];
    std::vector<Origin> origins;
    W ow;
    if (p.background == BACKGROUND_DUTCH) {
      origins = {Origin::kDutch, Origin::kMoroccan, Origin::kTurkish, Origin::kSurinamese,
                 Origin::kAntillean};
      ow = {78, 7, 5, 6, 4};
    } else if (p.background == BACKGROUND_EUROPEAN) {
      origins = {Origin::kPolish, Origin::kRomanian, Origin::kBulgarian, Origin::kUkrainian};
      ow = {35, 25, 20, 20};
    } else {
      origins = {Origin::kEritrean, Origin::kSyrian, Origin::kMoroccan, Origin::kTurkish,
                 Origin::kAfghan, Origin::kNigerian};
      ow = {22, 20, 15, 13, 10, 20};
    }
    p.origin = origins[rng.Weighted(ow)];

    // Names.
    const OriginNames& names = NamesOf(p.origin);
    bool female = p.gender == GENDER_FEMALE || (p.gender == GENDER_OTHER && rng.Bernoulli(0.5));
    const bool zipf = options.name_frequencies == NameFrequencies::kZipf;
    const auto& first = female ? names.female : names.male;
    p.given_names.push_back(zipf ? first[ZipfRank(rng, first.size())] : rng.Pick(first));
    const auto& middle = female ? names.middle_female : names.middle_male;
    if (!middle.empty()) {
      int extra = static_cast<int>(rng.Weighted(p.origin == Origin::kDutch ? W{25, 50, 25} : W{60, 35, 5}));
      for (int k = 0; k < extra; ++k) {
        const std::string& m = zipf ? middle[ZipfRank(rng, middle.size())] : rng.Pick(middle);
        if (std::find(p.given_names.begin(), p.given_names.end(), m) == p.given_names.end()) {
          p.given_names.push_back(m);
        }
      }
    }
    const auto& nicks = Nicknames(p.given_names[0]);
    if (!nicks.empty() && rng.Bernoulli(0.6)) p.call_name = rng.Pick(nicks);
    std::string full;
    if (zipf && p.origin == Origin::kDutch) {
      // the list, then the long tail of rare names
      const auto& rare = RareDutchSurnames();
      size_t si = ZipfRank(rng, names.surnames.size() + rare.size());
      full = si < names.surnames.size() ? names.surnames[si] : rare[si - names.surnames.size()];
    } else {
      size_t si = zipf ? ZipfRank(rng, names.surnames.size()) : rng.Below(names.surnames.size());
      full = female && !names.surnames_female.empty() ? names.surnames_female[si]
                                                      : names.surnames[si];
    }
    std::tie(p.surname_prefix, p.surname) = SplitSurnamePrefix(full);

    // Living situation (share of respondents who saw it; several may apply): sexual
    // parents 23.8, exploiter 20.8, foster 3.0, care 38.6, asylum 7.9, homeless 21.8,
    // judicial 2.0, independent 38.6, other 7.9; criminal 34.1, 9.8, 2.4, 54.9, 12.2,
    // 22.0, 3.7, 40.2, 1.2.
    std::vector<int> lv = {LIVING_SITUATION_WITH_PARENTS, LIVING_SITUATION_WITH_EXPLOITER,
                           LIVING_SITUATION_FOSTER_FAMILY, LIVING_SITUATION_CARE_INSTITUTION,
                           LIVING_SITUATION_ASYLUM_SHELTER, LIVING_SITUATION_HOMELESS,
                           LIVING_SITUATION_JUDICIAL_INSTITUTION, LIVING_SITUATION_INDEPENDENT,
                           LIVING_SITUATION_OTHER};
    W lw = sexual ? W{23.8, 20.8, 3.0, 38.6, 7.9, 21.8, 2.0, 38.6, 7.9}
         : criminal ? W{34.1, 9.8, 2.4, 54.9, 12.2, 22.0, 3.7, 40.2, 1.2}
         : both ? W{29, 15.3, 2.7, 46.8, 10, 21.9, 2.9, 39.4, 4.6}
                : W{2, 40, 0, 2, 12, 12, 0, 25, 10};
    if (age < 18) { lw[7] = 0; lw[5] *= 0.3; }
    else { lw[0] *= age < 23 ? 0.6 : 0.15; lw[2] = 0; }
    if (p.background != BACKGROUND_NON_EUROPEAN) lw[4] *= 0.15;
    p.living_situation.push_back(lv[rng.Weighted(lw)]);
    if (rng.Bernoulli(0.2)) AddDistinct(p.living_situation, lv[rng.Weighted(lw)]);

    // Recruitment location: sexual school 13.2, street 25.3, community centre 0,
    // hospitality 6.6, care 34.1, sports 1.1, refugee shelter 8.8, homeless shelter 11.0,
    // addiction 7.7, abroad 14.3, online 25.3, other 7.7; criminal 30.4, 32.9, 3.8, 13.9,
    // 38.0, 1.3, 5.1, 13.9, 10.1, 7.6, 22.8, 6.3. School level (criminal): primary 4.2,
    // practical 75.0, vmbo/havo/vwo 45.8, mbo 45.8, hbo/wo 0.
    std::vector<int> rv = {RECRUITMENT_LOCATION_SCHOOL_PRACTICAL, RECRUITMENT_LOCATION_STREET,
                           RECRUITMENT_LOCATION_COMMUNITY_CENTRE, RECRUITMENT_LOCATION_HOSPITALITY,
                           RECRUITMENT_LOCATION_CARE_INSTITUTION, RECRUITMENT_LOCATION_SPORTS_CLUB,
                           RECRUITMENT_LOCATION_REFUGEE_SHELTER, RECRUITMENT_LOCATION_HOMELESS_SHELTER,
                           RECRUITMENT_LOCATION_ADDICTION_CARE, RECRUITMENT_LOCATION_ABROAD,
                           RECRUITMENT_LOCATION_ONLINE, RECRUITMENT_LOCATION_OTHER};
    W rw = sexual ? W{13.2, 25.3, 0.5, 6.6, 34.1, 1.1, 8.8, 11.0, 7.7, 14.3, 25.3, 7.7}
         : criminal ? W{30.4, 32.9, 3.8, 13.9, 38.0, 1.3, 5.1, 13.9, 10.1, 7.6, 22.8, 6.3}
         : both ? W{21.8, 29.1, 2.2, 10.3, 36.0, 1.2, 7.0, 12.5, 8.9, 10.9, 24.0, 7.0}
                : W{0, 8, 0, 5, 0, 0, 5, 5, 0, 55, 20, 12};
    if (age >= 23) rw[0] *= 0.1;
    if (p.background == BACKGROUND_DUTCH) { rw[6] *= 0.1; rw[9] *= 0.1; }
    auto pick_recruitment = [&]() {
      int loc = rv[rng.Weighted(rw)];
      if (loc == RECRUITMENT_LOCATION_SCHOOL_PRACTICAL) {
        W sw = age < 13 ? W{1, 0, 0, 0, 0} : age < 16 ? W{4.2, 75, 45.8, 0, 0} : W{0, 40, 30, 45.8, 2};
        loc = std::vector<int>{RECRUITMENT_LOCATION_SCHOOL_PRIMARY, RECRUITMENT_LOCATION_SCHOOL_PRACTICAL,
                               RECRUITMENT_LOCATION_SCHOOL_SECONDARY, RECRUITMENT_LOCATION_SCHOOL_MBO,
                               RECRUITMENT_LOCATION_SCHOOL_HIGHER}[rng.Weighted(sw)];
      }
      return loc;
    };
    p.recruitment_location.push_back(pick_recruitment());
    if (rng.Bernoulli(0.25)) AddDistinct(p.recruitment_location, pick_recruitment());

    // Coercion (share of respondents): sexual physical 41.8, sextortion 17.6, debt 23.1,
    // disclosure 5.5, eviction 8.8, illegal stay 7.7, young age 33.0, intellectual
    // disability 33.0, other 12.1; criminal 31.6, 13.9, 35.4, 12.7, 5.1, 5.1, 41.8, 44.3,
    // 10.1. Addiction is not asked in the survey: 6 for both. Per person 0.6 x share.
    std::vector<int> cv = {COERCION_PHYSICAL_VIOLENCE, COERCION_SEXTORTION, COERCION_DEBT_BONDAGE,
                           COERCION_DISCLOSURE_THREAT, COERCION_EVICTION_THREAT,
                           COERCION_ILLEGAL_STAY_THREAT, COERCION_ABUSE_OF_YOUNG_AGE,
                           COERCION_ABUSE_OF_INTELLECTUAL_DISABILITY, COERCION_ADDICTION,
                           COERCION_OTHER};
    W cw = sexual ? W{41.8, 17.6, 23.1, 5.5, 8.8, 7.7, 33.0, 33.0, 6, 12.1}
         : criminal ? W{31.6, 13.9, 35.4, 12.7, 5.1, 5.1, 41.8, 44.3, 6, 10.1}
         : both ? W{36.7, 15.8, 29.3, 9.1, 7.0, 6.4, 37.4, 38.7, 6, 11.1}
                : W{30, 2, 50, 5, 10, 25, 2, 10, 2, 10};
    for (double& x : cw) x *= 0.006;
    if (age >= 23) cw[6] = 0;
    if (p.background == BACKGROUND_DUTCH) cw[5] = 0;
    p.coercion = DrawSet(rng, cv, cw);

    // Forced crime (criminal and both only). The most frequent one per respondent:
    // drugs 24.1, theft 7.6, robbery 0, violent 1.3, money mule 38.0, straw man 8.9,
    // forced purchases 10.1, recruiting 0, begging 1.3, other 8.9; others added with
    // 0.45 x the share of respondents who saw them (criminal: 45.6, 34.2, 8.9, 17.7, 57.0,
    // 43.0, 30.4, 8.9, 3.8, 10.1; both: 46, 18, 6, 14, 46, 22, 22, 24, 4, 8).
    if (criminal || both) {
      std::vector<int> fv = {FORCED_CRIME_DRUGS, FORCED_CRIME_THEFT, FORCED_CRIME_ROBBERY,
                             FORCED_CRIME_VIOLENT_CRIME, FORCED_CRIME_MONEY_MULE,
                             FORCED_CRIME_STRAW_MAN, FORCED_CRIME_FORCED_PURCHASES,
                             FORCED_CRIME_RECRUITING, FORCED_CRIME_BEGGING, FORCED_CRIME_OTHER};
      W most = {24.1, 7.6, 0.5, 1.3, 38.0, 8.9, 10.1, both ? 8.0 : 0.5, 1.3, 8.9};
      W seen = criminal ? W{45.6, 34.2, 8.9, 17.7, 57.0, 43.0, 30.4, 8.9, 3.8, 10.1}
                        : W{46, 18, 6, 14, 46, 22, 22, 24, 4, 8};
      p.forced_crime.push_back(fv[rng.Weighted(most)]);
      for (size_t k = 0; k < fv.size(); ++k) {
        if (rng.Bernoulli(seen[k] * 0.0045)) AddDistinct(p.forced_crime, fv[k]);
      }
    }

    // Identifiers.
    bool dutch_bg = p.background == BACKGROUND_DUTCH;
    double no_bsn = dutch_bg ? 0.01 : p.background == BACKGROUND_EUROPEAN ? 0.25 : 0.35;
    if (!rng.Bernoulli(no_bsn)) p.bsn = MakeBsn(rng);
    auto phone = [&]() {
      std::string s = "06";
      for (int k = 0; k < 8; ++k) s.push_back(static_cast<char>('0' + rng.Below(10)));
      return s;
    };
    auto unique_phone = [&](std::string candidate) {
      Rng retry = Rng::For(options.seed, "phone-retry", static_cast<uint64_t>(i));
      while (!phones_taken.insert(candidate).second) {
        candidate = "06";
        for (int k = 0; k < 8; ++k) candidate.push_back(static_cast<char>('0' + retry.Below(10)));
      }
      return candidate;
    };
    if (rng.Bernoulli(0.85)) {
      p.phone = unique_phone(phone());
      if (rng.Bernoulli(0.25)) p.old_phone = unique_phone(phone());
    }
    if (rng.Bernoulli(0.35) && age >= 12) {
      static const std::vector<std::string> kDomains = {"gmail.com", "hotmail.com",
                                                        "outlook.com", "live.nl", "icloud.com"};
      std::string user = AsciiLower(p.given_names[0]);
      if (rng.Bernoulli(0.6)) user += "." + AsciiLower(p.surname);
      if (rng.Bernoulli(0.5)) user += std::to_string(rng.Between(1, 99));
      p.email = user + "@" + rng.Pick(kDomains);
      Rng retry = Rng::For(options.seed, "email-retry", static_cast<uint64_t>(i));
      while (!emails_taken.insert(p.email).second) {
        p.email = user + std::to_string(retry.Between(100, 9999)) + "@" + retry.Pick(kDomains);
      }
    }
    bool homeless = std::find(p.living_situation.begin(), p.living_situation.end(),
                              LIVING_SITUATION_HOMELESS) != p.living_situation.end();
    int district = PickDistrict(rng);
    p.address = MakeAddress(rng, district);
    if (homeless && rng.Bernoulli(0.7) && !options.every_person_has_address) {
      // No address of their own: the district is where they stay; nothing to write.
      p.address.street.clear();
      p.address.house_number.clear();
      p.address.postcode.clear();
    }
    if (rng.Bernoulli(0.3)) p.old_address = MakeAddress(rng, PickDistrict(rng));

    p.visibility = rng.Normal();
    people.push_back(std::move(p));
  }
  return people;
}

}  // namespace samenzicht::simulator
