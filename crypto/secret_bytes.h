// Move-only buffer for key bytes, allocated with `sodium_malloc` (guard pages, mlock'ed,
// wiped by `sodium_free`). Raw access only through `unsafe_bytes()`, so every place that
// touches key material can be found with grep.
//
// Thread-safety: immutable after construction; concurrent reads are safe.
#ifndef SAMENZICHT_CRYPTO_SECRET_BYTES_H_
#define SAMENZICHT_CRYPTO_SECRET_BYTES_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"

namespace samenzicht::crypto {

class SecretBytes {
 public:
  // ResourceExhausted when secure memory cannot be had; Internal if libsodium fails to
  // initialise. The bytes are zero.
  static absl::StatusOr<SecretBytes> Allocate(size_t size);
  // `size` random bytes from the OS CSPRNG.
  static absl::StatusOr<SecretBytes> Random(size_t size);
  // Copies `size` bytes from `data`; the caller wipes its own copy.
  static absl::StatusOr<SecretBytes> CopyFrom(const uint8_t* data, size_t size);

  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();

  size_t size() const { return size_; }
  // The raw key bytes. Never log, copy into a std::string, or keep beyond this object.
  uint8_t* unsafe_bytes() const { return data_; }

  // Constant-time equality.
  bool Equals(const SecretBytes& other) const;

 private:
  SecretBytes(uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace samenzicht::crypto

#endif  // SAMENZICHT_CRYPTO_SECRET_BYTES_H_
