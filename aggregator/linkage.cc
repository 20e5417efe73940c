#include "aggregator/linkage.h"

#include <algorithm>
#include <bit>
#include <limits>

namespace samenzicht::aggregator {
namespace {

constexpr uint32_t kEmpty = std::numeric_limits<uint32_t>::max();
// Tokens per partition: keeps the partition's table and arrays near 100 MB.
constexpr size_t kPartitionTokens = size_t{4} << 20;

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
  // partition. One partition (no selection pass) for up to kPartitionTokens tokens.
  const size_t partitions = std::max<size_t>(1, (n + kPartitionTokens - 1) / kPartitionTokens);
  std::vector<uint32_t> index;       // partition-local -> token
  std::vector<uint64_t> slot_key;    // open-addressing table: key
  std::vector<uint32_t> slot_first;  //   and the local index of its first occurrence
  std::vector<uint32_t> canon, count, last_report;
  for (size_t p = 0; p < partitions; ++p) {
    index.clear();
    if (partitions == 1) {
      index.resize(n);
      for (size_t i = 0; i < n; ++i) index[i] = static_cast<uint32_t>(i);
    } else {
      index.reserve(kPartitionTokens + kPartitionTokens / 4);
      for (size_t i = 0; i < n; ++i) {
        // Multiply-shift maps the key's high bits evenly onto [0, partitions).
        if (static_cast<size_t>((static_cast<unsigned __int128>(Key(tokens, i)) * partitions) >> 64) == p) {
          index.push_back(static_cast<uint32_t>(i));
        }
      }
    }
    const size_t m = index.size();
    const size_t capacity = std::bit_ceil(std::max<size_t>(16, m * 2));
    const size_t mask = capacity - 1;
    slot_key.assign(capacity, 0);
    slot_first.assign(capacity, kEmpty);
    canon.resize(m);
    count.assign(m, 0);
    last_report.assign(m, kEmpty);

    // Pass 1: first occurrence of every token, and how many distinct reports carry it
    // (tokens are in report order, so one "last report" per token counts distinct ones).
    for (size_t j = 0; j < m; ++j) {
      const uint64_t key = Key(tokens, index[j]);
      size_t slot = static_cast<size_t>(key) & mask;
      while (slot_first[slot] != kEmpty && slot_key[slot] != key) slot = (slot + 1) & mask;
      if (slot_first[slot] == kEmpty) {
        slot_first[slot] = static_cast<uint32_t>(j);
        slot_key[slot] = key;
      }
      const uint32_t c = slot_first[slot];
      canon[j] = c;
      const uint32_t report = tokens.report(index[j]);
      if (last_report[c] != report) {
        last_report[c] = report;
        ++count[c];
      }
    }

    // Pass 2: join every report with the first report of each of its tokens, except through
    // oversized tokens.
    for (size_t j = 0; j < m; ++j) {
      const uint32_t c = canon[j];
      if (count[c] > max_reports_per_token) {
        if (c == j) ++result.oversized_tokens[tokens.rule(index[j])];
        continue;
      }
      if (c != j) uf.Union(tokens.report(index[j]), tokens.report(index[c]));
    }
  }
  for (auto* v : {&index, &slot_first, &canon, &count, &last_report}) std::vector<uint32_t>().swap(*v);
  std::vector<uint64_t>().swap(slot_key);

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
