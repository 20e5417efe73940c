// An RFC 4180 CSV reader for the agencies' signal exports.
//
// Text with a header row; fields separated by commas, semicolons or tabs (whichever the
// header row uses most, outside quotes: Dutch spreadsheet programs save `;`); a field may be
// quoted with `"`, in which case it may hold separators, line breaks and doubled quotes
// (`""` -> `"`). UTF-8 is read as it is; a file that is not UTF-8 is converted when it
// starts with a UTF-16 byte-order mark, or when ICU's charset detection finds Latin-1 or
// Windows-1252 (what older case systems and spreadsheet programs write) and the file holds
// no valid multi-byte UTF-8 sequence; `notices` says so (never with field text).
// Lines end in LF or CRLF; a leading UTF-8 byte-order mark is skipped; blank lines are
// ignored.
//
// Every record carries the physical line (1-based, the header is line 1) on which it
// starts. A record that cannot be parsed (an unterminated quote, a stray quote, a wrong
// number of fields, invalid UTF-8, an embedded NUL byte) is listed in `errors` by line and
// skipped; reading continues with the line after the one it started on, also when a stray
// quote ran on to a later line, so one stray quote costs one record. Every non-blank line
// after the header is either part of a record or the first line of an error: nothing is
// lost without a word. Error messages never contain field text: the fields may hold
// identifiers.
//
//   ASSIGN_OR_RETURN(CsvFile csv, ReadCsvFile(path));
//   for (const CsvRecord& r : csv.records) { ... r.line, r.fields[i] ... }
//
// Thread-safety: free functions without shared state.
#ifndef SAMENZICHT_AGENCY_NODE_CSV_H_
#define SAMENZICHT_AGENCY_NODE_CSV_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace samenzicht::agency_node {

struct CsvRecord {
  int line = 0;                      // physical line the record starts on
  std::vector<std::string> fields;   // exactly header.size() fields
  int lines = 1;                     // physical lines it spans (quoted line breaks)
};

struct CsvError {
  int line = 0;
  std::string message;               // what is wrong; never the field text
};

struct CsvFile {
  std::vector<std::string> header;
  std::vector<CsvRecord> records;
  std::vector<CsvError> errors;      // skipped records, in file order
  int data_line = 2;                 // the first line after the header
  char separator = ',';              // ',', ';' or '\t'
  std::string encoding = "UTF-8";    // what the file was read as (then converted to UTF-8)
  std::vector<std::string> notices;  // about the whole file (a conversion); no field text
};

// No identifier or category is anywhere near this long; a longer field makes its record
// an error (skipped, named by line), so a hostile export cannot make the node normalise
// megabytes per cell.
inline constexpr size_t kMaxFieldBytes = 4096;

// Parses `text`. InvalidArgument when there is no header row or the header itself cannot
// be parsed (the whole file is refused: without a header no record can be read).
absl::StatusOr<CsvFile> ParseCsv(std::string_view text);

// Reads and parses `path`: NotFound / PermissionDenied naming the path, or ParseCsv's
// errors prefixed with the path.
absl::StatusOr<CsvFile> ReadCsvFile(const std::string& path);

// True when `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF).
bool IsValidUtf8(std::string_view s);

}  // namespace samenzicht::agency_node

#endif  // SAMENZICHT_AGENCY_NODE_CSV_H_
