#include "crypto/sealed_key.h"

#include <sodium.h>

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "crypto/encoding.h"
#include "crypto/key_file.h"

namespace samenzicht::crypto {
namespace {
constexpr char kMagic[] = "samenzicht-sealed-key";
constexpr size_t kPlainBytes = 4 + crypto_generichash_KEYBYTES;  // epoch + key
}  // namespace

absl::StatusOr<std::string> SealHashingKey(const std::string& hashing_key_file,
                                           const std::string& recipient_public_b64) {
  ASSIGN_OR_RETURN(LoadedKey key, LoadKeyFile(hashing_key_file, KeyKind::kHashing));
  auto pk = Base64Decode(recipient_public_b64);
  if (!pk.ok() || pk->size() != crypto_box_PUBLICKEYBYTES) {
    return absl::InvalidArgumentError("recipient public key must be 32 bytes of base64 (agency-node box-keygen)");
  }
  ASSIGN_OR_RETURN(SecretBytes plain, SecretBytes::Allocate(kPlainBytes));
  uint8_t* p = plain.unsafe_bytes();
  p[0] = static_cast<uint8_t>(key.epoch >> 24);
  p[1] = static_cast<uint8_t>(key.epoch >> 16);
  p[2] = static_cast<uint8_t>(key.epoch >> 8);
  p[3] = static_cast<uint8_t>(key.epoch);
  std::memcpy(p + 4, key.bytes.unsafe_bytes(), key.bytes.size());
  std::string sealed(kPlainBytes + crypto_box_SEALBYTES, '\0');
  if (crypto_box_seal(reinterpret_cast<unsigned char*>(sealed.data()), p, kPlainBytes,
                      reinterpret_cast<const unsigned char*>(pk->data())) != 0) {
    return absl::InternalError("sealing failed");
  }
  return absl::StrCat(kMagic, " v1 ", key.epoch, " ", Base64Encode(sealed), "\n");
}

absl::Status OpenSealedHashingKey(const std::string& sealed, const std::string& box_key_file,
                                  const std::string& out_path) {
  std::string t = sealed;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  std::vector<std::string> parts = absl::StrSplit(t, ' ');
  uint32_t epoch = 0;
  if (parts.size() != 4 || parts[0] != kMagic || parts[1] != "v1" || !absl::SimpleAtoi(parts[2], &epoch)) {
    return absl::InvalidArgumentError("not a samenzicht sealed key");
  }
  ASSIGN_OR_RETURN(std::string box, Base64Decode(parts[3]));
  if (box.size() != kPlainBytes + crypto_box_SEALBYTES) {
    return absl::InvalidArgumentError("sealed key has the wrong length");
  }
  ASSIGN_OR_RETURN(LoadedKey sk, LoadKeyFile(box_key_file, KeyKind::kBox));
  unsigned char pk[crypto_box_PUBLICKEYBYTES];
  crypto_scalarmult_base(pk, sk.bytes.unsafe_bytes());
  ASSIGN_OR_RETURN(SecretBytes plain, SecretBytes::Allocate(kPlainBytes));
  if (crypto_box_seal_open(plain.unsafe_bytes(), reinterpret_cast<const unsigned char*>(box.data()),
                           box.size(), pk, sk.bytes.unsafe_bytes()) != 0) {
    return absl::UnauthenticatedError("the sealed key was not sealed to this node's key, or was altered");
  }
  const uint8_t* p = plain.unsafe_bytes();
  uint32_t inner_epoch = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
  if (inner_epoch != epoch) {
    return absl::UnauthenticatedError("the epoch outside the sealed box does not match the one inside");
  }
  ASSIGN_OR_RETURN(SecretBytes key, SecretBytes::CopyFrom(p + 4, crypto_generichash_KEYBYTES));
  return WriteKeyFile(out_path, KeyKind::kHashing, epoch, key);
}

absl::StatusOr<std::string> HashingKeyFingerprint(const std::string& hashing_key_file) {
  ASSIGN_OR_RETURN(LoadedKey key, LoadKeyFile(hashing_key_file, KeyKind::kHashing));
  unsigned char out[32];
  static const char kInfo[] = "samenzicht.key-fingerprint.v1";
  crypto_generichash(out, sizeof out, reinterpret_cast<const unsigned char*>(kInfo), sizeof kInfo - 1,
                     key.bytes.unsafe_bytes(), key.bytes.size());
  return absl::StrCat("epoch ", key.epoch, " ", ToHex(std::string(reinterpret_cast<char*>(out), 8)));
}

}  // namespace samenzicht::crypto
