// Record linkage over tokens: reports that share any token (same rule and same 32-byte
// value) are one person; the relation is transitive (A~B by name_dob, B~C by phone puts
// A, B and C together).
//
//   TokenTable tokens;
//   tokens.Reserve(n);
//   tokens.Add(/*report=*/0, /*rule=*/1, value32);   // keeps a 64-bit fingerprint
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
// Probe rules. A rule of the profile with `probe_when_missing` (e.g. name and
// postcode, for records without a date of birth) yields tokens with a role: ANCHOR when
// the record has the probe field, PROBE when it lacks it. Such a token never joins two
// persons that both have the field (two namesakes at one postcode born in different
// years); it only lets a record without the field find the one person it belongs to:
//  1. phase 1 links by the ordinary rules only; a resulting component is "anchored" when
//     one of its reports carries an anchor token (of any probe rule);
//  2. the unanchored components that share a probe-rule token are grouped (probe-probe
//     joins), and each group collects the anchored components that share a probe-rule
//     token with any of its members;
//  3. a group that meets exactly one anchored component joins it; a group that meets none
//     becomes one person; a group that meets two or more is ambiguous and is left as
//     phase 1 left it (its reports count in `ambiguous_probe_reports`).
// Two anchored components are never joined through a probe-rule token, also not through a
// probe that phase 1 already put with one of them. Every decision depends only on the
// phase-1 components and on sets of tokens, never on the order of reports or tokens, so
// the partition into persons is the same for any order. Oversized probe-rule tokens
// (counted over anchors and probes together) are ignored like any other. Limitation: a
// component counts as anchored only through an anchor token, so a dated record without a
// postcode, linked by phone to a record without a date, does not stop that record from
// joining a namesake at its postcode.
//
// Cost: linear in the number of tokens, and compact. A TokenTable keeps, per
// token, a 64-bit fingerprint of its 32-byte value (`TokenFingerprint`) and one byte of rule
// and role, and per report its run of tokens (report, first token): 9 bytes per token plus 8
// per report, not 38 per token, so 10 million reports of 13 tokens take about 1.25 GB. `Link`
// notes each token's partition by fingerprint in a byte (about 4 million tokens each), then per
// partition scans those bytes (8 at a time) to copy the partition's tokens, counts the distinct
// reports of each (rule, fingerprint) in a partition-local open-addressing table (16-byte
// slots, 24 in the probe phase; prefetched), and joins every report with the last report
// carrying the same token by union-find (path halving, union by size). No allocation per
// report or per token; working memory beyond the input is 1 byte per token, about 13 bytes
// per report plus ~200 MB for the partition, and ~14 bytes more per report for the probe
// phase when there are probe-rule tokens.
//
// Fingerprint collisions. Tokens are keyed BLAKE2b-256 outputs, so distinct tokens have
// independent, uniform fingerprints. Two distinct tokens of the same rule falsely join only
// when their 64-bit fingerprints are equal: for n distinct tokens the probability that this
// happens at all is below n^2 / 2^65 (birthday bound over every pair, rules not even
// separated), i.e. 1.1e-13 for 2,000 tokens, 2.7e-6 for 10 million, 2.2e-4 for 90 million
// (10 million reports of 9 tokens). A collision would merge two persons once, in one
// re-link; that is far below the linkage's own error (docs/linkage.md), and a real token
// shared by more than `max_reports_per_token` reports is still recognised as oversized.
// Details and the measurements: docs/performance.md.
//
// Thread-safety: `Link` is a pure function; a TokenTable is not synchronised.
#ifndef SAMENZICHT_AGGREGATOR_LINKAGE_LINKAGE_H_
#define SAMENZICHT_AGGREGATOR_LINKAGE_LINKAGE_H_

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string_view>
#include <vector>

