// Durable delivery on the agency node: import into the outbox, drain it to the aggregator,
// and `agency-node serve`, the daemon that does both until it is told to stop.
//
//   ASSIGN_OR_RETURN(auto node, Delivery::New(config));
//   ASSIGN_OR_RETURN(ImportResult r, node->Import("export.csv"));   // durable when OK
//   absl::StatusOr<SubmitSummary> sent = node->DrainOnce();          // acked batches leave
//
// Delivery is at least once; report ids (StateStore; derived from the record id with the
// node's signing key, so the same after the state folder is lost) and fixed batch ids make
// it count exactly once at the aggregator. A batch leaves the outbox when it gets an
// acknowledgement, whatever its code (a refusal is final and is in the sent log); a stream
// that breaks (aggregator unreachable, killed, ...) leaves every unacknowledged batch
// queued for the next attempt.
//
// The daemon (RunDaemon) polls `import_dir` for `*.csv` files whose size and modification
// time did not change over one poll interval, imports each once (by digest) and moves it
// to `import_dir/done/`. A file that cannot be read at all (unknown column, no header ...)
// goes to `import_dir/failed/` with an error in the log; so does a file that did not arrive
// whole (a record not sent: PreparedReports::incomplete), after its
// whole records were queued. Next to a failed file `<name>.report.csv` lists its rows
// (line, record id, field, outcome, reason; never a value). It drains the outbox whenever it
// holds batches; after a failed attempt it waits retry_initial_ms, doubling up to
// retry_max_ms, each delay drawn uniformly from [d/2, d] (jitter) so that nodes restarted
// together do not retry together. When `stop` fires it finishes the stream in flight (its
// acknowledged batches are recorded; the others stay queued) and returns OK.
//
// Thread-safety: a Delivery is not thread-safe; StopSignal is.
#ifndef SAMENZICHT_AGENCY_NODE_DAEMON_H_
#define SAMENZICHT_AGENCY_NODE_DAEMON_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include <spdlog/spdlog.h>

#include "absl/status/statusor.h"
#include "agency_node/intake_client.h"
#include "agency_node/normalise.h"
#include "agency_node/store/outbox.h"
#include "agency_node/pipeline.h"
#include "agency_node/store/state_store.h"
#include "crypto/report_id.h"
#include "crypto/signature.h"
#include "samenzicht/v1/config.pb.h"

namespace samenzicht::agency_node {

// A flag another thread (or a signal-waiting thread) raises; waits end early when it does.
class StopSignal {
 public:
  void Stop() {
    std::lock_guard<std::mutex> l(mu_);
    stopped_ = true;
    cv_.notify_all();
  }
  bool stopped() const {
    std::lock_guard<std::mutex> l(mu_);
    return stopped_;
  }
  // Waits up to `d`; true when stopped.
  bool WaitFor(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, d, [&] { return stopped_; });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
};

// Exponential backoff with jitter: Next() returns a delay in [d/2, d], d = initial * 2^n
// capped at `max`, n the number of failures since the last Reset().
class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, uint64_t seed);
  std::chrono::milliseconds Next();
  void Reset() { failures_ = 0; }
  int failures() const { return failures_; }

 private:
  std::chrono::milliseconds initial_, max_;
  int failures_ = 0;
  std::mt19937_64 rng_;
};

struct ImportResult {
  // The same content was imported before under the same key epoch and linkage profile;
  // nothing done. (Under another epoch or profile the file is imported again.)
  bool already_imported = false;
  PreparedReports prepared;        // reports moved out; counts and issues stay
  int retracted_dropped = 0;       // records retracted earlier: not queued again
  int retracted_resent = 0;        // records retracted earlier, queued again as new reports
  int reports_queued = 0;
  int batches_queued = 0;
};

class Delivery {
 public:
  // Loads the profile, keys and signer named in `config`, opens the state and the outbox.
  // The errors of CheckKeySource and of those loaders (NotFound, FailedPrecondition for
  // loose key files, ...). Tokens come from the key service when `config` names
  // keyholder_config_file, or when `keyholder` (a KeyholderClientConfig file, `submit
  // --keyholder`; it takes precedence) is given: `hashing_key_file` is then not read.
  // The key service is connected to lazily: unreachable, it fails Import (IsKeyServiceError),
  // not New.
  static absl::StatusOr<std::unique_ptr<Delivery>> New(const v1::NodeConfig& config,
                                                       const Date& today = Today(),
                                                       const std::string& keyholder = "");

