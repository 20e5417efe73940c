// The `aggregator estimate` sub-command.
//
//   aggregator estimate --in HISTORIES.csv [--method bic|stepwise]
//       [--max-order N] [--format json|table] [--replicates N] [--seed N]
//       [--p-threshold P] [--bootstrap-models N] [--no-profile] [--help]
//
// Reads a capture-history table (columns list1..listK,count; see
// capture_table.h), runs `Estimate` (estimate.h) and prints the estimate,
// the bootstrap interval (percentile by default, BCa on request), the profile likelihood
// interval and the chosen model to stdout.
#ifndef SAMENZICHT_ESTIMATE_ESTIMATE_COMMAND_H_
#define SAMENZICHT_ESTIMATE_ESTIMATE_COMMAND_H_

#include <iosfwd>
#include <string>

#include "absl/strings/string_view.h"
#include "estimate/estimate.h"

namespace samenzicht::estimate {

// `argv[0]` is "estimate"; the rest are its flags (`--flag value` or
// `--flag=value`). Prints the result to stdout and returns 0 (also when the
// result is "no reliable estimate", which is an answer, not a failure).
// On error prints one line starting with "error: " to stderr and returns 2
// for usage errors (unknown or malformed flags, missing --in, options that do
// not fit the table) or 1 otherwise (unreadable or invalid input, internal
// failure). `--help` prints usage to stdout, headed "usage: PROGRAM --in ...", and returns
// 0; `program` is how the command is called ("mse-estimate" for the standalone binary).
int RunEstimateCommand(int argc, char** argv,
                       absl::string_view program = "aggregator estimate");

// Same, writing to the given streams (for tests).
int RunEstimateCommand(int argc, char** argv, std::ostream& out, std::ostream& err,
                       absl::string_view program = "aggregator estimate");

// Renderings of a result, as printed by the command.
std::string FormatJson(const EstimateResult& result);
std::string FormatTable(const EstimateResult& result);

}  // namespace samenzicht::estimate

#endif  // SAMENZICHT_ESTIMATE_ESTIMATE_COMMAND_H_
