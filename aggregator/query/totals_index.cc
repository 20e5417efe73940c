#include "aggregator/query/totals_index.h"

#include <algorithm>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "aggregator/query/totals.h"
#include "common/status_macros.h"

namespace samenzicht::aggregator {
namespace {

using v1::Dimension;

constexpr uint32_t kMaxCodes = 1u << 16;
// Largest (code, code) pair table a query may use (4 bytes a pair); more: ComputeRawTotals.
constexpr uint64_t kMaxPairs = uint64_t{1} << 24;

// Encodes the values of one side (persons or reports) of one category as 2-byte codes.
class Encoder {
 public:
  Encoder(bool multi, size_t n) : multi_(multi) {
    codes_.code.resize(n);
    if (multi) small_.assign(kMaxCodes, kNone);
  }

  // `value` < kMaxCodes for a single-valued side (an enum value, an area, a month slot).
  void Put(size_t i, uint32_t value) {
    if (!multi_) {
      codes_.code[i] = static_cast<uint16_t>(value);
      max_ = std::max(max_, value);
      return;
    }
    uint32_t& code = value < kMaxCodes ? small_[value] : large_.try_emplace(value, kNone).first->second;
    if (code == kNone) {
      if (codes_.masks.size() == kMaxCodes) {
        overflow_ = true;
        return;
      }
      code = static_cast<uint32_t>(codes_.masks.size());
      codes_.masks.push_back(value);
    }
    codes_.code[i] = static_cast<uint16_t>(code);
  }

  // False when a multi-valued side had more distinct bitmasks than codes.
  bool Finish(TotalsIndex::Codes& out) {
    if (overflow_) return false;
    codes_.count = multi_ ? static_cast<uint32_t>(codes_.masks.size()) : max_ + 1;
    codes_.masks.shrink_to_fit();
    out = std::move(codes_);
    return true;
  }

