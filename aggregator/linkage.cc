#include "aggregator/linkage.h"

#include <bit>
#include <limits>

namespace samenzicht::aggregator {
namespace {

constexpr uint32_t kEmpty = std::numeric_limits<uint32_t>::max();

// Tokens are keyed hashes: their first 8 bytes are already uniformly distributed.
inline uint64_t SlotHash(const TokenTable& t, size_t i) {
  uint64_t h;
  std::memcpy(&h, t.value(i), sizeof h);
  return h ^ (uint64_t{t.rule(i)} * 0x9e3779b97f4a7c15ull);
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

  // Pass 1: canonical (first) occurrence of every token, and how many distinct reports
  // carry it.
  size_t capacity = std::bit_ceil(std::max<size_t>(16, n * 2));
  const size_t mask = capacity - 1;
  std::vector<uint32_t> table(capacity, kEmpty);
  std::vector<uint32_t> canon(n);
  std::vector<uint32_t> count(n, 0);
  std::vector<uint32_t> last_report(n, kEmpty);
  for (size_t i = 0; i < n; ++i) {
    size_t slot = SlotHash(tokens, i) & mask;
    while (table[slot] != kEmpty && !tokens.Equal(table[slot], i)) slot = (slot + 1) & mask;
    if (table[slot] == kEmpty) table[slot] = static_cast<uint32_t>(i);
    uint32_t c = table[slot];
    canon[i] = c;
    if (last_report[c] != tokens.report(i)) {
      last_report[c] = tokens.report(i);
      ++count[c];
    }
  }
  std::vector<uint32_t>().swap(table);
  std::vector<uint32_t>().swap(last_report);

  // Pass 2: join every report with the first report of each of its tokens, except through
  // oversized tokens.
  UnionFind uf(num_reports);
  std::vector<uint8_t> has_token(num_reports, 0);
  for (size_t i = 0; i < n; ++i) {
    has_token[tokens.report(i)] = 1;
    uint32_t c = canon[i];
    if (count[c] > max_reports_per_token) {
      if (c == i) ++result.oversized_tokens[tokens.rule(i)];
      continue;
    }
    uf.Union(tokens.report(i), tokens.report(c));
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
