#include "crypto/keyed_hash.h"

#include <sodium.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace samenzicht::crypto {

absl::StatusOr<std::unique_ptr<KeyedHasher>> KeyedHasher::New(
    const SecretBytes& key, std::string_view purpose, uint32_t epoch,
    const std::vector<std::string>& labels) {
  if (key.size() != crypto_generichash_KEYBYTES) {
    return absl::InvalidArgumentError(
        absl::StrCat("hashing key must be ", crypto_generichash_KEYBYTES, " bytes, got ", key.size()));
  }
  std::set<std::string> seen;
  for (const std::string& l : labels) {
    if (l.empty()) return absl::InvalidArgumentError("empty hashing label");
    if (!seen.insert(l).second) return absl::InvalidArgumentError(absl::StrCat("repeated label ", l));
  }
  ASSIGN_OR_RETURN(SecretBytes subkeys, SecretBytes::Allocate(labels.size() * kTokenBytes));
  for (size_t i = 0; i < labels.size(); ++i) {
    std::string info(purpose);
    info.push_back('\0');
    info.push_back(static_cast<char>(epoch >> 24));
    info.push_back(static_cast<char>(epoch >> 16));
    info.push_back(static_cast<char>(epoch >> 8));
    info.push_back(static_cast<char>(epoch));
    info += labels[i];
    info.push_back('\0');
    crypto_generichash(subkeys.unsafe_bytes() + i * kTokenBytes, kTokenBytes,
                       reinterpret_cast<const unsigned char*>(info.data()), info.size(),
                       key.unsafe_bytes(), key.size());
  }
  return std::unique_ptr<KeyedHasher>(new KeyedHasher(epoch, labels, std::move(subkeys)));
}

void KeyedHasher::HashInto(size_t label_index, std::string_view message,
                           uint8_t out[kTokenBytes]) const {
  crypto_generichash(out, kTokenBytes, reinterpret_cast<const unsigned char*>(message.data()),
                     message.size(), subkeys_.unsafe_bytes() + label_index * kTokenBytes,
                     kTokenBytes);
}

std::string KeyedHasher::Hash(size_t label_index, std::string_view message) const {
  std::string out(kTokenBytes, '\0');
  HashInto(label_index, message, reinterpret_cast<uint8_t*>(out.data()));
  return out;
}

int KeyedHasher::LabelIndex(std::string_view label) const {
  for (size_t i = 0; i < labels_.size(); ++i) {
    if (labels_[i] == label) return static_cast<int>(i);
  }
  return -1;
}

void RawKeyedBlake2b(const SecretBytes& key, std::string_view message, uint8_t out[kTokenBytes]) {
  crypto_generichash(out, kTokenBytes, reinterpret_cast<const unsigned char*>(message.data()),
                     message.size(), key.unsafe_bytes(), key.size());
}

}  // namespace samenzicht::crypto
