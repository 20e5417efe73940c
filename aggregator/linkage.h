// Record linkage over tokens: reports that share any token (same rule and same 32-byte
// value) are one person; the relation is transitive (A~B by name_dob, B~C by phone puts
// A, B and C together).
//
//   TokenTable tokens;
//   tokens.Reserve(n);
//   tokens.Add(/*report=*/0, /*rule=*/1, value32);
//   LinkResult r = Link(num_reports, tokens, model::MaxReportsPerToken(profile), num_rules);
//   r.person[report]   // dense person id
//
// Oversized tokens. A token carried by more than `max_reports_per_token` distinct reports
// is taken to be a collision of a weak rule (for example many people sharing initial,
// surname, birth year and postcode in one housing block), not one person: it is NOT used
// to join reports, and it is counted per rule in `LinkResult::oversized_tokens` so the
// operator sees that a rule is too weak. The reports that carry it are still linked by
// their other tokens.
//
// Cost: linear in the number of tokens. One open-addressing table of 32-bit indexes
// (sized once, at least twice the number of tokens) finds the first occurrence of each
// token; union-find with path compression (halving) and union by size joins the reports.
// No allocation per report or per token. Works over the aggregator's re-keyed tokens and,
// offline (`aggregator link`), over the agencies' raw tokens alike: only equality matters.
//
// Thread-safety: `Link` is a pure function; a TokenTable is not synchronised.
#ifndef SAMENZICHT_AGGREGATOR_LINKAGE_H_
#define SAMENZICHT_AGGREGATOR_LINKAGE_H_

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace samenzicht::aggregator {

inline constexpr size_t kTokenSize = 32;

// Tokens as parallel arrays (no per-token allocation).
class TokenTable {
 public:
  void Reserve(size_t n) {
    report_.reserve(n);
    rule_.reserve(n);
    value_.reserve(n * kTokenSize);
  }
  // `value` must hold exactly kTokenSize bytes.
  void Add(uint32_t report, uint16_t rule, const uint8_t* value) {
    report_.push_back(report);
    rule_.push_back(rule);
    value_.insert(value_.end(), value, value + kTokenSize);
  }
  void Add(uint32_t report, uint16_t rule, std::string_view value) {
    Add(report, rule, reinterpret_cast<const uint8_t*>(value.data()));
  }
  size_t size() const { return report_.size(); }
  uint32_t report(size_t i) const { return report_[i]; }
  uint16_t rule(size_t i) const { return rule_[i]; }
  const uint8_t* value(size_t i) const { return value_.data() + i * kTokenSize; }
  bool Equal(size_t i, size_t j) const {
    return rule_[i] == rule_[j] && std::memcmp(value(i), value(j), kTokenSize) == 0;
  }

 private:
  std::vector<uint32_t> report_;
  std::vector<uint16_t> rule_;
  std::vector<uint8_t> value_;
};

struct LinkResult {
  // Person of each report: dense ids 0..persons-1, numbered in order of each person's
  // first report (report 0 is always person 0).
  std::vector<uint32_t> person;
  uint32_t persons = 0;
  // Reports without any token: each is a person of its own.
  uint32_t unlinkable_reports = 0;
  // Per rule (index = rule number in the TokenTable): distinct tokens ignored because
  // more than `max_reports_per_token` reports carried them.
  std::vector<uint64_t> oversized_tokens;
};

// `num_rules` must exceed every rule number in `tokens`, every report number must be below
// `num_reports`.
LinkResult Link(uint32_t num_reports, const TokenTable& tokens, uint32_t max_reports_per_token,
                size_t num_rules);

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_LINKAGE_H_
