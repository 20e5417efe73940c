#include "crypto/init.h"

#include <sodium.h>

namespace samenzicht::crypto {

absl::Status EnsureInitialized() {
  static const int rc = sodium_init();  // 0: done now, 1: already done, -1: failure
  if (rc < 0) return absl::InternalError("libsodium could not be initialised");
  return absl::OkStatus();
}

}  // namespace samenzicht::crypto
