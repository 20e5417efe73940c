#include "aggregator/linkage/probabilistic_linkage.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <limits>
#include <numeric>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "model/config.h"

namespace samenzicht::aggregator {
namespace {

constexpr int kMaxLevels[kNumComparisons] = {1, 1, 1, 4, 4, 4, 3, 2, 1};
constexpr const char* kNames[kNumComparisons] = {"national_id", "phone", "email", "given_name",
                                                  "surname", "date_of_birth", "postcode", "city",
                                                  "address"};
// Tokens per partition of the candidate phase (16 bytes each: about 512 MB at most).
constexpr size_t kPartitionTokens = size_t{32} << 20;
// Candidate pairs below this posterior are left out of the missed-link estimate and of
// --explain (they cannot add up to a person).
constexpr double kNegligible = 0.01;
constexpr double kFloor = 1e-9;
// A pair that speaks against a match (weight w < 0 bits, the prior left out, not linked
// itself) keeps two clusters apart only while w + kRepelBalance * v < 0, where v is the
// weight of the link that would join them (the strongest one left, pairs being taken from
// the strongest down). Before, any such pair kept them apart, and a person whose copies
// carry different errors stayed split whenever two of the copies looked unlike each other
// although each matched a third strongly. Measured on the stored grid tokens (2,000 and
// 20,000 persons) with 0, 0.25, 0.35, 0.5 and 1: 0.5 gained recall at every level (GeCo
// 2,000 seed 5 F1 0.9816 -> 0.9873, pseudopeople 20,000 seed 3 0.9986 -> 0.9990, Splink
// 20,000 seed 1 0.9988 -> 0.9992, moderate 20,000 seed 1 0.9966 -> 0.9972) and lost
// precision in a few runs (Splink 2,000 seed 2 0.9963 -> 0.9944, moderate seed 2 1.0 ->
// 0.9977); 1 cost GeCo 20,000 seed 1 precision 0.9930 -> 0.9845.
constexpr double kRepelBalance = 0.5;



// An observation of one comparison for a pair: missing, or "the level lies in [lo, hi]"
// (censored: a shared token proves `lo`; a higher level is ruled out only by a rule that
// both reports carry, whose other fields agree, and whose token they do not share).
// Pattern encoding: per comparison one digit, 0 = missing, 1 + the interval's index.
struct PatternCodec {
  uint32_t stride[kNumComparisons];
  uint32_t digits[kNumComparisons];
  std::array<std::vector<std::pair<int, int>>, kNumComparisons> intervals;
  std::array<std::vector<uint32_t>, kNumComparisons> index;  // lo * 8 + hi -> digit
  PatternCodec() {
    uint32_t stride_so_far = 1;
    for (int c = 0; c < kNumComparisons; ++c) {
      index[c].assign(64, 0);
      for (int lo = 0; lo <= kMaxLevels[c]; ++lo) {
        for (int hi = lo; hi <= kMaxLevels[c]; ++hi) {
          intervals[c].push_back({lo, hi});
          index[c][lo * 8 + hi] = static_cast<uint32_t>(intervals[c].size());
        }
      }
      digits[c] = static_cast<uint32_t>(intervals[c].size()) + 1;
      stride[c] = stride_so_far;
      stride_so_far *= digits[c];
    }
  }
  uint32_t Digit(int c, int lo, int hi) const { return index[c][lo * 8 + hi]; }
  // False when comparison c is missing in `pattern`; else its interval.
  bool Interval(uint32_t pattern, int c, int* lo, int* hi) const {
    const uint32_t d = pattern / stride[c] % digits[c];
    if (d == 0) return false;
    *lo = intervals[c][d - 1].first;
    *hi = intervals[c][d - 1].second;
    return true;
  }
  // The lowest level of the interval (what --explain shows), -1 = missing.
  int Level(uint32_t pattern, int c) const {
    int lo, hi;
    return Interval(pattern, c, &lo, &hi) ? lo : -1;
  }
};

class UnionFind {
 public:
  explicit UnionFind(uint32_t n) : parent_(n), size_(n, 1) {
    std::iota(parent_.begin(), parent_.end(), 0u);
  }
  uint32_t Find(uint32_t x) {
    while (parent_[x] != x) {
      parent_[x] = parent_[parent_[x]];
      x = parent_[x];
    }
    return x;
  }
  uint32_t Size(uint32_t root) const { return size_[root]; }
  // Joins two roots; returns the new root.
  uint32_t Join(uint32_t a, uint32_t b) {
    if (size_[a] < size_[b]) std::swap(a, b);
    parent_[b] = a;
    size_[a] += size_[b];
    return a;
  }

