#include "bench/perf/synthetic.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "agency_node/csv.h"
#include "agency_node/normalise.h"
#include "agency_node/signal.h"
#include "agency_node/tokeniser.h"
#include "common/status_macros.h"
#include "crypto/encoding.h"
#include "crypto/keyed_hash.h"
#include "crypto/secret_bytes.h"
#include "model/config.h"
#include "model/tokens.h"
#include "simulator/simulator.h"

namespace samenzicht::bench {

absl::StatusOr<Template> MakeTemplate(const std::string& profile_file, int persons, uint64_t seed) {
  ASSIGN_OR_RETURN(v1::LinkageProfile profile, model::LoadProfile(profile_file));
  simulator::SimulatorOptions opt;
  opt.persons = persons;
  opt.seed = seed;
  ASSIGN_OR_RETURN(simulator::Simulation sim, simulator::Simulate(opt));
  std::string csv_text;
  for (size_t i = 0; i < simulator::CsvHeader().size(); ++i) {
    absl::StrAppend(&csv_text, i ? "," : "", simulator::CsvHeader()[i]);
  }
  csv_text += "\n";
  std::map<std::string, int> person_of;
  for (const auto& r : sim.records) {
    csv_text += simulator::CsvLine(r);
    person_of[r.record_id] = r.person;
  }
  ASSIGN_OR_RETURN(agency_node::CsvFile csv, agency_node::ParseCsv(csv_text));
  ASSIGN_OR_RETURN(auto normaliser, agency_node::Normaliser::New());
  ASSIGN_OR_RETURN(agency_node::SignalFile file,
                   agency_node::ParseSignals(csv, *normaliser, agency_node::SignalOptions()));
  ASSIGN_OR_RETURN(crypto::SecretBytes key, crypto::SecretBytes::Random(32));
  ASSIGN_OR_RETURN(auto hasher, crypto::KeyedHasher::New(key, agency_node::kTokenPurpose, 1,
                                                         agency_node::RuleNames(profile)));
  ASSIGN_OR_RETURN(auto tokeniser, agency_node::Tokeniser::New(profile, std::move(hasher)));

  Template t;
  t.rules = agency_node::RuleNames(profile);
  t.max_reports_per_token = model::MaxReportsPerToken(profile);
  std::map<std::string, uint16_t> areas;
  std::vector<bool> seen(sim.people.size() + 1, false);
  for (agency_node::Signal& s : file.signals) {
    TemplateReport tr;
    tr.person = person_of[s.record_id];
    tokeniser->Tokenise(s.person, s.report.mutable_packed_tokens());
    model::ForEachToken(s.report, t.rules, [&](const model::TokenRef& tok) {
      TemplateToken& tt = tr.tokens.emplace_back();
      tt.rule = static_cast<uint16_t>(tok.rule);
      tt.role = static_cast<aggregator::TokenRole>(tok.role);  // same numbers as v1::TokenRole
      std::memcpy(tt.value.data(), tok.value.data(), 32);
    });
    const v1::Report& r = s.report;
    aggregator::ReportFacts& f = tr.facts;
    f.signal_month = r.signal_month();
    f.form = static_cast<uint8_t>(r.form());
    f.contact = static_cast<uint8_t>(r.contact());
    f.age_band = static_cast<uint8_t>(r.age_band());
    f.gender = static_cast<uint8_t>(r.gender());
    f.background = static_cast<uint8_t>(r.background());
    f.domain = static_cast<uint8_t>(1 + (s.record_id.size() % 6));  // an agency's domain
    if (!r.area().empty()) {
      auto [it, fresh] = areas.emplace(r.area(), static_cast<uint16_t>(areas.size() + 1));
      f.area = it->second;
    }
    f.living = aggregator::MaskOf(r.living_situation());
    f.recruitment = aggregator::MaskOf(r.recruitment_location());
    f.coercion = aggregator::MaskOf(r.coercion());
    f.forced_crime = aggregator::MaskOf(r.forced_crime());
    f.has_token = !tr.tokens.empty();
    t.tokens += tr.tokens.size();
    if (tr.person >= 0 && static_cast<size_t>(tr.person) < seen.size() && !seen[tr.person]) {
      seen[tr.person] = true;
      ++t.persons_signalled;
    }
    t.reports.push_back(std::move(tr));
  }
  return t;
}

uint64_t ScatterMultiplier(uint64_t n) {
  if (n <= 1) return 1;
  uint64_t a = (n * 0.6180339887) + 1;
  while (std::gcd(a, n) != 1) ++a;
  return a;
}

uint64_t PeakRssBytes() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<uint64_t>(ru.ru_maxrss) * 1024;
}

uint64_t CurrentRssBytes() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<uint64_t>(resident) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

v1::Report ReportOf(const Template& t, uint64_t g) {
  const TemplateReport& tr = t.reports[g % t.reports.size()];
  v1::Report r;
  r.set_report_id(crypto::RandomId());
  r.set_signal_month(tr.facts.signal_month);
  r.set_form(static_cast<v1::Form>(tr.facts.form));
  r.set_age_band(static_cast<v1::AgeBand>(tr.facts.age_band));
  r.set_gender(static_cast<v1::Gender>(tr.facts.gender));
  uint8_t v[32];
  for (const TemplateToken& tt : tr.tokens) {
    MapToken(tt.value.data(), g / t.reports.size(), v);
    model::AppendPackedToken(tt.rule, static_cast<v1::TokenRole>(tt.role), v,
                             r.mutable_packed_tokens());
  }
  return r;
}

}  // namespace samenzicht::bench
