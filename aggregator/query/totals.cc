#include "aggregator/query/totals.h"

#include <algorithm>
#include <limits>
#include <map>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "aggregator/query/disclosure.h"
#include "common/status_macros.h"
#include "model/vocabulary.h"
#include "samenzicht/v1/categories.pb.h"

namespace samenzicht::aggregator {

namespace {

using v1::Dimension;


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

// The keys an element is counted under: its value, or each value of a bitmask.
void KeysOf(Dimension d, bool person, uint32_t value, Keys& out) {
  out.clear();
  if (IsMultiValued(d, person)) {
    MaskKeys(value, out);
  } else {
    out.push_back(value);
  }
}

// The keys a dimension's rows are listed under, in display order ("unknown" last).
Keys RowKeys(Dimension d, const Dataset& ds, std::vector<int64_t>& observed) {
  std::sort(observed.begin(), observed.end());
  observed.erase(std::unique(observed.begin(), observed.end()), observed.end());
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

absl::StatusOr<std::vector<Dimension>> CheckTotalsRequest(const v1::TotalsRequest& request) {
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
  return by;
}

void FillRows(const Dataset& ds, std::vector<int64_t> observed[2],
              absl::FunctionRef<RawCell(int64_t, int64_t)> cell,
              absl::FunctionRef<RawCell(int, int64_t)> margin, RawTotals& table) {
  const std::vector<Dimension>& by = table.by;
  if (by.empty()) return;
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
      row.cell = cell(a, b);
      table.rows.push_back(std::move(row));
    }
  }
  if (by.size() == 2) {
    for (int d = 0; d < 2; ++d) {
      for (int64_t a : d == 0 ? rows1 : rows2) {
        RawRow row;
        row.labels.push_back(Label(by[d], ds, a));
        row.key_values.push_back(a);
        row.cell = margin(d, a);
        table.margins[d].push_back(std::move(row));
      }
    }
  }
}

absl::StatusOr<RawTotals> ComputeRawTotals(const Dataset& ds, const LinkResult& link,
                                           const v1::TotalsRequest& request) {
  return ComputeRawTotals(ds, link, request, nullptr);
}

v1::TotalsResponse PerturbTotals(const RawTotals& t, const CellKeyParams& params) {
  CellKeyParams p = params;
  if (p.k == 0) p.k = kDefaultMinCellSize;
  v1::TotalsResponse resp;
  for (Dimension d : t.by) resp.add_by(d);
  auto persons = [&](const RawCell& c) {
    return PerturbedCount(c.persons, c.person_key, Measure::kPersons, p);
  };
  auto signals = [&](const RawCell& c) {
    return PerturbedCount(c.signals, c.signal_key, Measure::kSignals, p);
  };
  *resp.mutable_total_persons() = persons(t.total);
  *resp.mutable_total_signals() = signals(t.total);
  for (const RawRow& r : t.rows) {
    v1::TotalsRow* row = resp.add_rows();
    for (const std::string& l : r.labels) row->add_keys(l);
    *row->mutable_persons() = persons(r.cell);
    *row->mutable_signals() = signals(r.cell);
  }
  *resp.mutable_unlinkable_signals() =
      PerturbedCount(t.unlinkable, t.unlinkable_key, Measure::kSignals, p);
  resp.set_min_cell_size(p.k);
  std::string rules = CountingRules();
  // The last sentence of the counting rules describes the suppression rule.
  const std::string suppression = " Counts from 1 to k-1 are shown as <k.";
  if (rules.size() >= suppression.size() &&
      rules.compare(rules.size() - suppression.size(), suppression.size(), suppression) == 0) {
    rules.resize(rules.size() - suppression.size());
  }
  resp.set_counting_rules(absl::StrCat(rules, " ", CellKeyRules(p)));
  return resp;
}

void TakeCellKeys(RawTotals& counted, const RawTotals& keyed) {
  auto take = [](RawCell& to, const RawCell* from) {
    to.person_key = from == nullptr ? 0 : from->person_key;
    to.signal_key = from == nullptr ? 0 : from->signal_key;
  };
  auto rows = [&](std::vector<RawRow>& to, const std::vector<RawRow>& from) {
    std::map<std::vector<std::string>, const RawCell*> by_labels;
    for (const RawRow& r : from) by_labels.emplace(r.labels, &r.cell);
    for (RawRow& r : to) {
      auto it = by_labels.find(r.labels);
      take(r.cell, it == by_labels.end() ? nullptr : it->second);
    }
  };
  rows(counted.rows, keyed.rows);
  rows(counted.margins[0], keyed.margins[0]);
  rows(counted.margins[1], keyed.margins[1]);
  take(counted.total, &keyed.total);
  counted.unlinkable_key = keyed.unlinkable_key;
}

absl::StatusOr<RawTotals> ComputeRawTotals(const Dataset& ds, const LinkResult& link,
                                           const v1::TotalsRequest& request,
                                           const RecordKeys* keys) {
  ASSIGN_OR_RETURN(const std::vector<Dimension> by, CheckTotalsRequest(request));
  const uint32_t from = request.from_month(), to = request.to_month();
  const bool bounded = from != 0 || to != 0;
  auto in_period = [&](uint32_t m) {
    if (!bounded) return true;
    if (m == 0) return false;
    return (from == 0 || m >= from) && (to == 0 || m <= to);
  };
  if (link.person.size() != ds.reports.size()) {
    return absl::InternalError("totals: linkage does not match the dataset");
  }
  if (keys != nullptr &&
      (keys->report.size() != ds.reports.size() || keys->person.size() != link.persons ||
       keys->month_mark.size() != ds.reports.size())) {
    return absl::InternalError("totals: record keys do not match the dataset");
  }
  auto report_key = [&](uint32_t i) { return keys == nullptr ? 0 : keys->report[i]; };
  // A person's key in a bounded period: from its reports in the period (disclosure.h).
  std::vector<uint64_t> period_sum(keys != nullptr && bounded ? link.persons : 0, 0);
  // Its mark in the period: marked in any month of the period it has reports in.
  std::vector<uint8_t> period_mark(period_sum.size(), 0);
  auto mark_of = [&](uint32_t p) -> uint8_t {
    return bounded ? period_mark[p] : keys->person_mark[p];
  };
  auto person_key = [&](uint32_t p) -> uint64_t {
    if (keys == nullptr) return 0;
    if (!bounded) return keys->person[p];
    return PersonKey(period_sum[p], period_mark[p], keys->secret);
  };

  RawTotals table;
  table.by = by;
  std::vector<PersonCategories> persons(link.persons);
  std::vector<bool> counted(link.persons, false);
  std::map<std::pair<int64_t, int64_t>, RawCell> cells;
  std::map<int64_t, RawCell> margin[2];
  Keys k1, k2;
  // Counts one element (a report: signals, a person: persons) under its keys k1 x k2.
  auto add = [](RawCell& c, uint64_t RawCell::*measure, uint64_t RawCell::*key, uint64_t k) {
    ++(c.*measure);
    c.*key += k;
  };
  auto count = [&](uint64_t RawCell::*measure, uint64_t RawCell::*key, uint64_t k) {
    for (int64_t a : k1) {
      if (by.size() == 2) add(margin[0][a], measure, key, k);
      for (int64_t b : k2) add(cells[{a, b}], measure, key, k);
    }
    if (by.size() == 2) {
      for (int64_t b : k2) add(margin[1][b], measure, key, k);
    }
  };
  // With keys: each person's reports in the period, earliest first (a person's key in a
  // cell is made from the reports that put it there, disclosure.h).
  std::vector<std::vector<uint32_t>> reports_of(keys != nullptr ? link.persons : 0);
  for (uint32_t i : EarliestFirst(ds.reports)) {
    const ReportFacts& r = ds.reports[i];
    if (!in_period(r.signal_month)) continue;
    ++table.total.signals;
    table.total.signal_key += report_key(i);
    if (!period_sum.empty()) {
      period_sum[link.person[i]] += report_key(i);
      period_mark[link.person[i]] |= keys->month_mark[i];
    }
    if (!reports_of.empty()) reports_of[link.person[i]].push_back(i);
    if (!r.has_token) {
      ++table.unlinkable;
      table.unlinkable_key += report_key(i);
    }
    persons[link.person[i]].Add(r);
    counted[link.person[i]] = true;

    if (by.empty()) continue;
    KeysOf(by[0], /*person=*/false, ReportValue(by[0], r), k1);
    if (by.size() == 2) KeysOf(by[1], false, ReportValue(by[1], r), k2); else k2.assign(1, 0);
    count(&RawCell::signals, &RawCell::signal_key, report_key(i));
  }
  for (uint32_t p = 0; p < link.persons; ++p) {
    if (!counted[p]) continue;
    ++table.total.persons;
    table.total.person_key += person_key(p);
    if (by.empty()) continue;
    KeysOf(by[0], /*person=*/true, persons[p].Value(by[0]), k1);
    if (by.size() == 2) KeysOf(by[1], true, persons[p].Value(by[1]), k2); else k2.assign(1, 0);
    if (keys == nullptr) {
      count(&RawCell::persons, &RawCell::person_key, 0);
      continue;
    }
    // The person's key in each of its cells: from its reports that match the cell's keys
    // (both, for a two-way cell; either, when none matches both).
    auto key_of = [&](const int64_t* a, const int64_t* b) {
      uint64_t both = 0, either = 0;
      bool any = false;
      for (uint32_t i : reports_of[p]) {
        const ReportFacts& r = ds.reports[i];
        const bool ma = a == nullptr || ReportMatches(by[0], ReportValue(by[0], r),
                                                      static_cast<uint32_t>(*a));
        const bool mb = b == nullptr || ReportMatches(by[1], ReportValue(by[1], r),
                                                      static_cast<uint32_t>(*b));
        if (ma && mb) {
          both += keys->report[i];
          any = true;
        }
        if (ma || mb) either += keys->report[i];
      }
      return PersonKey(any ? both : either, mark_of(p), keys->secret);
    };
    const bool two = by.size() == 2;
    for (int64_t a : k1) {
      if (two) add(margin[0][a], &RawCell::persons, &RawCell::person_key, key_of(&a, nullptr));
      for (int64_t b : k2) {
        add(cells[{a, b}], &RawCell::persons, &RawCell::person_key,
            key_of(&a, two ? &b : nullptr));
      }
    }
    if (two) {
      for (int64_t b : k2) {
        add(margin[1][b], &RawCell::persons, &RawCell::person_key, key_of(nullptr, &b));
      }
    }
  }

  std::vector<int64_t> observed[2];  // the keys counted under: those of the cells
  for (const auto& [key, unused] : cells) {
    if (observed[0].empty() || observed[0].back() != key.first) observed[0].push_back(key.first);
    observed[1].push_back(key.second);
  }
  FillRows(
      ds, observed,
      [&](int64_t a, int64_t b) {
        auto it = cells.find({a, b});
        return it == cells.end() ? RawCell{} : it->second;
      },
      [&](int d, int64_t a) {
        auto it = margin[d].find(a);
        return it == margin[d].end() ? RawCell{} : it->second;
      },
      table);
  return table;
}

}  // namespace samenzicht::aggregator
