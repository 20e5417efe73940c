// The query's snapshot: which agency sent each report and that agency's domain, as the
// store reads them, for any number of agencies.
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_format.h"

#include "aggregator/query/insight.h"
#include "aggregator/query/query.h"
#include "aggregator/store/store.h"
#include "tests/aggregator/fixture_builder.h"
#include "tests/aggregator/test_util.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::aggregator {
namespace {

using testing::Tok;

// Commits `reports` as one batch of `agency`.
absl::StatusOr<CommitResult> CommitAs(Store& store, const std::string& agency, int batch,
                                      const std::vector<v1::Report>& reports) {
  BatchToStore b;
  b.batch_id = testing::Id(batch);
  b.agency = agency;
  b.digest = std::string(32, 'd');
  b.received_unix = 1700000000;
  b.report_count = static_cast<uint32_t>(reports.size());
  for (size_t i = 0; i < reports.size(); ++i) {
    b.reports.push_back({static_cast<uint32_t>(i), &reports[i]});
  }
  return store.CommitBatch(b);
}

// A police-only configuration.
v1::AggregatorConfig PoliceConfig() {
  v1::AggregatorConfig config;
  auto* police = config.add_agencies();
  police->set_node_id("police");
  police->set_domain(v1::DOMAIN_POLICE);
  config.set_min_cell_size(5);
  return config;
}

// One report from each of 256 agencies: the first 255 police, the last youth care; the
// 256th agency's report is of the same person as the first agency's (the same token).
// Every report keeps its agency's domain (the 256th agency's reports once came out without
// one), every agency is numbered in the order of its first report (the overview once took
// only 255), and that person is known to 2 agencies.
TEST(QuerySnapshotTest, EveryReportKeepsItsAgencyAndDomainBeyond255Agencies) {
  constexpr int kAgencies = 256;
  const v1::LinkageProfile profile = testing::TestProfile();
  v1::AggregatorConfig config;
  for (int a = 1; a <= kAgencies; ++a) {
    auto* entry = config.add_agencies();
    entry->set_node_id("agency" + std::to_string(a));
    entry->set_domain(a == kAgencies ? v1::DOMAIN_YOUTH_CARE : v1::DOMAIN_POLICE);
  }
  config.set_min_cell_size(5);
  ASSERT_OK_AND_ASSIGN(auto store,
                       testing::OpenTestStore(testing::FreshDir("query_snapshot_agencies"), profile));
  for (int a = 1; a <= kAgencies; ++a) {
    const int person = a == kAgencies ? 1 : a;
    ASSERT_OK(CommitAs(*store, "agency" + std::to_string(a), 100000 + a,
                       {testing::MakeReport(a, {{"nid", Tok(person)}})})
                  .status());
  }
  QueryOptions options;
  options.now_month = 202612;
  ASSERT_OK_AND_ASSIGN(auto query, Query::New(config, profile, store.get(), options));
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const Snapshot> snap, query->Current());

  ASSERT_EQ(snap->dataset.reports.size(), static_cast<size_t>(kAgencies));
  ASSERT_EQ(snap->agency_of_report.size(), static_cast<size_t>(kAgencies));
  for (int i = 0; i < kAgencies; ++i) {
    const v1::Domain want = i == kAgencies - 1 ? v1::DOMAIN_YOUTH_CARE : v1::DOMAIN_POLICE;
    EXPECT_EQ(static_cast<int>(snap->dataset.reports[i].domain), static_cast<int>(want)) << "report " << i;
    EXPECT_EQ(static_cast<int>(snap->agency_of_report[i]), i + 1) << "report " << i;
  }
  ASSERT_EQ(snap->dataset.agencies.size(), static_cast<size_t>(kAgencies));
  EXPECT_EQ(snap->dataset.agencies[0], "agency1");
  EXPECT_EQ(snap->dataset.agencies[kAgencies - 1], "agency256");
  EXPECT_EQ(snap->dataset.reports[kAgencies - 1].agency, kAgencies);

