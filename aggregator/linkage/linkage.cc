#include "aggregator/linkage/linkage.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <utility>

namespace samenzicht::aggregator {
namespace {

constexpr uint32_t kEmpty = std::numeric_limits<uint32_t>::max();
constexpr uint32_t kMany = kEmpty - 1;  // in a set of roots met: more than one
// Tokens per partition: keeps the partition's table and arrays near 100 MB.
constexpr size_t kPartitionTokens = size_t{4} << 20;
static_assert(kPartitionTokens < (size_t{1} << 30), "slot indexes must fit in 31 bits");
constexpr uint32_t kFirst = 1u << 31;  // in `slot_of`: this token is the first occurrence
constexpr size_t kAhead = 8;           // prefetch distance

// A set of at most one root: kEmpty (none), a root, or kMany. Commutative and associative,
// so the result does not depend on the order of the merges.
inline uint32_t MergeMet(uint32_t a, uint32_t b) {
  if (a == kEmpty || a == b) return b;
  if (b == kEmpty) return a;
  return kMany;
}

class UnionFind {
 public:
  explicit UnionFind(uint32_t n) : parent_(n), size_(n, 1) {
    for (uint32_t i = 0; i < n; ++i) parent_[i] = i;
  }
  uint32_t Find(uint32_t x) {
    while (parent_[x] != x) {
      parent_[x] = parent_[parent_[x]];  // path halving
      x = parent_[x];
    }
    return x;
  }
  void Union(uint32_t a, uint32_t b) {
    a = Find(a);
    b = Find(b);
    if (a == b) return;
    if (size_[a] < size_[b]) std::swap(a, b);
    parent_[b] = a;
    size_[a] += size_[b];
  }

 private:
  std::vector<uint32_t> parent_;
  std::vector<uint32_t> size_;
};

// The tokens split into partitions by key: partition p of a phase holds the tokens whose
// key's high bits select it, so equal tokens share a partition; the ordinary rules' tokens
// (phase 1) are in partitions [0, ordinary()), the probe rules' (phase 2) in [ordinary(),
// count()). One pass over the table notes each token's partition in a byte; `Gather` then
// scans those bytes (not the 9-byte tokens) and copies the partition's keys, reports and
// rules into local arrays, so the table work touches only partition-sized memory.
class Partitions {
 public:
  Partitions(const TokenTable& tokens, size_t probe_rule_tokens) : tokens_(tokens) {
    const size_t n = tokens.size();
    // Partitions of kPartitionTokens, larger only when that many would not fit in a byte.
    const size_t per = std::max(kPartitionTokens, (n + kMaxPartitions - 3) / (kMaxPartitions - 2));
    ordinary_ = std::max<size_t>(1, (n - probe_rule_tokens + per - 1) / per);
    const size_t probe = (probe_rule_tokens + per - 1) / per;
    count_ = ordinary_ + probe;
    part_of_.resize(n);
    for (size_t i = 0; i < n; ++i) {
      // Multiply-shift maps the key's high bits evenly onto [0, partitions of the phase).
      const bool is_probe = tokens.role(i) != TokenRole::kOrdinary;
      const uint64_t k = TokenKey(tokens, i);
      part_of_[i] = static_cast<uint8_t>(
          is_probe ? ordinary_ + static_cast<size_t>((static_cast<unsigned __int128>(k) * probe) >> 64)
                   : static_cast<size_t>((static_cast<unsigned __int128>(k) * ordinary_) >> 64));
    }
  }