 private:
  std::vector<uint32_t> parent_;
  std::vector<uint32_t> size_;
};

constexpr uint32_t kNoGroup = std::numeric_limits<uint32_t>::max();

// The rules (below 64) whose tokens a candidate pair shares, and the lowest name-frequency
// value among them.
constexpr uint64_t kNoValue = std::numeric_limits<uint64_t>::max();

struct SharedRules {
  uint64_t mask = 0;
  uint64_t value = kNoValue;  // the lowest shared name-frequency value (see phase 1)
};

struct KeyedToken {
  uint64_t key;  // TokenKey
  uint32_t report;
  uint16_t rule;
};

// Sorts by (key, report). The top `skip_bits` bits of every key are equal (the partition).
// First an in-place most-significant-digit pass on the next kDigitBits bits (American flag
// sort), then each bucket, now small enough for the cache, by comparison: two to three
// times faster than one comparison sort over tens of millions of tokens.
void SortByKeyAndReport(std::vector<KeyedToken>* v, int skip_bits) {
  constexpr int kDigitBits = 12;
  constexpr size_t kBuckets = size_t{1} << kDigitBits;
  auto less = [](const KeyedToken& x, const KeyedToken& y) {
    return x.key != y.key ? x.key < y.key : x.report < y.report;
  };
  if (v->size() < (size_t{1} << 16) || skip_bits + kDigitBits > 64) {
    std::sort(v->begin(), v->end(), less);
    return;
  }
  auto digit = [skip_bits](const KeyedToken& t) {
    return static_cast<size_t>((t.key << skip_bits) >> (64 - kDigitBits));
  };
  std::vector<size_t> begin(kBuckets + 1, 0), next(kBuckets);
  for (const KeyedToken& t : *v) ++begin[digit(t) + 1];
  for (size_t b = 0; b < kBuckets; ++b) begin[b + 1] += begin[b];
  for (size_t b = 0; b < kBuckets; ++b) next[b] = begin[b];
  KeyedToken* data = v->data();
  for (size_t b = 0; b < kBuckets; ++b) {
    while (next[b] < begin[b + 1]) {
      KeyedToken t = data[next[b]];
      size_t d = digit(t);
      while (d != b) {
        std::swap(t, data[next[d]++]);
        d = digit(t);
      }
      data[next[b]++] = t;
    }
  }
  for (size_t b = 0; b < kBuckets; ++b) std::sort(data + begin[b], data + begin[b + 1], less);
}

struct Pair {
  uint32_t a, b;
  uint32_t obs;    // its observation (pattern and joint constraints), see Observation
  uint32_t group;  // the shared name-frequency value (the lowest), or kNoGroup
  uint64_t mask;
};

// A deterministic first guess (as linkage tools seed EM with deterministic rules): a pair
// is a match when its proven agreement, summed over the comparisons as a share of each
// one's top level, reaches 2 (e.g. exact name and date of birth, or a national id and a
// name) and nothing it has is proven to disagree below half its scale.
double FirstGuess(const PatternCodec& codec, uint32_t pattern);

// An anchored pattern: both names agree at least phonetically, a third identifier agrees
// exactly (the full date of birth, the postcode within one edit, or a unique identifier), and nothing
// is proven to disagree below half its scale. When the unsupervised fit rejects most such
// pairs, the model is fitted again with them taken as matches (semi-supervised EM): records
// with few kinds of identifier (names, city and postcode only) leave the two-class model
// unidentified, and EM settles on a split that says nothing (measured: no pair linked at
// all on such records).
//
// `ignoring` names a comparison whose disagreement does not count: the m-probabilities of a
// comparison are estimated from the pairs anchored without looking at it. Otherwise a
// comparison that anchors exclude when it disagrees gets m = 0 for disagreement, and
// every match with that field mistyped is refused: measured on records with names,
// postcode and town only (GeCo, 40% of copies with three errors, seed 1) the refit gave a
// differing town a weight of -15.4 bits, and 48 true pairs with both names phonetically
// equal and the same postcode were left apart for a misspelt town. Splink estimates each
// comparison's m in a training session whose blocking rule does not use it, for the same
// reason.
bool Anchored(const PatternCodec& codec, uint32_t pattern, int ignoring = -1) {
  int lo[kNumComparisons], hi[kNumComparisons];
  bool seen[kNumComparisons];
  for (int c = 0; c < kNumComparisons; ++c) {
    seen[c] = codec.Interval(pattern, c, &lo[c], &hi[c]);
    if (c != ignoring && seen[c] && 2 * hi[c] < kMaxLevels[c]) return false;
  }
  if (!seen[kCmpGivenName] || !seen[kCmpSurname] || lo[kCmpGivenName] < 3 || lo[kCmpSurname] < 3) {
    return false;
  }
  auto top = [&](Comparison c) { return seen[c] && lo[c] == kMaxLevels[c]; };
  // The postcode within one edit counts as agreeing: two addresses whose postcodes differ
  // in one character and whose residents' names sound the same are rarely two persons
  // (measured on records with names, postcode and town only, 40% of copies with two
  // GeCo errors: 280 true pairs and 12 namesakes; left out, the fit took the one-edit
  // level for evidence against a match and linked none of them).
  const bool postcode = seen[kCmpPostcode] && lo[kCmpPostcode] >= kMaxLevels[kCmpPostcode] - 1;
  return top(kCmpDateOfBirth) || postcode || top(kCmpAddress) || top(kCmpNationalId) ||
         top(kCmpPhone) || top(kCmpEmail);
}
// The share a pair of an anchored pattern counts as a match in a semi-supervised fit, and
// the share of anchored pairs the unsupervised fit must accept to be kept.
constexpr double kAnchorMatch = 0.999;
constexpr double kAnchorsAccepted = 0.9;
// No single kind (pattern) of anchored pair holding this share of them may be rejected.
constexpr double kAnchoredPatternShare = 0.02;
// A fit in which exact agreement on a unique identifier (national id, phone, e-mail) is
// worth less than this many bits, while at least kUniqueIdPairs of the candidate pairs
// show it, has split the matches themselves (say by whether the date of birth agrees)
// instead of matches from non-matches: with few namesakes among the candidate pairs (long-
// tailed names) the two-class model is not identified. It is fitted again with that
// agreement's u held at kUniqueIdU.
constexpr double kUniqueIdMinBits = 2;
constexpr double kUniqueIdPairs = 0.01;
constexpr double kUniqueIdU = 0.01;
constexpr Comparison kUniqueIds[] = {kCmpNationalId, kCmpPhone, kCmpEmail};
// The comparisons beyond the names and the town: what a pair must agree on, besides its
// names, to be more than namesakes (refuted pairs, the term-frequency adjustment).
constexpr Comparison kBeyondNames[] = {kCmpDateOfBirth, kCmpPostcode, kCmpAddress,
                                       kCmpNationalId,  kCmpPhone,    kCmpEmail};

// A refuted pattern: the two records agree on nothing but names and city (no part of the
// date of birth, the postcode or a unique identifier is proven to agree), and their
// postcode, date of birth or a unique identifier is proven to differ. Namesakes in one
// town look like this; so does a person who moved and whose birth date is missing from
// one record, and the two cannot be told apart from tokens. Such pairs are never linked,
// whatever a model fitted on records with few kinds of identifier says.
bool Refuted(const PatternCodec& codec, uint32_t pattern) {
  bool disagree = false;
  for (Comparison c : kBeyondNames) {
    int lo, hi;
    if (!codec.Interval(pattern, c, &lo, &hi)) continue;
    if (lo > 0) return false;
    if (2 * hi < kMaxLevels[c]) disagree = true;
  }
  return disagree;
}

// A twin pattern: the same surname (at least phonetically), the same date of birth (at least
// with day and month in either order) and the same address or no address to compare, while
// the given names are proven to differ entirely (not even the first letter is shared), and
// no national id, phone or e-mail agrees. Twins look like this; a person whose given name was
// written as another name altogether rarely does (a call name or transliteration shares
// the phonetic given name). Candidate pairs seldom hold twins, so EM has little to learn
// from and weighs such a different given name as next to nothing: measured, two twins
// sharing surname, birthday and postcode got posterior 1.0. Such pairs are never linked and
// keep their clusters apart.
bool Twins(const PatternCodec& codec, uint32_t pattern) {
  int lo, hi;
  if (!codec.Interval(pattern, kCmpGivenName, &lo, &hi) || hi != 0) return false;
  if (!codec.Interval(pattern, kCmpSurname, &lo, &hi) || lo < 3) return false;
  if (!codec.Interval(pattern, kCmpDateOfBirth, &lo, &hi) || lo < 3) return false;
  if (codec.Interval(pattern, kCmpPostcode, &lo, &hi) && hi < kMaxLevels[kCmpPostcode]) return false;
  if (codec.Interval(pattern, kCmpAddress, &lo, &hi) && hi < kMaxLevels[kCmpAddress]) return false;
  for (Comparison c : {kCmpNationalId, kCmpPhone, kCmpEmail}) {
    if (codec.Interval(pattern, c, &lo, &hi) && lo > 0) return false;
  }
  return true;
}

// A strangers pattern: the names are proven not even phonetically equal (both, or the one
// that both records have: a surname left blank on one record hides nothing), a national
// id, phone or e-mail is proven to differ and none agrees. What such records share is the date
// of birth and the address: a birthday copied from another member of the household (one of
// the errors of census-like data), or a shelter registering one date for everyone. The
// model weighs names that disagree as weak evidence (candidate pairs hold few such pairs),
// so without this they linked on date of birth and postcode alone: measured on 20,000
// persons with pseudopeople's errors, 12 of 12 such linked pairs (seed 1) were two persons.
// With a name missing on one record the same holds: measured on 2,000 persons with
// pseudopeople's errors (seed 5), a record with a blank surname, another given name, phone
// and national id, and a birthday copied from a household member linked on date of birth
// and postcode and merged two persons.
// A person whose names were both rewritten and whose phone number changed is lost here.
bool Strangers(const PatternCodec& codec, uint32_t pattern) {
  int lo, hi, names = 0;
  for (Comparison c : {kCmpGivenName, kCmpSurname}) {
    if (!codec.Interval(pattern, c, &lo, &hi)) continue;  // missing on one record
    if (hi > 2) return false;
    ++names;
  }
  if (names == 0) return false;
  bool differs = false;
  for (Comparison c : kUniqueIds) {
    if (!codec.Interval(pattern, c, &lo, &hi)) continue;
    if (lo > 0) return false;
    if (hi == 0) differs = true;
  }
  return differs;
}

// A weak pattern: one name is proven to agree at best by its first letter, and nothing but
// the names, the postcode's area and the town is proven to agree (no part of the date of
// birth, not the postcode within one edit, no unique identifier). Brothers and sisters at
// neighbouring addresses look like this (a surname within one edit, one initial, one
// postcode area), and so does a person whose given name was rewritten and whose postcode
// was mistyped; tokens cannot tell them apart, and a name plus part of an address is not
// enough to merge two persons. Measured on records with names, postcode and town only
// (GeCo, 40% of copies with three errors, 2,000 persons, seed 1): 71 such pairs were one
// person and 56 were two under profile version 6 (19 and 56 under version 7, whose
// surdel_pc shows a shared full postcode), and the model, fitted on candidate pairs that
// nearly all agree on the names, gave them posterior 0.97. Such a pair can still be joined
// through other records of the same person.
bool Weak(const PatternCodec& codec, uint32_t pattern) {
  int lo, hi;
  bool initial_only = false;
  for (Comparison c : {kCmpGivenName, kCmpSurname}) {
    if (codec.Interval(pattern, c, &lo, &hi) && hi <= 1) initial_only = true;
  }
  if (!initial_only) return false;
  for (Comparison c : {kCmpDateOfBirth, kCmpAddress, kCmpNationalId, kCmpPhone, kCmpEmail}) {
    if (codec.Interval(pattern, c, &lo, &hi) && lo > 0) return false;
  }
  return !(codec.Interval(pattern, kCmpPostcode, &lo, &hi) && lo >= kMaxLevels[kCmpPostcode] - 1);
}

// Kinds of pairs that are never linked, whatever the model says.
bool NeverLinked(const PatternCodec& codec, uint32_t pattern) {
  return Refuted(codec, pattern) || Twins(codec, pattern) || Strangers(codec, pattern) ||
         Weak(codec, pattern);
}

// Higher agreement is never evidence against a match: the likelihood ratio m/u must not
// fall from one level to the next. Adjacent levels that violate it are pooled (pool
// adjacent violators) to the ratio of their sums, each level keeping its share of u.
void MonotoneRatios(std::vector<double>* m, std::vector<double>* u) {
  struct Block {
    double m, u;
    size_t first, last;
  };
  std::vector<Block> blocks;
  for (size_t l = 0; l < m->size(); ++l) {
    blocks.push_back({(*m)[l], (*u)[l], l, l});
    while (blocks.size() > 1) {
      const Block& b = blocks.back();
      const Block& a = blocks[blocks.size() - 2];
      if (a.m * b.u <= b.m * a.u) break;  // a.m / a.u <= b.m / b.u: in order
      Block merged{a.m + b.m, a.u + b.u, a.first, b.last};
      blocks.pop_back();
      blocks.back() = merged;
    }
  }
  for (const Block& b : blocks) {
    for (size_t l = b.first; l <= b.last; ++l) (*m)[l] = b.m * (*u)[l] / b.u;
  }
}

double IntervalSum(const std::vector<double>& p, int lo, int hi) {
  double sum = 0;
  for (int l = lo; l <= hi; ++l) sum += p[l];
  return sum;
}

// EM over the pattern counts (each pattern with the number of candidate pairs that show
// it). A censored observation [lo, hi] contributes P(level in [lo, hi]) to the likelihood,
// and its count is shared over the levels of the interval in the M step.
FittedModel Fit(const PatternCodec& codec, const std::vector<std::pair<uint32_t, uint64_t>>& counts,
                int iterations, bool anchored, bool hold_unique_ids = false) {
  FittedModel fm;
  for (int c = 0; c < kNumComparisons; ++c) {
    const int n = kMaxLevels[c] + 1;
    fm.m[c].assign(n, 0);
    fm.u[c].assign(n, 0);
    // Start: matches mostly agree at the top level, non-matches mostly disagree.
    for (int l = 0; l < n; ++l) {
      fm.m[c][l] = l == n - 1 ? 0.7 : 0.3 / (n - 1);
      fm.u[c][l] = l == 0 ? 0.7 : 0.3 / (n - 1);
    }
  }
  fm.match_share = 0.3;
  if (counts.empty()) return fm;
  std::array<std::vector<double>, kNumComparisons> M, U;
  double previous = -std::numeric_limits<double>::infinity();
  // Iteration 0 is an M step from the deterministic first guess.
  for (int it = 0; it <= iterations; ++it) {
    for (int c = 0; c < kNumComparisons; ++c) {
      M[c].assign(fm.m[c].size(), 0);
      U[c].assign(fm.u[c].size(), 0);
    }
    double matches = 0, total = 0, loglik = 0;
    for (const auto& [pattern, n] : counts) {
      double pm = fm.match_share, pu = 1 - fm.match_share;
      int lo[kNumComparisons], hi[kNumComparisons];
      bool seen[kNumComparisons];
      for (int c = 0; c < kNumComparisons; ++c) {
        seen[c] = codec.Interval(pattern, c, &lo[c], &hi[c]);
        if (!seen[c]) continue;
        pm *= IntervalSum(fm.m[c], lo[c], hi[c]);
        pu *= IntervalSum(fm.u[c], lo[c], hi[c]);
      }
      const double estimate = it == 0 ? FirstGuess(codec, pattern) : pm / (pm + pu);
      const double g = anchored && Anchored(codec, pattern) ? kAnchorMatch : estimate;
      const double nn = static_cast<double>(n);
      loglik += nn * std::log(pm + pu);
      matches += g * nn;
      total += nn;
      for (int c = 0; c < kNumComparisons; ++c) {
        if (!seen[c]) continue;
        const double g = anchored && Anchored(codec, pattern, c) ? kAnchorMatch : estimate;
        const double sm = IntervalSum(fm.m[c], lo[c], hi[c]);
        const double su = IntervalSum(fm.u[c], lo[c], hi[c]);
        for (int l = lo[c]; l <= hi[c]; ++l) {
          M[c][l] += g * nn * fm.m[c][l] / sm;
          U[c][l] += (1 - g) * nn * fm.u[c][l] / su;
        }
      }
    }
    fm.match_share = std::clamp(matches / total, 1e-4, 1 - 1e-4);
    for (int c = 0; c < kNumComparisons; ++c) {
      const double sm = std::accumulate(M[c].begin(), M[c].end(), 0.0);
      const double su = std::accumulate(U[c].begin(), U[c].end(), 0.0);
      if (sm + su == 0) continue;  // never observed: keep the start values
      for (size_t l = 0; l < M[c].size(); ++l) {
        // A small pseudo-count keeps every level possible in both classes.
        fm.m[c][l] = std::max(kFloor, (M[c][l] + 0.01) / (sm + 0.01 * M[c].size()));
        fm.u[c][l] = std::max(kFloor, (U[c][l] + 0.01) / (su + 0.01 * U[c].size()));
      }
    }
    if (hold_unique_ids) {
      // Non-matching records rarely share a unique identifier: its exact agreement keeps
      // a fixed small u, the other levels share the rest in their fitted proportions.
      for (Comparison c : kUniqueIds) {
        std::vector<double>& u = fm.u[c];
        const size_t top = u.size() - 1;
        double rest = 0;
        for (size_t l = 0; l < top; ++l) rest += u[l];
        if (rest <= 0) continue;
        for (size_t l = 0; l < top; ++l) u[l] *= (1 - kUniqueIdU) / rest;
        u[top] = kUniqueIdU;
      }
    }
    for (int c = 0; c < kNumComparisons; ++c) MonotoneRatios(&fm.m[c], &fm.u[c]);
    fm.iterations = it;
    if (it > 0 && std::abs(loglik - previous) < 1e-9 * std::max(1.0, std::abs(loglik))) break;
    previous = loglik;
  }
  return fm;
}

double FirstGuess(const PatternCodec& codec, uint32_t pattern) {
  double score = 0;
  for (int c = 0; c < kNumComparisons; ++c) {
    int lo, hi;
    if (!codec.Interval(pattern, c, &lo, &hi)) continue;
    score += static_cast<double>(lo) / kMaxLevels[c];
    if (2 * hi < kMaxLevels[c]) score -= 1;
  }
  return score >= 2 ? 0.95 : 0.05;
}

double Posterior(const FittedModel& fm, const PatternCodec& codec, uint32_t pattern, double* weight) {
  double w = std::log2(fm.match_share / (1 - fm.match_share));
  for (int c = 0; c < kNumComparisons; ++c) {
    int lo, hi;
    if (!codec.Interval(pattern, c, &lo, &hi)) continue;
    w += std::log2(IntervalSum(fm.m[c], lo, hi) / IntervalSum(fm.u[c], lo, hi));
  }
  if (weight != nullptr) *weight = w;
  return 1 / (1 + std::exp2(-w));
}

// What a pair shows: its pattern (per comparison the interval [lo, hi] of the level) and the
// joint constraints that no interval can express. A rule that both reports carry and do not
// share, with two or more of its comparisons not proven to reach its level, says that at least
// one of them stays below it: two records that share only an initial, a surname within one
// edit and a postcode area, and not the token over both phonetic names and the town, do not
// agree on all three.
//
// The weights are fitted and the decisions made on the pattern alone; the error estimate
// (phase 5) uses the whole observation. Without the constraints, pairs whose only shared
// token is a weak one looked like matches whose other fields were merely unknown: measured on
// GeCo's errors, 20,000 persons, seed 1, 502 pairs of clusters joined only by an initial, a
// surname within one edit and a postcode area stood at posterior 0.71 to 0.74 each, 67 of them
// one person, and the missed links were estimated at 460 against 225 clusters too many; with
// them, 204.5. Deciding on the whole observation as well was measured and not kept: with the
// same fitted weights (2,000 persons, seeds 1-3, five corruption models) it raised precision
// and lowered recall, and moved the count of persons further from the truth in 7 of 15 runs
// (GeCo seed 3 +1.13% -> +2.06%, Splink seed 2 +0.00% -> +0.42%); refitting the weights on
// the whole observation did the same (pseudopeople seed 2 persons +0.07% -> +0.28%).
struct Observation {
  uint32_t pattern = 0;
  // Per constraint and comparison: the level the comparison must stay below (0 = not
  // involved). A constraint holds when one involved comparison stays below its level.
  std::vector<std::array<uint8_t, kNumComparisons>> below;
};

// P(observation | class), the comparisons being independent within the class with level
// probabilities `p` (fm.m or fm.u).
double JointLikelihood(const PatternCodec& codec, const Observation& obs,
                       const std::array<std::vector<double>, kNumComparisons>& p) {
  int lo[kNumComparisons], hi[kNumComparisons];
  bool seen[kNumComparisons];
  uint32_t involved_mask = 0;
  for (int c = 0; c < kNumComparisons; ++c) seen[c] = codec.Interval(obs.pattern, c, &lo[c], &hi[c]);
  for (const auto& b : obs.below) {
    for (int c = 0; c < kNumComparisons; ++c) {
      if (b[c] > 0 && seen[c]) involved_mask |= 1u << c;
    }
  }
  double like = 1;
  int involved[kNumComparisons], n = 0, level[kNumComparisons];
  for (int c = 0; c < kNumComparisons; ++c) {
    if (!seen[c]) continue;
    if (involved_mask >> c & 1) {
      involved[n++] = c;
      level[c] = lo[c];
    } else {
      like *= IntervalSum(p[c], lo[c], hi[c]);
    }
  }
  if (n == 0) return like;
  // Every combination of the involved comparisons' levels within their intervals (at most
  // 2 x 2 x 2 x 5 x 5 x 5 x 4 x 3), summed over those that meet every constraint.
  double total = 0;
  while (true) {
    bool holds = true;
    for (size_t j = 0; j < obs.below.size() && holds; ++j) {
      const auto& b = obs.below[j];
      bool one_below = false;
      for (int k = 0; k < n && !one_below; ++k) one_below = level[involved[k]] < b[involved[k]];
      holds = one_below;
    }
    if (holds) {
      double w = 1;
      for (int k = 0; k < n; ++k) w *= p[involved[k]][level[involved[k]]];
      total += w;
    }
    int k = 0;
    for (; k < n; ++k) {
      const int c = involved[k];
      if (level[c] < hi[c]) {
        ++level[c];
        break;
      }
      level[c] = lo[c];
    }
    if (k == n) break;
  }
  return like * total;
}

// The posterior match probability of a whole observation (for the error estimate).
double JointPosterior(const FittedModel& fm, const PatternCodec& codec, const Observation& obs) {
  const double pm = fm.match_share * JointLikelihood(codec, obs, fm.m);
  const double pu = (1 - fm.match_share) * JointLikelihood(codec, obs, fm.u);
  return pm + pu > 0 ? pm / (pm + pu) : 0;
}

// A name-frequency rule: its tokens agree on both names and on nothing but, at most, the
// place of residence; how many persons carry one of its values is the frequency of that
// name in that place.
bool NameFrequencyRule(const std::array<uint8_t, kNumComparisons>& cert) {
  if (cert[kCmpGivenName] == 0 || cert[kCmpSurname] == 0) return false;
  for (int c = 0; c < kNumComparisons; ++c) {
    if (c != kCmpGivenName && c != kCmpSurname && c != kCmpCity && cert[c] != 0) return false;
  }
  return true;
}

// Term-frequency adjustment (phase 4b). `name_values` holds (value, report) for every value
// of a name-frequency rule that two or more reports share; `person` is the first
// clustering. A pair is adjusted when it shares such a value and agrees on nothing else
// (no part of the date of birth, the postcode or a unique identifier): its evidence is the
// names in one place. Let k be the number of persons of the first clustering that carry
// the value, less one for the pair's own person (at least 1: a pair that the first
// clustering left apart counts as two persons, so the estimate errs towards common). The
// chance that a non-matching report carries the value is proportional to k; the fitted u
// of agreeing names is its mean over the non-matching pairs that share a value (k_mean:
// each adjusted pair weighted by 1 minus its posterior). So log2(k_mean / k) is added to the pair's weight: a name few others
// carry counts for more, a common one for less. Returns whether a decision or a repulsion
// of phase 4 changed (the clustering must then be made again). `ruled_out` holds, per pair,
// whether its kind is never linked (decided once per pattern).
bool AdjustForNameFrequency(const std::vector<Pair>& pairs,
                            std::vector<std::pair<uint32_t, uint32_t>> name_values,
                            uint32_t num_values, const std::vector<uint32_t>& person,
                            double threshold, double prior, const PatternCodec& codec,
                            const std::vector<Observation>& observations,
                            const std::vector<uint8_t>& ruled_out, std::vector<double>* weight, std::vector<double>* posterior,
                            std::vector<uint8_t>* accepted) {
  for (auto& [value, report] : name_values) report = person[report];
  std::sort(name_values.begin(), name_values.end());
  name_values.erase(std::unique(name_values.begin(), name_values.end()), name_values.end());
  std::vector<uint32_t> persons(num_values, 0);
  for (const auto& [value, p] : name_values) ++persons[value];
  auto adjusted = [&](const Pair& pr) {
    if (pr.group == kNoGroup) return false;
    for (Comparison c : kBeyondNames) {
      int lo, hi;
      if (codec.Interval(observations[pr.obs].pattern, c, &lo, &hi) && lo > 0) return false;
    }
    return true;
  };
  auto others = [&](const Pair& pr) {
    return std::max(1.0, static_cast<double>(persons[pr.group]) - 1);
  };
  // Pairs of persons of the first clustering kept apart by a pair that speaks against a
  // match (as in phase 4): two namesakes at different addresses.
  absl::flat_hash_set<uint64_t> apart;
  for (size_t i = 0; i < pairs.size(); ++i) {
    if ((*accepted)[i] || (*weight)[i] - prior >= 0) continue;
    uint32_t x = person[pairs[i].a], y = person[pairs[i].b];
    if (x == y) continue;
    if (x > y) std::swap(x, y);
    apart.insert(uint64_t{x} << 32 | y);
  }
  double sum = 0, total = 0;
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (!adjusted(pairs[i])) continue;
    const double w = 1 - (*posterior)[i];
    sum += w * others(pairs[i]);
    total += w;
  }
  if (total <= 0) return false;
  const double mean = sum / total;
  std::vector<uint32_t> raised;  // pairs the adjustment brought to the threshold
  bool changed = false;          // a decision or a repulsion of phase 4 changed
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (!adjusted(pairs[i])) continue;
    const bool before = (*accepted)[i];
    const bool repelled_before = !before && (*weight)[i] - prior < 0;
    (*weight)[i] += std::log2(mean / others(pairs[i]));
    (*posterior)[i] = 1 / (1 + std::exp2(-(*weight)[i]));
    (*accepted)[i] = (*posterior)[i] >= threshold && !ruled_out[i];
    if ((*accepted)[i] && !before) raised.push_back(static_cast<uint32_t>(i));
    changed |= (*accepted)[i] != before || (!(*accepted)[i] && (*weight)[i] - prior < 0) != repelled_before;
  }
  // A report that the adjustment would join to two persons kept apart (one record without
  // an address whose name two persons in town carry) is ambiguous: it joins neither. Left
  // to the clustering, the pair met first would win, and that depends on the numbering of
  // reports.
  std::vector<std::pair<uint32_t, uint32_t>> partner;  // (report, person of the other side)
  for (uint32_t i : raised) {
    const Pair& pr = pairs[i];
    if (person[pr.a] == person[pr.b]) continue;
    partner.push_back({pr.a, person[pr.b]});
    partner.push_back({pr.b, person[pr.a]});
  }
  std::sort(partner.begin(), partner.end());
  partner.erase(std::unique(partner.begin(), partner.end()), partner.end());
  absl::flat_hash_set<uint32_t> ambiguous;
  for (size_t s = 0; s < partner.size();) {
    size_t e = s + 1;
    while (e < partner.size() && partner[e].first == partner[s].first) ++e;
    for (size_t x = s; x < e && !ambiguous.contains(partner[s].first); ++x) {
      for (size_t y = x + 1; y < e; ++y) {
        const uint64_t key = uint64_t{partner[x].second} << 32 | partner[y].second;  // x < y
        if (apart.contains(key)) {
          ambiguous.insert(partner[s].first);
          break;
        }
      }
    }
    s = e;
  }
  for (uint32_t i : raised) {
    if (ambiguous.contains(pairs[i].a) || ambiguous.contains(pairs[i].b)) (*accepted)[i] = 0;
  }
  return changed;
}

}  // namespace

