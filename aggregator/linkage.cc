#include "aggregator/linkage.h"

#include <algorithm>
#include <bit>
#include <limits>

namespace samenzicht::aggregator {
namespace {

constexpr uint32_t kEmpty = std::numeric_limits<uint32_t>::max();
// Tokens per partition: keeps the partition's table and arrays near 100 MB.
constexpr size_t kPartitionTokens = size_t{4} << 20;
static_assert(kPartitionTokens < (size_t{1} << 30), "slot indexes must fit in 31 bits");

// The key a token is looked up by: its fingerprint with the rule mixed in, so the same value
// under two rules never meets.
inline uint64_t Key(const TokenTable& t, size_t i) {
  return t.fingerprint(i) ^ ((uint64_t{t.rule(i)} + 1) * 0x9e3779b97f4a7c15ull);
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

}  // namespace

LinkResult Link(uint32_t num_reports, const TokenTable& tokens, uint32_t max_reports_per_token,
                size_t num_rules) {
  const size_t n = tokens.size();
  LinkResult result;
  result.oversized_tokens.assign(num_rules, 0);

  UnionFind uf(num_reports);
  std::vector<uint8_t> has_token(num_reports, 0);
  for (size_t i = 0; i < n; ++i) has_token[tokens.report(i)] = 1;

  // Partition p holds the tokens whose key's high bits select it; equal tokens share a
  // partition. Each pass streams the token arrays once and copies its partition's keys and
  // reports into local arrays, so the table work touches only partition-sized memory.
  const size_t partitions = std::max<size_t>(1, (n + kPartitionTokens - 1) / kPartitionTokens);
  struct Slot {
    uint64_t key;
    uint32_t count;        // distinct reports carrying the token (0 = empty slot)
    uint32_t last_report;  // the last of them: every carrier is joined with it
  };
  constexpr uint32_t kFirst = 1u << 31;  // in `slot_of`: this token is the first occurrence
  std::vector<uint64_t> key;
  std::vector<uint32_t> report, index, slot_of;
  std::vector<Slot> slots;
  for (size_t p = 0; p < partitions; ++p) {
    key.clear();
    report.clear();
    index.clear();
    for (size_t i = 0; i < n; ++i) {
      const uint64_t k = Key(tokens, i);
      // Multiply-shift maps the key's high bits evenly onto [0, partitions).
      if (partitions == 1 ||
          static_cast<size_t>((static_cast<unsigned __int128>(k) * partitions) >> 64) == p) {
        key.push_back(k);
        report.push_back(tokens.report(i));
        index.push_back(static_cast<uint32_t>(i));
      }
    }
    const size_t m = key.size();
    const size_t capacity = std::bit_ceil(std::max<size_t>(16, m * 2));
    const size_t mask = capacity - 1;
    slots.assign(capacity, Slot{0, 0, kEmpty});
    slot_of.resize(m);

    // Pass 1: the slot of every token, and how many distinct reports carry it (tokens are in
    // report order, so comparing with the last carrier counts distinct ones).
    constexpr size_t kAhead = 8;
    for (size_t j = 0; j < m; ++j) {
      if (j + kAhead < m) __builtin_prefetch(&slots[static_cast<size_t>(key[j + kAhead]) & mask]);
      size_t s = static_cast<size_t>(key[j]) & mask;
      while (slots[s].count != 0 && slots[s].key != key[j]) s = (s + 1) & mask;
      Slot& slot = slots[s];
      uint32_t first = 0;
      if (slot.count == 0) {
        slot.key = key[j];
        first = kFirst;
      }
      if (slot.last_report != report[j]) {
        slot.last_report = report[j];
        ++slot.count;
      }
      slot_of[j] = static_cast<uint32_t>(s) | first;
    }

    // Pass 2: join every report with the last carrier of each of its tokens, except through
    // oversized tokens.
    for (size_t j = 0; j < m; ++j) {
      if (j + kAhead < m) __builtin_prefetch(&slots[slot_of[j + kAhead] & ~kFirst]);
      const Slot& slot = slots[slot_of[j] & ~kFirst];
      if (slot.count > max_reports_per_token) {
        if (slot_of[j] & kFirst) ++result.oversized_tokens[tokens.rule(index[j])];
        continue;
      }
      if (slot.last_report != report[j]) uf.Union(report[j], slot.last_report);
    }
  }
  std::vector<uint64_t>().swap(key);
  for (auto* v : {&report, &index, &slot_of}) std::vector<uint32_t>().swap(*v);
  std::vector<Slot>().swap(slots);

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