  size_t ordinary() const { return ordinary_; }
  size_t count() const { return count_; }
  void Gather(size_t p) {
    key.clear();
    report.clear();
    rule.clear();
    const size_t n = part_of_.size();
    const uint8_t* part_of = part_of_.data();
    size_t run = 0;  // the run of the last token taken (tokens are taken in table order)
    auto take = [&](size_t i) {
      while (tokens_.run_end(run) <= i) ++run;
      key.push_back(TokenKey(tokens_, i));
      report.push_back(tokens_.run_report(run));
      rule.push_back(tokens_.rule(i));
    };
    // Eight partition bytes at a time: most words hold no token of partition p.
    constexpr uint64_t kOnes = 0x0101010101010101ull;
    const uint64_t pattern = kOnes * p;
    size_t i = 0;
    // A zero byte in w ^ pattern: a token of partition p.
    auto has_token_of_p = [&](size_t at) {
      uint64_t w;
      std::memcpy(&w, part_of + at, sizeof w);
      w ^= pattern;
      return ((w - kOnes) & ~w & (kOnes << 7)) != 0;
    };
    // The taken tokens are sparse (one in `count()`), which defeats the hardware prefetcher:
    // fetch the fingerprints of the word kGatherAhead tokens on (8 of them: one cache line).
    constexpr size_t kGatherAhead = 512;
    for (; i + 8 <= n; i += 8) {
      if (i + kGatherAhead + 8 <= n && has_token_of_p(i + kGatherAhead)) {
        tokens_.Prefetch(i + kGatherAhead);
        tokens_.Prefetch(i + kGatherAhead + 7);  // the line may be split
      }
      if (!has_token_of_p(i)) continue;
      for (size_t b = i; b < i + 8; ++b) {
        if (part_of[b] == p) take(b);
      }
    }
    for (; i < n; ++i) {
      if (part_of[i] == p) take(i);
    }
    slot_of.resize(key.size());
  }
  size_t size() const { return key.size(); }
  size_t slot(size_t j) const { return slot_of[j] & ~kFirst; }
  bool first(size_t j) const { return (slot_of[j] & kFirst) != 0; }

  std::vector<uint64_t> key;
  std::vector<uint32_t> report, slot_of;
  std::vector<uint16_t> rule;

