#include "aggregator/totals.h"

#include <algorithm>
#include <limits>
#include <map>
#include <numeric>
#include <set>

#include "absl/strings/str_cat.h"
#include "aggregator/disclosure.h"
#include "common/status_macros.h"
#include "model/vocabulary.h"
#include "samenzicht/v1/categories.pb.h"

namespace samenzicht::aggregator {

constexpr uint32_t kFormSexual = 1u << 0;
constexpr uint32_t kFormCriminal = 1u << 1;
constexpr uint32_t kFormLabour = 1u << 2;
constexpr uint32_t kFormOther = 1u << 3;

uint32_t FormBits(uint8_t form) {
  switch (form) {
    case v1::FORM_SEXUAL: return kFormSexual;
    case v1::FORM_CRIMINAL: return kFormCriminal;
    case v1::FORM_SEXUAL_AND_CRIMINAL: return kFormSexual | kFormCriminal;
    case v1::FORM_LABOUR: return kFormLabour;
    case v1::FORM_OTHER: return kFormOther;
    default: return 0;
  }
}

int PersonForm(uint32_t bits) {
  if ((bits & kFormSexual) && (bits & kFormCriminal)) return v1::FORM_SEXUAL_AND_CRIMINAL;
  if (bits & kFormSexual) return v1::FORM_SEXUAL;
  if (bits & kFormCriminal) return v1::FORM_CRIMINAL;
  if (bits & kFormLabour) return v1::FORM_LABOUR;
  if (bits & kFormOther) return v1::FORM_OTHER;
  return v1::FORM_UNSPECIFIED;
}

namespace {

using v1::Dimension;


// What the counting rules make of one person.
struct Person {
  bool in_period = false;
  uint32_t form_bits = 0;
  uint8_t contact = 0, age_band = 0, gender = 0, background = 0;
  uint16_t area = 0;
  uint32_t month = 0;
  uint32_t living = 0, recruitment = 0, coercion = 0, forced_crime = 0;
  uint32_t domains = 0;  // bit per v1::Domain
};

template <typename T>
void FirstKnown(T& slot, T value) {
  if (slot == 0) slot = value;
}

using Keys = std::vector<int64_t>;

void MaskKeys(uint32_t mask, Keys& out) {
  if (mask == 0) {
    out.push_back(0);
    return;
  }
  for (int v = 1; v < 32; ++v) {
    if (mask & (1u << v)) out.push_back(v);
  }
}

void PersonKeys(Dimension d, const Person& p, Keys& out) {
  out.clear();
  switch (d) {
    case v1::DIMENSION_FORM: out.push_back(PersonForm(p.form_bits)); break;
    case v1::DIMENSION_CONTACT: out.push_back(p.contact); break;
    case v1::DIMENSION_AGE_BAND: out.push_back(p.age_band); break;
    case v1::DIMENSION_GENDER: out.push_back(p.gender); break;
    case v1::DIMENSION_BACKGROUND: out.push_back(p.background); break;
    case v1::DIMENSION_LIVING_SITUATION: MaskKeys(p.living, out); break;
    case v1::DIMENSION_RECRUITMENT_LOCATION: MaskKeys(p.recruitment, out); break;
    case v1::DIMENSION_COERCION: MaskKeys(p.coercion, out); break;
    case v1::DIMENSION_FORCED_CRIME: MaskKeys(p.forced_crime, out); break;
    case v1::DIMENSION_AREA: out.push_back(p.area); break;
    case v1::DIMENSION_DOMAIN: MaskKeys(p.domains, out); break;
    case v1::DIMENSION_SIGNAL_MONTH: out.push_back(p.month); break;
    default: out.push_back(0); break;
  }
}

void ReportKeys(Dimension d, const ReportFacts& r, Keys& out) {
  out.clear();
  switch (d) {
    case v1::DIMENSION_FORM: out.push_back(r.form); break;
    case v1::DIMENSION_CONTACT: out.push_back(r.contact); break;
    case v1::DIMENSION_AGE_BAND: out.push_back(r.age_band); break;
    case v1::DIMENSION_GENDER: out.push_back(r.gender); break;
    case v1::DIMENSION_BACKGROUND: out.push_back(r.background); break;
    case v1::DIMENSION_LIVING_SITUATION: MaskKeys(r.living, out); break;
    case v1::DIMENSION_RECRUITMENT_LOCATION: MaskKeys(r.recruitment, out); break;
    case v1::DIMENSION_COERCION: MaskKeys(r.coercion, out); break;
    case v1::DIMENSION_FORCED_CRIME: MaskKeys(r.forced_crime, out); break;
    case v1::DIMENSION_AREA: out.push_back(r.area); break;
    case v1::DIMENSION_DOMAIN: out.push_back(r.domain); break;
    case v1::DIMENSION_SIGNAL_MONTH: out.push_back(r.signal_month); break;
    default: out.push_back(0); break;
  }
}

// The keys a dimension's rows are listed under, in display order ("unknown" last).
Keys RowKeys(Dimension d, const Dataset& ds, const std::set<int64_t>& observed) {
  Keys keys;
  if (model::IsEnumDimension(d)) {
    std::vector<std::string> words = model::Words(d);
    for (const std::string& w : words) {
      auto v = model::ParseWord(d, w);
      if (v.ok()) keys.push_back(*v);
    }
  } else if (d == v1::DIMENSION_AREA) {
    for (int64_t k : observed) {
      if (k != 0) keys.push_back(k);
    }
    std::sort(keys.begin(), keys.end(), [&](int64_t a, int64_t b) {
      return ds.areas[a - 1] < ds.areas[b - 1];
    });
  } else {
    for (int64_t k : observed) {
      if (k != 0) keys.push_back(k);
    }
  }
  keys.push_back(0);
  return keys;
}

std::string Label(Dimension d, const Dataset& ds, int64_t key) {
  if (d == v1::DIMENSION_AREA) {
    return key == 0 ? "unknown" : ds.areas[static_cast<size_t>(key - 1)];
  }
  if (d == v1::DIMENSION_SIGNAL_MONTH) return model::MonthWord(static_cast<uint32_t>(key));
  return model::Word(d, static_cast<int>(key));
}

void ProtectMeasure(const RawTotals& t, uint32_t k, bool persons,
                    std::vector<v1::Count>& rows, v1::Count& total) {
  auto value = [&](const RawCell& c) { return persons ? c.persons : c.signals; };
  DcTable dc;
  // The overall count is what a query without categories shows: never hidden unless small.
  size_t total_cell = dc.Add(value(t.total), /*fixed=*/true);
  std::vector<size_t> cells;
  for (const RawRow& r : t.rows) cells.push_back(dc.Add(value(r.cell)));
  if (t.by.size() == 1) {
    if (t.by[0] == v1::DIMENSION_SIGNAL_MONTH) {
      std::vector<std::pair<uint32_t, size_t>> months;
      for (size_t i = 0; i < t.rows.size(); ++i) {
        months.emplace_back(static_cast<uint32_t>(t.rows[i].key_values[0]), cells[i]);
      }
      AddTrendLines(dc, months, total_cell);
    } else {
      dc.AddLine(cells, static_cast<long>(total_cell));
    }
  } else if (t.by.size() == 2) {
    // The margins are the one-way tables, shown by another query: fixed.
    std::map<int64_t, size_t> m0, m1;
    for (const RawRow& r : t.margins[0]) m0[r.key_values[0]] = dc.Add(value(r.cell), true);
    for (const RawRow& r : t.margins[1]) m1[r.key_values[0]] = dc.Add(value(r.cell), true);
    std::map<int64_t, std::vector<size_t>> lines0, lines1;
    for (size_t i = 0; i < t.rows.size(); ++i) {
      lines0[t.rows[i].key_values[0]].push_back(cells[i]);
      lines1[t.rows[i].key_values[1]].push_back(cells[i]);
    }
    for (auto& [key, line] : lines0) {
      auto it = m0.find(key);
      dc.AddLine(line, it == m0.end() ? -1 : static_cast<long>(it->second));
    }
    for (auto& [key, line] : lines1) {
      auto it = m1.find(key);
      dc.AddLine(line, it == m1.end() ? -1 : static_cast<long>(it->second));
    }
  }
  Suppress(dc, k);
  rows.clear();
  for (size_t c : cells) rows.push_back(ToCount(dc.cells[c]));
  total = ToCount(dc.cells[total_cell]);
}

}  // namespace

bool IsValidMonth(uint32_t m) {
  if (m == 0) return true;
  uint32_t year = m / 100, month = m % 100;
  return year >= 1900 && year <= 2999 && month >= 1 && month <= 12;
}

const std::string& CountingRules() {
  static const std::string* text = new std::string(
      "Persons are linked reports (reports sharing any token). "
      "Period: a person counts if at least one of their reports falls in the period, and only "
      "those reports decide the person's categories; reports without a month fall outside a "
      "bounded period. "
      "Form: sexual and criminal together (from any mix of reports) => sexual_and_criminal; "
      "else sexual; else criminal; else labour; else other; else unknown. "
      "Age band: at the person's earliest signal that states one. "
      "Gender, background, contact, area: the earliest report that states one. "
      "Living situation, recruitment location, coercion, forced crime: the union over the "
      "person's reports, the person counted once under each value (rows add up to more than "
      "the total). "
      "Domain: counted once under each domain that signalled the person (rows add up to more "
      "than the total). "
      "Signal month: the person's earliest signal. "
      "Signals are counted by each report's own values. "
      "Unlinkable signals carried no token: persons lie between total - unlinkable and total. "
      "Counts from 1 to k-1 are shown as <k.");
  return *text;
}

v1::Count Protect(uint64_t value, uint32_t k) {
  v1::Count c;
  if (value >= 1 && value < k) {
    c.set_value(0);
    c.set_suppressed(true);
  } else {
    c.set_value(value);
  }
  return c;
}

v1::TotalsResponse ProtectTotals(const RawTotals& t, uint32_t min_cell_size) {
  const uint32_t k = min_cell_size == 0 ? kDefaultMinCellSize : min_cell_size;
  v1::TotalsResponse resp;
  for (Dimension d : t.by) resp.add_by(d);
  std::vector<v1::Count> persons, signals;
  ProtectMeasure(t, k, true, persons, *resp.mutable_total_persons());
  ProtectMeasure(t, k, false, signals, *resp.mutable_total_signals());
  for (size_t i = 0; i < t.rows.size(); ++i) {
    v1::TotalsRow* row = resp.add_rows();
    for (const std::string& l : t.rows[i].labels) row->add_keys(l);
    *row->mutable_persons() = persons[i];
    *row->mutable_signals() = signals[i];
  }
  *resp.mutable_unlinkable_signals() = Protect(t.unlinkable, k);
  resp.set_min_cell_size(k);
  resp.set_counting_rules(CountingRules());
  return resp;
}

absl::StatusOr<v1::TotalsResponse> ComputeTotals(const Dataset& ds, const LinkResult& link,
                                                 const v1::TotalsRequest& request,
                                                 uint32_t min_cell_size) {
  ASSIGN_OR_RETURN(RawTotals raw, ComputeRawTotals(ds, link, request));
  return ProtectTotals(raw, min_cell_size);
}

absl::StatusOr<RawTotals> ComputeRawTotals(const Dataset& ds, const LinkResult& link,
                                           const v1::TotalsRequest& request) {
  if (request.by_size() > 2) {
    return absl::InvalidArgumentError("totals: at most two categories");
  }
  std::vector<Dimension> by;
  for (int d : request.by()) {
    if (d == v1::DIMENSION_UNSPECIFIED || !v1::Dimension_IsValid(d)) {
      return absl::InvalidArgumentError("totals: unknown category");
    }
    if (!by.empty() && by[0] == d) return absl::InvalidArgumentError("totals: category repeated");
    by.push_back(static_cast<Dimension>(d));
  }
  const uint32_t from = request.from_month(), to = request.to_month();
  if (!IsValidMonth(from) || !IsValidMonth(to)) {
    return absl::InvalidArgumentError("totals: from_month and to_month must be YYYYMM");
  }
  if (from != 0 && to != 0 && from > to) {
    return absl::InvalidArgumentError("totals: from_month is after to_month");
  }
  const bool bounded = from != 0 || to != 0;
  auto in_period = [&](uint32_t m) {
    if (!bounded) return true;
    if (m == 0) return false;
    return (from == 0 || m >= from) && (to == 0 || m <= to);
  };
  if (link.person.size() != ds.reports.size()) {
    return absl::InternalError("totals: linkage does not match the dataset");
  }

  // Reports in "earliest first" order: month (unknown last), then arrival.
  std::vector<uint32_t> order(ds.reports.size());
  std::iota(order.begin(), order.end(), 0u);
  auto month_key = [&](uint32_t i) {
    uint32_t m = ds.reports[i].signal_month;
    return m == 0 ? std::numeric_limits<uint32_t>::max() : m;
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return month_key(a) < month_key(b); });