 private:
  static constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
  bool multi_;
  TotalsIndex::Codes codes_;
  uint32_t max_ = 0;
  bool overflow_ = false;
  std::vector<uint32_t> small_;                     // bitmask < kMaxCodes -> code
  absl::flat_hash_map<uint32_t, uint32_t> large_;   // larger bitmasks -> code
};

inline uint32_t ValueOf(const TotalsIndex::Codes& c, uint32_t code) {
  return c.masks.empty() ? code : c.masks[code];
}

// The keys (slots) a value is counted under: itself, or each value of a bitmask (none: 0).
inline int Spread(bool multi, uint32_t value, uint16_t* out) {
  if (!multi || value == 0) {
    out[0] = static_cast<uint16_t>(value);
    return 1;
  }
  int n = 0;
  for (uint32_t m = value; m != 0; m &= m - 1) out[n++] = static_cast<uint16_t>(__builtin_ctz(m));
  return n;
}

// Counts by (slot of dimension 0, slot of dimension 1) in a dense array, with the one-way
// margins (as ComputeRawTotals counts them: an element once under each of its keys).
struct Tally {
  Tally(uint32_t s0, uint32_t s1, bool keyed)
      : s1(s1), cells(size_t{s0} * s1), m0(s0), m1(s1) {
    if (keyed) {
      cells_key.assign(cells.size(), 0);
      m0_key.assign(s0, 0);
      m1_key.assign(s1, 0);
    }
  }
  // `key`: the sum of the counted elements' record keys (cell keys, disclosure.h).
  void Add(const uint16_t* ka, int na, const uint16_t* kb, int nb, uint64_t count,
           uint64_t key = 0) {
    for (int x = 0; x < na; ++x) {
      m0[ka[x]] += count;
      for (int y = 0; y < nb; ++y) cells[size_t{ka[x]} * s1 + kb[y]] += count;
    }
    for (int y = 0; y < nb; ++y) m1[kb[y]] += count;
    if (cells_key.empty()) return;
    for (int x = 0; x < na; ++x) {
      m0_key[ka[x]] += key;
      for (int y = 0; y < nb; ++y) cells_key[size_t{ka[x]} * s1 + kb[y]] += key;
    }
    for (int y = 0; y < nb; ++y) m1_key[kb[y]] += key;
  }
  uint64_t CellKey(size_t c) const { return cells_key.empty() ? 0 : cells_key[c]; }
  uint64_t M0Key(size_t s) const { return m0_key.empty() ? 0 : m0_key[s]; }
  uint64_t M1Key(size_t s) const { return m1_key.empty() ? 0 : m1_key[s]; }
  uint32_t s1;
  std::vector<uint64_t> cells, m0, m1;
  std::vector<uint64_t> cells_key, m0_key, m1_key;  // empty without record keys
};

// One requested dimension as seen by a query (or none, for fewer than two).
struct Side {
  Dimension dim = v1::DIMENSION_UNSPECIFIED;
  const TotalsIndex::Codes* codes = nullptr;
  bool multi = false;
};

// Tallies the elements' (code, code) pairs, then spreads each pair over its values.
// `second.codes` null: one dimension.
void TallyPairs(const Side& first, const Side& second, size_t n, const uint64_t* keys,
                Tally& out) {
  const uint32_t n1 = second.codes == nullptr ? 1 : second.codes->count;
  const size_t np = size_t{first.codes->count} * n1;
  // With few pairs, four interleaved copies of the table, so that neighbouring elements
  // with the same pair do not wait on each other's increment; summed after.
  const size_t copies = np <= (size_t{1} << 14) ? 4 : 1;
  std::vector<uint32_t> pairs(np * copies, 0);
  const uint16_t* a = first.codes->code.data();
  const uint16_t* b = second.codes == nullptr ? nullptr : second.codes->code.data();
  auto pair = [&](size_t i) { return b == nullptr ? size_t{a[i]} : size_t{a[i]} * n1 + b[i]; };
  size_t i = 0;
  if (copies == 4) {
    for (; i + 4 <= n; i += 4) {
      ++pairs[pair(i)];
      ++pairs[np + pair(i + 1)];
      ++pairs[2 * np + pair(i + 2)];
      ++pairs[3 * np + pair(i + 3)];
    }
  }
  for (; i < n; ++i) ++pairs[pair(i)];
  for (size_t c = 1; c < copies; ++c) {
    for (size_t j = 0; j < np; ++j) pairs[j] += pairs[c * np + j];
  }
  std::vector<uint64_t> pair_keys;
  if (keys != nullptr) {
    pair_keys.assign(np, 0);
    for (size_t j = 0; j < n; ++j) pair_keys[pair(j)] += keys[j];
  }
  uint16_t ka[32], kb[32] = {0};
  for (uint32_t x = 0; x < first.codes->count; ++x) {
    const int na = Spread(first.multi, ValueOf(*first.codes, x), ka);
    for (uint32_t y = 0; y < n1; ++y) {
      const uint32_t count = pairs[size_t{x} * n1 + y];
      if (count == 0) continue;
      const int nb = second.codes == nullptr ? 1 : Spread(second.multi, ValueOf(*second.codes, y), kb);
      out.Add(ka, na, kb, nb, count, pair_keys.empty() ? 0 : pair_keys[size_t{x} * n1 + y]);
    }
  }
}

}  // namespace

std::unique_ptr<const TotalsIndex> TotalsIndex::Build(const Dataset& ds, const LinkResult& link) {
  return Build(ds, link, nullptr);
}

std::unique_ptr<const TotalsIndex> TotalsIndex::Build(const Dataset& ds, const LinkResult& link,
                                                      const RecordKeys* keys) {
  std::unique_ptr<TotalsIndex> ix(new TotalsIndex());
  const size_t n = ds.reports.size();
  if (link.person.size() != n || n >= std::numeric_limits<uint32_t>::max()) return ix;
  const uint32_t np = link.persons;
  ix->reports_ = n;
  ix->persons_ = np;

  // Report positions: by person, each person's reports earliest first (a stable counting
  // sort by person of the EarliestFirst order), and the month slot of each position.
  std::vector<uint32_t> at(n);  // position -> report
  Encoder month_codes(/*multi=*/false, n);
  {
    ix->first_report_.assign(size_t{np} + 1, 0);
    for (uint32_t p : link.person) ++ix->first_report_[p + 1];
    for (size_t p = 1; p <= np; ++p) ix->first_report_[p] += ix->first_report_[p - 1];
    std::vector<uint32_t> next(ix->first_report_.begin(), ix->first_report_.end() - 1);
    ix->months_.assign(1, 0);
    for (uint32_t i : EarliestFirst(ds.reports)) {
      const uint32_t m = ds.reports[i].signal_month;
      if (m != 0 && m != ix->months_.back()) {
        if (ix->months_.size() == kMaxCodes) return std::unique_ptr<TotalsIndex>(new TotalsIndex());
        ix->months_.push_back(m);
      }
      const uint32_t pos = next[link.person[i]]++;
      at[pos] = i;
      month_codes.Put(pos, m == 0 ? 0 : static_cast<uint32_t>(ix->months_.size() - 1));
    }
  }

  // Every category of every report and person, persons resolved by the counting rules
  // (totals.h) over all their reports.
  std::vector<Encoder> person_codes, report_codes;
  person_codes.reserve(kDimensionCount);
  report_codes.reserve(kDimensionCount);
  for (int d = 0; d < kDimensionCount; ++d) {
    const auto dim = static_cast<Dimension>(d);
    const bool indexed = d != v1::DIMENSION_UNSPECIFIED && d != v1::DIMENSION_SIGNAL_MONTH;
    person_codes.emplace_back(IsMultiValued(dim, true), d == v1::DIMENSION_UNSPECIFIED ? 0 : np);
    report_codes.emplace_back(IsMultiValued(dim, false), indexed ? n : 0);
  }
  ix->no_token_.assign(n, false);
  for (uint32_t p = 0; p < np; ++p) {
    PersonCategories facts;
    for (uint32_t pos = ix->first_report_[p]; pos < ix->first_report_[p + 1]; ++pos) {
      const ReportFacts& r = ds.reports[at[pos]];
      facts.Add(r);
      if (!r.has_token) {
        ix->no_token_[pos] = true;
        ++ix->unlinkable_;
      }
      for (int d = v1::DIMENSION_FORM; d < v1::DIMENSION_SIGNAL_MONTH; ++d) {
        report_codes[d].Put(pos, ReportValue(static_cast<Dimension>(d), r));
      }
    }
    for (int d = v1::DIMENSION_FORM; d < v1::DIMENSION_SIGNAL_MONTH; ++d) {
      person_codes[d].Put(p, facts.Value(static_cast<Dimension>(d)));
    }
    const uint32_t month = facts.Value(v1::DIMENSION_SIGNAL_MONTH);
    person_codes[v1::DIMENSION_SIGNAL_MONTH].Put(
        p, static_cast<uint32_t>(std::lower_bound(ix->months_.begin(), ix->months_.end(), month) -
                                 ix->months_.begin()));
  }
  if (keys != nullptr && keys->report.size() == n && keys->person.size() == np &&
      keys->month_mark.size() == n) {
    ix->keys_ = *keys;
    ix->report_key_.resize(n);
    ix->month_mark_.resize(n);
    for (size_t pos = 0; pos < n; ++pos) {
      ix->report_key_[pos] = keys->report[at[pos]];
      ix->month_mark_[pos] = keys->month_mark[at[pos]];
      ix->total_report_key_ += ix->report_key_[pos];
      if (ix->no_token_[pos]) ix->unlinkable_key_ += ix->report_key_[pos];
    }
    for (uint64_t k : ix->keys_.person) ix->total_person_key_ += k;
  }
  std::vector<uint32_t>().swap(at);
  report_codes[v1::DIMENSION_SIGNAL_MONTH] = std::move(month_codes);

  for (int d = v1::DIMENSION_FORM; d <= v1::DIMENSION_SIGNAL_MONTH; ++d) {
    Column& c = ix->columns_[d];
    const auto dim = static_cast<Dimension>(d);
    if (!person_codes[d].Finish(c.persons) || !report_codes[d].Finish(c.reports)) {
      c = Column();  // too many distinct bitmasks: answered by ComputeRawTotals
      continue;
    }
    // Values: bit positions (< 32) of a multi-valued side, below `count` of a single one;
    // an enum category's values all have a slot (a person's form in a period may be one
    // no person has over their whole history).
    const uint32_t at_least =
        d == v1::DIMENSION_AREA || d == v1::DIMENSION_SIGNAL_MONTH ? 0 : 32;
    c.slots = std::max({at_least, IsMultiValued(dim, true) ? 32 : c.persons.count,
                        IsMultiValued(dim, false) ? 32 : c.reports.count});
  }
  ix->built_ = true;
  return ix;
}

size_t TotalsIndex::MemoryBytes() const {
  size_t b = months_.capacity() * sizeof(uint32_t) + first_report_.capacity() * sizeof(uint32_t) +
             no_token_.capacity() / 8 +
             (keys_.person.capacity() + keys_.report.capacity() + report_key_.capacity()) *
                 sizeof(uint64_t) +
             keys_.month_mark.capacity() + month_mark_.capacity();
  for (const Column& c : columns_) {
    for (const Codes* s : {&c.persons, &c.reports}) {
      b += s->code.capacity() * sizeof(uint16_t) + s->masks.capacity() * sizeof(uint32_t);
    }
  }
  return b;
}

absl::StatusOr<RawTotals> TotalsIndex::RawTotalsFor(const Dataset& ds, const LinkResult& link,
                                                    const v1::TotalsRequest& request) const {
  ASSIGN_OR_RETURN(const std::vector<Dimension> by, CheckTotalsRequest(request));
  v1::TotalsRequest rest = request;
  rest.clear_by();
  rest.clear_from_month();
  rest.clear_to_month();
  bool indexed = built_ && rest.ByteSizeLong() == 0 && reports_ == ds.reports.size() &&
                 persons_ == link.persons && link.person.size() == ds.reports.size();
  uint64_t person_pairs = 1, report_pairs = 1;
  for (Dimension d : by) {
    const Column& c = columns_[d];
    indexed = indexed && c.slots != 0;
    person_pairs *= std::max<uint32_t>(c.persons.count, 1);
    report_pairs *= std::max<uint32_t>(c.reports.count, 1);
  }
  if (!indexed || person_pairs > kMaxPairs || report_pairs > kMaxPairs) {
    const bool has_keys = !keys_.report.empty() && keys_.report.size() == ds.reports.size();
    return ComputeRawTotals(ds, link, request, has_keys ? &keys_ : nullptr);
  }
  return Table(ds, by, request.from_month(), request.to_month());
}

absl::StatusOr<RawTotals> TotalsIndex::Table(const Dataset& ds, const std::vector<Dimension>& by,
                                             uint32_t from, uint32_t to) const {
  RawTotals table;
  table.by = by;
  const bool two = by.size() == 2;
  Side persons[2], reports[2];
  for (size_t i = 0; i < by.size(); ++i) {
    persons[i] = {by[i], &columns_[by[i]].persons, IsMultiValued(by[i], true)};
    reports[i] = {by[i], &columns_[by[i]].reports, IsMultiValued(by[i], false)};
  }
  const uint32_t s0 = by.empty() ? 1 : columns_[by[0]].slots;
  const uint32_t s1 = two ? columns_[by[1]].slots : 1;
  const bool keyed = !keys_.person.empty() || !keys_.report.empty();
  Tally person_tally(s0, s1, keyed), signal_tally(s0, s1, keyed);

  // With cell keys a person's key differs from cell to cell (made from the reports that put
  // the person there, disclosure.h), so a keyed table of the whole history is counted
  // person by person as a period is.
  const bool all = from == 0 && to == 0;
  if (all && (!keyed || by.empty())) {  // the whole history: persons as resolved at Build
    table.total = {persons_, reports_, total_person_key_, total_report_key_};
    table.unlinkable = unlinkable_;
    table.unlinkable_key = unlinkable_key_;
    if (by.empty()) return table;
    TallyPairs(persons[0], persons[1], persons_, keyed ? keys_.person.data() : nullptr,
               person_tally);
    TallyPairs(reports[0], reports[1], reports_, keyed ? report_key_.data() : nullptr,
               signal_tally);
  } else {
    // A period: month slots lo..hi. Each person's reports in it are contiguous (sorted by
    // month, not known last); the person counts by the categories those reports give.
    const uint32_t lo = all || from == 0 ? 1 : static_cast<uint32_t>(
        std::lower_bound(months_.begin(), months_.end(), from) - months_.begin());
    const uint32_t hi = to == 0 ? static_cast<uint32_t>(months_.size() - 1)
                                : static_cast<uint32_t>(
                                      std::upper_bound(months_.begin(), months_.end(), to) -
                                      months_.begin() - 1);
    const uint16_t* month = columns_[v1::DIMENSION_SIGNAL_MONTH].reports.code.data();
    // What each report code adds to a person (totals.h Contribution), per dimension.
    std::vector<uint32_t> contribution[2];
    PersonRule rule[2] = {};
    const uint16_t* code[2] = {nullptr, nullptr};
    for (size_t i = 0; i < by.size(); ++i) {
      for (uint32_t c = 0; c < reports[i].codes->count; ++c) {
        contribution[i].push_back(Contribution(by[i], ValueOf(*reports[i].codes, c)));
      }
      rule[i] = RuleOf(by[i]);
      code[i] = reports[i].codes->code.data();
    }
    const uint32_t n1 = two ? reports[1].codes->count : 1;
    std::vector<uint32_t> pairs(by.empty() ? 0 : size_t{reports[0].codes->count} * n1, 0);
    std::vector<uint64_t> pair_keys(keyed ? pairs.size() : 0, 0);
    uint16_t ka[32], kb[32] = {0};
    for (uint32_t p = 0; p < persons_; ++p) {
      uint32_t pos = first_report_[p];
      const uint32_t end = first_report_[p + 1];
      if (!all) {
        while (pos < end && month[pos] != 0 && month[pos] < lo) ++pos;
        if (pos == end || month[pos] == 0 || month[pos] > hi) continue;
      } else if (pos == end) {
        continue;
      }
      ++table.total.persons;
      uint64_t period_sum = 0;  // the person's key in the period (disclosure.h)
      uint8_t period_mark = 0;  // and its mark there: marked in any of its months
      uint32_t acc[2] = {0, 0};
      const uint32_t begin = pos;
      for (; pos < end && (all || (month[pos] != 0 && month[pos] <= hi)); ++pos) {
        if (keyed) {
          period_sum += report_key_[pos];
          period_mark |= month_mark_[pos];
        }
        ++table.total.signals;
        table.unlinkable += no_token_[pos];
        if (keyed) {
          table.total.signal_key += report_key_[pos];
          if (no_token_[pos]) table.unlinkable_key += report_key_[pos];
        }
        if (by.empty()) continue;
        const uint16_t c0 = code[0][pos];
        Fold(rule[0], acc[0], contribution[0][c0]);
        uint16_t c1 = 0;
        if (two) {
          c1 = code[1][pos];
          Fold(rule[1], acc[1], contribution[1][c1]);
        }
        ++pairs[size_t{c0} * n1 + c1];
        if (keyed) pair_keys[size_t{c0} * n1 + c1] += report_key_[pos];
      }
      const uint64_t pkey = !keyed ? 0
                            : all  ? keys_.person[p]
                                   : PersonKey(period_sum, period_mark, keys_.secret);
      table.total.person_key += pkey;
      if (by.empty()) continue;
      const int na = Spread(persons[0].multi, PersonValue(by[0], acc[0]), ka);
      const int nb = two ? Spread(persons[1].multi, PersonValue(by[1], acc[1]), kb) : 1;
      person_tally.Add(ka, na, kb, nb, 1, 0);
      if (!keyed) continue;
      // The person's key in each of its cells: from its reports in the period that match the
      // cell's keys (both, for a two-way cell; either, when none matches both), as
      // ComputeRawTotals makes it. One pass: the sums of the reports matching each key of
      // each side, and of those matching both; "either" = side a + side b - both.
      uint64_t sa[32] = {}, sb[32] = {};
      uint64_t both[32 * 32];
      uint32_t any[32 * 32];
      std::fill_n(both, na * nb, 0);
      std::fill_n(any, na * nb, 0);
      for (uint32_t q = begin; q < pos; ++q) {
        const uint64_t key = report_key_[q];
        const uint32_t va = ValueOf(*reports[0].codes, code[0][q]);
        const uint32_t vb = two ? ValueOf(*reports[1].codes, code[1][q]) : 0;
        uint32_t mb = 0;
        for (int y = 0; y < nb; ++y) {
          if (!two || ReportMatches(by[1], vb, kb[y])) {
            mb |= 1u << y;
            sb[y] += key;
          }
        }
        for (int x = 0; x < na; ++x) {
          if (!ReportMatches(by[0], va, ka[x])) continue;
          sa[x] += key;
          for (uint32_t m = mb; m != 0; m &= m - 1) {
            const int y = __builtin_ctz(m);
            both[x * nb + y] += key;
            ++any[x * nb + y];
          }
        }
      }
      const uint8_t mark = all ? keys_.person_mark[p] : period_mark;
      for (int x = 0; x < na; ++x) {
        if (two) person_tally.m0_key[ka[x]] += PersonKey(sa[x], mark, keys_.secret);
        for (int y = 0; y < nb; ++y) {
          const int c = x * nb + y;
          const uint64_t sum = !two || any[c] > 0 ? both[c] : sa[x] + sb[y] - both[c];
          person_tally.cells_key[size_t{ka[x]} * s1 + kb[y]] +=
              PersonKey(sum, mark, keys_.secret);
        }
      }
      if (two) {
        for (int y = 0; y < nb; ++y) person_tally.m1_key[kb[y]] += PersonKey(sb[y], mark, keys_.secret);
      }
    }
    if (by.empty()) return table;
    for (uint32_t x = 0; x < reports[0].codes->count; ++x) {
      const int na = Spread(reports[0].multi, ValueOf(*reports[0].codes, x), ka);
      for (uint32_t y = 0; y < n1; ++y) {
        const uint32_t count = pairs[size_t{x} * n1 + y];
        if (count == 0) continue;
        const int nb = two ? Spread(reports[1].multi, ValueOf(*reports[1].codes, y), kb) : 1;
        signal_tally.Add(ka, na, kb, nb, count,
                         keyed ? pair_keys[size_t{x} * n1 + y] : 0);
      }
    }
  }

  // Slots to key values (a month slot to its YYYYMM) and back.
  auto key_of = [&](Dimension d, uint32_t slot) -> int64_t {
    return d == v1::DIMENSION_SIGNAL_MONTH ? months_[slot] : static_cast<int64_t>(slot);
  };
  auto slot_of = [&](int i, int64_t key) -> int64_t {  // -1: never counted
    if (by[i] == v1::DIMENSION_SIGNAL_MONTH) {
      auto it = std::lower_bound(months_.begin(), months_.end(), static_cast<uint32_t>(key));
      return it != months_.end() && *it == key ? it - months_.begin() : -1;
    }
    return key >= 0 && key < (i == 0 ? s0 : s1) ? key : -1;
  };
  std::vector<int64_t> observed[2];
  for (size_t i = 0; i < by.size(); ++i) {
    const std::vector<uint64_t>& pm = i == 0 ? person_tally.m0 : person_tally.m1;
    const std::vector<uint64_t>& sm = i == 0 ? signal_tally.m0 : signal_tally.m1;
    for (uint32_t slot = 0; slot < pm.size(); ++slot) {
      if (pm[slot] + sm[slot] > 0) observed[i].push_back(key_of(by[i], slot));
    }
  }
  FillRows(
      ds, observed,
      [&](int64_t a, int64_t b) {
        const int64_t sa = slot_of(0, a), sb = two ? slot_of(1, b) : 0;
        if (sa < 0 || sb < 0) return RawCell{};
        const size_t c = static_cast<size_t>(sa) * s1 + static_cast<size_t>(sb);
        return RawCell{person_tally.cells[c], signal_tally.cells[c], person_tally.CellKey(c),
                       signal_tally.CellKey(c)};
      },
      [&](int i, int64_t a) {
        const int64_t s = slot_of(i, a);
        if (s < 0) return RawCell{};
        return i == 0 ? RawCell{person_tally.m0[s], signal_tally.m0[s], person_tally.M0Key(s),
                                signal_tally.M0Key(s)}
                      : RawCell{person_tally.m1[s], signal_tally.m1[s], person_tally.M1Key(s),
                                signal_tally.M1Key(s)};
      },
      table);
  return table;
}

}  // namespace samenzicht::aggregator
