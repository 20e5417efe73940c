#include "aggregator/totals_index.h"

#include "aggregator/totals.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "model/vocabulary.h"
#include "samenzicht/v1/categories.pb.h"

namespace samenzicht::aggregator {
namespace {

using v1::Dimension;

// The form counting rule is totals.h's FormBits / PersonForm (one definition).

bool IsMulti(int d, bool person) {
  switch (d) {
    case v1::DIMENSION_LIVING_SITUATION:
    case v1::DIMENSION_RECRUITMENT_LOCATION:
    case v1::DIMENSION_COERCION:
    case v1::DIMENSION_FORCED_CRIME: return true;
    case v1::DIMENSION_DOMAIN: return person;  // a report has one domain, a person several
    default: return false;
  }
}

// Up to 32 slots of one element of a column.
inline int Slots(const TotalsIndex::Column& c, size_t i, uint16_t* out) {
  if (!c.multi) {
    out[0] = c.slot[i];
    return 1;
  }
  uint32_t m = c.mask[i];
  if (m == 0) {
    out[0] = 0;
    return 1;
  }
  int n = 0;
  while (m != 0) {
    out[n++] = static_cast<uint16_t>(__builtin_ctz(m));
    m &= m - 1;
  }
  return n;
}

// Counts `n` elements into cells[a * s1 + b] and the margins. `second` null: one dimension.
void Count(const TotalsIndex::Column& first, const TotalsIndex::Column* second, size_t n,
           uint32_t s1, std::vector<uint64_t>& cells, std::vector<uint64_t>& m0,
           std::vector<uint64_t>& m1) {
  if (second == nullptr && !first.multi) {
    for (size_t i = 0; i < n; ++i) ++cells[first.slot[i]];
    return;
  }
  if (second != nullptr && !first.multi && !second->multi) {
    const uint16_t* a = first.slot.data();
    const uint16_t* b = second->slot.data();
    for (size_t i = 0; i < n; ++i) ++cells[a[i] * s1 + b[i]];
    return;  // margins of single-valued dimensions are the sums of the cells
  }
  uint16_t ka[32], kb[32];
  for (size_t i = 0; i < n; ++i) {
    const int na = Slots(first, i, ka);
    const int nb = second == nullptr ? (kb[0] = 0, 1) : Slots(*second, i, kb);
    for (int x = 0; x < na; ++x) {
      if (second != nullptr) ++m0[ka[x]];
      for (int y = 0; y < nb; ++y) ++cells[ka[x] * s1 + kb[y]];
    }
    if (second != nullptr) {
      for (int y = 0; y < nb; ++y) ++m1[kb[y]];
    }
  }
}

}  // namespace

std::unique_ptr<const TotalsIndex> TotalsIndex::Build(const Dataset& ds, const LinkResult& link) {
  std::unique_ptr<TotalsIndex> ix(new TotalsIndex());
  const size_t n = ds.reports.size();
  if (link.person.size() != n) return ix;
  ix->reports_ = n;
  ix->persons_ = link.persons;

  // Month slots: 0 = not known, then the months present in ascending order.
  std::vector<uint32_t> months;
  for (const ReportFacts& r : ds.reports) {
    if (r.signal_month != 0) months.push_back(r.signal_month);
  }
  std::sort(months.begin(), months.end());
  months.erase(std::unique(months.begin(), months.end()), months.end());
  months.insert(months.begin(), 0);
  ix->months_ = months;
  auto month_slot = [&](uint32_t m) {
    return static_cast<uint16_t>(std::lower_bound(months.begin(), months.end(), m) - months.begin());
  };
  uint16_t max_area = 0;
  for (const ReportFacts& r : ds.reports) max_area = std::max(max_area, r.area);
  if (months.size() > std::numeric_limits<uint16_t>::max()) return std::unique_ptr<TotalsIndex>(new TotalsIndex());

  // Persons: the counting rules over all their reports, earliest first.
  struct P {
    uint32_t form_bits = 0;
    uint8_t contact = 0, age_band = 0, gender = 0, background = 0;
    uint16_t area = 0;
    uint32_t month = 0;
    uint32_t living = 0, recruitment = 0, coercion = 0, forced_crime = 0, domains = 0;
  };
  std::vector<P> persons(link.persons);
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  auto month_key = [&](uint32_t i) {
    uint32_t m = ds.reports[i].signal_month;
    return m == 0 ? std::numeric_limits<uint32_t>::max() : m;
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return month_key(a) < month_key(b); });
  auto first = [](auto& slot, auto value) {
    if (slot == 0) slot = value;
  };
  for (uint32_t i : order) {
    const ReportFacts& r = ds.reports[i];
    if (!r.has_token) ++ix->unlinkable_;
    P& p = persons[link.person[i]];
    p.form_bits |= FormBits(r.form);
    first(p.contact, r.contact);
    first(p.age_band, r.age_band);
    first(p.gender, r.gender);
    first(p.background, r.background);
    first(p.area, r.area);
    first(p.month, r.signal_month);
    p.living |= r.living;
    p.recruitment |= r.recruitment;
    p.coercion |= r.coercion;
    p.forced_crime |= r.forced_crime;
    if (r.domain > 0 && r.domain < 32) p.domains |= 1u << r.domain;
  }
  std::vector<uint32_t>().swap(order);

