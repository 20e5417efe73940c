// Offline linkage for `aggregator link`: reads pseudonymised reports (JSON lines as written
// by `agency-node pseudonymise`: the protobuf JSON of samenzicht.v1.Report, tokens as
// {rule, value} with base64 values) and assigns every report a person.
//
//   std::ostringstream warnings;
//   ASSIGN_OR_RETURN(LinkSummary s, LinkJsonlFiles({"police.jsonl", "zorg.jsonl"}, 50,
//                                                  &persons_csv, &warnings));
//
// Output: `report_id,person_id` with a header row, one row per input report in input
// order. Person ids are small integers 1, 2, 3, ... numbered in order of each person's first
// report in the input; they are stable for the same input and mean nothing else.
// A line that does not parse is reported (file:line, never its content) and skipped; a token
// of the wrong length is reported and left out of that report's linkage. Tokens shared by
// more than `max_reports_per_token` reports are not used to join (see linkage.h).
//
// Runs over the agencies' raw tokens in memory; writes nothing but `out`.
#ifndef SAMENZICHT_AGGREGATOR_LINKAGE_OFFLINE_LINK_H_
#define SAMENZICHT_AGGREGATOR_LINKAGE_OFFLINE_LINK_H_

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "samenzicht/v1/profile.pb.h"

namespace samenzicht::aggregator {

struct LinkSummary {
  uint64_t reports = 0;
  uint64_t persons = 0;
  uint64_t unlinkable = 0;        // reports without any usable token
  uint64_t skipped_lines = 0;     // lines that did not parse
  uint64_t ambiguous_probe_reports = 0;  // probe reports that met several persons (linkage.h)
  std::map<std::string, uint64_t> oversized_tokens;  // per rule
  // Probabilistic linkage (profile method LINKAGE_METHOD_FELLEGI_SUNTER) only:
  bool probabilistic = false;
  uint64_t candidate_pairs = 0;
  double estimated_false_links = 0;   // from the fitted model (probabilistic_linkage.h)
  double estimated_missed_links = 0;  // persons that may be counted twice
  std::string model;                  // DescribeModel of the fitted model
};

// NotFound / PermissionDenied for an input that cannot be read. Writes the CSV to `out`
// and one warning line per skipped line or token to `warnings`. Links as `profile` says
// (its method, threshold and rules; probabilistic_linkage.h). `explain`, when set, gets one
// CSV row per candidate pair with a posterior of at least 0.01: both report ids, the rules
// whose tokens they share, the level per comparison, the match weight, the posterior and
// whether they were linked (tokens and rule names only, never a token value).
absl::StatusOr<LinkSummary> LinkJsonlFiles(const std::vector<std::string>& inputs,
                                           const v1::LinkageProfile& profile, std::ostream* out,
                                           std::ostream* warnings, std::ostream* explain);
// The same with a profile that has only `max_reports_per_token` (any-shared-token linkage).
absl::StatusOr<LinkSummary> LinkJsonlFiles(const std::vector<std::string>& inputs,
                                           uint32_t max_reports_per_token, std::ostream* out,
                                           std::ostream* warnings);

// One line for the operator: "reports=.. persons=.. unlinkable=.. oversized_tokens_ignored=..
// skipped_lines=.. ambiguous_probe_reports=..".
std::string FormatSummary(const LinkSummary& s);

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_LINKAGE_OFFLINE_LINK_H_
