#include "aggregator/query/months.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "common/month.h"

namespace samenzicht::aggregator {

bool IsValidMonth(uint32_t m) { return Month(m).IsValid(); }

std::vector<uint32_t> EarliestFirst(const std::vector<ReportFacts>& reports) {
  std::vector<uint32_t> order(reports.size());
  const bool all_valid = std::all_of(reports.begin(), reports.end(), [](const ReportFacts& r) {
    return IsValidMonth(r.signal_month);
  });
  if (!all_valid) {  // not from the store (which validates months): the general sort
    std::iota(order.begin(), order.end(), 0u);
    auto month_key = [&](uint32_t i) {
      uint32_t m = reports[i].signal_month;
      return m == 0 ? std::numeric_limits<uint32_t>::max() : m;
    };
    std::stable_sort(order.begin(), order.end(),
                     [&](uint32_t a, uint32_t b) { return month_key(a) < month_key(b); });
    return order;
  }
  // Stable counting sort: one bucket per valid month (1900-2999), then "not known".
  constexpr uint32_t kUnknown = 1100 * 12;
  auto bucket = [](uint32_t m) {
    const Month month(m);
    return month.none() ? kUnknown : (month.year() - 1900) * 12 + month.month() - 1;
  };
  std::vector<uint32_t> start(kUnknown + 2, 0);
  for (const ReportFacts& r : reports) ++start[bucket(r.signal_month) + 1];
  for (size_t b = 1; b < start.size(); ++b) start[b] += start[b - 1];
  for (uint32_t i = 0; i < reports.size(); ++i) order[start[bucket(reports[i].signal_month)]++] = i;
  return order;
}

}  // namespace samenzicht::aggregator