  // The overview (no disclosure control below 1): 255 persons, one of them known to the
  // first and the 256th agency.
  ASSERT_EQ(snap->link.persons, 255u);
  v1::InsightRequest request;
  ASSERT_OK_AND_ASSIGN(v1::InsightResponse insight,
                       ComputeInsight(snap->dataset, snap->link, snap->agency_of_report, request,
                                      1, nullptr));
  ASSERT_EQ(insight.agency_counts_size(), 3);
  EXPECT_EQ(insight.agency_counts(0).agencies(), "1");
  EXPECT_EQ(insight.agency_counts(0).persons().value(), 254);
  EXPECT_EQ(insight.agency_counts(1).agencies(), "2");
  EXPECT_EQ(insight.agency_counts(1).persons().value(), 1);
  EXPECT_EQ(insight.agency_counts(2).persons().value(), 0);
}

// A correction reaches what the analyst's queries count: a Query that has loaded and cached
// its snapshot (its month released and frozen) sees the corrected report (same report id and
// tokens, another form) at the next query, not the cached old version, still one report and
// still published in its month.
TEST(QuerySnapshotTest, ACorrectionOfTheFormReplacesTheCachedSnapshotsReport) {
  const v1::LinkageProfile profile = testing::TestProfile();
  const v1::AggregatorConfig config = PoliceConfig();
  ASSERT_OK_AND_ASSIGN(auto store,
                       testing::OpenTestStore(testing::FreshDir("query_snapshot_correction"), profile));
  auto commit = [&](int batch, const v1::Report& r) {
    auto c = CommitAs(*store, "police", batch, {r});
    EXPECT_OK(c.status());
    return c.ok() ? *c : CommitResult();
  };
  const v1::Report first = testing::MakeReport(1, {{"nid", Tok(1)}}, v1::FORM_CRIMINAL, 202403);
  EXPECT_EQ(commit(100, first).accepted, 1u);
  QueryOptions options;
  options.now_month = 202612;
  ASSERT_OK_AND_ASSIGN(auto query, Query::New(config, profile, store.get(), options));
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const Snapshot> before, query->Current());
  ASSERT_EQ(before->dataset.reports.size(), 1u);
  EXPECT_EQ(before->dataset.reports[0].form, v1::FORM_CRIMINAL);
  EXPECT_EQ(before->dataset.reports[0].signal_month, 202403u) << "published before";

  const v1::Report corrected = testing::MakeReport(1, {{"nid", Tok(1)}}, v1::FORM_LABOUR, 202403);
  EXPECT_EQ(commit(101, corrected).corrected, 1u);
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const Snapshot> after, query->Current());
  EXPECT_GT(after->generation, before->generation);
  ASSERT_EQ(after->dataset.reports.size(), 1u);
  EXPECT_EQ(after->dataset.reports[0].form, v1::FORM_LABOUR);
  EXPECT_EQ(after->dataset.reports[0].signal_month, 202403u);
  EXPECT_EQ(before->dataset.reports[0].form, v1::FORM_CRIMINAL) << "an older snapshot is not changed";
}


// A gate in the preparer (QueryOptions::before_prepare): while closed, a preparation that
// reaches it waits there; `Entered` waits until one has.
class PrepareGate {
 public:
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    entered_ = 0;
  }
  void Open() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = false;
    }
    cv_.notify_all();
  }
  void Pass() {
    std::unique_lock<std::mutex> lock(mu_);
    ++entered_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return !closed_; });
  }
  void Entered() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return entered_ > 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool closed_ = false;
  int entered_ = 0;
};

// Runs `f` on another thread and fails the test if it does not return within a minute
// (it must return at once: nothing in it may wait for the held preparation).
template <typename F>
auto WithoutWaiting(F f) {
  auto done = std::async(std::launch::async, std::move(f));
  if (done.wait_for(std::chrono::minutes(1)) != std::future_status::ready) {
    ADD_FAILURE() << "a query waited for the preparation of a snapshot";
    std::abort();  // the held preparation would block the test forever
  }
  return done.get();
}

