// Report ids a node derives from the agency's record ids, so that they survive the loss of
// the node's state: re-importing an export after node.db is gone gives every record the
// report id it had, and the aggregator counts nothing twice.
//
//   report_id = hex(first 16 bytes of BLAKE2b-256(key = S, record_id))
//   S = the subkey KeyedHasher derives from the node secret for purpose
//       "samenzicht.report_id.v1", epoch 0, label "report_id"
//
// The node secret is the node's Ed25519 signing key (its 32-byte seed): it never leaves the
// node, is backed up with the node's keys, and differs per node, so two agencies' record
// ids never give the same report id and the aggregator, which holds only the public key,
// cannot compute a report id from a guessed record id. The derivation is a keyed hash, not
// a signature: the key is used for nothing but this input beside signing, and the domain
// string keeps the two uses apart.
//
// Thread-safety: immutable after construction; Derive may be called concurrently.
#ifndef SAMENZICHT_CRYPTO_REPORT_ID_H_
#define SAMENZICHT_CRYPTO_REPORT_ID_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "crypto/keyed_hash.h"
#include "crypto/secret_bytes.h"

namespace samenzicht::crypto {

inline constexpr char kReportIdPurpose[] = "samenzicht.report_id.v1";

class ReportIdDeriver {
 public:
  // From the node's signing key file (key_file.h); the errors of LoadKeyFile.
  static absl::StatusOr<std::unique_ptr<ReportIdDeriver>> FromSigningKeyFile(
      const std::string& path);
  // From a node secret of at least 32 bytes (its first 32 are used). InvalidArgument when
  // shorter.
  static absl::StatusOr<std::unique_ptr<ReportIdDeriver>> New(const SecretBytes& node_secret);

  // 32 lower-case hex characters, the same for the same record id and node secret.
  std::string Derive(std::string_view record_id) const;

 private:
  explicit ReportIdDeriver(std::unique_ptr<KeyedHasher> h) : hasher_(std::move(h)) {}
  std::unique_ptr<KeyedHasher> hasher_;
};

}  // namespace samenzicht::crypto

#endif  // SAMENZICHT_CRYPTO_REPORT_ID_H_