int MaxLevel(Comparison c) { return kMaxLevels[c]; }
const char* ComparisonName(Comparison c) { return kNames[c]; }

Certification CertifiedLevel(v1::Field f) {
  switch (f) {
    case v1::FIELD_NATIONAL_ID: return {kCmpNationalId, 1};
    case v1::FIELD_PHONE: return {kCmpPhone, 1};
    case v1::FIELD_EMAIL: return {kCmpEmail, 1};
    case v1::FIELD_GIVEN_NAMES:
    case v1::FIELD_FIRST_GIVEN_NAME: return {kCmpGivenName, 4};
    case v1::FIELD_GIVEN_NAME_PHONETIC: return {kCmpGivenName, 3};
    case v1::FIELD_GIVEN_NAME_DELETIONS: return {kCmpGivenName, 2};
    case v1::FIELD_FIRST_INITIAL: return {kCmpGivenName, 1};
    case v1::FIELD_SURNAME:
    case v1::FIELD_SURNAME_WITH_PREFIX: return {kCmpSurname, 4};
    case v1::FIELD_SURNAME_PHONETIC: return {kCmpSurname, 3};
    case v1::FIELD_SURNAME_DELETIONS:
    case v1::FIELD_SURNAME_SORTED_LETTERS: return {kCmpSurname, 2};
    case v1::FIELD_DATE_OF_BIRTH: return {kCmpDateOfBirth, 4};
    case v1::FIELD_DOB_DAY_MONTH_UNORDERED: return {kCmpDateOfBirth, 3};
    case v1::FIELD_DOB_YEAR_MONTH:
    case v1::FIELD_DOB_YEAR_DAY:
    case v1::FIELD_DOB_MONTH_DAY: return {kCmpDateOfBirth, 2};
    case v1::FIELD_BIRTH_YEAR: return {kCmpDateOfBirth, 1};
    case v1::FIELD_POSTCODE: return {kCmpPostcode, 3};
    case v1::FIELD_POSTCODE_DELETIONS: return {kCmpPostcode, 2};
    case v1::FIELD_POSTCODE_AREA: return {kCmpPostcode, 1};
    case v1::FIELD_CITY: return {kCmpCity, 2};
    case v1::FIELD_CITY_PHONETIC: return {kCmpCity, 1};
    default: return {kCmpNationalId, 0};
  }
}

