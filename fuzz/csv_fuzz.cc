// libFuzzer target: the agency node's CSV reader and signal parser on arbitrary bytes.
// Whatever the input, ParseCsv must return (a Status or records with line numbers), every
// field it returns must be valid UTF-8 when the reader accepted the file, and ParseSignals
// must never crash on what the reader produced.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agency_node/csv.h"
#include "agency_node/normalise.h"
#include "agency_node/signal.h"

using namespace samenzicht::agency_node;

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
  SignalOptions options;
  options.today = Date{2025, 6, 30};
  auto signals = ParseSignals(*csv, *normaliser, options);
  (void)signals;
  return 0;
}
