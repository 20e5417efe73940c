#include "agency_node/csv.h"

#include <unicode/ucnv.h>
#include <unicode/ucsdet.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <memory>

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
RawRecord ReadRecord(std::string_view text, size_t start, size_t expected_fields, char sep) {
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
      if (i < n && text[i] != sep && text[i] != '\n' && text[i] != '\r') {
        return fail("unexpected character after a closing quote");
      }
    } else {
      const size_t begin = i;
      while (i < n && text[i] != sep && text[i] != '\n' && text[i] != '\r') {
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
    if (text[i] == sep) {
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


// The separator of the file: whichever of ',', ';' and TAB occurs most often outside
// quotes in its first non-blank line (the header), ',' when none does or on a tie with it.
// Dutch spreadsheet programs save ';' (the comma is the decimal sign there); "Unicode text"
// exports use TAB.
char DetectSeparator(std::string_view text, size_t header_start) {
  int commas = 0, semicolons = 0, tabs = 0;
  bool quoted = false;
  for (size_t i = header_start; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    if (c == '\n') break;
    commas += c == ',';
    semicolons += c == ';';
    tabs += c == '\t';
  }
  if (semicolons > commas && semicolons >= tabs) return ';';
  if (tabs > commas && tabs > semicolons) return '\t';
  return ',';
}

// Valid multi-byte UTF-8 sequences in `s` (a file that has them is UTF-8, whatever else it
// holds: converting it from a one-byte charset would garble every accented letter).
int Utf8MultiByteSequences(std::string_view s) {
  int count = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  for (size_t i = 0; i < s.size(); ++i) {
    if (p[i] < 0xC2 || p[i] > 0xF4) continue;
    const size_t len = p[i] < 0xE0 ? 2 : p[i] < 0xF0 ? 3 : 4;
    if (i + len <= s.size() && IsValidUtf8(s.substr(i, len))) {
      ++count;
      i += len - 1;
    }
  }
  return count;
}

// `bytes` in the ICU charset `from`, as UTF-8.
absl::StatusOr<std::string> ConvertToUtf8(std::string_view bytes, const char* from) {
  if (bytes.size() > static_cast<size_t>(INT32_MAX / 4)) {
    return absl::InvalidArgumentError("file too large to convert to UTF-8");
  }
  UErrorCode err = U_ZERO_ERROR;
  const int32_t need = ucnv_convert("UTF-8", from, nullptr, 0, bytes.data(),
                                    static_cast<int32_t>(bytes.size()), &err);
  if (err != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(err)) {
    return absl::InternalError(absl::StrCat("cannot convert from ", from, " (", u_errorName(err), ")"));
  }
  std::string out(static_cast<size_t>(need), '\0');
  err = U_ZERO_ERROR;
  ucnv_convert("UTF-8", from, out.data(), need, bytes.data(), static_cast<int32_t>(bytes.size()),
               &err);
  if (U_FAILURE(err)) {
    return absl::InternalError(absl::StrCat("cannot convert from ", from, " (", u_errorName(err), ")"));
  }
  return out;
}

struct CharsetGuess {
  std::string name;    // ICU's name: "ISO-8859-1", "windows-1252", ...
  int confidence = 0;  // 0..100
};

bool IsLatinCharset(std::string_view n) {
  return n == "ISO-8859-1" || n == "windows-1252" || n == "ISO-8859-15";
}

// ICU's charset detection: the first of its matches for `bytes` that is ISO-8859-1,
// windows-1252 or ISO-8859-15, else its best match.
CharsetGuess DetectCharset(std::string_view bytes) {
  CharsetGuess best;
  UErrorCode err = U_ZERO_ERROR;
  std::unique_ptr<UCharsetDetector, void (*)(UCharsetDetector*)> det(ucsdet_open(&err),
                                                                      ucsdet_close);
  if (U_FAILURE(err)) return best;
  const int32_t len = static_cast<int32_t>(std::min<size_t>(bytes.size(), INT32_MAX));
  ucsdet_setText(det.get(), bytes.data(), len, &err);
  int32_t found = 0;
  const UCharsetMatch** matches = ucsdet_detectAll(det.get(), &found, &err);
  if (U_FAILURE(err)) return best;
  for (int32_t i = 0; i < found; ++i) {
    UErrorCode e = U_ZERO_ERROR;
    const char* name = ucsdet_getName(matches[i], &e);
    const int32_t confidence = ucsdet_getConfidence(matches[i], &e);
    if (U_FAILURE(e) || name == nullptr) continue;
    if (best.name.empty()) best = {name, confidence};
    if (IsLatinCharset(name)) return {name, confidence};
  }
  return best;
}

// The text of a file that is not UTF-8, converted (UTF-16 with a byte-order mark, or a
// Latin one-byte charset detected by ICU), with a notice in `out`; nothing when the file is
// read as it is: UTF-8, or UTF-8 with a few invalid bytes, or another charset (the records
// holding invalid UTF-8 are then skipped one by one).
absl::StatusOr<std::optional<std::string>> DecodeToUtf8(std::string_view text, CsvFile& out) {
  if (text.size() >= 2 && ((text[0] == '\xFF' && text[1] == '\xFE') ||
                           (text[0] == '\xFE' && text[1] == '\xFF'))) {
    const char* from = text[0] == '\xFF' ? "UTF-16LE" : "UTF-16BE";
    ASSIGN_OR_RETURN(std::string converted, ConvertToUtf8(text.substr(2), from));
    out.encoding = from;
    out.notices.push_back(absl::StrCat("the file is ", from, " (byte-order mark): converted to UTF-8"));
    return std::optional<std::string>(std::move(converted));
  }
  if (IsValidUtf8(text)) return std::optional<std::string>();
  if (Utf8MultiByteSequences(text) > 0) {
    out.notices.push_back(
        "the file is UTF-8 with some invalid bytes: it is read as UTF-8 and the records holding "
        "invalid bytes are skipped");
    return std::optional<std::string>();
  }
  const CharsetGuess guess = DetectCharset(text);
  if (!IsLatinCharset(guess.name)) {
    out.notices.push_back(absl::StrCat(
        "the file is not UTF-8 and its character set was not recognised as Latin-1 or "
        "Windows-1252 (best guess: ", guess.name.empty() ? "none" : guess.name,
        "): the records holding other bytes are skipped; save the export as UTF-8"));
    return std::optional<std::string>();
  }
  // Windows-1252 is Latin-1 with printable characters in 0x80-0x9F (where Latin-1 has
  // unused control codes): reading Latin-1 text as Windows-1252 gives the same letters.
  const char* from = guess.name == "ISO-8859-15" ? "ISO-8859-15" : "windows-1252";
  ASSIGN_OR_RETURN(std::string converted, ConvertToUtf8(text, from));
  out.encoding = from;
  out.notices.push_back(absl::StrCat("the file is not UTF-8: read as ", from,
                                     " (ICU charset detection, confidence ", guess.confidence,
                                     "%) and converted to UTF-8; saving exports as UTF-8 "
                                     "avoids the guess"));
  return std::optional<std::string>(std::move(converted));
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
  ASSIGN_OR_RETURN(std::optional<std::string> decoded, DecodeToUtf8(text, out));
  if (decoded.has_value()) text = *decoded;
  size_t pos = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") pos = 3;
  int line = 1;
  // Skip leading blank lines before the header.
  while (IsBlankLine(text, pos)) {
    pos = NextLineStart(text, pos);
    ++line;
  }
  if (pos >= text.size()) return absl::InvalidArgumentError("empty file: no header row");
  const char sep = DetectSeparator(text, pos);
  out.separator = sep;
  {
    RawRecord h = ReadRecord(text, pos, 0, sep);
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
    RawRecord r = ReadRecord(text, pos, out.header.size(), sep);
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
