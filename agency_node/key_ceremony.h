// The shared-key ceremony, as commands (see docs/operations.md):
//   node:   agency-node box-keygen --out box.key            -> prints the node's public box key
//   admin:  agency-node key-seal --key shared.key --recipient PUB --out police.sealed
//   node:   agency-node key-open --sealed police.sealed --box-key box.key --out hashing.key
//   both:   agency-node key-fingerprint --key FILE          -> compare out of band
// The shared hashing key never travels or rests in the clear outside a node.
#ifndef SAMENZICHT_AGENCY_NODE_KEY_CEREMONY_H_
#define SAMENZICHT_AGENCY_NODE_KEY_CEREMONY_H_

#include <ostream>
#include <string>

#include "absl/status/status.h"

namespace samenzicht::agency_node {

// Writes an X25519 box key (mode 0600) and prints its base64 public key.
absl::Status BoxKeygenCommand(const std::string& out, std::ostream& os);
// Seals the hashing key in `key_file` to `recipient_b64`; writes `out` (mode 0644: it is
// safe to send) and prints the key's fingerprint.
absl::Status KeySealCommand(const std::string& key_file, const std::string& recipient_b64,
                            const std::string& out, std::ostream& os);
// Opens a sealed key with the node's box key into a hashing key file (mode 0600).
// Unauthenticated if it was not sealed to this node or was altered.
absl::Status KeyOpenCommand(const std::string& sealed_file, const std::string& box_key,
                            const std::string& out, std::ostream& os);
absl::Status KeyFingerprintCommand(const std::string& key_file, std::ostream& os);

}  // namespace samenzicht::agency_node

#endif  // SAMENZICHT_AGENCY_NODE_KEY_CEREMONY_H_
