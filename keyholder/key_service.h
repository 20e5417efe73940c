// The key service's logic, without gRPC: who may evaluate, how much, with which key, and
// the signed trail of every evaluation.
//
// Per call, in this order: the caller's role (only agency certificates; others are refused
// with PermissionDenied and the refusal is recorded), the epoch (NotFound), the batch size
// (InvalidArgument beyond max_elements_per_call), on the second of two services (opened
// with the first service's public key) the first service's receipt (PermissionDenied
// without one that the first signed for this node, epoch and exactly these elements;
// recorded), the node's hourly and daily limits (ResourceExhausted before anything is
// evaluated; recorded), the evaluation (InvalidArgument for an element that is not a valid
// group element; nothing returned), and then one trail entry with the count, committed
// before the answer is returned: an evaluation that is not in the trail is never handed
// out. Every answer carries the service's own signed receipt for it
// (crypto/evaluation_receipt.h), naming that trail entry.
//
// The trail lives in `data_dir/keyholder.db` (SQLite): table `audit` with the columns of
// audit::Entry, written by audit::AuditChain and verified by audit::Verify (`keyholder
// audit verify`). Entries: "start", "evaluation" (actor: the node's certificate name;
// details: epoch, evaluations, the node's totals this hour and day, and on a second service
// receipt_seq: the first service's trail entry of the same evaluation), "limit_refused",
// "limit_refused_repeated", "permission_denied", "receipt_refused" (details: epoch,
// asked, reason). Never a blinded or evaluated element:
// they would be useless to a reader and are not needed to count.
//
// Refusals at a limit are recorded compactly: a node whose daemon retries every 30 s at
// its limit would otherwise add about 120 entries an hour. The first refusal of a node in
// a limit window (the clock hour for the hourly limit, the UTC day for the daily one) is a
// "limit_refused" entry as it happens; the further refusals of that node in that window
// are counted, and written as one "limit_refused_repeated" entry (limit, window_start_ms,
// epoch, refused_calls, asked, first_ms, last_ms) when the node's next call falls outside
// that window or succeeds, when the service stops, or, after a crash, when it starts
// again: the running count is kept in the table `refusals_pending` (one row per node,
// updated at every refusal, not signed) until its entry is in the chain.
//
// The service log (spdlog) follows the trail: the first refusal at a limit is a line as it
// happens, the further ones of that node and window are one line when their
// "limit_refused_repeated" entry is written.
//
// On a second service, each receipt of the first is good for one call: the table
// `receipts_used` (one row per receipt taken: its signature, the node, the first service's
// trail entry, the time) refuses it again ("receipt_refused", reason "reused"), so the
// second service never counts an evaluation the first counted once.
//
// The usage this hour and day is rebuilt from the trail when the service starts, so a
// restart does not reset the limits.
//
// Thread-safety: `Evaluate` may be called concurrently; limits and trail appends are
// serialised, evaluations run in parallel.
#ifndef SAMENZICHT_KEYHOLDER_KEY_SERVICE_H_
#define SAMENZICHT_KEYHOLDER_KEY_SERVICE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "audit/chain.h"
#include "audit/keyholder_trail.h"
#include "common/sqlite/sqlite.h"
#include "crypto/evaluation_receipt.h"
#include "crypto/oprf.h"
#include "crypto/signature.h"
#include "rpc/peer.h"
#include "samenzicht/v1/keyholder.pb.h"

namespace samenzicht::keyholder {

inline constexpr const char* kDatabaseFileName = audit::kKeyholderDatabaseFileName;
// The default limits per node, from a node's normal use: a busy agency sends up to 200
// records a day, and a record costs at most about 30 evaluations (29.4 measured for a
// record in a batch of its own, `keyholder_bench`; 3.5 to 8 a record in a larger export),
// so a normal day is at most about 6,000 evaluations. The hourly limit lets that day's
// work arrive within one hour; the daily limit is five such days. They bound what a stolen
// node certificate (with the aggregator's database) can enumerate: lists of values of
// about 4 million evaluations (national name lists, postcodes, a century of dates) take
// about 133 days at 30,000 a day. A migration's resend needs more: raise them for it.
inline constexpr uint64_t kDefaultPerHour = 6000;
inline constexpr uint64_t kDefaultPerDay = 30000;
inline constexpr uint32_t kDefaultMaxElementsPerCall = 100000;

struct Limits {
  uint64_t per_hour = kDefaultPerHour;
  uint64_t per_day = kDefaultPerDay;
  uint32_t max_elements_per_call = kDefaultMaxElementsPerCall;
  // A signed checkpoint file every this many entries (0: none), in
  // data_dir/checkpoints/<seq>.checkpoint, for the privacy officer to copy out: it makes a
  // truncated tail of the trail detectable.
  uint32_t checkpoint_every = 100;
};
Limits LimitsOf(const v1::KeyholderConfig& config);

class KeyService {
 public:
  using Clock = std::function<int64_t()>;  // Unix time in milliseconds

