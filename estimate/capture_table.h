// The table of capture histories over K agency lists.
//
// A capture history is a bit mask `h` over the lists: bit `i` (value
// `1 << i`) is set when the person is on list `i + 1`. The table stores one
// count per history, indexed by the mask, for all `2^K` histories; entry 0
// (seen by no list, the "dark figure") is always 0 because it is never
// observed.
//
// Example:
//
//   absl::StatusOr<CaptureTable> table = CaptureTable::ReadCsvFile(path);
//   if (!table.ok()) return table.status();
//   int64_t seen = table->observed();
//   int64_t on_1_and_2 = table->count(0b011);
//
// Instances are immutable and thus safe to share between threads.
#ifndef SAMENZICHT_ESTIMATE_CAPTURE_TABLE_H_
#define SAMENZICHT_ESTIMATE_CAPTURE_TABLE_H_

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"

namespace samenzicht::estimate {

// A capture history or a log-linear term, as a bit mask over the lists.
using Mask = uint32_t;

// Multiple systems estimation needs at least three lists (with two, the
// list dependence cannot be modelled). Model names use one digit per list,
// as in the reference R packages, so at most nine lists are supported.
inline constexpr int kMinLists = 3;
inline constexpr int kMaxLists = 9;

// Largest count accepted in one cell; far above any real register and small
// enough that sums over all cells cannot overflow.
inline constexpr int64_t kMaxCellCount = 1'000'000'000;

class CaptureTable {
 public:
  // Parses CSV text with a header `list1,...,listK,count` (the list columns
  // may carry any non-empty names; the last column must be `count`) and one
  // row per observed history: 0/1 in each list column and a non-negative
  // integer count. Blank lines are skipped; CRLF line ends are accepted.
  //
  // Returns `InvalidArgument` naming the line (1-based) and column for: a
  // missing or malformed header, fewer than 3 or more than 9 lists, a wrong
  // number of fields, a list value other than 0/1, a count that is not a
  // non-negative integer (or exceeds `kMaxCellCount`), the all-zero history,
  // a history given twice, a table with no person in it, and a list that holds
  // no person (named by column and list name).
  static absl::StatusOr<CaptureTable> ParseCsv(absl::string_view text);

  // Reads and parses a file. `NotFound` if it cannot be opened, otherwise as
  // `ParseCsv` (messages are prefixed with the path).
  static absl::StatusOr<CaptureTable> ReadCsvFile(const std::string& path);

  // Builds a table from counts indexed by history mask (`counts.size()` must
  // be `2^num_lists`, `counts[0]` must be 0). A list may be empty here (bootstrap
  // replicates can empty one); `Estimate` refuses such a table. `list_names` may be empty, in
  // which case lists are named list1..listK. `InvalidArgument` otherwise.
  static absl::StatusOr<CaptureTable> FromCounts(int num_lists,
                                                 std::vector<int64_t> counts,
                                                 std::vector<std::string> list_names = {});

  int num_lists() const { return num_lists_; }
  // Number of histories including the unobservable all-zero one: 2^K.
  int num_histories() const { return static_cast<int>(counts_.size()); }
  int64_t count(Mask history) const { return counts_[history]; }
  // Counts indexed by history mask; `counts()[0] == 0`.
  const std::vector<int64_t>& counts() const { return counts_; }
  // Number of distinct persons seen by at least one list.
  int64_t observed() const { return observed_; }
  // Number of persons on every list in `term` (whatever their other lists):
  // the sufficient statistic of the log-linear parameter for `term`.
  int64_t Overlap(Mask term) const;
  const std::vector<std::string>& list_names() const { return list_names_; }

 private:
  CaptureTable(int num_lists, std::vector<int64_t> counts, std::vector<std::string> list_names);

  int num_lists_;
  std::vector<int64_t> counts_;
  std::vector<std::string> list_names_;
  int64_t observed_ = 0;
};

}  // namespace samenzicht::estimate

#endif  // SAMENZICHT_ESTIMATE_CAPTURE_TABLE_H_
