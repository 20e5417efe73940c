// The query's snapshot: which agency sent each report and that agency's domain, as the
// store reads them, for any number of agencies.
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "aggregator/query/query.h"
#include "aggregator/store/store.h"
#include "tests/aggregator/fixture_builder.h"
#include "tests/aggregator/test_util.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::aggregator {
namespace {

using testing::Tok;

// One report from each of 256 agencies: the first 255 police, the last youth care. Every
// report keeps its agency's domain (the 256th agency's reports once came out without one),
// and the agencies are named in the order of their first report.
TEST(QuerySnapshotTest, EveryReportKeepsItsAgencysDomainBeyond255Agencies) {
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
    const std::vector<v1::Report> reports{testing::MakeReport(a, {{"nid", Tok(a)}})};
    BatchToStore b;
    b.batch_id = testing::Id(100000 + a);
    b.agency = "agency" + std::to_string(a);
    b.digest = std::string(32, 'd');
    b.received_unix = 1700000000;
    b.report_count = 1;
    b.reports.push_back({0, &reports[0]});
    ASSERT_OK(store->CommitBatch(b).status());
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
  }
  // The overview tells agencies apart by one byte: the first 255 by their number, the
  // 256th as not known.
  for (int i = 0; i < kAgencies - 1; ++i) EXPECT_EQ(static_cast<int>(snap->agency_of_report[i]), i + 1);
  EXPECT_EQ(static_cast<int>(snap->agency_of_report[kAgencies - 1]), 0);
  ASSERT_GE(snap->agencies.size(), 255u);
  EXPECT_EQ(snap->agencies[0], "agency1");
  EXPECT_EQ(snap->agencies[254], "agency255");
  // The dataset itself numbers every agency.
  ASSERT_EQ(snap->dataset.agencies.size(), static_cast<size_t>(kAgencies));
  EXPECT_EQ(snap->dataset.agencies[kAgencies - 1], "agency256");
  EXPECT_EQ(snap->dataset.reports[kAgencies - 1].agency, kAgencies);
}

// A correction reaches what the analyst's queries count: a Query that has loaded and cached
// its snapshot (its month released and frozen) sees the corrected report (same report id and
// tokens, another form) at the next query, not the cached old version, still one report and
// still published in its month.
TEST(QuerySnapshotTest, ACorrectionOfTheFormReplacesTheCachedSnapshotsReport) {
  const v1::LinkageProfile profile = testing::TestProfile();
  v1::AggregatorConfig config;
  auto* police = config.add_agencies();
  police->set_node_id("police");
  police->set_domain(v1::DOMAIN_POLICE);
  config.set_min_cell_size(5);
  ASSERT_OK_AND_ASSIGN(auto store,
                       testing::OpenTestStore(testing::FreshDir("query_snapshot_correction"), profile));
  auto commit = [&](int batch, const v1::Report& r) {
    BatchToStore b;
    b.batch_id = testing::Id(batch);
    b.agency = "police";
    b.digest = std::string(32, 'd');
    b.received_unix = 1700000000;
    b.report_count = 1;
    b.reports.push_back({0, &r});
    auto c = store->CommitBatch(b);
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

}  // namespace
}  // namespace samenzicht::aggregator