 private:
  static constexpr size_t kMaxPartitions = 256;  // numbered in a byte
  const TokenTable& tokens_;
  size_t ordinary_ = 1;
  size_t count_ = 1;
  std::vector<uint8_t> part_of_;  // partition of each token
};

struct Slot {
  uint64_t key = 0;
  uint32_t count = 0;            // distinct reports carrying the token (0 = empty slot)
  uint32_t last_report = kEmpty;  // the last of them: every carrier is joined with it
};
struct ProbeSlot : Slot {
  uint32_t anchor = kEmpty;      // anchored phase-1 roots among the carriers (MergeMet)
  uint32_t probe_root = kEmpty;  // one unanchored phase-1 root among the carriers
};

// Open-addressing table of the partition's distinct tokens: sets `part->slot_of` for every
// token and counts the distinct reports carrying each (tokens are in report order, so
// comparing with the last carrier counts distinct ones); calls on_token(slot, j) for every
// token j.
template <typename S, typename F>
void CountCarriers(Partitions& part, std::vector<S>* slots, F on_token) {
  const size_t m = part.size();
  const size_t capacity = std::bit_ceil(std::max<size_t>(16, m * 2));
  const size_t mask = capacity - 1;
  slots->assign(capacity, S{});
  S* table = slots->data();
  for (size_t j = 0; j < m; ++j) {
    if (j + kAhead < m) __builtin_prefetch(&table[static_cast<size_t>(part.key[j + kAhead]) & mask]);
    size_t s = static_cast<size_t>(part.key[j]) & mask;
    while (table[s].count != 0 && table[s].key != part.key[j]) s = (s + 1) & mask;
    S& slot = table[s];
    uint32_t first = 0;
    if (slot.count == 0) {
      slot.key = part.key[j];
      first = kFirst;
    }
    if (slot.last_report != part.report[j]) {
      slot.last_report = part.report[j];
      ++slot.count;
    }
    part.slot_of[j] = static_cast<uint32_t>(s) | first;
    on_token(slot, j);
  }
}

}  // namespace

LinkResult Link(uint32_t num_reports, const TokenTable& tokens, uint32_t max_reports_per_token,
                size_t num_rules) {
  const size_t n = tokens.size();
  LinkResult result;
  result.oversized_tokens.assign(num_rules, 0);

  UnionFind uf(num_reports);
  std::vector<uint8_t> has_token(num_reports, 0);
  for (size_t r = 0; r < tokens.runs(); ++r) has_token[tokens.run_report(r)] = 1;
  size_t probe_rule_tokens = 0;
  for (size_t i = 0; i < n; ++i) probe_rule_tokens += tokens.role(i) != TokenRole::kOrdinary;

  Partitions part(tokens, probe_rule_tokens);
  // Phase 1: join every report with the last carrier of each of its ordinary tokens, except
  // through oversized tokens. (A block: its working memory is freed before phase 2.)
  {
  std::vector<Slot> slots;
  for (size_t p = 0; p < part.ordinary(); ++p) {
    part.Gather(p);
    CountCarriers(part, &slots, [](Slot&, size_t) {});
    for (size_t j = 0; j < part.size(); ++j) {
      if (j + kAhead < part.size()) __builtin_prefetch(&slots[part.slot(j + kAhead)]);
      const Slot& slot = slots[part.slot(j)];
      if (slot.count > max_reports_per_token) {
        if (part.first(j)) ++result.oversized_tokens[part.rule[j]];
        continue;
      }
      if (slot.last_report != part.report[j]) uf.Union(part.report[j], slot.last_report);
    }
  }
  }

  // Phase 2: probe rules (see linkage.h). `uf` is not changed until the decisions are made,
  // so Find gives the phase-1 component of every report.
  if (probe_rule_tokens > 0) {
    std::vector<uint8_t> anchored(num_reports, 0);  // by phase-1 root
    for (size_t r = 0; r < tokens.runs(); ++r) {
      for (size_t i = tokens.run_begin(r); i < tokens.run_end(r); ++i) {
        if (tokens.role(i) == TokenRole::kAnchor) {
          anchored[uf.Find(tokens.run_report(r))] = 1;
          break;
        }
      }
    }
    UnionFind groups(num_reports);                     // unanchored roots sharing a token
    std::vector<uint32_t> meets(num_reports, kEmpty);  // by unanchored root: anchored roots met
    std::vector<uint8_t> probing(num_reports, 0);      // report in an unanchored component
                                                       // with a usable probe-rule token
    std::vector<ProbeSlot> probe_slots;
    for (size_t p = part.ordinary(); p < part.count(); ++p) {
      part.Gather(p);
      // Per token: the anchored roots among its carriers (none, one, or kMany), and one
      // unanchored root that every other unanchored carrier is grouped with.
      CountCarriers(part, &probe_slots, [&](ProbeSlot& slot, size_t j) {
        const uint32_t root = uf.Find(part.report[j]);
        if (anchored[root]) {
          slot.anchor = MergeMet(slot.anchor, root);
        } else if (slot.probe_root == kEmpty) {
          slot.probe_root = root;
        }
      });
      for (size_t j = 0; j < part.size(); ++j) {
        const ProbeSlot& slot = probe_slots[part.slot(j)];
        if (slot.count > max_reports_per_token) {
          if (part.first(j)) ++result.oversized_tokens[part.rule[j]];
          continue;
        }
        const uint32_t r = part.report[j];
        const uint32_t root = uf.Find(r);
        if (anchored[root]) continue;
        probing[r] = 1;
        groups.Union(root, slot.probe_root);
        meets[root] = MergeMet(meets[root], slot.anchor);
      }
    }
    // What each group meets, over all its roots, into meets[group]: MergeMet is idempotent,
    // commutative and associative, and the group's other roots keep their own value.
    for (uint32_t r = 0; r < num_reports; ++r) {
      if (!probing[r]) continue;
      const uint32_t root = uf.Find(r);
      uint32_t& g = meets[groups.Find(root)];
      g = MergeMet(g, meets[root]);
    }
    std::vector<std::pair<uint32_t, uint32_t>> joins;
    for (uint32_t r = 0; r < num_reports; ++r) {
      if (!probing[r]) continue;
      const uint32_t group = groups.Find(uf.Find(r));
      const uint32_t met = meets[group];
      if (met == kMany) {
        ++result.ambiguous_probe_reports;
      } else {
        joins.emplace_back(r, met == kEmpty ? group : met);
      }
    }
    for (const auto& [a, b] : joins) uf.Union(a, b);
  }

  // Dense person ids in order of first report, kept at the root's own entry until the root's
  // report is reached (a root may be a later report than the component's first).
  result.person.assign(num_reports, kEmpty);
  for (uint32_t r = 0; r < num_reports; ++r) {
    const uint32_t root = uf.Find(r);
    if (result.person[root] == kEmpty) result.person[root] = result.persons++;
    result.person[r] = result.person[root];
    if (!has_token[r]) ++result.unlinkable_reports;
  }
  return result;
}

}  // namespace samenzicht::aggregator
