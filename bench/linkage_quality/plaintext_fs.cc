#include "bench/linkage_quality/plaintext_fs.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace samenzicht::bench {

double JaroWinkler(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty()) return 0;
  if (a == b) return 1;
  const int la = static_cast<int>(a.size()), lb = static_cast<int>(b.size());
  const int window = std::max(0, std::max(la, lb) / 2 - 1);
  std::vector<char> ma(la, 0), mb(lb, 0);
  int matches = 0;
  for (int i = 0; i < la; ++i) {
    const int lo = std::max(0, i - window), hi = std::min(lb - 1, i + window);
    for (int j = lo; j <= hi; ++j) {
      if (mb[j] || a[i] != b[j]) continue;
      ma[i] = mb[j] = 1;
      ++matches;
      break;
    }
  }
  if (matches == 0) return 0;
  int transposed = 0;
  for (int i = 0, j = 0; i < la; ++i) {
    if (!ma[i]) continue;
    while (!mb[j]) ++j;
    transposed += a[i] != b[j];
    ++j;
  }
  const double m = matches;
  const double jaro = (m / la + m / lb + (m - transposed / 2.0) / m) / 3.0;
  if (jaro <= 0.7) return jaro;
  int prefix = 0;
  while (prefix < 4 && prefix < la && prefix < lb && a[prefix] == b[prefix]) ++prefix;
  return jaro + prefix * 0.1 * (1 - jaro);
}

namespace {

// Levels, index 0 = else. Names of the levels, per comparison.
const std::array<std::vector<std::string>, kFsComparisons>& LevelNames() {
  static const auto* names = new std::array<std::vector<std::string>, kFsComparisons>{{
      {"else", "initial only, same", "jw>=0.85", "jw>=0.92", "exact", "given<->surname swapped",
       "phonetic (after call names) same"},
      {"else", "jw>=0.85", "jw>=0.92", "exact", "given<->surname swapped", "phonetic same"},
      {"else", "year within 1", "day<->month swap or one component differs", "exact"},
      {"else", "exact"},
      {"else", "exact"},
      {"else", "exact"},
      {"else", "exact"},
      {"else", "exact"},
      {"else", "same street, other house number", "street jw>=0.92, same house number",
       "exact"},
  }};
  return *names;
}
const std::array<const char*, kFsComparisons> kComparisonNames = {
    "given name", "surname", "date of birth", "postcode", "city", "phone", "national id",
    "e-mail", "address"};

bool Swapped(const ClearRecord& a, const ClearRecord& b) {
  if (a.given.empty() || b.given.empty() || a.surname.empty() || b.surname.empty()) {
    return false;
  }
  return JaroWinkler(a.given, b.surname) >= 0.92 && JaroWinkler(a.surname, b.given) >= 0.92;
}

int Exact(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return -1;
  return a == b ? 1 : 0;
}

}  // namespace

std::vector<int> CompareRecords(const ClearRecord& a, const ClearRecord& b) {
  std::vector<int> g(kFsComparisons, -1);
  // Given name.
  if (!a.initial.empty() && !b.initial.empty()) {
    if (!a.given.empty() && !b.given.empty()) {
      if (a.given == b.given) {
        g[kCmpGiven] = 4;
      } else if (Swapped(a, b)) {
        g[kCmpGiven] = 5;
      } else {
        const double s = JaroWinkler(a.given, b.given);
        g[kCmpGiven] = s >= 0.92                                                        ? 3
                       : !a.given_phonetic.empty() && a.given_phonetic == b.given_phonetic ? 6
                       : s >= 0.85                                                      ? 2
                                                                                        : 0;
      }
    } else {
      g[kCmpGiven] = a.initial == b.initial ? 1 : 0;
    }
  }
  // Surname.
  if (!a.surname.empty() && !b.surname.empty()) {
    if (a.surname == b.surname) {
      g[kCmpSurname] = 3;
    } else if (Swapped(a, b)) {
      g[kCmpSurname] = 4;
    } else {
      const double s = JaroWinkler(a.surname, b.surname);
      g[kCmpSurname] = s >= 0.92 ? 2
                       : !a.surname_phonetic.empty() && a.surname_phonetic == b.surname_phonetic
                           ? 5
                       : s >= 0.85 ? 1
                                   : 0;
    }
  }
  // Date of birth.
  if (a.dob_year && b.dob_year) {
    const bool y = a.dob_year == b.dob_year, m = a.dob_month == b.dob_month,
               d = a.dob_day == b.dob_day;
    const bool swap = a.dob_day == b.dob_month && a.dob_month == b.dob_day;
    if (y && m && d) {
      g[kCmpDob] = 3;
    } else if ((y && swap) || (y + m + d == 2)) {
      g[kCmpDob] = 2;
    } else if (std::abs(a.dob_year - b.dob_year) <= 1) {
      g[kCmpDob] = 1;
    } else {
      g[kCmpDob] = 0;
    }
  }
  g[kCmpPostcode] = Exact(a.postcode, b.postcode);
  g[kCmpCity] = Exact(a.city, b.city);
  g[kCmpPhone] = Exact(a.phone, b.phone);
  g[kCmpNationalId] = Exact(a.national_id, b.national_id);
  g[kCmpEmail] = Exact(a.email, b.email);
  if (!a.street.empty() && !b.street.empty() && !a.house_number.empty() &&
      !b.house_number.empty()) {
    const bool same_number = a.house_number == b.house_number;
    g[kCmpAddress] = a.street == b.street && same_number                        ? 3
                     : same_number && JaroWinkler(a.street, b.street) >= 0.92 ? 2
                     : a.street == b.street                                   ? 1
                                                                              : 0;
  }
  return g;
}

