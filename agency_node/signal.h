// From parsed CSV records to signals: one report's categories plus the person's
// normalised identifiers (see the CSV contract in the README).
//
// Columns may come in any order; header names are matched case-insensitively. Known
// columns: identifiers `record_id` (required), `given_names`, `surname`, `date_of_birth`,
// `gender`, `national_id`, `national_id_scheme` (the scheme of `national_id`: empty or `bsn`
// for a BSN, else a scheme of the profile; agency_node/national_id.h), `phone`, `email`,
// `postcode`, `street`, `house_number`, `city`;
// categories `form`, `contact`, `age_band`, `background`, `living_situation`,
// `recruitment_location`, `coercion`, `forced_crime`, `area`, `signal_date` (`gender` is
// both). Multi-valued categories separate values with `;`. Empty cells mean unknown.
//
// Three levels of trouble:
//  - the file: an unknown or repeated column, or no `record_id` column -> InvalidArgument
//    naming unknown columns by position only (a file without a header row has a record in
//    its first row: its values are never echoed) and repeated ones by their known name;
//    nothing is read;
//  - a record: no record_id, a record_id seen before, or a CSV error -> `skipped`, by line;
//    and a category, `area` or `signal_date` cell that does not parse (a word that is
//    neither the English word nor a Dutch word or synonym of the README's table, an area
//    that is not configured, an impossible or future date) -> `skipped`, naming line,
//    record id and column and listing the valid words: the record is not sent, rather than
//    sent with the field blanked (it would silently drop out of that category's figures);
//  - an identifier field: a value that does not parse (impossible date of birth, BSN
//    failing the eleven-test, a national id failing its scheme's check, a phone number ...)
//    -> `warnings`, naming line, record id and column; the identifier is not used for
//    tokens and the record still goes.
// Category words are matched case-insensitively, with spaces and hyphens read as '_'
// ("Seksuele uitbuiting", "0-12").
// No message ever holds a field's value. `street` is kept only as its phonetic code
// (FIELD_STREET_PHONETIC, used by profile version 8 with the house number); `city` as its
// folded letters and their phonetic code.
//
// Thread-safety: free functions; `Normaliser` is thread-safe.
#ifndef SAMENZICHT_AGENCY_NODE_SIGNAL_H_
#define SAMENZICHT_AGENCY_NODE_SIGNAL_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agency_node/csv.h"
#include "agency_node/national_id.h"
#include "agency_node/normalise.h"
#include "agency_node/person.h"
#include "samenzicht/v1/report.pb.h"

namespace samenzicht::agency_node {

struct SignalOptions {
  // Accepted `area` codes (NodeConfig.areas); empty: any code of [a-z0-9_-].
  std::vector<std::string> areas;
  // Dates after this are refused; two-digit years pivot on it.
  Date today = Today();
  // The national id schemes of the linkage profile (default: the BSN only).
  NationalIds national_ids;
};

struct Signal {
  int line = 0;
  std::string record_id;
  v1::Report report;  // categories and signal month; no report id, no tokens yet
  Person person;
};

// A skipped record or a field warning. `field` is the column name, or "" for the row.
struct RecordIssue {
  int line = 0;
  std::string record_id;  // "" when not known
  std::string field;
  std::string message;    // never holds a field value
};

// "line 7, record R-12, field date_of_birth: impossible date".
std::string FormatIssue(const RecordIssue& issue);

struct SignalFile {
  std::vector<Signal> signals;
  std::vector<RecordIssue> skipped;   // one per record not sent
  std::vector<RecordIssue> warnings;
  int records_read = 0;  // data records in the file, parsed or not
};

// InvalidArgument for unknown columns (all, by position), a repeated column, or no
// `record_id`.
absl::StatusOr<SignalFile> ParseSignals(const CsvFile& csv, const Normaliser& normaliser,
                                        const SignalOptions& options);

// The age band for a person born on `dob` at `at`: 0..12, 13..17, 18..26, 27+.
v1::AgeBand AgeBandAt(const Date& dob, const Date& at);

}  // namespace samenzicht::agency_node

#endif  // SAMENZICHT_AGENCY_NODE_SIGNAL_H_