LinkModelSpec LinkModelSpec::FromRules(const std::vector<std::vector<v1::Field>>& rule_fields) {
  LinkModelSpec spec;
  spec.certifies.resize(rule_fields.size());
  for (size_t r = 0; r < rule_fields.size(); ++r) {
    auto& cert = spec.certifies[r];
    cert.fill(0);
    auto raise = [&cert](Comparison c, int level) {
      cert[c] = static_cast<uint8_t>(std::max<int>(cert[c], level));
    };
    for (v1::Field f : rule_fields[r]) {
      if (f == v1::FIELD_NAME_PAIR_PHONETIC) {  // both names, possibly swapped
        raise(kCmpGivenName, 3);
        raise(kCmpSurname, 3);
        continue;
      }
      if (f == v1::FIELD_NAME_DELETIONS) {  // each name within one edit (profile version 6)
        raise(kCmpGivenName, 2);
        raise(kCmpSurname, 2);
        continue;
      }
      if (f == v1::FIELD_STREET_PHONETIC) {  // the address only with the house number (version 8)
        if (std::find(rule_fields[r].begin(), rule_fields[r].end(), v1::FIELD_HOUSE_NUMBER) !=
            rule_fields[r].end()) {
          raise(kCmpAddress, 1);
        }
        continue;
      }
      const Certification c = CertifiedLevel(f);
      if (c.level > 0) raise(c.comparison, c.level);
    }
  }
  return spec;
}