  for (int d = v1::DIMENSION_FORM; d <= v1::DIMENSION_SIGNAL_MONTH; ++d) {
    Column& pc = ix->person_[d];
    Column& rc = ix->report_[d];
    pc.multi = IsMulti(d, true);
    rc.multi = IsMulti(d, false);
    uint32_t slots = 32;
    if (d == v1::DIMENSION_AREA) slots = max_area + 1u;
    if (d == v1::DIMENSION_SIGNAL_MONTH) slots = static_cast<uint32_t>(months.size());
    ix->slots_[d] = slots;
    if (pc.multi) pc.mask.reserve(persons.size()); else pc.slot.reserve(persons.size());
    if (rc.multi) rc.mask.reserve(n); else rc.slot.reserve(n);
    bool ok = true;
    auto single = [&](Column& c, uint32_t v) {
      if (v >= slots) ok = false;
      c.slot.push_back(static_cast<uint16_t>(v));
    };
    for (const P& p : persons) {
      switch (d) {
        case v1::DIMENSION_FORM: single(pc, static_cast<uint32_t>(PersonForm(p.form_bits))); break;
        case v1::DIMENSION_CONTACT: single(pc, p.contact); break;
        case v1::DIMENSION_AGE_BAND: single(pc, p.age_band); break;
        case v1::DIMENSION_GENDER: single(pc, p.gender); break;
        case v1::DIMENSION_BACKGROUND: single(pc, p.background); break;
        case v1::DIMENSION_LIVING_SITUATION: pc.mask.push_back(p.living); break;
        case v1::DIMENSION_RECRUITMENT_LOCATION: pc.mask.push_back(p.recruitment); break;
        case v1::DIMENSION_COERCION: pc.mask.push_back(p.coercion); break;
        case v1::DIMENSION_FORCED_CRIME: pc.mask.push_back(p.forced_crime); break;
        case v1::DIMENSION_AREA: single(pc, p.area); break;
        case v1::DIMENSION_DOMAIN: pc.mask.push_back(p.domains); break;
        case v1::DIMENSION_SIGNAL_MONTH: single(pc, month_slot(p.month)); break;
      }
    }
    for (const ReportFacts& r : ds.reports) {
      switch (d) {
        case v1::DIMENSION_FORM: single(rc, r.form); break;
        case v1::DIMENSION_CONTACT: single(rc, r.contact); break;
        case v1::DIMENSION_AGE_BAND: single(rc, r.age_band); break;
        case v1::DIMENSION_GENDER: single(rc, r.gender); break;
        case v1::DIMENSION_BACKGROUND: single(rc, r.background); break;
        case v1::DIMENSION_LIVING_SITUATION: rc.mask.push_back(r.living); break;
        case v1::DIMENSION_RECRUITMENT_LOCATION: rc.mask.push_back(r.recruitment); break;
        case v1::DIMENSION_COERCION: rc.mask.push_back(r.coercion); break;
        case v1::DIMENSION_FORCED_CRIME: rc.mask.push_back(r.forced_crime); break;
        case v1::DIMENSION_AREA: single(rc, r.area); break;
        case v1::DIMENSION_DOMAIN: single(rc, r.domain); break;
        case v1::DIMENSION_SIGNAL_MONTH: single(rc, month_slot(r.signal_month)); break;
      }
    }
    if (!ok) {  // a value outside the slots: this dimension is answered by ComputeRawTotals
      pc = Column();
      rc = Column();
      ix->slots_[d] = 0;
    }
  }
  return ix;
}

size_t TotalsIndex::MemoryBytes() const {
  size_t b = months_.capacity() * sizeof(uint32_t);
  for (const auto* cols : {&person_, &report_}) {
    for (const Column& c : *cols) {
      b += c.slot.capacity() * sizeof(uint16_t) + c.mask.capacity() * sizeof(uint32_t);
    }
  }
  return b;
}

