#include "crypto/signature.h"

#include <sodium.h>

#include "common/status_macros.h"
#include "crypto/encoding.h"
#include "crypto/init.h"
#include "crypto/key_file.h"

namespace samenzicht::crypto {
namespace {

std::string Framed(std::string_view context, std::string_view message) {
  std::string m;
  m.reserve(context.size() + 1 + message.size());
  m.append(context);
  m.push_back('\0');
  m.append(message);
  return m;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Signer>> Signer::FromKeyFile(const std::string& path) {
  ASSIGN_OR_RETURN(LoadedKey key, LoadKeyFile(path, KeyKind::kSigning));
  return std::unique_ptr<Signer>(new Signer(std::move(key.bytes)));
}

absl::StatusOr<std::unique_ptr<Signer>> Signer::Generate() {
  ASSIGN_OR_RETURN(SecretBytes sk, SecretBytes::Allocate(crypto_sign_SECRETKEYBYTES));
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  crypto_sign_keypair(pk, sk.unsafe_bytes());
  return std::unique_ptr<Signer>(new Signer(std::move(sk)));
}

std::string Signer::Sign(std::string_view context, std::string_view message) const {
  std::string m = Framed(context, message);
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(m.data()), m.size(),
                       secret_key_.unsafe_bytes());
  return sig;
}

std::string Signer::public_key() const {
  std::string pk(crypto_sign_PUBLICKEYBYTES, '\0');
  crypto_sign_ed25519_sk_to_pk(reinterpret_cast<unsigned char*>(pk.data()),
                               secret_key_.unsafe_bytes());
  return pk;
}

absl::StatusOr<Verifier> Verifier::New(std::string_view public_key) {
  RETURN_IF_ERROR(EnsureInitialized());
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES) {
    return absl::InvalidArgumentError("an Ed25519 public key is 32 bytes");
  }
  return Verifier(std::string(public_key));
}

absl::StatusOr<Verifier> Verifier::FromBase64(std::string_view public_key_b64) {
  ASSIGN_OR_RETURN(std::string pk, Base64Decode(public_key_b64));
  return New(pk);
}

absl::Status Verifier::Verify(std::string_view context, std::string_view message,
                              std::string_view signature) const {
  if (signature.size() != crypto_sign_BYTES) {
    return absl::UnauthenticatedError("signature must be 64 bytes");
  }
  std::string m = Framed(context, message);
  if (crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                  reinterpret_cast<const unsigned char*>(m.data()), m.size(),
                                  reinterpret_cast<const unsigned char*>(public_key_.data())) != 0) {
    return absl::UnauthenticatedError("signature does not verify");
  }
  return absl::OkStatus();
}

}  // namespace samenzicht::crypto
