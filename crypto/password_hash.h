// Password hashing for the local accounts of the agency node's intake page: libsodium's
// crypto_pwhash_str (Argon2id, with its salt and cost in the stored string), at the
// "interactive" cost (64 MiB, 2 passes: about 0.1 s per hash on one core), and its
// constant-time verification.
//
//   ASSIGN_OR_RETURN(std::string stored, crypto::HashPassword(password));   // "$argon2id$..."
//   bool ok = crypto::VerifyPassword(stored, attempt);
//
// Thread-safety: free functions.
#ifndef SAMENZICHT_CRYPTO_PASSWORD_HASH_H_
#define SAMENZICHT_CRYPTO_PASSWORD_HASH_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace samenzicht::crypto {

// Passwords shorter than this are refused by HashPassword.
inline constexpr size_t kMinPasswordLength = 12;
inline constexpr size_t kMaxPasswordLength = 1024;

// The Argon2id string to store. InvalidArgument for a password shorter than
// kMinPasswordLength or longer than kMaxPasswordLength (the message never holds it);
// ResourceExhausted when the memory for the hash cannot be had.
absl::StatusOr<std::string> HashPassword(std::string_view password);

// True when `password` matches `stored` (a HashPassword result). False for a malformed
// `stored` too.
bool VerifyPassword(std::string_view stored, std::string_view password);

}  // namespace samenzicht::crypto

#endif  // SAMENZICHT_CRYPTO_PASSWORD_HASH_H_
