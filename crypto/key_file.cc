#include "crypto/key_file.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "crypto/init.h"

namespace samenzicht::crypto {
namespace {

constexpr char kMagic[] = "samenzicht-key";

const char* KindName(KeyKind k) {
  switch (k) {
    case KeyKind::kHashing: return "hashing";
    case KeyKind::kStore: return "store";
    case KeyKind::kSigning: return "ed25519";
    case KeyKind::kBox: return "x25519";
  }
  return "?";
}

size_t KindSize(KeyKind k) {
  switch (k) {
    case KeyKind::kSigning: return crypto_sign_SECRETKEYBYTES;
    case KeyKind::kBox: return crypto_box_SECRETKEYBYTES;
    default: return crypto_generichash_KEYBYTES;
  }
}

std::string PublicB64(const unsigned char* pk, size_t n) {
  const int v = sodium_base64_VARIANT_ORIGINAL;
  std::string b(sodium_base64_ENCODED_LEN(n, v), '\0');
  sodium_bin2base64(b.data(), b.size(), pk, n, v);
  b.resize(b.size() - 1);
  return b;
}

// Wipes a std::string's buffer before it is released.
struct Wiper {
  std::string& s;
  ~Wiper() { sodium_memzero(s.data(), s.size()); }
};

}  // namespace

namespace {

// Opens `path` for reading without following a symbolic link and checks, on the open file,
// that it is a regular file of this process's user (or root) that no one else can read.
// Returns the descriptor, which the caller closes.
absl::StatusOr<int> OpenPrivateFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("key file not found: ", path));
    if (errno == ELOOP) {
      return absl::FailedPreconditionError(absl::StrCat(
          "key file ", path, " is a symbolic link; name the key file itself"));
    }
    return absl::PermissionDeniedError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  struct stat st;
  absl::Status status;
  if (::fstat(fd, &st) != 0) {
    status = absl::PermissionDeniedError(absl::StrCat("cannot stat ", path, ": ", std::strerror(errno)));
  } else if (!S_ISREG(st.st_mode)) {
    status = absl::FailedPreconditionError(absl::StrCat("key file ", path, " is not a regular file"));
  } else if (st.st_uid != ::geteuid() && st.st_uid != 0) {
    status = absl::FailedPreconditionError(absl::StrFormat(
        "key file %s is owned by user id %d, not by this process's user (id %d) or root; "
        "fix with: chown $(id -un) %s",
        path, st.st_uid, ::geteuid(), path));
  } else if ((st.st_mode & 077) != 0) {
    status = absl::FailedPreconditionError(absl::StrFormat(
        "key file %s has mode %04o and can be read by other users; fix with: chmod 600 %s",
        path, st.st_mode & 07777, path));
  }
  if (!status.ok()) {
    ::close(fd);
    return status;
  }
  // Regular reads from here on.
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

}  // namespace

absl::Status CheckPrivateFile(const std::string& path) {
  ASSIGN_OR_RETURN(int fd, OpenPrivateFile(path));
  ::close(fd);
  return absl::OkStatus();
}

