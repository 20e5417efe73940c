#include "aggregator/linkage/person_ids.h"

#include <algorithm>
#include <numeric>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"

namespace samenzicht::aggregator {

namespace {

constexpr uint64_t kNone = 0;  // rows, and so ids, are positive

// The report indexes in ascending row order.
std::vector<uint32_t> RowOrder(const std::vector<int64_t>& rows) {
  std::vector<uint32_t> order(rows.size());
  std::iota(order.begin(), order.end(), 0u);
  if (!std::is_sorted(rows.begin(), rows.end())) {
    std::sort(order.begin(), order.end(), [&rows](uint32_t a, uint32_t b) { return rows[a] < rows[b]; });
  }
  return order;
}

}  // namespace

PersonIds AssignPersonIds(const std::vector<int64_t>& rows, const LinkResult& link,
                          PersonIdsView previous) {
  const size_t n = link.person.size();
  PersonIds out;
  out.of_report.assign(n, kNone);
  const std::vector<uint32_t> order = RowOrder(rows);

  // Carried ids: each goes to the person of its oldest remaining report. Walking the reports
  // by ascending row, the first report met with an id is that oldest one.
  std::vector<uint64_t> id_of_person(link.persons, kNone);
  std::vector<uint32_t> claims(link.persons, 0);  // ids a person received
  absl::flat_hash_set<uint64_t> taken;
  if (!previous.rows.empty()) {
    absl::flat_hash_map<uint64_t, uint32_t> owner;  // id -> person
    size_t p = 0;  // merge-walk over previous.rows (ascending)
    for (uint32_t r : order) {
      const int64_t row = rows[r];
      while (p < previous.rows.size() && previous.rows[p] < row) ++p;
      if (p == previous.rows.size() || previous.rows[p] != row) continue;
      const uint64_t id = previous.ids[p];
      if (id == kNone) continue;
      const uint32_t person = link.person[r];
      if (owner.try_emplace(id, person).second) {
        ++claims[person];
        if (id_of_person[person] == kNone || id < id_of_person[person]) id_of_person[person] = id;
      }
    }
    for (uint32_t person = 0; person < link.persons; ++person) {
      if (claims[person] > 0) {
        ++out.carried;
        out.merged += claims[person] - 1;
        taken.insert(id_of_person[person]);
      }
    }
  }
  // New persons: the row of their oldest report not held by another person.
  uint64_t highest = 0;
  for (uint64_t id : taken) highest = std::max(highest, id);
  for (uint32_t r : order) {
    highest = std::max(highest, static_cast<uint64_t>(rows[r]));
    const uint32_t person = link.person[r];
    if (id_of_person[person] != kNone) continue;
    const auto row = static_cast<uint64_t>(rows[r]);
    if (taken.contains(row)) continue;
    id_of_person[person] = row;
    // (A row is one report's, so two new persons never meet the same one.)
    ++out.fresh;
  }
  // A person all of whose rows are held (only after the store reused deleted rows' numbers).
  for (uint32_t person = 0; person < link.persons; ++person) {
    if (id_of_person[person] == kNone) {
      id_of_person[person] = ++highest;
      ++out.fresh;
    }
  }
  for (size_t r = 0; r < n; ++r) out.of_report[r] = id_of_person[link.person[r]];
  return out;
}

RowPersonIds ByRow(const std::vector<int64_t>& rows, const PersonIds& ids) {
  RowPersonIds out;
  const std::vector<uint32_t> order = RowOrder(rows);
  out.rows.reserve(order.size());
  out.ids.reserve(order.size());
  for (uint32_t r : order) {
    out.rows.push_back(rows[r]);
    out.ids.push_back(ids.of_report[r]);
  }
  return out;
}

RowPersonIds Exceptions(const std::vector<int64_t>& rows, const LinkResult& link,
                        const PersonIds& ids) {
  RowPersonIds out;
  std::vector<bool> seen(link.persons, false);
  for (uint32_t r : RowOrder(rows)) {
    const uint32_t person = link.person[r];
    if (seen[person]) continue;
    seen[person] = true;
    if (ids.of_report[r] != static_cast<uint64_t>(rows[r])) {
      out.rows.push_back(rows[r]);
      out.ids.push_back(ids.of_report[r]);
    }
  }
  return out;
}

}  // namespace samenzicht::aggregator
