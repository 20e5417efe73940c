// Realistic synthetic reports at any scale, for the performance benchmarks.
//
// A template is made once from the simulator (a municipality of `persons` victims seen by 6
// agencies, moderate noise): every record goes through the agency node's real CSV parsing,
// normalisation and tokeniser with the default profile and a random key, so the number of
// tokens per report, which rules are present and which tokens duplicate reports of one
// person share are exactly those of the real pipeline. `Scale` then makes N reports from
// copies of the template: copy c maps every token value through a keyed bijection of c, so
// tokens equal within a copy stay equal and tokens of different copies never meet (each copy
// is another municipality's victims). Report numbers are scattered over [0, N) by an affine
// bijection, so one person's reports lie far apart, as in a national history.
#ifndef SAMENZICHT_BENCH_PERF_SYNTHETIC_H_
#define SAMENZICHT_BENCH_PERF_SYNTHETIC_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "aggregator/linkage/linkage.h"
#include "aggregator/store/store.h"

namespace samenzicht::bench {

struct TemplateToken {
  uint16_t rule = 0;
  aggregator::TokenRole role = aggregator::TokenRole::kOrdinary;  // probe rules
  std::array<uint8_t, 32> value{};
};

struct TemplateReport {
  int person = 0;  // the simulator's true person
  aggregator::ReportFacts facts;
  std::vector<TemplateToken> tokens;
};

struct Template {
  std::vector<TemplateReport> reports;
  std::vector<std::string> rules;  // the profile's rule names
  uint32_t max_reports_per_token = 50;
  size_t tokens = 0;
  int persons_signalled = 0;
  double TokensPerReport() const { return reports.empty() ? 0 : double(tokens) / reports.size(); }
};

// `profile_file`: the linkage profile (deploy/config/profile.textproto).
absl::StatusOr<Template> MakeTemplate(const std::string& profile_file, int persons, uint64_t seed);

// Calls `sink(report, rule, value32, role)` for every token of N reports, each report's tokens
// together; `facts` (if not null) receives the N reports' categories by report number.
template <typename Sink>
void Scale(const Template& t, uint64_t n, Sink&& sink,
           std::vector<aggregator::ReportFacts>* facts = nullptr);

// Report `g` of a scaled history as an agency node sends it: template report g % size, its
// tokens those of copy g / size (packed, with their roles), the categories of the
// template, a random report id.
v1::Report ReportOf(const Template& t, uint64_t g);

// The affine bijection of report numbers used by Scale.
uint64_t ScatterMultiplier(uint64_t n);

inline void MapToken(const uint8_t* in, uint64_t copy, uint8_t* out) {
  for (int w = 0; w < 4; ++w) {
    uint64_t x;
    std::memcpy(&x, in + 8 * w, 8);
    if (copy != 0) {
      // splitmix64 finaliser of (word + copy-derived offset): a bijection per word.
      x += copy * 0x9e3779b97f4a7c15ull + static_cast<uint64_t>(w);
      x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
      x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
      x ^= x >> 31;
    }
    std::memcpy(out + 8 * w, &x, 8);
  }
}

template <typename Sink>
void Scale(const Template& t, uint64_t n, Sink&& sink,
           std::vector<aggregator::ReportFacts>* facts) {
  if (facts != nullptr) facts->assign(n, aggregator::ReportFacts{});
  const uint64_t r = t.reports.size();
  const uint64_t a = ScatterMultiplier(n);
  uint8_t value[32];
  for (uint64_t k = 0; k < n; ++k) {
    const TemplateReport& tr = t.reports[k % r];
    const uint64_t copy = k / r;
    const uint32_t report = static_cast<uint32_t>((static_cast<unsigned __int128>(k) * a + 12345) % n);
    if (facts != nullptr) (*facts)[report] = tr.facts;
    for (const TemplateToken& tok : tr.tokens) {
      MapToken(tok.value.data(), copy, value);
      sink(report, tok.rule, value, tok.role);
    }
  }
}

// Peak resident memory of this process (getrusage ru_maxrss), bytes.
uint64_t PeakRssBytes();
// Current resident memory (/proc/self/statm), bytes.
uint64_t CurrentRssBytes();

}  // namespace samenzicht::bench

#endif  // SAMENZICHT_BENCH_PERF_SYNTHETIC_H_
