// The real pipeline on a simulated municipality, for benchmarks and their tests: the
// simulator's agency exports go through `agency-node keygen`, `agency-node pseudonymise
// --map --profile` (one run per agency) and `aggregator link --profile`, as an operator
// would run them. The result maps every simulated record to the person the aggregator
// linked it to.
//
//   RETURN_IF_ERROR(sim::WriteSimulation(simulation, dir));
//   ASSIGN_OR_RETURN(LinkedSimulation linked,
//                    PseudonymiseAndLink(tools, simulation, dir, profile, dir + "/default"));
//   int person = linked.person_of_record[i];  // -1: record i gave no report
#ifndef SAMENZICHT_BENCH_COMMON_PIPELINE_H_
#define SAMENZICHT_BENCH_COMMON_PIPELINE_H_

#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "simulator/simulator.h"

namespace samenzicht::bench {

// Runs `argv` (argv[0] a path) with stdout and stderr into `log`. InternalError naming the
// command, its exit code and the tail of the log when it exits neither 0 nor `also_ok`.
absl::Status RunCommand(const std::vector<std::string>& argv, const std::string& log,
                        int also_ok = 0);

// `agency-node pseudonymise`'s exit status when every record was written, some without an
// identifier that did not parse (README, exit codes): what simulated exports with noise give,
// on purpose.
inline constexpr int kExitFieldsNotUsed = 4;

// A new folder $TMPDIR/<name>.XXXXXX (or under /tmp).
absl::StatusOr<std::string> MakeTempDir(const std::string& name);

struct Tools {
  std::string agency_node;  // path of the agency-node binary
  std::string aggregator;   // path of the aggregator binary
};

struct LinkedSimulation {
  std::vector<std::string> jsonl;  // pseudonymised reports, one file per agency (in order)
  // Report id -> index into Simulation::records, from the pseudonymiser's --map files.
  std::unordered_map<std::string, int> record_of_report;
  // Per record: the linked person, numbered 0, 1, ... in order of first appearance in the
  // linkage output; -1 when the record gave no report.
  std::vector<int> person_of_record;
  int persons = 0;         // distinct persons in the linkage output
  int linked_records = 0;  // records with a report
};

// `agency-node keygen --out key` (log next to the key).
absl::Status MakeKey(const Tools& tools, const std::string& key);

// Pseudonymises the agencies' CSV files that `WriteSimulation(simulation, sim_dir)` wrote,
// with `key` and the linkage profile `profile`, and links all reports with that profile.
// Outputs and logs go to `out_dir` (created). Errors name the command or file.
absl::StatusOr<LinkedSimulation> PseudonymiseAndLink(const Tools& tools,
                                                     const simulator::Simulation& simulation,
                                                     const std::string& sim_dir,
                                                     const std::string& key,
                                                     const std::string& profile,
                                                     const std::string& out_dir);

}  // namespace samenzicht::bench

#endif  // SAMENZICHT_BENCH_COMMON_PIPELINE_H_
