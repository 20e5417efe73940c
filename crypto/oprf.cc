#include "crypto/oprf.h"

#include <sodium.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "crypto/init.h"
#include "crypto/key_file.h"

namespace samenzicht::crypto::oprf {
namespace {

static_assert(crypto_core_ristretto255_BYTES == kElementBytes);
static_assert(crypto_core_ristretto255_SCALARBYTES == kScalarBytes);
static_assert(crypto_core_ristretto255_HASHBYTES == 64);
static_assert(crypto_hash_sha512_BYTES == kOutputBytes);

// contextString = "OPRFV1-" || I2OSP(mode = 0x00, 1) || "-" || "ristretto255-SHA512".
constexpr char kContext[] = "OPRFV1-\0-ristretto255-SHA512";
constexpr size_t kContextBytes = sizeof(kContext) - 1;

std::string_view Context() { return std::string_view(kContext, kContextBytes); }

std::string HashToGroupDst() { return std::string("HashToGroup-").append(Context()); }
std::string DeriveKeyPairDst() { return std::string("DeriveKeyPair").append(Context()); }

void Sha512Update(crypto_hash_sha512_state* st, std::string_view s) {
  crypto_hash_sha512_update(st, reinterpret_cast<const unsigned char*>(s.data()), s.size());
}
void Sha512Byte(crypto_hash_sha512_state* st, uint8_t b) { crypto_hash_sha512_update(st, &b, 1); }

bool IsCanonicalNonzeroScalar(const uint8_t s[kScalarBytes]) {
  if (sodium_is_zero(s, kScalarBytes)) return false;
  uint8_t wide[64] = {0};
  std::memcpy(wide, s, kScalarBytes);
  uint8_t reduced[kScalarBytes];
  crypto_core_ristretto255_scalar_reduce(reduced, wide);
  return sodium_memcmp(reduced, s, kScalarBytes) == 0;
}

// HashToGroup: expand_message_xmd to 64 bytes, then the ristretto255 map (RFC 9496 4.3.4).
absl::Status HashToGroup(std::string_view input, const std::string& dst, uint8_t out[kElementBytes]) {
  ASSIGN_OR_RETURN(std::string uniform, ExpandMessageXmdSha512(input, dst, 64));
  crypto_core_ristretto255_from_hash(out, reinterpret_cast<const uint8_t*>(uniform.data()));
  if (sodium_is_zero(out, kElementBytes)) {
    return absl::InvalidArgumentError("input hashes to the identity element");
  }
  return absl::OkStatus();
}

// The RFC's Finalize hash over an unblinded element.
void FinalizeHash(std::string_view input, const uint8_t unblinded[kElementBytes], uint8_t* out) {
  crypto_hash_sha512_state st;
  crypto_hash_sha512_init(&st);
  Sha512Byte(&st, static_cast<uint8_t>(input.size() >> 8));
  Sha512Byte(&st, static_cast<uint8_t>(input.size()));
  Sha512Update(&st, input);
  Sha512Byte(&st, 0);
  Sha512Byte(&st, kElementBytes);
  crypto_hash_sha512_update(&st, unblinded, kElementBytes);
  Sha512Update(&st, "Finalize");
  crypto_hash_sha512_final(&st, out);
}

}  // namespace

absl::StatusOr<std::string> ExpandMessageXmdSha512(std::string_view msg, std::string_view dst,
                                                   size_t len) {
  constexpr size_t b_in_bytes = 64;   // SHA-512 output
  constexpr size_t s_in_bytes = 128;  // SHA-512 block
  if (dst.size() > 255) return absl::InvalidArgumentError("expand_message_xmd: DST longer than 255 bytes");
  const size_t ell = (len + b_in_bytes - 1) / b_in_bytes;
  if (len == 0 || ell > 255 || len > 65535) {
    return absl::InvalidArgumentError("expand_message_xmd: output length out of range");
  }
  RETURN_IF_ERROR(EnsureInitialized());
  const uint8_t zpad[s_in_bytes] = {0};
  uint8_t b0[b_in_bytes];
  uint8_t bi[b_in_bytes];
  crypto_hash_sha512_state st;
  // b_0 = H(Z_pad || msg || I2OSP(len, 2) || I2OSP(0, 1) || DST_prime)
  crypto_hash_sha512_init(&st);
  crypto_hash_sha512_update(&st, zpad, sizeof(zpad));
  Sha512Update(&st, msg);
  Sha512Byte(&st, static_cast<uint8_t>(len >> 8));
  Sha512Byte(&st, static_cast<uint8_t>(len));
  Sha512Byte(&st, 0);
  Sha512Update(&st, dst);
  Sha512Byte(&st, static_cast<uint8_t>(dst.size()));
  crypto_hash_sha512_final(&st, b0);
  std::string out;
  out.reserve(ell * b_in_bytes);
  // b_1 = H(b_0 || I2OSP(1, 1) || DST_prime); b_i = H(strxor(b_0, b_(i-1)) || I2OSP(i, 1) || DST_prime)
  for (size_t i = 1; i <= ell; ++i) {
    uint8_t x[b_in_bytes];
    for (size_t j = 0; j < b_in_bytes; ++j) x[j] = i == 1 ? b0[j] : static_cast<uint8_t>(b0[j] ^ bi[j]);
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, x, sizeof(x));
    Sha512Byte(&st, static_cast<uint8_t>(i));
    Sha512Update(&st, dst);
    Sha512Byte(&st, static_cast<uint8_t>(dst.size()));
    crypto_hash_sha512_final(&st, bi);
    out.append(reinterpret_cast<const char*>(bi), b_in_bytes);
  }
  out.resize(len);
  return out;
}

