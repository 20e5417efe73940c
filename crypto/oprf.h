// The oblivious pseudorandom function of RFC 9497, mode OPRF (0x00), suite
// ristretto255-SHA512, on libsodium's ristretto255 group and SHA-512 only.
//
// A client (the agency node) blinds each input, a server (the key service) multiplies the
// blinded elements by its secret scalar without learning the inputs, and the client
// removes the blinds and hashes to a 64-byte output:
//
//   output = SHA-512(len(input) || input || 32 || Serialize(k * HashToGroup(input)) || "Finalize")
//
// Whoever holds neither the key nor access to the server cannot compute an output, and
// the server sees only uniformly random group elements.
//
//   ASSIGN_OR_RETURN(auto batch, crypto::oprf::BlindBatch::New(inputs));     // client
//   ASSIGN_OR_RETURN(std::string evaluated,
//                    key.BlindEvaluate(batch.blinded_elements()));             // server
//   ASSIGN_OR_RETURN(std::string outputs, batch.Finalize(inputs, evaluated)); // client
//
// Elements travel as their 32-byte canonical encodings, concatenated; outputs are
// concatenated 64-byte blocks in input order. An encoding that is not a valid group
// element, or is the identity, is refused with InvalidArgument naming its position.
//
// Thread-safety: `ServerKey` is immutable after construction (`BlindEvaluate` may be
// called concurrently); a `BlindBatch` is used by one thread.
#ifndef SAMENZICHT_CRYPTO_OPRF_H_
#define SAMENZICHT_CRYPTO_OPRF_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "crypto/secret_bytes.h"

namespace samenzicht::crypto::oprf {

inline constexpr size_t kElementBytes = 32;
inline constexpr size_t kScalarBytes = 32;
inline constexpr size_t kOutputBytes = 64;
// The longest input RFC 9497 can encode (its length is a 2-byte prefix in Finalize).
inline constexpr size_t kMaxInputBytes = 65535;

// expand_message_xmd of RFC 9380 (section 5.3.1) over SHA-512. InvalidArgument when `dst`
// is longer than 255 bytes or `len` is 0 or more than 255 * 64. For tests and HashToGroup.
absl::StatusOr<std::string> ExpandMessageXmdSha512(std::string_view msg, std::string_view dst,
                                                   size_t len);

// OK when `elements` is a concatenation of 32-byte canonical encodings of non-identity
// group elements; InvalidArgument otherwise ("element N"). A client checks one key
// service's answer with it before passing it to a second service (2-of-2 key shares:
// each service multiplies by its share in turn).
absl::Status ValidateElements(std::string_view elements);

// The server's secret scalar, in sodium_malloc memory.
class ServerKey {
 public:
  // A fresh random nonzero scalar.
  static absl::StatusOr<ServerKey> Generate();
  // DeriveKeyPair of RFC 9497 (section 3.2.1): the same key from the same seed and info.
  // InvalidArgument when `seed` is not 32 bytes or `info` is longer than 65535 bytes.
  static absl::StatusOr<ServerKey> Derive(std::string_view seed, std::string_view info);
  // A stored key: 32 bytes, a canonical nonzero scalar (little-endian), else InvalidArgument.
  static absl::StatusOr<ServerKey> FromSecret(const SecretBytes& scalar);

  // BlindEvaluate for every 32-byte element of `blinded` (their concatenation): the
  // concatenated evaluated elements. InvalidArgument when the length is not a multiple of
  // 32 or an element is not a valid encoding or is the identity ("blinded element N").
  absl::StatusOr<std::string> BlindEvaluate(std::string_view blinded) const;

  // The scalar itself, to be written to a key file.
  const SecretBytes& secret() const { return scalar_; }

 private:
  explicit ServerKey(SecretBytes scalar) : scalar_(std::move(scalar)) {}
  SecretBytes scalar_;
};

// The client's half: the blinds of one batch of inputs (in sodium_malloc memory) and the
// blinded elements to send.
class BlindBatch {
 public:
  // Blinds each input with a fresh random scalar. InvalidArgument when an input is longer
  // than kMaxInputBytes ("input N") or hashes to the identity (probability 2^-252).
  static absl::StatusOr<BlindBatch> New(const std::vector<std::string_view>& inputs);
  // The same with the given blinds (32-byte canonical nonzero scalars, one per input):
  // for the published test vectors only.
  static absl::StatusOr<BlindBatch> NewWithBlinds(const std::vector<std::string_view>& inputs,
                                                  const std::vector<std::string>& blinds);

  size_t size() const { return size_; }
  // The concatenated blinded elements, 32 bytes each, in input order.
  const std::string& blinded_elements() const { return blinded_; }

  // Finalize for each input: removes the blinds from `evaluated` (the server's answer, 32
  // bytes per input) and hashes. `inputs` must be the ones given to New, in order
  // (InvalidArgument when their number differs). InvalidArgument when `evaluated` has the
  // wrong length or an element is not valid ("evaluated element N").
  absl::StatusOr<std::string> Finalize(const std::vector<std::string_view>& inputs,
                                       std::string_view evaluated) const;

 private:
  static absl::StatusOr<BlindBatch> Make(const std::vector<std::string_view>& inputs,
                                         const std::vector<std::string>* blinds);
  BlindBatch(size_t size, SecretBytes blinds, std::string blinded)
      : size_(size), blinds_(std::move(blinds)), blinded_(std::move(blinded)) {}
  size_t size_;
  SecretBytes blinds_;  // size_ * 32 bytes
  std::string blinded_;
};

// Key files of the key service: one text line
// `samenzicht-key v1 oprf-ristretto255 <epoch> <base64 scalar>`, mode 0600, read with the
// checks of crypto::CheckPrivateFile (key_file.h).
struct EpochKey {
  uint32_t epoch;
  ServerKey key;
};
// A new random key for `epoch` (>= 1) at `path`. AlreadyExists if `path` exists.
absl::Status GenerateServerKeyFile(const std::string& path, uint32_t epoch);
// NotFound, FailedPrecondition (permissions), InvalidArgument (malformed, not a valid key).
absl::StatusOr<EpochKey> LoadServerKeyFile(const std::string& path);

// The whole protocol with the key at hand (tests and the shared-key comparison only: a
// node never holds a ServerKey): Finalize(input, r, BlindEvaluate(k, Blind(input, r))).
absl::StatusOr<std::string> Evaluate(const ServerKey& key, std::string_view input);

}  // namespace samenzicht::crypto::oprf

#endif  // SAMENZICHT_CRYPTO_OPRF_H_
