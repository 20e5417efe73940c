// Protection against differencing: the analyst's earlier queries, persisted, and the check
// that refuses a query whose counts would differ from an earlier query's by 1..k-1 for
// overlapping populations (so that subtracting two answers isolates fewer than k persons).
//
//   ASSIGN_OR_RETURN(auto history, QueryHistory::Open(data_dir + "/query_history.tsv"));
//   RETURN_IF_ERROR(CheckDifferencing(ds, link, history->Of(analyst), asked, k));
//   RETURN_IF_ERROR(history->Record(asked));  // only answered queries are recorded
//
// DESIGN. Periods are whole months (signal months never leave a node at a finer grain),
// so "two periods differing by one day" cannot be asked. For every earlier query of the
// same analyst over a different but overlapping period, and every set S of the
// categories both queries share (the empty set = the totals), the raw tables by S of the
// two periods are compared cell by cell (persons and signals, and the unlinkable count);
// a difference from 1 to k-1 in any cell refuses the new query with FailedPrecondition.
// The refusal itself tells no more than a "<k" cell would (that some difference is
// small), and does not say which cell. Identical periods are not compared (same
// population; a change there is new data arriving, see README "Limits"). Disjoint periods
// are not compared (no subtraction isolates anyone). Earlier queries are re-counted
// against the current data, so a check is exact for what the analyst could subtract now.
//
// File format: one line per answered query, "v1<TAB>analyst<TAB>dims<TAB>from<TAB>to<TAB>unix"
// (dims as comma-separated Dimension numbers). Holds no count and no identifier.
//
// Thread-safety: QueryHistory is thread-safe. Callers that check and then record must
// serialise the pair themselves (Query does, under one lock).
#ifndef SAMENZICHT_AGGREGATOR_QUERY_QUERY_HISTORY_H_
#define SAMENZICHT_AGGREGATOR_QUERY_QUERY_HISTORY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "aggregator/linkage/linkage.h"
#include "aggregator/store/dataset.h"
#include "aggregator/query/totals.h"
#include "samenzicht/v1/query.pb.h"

namespace samenzicht::aggregator {

struct AskedQuery {
  std::string analyst;                // CN of the analyst's certificate
  std::vector<v1::Dimension> by;      // categories
  uint32_t from_month = 0;            // YYYYMM, 0 = open
  uint32_t to_month = 0;
  int64_t at_unix = 0;
};

class QueryHistory {
 public:
  // Reads `path` if it exists (InvalidArgument naming the line of a malformed entry);
  // creates it (mode 0600) on the first Record. An empty path keeps the history in memory.
  static absl::StatusOr<std::unique_ptr<QueryHistory>> Open(const std::string& path);

  // The analyst's answered queries, oldest first, without repeats.
  std::vector<AskedQuery> Of(const std::string& analyst) const;
  // Appends (and fsyncs) one entry. Internal when the file cannot be written.
  absl::Status Record(const AskedQuery& q);

 private:
  explicit QueryHistory(std::string path) : path_(std::move(path)) {}
  const std::string path_;
  mutable std::mutex mu_;
  std::vector<AskedQuery> entries_;  // guarded by mu_
};

// FailedPrecondition when `asked` would difference against one of `earlier` (see above);
// InvalidArgument for a malformed period; OK otherwise. The raw tables come from
// `totals`, which must answer as ComputeRawTotals does (the query service passes its
// TotalsIndex, so the check costs milliseconds, not a scan of every report per table).
using RawTotalsSource = std::function<absl::StatusOr<RawTotals>(const v1::TotalsRequest&)>;
absl::Status CheckDifferencing(const RawTotalsSource& totals,
                               const std::vector<AskedQuery>& earlier, const AskedQuery& asked,
                               uint32_t min_cell_size);
// The same with ComputeRawTotals over `dataset` and `link`.
absl::Status CheckDifferencing(const Dataset& dataset, const LinkResult& link,
                               const std::vector<AskedQuery>& earlier, const AskedQuery& asked,
                               uint32_t min_cell_size);

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_QUERY_QUERY_HISTORY_H_
