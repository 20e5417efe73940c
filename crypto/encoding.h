// Encodings and small primitives that are not secret-bearing: digests, random ids,
// base64, constant-time comparison of tags and tokens.
#ifndef SAMENZICHT_CRYPTO_ENCODING_H_
#define SAMENZICHT_CRYPTO_ENCODING_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace samenzicht::crypto {

inline constexpr size_t kDigestBytes = 32;

// Unkeyed BLAKE2b-256 of `data`, with a domain string hashed first so that digests of
// different kinds of objects never collide. Returns 32 raw bytes.
std::string Digest(std::string_view domain, std::string_view data);

// 128 random bits as 32 lower-case hex characters (report and batch ids).
std::string RandomId();

// `n` random bytes (a batch's nonce).
std::string RandomBytes(size_t n);

// A public key's fingerprint for logs and the audit trail: 32 lower-case hex characters
// (the first 16 bytes of its domain-separated BLAKE2b-256).
std::string PublicKeyFingerprint(std::string_view public_key);

// Lower-case hex of `bytes`.
std::string ToHex(std::string_view bytes);

std::string Base64Encode(std::string_view bytes);
// InvalidArgument on malformed input.
absl::StatusOr<std::string> Base64Decode(std::string_view text);

// Constant-time equality for tokens, tags and digests.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace samenzicht::crypto

#endif  // SAMENZICHT_CRYPTO_ENCODING_H_