absl::Status ValidateElements(std::string_view elements) {
  RETURN_IF_ERROR(EnsureInitialized());
  if (elements.size() % kElementBytes != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("group elements must be 32 bytes each, got ", elements.size(), " bytes"));
  }
  for (size_t i = 0; i < elements.size() / kElementBytes; ++i) {
    const auto* e = reinterpret_cast<const uint8_t*>(elements.data()) + i * kElementBytes;
    // The identity's canonical encoding is 32 zero bytes.
    if (crypto_core_ristretto255_is_valid_point(e) != 1 || sodium_is_zero(e, kElementBytes)) {
      return absl::InvalidArgumentError(
          absl::StrCat("element ", i, " is not a valid non-identity group element"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ServerKey> ServerKey::Generate() {
  ASSIGN_OR_RETURN(SecretBytes s, SecretBytes::Allocate(kScalarBytes));
  crypto_core_ristretto255_scalar_random(s.unsafe_bytes());
  return ServerKey(std::move(s));
}

absl::StatusOr<ServerKey> ServerKey::Derive(std::string_view seed, std::string_view info) {
  if (seed.size() != 32) return absl::InvalidArgumentError("key seed must be 32 bytes");
  if (info.size() > 65535) return absl::InvalidArgumentError("key info longer than 65535 bytes");
  ASSIGN_OR_RETURN(SecretBytes s, SecretBytes::Allocate(kScalarBytes));
  // deriveInput = seed || I2OSP(len(info), 2) || info; skS = HashToScalar(deriveInput || I2OSP(counter, 1))
  std::string derive_input(seed);
  derive_input.push_back(static_cast<char>(info.size() >> 8));
  derive_input.push_back(static_cast<char>(info.size()));
  derive_input.append(info);
  const std::string dst = DeriveKeyPairDst();
  for (int counter = 0; counter < 256; ++counter) {
    std::string msg = derive_input;
    msg.push_back(static_cast<char>(counter));
    ASSIGN_OR_RETURN(std::string uniform, ExpandMessageXmdSha512(msg, dst, 64));
    crypto_core_ristretto255_scalar_reduce(s.unsafe_bytes(),
                                           reinterpret_cast<const uint8_t*>(uniform.data()));
    sodium_memzero(uniform.data(), uniform.size());
    sodium_memzero(msg.data(), msg.size());
    if (!sodium_is_zero(s.unsafe_bytes(), kScalarBytes)) {
      sodium_memzero(derive_input.data(), derive_input.size());
      return ServerKey(std::move(s));
    }
  }
  return absl::InternalError("DeriveKeyPair: no nonzero scalar");
}

absl::StatusOr<ServerKey> ServerKey::FromSecret(const SecretBytes& scalar) {
  if (scalar.size() != kScalarBytes || !IsCanonicalNonzeroScalar(scalar.unsafe_bytes())) {
    return absl::InvalidArgumentError("an OPRF key must be a canonical nonzero 32-byte scalar");
  }
  ASSIGN_OR_RETURN(SecretBytes s, SecretBytes::CopyFrom(scalar.unsafe_bytes(), kScalarBytes));
  return ServerKey(std::move(s));
}

absl::StatusOr<std::string> ServerKey::BlindEvaluate(std::string_view blinded) const {
  if (blinded.size() % kElementBytes != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("blinded elements must be 32 bytes each, got ", blinded.size(), " bytes"));
  }
  const size_t n = blinded.size() / kElementBytes;
  std::string out(blinded.size(), '\0');
  for (size_t i = 0; i < n; ++i) {
    // Fails (-1) on an encoding that is not a canonical ristretto255 element, and on the
    // identity: the deserialisation checks RFC 9497 requires.
    if (crypto_scalarmult_ristretto255(
            reinterpret_cast<uint8_t*>(out.data()) + i * kElementBytes, scalar_.unsafe_bytes(),
            reinterpret_cast<const uint8_t*>(blinded.data()) + i * kElementBytes) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("blinded element ", i, " is not a valid non-identity group element"));
    }
  }
  return out;
}

absl::StatusOr<BlindBatch> BlindBatch::New(const std::vector<std::string_view>& inputs) {
  return Make(inputs, nullptr);
}

absl::StatusOr<BlindBatch> BlindBatch::NewWithBlinds(const std::vector<std::string_view>& inputs,
                                                     const std::vector<std::string>& blinds) {
  if (blinds.size() != inputs.size()) {
    return absl::InvalidArgumentError("one blind per input is needed");
  }
  return Make(inputs, &blinds);
}

absl::StatusOr<BlindBatch> BlindBatch::Make(const std::vector<std::string_view>& inputs,
                                            const std::vector<std::string>* blinds) {
  RETURN_IF_ERROR(EnsureInitialized());
  ASSIGN_OR_RETURN(SecretBytes scalars, SecretBytes::Allocate(inputs.size() * kScalarBytes));
  std::string blinded(inputs.size() * kElementBytes, '\0');
  const std::string dst = HashToGroupDst();
  uint8_t point[kElementBytes];
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].size() > kMaxInputBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("input ", i, " is longer than ", kMaxInputBytes, " bytes"));
    }
    uint8_t* r = scalars.unsafe_bytes() + i * kScalarBytes;
    if (blinds == nullptr) {
      crypto_core_ristretto255_scalar_random(r);  // never zero
    } else {
      const std::string& b = (*blinds)[i];
      if (b.size() != kScalarBytes ||
          !IsCanonicalNonzeroScalar(reinterpret_cast<const uint8_t*>(b.data()))) {
        return absl::InvalidArgumentError(
            absl::StrCat("blind ", i, " is not a canonical nonzero scalar"));
      }
      std::memcpy(r, b.data(), kScalarBytes);
    }
    absl::Status s = HashToGroup(inputs[i], dst, point);
    if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat("input ", i, ": ", s.message()));
    if (crypto_scalarmult_ristretto255(
            reinterpret_cast<uint8_t*>(blinded.data()) + i * kElementBytes, r, point) != 0) {
      return absl::InternalError(absl::StrCat("blinding input ", i, " failed"));
    }
  }
  sodium_memzero(point, sizeof(point));
  return BlindBatch(inputs.size(), std::move(scalars), std::move(blinded));
}