  // Reads, tokenises, assigns report ids, signs and enqueues `csv_path`; when this returns
  // OK the reports are durable in the outbox. With `once` the file's digest, with the key
  // epoch and the profile's fingerprint, is recorded in the same transaction and a file
  // imported before under the same epoch and profile is skipped (already_imported); not
  // for a file that did not arrive whole (PreparedReports::incomplete), which is read
  // again each time. The
  // errors of PrepareReports (whole-file problems: InvalidArgument, NotFound) and of the
  // state (Internal, Unavailable).
  // A record this node retracted earlier is left out (retracted_dropped), unless
  // `resend_retracted`: then it is queued as a NEW report (a new report id, derived from the
  // record id and the retracted report id; the retracted report stays retracted at the
  // aggregator, which never takes a retracted id back), counted in retracted_resent.
  absl::StatusOr<ImportResult> Import(const std::string& csv_path, bool once = false,
                                      bool resend_retracted = false);

  // One delivery attempt: sends every queued batch (in streams of at most 50 batches).
  // The summary when every batch got an acknowledgement; otherwise the stream's status
  // (Unavailable naming the address, ...) and the unacknowledged batches stay queued.
  // What an acknowledgement does to its batch (RefusalKind):
  //  - delivered, or refused for its own content (INVALID_ARGUMENT): leaves the outbox;
  //  - refused for a passing state (RESOURCE_EXHAUSTED, UNAVAILABLE, ABORTED, INTERNAL,
  //    ...): stays queued and ends the attempt with Unavailable (the daemon backs off);
  //  - refused as larger than the aggregator takes (RESOURCE_EXHAUSTED with
  //    `max_batch_reports` set: this node's max_batch_reports exceeds the aggregator's):
  //    replaced in the outbox by batches of that size, same report ids, signed again, and
  //    sent on in the same attempt; never retried unchanged;
  //  - refused for a standing state (FAILED_PRECONDITION: another key epoch or profile;
  //    PERMISSION_DENIED, UNAUTHENTICATED, ...): held in the outbox, listed by `sent`,
  //    queued again by `agency-node resend`.
  // When every batch has left, retractions that waited for their batch are sent.
  absl::StatusOr<SubmitSummary> DrainOnce();

  // Called with each refusal (report id, record id, code, reason; batch refusals; held
  // batches) the moment its acknowledgement arrives, whatever happens later in the attempt.
  void set_on_problem(std::function<void(const std::string&)> f) { on_problem_ = std::move(f); }

  Outbox& outbox() { return *outbox_; }
  StateStore& store() { return *store_; }
  const v1::NodeConfig& config() const { return config_; }
  // What the tokens of an import are made with: the hashing key's epoch and the profile's
  // version (a report made under other ones must be sent again, as in a key rotation).
  uint32_t key_epoch() const;
  uint32_t profile_version() const { return profile_.version(); }

 private:
  Delivery() = default;
  // Splits the queued batch `batch_id` (one of `pending`) into batches of at most
  // `max_reports` (see DrainOnce): the number of batches made, or 0 (nothing changed) when
  // it holds no more than that or is not among `pending`.
  absl::StatusOr<int> SplitOversized(const std::string& batch_id, uint32_t max_reports,
                                     const std::vector<BuiltBatch>& pending);
  v1::NodeConfig config_;
  v1::LinkageProfile profile_;
  std::unique_ptr<Tokeniser> tokeniser_;
  std::unique_ptr<crypto::Signer> signer_;
  std::unique_ptr<crypto::ReportIdDeriver> report_ids_;
  std::unique_ptr<Normaliser> normaliser_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<Outbox> outbox_;
  Date today_;
  std::function<void(const std::string&)> on_problem_;

  // Retracts the reports whose retraction waited for their batch, once it has left.
  absl::Status SendQueuedRetractions();
};

// InvalidArgument, naming both settings, when `config` names both hashing_key_file and
// keyholder_config_file, or neither (and `keyholder_flag`, a key service given on the
// command line, is false).
absl::Status CheckKeySource(const v1::NodeConfig& config, bool keyholder_flag);

// What a batch acknowledgement's code means for the batch (Delivery::DrainOnce).
enum class RefusalKind { kFinal, kRetry, kHold };
RefusalKind RefusalKindOf(int code);

// The daemon loop described above, until `stop`. InvalidArgument when `import_dir` is not
// set; the errors of Delivery::New. Import and delivery problems are logged, never fatal.
absl::Status RunDaemon(const v1::NodeConfig& config, StopSignal& stop, spdlog::logger& log);

// `agency-node serve`: loads the config, stops on SIGTERM or SIGINT (blocked in every
// thread, taken by a waiting thread), runs RunDaemon. Call before any other thread starts.
absl::Status ServeCommand(const std::string& config_path, spdlog::logger& log);

}  // namespace samenzicht::agency_node

#endif  // SAMENZICHT_AGENCY_NODE_DAEMON_H_