absl::StatusOr<SecretBytes> ReadPrivateFile(const std::string& path) {
  RETURN_IF_ERROR(EnsureInitialized());
  constexpr size_t kMax = 1 << 20;
  ASSIGN_OR_RETURN(int fd, OpenPrivateFile(path));
  struct stat st;
  if (::fstat(fd, &st) != 0 || st.st_size < 0 || static_cast<size_t>(st.st_size) > kMax) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat(path, " is larger than a private key file can be"));
  }
  absl::StatusOr<SecretBytes> buf = SecretBytes::Allocate(static_cast<size_t>(st.st_size));
  if (!buf.ok()) {
    ::close(fd);
    return buf.status();
  }
  size_t off = 0;
  while (off < buf->size()) {
    ssize_t n = ::read(fd, buf->unsafe_bytes() + off, buf->size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  ::close(fd);
  if (off != buf->size()) return absl::InternalError(absl::StrCat("cannot read ", path));
  return buf;
}

absl::StatusOr<std::string> GenerateKeyFile(const std::string& path, KeyKind kind,
                                            uint32_t epoch) {
  RETURN_IF_ERROR(EnsureInitialized());
  std::string public_b64;
  ASSIGN_OR_RETURN(SecretBytes key, SecretBytes::Allocate(KindSize(kind)));
  if (kind == KeyKind::kSigning) {
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    crypto_sign_keypair(pk, key.unsafe_bytes());
    public_b64 = PublicB64(pk, sizeof pk);
  } else if (kind == KeyKind::kBox) {
    unsigned char pk[crypto_box_PUBLICKEYBYTES];
    crypto_box_keypair(pk, key.unsafe_bytes());
    public_b64 = PublicB64(pk, sizeof pk);
  } else {
    randombytes_buf(key.unsafe_bytes(), key.size());
  }
  RETURN_IF_ERROR(WriteKeyFile(path, kind, epoch, key));
  return public_b64;
}

absl::Status WriteKeyFile(const std::string& path, KeyKind kind, uint32_t epoch,
                          const SecretBytes& key) {
  RETURN_IF_ERROR(EnsureInitialized());
  if (key.size() != KindSize(kind)) {
    return absl::InvalidArgumentError(absl::StrCat("a ", KindName(kind), " key is ", KindSize(kind), " bytes"));
  }
  const int v = sodium_base64_VARIANT_ORIGINAL;
  std::string b64(sodium_base64_ENCODED_LEN(key.size(), v), '\0');
  Wiper w1{b64};
  sodium_bin2base64(b64.data(), b64.size(), key.unsafe_bytes(), key.size(), v);
  b64.resize(std::strlen(b64.c_str()));
  std::string line = absl::StrCat(kMagic, " v1 ", KindName(kind), " ", epoch, " ", b64, "\n");
  Wiper w2{line};

  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return absl::AlreadyExistsError(absl::StrCat(path, " already exists; a key is never overwritten"));
    }
    return absl::PermissionDeniedError(absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  }
  ::fchmod(fd, 0600);
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ok = (::fsync(fd) == 0) && ok;
  ok = (::close(fd) == 0) && ok;
  if (!ok) return absl::InternalError(absl::StrCat("cannot write key file ", path));
  return absl::OkStatus();
}

absl::StatusOr<LoadedKey> LoadKeyFile(const std::string& path, KeyKind expected) {
  RETURN_IF_ERROR(EnsureInitialized());
  ASSIGN_OR_RETURN(int fd, OpenPrivateFile(path));
  std::string text(4096, '\0');
  Wiper w{text};
  ssize_t n = ::read(fd, text.data(), text.size());
  ::close(fd);
  if (n < 0) return absl::InternalError(absl::StrCat("cannot read ", path));
  text.resize(static_cast<size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();

  std::vector<absl::string_view> parts = absl::StrSplit(text, ' ');
  if (parts.size() != 5 || parts[0] != kMagic || parts[1] != "v1") {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a samenzicht key file"));
  }
  if (parts[2] != KindName(expected)) {
    return absl::InvalidArgumentError(absl::StrCat(path, " holds a ", parts[2], " key, expected a ",
                                                   KindName(expected), " key"));
  }
  uint32_t epoch = 0;
  for (char c : parts[3]) {
    if (c < '0' || c > '9' || epoch > 100000000) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": bad key epoch"));
    }
    epoch = epoch * 10 + static_cast<uint32_t>(c - '0');
  }
  ASSIGN_OR_RETURN(SecretBytes key, SecretBytes::Allocate(KindSize(expected)));
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(key.unsafe_bytes(), key.size(), parts[4].data(), parts[4].size(), nullptr,
                        &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != parts[4].data() + parts[4].size() || len != key.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": key must be ", key.size(), " bytes of base64"));
  }
  return LoadedKey{expected, epoch, std::move(key)};
}

}  // namespace samenzicht::crypto
