#include "aggregator/query/insight.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "aggregator/query/disclosure.h"
#include "aggregator/query/totals.h"
#include "common/month.h"
#include "common/status_macros.h"
#include "model/vocabulary.h"
#include "samenzicht/v1/categories.pb.h"
#include "estimate/estimate.h"

namespace samenzicht::aggregator {
namespace {

struct PeriodFilter {
  uint32_t from = 0, to = 0;
  bool bounded() const { return from != 0 || to != 0; }
  bool In(uint32_t m) const {
    if (!bounded()) return true;
    if (m == 0) return false;
    return (from == 0 || m >= from) && (to == 0 || m <= to);
  }
};

absl::StatusOr<PeriodFilter> CheckPeriod(uint32_t from, uint32_t to) {
  if (!IsValidMonth(from) || !IsValidMonth(to)) {
    return absl::InvalidArgumentError("insight: from_month and to_month must be YYYYMM");
  }
  if (from != 0 && to != 0 && from > to) {
    return absl::InvalidArgumentError("insight: from_month is after to_month");
  }
  return PeriodFilter{from, to};
}

struct PersonFacts {
  bool in_period = false;
  uint32_t domains = 0;                 // bit per v1::Domain
  std::vector<AgencyIndex> agencies;    // distinct agency indexes
  uint32_t first_month = std::numeric_limits<uint32_t>::max();  // earliest known month
};

std::vector<PersonFacts> People(const Dataset& ds, const LinkResult& link,
                                const std::vector<AgencyIndex>& agency_of, const PeriodFilter& p) {
  std::vector<PersonFacts> people(link.persons);
  for (size_t i = 0; i < ds.reports.size(); ++i) {
    const ReportFacts& r = ds.reports[i];
    if (!p.In(r.signal_month)) continue;
    PersonFacts& f = people[link.person[i]];
    f.in_period = true;
    if (r.domain > 0 && r.domain < 32) f.domains |= 1u << r.domain;
    const AgencyIndex a = i < agency_of.size() ? agency_of[i] : 0;
    if (a != 0 && std::find(f.agencies.begin(), f.agencies.end(), a) == f.agencies.end()) {
      f.agencies.push_back(a);
    }
    if (r.signal_month != 0) f.first_month = std::min(f.first_month, r.signal_month);
  }
  return people;
}

std::string DomainWord(int d) { return model::Word(v1::DIMENSION_DOMAIN, d); }

// Counts the persons signalled in the period by the set of lists they are on. `ids` are the
// lists present (in list order), `on_list(f, id)` tells whether person `f` is on list `id`.
template <typename OnList>
absl::StatusOr<CaptureHistories> Tabulate(const std::vector<PersonFacts>& people,
                                          const std::vector<int>& ids,
                                          std::vector<std::string> names, OnList on_list) {
  if (ids.size() > 20) {
    return absl::FailedPreconditionError(
        absl::StrCat("capture histories over ", ids.size(), " lists; at most 20 are supported"));
  }
  CaptureHistories h;
  h.lists = std::move(names);
  h.counts.assign(size_t{1} << ids.size(), 0);
  for (const PersonFacts& f : people) {
    if (!f.in_period) continue;
    size_t mask = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (on_list(f, ids[i])) mask |= size_t{1} << i;
    }
    if (mask != 0) ++h.counts[mask];
  }
  return h;
}

}  // namespace

absl::StatusOr<CaptureHistories> DomainCaptureHistories(const Dataset& ds, const LinkResult& link,
                                                        uint32_t from, uint32_t to) {
  ASSIGN_OR_RETURN(PeriodFilter p, CheckPeriod(from, to));
  std::vector<PersonFacts> people = People(ds, link, {}, p);
  uint32_t present = 0;
  for (const PersonFacts& f : people) present |= f.domains;
  std::vector<int> domains;
  std::vector<std::string> names;
  for (int d = 1; d < 32; ++d) {
    if (present & (1u << d)) {
      domains.push_back(d);
      names.push_back(DomainWord(d));
    }
  }
  return Tabulate(people, domains, std::move(names),
                  [](const PersonFacts& f, int d) { return (f.domains & (1u << d)) != 0; });
}