namespace samenzicht::aggregator {

inline constexpr size_t kTokenSize = 32;

// 64 bits of a 32-byte token value: all four words mixed, so also structured test values
// differ (keyed hashes are uniform already).
inline uint64_t TokenFingerprint(const uint8_t* value) {
  uint64_t w[4];
  std::memcpy(w, value, sizeof w);
  uint64_t h = w[0] ^ (w[1] * 0x9e3779b97f4a7c15ull) ^ ((w[2] << 32 | w[2] >> 32) * 0xc2b2ae3d27d4eb4full) ^
               (w[3] * 0x165667b19e3779f9ull);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

// The role of a token (v1::TokenRole, same numbers): an ordinary rule's token, or a probe
// rule's token of a record that has the rule's probe field (anchor) or lacks it (probe).
enum class TokenRole : uint8_t { kOrdinary = 0, kAnchor = 1, kProbe = 2 };

// Rule numbers in a TokenTable are below this.
inline constexpr uint32_t kMaxRules = 1u << 14;

// Tokens in a compact layout grouped by report (no per-token allocation). Per token: the
// 64-bit fingerprint of its value (see "Fingerprint collisions" above) and one byte with the
// low 6 bits of its rule and its role in the top 2 bits; a second byte with the rule's high
// bits exists only once a rule number of 64 or more was added. Per run of consecutive tokens
// of one report: the report and the run's first token. That is 9 bytes per token plus 8 per
// report when each report's tokens are added together, as Store::LoadDataset, OfflineLink and
// bench::Scale do. Adding a report's tokens in several places also works (each change of
// report starts a new run of 8 bytes), with one caveat that `Link` always had: a report that
// carries the same token in two separate runs counts twice towards `max_reports_per_token`.
// At most 2^32 - 1 tokens (a table of 36 GB).
class TokenTable {
 public:
  // Capacity for `tokens` tokens of `reports` reports.
  void Reserve(size_t tokens, size_t reports = 0) {
    fingerprint_.reserve(tokens);
    code_.reserve(tokens);
    run_report_.reserve(reports);
    run_start_.reserve(reports);
  }
  // `value` must hold exactly kTokenSize bytes; `rule` must be below kMaxRules.
  void Add(uint32_t report, uint16_t rule, const uint8_t* value,
           TokenRole role = TokenRole::kOrdinary) {
    const size_t i = fingerprint_.size();
    if (i == kMaxTokens) std::abort();  // documented limit; 36 GB of tokens
    if (run_report_.empty() || run_report_.back() != report) {
      run_report_.push_back(report);
      run_start_.push_back(static_cast<uint32_t>(i));
    }
    rule &= kMaxRules - 1;
    if (rule >= kLowRules || !rule_high_.empty()) {
      rule_high_.resize(i, 0);  // the first rule >= 64: the earlier tokens' high bits are 0
      rule_high_.push_back(static_cast<uint8_t>(rule / kLowRules));
    }
    code_.push_back(static_cast<uint8_t>(rule % kLowRules | static_cast<uint32_t>(role) << 6));
    fingerprint_.push_back(TokenFingerprint(value));
  }
  void Add(uint32_t report, uint16_t rule, std::string_view value,
           TokenRole role = TokenRole::kOrdinary) {
    Add(report, rule, reinterpret_cast<const uint8_t*>(value.data()), role);
  }
  // Appends token `i` of `from` (its fingerprint, rule and role) as a token of `report`.
  void CopyToken(uint32_t report, const TokenTable& from, size_t i) {
    const size_t at = fingerprint_.size();
    if (at == kMaxTokens) std::abort();
    if (run_report_.empty() || run_report_.back() != report) {
      run_report_.push_back(report);
      run_start_.push_back(static_cast<uint32_t>(at));
    }
    const uint16_t rule = from.rule(i);
    if (rule >= kLowRules || !rule_high_.empty()) {
      rule_high_.resize(at, 0);
      rule_high_.push_back(static_cast<uint8_t>(rule / kLowRules));
    }
    code_.push_back(from.code_[i]);
    fingerprint_.push_back(from.fingerprint_[i]);
  }
  size_t size() const { return fingerprint_.size(); }
  // Runs: tokens [run_begin(r), run_end(r)) all belong to report run_report(r).
  size_t runs() const { return run_report_.size(); }
  uint32_t run_report(size_t r) const { return run_report_[r]; }
  size_t run_begin(size_t r) const { return run_start_[r]; }
  size_t run_end(size_t r) const { return r + 1 < run_start_.size() ? run_start_[r + 1] : size(); }
  // The report of token i: a binary search over the runs (for tests and tools; Link walks
  // the runs).
  uint32_t report(size_t i) const {
    auto it = std::upper_bound(run_start_.begin(), run_start_.end(), static_cast<uint32_t>(i));
    return run_report_[static_cast<size_t>(it - run_start_.begin()) - 1];
  }
  uint16_t rule(size_t i) const {
    const uint32_t high = rule_high_.empty() ? 0 : rule_high_[i];
    return static_cast<uint16_t>(high * kLowRules + (code_[i] % kLowRules));
  }
  TokenRole role(size_t i) const { return static_cast<TokenRole>(code_[i] >> 6); }
  uint64_t fingerprint(size_t i) const { return fingerprint_[i]; }
  // Starts loading token i's fingerprint into the cache (for sparse scans).
  void Prefetch(size_t i) const { __builtin_prefetch(fingerprint_.data() + i); }
  // Same rule and value; the role does not count (a probe equals its anchors).
  bool Equal(size_t i, size_t j) const {
    return rule(i) == rule(j) && fingerprint_[i] == fingerprint_[j];
  }
  // Bytes held (for the capacity figures).
  size_t MemoryBytes() const {
    return fingerprint_.capacity() * sizeof(uint64_t) + code_.capacity() + rule_high_.capacity() +
           run_report_.capacity() * sizeof(uint32_t) + run_start_.capacity() * sizeof(uint32_t);
  }

 private:
  static constexpr uint32_t kLowRules = 64;  // rules in the code byte's low 6 bits
  static constexpr size_t kMaxTokens = std::numeric_limits<uint32_t>::max();
  std::vector<uint64_t> fingerprint_;
  std::vector<uint8_t> code_;        // rule % 64 | role << 6
  std::vector<uint8_t> rule_high_;   // rule / 64; empty while every rule is below 64
  std::vector<uint32_t> run_report_;
  std::vector<uint32_t> run_start_;  // first token of each run
};

// The key a token is grouped by: its fingerprint with the rule mixed in, so the same value
// under two rules never meets. The role does not count: a probe meets its anchors. Link and
// LinkProbabilistic both group by it.
inline uint64_t TokenKey(const TokenTable& t, size_t i) {
  return t.fingerprint(i) ^ ((uint64_t{t.rule(i)} + 1) * 0x9e3779b97f4a7c15ull);
}

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
  // Probe reports left unattached because their probe tokens lead to more than one person
  // (see "Probe rules"): the operator sees how often a record without, e.g., a date of
  // birth could not be told apart between namesakes.
  uint32_t ambiguous_probe_reports = 0;
};

// `num_rules` must exceed every rule number in `tokens`, every report number must be below
// `num_reports`.
LinkResult Link(uint32_t num_reports, const TokenTable& tokens, uint32_t max_reports_per_token,
                size_t num_rules);

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_LINKAGE_LINKAGE_H_
