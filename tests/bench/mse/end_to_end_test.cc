// Capture histories for multiple systems estimation, counted by the aggregator's code from
// the real linkage (simulator -> agency-node pseudonymise -> aggregator link): without
// noise they are exactly the true ones (bench/mse/end_to_end.h, bench/common/pipeline.h).
#include "bench/mse/end_to_end.h"

#include <string>
#include <vector>

#include "bench/common/pipeline.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simulator/simulator.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::bench {
namespace {

namespace sim = samenzicht::simulator;
using ::testing::ElementsAre;

const char kProfile[] = SAMENZICHT_SOURCE_DIR "/deploy/config/profile.textproto";

// Three agencies, two of them in one domain; five records of three persons and one record
// that sent no report.
sim::Simulation SmallSimulation() {
  sim::Simulation s;
  s.agencies.resize(3);
  s.agencies[0].name = "police";
  s.agencies[0].domain = 1;  // DOMAIN_POLICE
  s.agencies[1].name = "youth_care";
  s.agencies[1].domain = 5;  // DOMAIN_YOUTH_CARE
  s.agencies[2].name = "youth_care_2";
  s.agencies[2].domain = 5;
  auto add = [&](int agency, int person) {
    sim::Record r;
    r.agency = agency;
    r.person = person;
    r.signal_date = "2024-03-01";
    s.records.push_back(r);
  };
  add(0, 10);  // person A: police, youth_care
  add(1, 10);
  add(0, 11);  // person B: police twice, youth_care_2
  add(0, 11);
  add(2, 11);
  add(2, 12);  // person C: youth_care_2 (a record without a report below)
  add(1, 12);
  return s;
}

TEST(HistoriesOf, CountsPersonsByTheListsThatSawThem) {
  sim::Simulation s = SmallSimulation();
  // Linked labels; record 6 (person C at youth_care) sent no report.
  const std::vector<int> person = {5, 5, 7, 7, 7, 9, -1};
  ASSERT_OK_AND_ASSIGN(auto agencies, HistoriesOf(s, person, Lists::kAgencies));
  EXPECT_THAT(agencies.lists, ElementsAre("police", "youth_care", "youth_care_2"));
  std::vector<int64_t> want(8, 0);
  want[0b011] = 1;  // A
  want[0b101] = 1;  // B
  want[0b100] = 1;  // C, without the youth_care record
  EXPECT_EQ(agencies.counts, want);
  EXPECT_EQ(Persons(agencies), 3);
  EXPECT_EQ(HistoriesCsv(agencies),
            "police,youth_care,youth_care_2,count\n1,1,0,1\n0,0,1,1\n1,0,1,1\n");

  ASSERT_OK_AND_ASSIGN(auto domains, HistoriesOf(s, person, Lists::kDomains));
  EXPECT_THAT(domains.lists, ElementsAre("police", "youth_care"));
  EXPECT_THAT(domains.counts, ElementsAre(0, 0, 1, 2));  // C: youth care; A, B: both

  // The true persons: C is seen by both youth care agencies.
  ASSERT_OK_AND_ASSIGN(auto truth, HistoriesOf(s, TruePersonOfRecord(s), Lists::kAgencies));
  want[0b100] = 0;
  want[0b110] = 1;
  EXPECT_EQ(truth.counts, want);

  EXPECT_THAT(HistoriesOf(s, {1, 2}, Lists::kAgencies),
              testing::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ToTable(domains), testing::StatusIs(absl::StatusCode::kFailedPrecondition));
}

// Simulates, runs the real commands and returns the simulation and its linkage.
void SimulateAndLink(int agencies, sim::Simulation* simulation, LinkedSimulation* linked,
                     std::string* dir) {
  sim::SimulatorOptions opt;
  opt.persons = 300;
  opt.agencies = agencies;
  opt.noise = sim::Noise::kNone;
  opt.seed = 3;
  ASSERT_OK_AND_ASSIGN(*simulation, sim::Simulate(opt));
  *dir = ::testing::TempDir() + "/sim" + std::to_string(agencies);
  ASSERT_OK(sim::WriteSimulation(*simulation, *dir));
  const Tools tools{AGENCY_NODE_BIN, AGGREGATOR_BIN};
  ASSERT_OK(MakeKey(tools, *dir + "/shared.key"));
  ASSERT_OK_AND_ASSIGN(*linked, PseudonymiseAndLink(tools, *simulation, *dir, *dir + "/shared.key",
                                                    kProfile, *dir + "/linked"));
}

TEST(EndToEnd, WithoutNoiseTheLinkedHistoriesAreTheTrueOnes) {
  sim::Simulation simulation;
  LinkedSimulation linked;
  std::string dir;
  ASSERT_NO_FATAL_FAILURE(SimulateAndLink(6, &simulation, &linked, &dir));
  const int signalled = simulation.SignalledPersons();
  ASSERT_GT(signalled, 100);
  ASSERT_LT(signalled, 300);  // some persons no agency saw
  EXPECT_EQ(linked.linked_records, static_cast<int>(simulation.records.size()));
  EXPECT_EQ(linked.persons, signalled);

  ASSERT_OK_AND_ASSIGN(auto from_linkage,
                       HistoriesOf(simulation, linked.person_of_record, Lists::kAgencies));
  // The simulator's own histories.csv, read by the estimator's reader.
  ASSERT_OK_AND_ASSIGN(estimate::CaptureTable truth,
                       estimate::CaptureTable::ReadCsvFile(dir + "/histories.csv"));
  EXPECT_EQ(from_linkage.lists, truth.list_names());
  EXPECT_EQ(from_linkage.counts, truth.counts());
  EXPECT_EQ(Persons(from_linkage), signalled);
  ASSERT_OK_AND_ASSIGN(estimate::CaptureTable table, ToTable(from_linkage));
  EXPECT_EQ(table.observed(), signalled);
}

TEST(EndToEnd, WithoutNoiseTheLinkedDomainHistoriesAreTheTrueOnes) {
  sim::Simulation simulation;
  LinkedSimulation linked;
  std::string dir;
  // Twelve agencies: police_2 and youth_care_2 share a domain with police and youth_care.
  ASSERT_NO_FATAL_FAILURE(SimulateAndLink(12, &simulation, &linked, &dir));
  ASSERT_OK_AND_ASSIGN(auto linked_domains,
                       HistoriesOf(simulation, linked.person_of_record, Lists::kDomains));
  ASSERT_OK_AND_ASSIGN(auto true_domains,
                       HistoriesOf(simulation, TruePersonOfRecord(simulation), Lists::kDomains));
  EXPECT_EQ(linked_domains.lists.size(), 10u);
  EXPECT_EQ(linked_domains.lists, true_domains.lists);
  EXPECT_EQ(linked_domains.counts, true_domains.counts);
  EXPECT_EQ(Persons(linked_domains), simulation.SignalledPersons());

  // Over the twelve agencies (more than the estimator takes, so not via histories.csv).
  ASSERT_OK_AND_ASSIGN(auto linked_agencies,
                       HistoriesOf(simulation, linked.person_of_record, Lists::kAgencies));
  ASSERT_OK_AND_ASSIGN(auto true_agencies,
                       HistoriesOf(simulation, TruePersonOfRecord(simulation), Lists::kAgencies));
  EXPECT_EQ(linked_agencies.lists.size(), 12u);
  EXPECT_EQ(linked_agencies.counts, true_agencies.counts);
}

}  // namespace
}  // namespace samenzicht::bench
