// Encryption at rest of `reports` rows (schema 8): what is sealed, and under what.
//
// A row keeps readable only what the store must select or delete by without the key: its
// row id, agency, batch, signal month (retention) and key epoch (key retirement). Its
// categories and area (`facts`) and its stored tokens (`tokens`) are each sealed with
// crypto::RowSealer (XChaCha20-Poly1305 under a subkey of the store key, a random nonce per
// value), with the readable columns as associated data:
//   facts   plaintext: version 1, form, contact, age band, gender, background (1 byte each),
//           living, recruitment, coercion, forced crime (4 bytes little-endian each), the
//           area's length (2 bytes) and bytes, zero-padded to a multiple of 64 bytes (so
//           the length of an area does not show);
//           associated: "samenzicht.report.facts.v1" 0x00, row id (8 bytes), signal month
//           (4 bytes), agency;
//   tokens  plaintext: the token blob (kStoredTokenBytes per token, store.h), or no value
//           at all (x'') for a report without tokens or whose epoch was retired;
//           associated: "samenzicht.report.tokens.v1" 0x00, row id, key epoch, agency.
// So a sealed value copied to another row, or a readable column changed (a report moved to
// a later month to escape retention, to a later epoch to escape retirement, to another
// agency), does not open: DataLoss. What stays visible: how many reports each agency
// stored per batch, month and epoch, each report's number of tokens (the length of its
// sealed blob) and its number of corrections (`version`, as in the audit trail).
//
// Thread-safety: free functions; the sealer is thread-safe.
#ifndef SAMENZICHT_AGGREGATOR_STORE_SEALED_ROWS_H_
#define SAMENZICHT_AGGREGATOR_STORE_SEALED_ROWS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "crypto/row_seal.h"

namespace samenzicht::aggregator {

// The categories of one stored report, as sealed in `reports.facts`.
struct StoredFacts {
  uint8_t form = 0, contact = 0, age_band = 0, gender = 0, background = 0;
  uint32_t living = 0, recruitment = 0, coercion = 0, forced_crime = 0;  // bitmasks (MaskOf)
  std::string area;

  bool operator==(const StoredFacts&) const = default;
};

// The readable columns a row's sealed values are bound to.
struct RowPlace {
  int64_t row = 0;
  std::string_view agency;
  uint32_t signal_month = 0;
  uint32_t key_epoch = 0;
};

// Appends the sealed `facts` of the row at `place` to `out`.
void SealFacts(const crypto::RowSealer& sealer, const RowPlace& place, const StoredFacts& facts,
               std::string* out);
// DataLoss when the value does not open at `place` or its plaintext is not a facts record.
// `scratch` holds the plaintext between calls (no allocation per row).
absl::Status OpenFacts(const crypto::RowSealer& sealer, const RowPlace& place,
                       std::string_view sealed, StoredFacts* facts, std::string* scratch);

// Appends the sealed token blob of the row at `place` to `out`; nothing for an empty blob.
void SealTokens(const crypto::RowSealer& sealer, const RowPlace& place, std::string_view blob,
                std::string* out);
// The token blob of the row at `place` into `*blob` (empty for an empty value). DataLoss
// when it does not open or is not a whole number of tokens.
absl::Status OpenTokens(const crypto::RowSealer& sealer, const RowPlace& place,
                        std::string_view sealed, std::string* blob);

// SQL for the number of tokens of the `reports` row(s) whose sealed blob column is `column`
// (an expression to sum): the blob's length less the nonce and tag, over kStoredTokenBytes.
std::string TokenCountSql(std::string_view column);

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_STORE_SEALED_ROWS_H_
