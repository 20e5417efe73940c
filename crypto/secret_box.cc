#include "crypto/secret_box.h"

#include <sodium.h>

#include "common/status_macros.h"
#include "crypto/init.h"
#include "crypto/key_file.h"

namespace samenzicht::crypto {

absl::StatusOr<std::unique_ptr<SecretBox>> SecretBox::FromSigningKeyFile(const std::string& path,
                                                                         std::string_view purpose) {
  ASSIGN_OR_RETURN(LoadedKey key, LoadKeyFile(path, KeyKind::kSigning));
  return New(key.bytes, purpose);
}

absl::StatusOr<std::unique_ptr<SecretBox>> SecretBox::New(const SecretBytes& node_secret,
                                                          std::string_view purpose) {
  RETURN_IF_ERROR(EnsureInitialized());
  if (node_secret.size() < 32) {
    return absl::InvalidArgumentError("a secret box needs a node secret of at least 32 bytes");
  }
  if (purpose.empty()) return absl::InvalidArgumentError("a secret box needs a purpose");
  ASSIGN_OR_RETURN(SecretBytes key,
                   SecretBytes::Allocate(crypto_aead_xchacha20poly1305_ietf_KEYBYTES));
  crypto_generichash(key.unsafe_bytes(), key.size(),
                     reinterpret_cast<const unsigned char*>(purpose.data()), purpose.size(),
                     node_secret.unsafe_bytes(), 32);
  return std::unique_ptr<SecretBox>(new SecretBox(std::move(key)));
}

std::string SecretBox::Seal(std::string_view plaintext, std::string_view ad) const {
  constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  std::string out(kNonce + plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(o, kNonce);
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      o + kNonce, &clen, reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
      reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nullptr, o,
      key_.unsafe_bytes());
  out.resize(kNonce + clen);
  return out;
}

absl::StatusOr<std::string> SecretBox::Open(std::string_view sealed, std::string_view ad) const {
  constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  constexpr size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
  if (sealed.size() < kNonce + kTag) return absl::DataLossError("sealed record is cut short");
  const auto* s = reinterpret_cast<const unsigned char*>(sealed.data());
  std::string out(sealed.size() - kNonce - kTag, '\0');
  unsigned long long mlen = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(out.data()), &mlen, nullptr, s + kNonce,
          sealed.size() - kNonce, reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), s,
          key_.unsafe_bytes()) != 0) {
    sodium_memzero(out.data(), out.size());
    return absl::DataLossError("sealed record does not open: changed, moved or another key");
  }
  out.resize(mlen);
  return out;
}

}  // namespace samenzicht::crypto