absl::StatusOr<std::string> BlindBatch::Finalize(const std::vector<std::string_view>& inputs,
                                                 std::string_view evaluated) const {
  if (inputs.size() != size_) {
    return absl::InvalidArgumentError(
        absl::StrCat("finalize: ", inputs.size(), " inputs for a batch of ", size_));
  }
  if (evaluated.size() != size_ * kElementBytes) {
    return absl::InvalidArgumentError(absl::StrCat("finalize: ", evaluated.size(),
                                                   " bytes of evaluated elements for a batch of ",
                                                   size_, " (32 bytes each)"));
  }
  std::string out(size_ * kOutputBytes, '\0');
  if (size_ == 0) return out;
  // The inverses of all blinds with one inversion (Montgomery's trick): prefix products,
  // one inverse of the total, then back to front.
  ASSIGN_OR_RETURN(SecretBytes work, SecretBytes::Allocate((size_ + 1) * kScalarBytes));
  const uint8_t* r = blinds_.unsafe_bytes();
  uint8_t* prefix = work.unsafe_bytes();  // prefix[i] = r_0 * ... * r_i
  uint8_t* inv = work.unsafe_bytes() + size_ * kScalarBytes;
  std::memcpy(prefix, r, kScalarBytes);
  for (size_t i = 1; i < size_; ++i) {
    crypto_core_ristretto255_scalar_mul(prefix + i * kScalarBytes, prefix + (i - 1) * kScalarBytes,
                                        r + i * kScalarBytes);
  }
  if (crypto_core_ristretto255_scalar_invert(inv, prefix + (size_ - 1) * kScalarBytes) != 0) {
    return absl::InternalError("finalize: a blind is zero");
  }
  uint8_t inv_i[kScalarBytes];
  uint8_t unblinded[kElementBytes];
  for (size_t k = size_; k-- > 0;) {
    // inv = (r_0 ... r_k)^-1; inv_i = r_k^-1 = inv * (r_0 ... r_(k-1)).
    if (k > 0) {
      crypto_core_ristretto255_scalar_mul(inv_i, inv, prefix + (k - 1) * kScalarBytes);
      crypto_core_ristretto255_scalar_mul(inv, inv, r + k * kScalarBytes);
    } else {
      std::memcpy(inv_i, inv, kScalarBytes);
    }
    if (crypto_scalarmult_ristretto255(
            unblinded, inv_i, reinterpret_cast<const uint8_t*>(evaluated.data()) + k * kElementBytes) != 0) {
      sodium_memzero(inv_i, sizeof(inv_i));
      return absl::InvalidArgumentError(
          absl::StrCat("evaluated element ", k, " is not a valid non-identity group element"));
    }
    FinalizeHash(inputs[k], unblinded, reinterpret_cast<uint8_t*>(out.data()) + k * kOutputBytes);
  }
  sodium_memzero(inv_i, sizeof(inv_i));
  sodium_memzero(unblinded, sizeof(unblinded));
  return out;
}