// With Freshness::kLastComplete a query never waits for linkage: while the next snapshot is
// being prepared (held in the preparer by a gate, not by timing), queries are answered at
// once from the previous snapshot, with its totals; batches committed meanwhile are
// coalesced into one preparation; and once it is done the figures are those of a full load
// and link of the store (a second Query reading it fresh).
TEST(QuerySnapshotTest, AQueryDuringAPreparationIsAnsweredFromThePreviousSnapshot) {
  const v1::LinkageProfile profile = testing::TestProfile();
  const v1::AggregatorConfig config = PoliceConfig();
  ASSERT_OK_AND_ASSIGN(auto store,
                       testing::OpenTestStore(testing::FreshDir("query_snapshot_background"), profile));
  int next_batch = 100;
  auto commit = [&](const std::vector<v1::Report>& reports) {
    ASSERT_OK(CommitAs(*store, "police", next_batch++, reports).status());
  };
  // 12 persons, each signalled twice (24 reports), 2024.
  std::vector<v1::Report> first;
  for (int p = 1; p <= 12; ++p) {
    first.push_back(testing::MakeReport(p, {{"nid", Tok(p)}}, v1::FORM_CRIMINAL, 202403));
    first.push_back(testing::MakeReport(100 + p, {{"nid", Tok(p)}}, v1::FORM_CRIMINAL, 202405));
  }
  commit(first);

  PrepareGate gate;
  QueryOptions options;
  options.now_month = 202612;
  // Without the release freeze, so that the batches' late reports of 2024 are published.
  options.release_freeze = false;
  options.freshness = Freshness::kLastComplete;
  options.before_prepare = [&gate] { gate.Pass(); };
  ASSERT_OK_AND_ASSIGN(auto query, Query::New(config, profile, store.get(), options));
  const rpc::Peer analyst{"gemeente", rpc::Role::kAnalyst};
  v1::TotalsRequest request;
  request.add_by(v1::DIMENSION_FORM);
  request.set_from_month(202401);
  request.set_to_month(202412);

  // The first snapshot: no older one to answer from, so this query waits for it.
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const Snapshot> old_snap, query->LastComplete());
  ASSERT_EQ(old_snap->dataset.reports.size(), 24u);
  ASSERT_EQ(old_snap->link.persons, 12u);
  ASSERT_OK_AND_ASSIGN(v1::TotalsResponse old_totals, query->Totals(analyst, request));
  EXPECT_EQ(query->preparations(), 1u);

  // 8 new persons and a third report of person 1, another form.
  gate.Close();
  std::vector<v1::Report> second;
  for (int p = 13; p <= 20; ++p) {
    second.push_back(testing::MakeReport(p, {{"nid", Tok(p)}}, v1::FORM_SEXUAL, 202406));
  }
  second.push_back(testing::MakeReport(201, {{"nid", Tok(1)}}, v1::FORM_LABOUR, 202407));
  commit(second);

  // The query finds the snapshot stale: it starts the preparation and is answered from the
  // previous snapshot; so is every query while the preparation is held.
  auto during = WithoutWaiting([&] { return query->LastComplete(); });
  ASSERT_OK(during.status());
  EXPECT_EQ(during->get(), old_snap.get());
  gate.Entered();  // the preparation is under way, held before it reads the store
  auto held = WithoutWaiting([&] { return query->Totals(analyst, request); });
  ASSERT_OK(held.status());
  EXPECT_EQ(held->SerializeAsString(), old_totals.SerializeAsString());
  EXPECT_EQ(held->total_signals().value(), old_totals.total_signals().value());
  // Two more batches while it is held: one preparation takes all of them.
  commit({testing::MakeReport(21, {{"nid", Tok(21)}}, v1::FORM_SEXUAL, 202408)});
  commit({testing::MakeReport(221, {{"nid", Tok(21)}}, v1::FORM_SEXUAL, 202409)});
  auto still = WithoutWaiting([&] { return query->LastComplete(); });
  ASSERT_OK(still.status());
  EXPECT_EQ(still->get(), old_snap.get());
  EXPECT_EQ(query->preparations(), 1u);

  gate.Open();
  // The fresh read waits for the preparation under way, which read the store after the
  // last commit: it is current, and nothing is prepared again.
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const Snapshot> new_snap, query->Current());
  EXPECT_EQ(query->preparations(), 2u) << "the three batches were coalesced";
  EXPECT_EQ(new_snap->generation, store->generation());
  EXPECT_EQ(new_snap->dataset.reports.size(), 24u + 9u + 2u);
  EXPECT_EQ(new_snap->link.persons, 12u + 8u + 1u);
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const Snapshot> latest, query->LastComplete());
  EXPECT_EQ(latest.get(), new_snap.get());
  EXPECT_EQ(old_snap->dataset.reports.size(), 24u) << "the previous snapshot is not changed";

  // The same figures as a full load and link by a Query that reads fresh.
  QueryOptions fresh_options;
  fresh_options.now_month = 202612;
  fresh_options.release_freeze = false;
  ASSERT_OK_AND_ASSIGN(auto fresh, Query::New(config, profile, store.get(), fresh_options));
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const Snapshot> full, fresh->Current());
  EXPECT_EQ(full->link.person, new_snap->link.person);
  ASSERT_OK_AND_ASSIGN(v1::TotalsResponse after, query->Totals(analyst, request));
  ASSERT_OK_AND_ASSIGN(v1::TotalsResponse full_totals, fresh->Totals(analyst, request));
  EXPECT_EQ(after.SerializeAsString(), full_totals.SerializeAsString());
  EXPECT_NE(after.SerializeAsString(), old_totals.SerializeAsString());
}

