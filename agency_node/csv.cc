#include "agency_node/csv.h"

#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "common/status_macros.h"

namespace samenzicht::agency_node {
namespace {

// Result of reading one record starting at a given offset.
struct RawRecord {
  std::vector<std::string> fields;
  size_t next = 0;        // offset just after the record's line end
  int lines = 1;          // physical lines the record spans
  std::string error;      // non-empty: the record is malformed
  size_t resume = 0;      // when malformed: where to continue (start of a later line)
};

size_t NextLineStart(std::string_view text, size_t pos) {
  size_t nl = text.find('\n', pos);
  return nl == std::string_view::npos ? text.size() : nl + 1;
}

// `expected_fields`: the header's field count, to size the record once (0 when unknown).
RawRecord ReadRecord(std::string_view text, size_t start, size_t expected_fields) {
  RawRecord r;
  r.fields.reserve(expected_fields);
  std::string field;
  size_t i = start;
  const size_t n = text.size();
  // A malformed record costs its first line only: reading resumes on the line after the
  // one it started on, wherever the error was found. A stray opening quote can make the
  // reader run on to a later quote (`"LINDEN, VAN DER"`) and find the error lines further
  // down; resuming there would swallow every row in between without a word.
  auto fail = [&](std::string msg) {
    r.error = std::move(msg);
    r.resume = NextLineStart(text, start);
    return r;
  };
  while (true) {
    // At the start of a field.
    if (i < n && text[i] == '"') {
      ++i;
      bool closed = false;
      while (i < n) {
        char c = text[i];
        if (c == '"') {
          if (i + 1 < n && text[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        if (c == '\n') ++r.lines;
        field.push_back(c);
        ++i;
      }
      if (!closed) return fail("unterminated quoted field");
      if (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
        return fail("unexpected character after a closing quote");
      }
    } else {
      const size_t begin = i;
      while (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
        if (text[i] == '"') return fail("quote inside an unquoted field");
        ++i;
      }
      field.assign(text.substr(begin, i - begin));
    }
    r.fields.push_back(std::move(field));
    field.clear();
    if (i >= n) {
      r.next = n;
      return r;
    }
    if (text[i] == ',') {
      ++i;
      continue;
    }
    if (text[i] == '\r') {
      if (i + 1 < n && text[i + 1] == '\n') {
        r.next = i + 2;
        return r;
      }
      if (i + 1 >= n) {
        r.next = n;
        return r;
      }
      return fail("carriage return inside an unquoted field");
    }
    // '\n'
    r.next = i + 1;
    return r;
  }
}

bool IsBlankLine(std::string_view text, size_t pos) {
  return (pos < text.size() && text[pos] == '\n') ||
         (pos + 1 < text.size() && text[pos] == '\r' && text[pos + 1] == '\n');
}

// Lines between `from` and `to` (count of '\n').
int CountLines(std::string_view text, size_t from, size_t to) {
  int c = 0;
  for (size_t i = from; i < to && i < text.size(); ++i) c += text[i] == '\n';
  return c;
}

std::string CheckFields(const std::vector<std::string>& fields) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].find('\0') != std::string::npos) {
      return absl::StrCat("NUL byte in field ", i + 1);
    }
    if (!IsValidUtf8(fields[i])) return absl::StrCat("invalid UTF-8 in field ", i + 1);
    if (fields[i].size() > kMaxFieldBytes) {
      return absl::StrCat("field ", i + 1, " is longer than ", kMaxFieldBytes, " bytes");
    }
  }
  return "";
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    int len;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (int k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return false;
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;
    i += len;
  }
  return true;
}

absl::StatusOr<CsvFile> ParseCsv(std::string_view text) {
  CsvFile out;
  size_t pos = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") pos = 3;
  int line = 1;
  // Skip leading blank lines before the header.
  while (IsBlankLine(text, pos)) {
    pos = NextLineStart(text, pos);
    ++line;
  }
  if (pos >= text.size()) return absl::InvalidArgumentError("empty file: no header row");
  {
    RawRecord h = ReadRecord(text, pos, 0);
    if (!h.error.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line, ": header: ", h.error));
    }
    std::string bad = CheckFields(h.fields);
    if (!bad.empty()) return absl::InvalidArgumentError(absl::StrCat("line ", line, ": header: ", bad));
    out.header = std::move(h.fields);
    pos = h.next;
    line += h.lines;
    out.data_line = line;
  }
  while (pos < text.size()) {
    if (IsBlankLine(text, pos)) {
      pos = NextLineStart(text, pos);
      ++line;
      continue;
    }
    RawRecord r = ReadRecord(text, pos, out.header.size());
    if (!r.error.empty()) {
      out.errors.push_back({line, r.error});
      line += CountLines(text, pos, r.resume);
      pos = r.resume;
      continue;
    }
    std::string bad;
    if (r.fields.size() != out.header.size()) {
      bad = absl::StrCat("expected ", out.header.size(), " fields, found ", r.fields.size());
    } else {
      bad = CheckFields(r.fields);
    }
    if (!bad.empty()) {
      out.errors.push_back({line, std::move(bad)});
      if (r.lines > 1) {
        // A bad record that ran over several lines (a stray quote closed by a later one):
        // only its first line is lost; the lines after it are read as records again.
        pos = NextLineStart(text, pos);
        ++line;
        continue;
      }
    } else {
      out.records.push_back({line, std::move(r.fields), r.lines});
    }
    pos = r.next;
    line += r.lines;
  }
  return out;
}

absl::StatusOr<CsvFile> ReadCsvFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, files::ReadFile(path));
  auto parsed = ParseCsv(text);
  if (!parsed.ok()) {
    return absl::Status(parsed.status().code(),
                        absl::StrCat(path, ": ", parsed.status().message()));
  }
  return parsed;
}

}  // namespace samenzicht::agency_node
