#include "crypto/row_seal.h"

#include <sodium.h>

#include "common/status_macros.h"
#include "crypto/init.h"

namespace samenzicht::crypto {
namespace {

constexpr char kRowKeyContext[crypto_kdf_CONTEXTBYTES + 1] = "szrows01";
constexpr uint64_t kRowKeyId = 1;

static_assert(kSealNonceBytes == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
static_assert(kSealTagBytes == crypto_aead_xchacha20poly1305_ietf_ABYTES);

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

absl::StatusOr<std::unique_ptr<RowSealer>> RowSealer::New(const SecretBytes& store_key) {
  RETURN_IF_ERROR(EnsureInitialized());
  if (store_key.size() != crypto_kdf_KEYBYTES) {
    return absl::InvalidArgumentError("store key must be 32 bytes");
  }
  ASSIGN_OR_RETURN(SecretBytes key, SecretBytes::Allocate(crypto_aead_xchacha20poly1305_ietf_KEYBYTES));
  if (crypto_kdf_derive_from_key(key.unsafe_bytes(), key.size(), kRowKeyId, kRowKeyContext,
                                 store_key.unsafe_bytes()) != 0) {
    return absl::InternalError("deriving the row key failed");
  }
  return std::unique_ptr<RowSealer>(new RowSealer(std::move(key)));
}

void RowSealer::Seal(std::string_view plain, std::string_view associated, std::string* out) const {
  const size_t start = out->size();
  out->resize(start + kSealNonceBytes + plain.size() + kSealTagBytes);
  auto* nonce = reinterpret_cast<unsigned char*>(out->data() + start);
  randombytes_buf(nonce, kSealNonceBytes);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + kSealNonceBytes, &written, Bytes(plain),
                                             plain.size(), Bytes(associated), associated.size(),
                                             nullptr, nonce, key_.unsafe_bytes());
}

absl::Status RowSealer::Open(std::string_view sealed, std::string_view associated,
                             std::string* plain) const {
  if (sealed.size() < kSealOverheadBytes) {
    return absl::DataLossError("a sealed value is too short");
  }
  plain->resize(sealed.size() - kSealOverheadBytes);
  unsigned long long written = 0;
  const unsigned char* nonce = Bytes(sealed);
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(plain->data()), &written, nullptr,
          nonce + kSealNonceBytes, sealed.size() - kSealNonceBytes, Bytes(associated),
          associated.size(), nonce, key_.unsafe_bytes()) != 0) {
    sodium_memzero(plain->data(), plain->size());
    plain->clear();
    return absl::DataLossError(
        "a sealed value does not verify (altered, moved to another row, or another store key)");
  }
  return absl::OkStatus();
}

}  // namespace samenzicht::crypto
