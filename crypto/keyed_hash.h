// Keyed hashing: BLAKE2b-256 (`crypto_generichash`, 32-byte key) with domain separation.
//
// A `KeyedHasher` is made for one purpose ("samenzicht.token.v1" on the nodes,
// "samenzicht.store.v1" on the aggregator), one key epoch and a fixed list of labels (the
// match rules of the linkage profile). For each label it derives a subkey
//   subkey = BLAKE2b-256(key = K, "purpose" 0x00 epoch(4 bytes, big-endian) "label" 0x00)
// so a token of one rule or epoch can never equal a token of another, and hashing a
// message costs one BLAKE2b call.
//
// Must not be used for: password hashing (it is fast on purpose), or with a key that is
// shared with the party that stores its output (the whole point is that the aggregator
// does not hold the agencies' key).
//
// Thread-safety: immutable after `New`; `Hash` may be called concurrently.
#ifndef SAMENZICHT_CRYPTO_KEYED_HASH_H_
#define SAMENZICHT_CRYPTO_KEYED_HASH_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "crypto/secret_bytes.h"

namespace samenzicht::crypto {

inline constexpr size_t kTokenBytes = 32;

class KeyedHasher {
 public:
  // InvalidArgument if `key` is not 32 bytes, a label is empty or repeated.
  static absl::StatusOr<std::unique_ptr<KeyedHasher>> New(const SecretBytes& key,
                                                         std::string_view purpose,
                                                         uint32_t epoch,
                                                         const std::vector<std::string>& labels);

  // 32 raw bytes: BLAKE2b-256 of `message` keyed with the subkey of label `label_index`
  // (an index into the labels given to `New`; must be in range).
  std::string Hash(size_t label_index, std::string_view message) const;
  void HashInto(size_t label_index, std::string_view message, uint8_t out[kTokenBytes]) const;

  uint32_t epoch() const { return epoch_; }
  const std::vector<std::string>& labels() const { return labels_; }
  // Index of `label`, or -1.
  int LabelIndex(std::string_view label) const;

 private:
  KeyedHasher(uint32_t epoch, std::vector<std::string> labels, SecretBytes subkeys)
      : epoch_(epoch), labels_(std::move(labels)), subkeys_(std::move(subkeys)) {}
  const uint32_t epoch_;
  const std::vector<std::string> labels_;
  const SecretBytes subkeys_;  // labels_.size() * 32 bytes
};

// The raw single-call keyed BLAKE2b-256 rate limit, for benchmarks: hashes `message`
// with `key` (32 bytes) into `out`.
void RawKeyedBlake2b(const SecretBytes& key, std::string_view message, uint8_t out[kTokenBytes]);

}  // namespace samenzicht::crypto

#endif  // SAMENZICHT_CRYPTO_KEYED_HASH_H_
