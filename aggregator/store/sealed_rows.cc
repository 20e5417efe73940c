#include "aggregator/store/sealed_rows.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "aggregator/store/store.h"

namespace samenzicht::aggregator {
namespace {

constexpr char kFactsPurpose[] = "samenzicht.report.facts.v1";
constexpr char kTokensPurpose[] = "samenzicht.report.tokens.v1";
constexpr uint8_t kFactsVersion = 1;
constexpr size_t kFactsFixedBytes = 1 + 5 + 4 * 4 + 2;  // up to the area's bytes
constexpr size_t kFactsPadding = 64;

void PutLe(uint64_t v, int bytes, std::string* out) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t GetLe32(const char* p) {
  const auto* u = reinterpret_cast<const uint8_t*>(p);
  return static_cast<uint32_t>(u[0]) | static_cast<uint32_t>(u[1]) << 8 |
         static_cast<uint32_t>(u[2]) << 16 | static_cast<uint32_t>(u[3]) << 24;
}

// purpose 0x00 row(8) month-or-epoch(4) agency
std::string Associated(const char* purpose, const RowPlace& place, uint32_t bound) {
  std::string ad(purpose);
  ad.push_back('\0');
  PutLe(static_cast<uint64_t>(place.row), 8, &ad);
  PutLe(bound, 4, &ad);
  ad.append(place.agency);
  return ad;
}

}  // namespace

void SealFacts(const crypto::RowSealer& sealer, const RowPlace& place, const StoredFacts& f,
               std::string* out) {
  std::string plain;
  plain.reserve(kFactsPadding);
  plain.push_back(static_cast<char>(kFactsVersion));
  for (uint8_t b : {f.form, f.contact, f.age_band, f.gender, f.background}) {
    plain.push_back(static_cast<char>(b));
  }
  for (uint32_t m : {f.living, f.recruitment, f.coercion, f.forced_crime}) PutLe(m, 4, &plain);
  const size_t area = std::min<size_t>(f.area.size(), 0xffff);
  PutLe(area, 2, &plain);
  plain.append(f.area, 0, area);
  plain.resize((plain.size() + kFactsPadding - 1) / kFactsPadding * kFactsPadding, '\0');
  sealer.Seal(plain, Associated(kFactsPurpose, place, place.signal_month), out);
}

absl::Status OpenFacts(const crypto::RowSealer& sealer, const RowPlace& place,
                       std::string_view sealed, StoredFacts* f, std::string* plain) {
  if (absl::Status s = sealer.Open(sealed, Associated(kFactsPurpose, place, place.signal_month), plain);
      !s.ok()) {
    return absl::DataLossError(absl::StrCat("report row ", place.row, ": its categories: ", s.message()));
  }
  const char* p = plain->data();
  const size_t area = plain->size() >= kFactsFixedBytes
                          ? (static_cast<uint8_t>(p[22]) | static_cast<uint8_t>(p[23]) << 8)
                          : 0;
  if (plain->size() < kFactsFixedBytes || p[0] != kFactsVersion ||
      plain->size() < kFactsFixedBytes + area) {
    return absl::DataLossError(absl::StrCat("report row ", place.row, ": its categories are not a record of this release"));
  }
  f->form = static_cast<uint8_t>(p[1]);
  f->contact = static_cast<uint8_t>(p[2]);
  f->age_band = static_cast<uint8_t>(p[3]);
  f->gender = static_cast<uint8_t>(p[4]);
  f->background = static_cast<uint8_t>(p[5]);
  f->living = GetLe32(p + 6);
  f->recruitment = GetLe32(p + 10);
  f->coercion = GetLe32(p + 14);
  f->forced_crime = GetLe32(p + 18);
  f->area.assign(p + kFactsFixedBytes, area);
  return absl::OkStatus();
}

void SealTokens(const crypto::RowSealer& sealer, const RowPlace& place, std::string_view blob,
                std::string* out) {
  if (blob.empty()) return;
  sealer.Seal(blob, Associated(kTokensPurpose, place, place.key_epoch), out);
}

absl::Status OpenTokens(const crypto::RowSealer& sealer, const RowPlace& place,
                        std::string_view sealed, std::string* blob) {
  if (sealed.empty()) {
    blob->clear();
    return absl::OkStatus();
  }
  if (absl::Status s = sealer.Open(sealed, Associated(kTokensPurpose, place, place.key_epoch), blob);
      !s.ok()) {
    return absl::DataLossError(absl::StrCat("report row ", place.row, ": its tokens: ", s.message()));
  }
  if (blob->size() % kStoredTokenBytes != 0) {
    return absl::DataLossError(absl::StrCat("report row ", place.row, ": its stored tokens are damaged"));
  }
  return absl::OkStatus();
}

std::string TokenCountSql(std::string_view column_view) {
  const std::string column(column_view);
  return absl::StrCat("((length(", column, ") - ", crypto::kSealOverheadBytes, " * (length(", column,
                      ") > 0)) / ", kStoredTokenBytes, ")");
}

}  // namespace samenzicht::aggregator
