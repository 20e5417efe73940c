// Authenticated encryption of stored rows (encryption at rest): XChaCha20-Poly1305-IETF
// (libsodium `crypto_aead_xchacha20poly1305_ietf`) under a subkey of the store key.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<RowSealer> sealer, RowSealer::New(store_key));
//   std::string sealed;
//   sealer->Seal(plain, associated, &sealed);        // nonce(24) || ciphertext || tag(16)
//   RETURN_IF_ERROR(sealer->Open(sealed, associated, &plain));   // DataLoss when altered
//
// The subkey is derived with crypto_kdf (BLAKE2b) from the store key, context "szrows01",
// subkey id 1, so it never equals the store key itself or a key derived for another use,
// and lives in sodium_malloc memory (SecretBytes). Every sealed value has a fresh random
// 192-bit nonce: equal plaintexts give unrelated ciphertexts. `associated` is authenticated
// but not encrypted: the caller binds a value to its place (a row id, its readable columns),
// so a value moved to another row, or a readable column changed, fails to open.
//
// Thread-safety: immutable after `New`; Seal and Open may be called concurrently.
#ifndef SAMENZICHT_CRYPTO_ROW_SEAL_H_
#define SAMENZICHT_CRYPTO_ROW_SEAL_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "crypto/secret_bytes.h"

namespace samenzicht::crypto {

// Bytes a sealed value is longer than its plaintext: the nonce and the tag.
inline constexpr size_t kSealNonceBytes = 24;
inline constexpr size_t kSealTagBytes = 16;
inline constexpr size_t kSealOverheadBytes = kSealNonceBytes + kSealTagBytes;

class RowSealer {
 public:
  // InvalidArgument unless `store_key` is 32 bytes.
  static absl::StatusOr<std::unique_ptr<RowSealer>> New(const SecretBytes& store_key);

  // Appends nonce || ciphertext || tag of `plain` to `out`.
  void Seal(std::string_view plain, std::string_view associated, std::string* out) const;
  // Replaces `*plain` by the plaintext of `sealed`. DataLoss when `sealed` is too short or
  // does not verify under this key with `associated` (altered, moved, or another key).
  absl::Status Open(std::string_view sealed, std::string_view associated, std::string* plain) const;

 private:
  explicit RowSealer(SecretBytes key) : key_(std::move(key)) {}
  const SecretBytes key_;
};

}  // namespace samenzicht::crypto

#endif  // SAMENZICHT_CRYPTO_ROW_SEAL_H_
