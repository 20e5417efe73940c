#include "simulator/agencies.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "samenzicht/v1/categories.pb.h"

namespace samenzicht::simulator {
namespace {

bool Has(const std::vector<int>& v, int x) { return std::find(v.begin(), v.end(), x) != v.end(); }

// Logit of the probability that an agency of `domain` sees person `p`, before the shared
// visibility factor and the boosts from other agencies.
double DomainLogit(int domain, const Person& p, int age) {
  using namespace v1;
  const bool sexual = p.form == FORM_SEXUAL || p.form == FORM_SEXUAL_AND_CRIMINAL;
  const bool criminal = p.form == FORM_CRIMINAL || p.form == FORM_SEXUAL_AND_CRIMINAL;
  const auto& ls = p.living_situation;
  const auto& co = p.coercion;
  switch (domain) {
    case DOMAIN_POLICE:
      return -1.7 + (criminal ? 0.8 : 0) + (p.gender == GENDER_MALE ? 0.2 : 0) +
             (Has(ls, LIVING_SITUATION_HOMELESS) ? 0.2 : 0) +
             (Has(co, COERCION_PHYSICAL_VIOLENCE) ? 0.3 : 0);
    case DOMAIN_YOUTH_CARE:
      return -1.9 + (age < 18 ? 2.0 : age <= 23 ? 0.3 : -2.5) +
             (Has(ls, LIVING_SITUATION_FOSTER_FAMILY) || Has(ls, LIVING_SITUATION_CARE_INSTITUTION) ? 0.6 : 0);
    case DOMAIN_MENTAL_HEALTH:
      return -2.0 + (Has(co, COERCION_ABUSE_OF_INTELLECTUAL_DISABILITY) ? 0.5 : 0) +
             (Has(co, COERCION_ADDICTION) ? 0.6 : 0) +
             (Has(ls, LIVING_SITUATION_CARE_INSTITUTION) ? 0.5 : 0);
    case DOMAIN_SOCIAL_WORK:
      return -1.4 + (Has(ls, LIVING_SITUATION_HOMELESS) ? 0.6 : 0) +
             (Has(ls, LIVING_SITUATION_ASYLUM_SHELTER) ? 0.3 : 0);
    case DOMAIN_EDUCATION:
      return -2.3 + (age >= 12 && age < 18 ? 1.9 : age <= 21 ? 0.4 : -3.0) +
             (p.recruitment_location[0] <= RECRUITMENT_LOCATION_SCHOOL_HIGHER ? 1.0 : 0);
    case DOMAIN_MUNICIPALITY:
      return -1.8 + (Has(ls, LIVING_SITUATION_ASYLUM_SHELTER) ? 0.3 : 0) +
             (Has(ls, LIVING_SITUATION_INDEPENDENT) ? 0.2 : 0);
    case DOMAIN_FINANCIAL:
      return -2.0 + (Has(co, COERCION_DEBT_BONDAGE) ? 1.0 : 0) +
             (Has(p.forced_crime, FORCED_CRIME_MONEY_MULE) || Has(p.forced_crime, FORCED_CRIME_STRAW_MAN) ||
                      Has(p.forced_crime, FORCED_CRIME_FORCED_PURCHASES) ? 0.9 : 0) +
             (age < 18 ? -1.5 : 0);
    case DOMAIN_SHELTER:
      return -2.6 + (Has(ls, LIVING_SITUATION_HOMELESS) ? 1.5 : 0) +
             (Has(ls, LIVING_SITUATION_ASYLUM_SHELTER) ? 1.0 : 0) +
             (sexual && p.gender == GENDER_FEMALE ? 0.3 : 0);
    case DOMAIN_HEALTH_CARE:
      return -2.4 + (sexual ? 0.4 : 0);
    default:
      return -2.6;
  }
}

// Extra log-odds for agency domain `to` when an agency of domain `from` already saw the
// person: the referral routes between professionals.
double Boost(int from, int to) {
  using namespace v1;
  static const std::vector<std::tuple<int, int, double>> kBoosts = {
      {DOMAIN_POLICE, DOMAIN_YOUTH_CARE, 0.8},      {DOMAIN_YOUTH_CARE, DOMAIN_EDUCATION, 0.6},
      {DOMAIN_SOCIAL_WORK, DOMAIN_FINANCIAL, 0.6},  {DOMAIN_POLICE, DOMAIN_MUNICIPALITY, 0.4},
      {DOMAIN_MENTAL_HEALTH, DOMAIN_SOCIAL_WORK, 0.4}, {DOMAIN_POLICE, DOMAIN_SHELTER, 0.4},
      {DOMAIN_YOUTH_CARE, DOMAIN_MENTAL_HEALTH, 0.3},
  };
  for (const auto& [f, t, b] : kBoosts) {
    if (f == from && t == to) return b;
  }
  return 0;
}

}  // namespace

std::vector<Agency> DefaultAgencies(int count) {
  using namespace v1;
  // name, domain, missing bsn/phone/email/address/dob, call name, first name only,
  // phone style, dutch dates, upper-case surname.
  static const std::vector<Agency> kBase = {
      {"police", DOMAIN_POLICE, 0.10, 0.25, 0.70, 0.15, 0.01, 0.05, 0.30, 2, false, true},
      {"youth_care", DOMAIN_YOUTH_CARE, 0.25, 0.30, 0.60, 0.10, 0.02, 0.35, 0.60, 0, false, false},
      {"mental_health", DOMAIN_MENTAL_HEALTH, 0.15, 0.20, 0.50, 0.15, 0.02, 0.20, 0.40, 4, true, false},
      {"social_work", DOMAIN_SOCIAL_WORK, 0.40, 0.20, 0.50, 0.30, 0.06, 0.40, 0.70, 1, true, false},
      {"education", DOMAIN_EDUCATION, 0.10, 0.40, 0.40, 0.20, 0.02, 0.40, 0.50, 0, true, false},
      {"municipality", DOMAIN_MUNICIPALITY, 0.05, 0.35, 0.60, 0.05, 0.01, 0.02, 0.20, 3, false, false},
      {"financial", DOMAIN_FINANCIAL, 0.05, 0.15, 0.40, 0.05, 0.02, 0.05, 0.30, 1, true, false},
      {"shelter", DOMAIN_SHELTER, 0.45, 0.30, 0.70, 0.60, 0.08, 0.40, 0.70, 4, false, false},
      {"health_care", DOMAIN_HEALTH_CARE, 0.05, 0.25, 0.60, 0.10, 0.01, 0.10, 0.40, 2, true, false},
      {"other", DOMAIN_OTHER, 0.50, 0.40, 0.60, 0.40, 0.10, 0.40, 0.70, 0, false, false},
  };
  std::vector<Agency> out;
  for (int i = 0; i < count; ++i) {
    Agency a = kBase[i % kBase.size()];
    if (i >= static_cast<int>(kBase.size())) a.name += "_" + std::to_string(i / kBase.size() + 1);
    out.push_back(a);
  }
  return out;
}

std::vector<Sighting> Observe(const std::vector<Person>& people,
                              const std::vector<Agency>& agencies,
                              const ObservationOptions& options) {
  const Date mid = AddMonths(options.start, options.months / 2);
  const int64_t first_day = DaysFromCivil(options.start);
  const int64_t period = DaysFromCivil(AddMonths(options.start, options.months)) - first_day;
  std::vector<Sighting> out;
  for (size_t i = 0; i < people.size(); ++i) {
    const Person& p = people[i];
    const int age = AgeAt(p.dob, mid);
    std::vector<int> seen_by;
    for (size_t j = 0; j < agencies.size(); ++j) {
      Rng rng = Rng::For(options.seed, "observe", i, j);
      double logit = DomainLogit(agencies[j].domain, p, age) + 0.8 * p.visibility;
      for (int k : seen_by) logit += Boost(agencies[k].domain, agencies[j].domain);
      if (!rng.Bernoulli(1.0 / (1.0 + std::exp(-logit)))) continue;
      seen_by.push_back(static_cast<int>(j));
      // Occasionally the same agency signals the person again, under a new record.
      int signals = 1 + (rng.Bernoulli(0.12) ? 1 + (rng.Bernoulli(0.25) ? 1 : 0) : 0);
      int64_t day = first_day + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(period)));
      for (int r = 0; r < signals; ++r) {
        if (r > 0) {
          int64_t rest = first_day + period - 1 - day;
          if (rest <= 0) break;
          day += 1 + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(rest)));
        }
        out.push_back(Sighting{static_cast<int>(i), static_cast<int>(j), CivilFromDays(day), r});
      }
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const Sighting& a, const Sighting& b) {
    if (a.agency != b.agency) return a.agency < b.agency;
    int64_t da = DaysFromCivil(a.signal_date), db = DaysFromCivil(b.signal_date);
    if (da != db) return da < db;
    return a.person < b.person;
  });
  return out;
}

}  // namespace samenzicht::simulator
