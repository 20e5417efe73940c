#include "audit/chain.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "crypto/encoding.h"

namespace samenzicht::audit {
namespace {

constexpr char kEntryDomain[] = "samenzicht.audit.entry.v1";
constexpr char kSignContext[] = "samenzicht.audit.sign.v1";
constexpr char kCheckpointContext[] = "samenzicht.audit.checkpoint.v1";
constexpr char kCheckpointMagic[] = "samenzicht-audit-checkpoint";

std::string CheckpointMessage(uint64_t seq, const std::string& head, int64_t time_ms) {
  return absl::StrCat(seq, "\n", crypto::ToHex(head), "\n", time_ms);
}

}  // namespace

std::string EntryHash(const Entry& e) {
  // Length-prefixed fields: no two different entries have the same canonical text.
  std::string canon;
  for (const std::string& f : {absl::StrCat(e.seq), absl::StrCat(e.time_ms), e.event, e.actor,
                               e.details, e.prev_hash}) {
    absl::StrAppend(&canon, f.size(), ":", f, ";");
  }
  return crypto::Digest(kEntryDomain, canon);
}

AuditChain::AuditChain(const crypto::Signer* signer, uint64_t last_seq, std::string last_hash)
    : signer_(signer), last_seq_(last_seq), last_hash_(std::move(last_hash)) {
  if (last_hash_.empty()) last_hash_ = std::string(crypto::kDigestBytes, '\0');
}

Entry AuditChain::Next(std::string event, std::string actor, std::string details,
                       int64_t time_ms) const {
  Entry e;
  e.seq = last_seq_ + 1;
  e.time_ms = time_ms;
  e.event = std::move(event);
  e.actor = std::move(actor);
  e.details = std::move(details);
  e.prev_hash = last_hash_;
  e.hash = EntryHash(e);
  e.signature = signer_->Sign(kSignContext, e.hash);
  return e;
}

void AuditChain::Commit(const Entry& e) {
  last_seq_ = e.seq;
  last_hash_ = e.hash;
}

Checkpoint AuditChain::MakeCheckpoint(int64_t time_ms) const {
  Checkpoint c;
  c.seq = last_seq_;
  c.head_hash = last_hash_;
  c.time_ms = time_ms;
  c.public_key = signer_->public_key();
  c.signature = signer_->Sign(kCheckpointContext, CheckpointMessage(c.seq, c.head_hash, c.time_ms));
  return c;
}

std::string Checkpoint::Serialize() const {
  return absl::StrCat(kCheckpointMagic, " v1 ", seq, " ", crypto::ToHex(head_hash), " ", time_ms, " ",
                      crypto::Base64Encode(public_key), " ", crypto::Base64Encode(signature), "\n");
}

absl::StatusOr<Checkpoint> Checkpoint::Parse(const std::string& text) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  std::vector<std::string> p = absl::StrSplit(t, ' ');
  if (p.size() != 7 || p[0] != kCheckpointMagic || p[1] != "v1") {
    return absl::InvalidArgumentError("not a samenzicht audit checkpoint");
  }
  Checkpoint c;
  if (!absl::SimpleAtoi(p[2], &c.seq) || !absl::SimpleAtoi(p[4], &c.time_ms)) {
    return absl::InvalidArgumentError("checkpoint: bad sequence number or time");
  }
  if (p[3].size() != 64) return absl::InvalidArgumentError("checkpoint: head hash must be 64 hex characters");
  for (size_t i = 0; i < 32; ++i) {
    int v = 0;
    if (!absl::SimpleHexAtoi(p[3].substr(2 * i, 2), &v)) {
      return absl::InvalidArgumentError("checkpoint: head hash is not hex");
    }
    c.head_hash.push_back(static_cast<char>(v));
  }
  ASSIGN_OR_RETURN(c.public_key, crypto::Base64Decode(p[5]));
  ASSIGN_OR_RETURN(c.signature, crypto::Base64Decode(p[6]));
  return c;
}

absl::Status VerifyCheckpointSignature(const Checkpoint& c) {
  ASSIGN_OR_RETURN(crypto::Verifier v, crypto::Verifier::New(c.public_key));
  absl::Status s = v.Verify(kCheckpointContext, CheckpointMessage(c.seq, c.head_hash, c.time_ms),
                            c.signature);
  if (!s.ok()) return absl::UnauthenticatedError("checkpoint signature does not verify");
  return absl::OkStatus();
}

absl::StatusOr<VerifyResult> Verify(const std::vector<Entry>& entries,
                                    const crypto::Verifier& verifier,
                                    const std::optional<Checkpoint>& checkpoint) {
  VerifyResult r;
  std::string prev(crypto::kDigestBytes, '\0');
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    const uint64_t expected = i + 1;
    if (e.seq != expected) {
      return absl::DataLossError(absl::StrCat("entry ", e.seq, " (position ", expected, "): expected entry ",
                                              expected, ": an entry was deleted, inserted or reordered"));
    }
    if (!crypto::ConstantTimeEquals(e.prev_hash, prev)) {
      return absl::DataLossError(absl::StrCat("entry ", e.seq,
                                              ": does not chain to the entry before it"));
    }
    if (!crypto::ConstantTimeEquals(EntryHash(e), e.hash)) {
      return absl::DataLossError(absl::StrCat("entry ", e.seq, ": content does not match its hash (modified)"));
    }
    if (!verifier.Verify(kSignContext, e.hash, e.signature).ok()) {
      return absl::DataLossError(absl::StrCat("entry ", e.seq, ": signature does not verify"));
    }
    if (checkpoint.has_value() && e.seq == checkpoint->seq &&
        !crypto::ConstantTimeEquals(e.hash, checkpoint->head_hash)) {
      return absl::DataLossError(absl::StrCat("entry ", e.seq,
                                              ": differs from the kept checkpoint (trail rewritten)"));
    }
    prev = e.hash;
    ++r.entries;
  }
  r.head_hash = prev;
  if (checkpoint.has_value()) {
    RETURN_IF_ERROR(VerifyCheckpointSignature(*checkpoint));
    if (checkpoint->seq > entries.size()) {
      return absl::DataLossError(absl::StrCat("the trail ends at entry ", entries.size(),
                                              " but the kept checkpoint covers entry ", checkpoint->seq,
                                              ": entries were removed from the end"));
    }
    r.checkpoint_checked = true;
  }
  return r;
}

}  // namespace samenzicht::audit