ProbabilisticLinkResult LinkProbabilistic(uint32_t num_reports, const TokenTable& tokens,
                                          const LinkModelSpec& spec,
                                          const ProbabilisticOptions& options,
                                          const std::function<void(const ExplainedPair&)>& explain) {
  ProbabilisticLinkResult result;
  const size_t num_rules = spec.certifies.size();
  result.link.oversized_tokens.assign(num_rules, 0);
  const PatternCodec codec;

  // Per report: which comparisons it has (a token of a rule that uses them), whether it
  // has any token, and its national id (the fingerprint of a token of a rule over the
  // national id alone; 0 = none).
  std::vector<uint16_t> present(num_reports, 0);
  std::vector<uint64_t> carried(num_reports, 0);  // rules (below 64) with a token
  std::vector<uint8_t> has_token(num_reports, 0);
  std::vector<uint64_t> national_id(num_reports, 0);
  std::vector<uint16_t> rule_mask(num_rules, 0);
  std::vector<uint8_t> nid_only(num_rules, 0);
  std::vector<uint8_t> name_frequency_rule(num_rules, 0);
  for (size_t r = 0; r < num_rules; ++r) {
    int involved = 0;
    for (int c = 0; c < kNumComparisons; ++c) {
      if (spec.certifies[r][c] > 0) {
        rule_mask[r] |= static_cast<uint16_t>(1u << c);
        ++involved;
      }
    }
    nid_only[r] = involved == 1 && spec.certifies[r][kCmpNationalId] > 0;
    name_frequency_rule[r] = NameFrequencyRule(spec.certifies[r]);
  }
  for (size_t run = 0; run < tokens.runs(); ++run) {
    const uint32_t report = tokens.run_report(run);
    for (size_t i = tokens.run_begin(run); i < tokens.run_end(run); ++i) {
      const uint16_t rule = tokens.rule(i);
      if (rule >= num_rules || rule_mask[rule] == 0) continue;
      has_token[report] = 1;
      present[report] |= rule_mask[rule];
      if (rule < 64) carried[report] |= uint64_t{1} << rule;
      if (nid_only[rule]) {
        const uint64_t fp = tokens.fingerprint(i) | 1;  // never 0
        if (national_id[report] == 0 || fp < national_id[report]) national_id[report] = fp;
      }
    }
  }

  // Phase 1: candidate pairs, partition by partition of token keys. The values of the
  // name-frequency rules are numbered (in the order of their keys, so the numbers do not
  // depend on the order of reports), with the reports that carry them. Each pair is kept
  // once, with the rules whose tokens it shares (a pair of reports with the same names
  // shares every token of a deletion-neighbourhood rule: about 39 shared tokens per
  // candidate pair with the default profile, 13 distinct rules).
  // Partitions are processed by up to `threads` workers, each with its own table of pairs;
  // the tables are merged (bitwise or of the rules, the lowest value), so the result does
  // not depend on the number of workers or on which worker took which partition.
  const size_t n = tokens.size();
  const unsigned threads = std::max(1u, options.threads > 0 ? static_cast<unsigned>(options.threads)
                                                            : std::min(4u, std::thread::hardware_concurrency()));
  const size_t per_partition = options.partition_tokens > 0
                                   ? options.partition_tokens
                                   : std::max<size_t>(kPartitionTokens / threads, size_t{1} << 20);
  int bits = 0;
  while ((n >> bits) > per_partition && bits < 8) ++bits;
  const size_t partitions = size_t{1} << bits;
  std::vector<uint8_t> part;
  if (bits > 0) {
    part.resize(n);
    for (size_t i = 0; i < n; ++i) part[i] = static_cast<uint8_t>(TokenKey(tokens, i) >> (64 - bits));
  }
  struct Worker {
    std::vector<KeyedToken> entries;
    std::vector<uint32_t> group;
    absl::flat_hash_map<uint64_t, SharedRules> shared;  // by a << 32 | b, a < b
    absl::flat_hash_map<uint64_t, std::array<uint8_t, kNumComparisons>> high_rules_lo;  // rules >= 64
    std::vector<uint64_t> oversized;
  };
  // Per partition, (value, report) of its name-frequency values, numbered from 0 in the
  // order of their keys; SharedRules::group holds partition << 32 | number until all
  // partitions are done, which orders values as one numbering in key order would.
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> partition_names(partitions);
  std::atomic<size_t> next_partition{0};
  auto work = [&](Worker& w) {
    w.oversized.assign(num_rules, 0);
    w.entries.reserve(n / partitions + n / partitions / 8 + 16);
    for (size_t p = next_partition++; p < partitions; p = next_partition++) {
      w.entries.clear();
      for (size_t run = 0; run < tokens.runs(); ++run) {
        const uint32_t report = tokens.run_report(run);
        for (size_t i = tokens.run_begin(run); i < tokens.run_end(run); ++i) {
          if (bits > 0 && part[i] != p) continue;
          const uint16_t rule = tokens.rule(i);
          if (rule >= num_rules || rule_mask[rule] == 0) continue;
          w.entries.push_back({TokenKey(tokens, i), report, rule});
        }
      }
      SortByKeyAndReport(&w.entries, bits);
      auto& names = partition_names[p];
      uint32_t values = 0;
      const auto& entries = w.entries;
      auto& group = w.group;
      for (size_t s = 0; s < entries.size();) {
        size_t e = s + 1;
        while (e < entries.size() && entries[e].key == entries[s].key) ++e;
        if (e - s == 1) {  // a value no other report carries
          s = e;
          continue;
        }
        group.clear();
        for (size_t k = s; k < e; ++k) {
          if (group.empty() || group.back() != entries[k].report) group.push_back(entries[k].report);
        }
        const uint16_t rule = entries[s].rule;
        if (group.size() > options.max_reports_per_token) {
          ++w.oversized[rule];
        } else {
          uint64_t value = kNoValue;
          if (name_frequency_rule[rule] && group.size() >= 2) {
            value = uint64_t{p} << 32 | values;
            for (uint32_t report : group) names.push_back({values, report});
            ++values;
          }
          const uint64_t bit = rule < 64 ? uint64_t{1} << rule : 0;
          for (size_t x = 0; x < group.size(); ++x) {
            for (size_t y = x + 1; y < group.size(); ++y) {
              const uint64_t ab = uint64_t{group[x]} << 32 | group[y];
              SharedRules& sr = w.shared[ab];
              sr.mask |= bit;
              sr.value = std::min(sr.value, value);
              if (rule >= 64) {
                auto [it, inserted] = w.high_rules_lo.try_emplace(ab);
                for (int c = 0; c < kNumComparisons; ++c) {
                  it->second[c] = std::max(it->second[c], spec.certifies[rule][c]);
                }
              }
            }
          }
        }
        s = e;
      }
    }
    std::vector<KeyedToken>().swap(w.entries);
  };
  std::vector<Worker> workers(std::min<size_t>(threads, partitions));
  {
    std::vector<std::thread> pool;
    for (size_t t = 1; t < workers.size(); ++t) pool.emplace_back(work, std::ref(workers[t]));
    work(workers[0]);
    for (auto& th : pool) th.join();
  }
  Worker& merged = workers[0];
  for (size_t t = 1; t < workers.size(); ++t) {
    for (const auto& [ab, sr] : workers[t].shared) {
      SharedRules& into = merged.shared[ab];
      into.mask |= sr.mask;
      into.value = std::min(into.value, sr.value);
    }
    absl::flat_hash_map<uint64_t, SharedRules>().swap(workers[t].shared);
    for (const auto& [ab, lo] : workers[t].high_rules_lo) {
      auto [it, inserted] = merged.high_rules_lo.try_emplace(ab);
      for (int c = 0; c < kNumComparisons; ++c) it->second[c] = std::max(it->second[c], lo[c]);
    }
    for (size_t r = 0; r < num_rules; ++r) merged.oversized[r] += workers[t].oversized[r];
  }
  for (size_t r = 0; r < num_rules; ++r) result.link.oversized_tokens[r] = merged.oversized[r];
  // One numbering of the name-frequency values in key order.
  std::vector<uint32_t> first_value(partitions + 1, 0);
  std::vector<std::pair<uint32_t, uint32_t>> name_values;  // (value, report)
  for (size_t p = 0; p < partitions; ++p) {
    uint32_t values = 0;
    for (const auto& [v, report] : partition_names[p]) {
      name_values.push_back({first_value[p] + v, report});
      values = std::max(values, v + 1);
    }
    first_value[p + 1] = first_value[p] + values;
    std::vector<std::pair<uint32_t, uint32_t>>().swap(partition_names[p]);
  }
  const uint32_t num_name_values = first_value[partitions];
  auto global_value = [&](uint64_t v) {
    return v == kNoValue ? kNoGroup : first_value[v >> 32] + static_cast<uint32_t>(v);
  };
  // In the order of (a, b): the decisions below do not depend on hashing.
  std::vector<std::pair<uint64_t, SharedRules>> candidates(merged.shared.begin(), merged.shared.end());
  absl::flat_hash_map<uint64_t, SharedRules>().swap(merged.shared);
  std::sort(candidates.begin(), candidates.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  auto& high_rules_lo = merged.high_rules_lo;

  // Phase 2: one comparison vector per pair.
  std::vector<Pair> pairs;
  pairs.reserve(candidates.size());
  absl::flat_hash_map<uint32_t, uint64_t> pattern_count;
  std::vector<Observation> observations;
  absl::flat_hash_map<std::string, uint32_t> observation_id;
  std::string key;
  Observation obs;  // the current pair's, reused: most pairs show an observation seen before
  const size_t testable_rules = std::min<size_t>(num_rules, 64);
  for (const auto& [ab, sr] : candidates) {
    Pair pair{static_cast<uint32_t>(ab >> 32), static_cast<uint32_t>(ab), 0, global_value(sr.value), sr.mask};
    std::array<int, kNumComparisons> lo{}, hi{};
    for (uint64_t m = sr.mask; m != 0; m &= m - 1) {
      const auto& cert = spec.certifies[std::countr_zero(m)];
      for (int c = 0; c < kNumComparisons; ++c) lo[c] = std::max<int>(lo[c], cert[c]);
    }
    if (!high_rules_lo.empty()) {
      if (auto it = high_rules_lo.find(ab); it != high_rules_lo.end()) {
        for (int c = 0; c < kNumComparisons; ++c) lo[c] = std::max<int>(lo[c], it->second[c]);
      }
    }
    for (int c = 0; c < kNumComparisons; ++c) hi[c] = kMaxLevels[c];
    // A rule both reports carry but do not share, whose other comparisons agree at least
    // as far as it needs, proves that its remaining comparison is below the rule's level.
    const uint64_t unshared = carried[pair.a] & carried[pair.b] & ~pair.mask;
    for (size_t r = 0; r < testable_rules; ++r) {
      if (!(unshared >> r & 1)) continue;
      const auto& cert = spec.certifies[r];
      int failing = -1, unmet = 0;
      for (int c = 0; c < kNumComparisons; ++c) {
        if (cert[c] > lo[c]) {
          failing = c;
          ++unmet;
        }
      }
      if (unmet == 1) hi[failing] = std::min(hi[failing], cert[failing] - 1);
    }
    const uint16_t both = present[pair.a] & present[pair.b];
    // The address says where a person lives, as the postcode does: a different address is
    // no further evidence once the postcodes are proven different (a person who moved shows
    // both), so it is then left unknown rather than counted twice.
    if ((both >> kCmpPostcode & 1) && hi[kCmpPostcode] < kMaxLevels[kCmpPostcode] &&
        lo[kCmpAddress] == 0) {
      hi[kCmpAddress] = kMaxLevels[kCmpAddress];
    }
    obs.pattern = 0;
    obs.below.clear();
    for (int c = 0; c < kNumComparisons; ++c) {
      const uint32_t digit = (both >> c & 1) ? codec.Digit(c, lo[c], std::max(lo[c], hi[c])) : 0u;
      obs.pattern += digit * codec.stride[c];
    }
    ++pattern_count[obs.pattern];
    // The joint constraints: rules with two or more comparisons not proven to reach their
    // level, none of them proven below it already.
    for (size_t r = 0; r < testable_rules; ++r) {
      if (!(unshared >> r & 1)) continue;
      const auto& cert = spec.certifies[r];
      std::array<uint8_t, kNumComparisons> below{};
      int unmet = 0;
      bool met = false;
      for (int c = 0; c < kNumComparisons && !met; ++c) {
        if (cert[c] <= lo[c]) continue;
        met = !(both >> c & 1) || cert[c] > hi[c];
        below[c] = cert[c];
        ++unmet;
      }
      if (!met && unmet >= 2) obs.below.push_back(below);
    }
    std::sort(obs.below.begin(), obs.below.end());
    obs.below.erase(std::unique(obs.below.begin(), obs.below.end()), obs.below.end());
    key.assign(reinterpret_cast<const char*>(&obs.pattern), sizeof obs.pattern);
    for (const auto& b : obs.below) key.append(reinterpret_cast<const char*>(b.data()), b.size());
    const auto [it, inserted] = observation_id.try_emplace(key, static_cast<uint32_t>(observations.size()));
    if (inserted) observations.push_back(obs);
    pair.obs = it->second;
    pairs.push_back(pair);
  }
  std::vector<std::pair<uint64_t, SharedRules>>().swap(candidates);
  absl::flat_hash_map<uint64_t, std::array<uint8_t, kNumComparisons>>().swap(high_rules_lo);
  absl::flat_hash_map<std::string, uint32_t>().swap(observation_id);
  result.candidate_pairs = pairs.size();

  // Phase 3: weights.
  std::vector<std::pair<uint32_t, uint64_t>> counts(pattern_count.begin(), pattern_count.end());
  std::sort(counts.begin(), counts.end());  // a fixed order: the fit does not depend on hashing
  result.model = Fit(codec, counts, options.em_iterations, /*anchored=*/false);
  {
    // The unsupervised fit must accept the pairs that agree on both names and a full
    // identifier; when it rejects most of them, it has not found the match class (records
    // with few kinds of identifier leave the model unidentified), and the model is fitted
    // again with those pairs taken as matches.
    // It must also accept every common kind of anchored pair, not only most pairs: a fit
    // that accepts the exact copies but rejects all pairs with a misspelt surname at the
    // same postcode has learnt "spelling differs" as the non-match class (measured on
    // records with names, postcode and town only, 20% of copies corrupted: 247 true pairs
    // of that kind, no namesake among them, all rejected, while 92% of anchored pairs were
    // accepted).
    double anchored = 0, accepted = 0, largest_rejected = 0;
    for (const auto& [p, n] : counts) {
      if (!Anchored(codec, p)) continue;
      anchored += static_cast<double>(n);
      if (Posterior(result.model, codec, p, nullptr) >= options.match_probability) {
        accepted += static_cast<double>(n);
      } else {
        largest_rejected = std::max(largest_rejected, static_cast<double>(n));
      }
    }
    if (anchored > 0 && (accepted < kAnchorsAccepted * anchored ||
                         largest_rejected >= kAnchoredPatternShare * anchored)) {
      result.model = Fit(codec, counts, options.em_iterations, /*anchored=*/true);
      result.model.anchored = true;
    }
    // A unique identifier's exact agreement must be evidence for a match.
    double total = 0;
    std::array<double, kNumComparisons> exact{};
    for (const auto& [p, n] : counts) {
      total += static_cast<double>(n);
      for (Comparison c : kUniqueIds) {
        int lo, hi;
        if (codec.Interval(p, c, &lo, &hi) && lo == kMaxLevels[c]) exact[c] += static_cast<double>(n);
      }
    }
    bool degenerate = false;
    for (Comparison c : kUniqueIds) {
      const FittedModel& fm = result.model;
      const double bits = std::log2(fm.m[c][kMaxLevels[c]] / fm.u[c][kMaxLevels[c]]);
      if (exact[c] >= kUniqueIdPairs * total && bits < kUniqueIdMinBits) degenerate = true;
    }
    if (degenerate) {
      const bool anchored = result.model.anchored;
      result.model = Fit(codec, counts, options.em_iterations, anchored, /*hold_unique_ids=*/true);
      result.model.anchored = anchored;
      result.model.unique_ids_held = true;
    }
  }
  // Per pattern (not per pair: there are few patterns and many pairs): posterior, weight
  // and the decision.
  struct Scored {
    double posterior, weight;
    bool accepted, twins, ruled_out;
  };
  absl::flat_hash_map<uint32_t, Scored> scored;
  for (const auto& [p, n] : counts) {
    double w = 0;
    const double post = Posterior(result.model, codec, p, &w);
    const bool twins = Twins(codec, p);
    const bool ruled_out = NeverLinked(codec, p);
    scored[p] = {post, w, post >= options.match_probability && !ruled_out, twins, ruled_out};
  }
  // The error estimate's posterior per observation (a pure function of the observation and
  // the fitted model: independent of the order of reports).
  std::vector<double> estimate_posterior(observations.size());
  for (size_t i = 0; i < observations.size(); ++i) {
    estimate_posterior[i] = JointPosterior(result.model, codec, observations[i]);
  }
  std::vector<double> pair_posterior(pairs.size()), pair_weight(pairs.size());
  std::vector<uint8_t> pair_accepted(pairs.size()), pair_twins(pairs.size()),
      pair_ruled_out(pairs.size());
  for (size_t i = 0; i < pairs.size(); ++i) {
    const Scored& sc = scored[observations[pairs[i].obs].pattern];
    pair_posterior[i] = sc.posterior;
    pair_weight[i] = sc.weight;
    pair_accepted[i] = sc.accepted;
    pair_twins[i] = sc.twins;
    pair_ruled_out[i] = sc.ruled_out;
  }

  // Phase 4: decisions and clustering, strongest pairs first.
  // National ids as a cannot-link constraint only when the data say they are reliable.
  double nid_observed = 0;
  for (const auto& [p, n] : counts) {
    if (codec.Level(p, kCmpNationalId) >= 0) nid_observed += static_cast<double>(n);
  }
  const bool nid_constraint = nid_observed >= 20 && result.model.m[kCmpNationalId][0] < 0.005;
  const double prior = std::log2(result.model.match_share / (1 - result.model.match_share));
  auto cluster = [&]() {
    result.refused_merges = 0;
    result.estimated_false_links = 0;
    std::vector<uint32_t> order;
    for (uint32_t i = 0; i < pairs.size(); ++i) {
      if (pair_accepted[i]) order.push_back(i);
    }
    result.linked_pairs = order.size();
    std::sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) {
      const double px = pair_weight[x], py = pair_weight[y];
      if (px != py) return px > py;
      return x < y;  // pairs are sorted by (a, b)
    });
    // Pairs whose comparisons speak against a match (a negative likelihood ratio, the prior
    // left out) and that are not linked themselves keep their two reports' clusters apart: a report without a date of birth
    // that matches both a mother and her namesake daughter joins one of them, never both.
    // Unless the link that would join the clusters outweighs it (kRepelBalance): the
    // evidence against, in bits, must be more than half the evidence of that link. Twins
    // always keep their clusters apart.
    auto repels = [&](size_t i) {
      return (pair_weight[i] - prior < 0 && !pair_accepted[i]) || pair_twins[i];
    };
    std::vector<uint32_t> repulse_start(num_reports + 1, 0), repulse;
    std::vector<double> repulse_excess;
    double current_excess = 0;  // the evidence of the pair being joined (the prior left out)
    {
      for (size_t i = 0; i < pairs.size(); ++i) {
        if (!repels(i)) continue;
        ++repulse_start[pairs[i].a + 1];
        ++repulse_start[pairs[i].b + 1];
      }
      for (uint32_t r = 0; r < num_reports; ++r) repulse_start[r + 1] += repulse_start[r];
      repulse.resize(repulse_start[num_reports]);
      repulse_excess.resize(repulse_start[num_reports]);
      std::vector<uint32_t> fill(repulse_start.begin(), repulse_start.end() - 1);
      for (size_t i = 0; i < pairs.size(); ++i) {
        if (!repels(i)) continue;
        const double excess = pair_twins[i] ? -1e9 : pair_weight[i] - prior;  // twins: always
        repulse_excess[fill[pairs[i].a]] = excess;
        repulse[fill[pairs[i].a]++] = pairs[i].b;
        repulse_excess[fill[pairs[i].b]] = excess;
        repulse[fill[pairs[i].b]++] = pairs[i].a;
      }
    }
    UnionFind uf(num_reports);
    std::vector<uint64_t> cluster_nid = national_id;  // valid at roots
    std::vector<std::vector<uint32_t>> members(num_reports);  // at roots of clusters of 2+
    auto repelled = [&](uint32_t small_root, uint32_t other_root) {
      auto check = [&](uint32_t x) {
        for (uint32_t k = repulse_start[x]; k < repulse_start[x + 1]; ++k) {
          if (uf.Find(repulse[k]) == other_root && repulse_excess[k] + kRepelBalance * current_excess < 0) {
            return true;
          }
        }
        return false;
      };
      if (members[small_root].empty()) return check(small_root);
      for (uint32_t x : members[small_root]) {
        if (check(x)) return true;
      }
      return false;
    };
    const uint32_t max_cluster = std::max<uint32_t>(2, options.max_reports_per_token);
    for (uint32_t i : order) {
      const Pair& pr = pairs[i];
      uint32_t ra = uf.Find(pr.a), rb = uf.Find(pr.b);
      if (ra == rb) continue;
      current_excess = pair_weight[i] - prior;
      if (uf.Size(ra) < uf.Size(rb)) std::swap(ra, rb);  // rb is the smaller
      if ((nid_constraint && cluster_nid[ra] != 0 && cluster_nid[rb] != 0 &&
           cluster_nid[ra] != cluster_nid[rb]) ||
          uf.Size(ra) + uf.Size(rb) > max_cluster || repelled(rb, ra)) {
        ++result.refused_merges;
        continue;
      }
      const uint64_t nid = cluster_nid[ra] != 0 ? cluster_nid[ra] : cluster_nid[rb];
      std::vector<uint32_t> joined = std::move(members[ra]);
      if (joined.empty()) joined.push_back(ra);
      if (members[rb].empty()) joined.push_back(rb);
      else joined.insert(joined.end(), members[rb].begin(), members[rb].end());
      members[ra].clear();
      members[rb].clear();
      members[rb].shrink_to_fit();
      const uint32_t root = uf.Join(ra, rb);
      members[root] = std::move(joined);
      cluster_nid[root] = nid;
      result.estimated_false_links += 1 - estimate_posterior[pr.obs];
    }
    std::vector<std::vector<uint32_t>>().swap(members);

    // Persons, numbered by first report.
    LinkResult& link = result.link;
    link.person.assign(num_reports, 0);
    link.persons = 0;
    link.unlinkable_reports = 0;
    {
      std::vector<uint32_t> id_of_root(num_reports, std::numeric_limits<uint32_t>::max());
      for (uint32_t r = 0; r < num_reports; ++r) {
        const uint32_t root = uf.Find(r);
        if (id_of_root[root] == std::numeric_limits<uint32_t>::max()) id_of_root[root] = link.persons++;
        link.person[r] = id_of_root[root];
        if (!has_token[r]) ++link.unlinkable_reports;
      }
    }

  };
  cluster();

  // Phase 4b: term-frequency adjustment of the names' weight. Agreement on a name that few
  // persons carry is stronger evidence than agreement on a common one (value-specific
  // u-probabilities, as in Winkler's frequency-based matching and the term-frequency
  // adjustments of probabilistic linkage tools). The aggregator sees which reports carry
  // each token, so it counts, per value of a name-frequency rule (both names, at most a
  // place besides), how many persons of the first clustering carry it, and the pairs
  // sharing such a value are scored and clustered again.
  if (options.name_frequency && num_name_values > 0 &&
      AdjustForNameFrequency(pairs, std::move(name_values), num_name_values, result.link.person,
                             options.match_probability, prior, codec, observations, pair_ruled_out, &pair_weight,
                             &pair_posterior, &pair_accepted)) {
    cluster();
  }

  // Phase 5: error estimates; --explain.
  const LinkResult& link = result.link;
  double p_all = 0, p_within = 0, n_within = 0;
  absl::flat_hash_map<uint64_t, double> missed;  // pair of persons -> highest posterior
  for (size_t i = 0; i < pairs.size(); ++i) {
    const Pair& pr = pairs[i];
    const double p = estimate_posterior[pr.obs];
    const bool together = link.person[pr.a] == link.person[pr.b];
    if (together) {
      p_within += p;
      p_all += p;
      n_within += 1;
    } else if (!pair_ruled_out[i]) {
      // A pair left apart because the design never links its kind (refuted, twins,
      // strangers) is not counted as a possibly missed link: the independence model's
      // posterior for those kinds is far above their share of true pairs (measured, 20,000
      // persons, GeCo seed 1: 11,151 pairs sharing only names and town with the date of
      // birth proven to differ, posterior 0.040 each, 10 of them one person).
      p_all += p;
      if (p >= kNegligible) {
        uint32_t x = link.person[pr.a], y = link.person[pr.b];
        if (x > y) std::swap(x, y);
        double& best = missed[uint64_t{x} << 32 | y];
        best = std::max(best, p);
      }
    }
    if (explain && (pair_posterior[i] >= kNegligible || p >= kNegligible)) {
      ExplainedPair ep;
      ep.a = pr.a;
      ep.b = pr.b;
      ep.shared_rules = pr.mask;
      for (int c = 0; c < kNumComparisons; ++c) {
        int lo = -1, hi = -1;
        codec.Interval(observations[pr.obs].pattern, c, &lo, &hi);
        ep.level[c] = static_cast<int8_t>(lo);
        ep.level_max[c] = static_cast<int8_t>(hi);
      }
      ep.weight = pair_weight[i];
      ep.posterior = pair_posterior[i];
      ep.estimate_posterior = p;
      ep.linked = together && pair_accepted[i];
      explain(ep);
    }
  }
  for (const auto& [key, p] : missed) result.estimated_missed_links += p;
  {
    std::vector<uint16_t> used_masks;
    for (uint16_t m : rule_mask) {
      if (m != 0) used_masks.push_back(m);
    }
    result.estimated_missed_incomparable =
        ExpectedMissedLinksNoRuleCompares(present, used_masks, link.person, link.persons, p_all);
    result.estimated_missed_links += result.estimated_missed_incomparable;
  }
  result.estimated_precision = n_within > 0 ? p_within / n_within : 1;
  result.estimated_recall = p_all > 0 ? p_within / p_all : 1;
  return result;
}

