#include "crypto/secret_bytes.h"

#include <sodium.h>

#include "common/status_macros.h"
#include "crypto/init.h"

namespace samenzicht::crypto {

absl::StatusOr<SecretBytes> SecretBytes::Allocate(size_t size) {
  RETURN_IF_ERROR(EnsureInitialized());
  void* p = sodium_malloc(size == 0 ? 1 : size);
  if (p == nullptr) return absl::ResourceExhaustedError("cannot allocate secure memory for a key");
  sodium_memzero(p, size);
  return SecretBytes(static_cast<uint8_t*>(p), size);
}

absl::StatusOr<SecretBytes> SecretBytes::Random(size_t size) {
  ASSIGN_OR_RETURN(SecretBytes out, Allocate(size));
  randombytes_buf(out.data_, size);
  return out;
}

absl::StatusOr<SecretBytes> SecretBytes::CopyFrom(const uint8_t* data, size_t size) {
  ASSIGN_OR_RETURN(SecretBytes out, Allocate(size));
  if (size > 0) std::memcpy(out.data_, data, size);
  return out;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept : data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) sodium_free(data_);
    data_ = other.data_;
    size_ = other.size_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

SecretBytes::~SecretBytes() {
  if (data_ != nullptr) sodium_free(data_);  // wipes before freeing
}

bool SecretBytes::Equals(const SecretBytes& other) const {
  return size_ == other.size_ && sodium_memcmp(data_, other.data_, size_) == 0;
}

}  // namespace samenzicht::crypto
