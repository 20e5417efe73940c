// Stable person ids: a person found by the linkage keeps its id from one linkage of the
// store to the next (new batches, corrections, retractions, purges) and across restarts.
//
//   PersonIds ids = AssignPersonIds(dataset.rows, link, previous.view());  // the last linkage's
//   ids.of_report[r]     // the id of report r's person (link.person[r])
//
// The ids are store row numbers (Dataset::rows), so a person's id is, when first given, the
// row of its oldest report (the report stored first). The rules, applied to a new linkage
// `link` given the ids of the previous one (per stored row, the id its report was counted
// under):
//  - Carried: an id X of the previous linkage goes to the person of the new linkage that
//    holds the oldest remaining report (smallest row) that was counted under X. So a person
//    keeps its id when reports are added to it, corrected, or removed, also when its oldest
//    report is retracted or purged.
//  - Merge: a person that receives several ids (two or more earlier persons joined) keeps
//    the smallest, the id of the person whose oldest report is the older; the other ids are
//    retired (no person holds them any more). A retired id comes back only to a person whose
//    oldest report is the one at that row (a later split that undoes the merge).
//  - Split: the part that holds the oldest remaining report of the earlier person keeps its
//    id; every other part is a new person.
//  - New: a person that receives no id gets the row of its oldest report. No other person
//    holds that number: an id is at most every row of its person, and the store numbers a
//    new report one past its highest row (a deleted row's number comes back only when no
//    row above it is left, so no person holds it). Should one be held all the same, the
//    person gets its next row not held, or one past every row and id.
// Without a previous linkage (the first after a start) every person gets the row of its
// oldest report, unless `previous` says otherwise: the ids that differ from that rule
// (Exceptions) are all a restart needs to continue exactly (Query keeps them in the store).
//
// Person ids are never published: they stay inside the aggregator process and its store
// (for trends, audit and the estimate); every published figure is a protected count.
//
// Thread-safety: free functions over values.
#ifndef SAMENZICHT_AGGREGATOR_LINKAGE_PERSON_IDS_H_
#define SAMENZICHT_AGGREGATOR_LINKAGE_PERSON_IDS_H_

#include <cstdint>
#include <span>
#include <vector>

#include "aggregator/linkage/linkage.h"

namespace samenzicht::aggregator {

// Per stored row, the person id its report was counted under: `rows` ascending, no
// repeats, `ids` of the same length. A view over vectors held elsewhere.
struct PersonIdsView {
  std::span<const int64_t> rows;
  std::span<const uint64_t> ids;
};

// The same, owned.
struct RowPersonIds {
  std::vector<int64_t> rows;
  std::vector<uint64_t> ids;
  PersonIdsView view() const { return {rows, ids}; }
};

struct PersonIds {
  std::vector<uint64_t> of_report;  // by report index of the linkage
  // What changed against `previous` (for the log and the tests).
  uint32_t carried = 0;   // persons that kept an id
  uint32_t merged = 0;    // ids retired because their person joined one with a smaller id
  uint32_t fresh = 0;     // persons with a new id (new or split off)
};

// `rows[r]` is the store row of report r (link.person.size() reports; rows distinct and
// positive); `previous` may be empty (no earlier linkage) and need not cover every row.
PersonIds AssignPersonIds(const std::vector<int64_t>& rows, const LinkResult& link,
                          PersonIdsView previous);

// Every row with its report's id (rows ascending), as `previous` for the next call.
RowPersonIds ByRow(const std::vector<int64_t>& rows, const PersonIds& ids);

// The persons whose id is not the row of their oldest report: per such person that row and
// its id (ascending). AssignPersonIds(rows, link, Exceptions(...).view()) gives the same ids as
// with the full previous assignment, for the same rows and linkage.
RowPersonIds Exceptions(const std::vector<int64_t>& rows, const LinkResult& link,
                        const PersonIds& ids);

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_LINKAGE_PERSON_IDS_H_