double ExpectedMissedLinksNoRuleCompares(const std::vector<uint16_t>& present,
                                         const std::vector<uint16_t>& rule_masks,
                                         const std::vector<uint32_t>& person, uint32_t persons,
                                         double candidate_matches) {
  // The distinct sets of comparisons the rules use, without those that contain another (a
  // report with the larger set also has the smaller): two reports can be compared exactly
  // when both have all comparisons of one of these.
  std::vector<uint16_t> minimal;
  for (uint16_t m : rule_masks) {
    if (m == 0 || std::find(minimal.begin(), minimal.end(), m) != minimal.end()) continue;
    minimal.push_back(m);
  }
  std::erase_if(minimal, [&](uint16_t m) {
    return std::any_of(minimal.begin(), minimal.end(),
                       [m](uint16_t o) { return o != m && (o & ~m) == 0; });
  });
  // A report's (a cluster's) signature: bit k set when it has (one of its reports has) all
  // comparisons of minimal[k]. Two can be compared when their signatures share a bit.
  using Signature = std::array<uint64_t, 8>;  // up to 512 sets of the 9 comparisons
  auto signature_of = [&](uint16_t have) {
    Signature sig{};
    for (size_t k = 0; k < minimal.size(); ++k) {
      if ((minimal[k] & ~have) == 0) sig[k / 64] |= uint64_t{1} << (k % 64);
    }
    return sig;
  };
  auto meet = [](const Signature& x, const Signature& y) {
    for (size_t w = 0; w < x.size(); ++w) {
      if ((x[w] & y[w]) != 0) return true;
    }
    return false;
  };
  // Pairs of groups of equal signature: comparable or not.
  auto count_pairs = [&](const absl::flat_hash_map<Signature, double>& groups, bool comparable) {
    std::vector<std::pair<Signature, double>> g(groups.begin(), groups.end());
    double pairs = 0;
    for (size_t i = 0; i < g.size(); ++i) {
      for (size_t j = i; j < g.size(); ++j) {
        if (meet(g[i].first, g[j].first) != comparable) continue;
        pairs += i == j ? g[i].second * (g[i].second - 1) / 2 : g[i].second * g[j].second;
      }
    }
    return pairs;
  };
  absl::flat_hash_map<uint16_t, Signature> by_present;
  absl::flat_hash_map<Signature, double> report_groups;
  std::vector<Signature> cluster(persons, Signature{});
  for (size_t r = 0; r < present.size() && r < person.size(); ++r) {
    auto it = by_present.find(present[r]);
    if (it == by_present.end()) it = by_present.emplace(present[r], signature_of(present[r])).first;
    report_groups[it->second] += 1;
    Signature& c = cluster[person[r]];
    for (size_t w = 0; w < c.size(); ++w) c[w] |= it->second[w];
  }
  const double comparable_pairs = count_pairs(report_groups, true);
  if (comparable_pairs <= 0 || candidate_matches <= 0) return 0;
  absl::flat_hash_map<Signature, double> cluster_groups;
  for (const Signature& c : cluster) cluster_groups[c] += 1;
  return candidate_matches / comparable_pairs * count_pairs(cluster_groups, false);
}

