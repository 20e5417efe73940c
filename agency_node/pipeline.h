// The path shared by `pseudonymise` and `submit`: CSV file -> signals -> reports with
// tokens (no report ids yet), plus logging of what was skipped or warned about.
//
// The identifiers of each signal are dropped (the Person is cleared) as soon as its
// tokens are made; the result holds record ids, categories and tokens only.
//
// Thread-safety: free functions.
#ifndef SAMENZICHT_AGENCY_NODE_PIPELINE_H_
#define SAMENZICHT_AGENCY_NODE_PIPELINE_H_

#include <memory>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "absl/status/statusor.h"
#include "agency_node/signal.h"
#include "agency_node/tokeniser.h"
#include "samenzicht/v1/profile.pb.h"
#include "samenzicht/v1/report.pb.h"

namespace samenzicht::agency_node {

struct PreparedReports {
  std::vector<std::string> record_ids;  // parallel to `reports`
  std::vector<v1::Report> reports;      // categories and tokens; report_id not yet set
  std::vector<RecordIssue> skipped;
  std::vector<RecordIssue> warnings;
  std::vector<std::string> notices;     // about the whole file (CsvFile::notices)
  int records_read = 0;

  // True when a record was not sent (skipped: a CSV error, a bad record id, a category,
  // area or signal date that does not parse): the run did not bring the export over whole
  // (`submit` and `pseudonymise` exit with kExitRecordsSkipped, the daemon moves the file
  // to failed/). An identifier left out (`warnings`) does not make it incomplete: the
  // record is sent and counted in every figure; only its linkage has less to go on.
  bool incomplete() const { return !skipped.empty(); }
  // True when every record was sent but some without an identifier that did not parse
  // (`warnings`): `submit` and `pseudonymise` exit with kExitFieldsNotUsed, the daemon moves
  // the file to failed/ with the rows named, so the identifiers get corrected in the case
  // system (the corrected export then corrects those reports).
  bool degraded() const { return skipped.empty() && !warnings.empty(); }
  // The records that went without an identifier (one per record, however many fields).
  int degraded_records() const;
};

// Reads `csv_path`, parses and tokenises. The errors of ReadCsvFile and ParseSignals
// (whole-file problems); record and field problems are in the result.
absl::StatusOr<PreparedReports> PrepareReports(const std::string& csv_path,
                                               const Normaliser& normaliser,
                                               const Tokeniser& tokeniser,
                                               const SignalOptions& options);

// Logs the file's notices (warn), every skipped record (error) and warning (warn) on `log`,
// one line each.
// With `file`, each line starts with "<file>: ".
void LogIssues(const PreparedReports& prepared, spdlog::logger& log, const std::string& file = "");

// A tokeniser for `profile` with the hashing key in `key_file` (its epoch from the file).
// The errors of LoadKeyFile and Tokeniser::New.
absl::StatusOr<std::unique_ptr<Tokeniser>> TokeniserFromKeyFile(const v1::LinkageProfile& profile,
                                                                const std::string& key_file);

}  // namespace samenzicht::agency_node

#endif  // SAMENZICHT_AGENCY_NODE_PIPELINE_H_
