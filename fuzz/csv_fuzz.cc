// libFuzzer target: the agency node's CSV reader and signal parser on arbitrary bytes.
// Whatever the input, ParseCsv must return (a Status or records with line numbers), every
// field it returns must be valid UTF-8 when the reader accepted the file, and ParseSignals
// must never crash on what the reader produced.
//
// Nothing is lost without a word: every non-blank physical line after the header is
// covered by exactly one record (its first line up to the lines it spans) or is the line of
// exactly one error, and the signal parser accounts for every record:
// read = signals + skipped, each skipped one named by a line.
#include <unicode/ucnv.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "agency_node/csv.h"
#include "agency_node/normalise.h"
#include "agency_node/signal.h"

using namespace samenzicht::agency_node;

namespace {

// The physical lines of `text` (split at '\n'; no empty last line after a final '\n').
std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    out.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

// The text whose lines the reader numbered: the bytes themselves, or for a UTF-16 file (the
// reader converts it from its byte-order mark on) the converted text, whose line breaks are
// not the raw bytes' (a 0x0A byte can be half of a character). One-byte charsets keep every
// line break where it was, so their raw lines are the reader's lines.
std::string ReadersText(std::string_view text, const CsvFile& csv) {
  if (csv.encoding != "UTF-16LE" && csv.encoding != "UTF-16BE") return std::string(text);
  std::string_view body = text.substr(2);
  UErrorCode err = U_ZERO_ERROR;
  const int32_t need = ucnv_convert("UTF-8", csv.encoding.c_str(), nullptr, 0, body.data(),
                                    static_cast<int32_t>(body.size()), &err);
  if (err != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(err)) std::abort();
  std::string out(static_cast<size_t>(need), '\0');
  err = U_ZERO_ERROR;
  ucnv_convert("UTF-8", csv.encoding.c_str(), out.data(), need, body.data(),
               static_cast<int32_t>(body.size()), &err);
  if (U_FAILURE(err)) std::abort();
  return out;
}

void CheckEveryLineIsAccounted(std::string_view text, const CsvFile& csv) {
  const std::vector<std::string_view> lines = Lines(text);
  // covered[l]: how many records or errors claim line l (1-based).
  std::vector<int> covered(lines.size() + 2, 0);
  auto claim = [&](int line) {
    if (line < csv.data_line || line > static_cast<int>(lines.size())) std::abort();
    ++covered[line];
  };
  for (const CsvRecord& r : csv.records) {
    if (r.lines < 1) std::abort();
    for (int l = r.line; l < r.line + r.lines; ++l) {
      // A record's last line may be the end of the text without a line of its own.
      if (l <= static_cast<int>(lines.size())) claim(l);
    }
  }
  for (const CsvError& e : csv.errors) claim(e.line);
  for (int l = csv.data_line; l <= static_cast<int>(lines.size()); ++l) {
    if (covered[l] > 1) std::abort();  // two records or errors on one line
    const std::string_view s = lines[l - 1];
    const bool blank = s.empty() || s == "\r";
    if (covered[l] == 0 && !blank) std::abort();  // a line lost without a word
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Normaliser* normaliser = Normaliser::New()->release();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto csv = ParseCsv(text);
  if (!csv.ok()) return 0;
  for (const auto& r : csv->records) {
    if (r.fields.size() != csv->header.size()) std::abort();
    for (const auto& f : r.fields) {
      if (!IsValidUtf8(f)) std::abort();
    }
  }
  CheckEveryLineIsAccounted(ReadersText(text, *csv), *csv);
  SignalOptions options;
  options.today = Date{2025, 6, 30};
  auto signals = ParseSignals(*csv, *normaliser, options);
  if (signals.ok()) {
    // read = sent + skipped: every record becomes a signal or a named skip.
    if (signals->records_read != static_cast<int>(csv->records.size() + csv->errors.size())) {
      std::abort();
    }
    if (signals->records_read !=
        static_cast<int>(signals->signals.size() + signals->skipped.size())) {
      std::abort();
    }
    for (const auto& s : signals->skipped) {
      if (s.line < csv->data_line || s.message.empty()) std::abort();
    }
  }
  return 0;
}