std::string DescribeModel(const FittedModel& model) {
  std::string out = absl::StrFormat(
      "match share among candidate pairs %.4f, %d EM iterations%s%s\n", model.match_share,
      model.iterations,
      model.anchored ? " (fitted with the anchored pairs taken as matches: the unsupervised fit "
                       "rejected most of them, or a common kind of them)"
                     : "",
      model.unique_ids_held ? " (fitted again with the chance agreement of a national id, "
                              "phone or e-mail held at 0.01: the fit had found no evidence in it)"
                            : "");
  for (int c = 0; c < kNumComparisons; ++c) {
    absl::StrAppend(&out, kNames[c], ":");
    for (size_t l = 0; l < model.m[c].size(); ++l) {
      absl::StrAppend(&out, absl::StrFormat(" [%zu] m=%.4f u=%.4f w=%+.1f", l, model.m[c][l],
                                            model.u[c][l], std::log2(model.m[c][l] / model.u[c][l])));
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

ProbabilisticLinkResult LinkWithProfile(uint32_t num_reports, const TokenTable& tokens,
                                        const v1::LinkageProfile& profile,
                                        const std::vector<std::string>& rule_names,
                                        const std::function<void(const ExplainedPair&)>& explain,
                                        int threads) {
  if (profile.method() != v1::LINKAGE_METHOD_FELLEGI_SUNTER) {
    ProbabilisticLinkResult r;
    r.link = Link(num_reports, tokens, model::MaxReportsPerToken(profile), rule_names.size());
    return r;
  }
  std::vector<std::vector<v1::Field>> fields(rule_names.size());
  for (size_t i = 0; i < rule_names.size(); ++i) {
    for (const auto& rule : profile.rules()) {
      if (rule.name() != rule_names[i]) continue;
      for (int f : rule.fields()) fields[i].push_back(static_cast<v1::Field>(f));
    }
  }
  ProbabilisticOptions options;
  options.max_reports_per_token = model::MaxReportsPerToken(profile);
  options.match_probability = model::MatchProbability(profile);
  options.threads = threads;
  return LinkProbabilistic(num_reports, tokens, LinkModelSpec::FromRules(fields), options, explain);
}

}  // namespace samenzicht::aggregator