std::vector<std::string> BlockingKeys(const ClearRecord& r) {
  auto join = [](std::initializer_list<std::string_view> parts, std::string_view tag) {
    std::string k(tag);
    for (std::string_view p : parts) {
      if (p.empty()) return std::string();
      k += '|';
      k.append(p.data(), p.size());
    }
    return k;
  };
  const std::string year = r.dob_year ? absl::StrCat(r.dob_year) : "";
  const std::string dob =
      r.dob_year ? absl::StrFormat("%04d%02d%02d", r.dob_year, r.dob_month, r.dob_day) : "";
  std::string s3 = r.surname.substr(0, 3), g3 = r.given.substr(0, 3);
  if (g3 < s3) std::swap(s3, g3);  // unordered: survives a given<->surname swap
  return {
      join({r.surname_phonetic, year}, "sphon_year"),
      join({r.given, dob}, "given_dob"),
      join({dob}, "dob"),
      join({r.postcode, r.initial}, "pc_initial"),
      join({r.phone}, "phone"),
      join({r.national_id}, "nid"),
      join({s3, g3}, "sur3_given3"),
      join({r.email}, "email"),
      join({r.street, r.house_number}, "address"),
  };
}

namespace {

struct UnionFind {
  std::vector<int> parent;
  explicit UnionFind(size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  int Find(int x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  }
  void Union(int a, int b) {
    a = Find(a), b = Find(b);
    if (a != b) parent[std::max(a, b)] = std::min(a, b);
  }
};

// 4 bits per comparison: level + 1, 0 = missing.
static_assert(kFsComparisons * 4 <= 64, "the comparison vector is coded in 64 bits");
uint64_t Encode(const std::vector<int>& g) {
  uint64_t code = 0;
  for (int k = 0; k < kFsComparisons; ++k) code |= static_cast<uint64_t>(g[k] + 1) << (4 * k);
  return code;
}
int LevelOf(uint64_t code, int k) { return static_cast<int>((code >> (4 * k)) & 15u) - 1; }

constexpr double kPseudoCount = 1.0;

void Normalise(std::vector<double>* p) {
  double sum = 0;
  for (double& x : *p) sum += x = std::max(x, 1e-9);
  for (double& x : *p) x /= sum;
}

}  // namespace

namespace {

using Params = std::vector<std::vector<double>>;  // [comparison][level]
using Patterns = std::vector<std::pair<uint64_t, double>>;  // comparison vector, count
using Excluded = std::array<bool, kFsComparisons>;

double Posterior(uint64_t code, const Params& m, const Params& u, double lambda,
                 const Excluded& excluded) {
  double lm = std::log(lambda), lu = std::log(1 - lambda);
  for (int k = 0; k < kFsComparisons; ++k) {
    const int l = LevelOf(code, k);
    if (l < 0 || excluded[k]) continue;
    lm += std::log(m[k][l]);
    lu += std::log(u[k][l]);
  }
  return 1 / (1 + std::exp(lu - lm));
}

struct EmOutcome {
  double lambda = 0;
  int iterations = 0;
  bool converged = false;
};

// EM for lambda and m (and u when `learn_u`) over `patterns`; comparisons in `excluded`
// take no part (neither in the posterior nor re-estimated).
EmOutcome RunEm(const Patterns& patterns, Params* m, Params* u, bool learn_u,
                const Excluded& excluded, double lambda, int max_iterations) {
  EmOutcome out;
  for (; out.iterations < max_iterations && !patterns.empty();) {
    ++out.iterations;
    Params nm(kFsComparisons), nu(kFsComparisons);
    for (int k = 0; k < kFsComparisons; ++k) {
      nm[k].assign((*m)[k].size(), 0);
      nu[k].assign((*u)[k].size(), 0);
    }
    double matches = 0, total = 0;
    for (const auto& [code, count] : patterns) {
      const double p = Posterior(code, *m, *u, lambda, excluded);
      matches += p * count;
      total += count;
      for (int k = 0; k < kFsComparisons; ++k) {
        const int l = LevelOf(code, k);
        if (l < 0) continue;
        nm[k][l] += p * count;
        nu[k][l] += (1 - p) * count;
      }
    }
    const double new_lambda = std::clamp(matches / total, 1e-6, 1 - 1e-6);
    double change = std::abs(new_lambda - lambda);
    lambda = new_lambda;
    for (int k = 0; k < kFsComparisons; ++k) {
      if (excluded[k]) continue;
      // A pseudo-count per level (add-one smoothing): a level never seen among the
      // matches (or non-matches) gets a large finite weight, not an infinite one that
      // would let one field overrule all others.
      for (double& x : nm[k]) x += kPseudoCount;
      Normalise(&nm[k]);
      for (size_t l = 0; l < nm[k].size(); ++l) change = std::max(change, std::abs(nm[k][l] - (*m)[k][l]));
      (*m)[k] = nm[k];
      if (learn_u) {
        for (double& x : nu[k]) x += kPseudoCount;
        Normalise(&nu[k]);
        for (size_t l = 0; l < nu[k].size(); ++l) change = std::max(change, std::abs(nu[k][l] - (*u)[k][l]));
        (*u)[k] = nu[k];
      }
    }
    if (change < 1e-7) {
      out.converged = true;
      break;
    }
  }
  out.lambda = lambda;
  return out;
}

Patterns CountPatterns(const std::vector<uint64_t>& codes, const std::vector<uint16_t>& key_mask,
                       int key) {
  std::unordered_map<uint64_t, double> count;
  for (size_t p = 0; p < codes.size(); ++p) {
    if (key < 0 || (key_mask[p] >> key & 1)) count[codes[p]] += 1;
  }
  Patterns out(count.begin(), count.end());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

const char* FsMethodName(FsMethod m) {
  return m == FsMethod::kSplink ? "splink" : "fastlink";
}

FsResult LinkFellegiSunter(const std::vector<ClearRecord>& records, const FsOptions& options) {
  FsResult result;
  const size_t n = records.size();
  const auto& level_names = LevelNames();

  // Candidate pairs from the blocking keys, with the keys that proposed each.
  std::unordered_map<uint64_t, uint16_t> pair_keys;
  {
    std::vector<std::unordered_map<std::string, std::vector<int>>> blocks;
    for (size_t i = 0; i < n; ++i) {
      std::vector<std::string> keys = BlockingKeys(records[i]);
      if (blocks.empty()) blocks.resize(keys.size());
      for (size_t k = 0; k < keys.size(); ++k) {
        if (!keys[k].empty()) blocks[k][keys[k]].push_back(static_cast<int>(i));
      }
    }
    for (size_t k = 0; k < blocks.size(); ++k) {
      for (const auto& [key, members] : blocks[k]) {
        if (static_cast<int>(members.size()) > options.max_block) {
          ++result.skipped_blocks;
          result.skipped_block_records += static_cast<int64_t>(members.size());
          continue;
        }
        for (size_t a = 0; a < members.size(); ++a) {
          for (size_t b = a + 1; b < members.size(); ++b) {
            pair_keys[static_cast<uint64_t>(members[a]) << 32 | static_cast<uint32_t>(members[b])] |=
                static_cast<uint16_t>(1u << k);
          }
        }
      }
    }
  }
  std::vector<std::pair<uint64_t, uint16_t>> sorted_pairs(pair_keys.begin(), pair_keys.end());
  pair_keys.clear();
  std::sort(sorted_pairs.begin(), sorted_pairs.end());
  result.candidate_pairs = static_cast<int64_t>(sorted_pairs.size());
  std::vector<uint64_t> pattern_of_pair(sorted_pairs.size());
  std::vector<uint16_t> key_mask(sorted_pairs.size());
  for (size_t p = 0; p < sorted_pairs.size(); ++p) {
    const uint64_t pr = sorted_pairs[p].first;
    const int a = static_cast<int>(pr >> 32), b = static_cast<int>(pr & 0xffffffffu);
    pattern_of_pair[p] = Encode(CompareRecords(records[a], records[b]));
    key_mask[p] = sorted_pairs[p].second;
  }

  // u from random pairs; m from a prior that agreement is likely for a match.
  Params m(kFsComparisons), u(kFsComparisons);
  for (int k = 0; k < kFsComparisons; ++k) {
    const size_t levels = level_names[k].size();
    u[k].assign(levels, 0.5);  // a half count each: no level starts at zero
    m[k].assign(levels, 0.05 / (levels - 1));
  }
  m[kCmpGiven] = {0.05, 0.04, 0.03, 0.06, 0.76, 0.02, 0.04};
  m[kCmpSurname] = {0.05, 0.03, 0.06, 0.80, 0.02, 0.04};
  m[kCmpDob] = {0.05, 0.03, 0.07, 0.85};
  for (int k = kCmpPostcode; k < kCmpAddress; ++k) m[k] = {0.1, 0.9};
  m[kCmpAddress] = {0.1, 0.05, 0.05, 0.8};
  if (n >= 2) {
    std::mt19937_64 rng(options.seed);
    std::uniform_int_distribution<size_t> pick(0, n - 1);
    for (int s = 0; s < options.random_pairs; ++s) {
      size_t a = pick(rng), b = pick(rng);
      if (a == b) continue;
      std::vector<int> g = CompareRecords(records[a], records[b]);
      for (int k = 0; k < kFsComparisons; ++k) {
        if (g[k] >= 0) u[k][g[k]] += 1;
      }
    }
  }
  for (int k = 0; k < kFsComparisons; ++k) {
    Normalise(&u[k]);
    Normalise(&m[k]);
  }

  const Patterns all = CountPatterns(pattern_of_pair, key_mask, -1);
  const Excluded none{};
  double lambda = 0;
  FsModel& model = result.model;
  if (options.method == FsMethod::kFastLink) {
    // m, u and lambda together by EM over the candidate pairs (fastLink's recipe, here
    // after blocking); the posterior is conditional on being a candidate pair.
    EmOutcome em = RunEm(all, &m, &u, /*learn_u=*/true, none, 0.2, options.max_em_iterations);
    lambda = em.lambda;
    model.em_iterations = em.iterations;
    model.converged = em.converged;
  } else {
    // Splink's recipe: u stays at its random-pair estimate; m is trained by EM in one
    // session per training blocking key, on the pairs that key proposes, without the
    // comparisons of the fields the key blocks on (those agree by construction there);
    // each comparison's m is the mean over the sessions that trained it. Then lambda, the
    // probability that two random records match, by EM over all n(n-1)/2 pairs with m
    // and u fixed, counting the pairs that no key proposed as non-matches.
    struct Session {
      int key;  // index into BlockingKeys
      std::vector<FsComparison> excluded;
    };
    const std::vector<Session> sessions = {
        {2, {kCmpDob}},                         // dob
        {0, {kCmpSurname, kCmpDob}},            // surname phonetic + birth year
        {3, {kCmpPostcode, kCmpGiven}},         // postcode + initial
    };
    bool all_converged = true;
    Params sum(kFsComparisons);
    std::vector<int> trained(kFsComparisons, 0);
    for (int k = 0; k < kFsComparisons; ++k) sum[k].assign(m[k].size(), 0);
    for (const Session& s : sessions) {
      Excluded ex{};
      for (FsComparison c : s.excluded) ex[c] = true;
      Params ms = m, us = u;
      EmOutcome em = RunEm(CountPatterns(pattern_of_pair, key_mask, s.key), &ms, &us,
                           /*learn_u=*/false, ex, 0.2, options.max_em_iterations);
      model.em_iterations += em.iterations;
      all_converged = all_converged && em.converged;
      for (int k = 0; k < kFsComparisons; ++k) {
        if (ex[k]) continue;
        ++trained[k];
        for (size_t l = 0; l < ms[k].size(); ++l) sum[k][l] += ms[k][l];
      }
    }
    model.converged = all_converged;
    for (int k = 0; k < kFsComparisons; ++k) {
      if (!trained[k]) continue;
      for (size_t l = 0; l < m[k].size(); ++l) m[k][l] = sum[k][l] / trained[k];
    }
    const double total_pairs = 0.5 * double(n) * double(n > 0 ? n - 1 : 0);
    lambda = total_pairs > 0 ? std::min(0.5, double(sorted_pairs.size()) / total_pairs) : 0.5;
    for (int it = 0; it < 200 && total_pairs > 0; ++it) {
      double matches = 0;
      for (const auto& [code, count] : all) matches += count * Posterior(code, m, u, lambda, none);
      const double next = std::clamp(matches / total_pairs, 1e-12, 0.5);
      const bool done = std::abs(next - lambda) < 1e-6 * lambda;
      lambda = next;
      if (done) break;
    }
  }

  // Term-frequency adjustment of exact name agreement (Splink's term_frequency_adjustments):
  // agreeing on a common name is weaker evidence than agreeing on a rare one. The exact
  // level's u becomes u * tf(value) / sum(tf^2), so it averages to u over random pairs.
  std::unordered_map<std::string, double> tf_given, tf_surname;
  double tf2_given = 0, tf2_surname = 0;
  if (options.tf_adjust) {
    double ng = 0, ns = 0;
    for (const auto& r : records) {
      if (!r.given.empty()) ++tf_given[r.given], ++ng;
      if (!r.surname.empty()) ++tf_surname[r.surname], ++ns;
    }
    for (auto& [v, c] : tf_given) {
      c /= ng;
      tf2_given += c * c;
    }
    for (auto& [v, c] : tf_surname) {
      c /= ns;
      tf2_surname += c * c;
    }
  }
  auto pair_posterior = [&](size_t p) {
    const uint64_t code = pattern_of_pair[p];
    const double plain = Posterior(code, m, u, lambda, none);
    if (!options.tf_adjust) return plain;
    const ClearRecord& a = records[sorted_pairs[p].first >> 32];
    double log_odds = std::log(plain / std::max(1 - plain, 1e-300));
    if (LevelOf(code, kCmpGiven) == 4 && tf2_given > 0) {
      log_odds -= std::log(tf_given[a.given] / tf2_given);
    }
    if (LevelOf(code, kCmpSurname) == 3 && tf2_surname > 0) {
      log_odds -= std::log(tf_surname[a.surname] / tf2_surname);
    }
    return 1 / (1 + std::exp(-log_odds));
  };

  // Accept, cluster.
  UnionFind uf(n);
  for (size_t p = 0; p < sorted_pairs.size(); ++p) {
    if (pair_posterior(p) < options.threshold) continue;
    ++result.accepted_pairs;
    uf.Union(static_cast<int>(sorted_pairs[p].first >> 32),
             static_cast<int>(sorted_pairs[p].first & 0xffffffffu));
  }
  result.label.resize(n);
  for (size_t i = 0; i < n; ++i) result.label[i] = uf.Find(static_cast<int>(i));

  model.lambda = lambda;
  for (int k = 0; k < kFsComparisons; ++k) {
    FsComparisonParams c{kComparisonNames[k], {}};
    for (size_t l = 0; l < m[k].size(); ++l) c.levels.push_back({level_names[k][l], m[k][l], u[k][l]});
    model.comparisons.push_back(std::move(c));
  }
  return result;
}

std::string DescribeModel(const FsModel& model) {
  std::string out = absl::StrFormat(
      "    lambda %.6g after %d EM iterations%s\n", model.lambda,
      model.em_iterations, model.converged ? "" : " (not converged)");
  for (const auto& c : model.comparisons) {
    for (const auto& l : c.levels) {
      absl::StrAppendFormat(&out, "    %-14s %-44s m %.5f u %.5f weight %+7.2f\n", c.name, l.name,
                            l.m, l.u, std::log2(l.m / l.u));
    }
  }
  return out;
}

AttackResult FrequencyAttack(const std::unordered_map<std::string, int64_t>& known,
                             const std::unordered_map<std::string, int64_t>& observed,
                             uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto rank = [&rng](const std::unordered_map<std::string, int64_t>& counts) {
    std::vector<std::pair<std::string, int64_t>> v(counts.begin(), counts.end());
    std::sort(v.begin(), v.end());  // independent of the hash map's order
    std::shuffle(v.begin(), v.end(), rng);
    std::stable_sort(v.begin(), v.end(),
                     [](const auto& x, const auto& y) { return x.second > y.second; });
    return v;
  };
  const auto k = rank(known);
  const auto o = rank(observed);
  AttackResult r;
  r.known_values = static_cast<int64_t>(k.size());
  r.distinct_tokens = static_cast<int64_t>(o.size());
  for (size_t i = 0; i < o.size(); ++i) {
    r.overlap += known.count(o[i].first) > 0;
    r.occurrences += o[i].second;
    if (i < k.size() && k[i].first == o[i].first) {
      ++r.distinct_right;
      r.occurrences_right += o[i].second;
    }
  }
  return r;
}

}  // namespace samenzicht::bench
