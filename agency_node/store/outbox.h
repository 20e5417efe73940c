// The node's outbox: signed batches that were accepted by the node and are not yet
// acknowledged by the aggregator, kept in `<state_dir>/node.db` (the StateStore's
// database, its own tables; the file and its schema are node_db.h's).
//
//   ASSIGN_OR_RETURN(auto outbox, Outbox::Open(config.state_dir()));
//   RETURN_IF_ERROR(outbox->Enqueue(batches, file_digest));  // durable when this returns
//   ASSIGN_OR_RETURN(std::vector<BuiltBatch> pending, outbox->Pending(50));
//   ... send; on an acknowledgement (any code): outbox->Remove(batch_id) ...
//
// A batch is enqueued signed and with its batch id fixed, so every retry resends the same
// bytes: the aggregator acknowledges a replay with ALREADY_EXISTS and counts nothing twice.
// Until its acknowledgement the outbox holds the signed payload (report ids, categories and
// tokens, never an identifier); it is deleted when the batch is delivered or refused for its
// own content. A refusal for anything else leaves it: a passing state (the aggregator's
// disk, a restart) ends the attempt and the batch is retried; a standing one (another key
// epoch or profile, a permission) holds it until an operator runs `agency-node resend`.
//
// `imported_files` records a BLAKE2b digest of every export file imported, in the same
// transaction as its batches, so a file seen again (a crash before it was moved away, a
// copy) is not imported twice. The daemon's digest also covers the key epoch and the linkage
// profile (Delivery::Import), so after a rotation the same file is imported again.
//
// Thread-safety: not thread-safe; one Outbox per thread. Several processes may share the
// database (SQLite serialises writers; the busy timeout is 5 s).
#ifndef SAMENZICHT_AGENCY_NODE_STORE_OUTBOX_H_
#define SAMENZICHT_AGENCY_NODE_STORE_OUTBOX_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agency_node/store/built_batch.h"
#include "common/sqlite/sqlite.h"

namespace samenzicht::agency_node {

class Outbox {
 public:
  // Opens (creating if needed) `<state_dir>/node.db` (OpenNodeDatabase). The folder must
  // exist (StateStore::Open makes it). SQLite errors as common/sqlite/sqlite.h maps them:
  // Unavailable (locked past the busy timeout), DataLoss (damaged), PermissionDenied, ...
  static absl::StatusOr<std::unique_ptr<Outbox>> Open(const std::string& state_dir);
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Stores `batches` (in order) and, when `source_digest` is not empty, records that file
  // as imported; all in one transaction. AlreadyExists (nothing stored) when
  // `source_digest` was imported before.
  absl::Status Enqueue(const std::vector<BuiltBatch>& batches,
                       const std::string& source_digest = "");
  // True when a file with this digest was imported.
  absl::StatusOr<bool> WasImported(const std::string& source_digest);

  // Up to `limit` batches not yet acknowledged and not held, oldest first, rebuilt as they
  // were made (same batch id, payload and signature). DataLoss when a stored batch does not
  // parse.
  absl::StatusOr<std::vector<BuiltBatch>> Pending(int limit);
  // Number of batches and of reports waiting (not held).
  absl::StatusOr<std::pair<int64_t, int64_t>> Size();

  // Holds a batch the aggregator refused for a reason outside its content (another key
  // epoch or profile, a permission): it stays in the outbox, is not sent again until
  // Release, and `agency-node sent` lists it with `reason` (one line, never an identifier).
  absl::Status Hold(const std::string& batch_id, const std::string& reason);
  struct HeldBatch {
    std::string batch_id;
    int64_t reports = 0;
    std::string reason;
  };
  absl::StatusOr<std::vector<HeldBatch>> Held();
  // Puts every held batch back in the queue (`agency-node resend`); the number released.
  absl::StatusOr<int64_t> Release();
  // Report ids of the batches still in the outbox (queued or held).
  absl::StatusOr<std::vector<std::string>> QueuedReportIds();

  // Replaces a queued batch by `batches` (its reports split into smaller batches, signed
  // again), in one transaction: the aggregator refused it as larger than it accepts.
  // NotFound (nothing changed) when the batch is no longer in the outbox.
  absl::Status Replace(const std::string& batch_id, const std::vector<BuiltBatch>& batches);
  // Drops an acknowledged batch; OK when it is not there (already removed).
  absl::Status Remove(const std::string& batch_id);
  // Counts a failed delivery attempt of every pending batch, with the reason (one line,
  // never an identifier), for `agency-node sent` and the daemon's log.
  absl::Status RecordFailedAttempt(const std::string& reason);

 private:
  explicit Outbox(std::unique_ptr<sqlite::Database> db);
  // Inserts `batches` at the end of the queue (inside the caller's transaction).
  absl::Status Insert(const std::vector<BuiltBatch>& batches);
  std::unique_ptr<sqlite::Database> db_;
};

}  // namespace samenzicht::agency_node

#endif  // SAMENZICHT_AGENCY_NODE_STORE_OUTBOX_H_