// The background preparer follows the store without any query: after StartBackground a
// committed batch becomes visible in the last complete snapshot on its own.
TEST(QuerySnapshotTest, TheBackgroundPreparerFollowsTheStore) {
  const v1::LinkageProfile profile = testing::TestProfile();
  const v1::AggregatorConfig config = PoliceConfig();
  ASSERT_OK_AND_ASSIGN(auto store,
                       testing::OpenTestStore(testing::FreshDir("query_snapshot_follow"), profile));
  QueryOptions options;
  options.now_month = 202612;
  options.freshness = Freshness::kLastComplete;
  ASSERT_OK_AND_ASSIGN(auto query, Query::New(config, profile, store.get(), options));
  query->StartBackground();
  ASSERT_OK(CommitAs(*store, "police", 100,
                     {testing::MakeReport(1, {{"nid", Tok(1)}}, v1::FORM_CRIMINAL, 202403)})
                .status());
  const uint64_t committed = store->generation();
  // Waits for the preparer (each look costs no preparation); bounded by the test's timeout.
  std::shared_ptr<const Snapshot> snap;
  while (true) {
    ASSERT_OK_AND_ASSIGN(snap, query->LastComplete());
    if (snap->generation >= committed) break;
    std::this_thread::sleep_for(Query::kPollInterval);
  }
  EXPECT_EQ(snap->dataset.reports.size(), 1u);
  EXPECT_EQ(snap->link.persons, 1u);
}


// The stable id of the person of the report stored at `row` (0: no such report).
uint64_t IdOfRow(const Snapshot& snap, int64_t row) {
  for (size_t r = 0; r < snap.dataset.rows.size(); ++r) {
    if (snap.dataset.rows[r] == row) return snap.person_id.at(r);
  }
  return 0;
}

