// Key files: the agencies' shared hashing key, the aggregator's store key, and each
// node's Ed25519 signing key.
//
// Format: one text line `samenzicht-key v1 <kind> <epoch> <base64>`. A key file must be a
// regular file that only its owner can read (mode 0600 or 0400); anything looser is
// refused with FailedPrecondition and a message that says how to fix it, and so is a
// symbolic link or a file owned by another user. Key bytes are
// decoded straight into `SecretBytes`; the text read from disk is wiped.
#ifndef SAMENZICHT_CRYPTO_KEY_FILE_H_
#define SAMENZICHT_CRYPTO_KEY_FILE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "crypto/secret_bytes.h"

namespace samenzicht::crypto {

enum class KeyKind {
  kHashing,  // the agencies' shared token key (32 bytes, with an epoch)
  kStore,    // the aggregator's own token key (32 bytes)
  kSigning,  // an Ed25519 secret key (64 bytes)
  kBox,      // an X25519 secret key (32 bytes) that sealed hashing keys are opened with
};

struct LoadedKey {
  KeyKind kind;
  uint32_t epoch = 0;  // hashing keys: the key epoch; 0 for the others
  SecretBytes bytes;
};

// Writes a new random key of `kind` to `path` with mode 0600. AlreadyExists if `path`
// exists (a key is never overwritten by accident). For kSigning and kBox the base64 public
// key is returned; otherwise "".
absl::StatusOr<std::string> GenerateKeyFile(const std::string& path, KeyKind kind,
                                            uint32_t epoch = 0);

// Loads a key file and checks it is of `expected`. Returns NotFound, FailedPrecondition
// (loose permissions, not a regular file), InvalidArgument (malformed, wrong kind or length).
absl::StatusOr<LoadedKey> LoadKeyFile(const std::string& path, KeyKind expected);

// Writes already-made key bytes as a key file of `kind` (same rules as GenerateKeyFile).
absl::Status WriteKeyFile(const std::string& path, KeyKind kind, uint32_t epoch,
                          const SecretBytes& key);

// Refuses (FailedPrecondition) a file group- or world-accessible, with the chmod to run;
// a symbolic link, or a file owned by a user other than this process's (or root), with
// what to do. The file is opened with O_NOFOLLOW and checked with fstat on that open file,
// so what is checked is what would be read.
absl::Status CheckPrivateFile(const std::string& path);

// Reads a private file (a TLS private key) into secure memory after the checks of
// CheckPrivateFile, on the same open file. At most 1 MiB (InvalidArgument beyond).
absl::StatusOr<SecretBytes> ReadPrivateFile(const std::string& path);

}  // namespace samenzicht::crypto

#endif  // SAMENZICHT_CRYPTO_KEY_FILE_H_