  // `keys`: one per epoch (InvalidArgument for a repeated epoch or none). Opens or makes
  // the trail in `data_dir` and appends a "start" entry. `signer` (the trail's key, which
  // also signs the receipts) must outlive the service. `first_service`: on the second of
  // two services, the first service's trail public key; every call must then carry its
  // receipt.
  static absl::StatusOr<std::unique_ptr<KeyService>> Open(
      std::vector<crypto::oprf::EpochKey> keys, const std::string& data_dir, Limits limits,
      const crypto::Signer* signer, Clock clock = nullptr,
      std::optional<crypto::Verifier> first_service = std::nullopt);
  // The same from a configuration: key files loaded, paths already resolved;
  // InvalidArgument for a first_service_public_key that is not a base64 Ed25519 key.
  static absl::StatusOr<std::unique_ptr<KeyService>> FromConfig(
      const v1::KeyholderConfig& config, const crypto::Signer* signer, Clock clock = nullptr);

  struct Evaluation {
    std::string elements;              // 32 bytes each, in the order asked
    crypto::EvaluationReceipt receipt;  // this service's, signed, for `elements`
  };
  // The evaluated elements of `blinded` (32 bytes each) under the key of `epoch`, with
  // this service's receipt. `presented`: the first service's receipt (may be null; on a
  // second service a call without a valid one is PermissionDenied).
  absl::StatusOr<Evaluation> EvaluateBatch(const rpc::Peer& caller, uint32_t epoch, std::string_view blinded,
                                           const crypto::EvaluationReceipt* presented);
  // EvaluateBatch without a receipt, the elements only.
  absl::StatusOr<std::string> Evaluate(const rpc::Peer& caller, uint32_t epoch, std::string_view blinded);

  // The trail's (and the receipts') public key, 32 raw bytes.
  std::string public_key() const { return signer_->public_key(); }

  // Evaluations of `node` this clock hour and day (tests, and the log).
  uint64_t UsedThisHour(const std::string& node);
  uint64_t UsedToday(const std::string& node);

  // Writes the counted repeated refusals ("limit_refused_repeated").
  ~KeyService();

 private:
  struct Usage {
    int64_t hour = -1, day = -1;  // the window each count is for
    uint64_t in_hour = 0, in_day = 0;
  };
  // The refusals of one node after the first in one limit window, not yet in the chain.
  struct Repeated {
    std::string limit;         // "hour" or "day"
    int64_t window_start = 0;  // Unix ms of the window's start
    uint32_t epoch = 0;
    uint64_t calls = 0, asked = 0;
    int64_t first_ms = 0, last_ms = 0;
  };
  KeyService(Limits limits, const crypto::Signer* signer, Clock clock, std::string data_dir)
      : limits_(limits), signer_(signer), clock_(std::move(clock)), data_dir_(std::move(data_dir)) {}
  // `seq`: where the entry's sequence number is put (may be null).
  absl::Status Append(const std::string& event, const std::string& actor,
                      const std::string& details, int64_t now, uint64_t* seq = nullptr);
  // Ok when `presented` is the first service's receipt for this call; otherwise records a
  // "receipt_refused" entry and returns PermissionDenied (Unavailable when it cannot be
  // recorded).
  absl::Status CheckReceipt(const std::string& node, uint32_t epoch, std::string_view blinded,
                            const crypto::EvaluationReceipt* presented);
  void Roll(Usage* u, int64_t now);
  absl::Status LoadUsage(int64_t now);
  // The chain entry for `node`'s counted refusals, if any; forgets them (mu_ held).
  absl::Status FlushRepeated(const std::string& node, int64_t now);
  absl::Status WriteRepeated(const std::string& node, const Repeated& r, int64_t now);
  absl::Status FlushStoredRepeated(int64_t now);  // at the start: rows left by a crash

  const Limits limits_;
  const crypto::Signer* signer_;
  const Clock clock_;
  const std::string data_dir_;
  std::optional<crypto::Verifier> first_service_;
  std::map<uint32_t, crypto::oprf::ServerKey> keys_;
  std::mutex mu_;
  std::unique_ptr<sqlite::Database> db_;
  std::unique_ptr<audit::AuditChain> chain_;
  std::map<std::string, Usage> usage_;
  std::map<std::string, Repeated> repeated_;  // by node; calls == 0: only the first so far
};

using Trail = audit::StoredTrail;
// Reads the trail of `data_dir` read-only (audit::ReadKeyholderTrail). NotFound when there
// is no database.
absl::StatusOr<Trail> ReadTrail(const std::string& data_dir);
// The value of "key": N in the details of a trail entry; 0 when absent.
uint64_t JsonCount(const std::string& details, const std::string& key);

}  // namespace samenzicht::keyholder

#endif  // SAMENZICHT_KEYHOLDER_KEY_SERVICE_H_
