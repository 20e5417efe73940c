#include "aggregator/linkage.h"

#include <algorithm>
#include <bit>
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

// The key a token is looked up by: its fingerprint with the rule mixed in, so the same value
// under two rules never meets. The role does not count: a probe meets its anchors.
inline uint64_t Key(const TokenTable& t, size_t i) {
  return t.fingerprint(i) ^ ((uint64_t{t.rule(i)} + 1) * 0x9e3779b97f4a7c15ull);
}

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

// The tokens of one phase (ordinary rules, or probe rules) split into partitions by key:
// partition p holds the tokens whose key's high bits select it, so equal tokens share a
// partition. `Gather` streams the token arrays once and copies the partition's keys and
// reports into local arrays, so the table work touches only partition-sized memory.
class Partitions {
 public:
  Partitions(const TokenTable& tokens, bool probe_rules, size_t selected)
      : tokens_(tokens),
        probe_rules_(probe_rules),
        filter_(selected != tokens.size()),
        count_(std::max<size_t>(1, (selected + kPartitionTokens - 1) / kPartitionTokens)) {}

  size_t count() const { return count_; }
  void Gather(size_t p) {
    key.clear();
    report.clear();
    index.clear();
    for (size_t i = 0; i < tokens_.size(); ++i) {
      if (filter_ && (tokens_.role(i) != TokenRole::kOrdinary) != probe_rules_) continue;
      const uint64_t k = Key(tokens_, i);
      // Multiply-shift maps the key's high bits evenly onto [0, count_).
      if (count_ == 1 ||
          static_cast<size_t>((static_cast<unsigned __int128>(k) * count_) >> 64) == p) {
        key.push_back(k);
        report.push_back(tokens_.report(i));
        index.push_back(static_cast<uint32_t>(i));
      }
    }
    slot_of.resize(key.size());
  }
  size_t size() const { return key.size(); }
  size_t slot(size_t j) const { return slot_of[j] & ~kFirst; }
  bool first(size_t j) const { return (slot_of[j] & kFirst) != 0; }

  std::vector<uint64_t> key;
  std::vector<uint32_t> report, index, slot_of;

 private:
  const TokenTable& tokens_;
  const bool probe_rules_;
  const bool filter_;  // false when every token is of this phase (no probe rules)
  const size_t count_;
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
  size_t probe_rule_tokens = 0;
  for (size_t i = 0; i < n; ++i) {
    has_token[tokens.report(i)] = 1;
    if (tokens.role(i) != TokenRole::kOrdinary) ++probe_rule_tokens;
  }

  // Phase 1: join every report with the last carrier of each of its ordinary tokens, except
  // through oversized tokens. (A block: its working memory is freed before phase 2.)
  {
  Partitions part(tokens, /*probe_rules=*/false, n - probe_rule_tokens);
  std::vector<Slot> slots;
  for (size_t p = 0; p < part.count(); ++p) {
    part.Gather(p);
    CountCarriers(part, &slots, [](Slot&, size_t) {});
    for (size_t j = 0; j < part.size(); ++j) {
      if (j + kAhead < part.size()) __builtin_prefetch(&slots[part.slot(j + kAhead)]);
      const Slot& slot = slots[part.slot(j)];
      if (slot.count > max_reports_per_token) {
        if (part.first(j)) ++result.oversized_tokens[tokens.rule(part.index[j])];
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
    for (size_t i = 0; i < n; ++i) {
      if (tokens.role(i) == TokenRole::kAnchor) anchored[uf.Find(tokens.report(i))] = 1;
    }
    UnionFind groups(num_reports);                   // unanchored roots sharing a token
    std::vector<uint32_t> meets(num_reports, kEmpty);  // by unanchored root: anchored roots met
    std::vector<uint8_t> probing(num_reports, 0);    // report in an unanchored component
                                                     // with a usable probe-rule token
    Partitions probe_part(tokens, /*probe_rules=*/true, probe_rule_tokens);
    std::vector<ProbeSlot> probe_slots;
    for (size_t p = 0; p < probe_part.count(); ++p) {
      probe_part.Gather(p);
      // Per token: the anchored roots among its carriers (none, one, or kMany), and one
      // unanchored root that every other unanchored carrier is grouped with.
      CountCarriers(probe_part, &probe_slots, [&](ProbeSlot& slot, size_t j) {
        const uint32_t root = uf.Find(probe_part.report[j]);
        if (anchored[root]) {
          slot.anchor = MergeMet(slot.anchor, root);
        } else if (slot.probe_root == kEmpty) {
          slot.probe_root = root;
        }
      });
      for (size_t j = 0; j < probe_part.size(); ++j) {
        const ProbeSlot& slot = probe_slots[probe_part.slot(j)];
        if (slot.count > max_reports_per_token) {
          if (probe_part.first(j)) ++result.oversized_tokens[tokens.rule(probe_part.index[j])];
          continue;
        }
        const uint32_t r = probe_part.report[j];
        const uint32_t root = uf.Find(r);
        if (anchored[root]) continue;
        probing[r] = 1;
        groups.Union(root, slot.probe_root);
        meets[root] = MergeMet(meets[root], slot.anchor);
      }
    }
    // What each group meets, over all its roots.
    std::vector<uint32_t> group_meets(num_reports, kEmpty);
    for (uint32_t r = 0; r < num_reports; ++r) {
      if (!probing[r]) continue;
      const uint32_t root = uf.Find(r);
      uint32_t& g = group_meets[groups.Find(root)];
      g = MergeMet(g, meets[root]);
    }
    std::vector<std::pair<uint32_t, uint32_t>> joins;
    for (uint32_t r = 0; r < num_reports; ++r) {
      if (!probing[r]) continue;
      const uint32_t group = groups.Find(uf.Find(r));
      const uint32_t met = group_meets[group];
      if (met == kMany) {
        ++result.ambiguous_probe_reports;
      } else {
        joins.emplace_back(r, met == kEmpty ? group : met);
      }
    }
    for (const auto& [a, b] : joins) uf.Union(a, b);
  }

  // Dense person ids in order of first report.
  result.person.assign(num_reports, kEmpty);
  std::vector<uint32_t> id_of_root(num_reports, kEmpty);
  for (uint32_t r = 0; r < num_reports; ++r) {
    uint32_t root = uf.Find(r);
    if (id_of_root[root] == kEmpty) id_of_root[root] = result.persons++;
    result.person[r] = id_of_root[root];
    if (!has_token[r]) ++result.unlinkable_reports;
  }
  return result;
}

}  // namespace samenzicht::aggregator