absl::StatusOr<CaptureHistories> AgencyCaptureHistories(
    const Dataset& ds, const LinkResult& link, const std::vector<AgencyIndex>& agency_of,
    const std::vector<std::string>& agency_names, uint32_t from, uint32_t to) {
  ASSIGN_OR_RETURN(PeriodFilter p, CheckPeriod(from, to));
  std::vector<PersonFacts> people = People(ds, link, agency_of, p);
  std::vector<bool> present(size_t{std::numeric_limits<AgencyIndex>::max()} + 1, false);
  for (const PersonFacts& f : people) {
    if (!f.in_period) continue;
    for (AgencyIndex a : f.agencies) present[a] = true;
  }
  std::vector<int> agencies;
  std::vector<std::string> names;
  for (int a = 1; a < static_cast<int>(present.size()); ++a) {
    if (!present[a]) continue;
    if (static_cast<size_t>(a) > agency_names.size()) {
      return absl::InvalidArgumentError(absl::StrCat("agency index ", a, " has no name"));
    }
    agencies.push_back(a);
    names.push_back(agency_names[a - 1]);
  }
  return Tabulate(people, agencies, std::move(names), [](const PersonFacts& f, int a) {
    return std::find(f.agencies.begin(), f.agencies.end(), a) != f.agencies.end();
  });
}

Estimator DefaultEstimator(int replicates) {
  return [replicates](const CaptureHistories& h) {
    v1::HiddenNumberEstimate out;
    for (const std::string& l : h.lists) out.add_lists(l);
    int k = static_cast<int>(h.lists.size());
    if (k < estimate::kMinLists) {
      out.set_reason(absl::StrCat("no reliable estimate: multiple systems estimation needs at "
                                  "least ", estimate::kMinLists,
                                  " reporting domains with signals in the period; there are ",
                                  k));
      return out;
    }
    if (k > estimate::kMaxLists) {
      out.set_reason("no estimate: more reporting domains than the estimator supports");
      return out;
    }
    auto table = estimate::CaptureTable::FromCounts(k, h.counts, h.lists);
    if (!table.ok()) {
      out.set_reason(absl::StrCat("no reliable estimate: ", table.status().message()));
      return out;
    }
    estimate::EstimateOptions options;
    options.replicates = replicates;
    options.linkage_error = {h.missed_links, h.false_links};
    // An unreliable estimate is not published (WhyNotPublishable below): no bootstrap for it.
    options.interval_when_unreliable = false;
    auto r = estimate::Estimate(*table, options);
    if (!r.ok()) {
      out.set_reason(absl::StrCat("no reliable estimate: ", r.status().message()));
      return out;
    }
    out.set_observed(static_cast<uint64_t>(r->observed));
    // Published only when reliable and its interval informative (estimate.h,
    // WhyNotPublishable); otherwise the reason in plain words, and none of the caveats, which
    // describe the estimate and its interval (e.g. what the interval includes).
    if (std::string why = estimate::WhyNotPublishable(*r); !why.empty()) {
      out.set_reason(absl::StartsWith(why, "no ") ? why
                                                  : absl::StrCat("no reliable estimate: ", why));
      return out;
    }
    for (const std::string& c : r->caveats) out.add_caveats(c);
    out.set_available(true);
    out.set_estimate(*r->estimate);
    out.set_model(r->model);
    if (r->interval.has_value()) {
      out.set_lower(r->interval->lower);
      out.set_upper(r->interval->upper);
      out.set_interval_method(r->interval->method == estimate::IntervalMethod::kBca
                                  ? "BCa bootstrap"
                                  : "percentile bootstrap");
    } else if (r->profile_interval.has_value()) {
      out.set_lower(r->profile_interval->lower);
      out.set_upper(r->profile_interval->upper);
      out.set_interval_method("profile likelihood");
    }
    return out;
  };
}

