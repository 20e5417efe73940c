// A tamper-evident audit trail: hash-chained entries, each signed with Ed25519, and signed
// checkpoints (sequence number + head hash) that a privacy officer keeps outside the system.
//
// Entry i's hash is BLAKE2b-256 over a canonical text of (seq, time, event, actor, details,
// hash of entry i-1); its signature is Ed25519 over that hash. So:
//   - a modified entry no longer matches its hash;
//   - a deleted, inserted or reordered entry breaks the sequence or the chain;
//   - re-hashing everything after a change needs the signing key;
//   - a truncated tail (the last entries dropped) is caught against a kept checkpoint.
// Storage is the caller's: the aggregator keeps entries in its SQLite database, written in
// the same transaction as the event they record, so the trail and the data cannot diverge.
//
// Nothing in an entry may be a token or an identifier: `details` holds counts, ids chosen
// at random by the nodes, digests and reasons.
//
// Thread-safety: `AuditChain` is not thread-safe; the owner serialises appends.
#ifndef SAMENZICHT_AUDIT_CHAIN_H_
#define SAMENZICHT_AUDIT_CHAIN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "crypto/signature.h"

namespace samenzicht::audit {

struct Entry {
  uint64_t seq = 0;          // 1, 2, 3, ... without gaps
  int64_t time_ms = 0;       // Unix time in milliseconds
  std::string event;         // e.g. "batch_received", "query", "retraction", "start"
  std::string actor;         // certificate CN of who caused it, or "aggregator"
  std::string details;       // a JSON object, written by the caller
  std::string prev_hash;     // 32 bytes; zeros for entry 1
  std::string hash;          // 32 bytes
  std::string signature;     // 64 bytes
};

struct Checkpoint {
  uint64_t seq = 0;
  std::string head_hash;     // hash of entry `seq`
  int64_t time_ms = 0;
  std::string public_key;    // 32 bytes: the key that signs the trail
  std::string signature;     // over (seq, head_hash, time_ms)

  // One text line: "samenzicht-audit-checkpoint v1 <seq> <hex hash> <time_ms> <b64 pk> <b64 sig>".
  std::string Serialize() const;
  // InvalidArgument naming what is malformed.
  static absl::StatusOr<Checkpoint> Parse(const std::string& text);
};

// 32 bytes: the hash an entry must carry.
std::string EntryHash(const Entry& e);

class AuditChain {
 public:
  // Continues a trail whose last entry is `last_seq` with hash `last_hash` (0 and "" for a
  // new trail). `signer` must outlive the chain.
  AuditChain(const crypto::Signer* signer, uint64_t last_seq, std::string last_hash);

  // The next entry, hashed and signed; the chain does not advance until `Commit`.
  Entry Next(std::string event, std::string actor, std::string details, int64_t time_ms) const;
  // Call once `e` (made by `Next`) is durably stored.
  void Commit(const Entry& e);

  Checkpoint MakeCheckpoint(int64_t time_ms) const;
  uint64_t last_seq() const { return last_seq_; }

 private:
  const crypto::Signer* signer_;
  uint64_t last_seq_;
  std::string last_hash_;
};

struct VerifyResult {
  uint64_t entries = 0;            // entries checked
  std::string head_hash;           // hash of the last entry
  bool checkpoint_checked = false;
};

// Verifies `entries` (in stored order) against `verifier`: sequence, chain, hashes,
// signatures, and, when given, the checkpoint (its own signature, that entry `seq` exists
// and has `head_hash`). On the first problem returns DataLoss whose message names the entry
// ("entry 17: ...") or, for a truncated tail, the checkpoint.
absl::StatusOr<VerifyResult> Verify(const std::vector<Entry>& entries,
                                    const crypto::Verifier& verifier,
                                    const std::optional<Checkpoint>& checkpoint);

// Verifies a checkpoint's own signature with the key it names. Unauthenticated if not.
absl::Status VerifyCheckpointSignature(const Checkpoint& c);

}  // namespace samenzicht::audit

#endif  // SAMENZICHT_AUDIT_CHAIN_H_