absl::StatusOr<std::string> Evaluate(const ServerKey& key, std::string_view input) {
  RETURN_IF_ERROR(EnsureInitialized());
  if (input.size() > kMaxInputBytes) return absl::InvalidArgumentError("input too long");
  uint8_t point[kElementBytes];
  uint8_t evaluated[kElementBytes];
  RETURN_IF_ERROR(HashToGroup(input, HashToGroupDst(), point));
  if (crypto_scalarmult_ristretto255(evaluated, key.secret().unsafe_bytes(), point) != 0) {
    return absl::InternalError("evaluation failed");
  }
  std::string out(kOutputBytes, '\0');
  FinalizeHash(input, evaluated, reinterpret_cast<uint8_t*>(out.data()));
  return out;
}

namespace {
constexpr char kKeyFilePrefix[] = "samenzicht-key v1 oprf-ristretto255 ";
}  // namespace

absl::Status GenerateServerKeyFile(const std::string& path, uint32_t epoch) {
  if (epoch == 0) return absl::InvalidArgumentError("the epoch of a key must be at least 1");
  ASSIGN_OR_RETURN(ServerKey key, ServerKey::Generate());
  const int v = sodium_base64_VARIANT_ORIGINAL;
  std::string line = absl::StrCat(kKeyFilePrefix, epoch, " ");
  const size_t head = line.size();
  line.resize(head + sodium_base64_ENCODED_LEN(kScalarBytes, v));
  sodium_bin2base64(line.data() + head, line.size() - head, key.secret().unsafe_bytes(),
                    kScalarBytes, v);
  line.resize(line.size() - 1);  // the terminating NUL
  line.push_back('\n');
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    sodium_memzero(line.data(), line.size());
    if (errno == EEXIST) return absl::AlreadyExistsError(absl::StrCat(path, " exists; a key is never overwritten"));
    return absl::PermissionDeniedError(absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  }
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  sodium_memzero(line.data(), line.size());
  if (!ok) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

absl::StatusOr<EpochKey> LoadServerKeyFile(const std::string& path) {
  ASSIGN_OR_RETURN(SecretBytes text, ReadPrivateFile(path));
  const std::string_view t(reinterpret_cast<const char*>(text.unsafe_bytes()), text.size());
  const std::string_view prefix(kKeyFilePrefix);
  if (t.substr(0, prefix.size()) != prefix) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not an OPRF key file of the key service"));
  }
  size_t p = prefix.size();
  uint64_t epoch = 0;
  while (p < t.size() && t[p] >= '0' && t[p] <= '9' && epoch < (uint64_t{1} << 32)) {
    epoch = epoch * 10 + static_cast<uint64_t>(t[p++] - '0');
  }
  if (epoch == 0 || epoch > UINT32_MAX || p >= t.size() || t[p] != ' ') {
    return absl::InvalidArgumentError(absl::StrCat(path, ": malformed epoch"));
  }
  ++p;
  size_t end = t.find_first_of("\r\n", p);
  if (end == std::string_view::npos) end = t.size();
  ASSIGN_OR_RETURN(SecretBytes scalar, SecretBytes::Allocate(kScalarBytes));
  size_t len = 0;
  if (sodium_base642bin(scalar.unsafe_bytes(), kScalarBytes, t.data() + p, end - p, nullptr, &len,
                        nullptr, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      len != kScalarBytes) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": the key is not 32 bytes of base64"));
  }
  absl::StatusOr<ServerKey> key = ServerKey::FromSecret(scalar);
  if (!key.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", key.status().message()));
  return EpochKey{static_cast<uint32_t>(epoch), std::move(*key)};
}

}  // namespace samenzicht::crypto::oprf
