// Authenticated encryption of small records kept at rest on an agency node (the
// identifiers a professional typed into the intake page): XChaCha20-Poly1305 (libsodium's
// crypto_aead_xchacha20poly1305_ietf) with a random 24-byte nonce per record and the
// record's own name as associated data, so a sealed value moved to another row does not
// open.
//
// The key is derived from the node's secret (the seed of its signing key file): BLAKE2b-256
// keyed with it over the purpose string, so it is backed up and restored with the node's
// keys, differs per node and per purpose, and never is the signing key itself.
//
//   ASSIGN_OR_RETURN(auto box, crypto::SecretBox::FromSigningKeyFile(path, "samenzicht.intake.v1"));
//   std::string sealed = box->Seal(plaintext, reference);
//   ASSIGN_OR_RETURN(std::string plain, box->Open(sealed, reference));   // DataLoss if tampered
//
// Sealed layout: nonce (24 bytes) || ciphertext || tag (16 bytes).
// Thread-safety: immutable after construction; Seal and Open may be called concurrently.
#ifndef SAMENZICHT_CRYPTO_SECRET_BOX_H_
#define SAMENZICHT_CRYPTO_SECRET_BOX_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "crypto/secret_bytes.h"

namespace samenzicht::crypto {

class SecretBox {
 public:
  // From the node's signing key file; the errors of LoadKeyFile.
  static absl::StatusOr<std::unique_ptr<SecretBox>> FromSigningKeyFile(const std::string& path,
                                                                       std::string_view purpose);
  // From a node secret of at least 32 bytes. InvalidArgument when shorter or `purpose` is
  // empty.
  static absl::StatusOr<std::unique_ptr<SecretBox>> New(const SecretBytes& node_secret,
                                                        std::string_view purpose);

  std::string Seal(std::string_view plaintext, std::string_view associated_data) const;
  // DataLoss when `sealed` was changed, is cut short, belongs to other associated data or
  // was sealed under another key.
  absl::StatusOr<std::string> Open(std::string_view sealed, std::string_view associated_data) const;

 private:
  explicit SecretBox(SecretBytes key) : key_(std::move(key)) {}
  SecretBytes key_;
};

}  // namespace samenzicht::crypto

#endif  // SAMENZICHT_CRYPTO_SECRET_BOX_H_