namespace {

// Counts and cell keys (disclosure.h) of the overview's cells.
struct KeyedCount {
  uint64_t n = 0, key = 0;
  void Add(uint64_t k) {
    ++n;
    key += k;
  }
};

// The overview under the Cell Key Method: every count perturbed by its cell key, nothing
// withheld. The quarters of the trend are the sums of their months (persons by earliest
// signal month partition the period), so they have their own cell keys.
struct InsightCells {
  KeyedCount persons, signals, unlinkable, lower, by_agencies[3];
  std::map<int, KeyedCount> domain_persons;
  std::map<std::pair<int, int>, KeyedCount> pair_persons;
  std::map<uint32_t, KeyedCount> month_persons, month_signals;  // 0 = unknown
};

InsightCells GatherInsight(const Dataset& ds, const LinkResult& link,
                           const std::vector<AgencyIndex>& agency_of, const PeriodFilter& p,
                           const RecordKeys& keys) {
  InsightCells cells;
  auto& [persons, signals, unlinkable, lower, by_agencies, domain_persons, pair_persons,
         month_persons, month_signals] = cells;
  std::vector<PersonFacts> people = People(ds, link, agency_of, p);
  std::vector<bool> linkable(link.persons, false);
  std::vector<uint64_t> period_sum(link.persons, 0);  // persons' keys in the period
  std::vector<uint8_t> period_mark(link.persons, 0);  // and marks: marked in any month
  // Each person's reports in the period: its key in a cell is made from the reports that
  // put it there (disclosure.h; the same rule as the totals by domain and by signal month).
  // (person p's are reports_of[first[p] .. first[p + 1]).)
  std::vector<uint32_t> first(size_t{link.persons} + 1, 0), reports_of;
  for (size_t i = 0; i < ds.reports.size(); ++i) {
    if (p.In(ds.reports[i].signal_month)) ++first[link.person[i] + 1];
  }
  for (size_t q = 1; q < first.size(); ++q) first[q] += first[q - 1];
  reports_of.resize(first.back());
  std::vector<uint32_t> next(first.begin(), first.end() - 1);
  for (size_t i = 0; i < ds.reports.size(); ++i) {
    const ReportFacts& r = ds.reports[i];
    if (!p.In(r.signal_month)) continue;
    signals.Add(keys.report[i]);
    period_sum[link.person[i]] += keys.report[i];
    period_mark[link.person[i]] |= keys.month_mark[i];
    reports_of[next[link.person[i]]++] = static_cast<uint32_t>(i);
    if (!r.has_token) {
      unlinkable.Add(keys.report[i]);
    } else {
      linkable[link.person[i]] = true;
    }
    month_signals[r.signal_month].Add(keys.report[i]);
    month_persons.emplace(r.signal_month, KeyedCount{});
  }
  for (uint32_t id = 0; id < link.persons; ++id) {
    const PersonFacts& f = people[id];
    if (!f.in_period) continue;
    const uint64_t key = p.bounded()
                             ? PersonKey(period_sum[id], period_mark[id], keys.secret)
                             : keys.person[id];
    persons.Add(key);
    if (linkable[id]) lower.Add(key);
    size_t n = f.agencies.size();
    if (n >= 1) by_agencies[std::min<size_t>(n, 3) - 1].Add(key);
    // The sum of the keys of the person's reports that `match` says put it in a cell.
    auto key_of = [&](auto match) {
      uint64_t sum = 0;
      for (uint32_t q = first[id]; q < first[id + 1]; ++q) {
        const uint32_t i = reports_of[q];
        if (match(ds.reports[i])) sum += keys.report[i];
      }
      return PersonKey(sum, p.bounded() ? period_mark[id] : keys.person_mark[id], keys.secret);
    };
    for (int a = 1; a < 32; ++a) {
      if (!(f.domains & (1u << a))) continue;
      domain_persons[a].Add(key_of([a](const ReportFacts& r) { return r.domain == a; }));
      for (int b = a + 1; b < 32; ++b) {
        if (!(f.domains & (1u << b))) continue;
        pair_persons[{a, b}].Add(
            key_of([a, b](const ReportFacts& r) { return r.domain == a || r.domain == b; }));
      }
    }
    const uint32_t first =
        f.first_month == std::numeric_limits<uint32_t>::max() ? 0 : f.first_month;
    month_persons[first].Add(key_of(
        [first](const ReportFacts& r) { return first == 0 || r.signal_month == first; }));
  }
  for (const auto& [m, c] : month_persons) month_signals.emplace(m, KeyedCount{});
  return cells;
}

// The keys of `keyed` (the key world's cells) in place of those of `counted`, cell by cell (0
// where the key world has no such cell).
void TakeKeys(InsightCells& counted, const InsightCells& keyed) {
  counted.persons.key = keyed.persons.key;
  counted.signals.key = keyed.signals.key;
  counted.unlinkable.key = keyed.unlinkable.key;
  counted.lower.key = keyed.lower.key;
  for (int i = 0; i < 3; ++i) counted.by_agencies[i].key = keyed.by_agencies[i].key;
  auto take = [](auto& to, const auto& from) {
    for (auto& [at, c] : to) {
      auto it = from.find(at);
      c.key = it == from.end() ? 0 : it->second.key;
    }
  };
  take(counted.domain_persons, keyed.domain_persons);
  take(counted.pair_persons, keyed.pair_persons);
  take(counted.month_persons, keyed.month_persons);
  take(counted.month_signals, keyed.month_signals);
}

void PerturbInsight(const Dataset& ds, const LinkResult& link,
                    const std::vector<AgencyIndex>& agency_of, const PeriodFilter& p,
                    bool quarter, const RecordKeys& keys, const CellKeyParams& params,
                    const KeyWorld* key_world, v1::InsightResponse& resp) {
  InsightCells cells = GatherInsight(ds, link, agency_of, p, keys);
  if (key_world != nullptr) {
    TakeKeys(cells, GatherInsight(key_world->dataset, key_world->link, key_world->agency_of, p,
                                  key_world->keys));
  }
  auto& [persons, signals, unlinkable, lower, by_agencies, domain_persons, pair_persons,
         month_persons, month_signals] = cells;

  auto person_count = [&](const KeyedCount& c) {
    return PerturbedCount(c.n, c.key, Measure::kPersons, params);
  };
  auto signal_count = [&](const KeyedCount& c) {
    return PerturbedCount(c.n, c.key, Measure::kSignals, params);
  };
  *resp.mutable_total_persons() = person_count(persons);
  *resp.mutable_total_signals() = signal_count(signals);
  *resp.mutable_unlinkable_signals() = signal_count(unlinkable);
  *resp.mutable_persons_lower_bound() = person_count(lower);
  if (resp.total_persons().value() > 0) {
    resp.set_signals_per_person(absl::StrFormat(
        "%.2f", static_cast<double>(resp.total_signals().value()) / resp.total_persons().value()));
  }
  const char* names[3] = {"1", "2", "3+"};
  for (int i = 0; i < 3; ++i) {
    auto* row = resp.add_agency_counts();
    row->set_agencies(names[i]);
    *row->mutable_persons() = person_count(by_agencies[i]);
  }
  std::vector<int> doms;
  for (const auto& [d, c] : domain_persons) doms.push_back(d);
  for (int a : doms) resp.add_overlap_domains(DomainWord(a));
  for (int a : doms) {
    for (int b : doms) {
      auto* c = resp.add_overlap();
      c->set_row(DomainWord(a));
      c->set_column(DomainWord(b));
      if (a == b) {
        *c->mutable_persons() = person_count(domain_persons[a]);
      } else {
        auto it = pair_persons.find({std::min(a, b), std::max(a, b)});
        *c->mutable_persons() = person_count(it == pair_persons.end() ? KeyedCount{} : it->second);
      }
    }
  }
  // Trend: months, or quarters as the sums of their months; "unknown" last.
  std::map<uint32_t, std::pair<KeyedCount, KeyedCount>> points;  // period -> persons, signals
  for (const auto& [m, c] : month_persons) {
    if (m == 0) continue;
    const Month month(m);
    const uint32_t at = quarter ? month.year() * 10 + (month.month() - 1) / 3 + 1 : m;
    auto& [pc, sc] = points[at];
    pc.n += c.n;
    pc.key += c.key;
    const KeyedCount& s = month_signals[m];
    sc.n += s.n;
    sc.key += s.key;
  }
  auto add_point = [&](const std::string& label, const KeyedCount& pc, const KeyedCount& sc) {
    auto* t = resp.add_trend();
    t->set_period(label);
    *t->mutable_persons() = person_count(pc);
    *t->mutable_signals() = signal_count(sc);
  };
  for (const auto& [at, c] : points) {
    add_point(quarter ? QuarterWord(at) : model::MonthWord(at), c.first, c.second);
  }
  auto unknown = month_persons.find(0);
  if (unknown != month_persons.end()) add_point("unknown", unknown->second, month_signals[0]);
}

}  // namespace

