#include "crypto/password_hash.h"

#include <sodium.h>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "crypto/init.h"

namespace samenzicht::crypto {

absl::StatusOr<std::string> HashPassword(std::string_view password) {
  RETURN_IF_ERROR(EnsureInitialized());
  if (password.size() < kMinPasswordLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("a password needs at least ", kMinPasswordLength, " characters"));
  }
  if (password.size() > kMaxPasswordLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("a password has at most ", kMaxPasswordLength, " characters"));
  }
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return absl::ResourceExhaustedError("not enough memory to hash a password");
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view stored, std::string_view password) {
  if (!EnsureInitialized().ok()) return false;
  if (stored.empty() || stored.size() >= crypto_pwhash_STRBYTES ||
      password.size() > kMaxPasswordLength) {
    return false;
  }
  std::string s(stored);  // NUL-terminated for libsodium
  return crypto_pwhash_str_verify(s.c_str(), password.data(), password.size()) == 0;
}

}  // namespace samenzicht::crypto
