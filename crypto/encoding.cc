#include "crypto/encoding.h"

#include <sodium.h>

#include "crypto/init.h"

namespace samenzicht::crypto {

std::string Digest(std::string_view domain, std::string_view data) {
  (void)EnsureInitialized();
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, kDigestBytes);
  const unsigned char len = static_cast<unsigned char>(domain.size());
  crypto_generichash_update(&st, &len, 1);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(domain.data()),
                            domain.size());
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(data.data()),
                            data.size());
  std::string out(kDigestBytes, '\0');
  crypto_generichash_final(&st, reinterpret_cast<unsigned char*>(out.data()), kDigestBytes);
  return out;
}

std::string RandomId() {
  (void)EnsureInitialized();
  unsigned char b[16];
  randombytes_buf(b, sizeof b);
  return ToHex(std::string_view(reinterpret_cast<const char*>(b), sizeof b));
}

std::string PublicKeyFingerprint(std::string_view public_key) {
  return ToHex(Digest("samenzicht.key-fingerprint.v1", public_key).substr(0, 16));
}

std::string RandomBytes(size_t n) {
  (void)EnsureInitialized();
  std::string out(n, '\0');
  randombytes_buf(out.data(), out.size());
  return out;
}

std::string ToHex(std::string_view bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                 bytes.size());
  out.resize(bytes.size() * 2);
  return out;
}

std::string Base64Encode(std::string_view bytes) {
  (void)EnsureInitialized();
  const int variant = sodium_base64_VARIANT_ORIGINAL;
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), variant);
  out.resize(out.size() - 1);  // drop the terminating NUL
  return out;
}

absl::StatusOr<std::string> Base64Decode(std::string_view text) {
  (void)EnsureInitialized();
  std::string out(text.size() * 3 / 4 + 3, '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size()) {
    return absl::InvalidArgumentError("not valid base64");
  }
  out.resize(len);
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace samenzicht::crypto
