// Ed25519 signing and verification of batches (and, later, audit entries).
//
// The signed bytes are `context` 0x00 `message`, so a signature made for one kind of
// object ("samenzicht.batch.v1") can never be replayed as another.
//
// Thread-safety: both classes are immutable after construction.
#ifndef SAMENZICHT_CRYPTO_SIGNATURE_H_
#define SAMENZICHT_CRYPTO_SIGNATURE_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "crypto/secret_bytes.h"

namespace samenzicht::crypto {

inline constexpr size_t kSignatureBytes = 64;
inline constexpr size_t kPublicKeyBytes = 32;

class Signer {
 public:
  // From a signing key file (see key_file.h); the errors of LoadKeyFile.
  static absl::StatusOr<std::unique_ptr<Signer>> FromKeyFile(const std::string& path);
  // A fresh in-memory key (tests).
  static absl::StatusOr<std::unique_ptr<Signer>> Generate();

  // 64-byte detached signature.
  std::string Sign(std::string_view context, std::string_view message) const;
  // 32 raw bytes.
  std::string public_key() const;

 private:
  explicit Signer(SecretBytes sk) : secret_key_(std::move(sk)) {}
  const SecretBytes secret_key_;
};

class Verifier {
 public:
  // InvalidArgument unless `public_key` is 32 bytes.
  static absl::StatusOr<Verifier> New(std::string_view public_key);
  // Base64 as printed by `agency-node signing-keygen`.
  static absl::StatusOr<Verifier> FromBase64(std::string_view public_key_b64);

  // Unauthenticated if `signature` is not a valid signature of (`context`, `message`).
  absl::Status Verify(std::string_view context, std::string_view message,
                      std::string_view signature) const;
  // 32 raw bytes.
  const std::string& public_key() const { return public_key_; }

 private:
  explicit Verifier(std::string pk) : public_key_(std::move(pk)) {}
  std::string public_key_;
};

}  // namespace samenzicht::crypto

#endif  // SAMENZICHT_CRYPTO_SIGNATURE_H_