absl::StatusOr<RawTotals> TotalsIndex::RawTotalsFor(const Dataset& ds, const LinkResult& link,
                                                    const v1::TotalsRequest& request) const {
  v1::TotalsRequest rest = request;
  rest.clear_by();
  bool fast = rest.ByteSizeLong() == 0 && request.by_size() <= 2 && reports_ == ds.reports.size() &&
              persons_ == link.persons && link.person.size() == ds.reports.size();
  std::vector<Dimension> by;
  for (int d : request.by()) {
    if (d <= v1::DIMENSION_UNSPECIFIED || d >= kDims || slots_[d] == 0 ||
        (!by.empty() && by[0] == d)) {
      fast = false;
      break;
    }
    by.push_back(static_cast<Dimension>(d));
  }
  if (!fast) return ComputeRawTotals(ds, link, request);

  RawTotals table;
  table.by = by;
  table.total.signals = reports_;
  table.total.persons = persons_;
  table.unlinkable = unlinkable_;
  if (by.empty()) return table;

  const bool two = by.size() == 2;
  const uint32_t s0 = slots_[by[0]], s1 = two ? slots_[by[1]] : 1;
  std::vector<uint64_t> pc(size_t{s0} * s1, 0), sc(size_t{s0} * s1, 0);
  std::vector<uint64_t> pm0(s0, 0), pm1(s1, 0), sm0(s0, 0), sm1(s1, 0);
  Count(person_[by[0]], two ? &person_[by[1]] : nullptr, persons_, s1, pc, pm0, pm1);
  Count(report_[by[0]], two ? &report_[by[1]] : nullptr, reports_, s1, sc, sm0, sm1);
  auto sum_margins = [&](const TotalsIndex::Column& c0, const TotalsIndex::Column& c1,
                         const std::vector<uint64_t>& cells, std::vector<uint64_t>& m0,
                         std::vector<uint64_t>& m1) {
    if (c0.multi || c1.multi) return;  // counted per element by Count
    for (uint32_t a = 0; a < s0; ++a) {
      for (uint32_t b = 0; b < s1; ++b) {
        m0[a] += cells[a * s1 + b];
        m1[b] += cells[a * s1 + b];
      }
    }
  };
  if (two) {
    sum_margins(person_[by[0]], person_[by[1]], pc, pm0, pm1);
    sum_margins(report_[by[0]], report_[by[1]], sc, sm0, sm1);
  }

  // Key value of a slot, and which keys were observed (as ComputeRawTotals' `observed`).
  auto key_of = [&](Dimension d, uint32_t slot) -> int64_t {
    return d == v1::DIMENSION_SIGNAL_MONTH ? months_[slot] : static_cast<int64_t>(slot);
  };
  auto row_keys = [&](int dim) {
    const Dimension d = by[dim];
    std::vector<int64_t> keys;
    if (model::IsEnumDimension(d)) {
      for (const std::string& w : model::Words(d)) {
        auto v = model::ParseWord(d, w);
        if (v.ok()) keys.push_back(*v);
      }
    } else {
      const uint32_t s = dim == 0 ? s0 : s1;
      for (uint32_t slot = 1; slot < s; ++slot) {
        bool seen;
        if (!two) {
          seen = pc[slot] + sc[slot] > 0;
        } else {
          seen = dim == 0 ? pm0[slot] + sm0[slot] > 0 : pm1[slot] + sm1[slot] > 0;
        }
        if (seen) keys.push_back(key_of(d, slot));
      }
      if (d == v1::DIMENSION_AREA) {
        std::sort(keys.begin(), keys.end(),
                  [&](int64_t a, int64_t b) { return ds.areas[a - 1] < ds.areas[b - 1]; });
      }
    }
    keys.push_back(0);
    return keys;
  };
  auto label = [&](Dimension d, int64_t key) -> std::string {
    if (d == v1::DIMENSION_AREA) return key == 0 ? "unknown" : ds.areas[static_cast<size_t>(key - 1)];
    if (d == v1::DIMENSION_SIGNAL_MONTH) return model::MonthWord(static_cast<uint32_t>(key));
    return model::Word(d, static_cast<int>(key));
  };
  auto slot_of = [&](int dim, int64_t key) -> int64_t {  // -1: never counted
    const Dimension d = by[dim];
    const uint32_t s = dim == 0 ? s0 : s1;
    if (d == v1::DIMENSION_SIGNAL_MONTH) {
      auto it = std::lower_bound(months_.begin(), months_.end(), static_cast<uint32_t>(key));
      return it != months_.end() && *it == key ? it - months_.begin() : -1;
    }
    return key >= 0 && key < s ? key : -1;
  };
  const std::vector<int64_t> rows1 = row_keys(0);
  const std::vector<int64_t> rows2 = two ? row_keys(1) : std::vector<int64_t>{0};
  for (int64_t a : rows1) {
    const int64_t sa = slot_of(0, a);
    for (int64_t b : rows2) {
      RawRow row;
      row.labels.push_back(label(by[0], a));
      row.key_values.push_back(a);
      int64_t sb = 0;
      if (two) {
        row.labels.push_back(label(by[1], b));
        row.key_values.push_back(b);
        sb = slot_of(1, b);
      }
      if (sa >= 0 && sb >= 0) {
        row.cell.persons = pc[sa * s1 + sb];
        row.cell.signals = sc[sa * s1 + sb];
      }
      table.rows.push_back(std::move(row));
    }
  }
  if (two) {
    for (int d = 0; d < 2; ++d) {
      for (int64_t a : d == 0 ? rows1 : rows2) {
        RawRow row;
        row.labels.push_back(label(by[d], a));
        row.key_values.push_back(a);
        const int64_t s = slot_of(d, a);
        if (s >= 0) {
          row.cell.persons = d == 0 ? pm0[s] : pm1[s];
          row.cell.signals = d == 0 ? sm0[s] : sm1[s];
        }
        table.margins[d].push_back(std::move(row));
      }
    }
  }
  return table;
}

}  // namespace samenzicht::aggregator
