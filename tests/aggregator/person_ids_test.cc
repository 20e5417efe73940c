// Stable person ids (aggregator/linkage/person_ids.h): the rules for new persons, reports
// added, merges, splits, and the oldest report removed, and that the exceptions alone
// continue the ids exactly.
#include "aggregator/linkage/person_ids.h"

#include <cstdint>
#include <map>
#include <vector>

#include <gtest/gtest.h>

namespace samenzicht::aggregator {
namespace {

// A linkage of reports given by their person labels (any numbers); persons are numbered
// by their first report as Link does.
LinkResult LinkOf(const std::vector<int>& labels) {
  LinkResult link;
  std::map<int, uint32_t> number;
  for (int label : labels) {
    auto [it, fresh] = number.try_emplace(label, link.persons);
    if (fresh) ++link.persons;
    link.person.push_back(it->second);
  }
  return link;
}

TEST(PersonIdsTest, APersonsFirstIdIsTheRowOfItsOldestReport) {
  const std::vector<int64_t> rows = {3, 5, 8, 9, 12};
  const PersonIds ids = AssignPersonIds(rows, LinkOf({1, 2, 1, 3, 2}), {});
  EXPECT_EQ(ids.of_report, (std::vector<uint64_t>{3, 5, 3, 9, 5}));
  EXPECT_EQ(ids.fresh, 3u);
}

TEST(PersonIdsTest, AddedReportsKeepTheIdAndNewPersonsGetTheirOldestRow) {
  std::vector<int64_t> rows = {3, 5, 8};
  PersonIds before = AssignPersonIds(rows, LinkOf({1, 2, 1}), {});
  const RowPersonIds previous = ByRow(rows, before);
  // Row 10 joins the person of row 5; rows 11 and 13 are a new person.
  rows = {3, 5, 8, 10, 11, 13};
  const PersonIds after = AssignPersonIds(rows, LinkOf({1, 2, 1, 2, 4, 4}), previous.view());
  EXPECT_EQ(after.of_report, (std::vector<uint64_t>{3, 5, 3, 5, 11, 11}));
  EXPECT_EQ(after.carried, 2u);
  EXPECT_EQ(after.fresh, 1u);
}

// Two persons joined by a new report keep the smaller id (the person whose oldest report is
// the older); the other id is retired and not given to anyone.
TEST(PersonIdsTest, AMergeKeepsTheSmallerId) {
  std::vector<int64_t> rows = {3, 5, 8, 9};
  const PersonIds before = AssignPersonIds(rows, LinkOf({1, 2, 1, 2}), {});
  ASSERT_EQ(before.of_report, (std::vector<uint64_t>{3, 5, 3, 5}));
  const RowPersonIds previous = ByRow(rows, before);
  rows = {3, 5, 8, 9, 20};
  const PersonIds after = AssignPersonIds(rows, LinkOf({1, 1, 1, 1, 1}), previous.view());
  EXPECT_EQ(after.of_report, (std::vector<uint64_t>(5, 3)));
  EXPECT_EQ(after.merged, 1u);
  EXPECT_EQ(after.fresh, 0u);
}

// A person that falls apart (a correction took away the token that joined it): the part
// with the oldest report keeps the id, the other part is a new person with the row of its
// own oldest report, whichever order the parts come in.
TEST(PersonIdsTest, ASplitLeavesTheIdWithThePartOfTheOldestReport) {
  const std::vector<int64_t> rows = {4, 6, 7, 15};
  const PersonIds before = AssignPersonIds(rows, LinkOf({1, 1, 1, 1}), {});
  ASSERT_EQ(before.of_report, (std::vector<uint64_t>(4, 4)));
  const RowPersonIds previous = ByRow(rows, before);
  const PersonIds after = AssignPersonIds(rows, LinkOf({1, 2, 1, 2}), previous.view());
  EXPECT_EQ(after.of_report, (std::vector<uint64_t>{4, 6, 4, 6}));
  EXPECT_EQ(after.fresh, 1u);
  // The same split with the reports in another order of the dataset.
  const std::vector<int64_t> shuffled = {15, 7, 6, 4};
  const PersonIds again = AssignPersonIds(shuffled, LinkOf({2, 1, 2, 1}), previous.view());
  EXPECT_EQ(again.of_report, (std::vector<uint64_t>{6, 4, 6, 4}));
}

// The oldest report retracted or purged: the person keeps its id (it is no longer its
// oldest row: an exception a restart needs).
TEST(PersonIdsTest, RemovingTheOldestReportKeepsTheId) {
  std::vector<int64_t> rows = {2, 3, 9, 10};
  const PersonIds before = AssignPersonIds(rows, LinkOf({1, 2, 1, 2}), {});
  const RowPersonIds previous = ByRow(rows, before);
  rows = {3, 9, 10};
  const LinkResult link = LinkOf({2, 1, 2});
  const PersonIds after = AssignPersonIds(rows, link, previous.view());
  EXPECT_EQ(after.of_report, (std::vector<uint64_t>{3, 2, 3}));
  const RowPersonIds exceptions = Exceptions(rows, link, after);
  EXPECT_EQ(exceptions.rows, (std::vector<int64_t>{9}));
  EXPECT_EQ(exceptions.ids, (std::vector<uint64_t>{2}));
  // A restart knows only the exceptions, and continues exactly.
  EXPECT_EQ(AssignPersonIds(rows, link, exceptions.view()).of_report, after.of_report);
  // Without them the person would take the row of its oldest remaining report.
  EXPECT_EQ(AssignPersonIds(rows, link, {}).of_report, (std::vector<uint64_t>{3, 9, 3}));
}

// Random histories of adds, removals, merges and splits: after every step the ids are
// distinct per person, and continuing from the exceptions alone equals continuing from the
// full previous assignment.
TEST(PersonIdsTest, ExceptionsContinueExactlyOverRandomHistories) {
  uint64_t state = 12345;
  auto next = [&state](uint64_t bound) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (state >> 33) % bound;
  };
  for (int history = 0; history < 50; ++history) {
    std::vector<int64_t> rows;
    std::vector<int> labels;
    int64_t next_row = 1;
    RowPersonIds previous;
    bool have_previous = false;
    for (int step = 0; step < 30; ++step) {
      // Add a few reports, remove a few, relabel a few (merge or split).
      for (uint64_t i = 0, n = next(4); i < n; ++i) {
        rows.push_back(next_row++);
        labels.push_back(static_cast<int>(next(12)));
      }
      for (uint64_t i = 0, n = next(2); i < n && !rows.empty(); ++i) {
        const size_t at = next(rows.size());
        rows.erase(rows.begin() + static_cast<long>(at));
        labels.erase(labels.begin() + static_cast<long>(at));
      }
      for (uint64_t i = 0, n = next(3); i < n && !rows.empty(); ++i) {
        labels[next(labels.size())] = static_cast<int>(next(12));
      }
      const LinkResult link = LinkOf(labels);
      const PersonIds ids = AssignPersonIds(rows, link, have_previous ? previous.view() : PersonIdsView{});
      std::map<uint64_t, uint32_t> person_of;
      for (size_t r = 0; r < rows.size(); ++r) {
        auto [it, fresh] = person_of.try_emplace(ids.of_report[r], link.person[r]);
        ASSERT_EQ(it->second, link.person[r]) << "history " << history << " step " << step;
      }
      EXPECT_EQ(person_of.size(), link.persons);
      const RowPersonIds exceptions = Exceptions(rows, link, ids);
      const RowPersonIds full = ByRow(rows, ids);
      // Same rows and linkage again: both continue unchanged.
      EXPECT_EQ(AssignPersonIds(rows, link, exceptions.view()).of_report, ids.of_report);
      EXPECT_EQ(AssignPersonIds(rows, link, full.view()).of_report, ids.of_report);
      previous = full;
      have_previous = true;
    }
  }
}

}  // namespace
}  // namespace samenzicht::aggregator
