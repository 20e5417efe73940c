// libFuzzer target: the identifier normaliser (names, dates, BSN, phonetic code) on
// arbitrary bytes, including invalid UTF-8 and embedded NULs. Besides not crashing, the
// outputs must be stable: folding is idempotent and the phonetic code only holds A-Z.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "agency_node/normalise.h"

using namespace samenzicht::agency_node;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Normaliser* normaliser = Normaliser::New()->release();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string folded = normaliser->Fold(in);
  if (normaliser->Fold(folded) != folded) std::abort();
  std::string code = DutchPhonetic(folded);
  for (char c : code) {
    if (c < 'A' || c > 'Z') std::abort();
  }
  (void)normaliser->NormaliseSurname(in);
  (void)normaliser->NormaliseGivenNames(in);
  (void)CanonicalGivenName(folded);
  (void)IsSurnamePrefix(folded);
  auto date = ParseDate(in, Date{2025, 6, 30});
  if (date.ok() && (date->month < 1 || date->month > 12 || date->day < 1 || date->day > 31)) {
    std::abort();
  }
  auto bsn = NormaliseBsn(in);
  if (bsn.ok() && bsn->size() != 9) std::abort();
  return 0;
}
