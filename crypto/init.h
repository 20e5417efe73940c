#ifndef SAMENZICHT_CRYPTO_INIT_H_
#define SAMENZICHT_CRYPTO_INIT_H_

#include "absl/status/status.h"

namespace samenzicht::crypto {

// Initialises libsodium once (thread-safe). Internal if it cannot.
absl::Status EnsureInitialized();

}  // namespace samenzicht::crypto

#endif  // SAMENZICHT_CRYPTO_INIT_H_