  RawTotals table;
  table.by = by;
  std::vector<Person> persons(link.persons);
  std::map<std::pair<int64_t, int64_t>, RawCell> cells;
  std::map<int64_t, RawCell> margin[2];
  std::set<int64_t> observed[2];
  Keys k1, k2;
  for (uint32_t i : order) {
    const ReportFacts& r = ds.reports[i];
    if (!in_period(r.signal_month)) continue;
    ++table.total.signals;
    if (!r.has_token) ++table.unlinkable;
    Person& p = persons[link.person[i]];
    p.in_period = true;
    p.form_bits |= FormBits(r.form);
    FirstKnown(p.contact, r.contact);
    FirstKnown(p.age_band, r.age_band);
    FirstKnown(p.gender, r.gender);
    FirstKnown(p.background, r.background);
    FirstKnown(p.area, r.area);
    FirstKnown(p.month, r.signal_month);
    p.living |= r.living;
    p.recruitment |= r.recruitment;
    p.coercion |= r.coercion;
    p.forced_crime |= r.forced_crime;
    if (r.domain > 0 && r.domain < 32) p.domains |= 1u << r.domain;

    if (by.empty()) continue;
    ReportKeys(by[0], r, k1);
    if (by.size() == 2) ReportKeys(by[1], r, k2); else k2.assign(1, 0);
    for (int64_t a : k1) {
      observed[0].insert(a);
      if (by.size() == 2) ++margin[0][a].signals;
      for (int64_t b : k2) {
        if (by.size() == 2) observed[1].insert(b);
        ++cells[{a, b}].signals;
      }
    }
    if (by.size() == 2) {
      for (int64_t b : k2) ++margin[1][b].signals;
    }
  }
  for (const Person& p : persons) {
    if (!p.in_period) continue;
    ++table.total.persons;
    if (by.empty()) continue;
    PersonKeys(by[0], p, k1);
    if (by.size() == 2) PersonKeys(by[1], p, k2); else k2.assign(1, 0);
    for (int64_t a : k1) {
      observed[0].insert(a);
      if (by.size() == 2) ++margin[0][a].persons;
      for (int64_t b : k2) {
        if (by.size() == 2) observed[1].insert(b);
        ++cells[{a, b}].persons;
      }
    }
    if (by.size() == 2) {
      for (int64_t b : k2) ++margin[1][b].persons;
    }
  }

  if (!by.empty()) {
    Keys rows1 = RowKeys(by[0], ds, observed[0]);
    Keys rows2 = by.size() == 2 ? RowKeys(by[1], ds, observed[1]) : Keys{0};
    for (int64_t a : rows1) {
      for (int64_t b : rows2) {
        RawRow row;
        row.labels.push_back(Label(by[0], ds, a));
        row.key_values.push_back(a);
        if (by.size() == 2) {
          row.labels.push_back(Label(by[1], ds, b));
          row.key_values.push_back(b);
        }
        auto it = cells.find({a, b});
        if (it != cells.end()) row.cell = it->second;
        table.rows.push_back(std::move(row));
      }
    }
    if (by.size() == 2) {
      for (int d = 0; d < 2; ++d) {
        for (int64_t a : d == 0 ? rows1 : rows2) {
          RawRow row;
          row.labels.push_back(Label(by[d], ds, a));
          row.key_values.push_back(a);
          auto it = margin[d].find(a);
          if (it != margin[d].end()) row.cell = it->second;
          table.margins[d].push_back(std::move(row));
        }
      }
    }
  }
  return table;
}

}  // namespace samenzicht::aggregator
