// The shared-key ceremony: the administrator delivers the agencies' hashing key to each
// node sealed to that node's X25519 public key (libsodium sealed box), so the key never
// travels or rests in the clear outside a node.
//
//   node:   GenerateKeyFile("box.key", KeyKind::kBox)          -> prints public key P
//   admin:  SealHashingKey("shared.key", P)                     -> sealed text, sent to node
//   node:   OpenSealedHashingKey(sealed, "box.key", "hashing.key")
//
// Must not be used for: anything needing sender authentication; a sealed box is anonymous,
// so the node must get the sealed file over a channel it trusts to come from the
// administrator (or compare the key fingerprint printed on both sides).
#ifndef SAMENZICHT_CRYPTO_SEALED_KEY_H_
#define SAMENZICHT_CRYPTO_SEALED_KEY_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace samenzicht::crypto {

// One text line: "samenzicht-sealed-key v1 <epoch> <base64 sealed box>". The errors of
// LoadKeyFile; InvalidArgument for a malformed public key.
absl::StatusOr<std::string> SealHashingKey(const std::string& hashing_key_file,
                                           const std::string& recipient_public_b64);

// Opens `sealed` with the box key in `box_key_file` and writes the hashing key file
// `out_path` (mode 0600; AlreadyExists if present). Unauthenticated if the box was not
// sealed to this key or was altered.
absl::Status OpenSealedHashingKey(const std::string& sealed, const std::string& box_key_file,
                                  const std::string& out_path);

// A short fingerprint of a hashing key (first 8 bytes of a domain-separated hash, hex),
// for the administrator and the node to compare out of band. Reveals nothing useful.
absl::StatusOr<std::string> HashingKeyFingerprint(const std::string& hashing_key_file);

}  // namespace samenzicht::crypto

#endif  // SAMENZICHT_CRYPTO_SEALED_KEY_H_