// Person ids through the snapshots of one Query and a restart (a new Query on the same
// store): a merge keeps the smaller id, the oldest report's retraction leaves the id in
// place, a split leaves it with the part holding the oldest report, and a restart
// continues with the same ids (the exception kept in the store's settings).
TEST(QuerySnapshotTest, PersonIdsSurviveMergesSplitsRetractionsAndARestart) {
  const v1::LinkageProfile profile = testing::TestProfile();
  const v1::AggregatorConfig config = PoliceConfig();
  ASSERT_OK_AND_ASSIGN(auto store,
                       testing::OpenTestStore(testing::FreshDir("query_snapshot_ids"), profile));
  QueryOptions options;
  options.now_month = 202612;
  options.release_freeze = false;
  ASSERT_OK_AND_ASSIGN(auto query, Query::New(config, profile, store.get(), options));
  // Rows 1-2 person A, rows 3-4 person B, row 5 person C.
  ASSERT_OK(CommitAs(*store, "police", 100,
                     {testing::MakeReport(1, {{"nid", Tok(1)}}), testing::MakeReport(2, {{"nid", Tok(1)}}),
                      testing::MakeReport(3, {{"nid", Tok(3)}}), testing::MakeReport(4, {{"nid", Tok(3)}}),
                      testing::MakeReport(5, {{"phone", Tok(5)}})})
                .status());
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const Snapshot> snap, query->Current());
  ASSERT_EQ(snap->person_id.size(), 5u);
  EXPECT_EQ(IdOfRow(*snap, 1), 1u);
  EXPECT_EQ(IdOfRow(*snap, 2), 1u);
  EXPECT_EQ(IdOfRow(*snap, 3), 3u);
  EXPECT_EQ(IdOfRow(*snap, 5), 5u);

  // Report 6 (row 6) joins B and C: the merged person keeps B's id, the smaller.
  ASSERT_OK(CommitAs(*store, "police", 101,
                     {testing::MakeReport(6, {{"nid", Tok(3)}, {"phone", Tok(5)}})})
                .status());
  ASSERT_OK_AND_ASSIGN(snap, query->Current());
  EXPECT_EQ(snap->link.persons, 2u);
  for (int64_t row : {3, 4, 5, 6}) EXPECT_EQ(IdOfRow(*snap, row), 3u) << "row " << row;

  // A's oldest report retracted: A keeps id 1 (no longer one of its rows).
  ASSERT_OK_AND_ASSIGN(RetractResult retracted, store->Retract("police", {testing::Id(1)}, 1700000100));
  ASSERT_EQ(retracted.retracted, 1u);
  // Report 6 corrected without the phone: C splits off again as a new person, with the row
  // of its own oldest report; B keeps 3.
  ASSERT_OK(CommitAs(*store, "police", 102, {testing::MakeReport(6, {{"nid", Tok(3)}})}).status());
  ASSERT_OK_AND_ASSIGN(snap, query->Current());
  EXPECT_EQ(snap->link.persons, 3u);
  EXPECT_EQ(IdOfRow(*snap, 1), 0u);
  EXPECT_EQ(IdOfRow(*snap, 2), 1u);
  EXPECT_EQ(IdOfRow(*snap, 3), 3u);
  EXPECT_EQ(IdOfRow(*snap, 6), 3u);
  EXPECT_EQ(IdOfRow(*snap, 5), 5u);

  // A restart: a new Query on the same store gives every person the same id.
  ASSERT_OK_AND_ASSIGN(auto restarted, Query::New(config, profile, store.get(), options));
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const Snapshot> again, restarted->Current());
  EXPECT_EQ(again->dataset.rows, snap->dataset.rows);
  EXPECT_EQ(again->person_id, snap->person_id);
  ASSERT_OK_AND_ASSIGN(auto settings, store->LoadSettings());
  EXPECT_EQ(settings.at("linkage_person_id_exceptions"),
            absl::StrFormat("%016x%016x", 2, 1))
      << "one exception: the person whose oldest row is 2 has id 1";
}

}  // namespace
}  // namespace samenzicht::aggregator
