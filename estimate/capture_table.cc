#include "estimate/capture_table.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace samenzicht::estimate {
namespace {

absl::string_view StripCr(absl::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace

CaptureTable::CaptureTable(int num_lists, std::vector<int64_t> counts,
                           std::vector<std::string> list_names)
    : num_lists_(num_lists), counts_(std::move(counts)), list_names_(std::move(list_names)) {
  for (int64_t c : counts_) observed_ += c;
}

int64_t CaptureTable::Overlap(Mask term) const {
  int64_t total = 0;
  for (Mask h = 1; h < counts_.size(); ++h) {
    if ((h & term) == term) total += counts_[h];
  }
  return total;
}

absl::StatusOr<CaptureTable> CaptureTable::FromCounts(int num_lists, std::vector<int64_t> counts,
                                                      std::vector<std::string> list_names) {
  if (num_lists < kMinLists || num_lists > kMaxLists) {
    return absl::InvalidArgumentError(absl::StrCat("need between ", kMinLists, " and ", kMaxLists,
                                                   " lists, got ", num_lists));
  }
  if (counts.size() != (size_t{1} << num_lists)) {
    return absl::InvalidArgumentError(absl::StrCat("expected ", size_t{1} << num_lists,
                                                   " counts for ", num_lists, " lists, got ",
                                                   counts.size()));
  }
  if (counts[0] != 0) {
    return absl::InvalidArgumentError("the all-zero history cannot have a count");
  }
  int64_t total = 0;
  for (size_t h = 1; h < counts.size(); ++h) {
    if (counts[h] < 0 || counts[h] > kMaxCellCount) {
      return absl::InvalidArgumentError(
          absl::StrCat("count for history ", h, " out of range: ", counts[h]));
    }
    total += counts[h];
  }
  if (total == 0) return absl::InvalidArgumentError("the table holds no person");
  if (list_names.empty()) {
    for (int i = 0; i < num_lists; ++i) list_names.push_back(absl::StrCat("list", i + 1));
  } else if (static_cast<int>(list_names.size()) != num_lists) {
    return absl::InvalidArgumentError(absl::StrCat("expected ", num_lists, " list names, got ",
                                                   list_names.size()));
  }
  return CaptureTable(num_lists, std::move(counts), std::move(list_names));
}

absl::StatusOr<CaptureTable> CaptureTable::ParseCsv(absl::string_view text) {
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  size_t header_index = 0;
  while (header_index < lines.size() &&
         absl::StripAsciiWhitespace(StripCr(lines[header_index])).empty()) {
    ++header_index;
  }
  if (header_index == lines.size()) {
    return absl::InvalidArgumentError("empty input: expected a header list1,...,listK,count");
  }
  const int header_line = static_cast<int>(header_index) + 1;
  std::vector<std::string> header;
  for (absl::string_view field : absl::StrSplit(StripCr(lines[header_index]), ',')) {
    header.emplace_back(absl::StripAsciiWhitespace(field));
  }
  if (header.size() < 2 || absl::AsciiStrToLower(header.back()) != "count") {
    return absl::InvalidArgumentError(absl::StrCat(
        "line ", header_line, ": header must be list1,...,listK,count (last column 'count')"));
  }
  const int num_lists = static_cast<int>(header.size()) - 1;
  if (num_lists < kMinLists || num_lists > kMaxLists) {
    return absl::InvalidArgumentError(absl::StrCat("line ", header_line, ": need between ",
                                                   kMinLists, " and ", kMaxLists,
                                                   " list columns, got ", num_lists));
  }
  std::vector<std::string> names(header.begin(), header.end() - 1);
  for (int i = 0; i < num_lists; ++i) {
    if (names[i].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", header_line, ", column ", i + 1, ": empty list name"));
    }
  }

  std::vector<int64_t> counts(size_t{1} << num_lists, 0);
  std::vector<int> defined_on_line(counts.size(), 0);
  for (size_t li = header_index + 1; li < lines.size(); ++li) {
    const int line_no = static_cast<int>(li) + 1;
    absl::string_view line = StripCr(lines[li]);
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    std::vector<absl::string_view> fields = absl::StrSplit(line, ',');
    if (static_cast<int>(fields.size()) != num_lists + 1) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_no, ": expected ",
                                                     num_lists + 1, " fields, got ",
                                                     fields.size()));
    }
    Mask history = 0;
    for (int i = 0; i < num_lists; ++i) {
      absl::string_view v = absl::StripAsciiWhitespace(fields[i]);
      if (v == "1") {
        history |= Mask{1} << i;
      } else if (v != "0") {
        return absl::InvalidArgumentError(absl::StrCat("line ", line_no, ", column ", i + 1, " (",
                                                       names[i], "): expected 0 or 1, got '", v,
                                                       "'"));
      }
    }
    absl::string_view count_text = absl::StripAsciiWhitespace(fields[num_lists]);
    int64_t count = 0;
    bool digits_only = !count_text.empty();
    for (char c : count_text) digits_only = digits_only && absl::ascii_isdigit(c);
    if (!digits_only || !absl::SimpleAtoi(count_text, &count) || count > kMaxCellCount) {
      return absl::InvalidArgumentError(absl::StrCat(
          "line ", line_no, ", column ", num_lists + 1,
          " (count): expected a non-negative integer of at most ", kMaxCellCount, ", got '",
          count_text, "'"));
    }
    if (history == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "line ", line_no, ": the all-zero history (on no list) cannot be observed"));
    }
    if (defined_on_line[history] != 0) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_no,
                                                     ": capture history repeats line ",
                                                     defined_on_line[history]));
    }
    defined_on_line[history] = line_no;
    counts[history] = count;
  }
  int64_t total = 0;
  for (int64_t c : counts) total += c;
  if (total == 0) {
    return absl::InvalidArgumentError("the table holds no person (all counts are zero)");
  }
  for (int i = 0; i < num_lists; ++i) {
    int64_t on_list = 0;
    for (size_t h = 1; h < counts.size(); ++h) {
      if (h & (size_t{1} << i)) on_list += counts[h];
    }
    if (on_list == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "column ", i + 1, " (", names[i],
          "): the list holds no person; a list that saw no one cannot be used in the "
          "estimate (remove the column or check the list's data)"));
    }
  }
  return CaptureTable(num_lists, std::move(counts), std::move(names));
}

absl::StatusOr<CaptureTable> CaptureTable::ReadCsvFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("cannot read ", path));
  absl::StatusOr<CaptureTable> table = ParseCsv(buffer.str());
  if (!table.ok()) {
    return absl::Status(table.status().code(),
                        absl::StrCat(path, ": ", table.status().message()));
  }
  return table;
}

}  // namespace samenzicht::estimate