absl::StatusOr<v1::InsightResponse> ComputeInsight(const Dataset& ds, const LinkResult& link,
                                                   const std::vector<AgencyIndex>& agency_of,
                                                   const v1::InsightRequest& request,
                                                   uint32_t min_cell_size,
                                                   const Estimator& estimator) {
  return ComputeInsight(ds, link, agency_of, request, min_cell_size, estimator, nullptr,
                        nullptr);
}

absl::StatusOr<v1::InsightResponse> ComputeInsight(const Dataset& ds, const LinkResult& link,
                                                   const std::vector<AgencyIndex>& agency_of,
                                                   const v1::InsightRequest& request,
                                                   uint32_t min_cell_size,
                                                   const Estimator& estimator,
                                                   const RecordKeys* keys,
                                                   const CellKeyParams* cell_key,
                                                   const KeyWorld* key_world) {
  const uint32_t k = min_cell_size == 0 ? kDefaultMinCellSize : min_cell_size;
  ASSIGN_OR_RETURN(PeriodFilter p, CheckPeriod(request.from_month(), request.to_month()));
  if (link.person.size() != ds.reports.size()) {
    return absl::InternalError("insight: linkage does not match the dataset");
  }
  const bool quarter = request.granularity() == v1::TREND_GRANULARITY_QUARTER;
  v1::InsightResponse resp;
  resp.set_from_month(p.from);
  resp.set_to_month(p.to);
  resp.set_min_cell_size(k);
  resp.set_granularity(quarter ? v1::TREND_GRANULARITY_QUARTER : v1::TREND_GRANULARITY_MONTH);
  resp.set_counting_rules(CountingRules());
  resp.set_disclosure_rules(DisclosureRules());
  if (keys != nullptr && cell_key != nullptr) {
    if (keys->report.size() != ds.reports.size() || keys->person.size() != link.persons ||
        keys->month_mark.size() != ds.reports.size()) {
      return absl::InternalError("insight: record keys do not match the dataset");
    }
    CellKeyParams params = *cell_key;
    params.k = k;
    resp.set_disclosure_rules(CellKeyRules(params));
    // Nothing is shown as <k: drop the suppression sentence from the counting rules.
    std::string rules = CountingRules();
    const std::string suppression = " Counts from 1 to k-1 are shown as <k.";
    if (rules.size() >= suppression.size() &&
        rules.compare(rules.size() - suppression.size(), suppression.size(), suppression) == 0) {
      rules.resize(rules.size() - suppression.size());
    }
    resp.set_counting_rules(rules);
    PerturbInsight(ds, link, agency_of, p, quarter, *keys, params, key_world, resp);
  } else {
    std::vector<PersonFacts> people = People(ds, link, agency_of, p);
    uint64_t persons = 0, signals = 0, unlinkable = 0;
    uint64_t by_agencies[3] = {0, 0, 0};
    std::map<int, uint64_t> domain_persons;
    std::map<std::pair<int, int>, uint64_t> pair_persons;
    std::map<uint32_t, uint64_t> month_persons, month_signals;  // 0 = unknown
    for (const PersonFacts& f : people) {
      if (!f.in_period) continue;
      ++persons;
      size_t n = f.agencies.size();
      if (n >= 1) ++by_agencies[std::min<size_t>(n, 3) - 1];
      for (int a = 1; a < 32; ++a) {
        if (!(f.domains & (1u << a))) continue;
        ++domain_persons[a];
        for (int b = a + 1; b < 32; ++b) {
          if (f.domains & (1u << b)) ++pair_persons[{a, b}];
        }
      }
      ++month_persons[f.first_month == std::numeric_limits<uint32_t>::max() ? 0 : f.first_month];
    }
    for (const ReportFacts& r : ds.reports) {
      if (!p.In(r.signal_month)) continue;
      ++signals;
      if (!r.has_token) ++unlinkable;
      ++month_signals[r.signal_month];
      month_persons.emplace(r.signal_month, 0);
    }
    for (const auto& [m, n] : month_persons) month_signals.emplace(m, 0);

    // Summary: total persons = lower bound + unlinkable.
    {
      DcTable dc;
      size_t total = dc.Add(persons, true);
      size_t lower = dc.Add(persons - std::min(persons, unlinkable));
      size_t unl = dc.Add(unlinkable);
      dc.AddLine({lower, unl}, static_cast<long>(total));
      size_t total_signals = dc.Add(signals, true);
      Suppress(dc, k);
      *resp.mutable_total_persons() = ToCount(dc.cells[total]);
      *resp.mutable_persons_lower_bound() = ToCount(dc.cells[lower]);
      *resp.mutable_unlinkable_signals() = ToCount(dc.cells[unl]);
      *resp.mutable_total_signals() = ToCount(dc.cells[total_signals]);
      const v1::Count& tp = resp.total_persons();
      const v1::Count& ts = resp.total_signals();
      if (!tp.suppressed() && !tp.secondary() && !ts.suppressed() && !ts.secondary() &&
          tp.value() > 0) {
        resp.set_signals_per_person(
            absl::StrFormat("%.2f", static_cast<double>(ts.value()) / tp.value()));
      }
    }
    // Persons by number of agencies.
    {
      DcTable dc;
      size_t total = dc.Add(persons, true);
      std::vector<size_t> cells;
      for (uint64_t n : by_agencies) cells.push_back(dc.Add(n));
      dc.AddLine(cells, static_cast<long>(total));
      Suppress(dc, k);
      const char* names[3] = {"1", "2", "3+"};
      for (int i = 0; i < 3; ++i) {
        auto* row = resp.add_agency_counts();
        row->set_agencies(names[i]);
        *row->mutable_persons() = ToCount(dc.cells[cells[static_cast<size_t>(i)]]);
      }
    }
    // Overlap between domains.
    {
      std::vector<int> doms;
      for (const auto& [d, n] : domain_persons) doms.push_back(d);
      DcTable dc;
      std::map<std::pair<int, int>, size_t> cell;
      for (int d : doms) cell[{d, d}] = dc.Add(domain_persons[d], /*fixed=*/true);
      for (size_t i = 0; i < doms.size(); ++i) {
        for (size_t j = i + 1; j < doms.size(); ++j) {
          auto it = pair_persons.find({doms[i], doms[j]});
          cell[{doms[i], doms[j]}] = dc.Add(it == pair_persons.end() ? 0 : it->second);
        }
      }
      auto at = [&](int a, int b) { return a <= b ? cell[{a, b}] : cell[{b, a}]; };
      for (int a : doms) {
        std::vector<size_t> line;
        for (int b : doms) {
          if (b != a) line.push_back(at(a, b));
        }
        if (!line.empty()) dc.AddLine(line, static_cast<long>(at(a, a)));
      }
      Suppress(dc, k);
      for (int a : doms) resp.add_overlap_domains(DomainWord(a));
      for (int a : doms) {
        for (int b : doms) {
          auto* c = resp.add_overlap();
          c->set_row(DomainWord(a));
          c->set_column(DomainWord(b));
          *c->mutable_persons() = ToCount(dc.cells[at(a, b)]);
        }
      }
    }
    // Trend: months and quarters share one pattern per measure.
    for (int measure = 0; measure < 2; ++measure) {
      const auto& values = measure == 0 ? month_persons : month_signals;
      DcTable dc;
      size_t total = dc.Add(measure == 0 ? persons : signals, true);
      std::vector<std::pair<uint32_t, size_t>> months;
      for (const auto& [m, n] : values) {
        if (m != 0) months.emplace_back(m, dc.Add(n));
      }
      auto unknown = values.find(0);
      if (unknown != values.end()) months.emplace_back(0, dc.Add(unknown->second));
      std::vector<std::pair<uint32_t, size_t>> quarters = AddTrendLines(dc, months, total);
      Suppress(dc, k);
      const auto& shown = quarter ? quarters : months;
      if (measure == 0) {
        for (const auto& [key, c] : shown) {
          auto* t = resp.add_trend();
          t->set_period(key == 0 ? "unknown" : quarter ? QuarterWord(key) : model::MonthWord(key));
          *t->mutable_persons() = ToCount(dc.cells[c]);
        }
      } else {
        for (size_t i = 0; i < shown.size(); ++i) {
          *resp.mutable_trend(static_cast<int>(i))->mutable_signals() =
              ToCount(dc.cells[shown[i].second]);
        }
      }
    }
  }
  // Hidden number.
  v1::HiddenNumberEstimate* est = resp.mutable_estimate();
  if (!request.include_estimate()) {
    est->set_reason("not requested");
  } else if (!estimator) {
    est->set_reason("this build has no estimator");
  } else {
    ASSIGN_OR_RETURN(CaptureHistories h, DomainCaptureHistories(ds, link, p.from, p.to));
    *est = estimator(h);
    uint64_t observed = 0;
    for (int64_t c : h.counts) observed += static_cast<uint64_t>(c);
    if (est->available() && observed < k) {
      v1::HiddenNumberEstimate withheld;
      for (const auto& l : est->lists()) withheld.add_lists(l);
      withheld.set_reason(absl::StrCat("withheld: fewer than ", k, " persons seen"));
      *est = withheld;
    }
    est->set_observed(observed < k ? 0 : observed);
    if (est->available()) {
      est->set_estimate(std::round(est->estimate()));
      est->set_lower(std::floor(est->lower()));
      est->set_upper(std::isfinite(est->upper()) ? std::ceil(est->upper()) : est->upper());
      // Only a published estimate carries caveats: they describe it.
      est->add_caveats(
          "Multiple systems estimation assumes a closed population in the period, that every "
          "person could be signalled by each domain, and that the chosen model captures the "
          "dependence between domains; linkage errors (missed or false links) bias the "
          "estimate.");
    }
  }
  return resp;
}

}  // namespace samenzicht::aggregator
