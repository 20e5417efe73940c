// The aggregator's durable state: an SQLite database `aggregator.db` in the data folder.
//
//   ASSIGN_OR_RETURN(auto key, crypto::LoadKeyFile(config.store_key_file(), KeyKind::kStore));
//   ASSIGN_OR_RETURN(auto store, Store::Open(config.data_dir(), key.bytes, rule_names));
//   ASSIGN_OR_RETURN(CommitResult r, store->CommitBatch(batch));   // durable when it returns
//   ASSIGN_OR_RETURN(Dataset d, store->LoadDataset(domain_of_agency));
//
// What is on disk (schema version 8, `PRAGMA user_version`; the SQL of every version and the
// migrations are aggregator/store/schema.h's, checkpoints aggregator/store/checkpointer.h's). Tables `batches` (one row per
// committed batch), `reports` (one row per stored report: agency, batch, signal month and
// key epoch readable; its categories and area, and ALL its tokens in one blob, each sealed
// with the store key, see "Encryption at rest" below), `report_ids` (the report's id as 16 raw bytes, under
// the same row number; deleted with its report), `retracted` (report id as 16 bytes,
// agency, when; so a replayed old batch cannot bring a retracted report back) and `rules`
// (rule name <-> small integer; a probe-rule token's role is stored as the rows
// "rule#anchor" / "rule#probe", see linkage.h). Report ids keep their external form (32
// lower-case hex characters) everywhere outside the database. Version 3 had a `tokens` table
// (one row per token) and text report ids, version 4 the report id as a UNIQUE column of
// `reports`; `Open` converts such a database in one transaction.
//
// Report ids have no index: one on 128 random bits took a random page write per report
// and was most of what ingest wrote. The writer keeps every stored and retracted id in
// memory instead (aggregator/store/report_id_map.h, ~40-55 bytes per id), loaded by
// `LoadReportIds` (the server calls it before listening) or the first write, and loaded
// again when another connection has committed (`PRAGMA data_version`, checked in every
// write transaction).
//
// Encryption at rest (version 8): `reports.facts` (categories and area) and `reports.tokens`
// are sealed with XChaCha20-Poly1305 under a subkey of the store key, bound to the row id
// and its readable columns (aggregator/store/sealed_rows.h); the store key is kept outside
// the data folder, so a copy of the folder or of a backup holds no token and no category.
// `LoadDataset` opens every row; a value that does not open (moved to another row, a
// readable column changed, another key) is DataLoss. Version 8 sealed every older row.
//
// Stored tokens: the opened `reports.tokens` is the concatenation of 34-byte entries, one per token,
//   bytes 0-1   the rule word, little-endian: bits 0-13 the rules.id of the token's rule
//               (with its role, see above; below kMaxRules), bits 14-15 per-token flags,
//               reserved (0 today; kStoredTokenFlags);
//   bytes 2-33  the re-keyed token.
// An empty blob (x'', not sealed) means the report has no (or no longer any) tokens.
//
// No identifier and no agency token ever reaches the database: every token is keyed again
// inside `CommitBatch`, before it is bound to a statement.
//
// Batch digests: `batches.digest` and the `batch_digest` of the audit entries are the
// payload's digest keyed with a subkey of the store key (KeyedBatchDigest), and no node
// signature is kept, so a copy of the database plus the agencies' hashing key cannot
// confirm a guessed identity by recomputing a payload's digest (version 6 keyed the
// digests of older rows; audit entries written before it keep what they recorded).
//
// Audit: table `audit` holds the hash-chained, Ed25519-signed trail (see
// audit/chain.h and audit/aggregator_events.h), table `settings` the administrator's overrides. Once
// `AttachAudit` was called, `CommitBatch`, `Retract`, `Purge` and `SetSetting` write their
// audit entry IN THE SAME TRANSACTION as the change they record, so trail and data never
// diverge; other events (a query, an administrator's action) go through `AppendAudit`,
// which writes them in a group commit's transaction without waiting for the group's
// remaining batches (below). Deleted rows are overwritten (`secure_delete`) and
// `ReclaimSpace` returns their pages.
//
// Durability: WAL, `synchronous=FULL`, never a transaction per report; when `CommitBatch`
// returns OK the batch survives a crash. Group commit: batches that arrive while another
// commit is under way (several nodes at once) are committed together in one transaction
// (up to kMaxCommitGroupReports reports), each with its own audit entry, so the WAL is
// synced once per group. Checkpoints run on a thread of their own (Checkpointer in
// store.cc); the WAL stays near kInlineCheckpointPages pages.
// A batch whose statements fail is answered with its error and the group is committed
// again without it (the others are stored); when the group's transaction itself fails
// (COMMIT, a full disk), nothing of any of its batches is stored and each caller gets the
// error.
// An audit entry (`AppendAudit`) takes the same queue but is not held up by it: it joins the
// transaction of the group being written before that group's next batch, and a group that
// holds an entry takes no batch after its first (the rest waits for the next group), so an
// entry waits for at most one batch and one COMMIT; `AppendAudit` returns once that COMMIT
// is durable (store.cc, WaitForGroupCommit).
// Checkpoints are written at exactly every `checkpoint_every`-th entry.
//
// Thread-safety: all methods may be called concurrently. Writes (`CommitBatch`, `Retract`)
// are serialised on one writer connection; `CommitBatch` re-keys the tokens and converts
// the report ids BEFORE it joins a group, so only the SQL statements are serialised;
// `LoadDataset` opens its own read connection, so queries run concurrently with each
// other and with a write (WAL snapshot isolation). `Retract`, `Purge`, `SetSetting` and
// `RetireKeyEpochsBefore` take the writer connection directly: an audit entry waits for one
// of them under way.
#ifndef SAMENZICHT_AGGREGATOR_STORE_STORE_H_
#define SAMENZICHT_AGGREGATOR_STORE_STORE_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "aggregator/store/dataset.h"
#include "audit/chain.h"
#include "crypto/keyed_hash.h"
#include "crypto/secret_bytes.h"
#include "crypto/signature.h"
#include "samenzicht/v1/report.pb.h"

namespace samenzicht::sqlite {
class Database;
}  // namespace samenzicht::sqlite
namespace samenzicht::crypto {
class RowSealer;  // crypto/row_seal.h
}  // namespace samenzicht::crypto

namespace samenzicht::aggregator {

class Checkpointer;  // aggregator/store/checkpointer.h
struct ReportIdMap;  // aggregator/store/report_id_map.h

// 2: audit and settings tables; 3: reports.key_epoch; 4: tokens as one blob per report,
// report ids as 16-byte blobs; 5: report ids in `report_ids`, without an index; 6:
// `batches.digest` keyed with the store key (see "Batch digests" at the top); 7:
// `reports.version`, raised by each correction (CommitBatch); 8: report rows' categories
// and tokens sealed with the store key ("Encryption at rest").
inline constexpr int kSchemaVersion = 8;
inline constexpr char kDatabaseFileName[] = "aggregator.db";
inline constexpr char kStorePurpose[] = "samenzicht.store.v1";
// The subkey of the store key that keys batch digests (KeyedBatchDigest).
inline constexpr char kBatchDigestPurpose[] = "samenzicht.store.batch-digest.v1";

inline constexpr size_t kReportIdBytes = 16;  // a report id in the database

// The setting under which the store keeps the audit trail's public key (base64), written by
// AttachAudit; not changeable through SetSetting.
inline constexpr char kSettingAuditPublicKey[] = "audit_public_key";

// The setting under which the store keeps the highest report row number it ever gave out,
// written in the transaction that stores new reports; not changeable through SetSetting.
// Row numbers are never reused: a report retracted or purged leaves its number behind, so
// that nothing keyed by row number (the release freeze, stable person ids, a sealed row's
// place) can take a new report for the old one.
inline constexpr char kSettingLastReportRow[] = "last_report_row";

// One token in `reports.tokens` (see the top of this file).
inline constexpr size_t kStoredTokenBytes = 2 + 32;
inline constexpr uint16_t kStoredTokenRuleMask = 0x3fff;  // rules.id, below kMaxRules
inline constexpr uint16_t kStoredTokenFlags = 0xc000;     // two reserved per-token flag bits
inline constexpr int kMaxStoredRuleId = kStoredTokenRuleMask;

// One report of a batch to store. `report` must outlive the call; its tokens must already
// be validated (32 bytes, a rule of the profile given to `Open`).
struct ReportToStore {
  uint32_t index = 0;  // position in the batch, for errors
  const v1::Report* report = nullptr;
};

// WAL pages at which a Store's checkpoint thread copies the WAL into the database file, and
// at which the writer does it itself so the WAL can start over (store.cc, Checkpointer).
inline constexpr int kBackgroundCheckpointPages = 10000;
inline constexpr int kInlineCheckpointPages = 40000;

// The most reports one group commit holds (a batch larger than this is committed alone).
inline constexpr size_t kMaxCommitGroupReports = 50000;

struct BatchToStore {
  std::string batch_id;
  std::string agency;  // node id from the client certificate
  // The payload's (unkeyed) digest, 32 bytes, as the acknowledgement carries it. Never
  // stored as it is: the batch row and the audit entry hold KeyedBatchDigest of it.
  std::string digest;
  int64_t received_unix = 0;
  uint32_t report_count = 0;  // all reports of the batch, including refused ones
  std::vector<ReportToStore> reports;  // the reports that passed validation
  // For the audit entry: how many reports intake refused before the store saw the batch.
  // (The node's signature is not kept: over a payload that is not stored it proves
  // nothing, and it would confirm a guess of the payload.)
  uint32_t refused_before_store = 0;
  // Anomaly figures of the reports that passed validation, for the audit entry (a
  // malicious agency, docs/security.md): their tokens, the most one report carries, and
  // how many carry more than one person's report can under the profile.
  uint64_t tokens = 0;
  uint32_t max_tokens_per_report = 0;
  uint32_t reports_beyond_profile = 0;
  // The hashing-key epoch of the batch's tokens. A report this agency stored
  // under an older epoch has its tokens replaced by the batch's (see CommitBatch).
  uint32_t key_epoch = 0;
};

// Why one report was not stored, decided against the state of the database.
struct StoreRefusal {
  uint32_t index = 0;
  absl::StatusCode code = absl::StatusCode::kOk;
  std::string message;
};

struct CommitResult {
  // The batch id was already committed: nothing changed. `previous_digest` is its keyed
  // digest then (equal to the new one's KeyedBatchDigest for a plain replay).
  bool replayed = false;
  std::string previous_digest;
  // For a replay: what the first commit of the batch id stored (its acknowledgement's
  // counts), so a node whose acknowledgement was lost still learns them.
  uint32_t first_accepted = 0;
  uint32_t first_duplicates = 0;
  uint32_t accepted = 0;    // newly stored
  uint32_t duplicates = 0;  // already stored by the same agency
  uint32_t replaced = 0;    // stored by the same agency under an older key epoch: tokens replaced
  // Of `duplicates` and `replaced`: stored by the same agency with other categories or
  // tokens; the stored report now holds the batch's content under a new version.
  uint32_t corrected = 0;
  std::vector<StoreRefusal> refused;  // stored by another agency, or retracted before
};

struct RetractResult {
  uint32_t retracted = 0;
  std::vector<std::string> not_found;  // unknown, another agency's, or already retracted
};

// A setting written in the transaction of the change that asks for it, with its audit entry
// (`event`, `actor`, `details`; an empty `event` writes none).
struct SettingWrite {
  std::string name, value, event, actor, details;
};
// Reads a setting as the open write transaction sees it ("" when it is not set).
using SettingReader = std::function<absl::StatusOr<std::string>(const std::string& name)>;

// Told by the store, inside the transaction that retracts or corrects reports, which rows
// leave; what it returns is written in that same transaction. The query layer's release
// freeze keeps a record of a report that leaves the place it was frozen in
// (docs/disclosure.md section 3), so that a restart before its next snapshot loses nothing.
class DepartureRecorder {
 public:
  virtual ~DepartureRecorder() = default;
  // Before a retraction's transaction, with no lock of the store held (it may read and
  // write the store).
  virtual void BeforeRetraction() = 0;
  // Inside the write transaction that retracts or corrects the reports of `rows` (store
  // rows), under the store's writer lock: it must not call the store, only `read`. The
  // settings it returns are written in the same transaction, each with its audit entry; an
  // error rolls the whole change back and is returned to its caller.
  virtual absl::StatusOr<std::vector<SettingWrite>> Leaving(const std::vector<int64_t>& rows,
                                                            const SettingReader& read) = 0;
};

// How the audit trail is signed and checkpointed.
struct AuditOptions {
  const crypto::Signer* signer = nullptr;  // not owned; must outlive the store
  std::string checkpoint_dir;              // signed checkpoints are written here
  uint32_t checkpoint_every = 100;         // a checkpoint every N entries (0 = never)
  std::function<int64_t()> clock_ms;       // empty: the system clock
};

struct PurgeResult {
  uint32_t cutoff_month = 0;  // reports of a signal month before this one were deleted
  int64_t reports = 0;        // reports deleted
  int64_t tokens = 0;         // their tokens, deleted with them
};

class Store {
 public:
  // Opens or creates `data_dir`/aggregator.db (folder mode 0700, file mode 0600) and
  // registers `rule_names` (the linkage profile's rules, in profile order: the integers
  // `CommitBatch` uses are indexes into this list).
  // Returns InvalidArgument (store key not 32 bytes, bad rule names), FailedPrecondition
  // (a database of an unknown schema version, or a folder that cannot be made private),
  // DataLoss (the file is not an SQLite database or fails `PRAGMA quick_check`; the
  // message says to restore a backup), and for other SQLite errors the mapping of
  // common/sqlite/sqlite.h (Unavailable: locked past the busy timeout; ResourceExhausted:
  // disk full; Internal otherwise, constraints included: see OpenConnection in store.cc).
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& data_dir,
                                                     const crypto::SecretBytes& store_key,
                                                     const std::vector<std::string>& rule_names);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Stores a batch in one transaction, deciding per report against the database:
  //  - a report id already stored by the same agency counts in `duplicates`, unless it
  //    was stored under an older key epoch than `batch.key_epoch`: then its tokens are
  //    replaced by the batch's and its epoch raised (key rotation), counted in `replaced`;
  //    the report stays one report;
  //  - stored by another agency: refused with AlreadyExists;
  //  - retracted before: refused with FailedPrecondition (never resurrected).
  // A batch id already committed leaves everything unchanged (`replayed`).
  // Returns Internal on an SQLite failure of its statements, Unavailable when the database
  // stays locked past the busy timeout, ResourceExhausted when the disk is full, DataLoss
  // when it is damaged (then nothing of the batch is stored).
  absl::StatusOr<CommitResult> CommitBatch(const BatchToStore& batch);

  // Deletes the given reports of `agency` (rows and tokens, for real) and records the
  // retraction. Ids of other agencies are answered exactly like unknown ids.
  absl::StatusOr<RetractResult> Retract(const std::string& agency,
                                        const std::vector<std::string>& report_ids,
                                        int64_t now_unix);

  // Reads every stored report and token in one read transaction. `domain_of_agency` maps
  // an agency's node id to its v1::Domain (0 when unknown); the agencies are numbered in
  // the order of their first report (Dataset::agencies, ReportFacts::agency).
  absl::StatusOr<Dataset> LoadDataset(
      const std::function<int(const std::string& agency)>& domain_of_agency) const;

  // The district codes of the configuration: a stored `area` that is not one of them (a
  // database written before areas were required) is read as not known by LoadDataset, so
  // it is never published as a row label. Call before serving; empty (the default) keeps
  // every stored area.
  void SetKnownAreas(const std::vector<std::string>& areas);

  // Increases with every committed change; a cached Dataset of the same generation is
  // current.
  uint64_t generation() const { return generation_.load(); }
  // CommitBatch calls waiting for a group commit or inside the one under way.
  size_t PendingCommits() const;
  // The most reports one group holds (default kMaxCommitGroupReports; a batch larger than
  // this is committed alone).
  void SetMaxCommitGroupReports(size_t reports);

  // Reads every stored and retracted report id into memory, which the first write would
  // otherwise do (the server calls this before it listens). Returns how many ids are held.
  // DataLoss when the database holds a report id twice.
  absl::StatusOr<size_t> LoadReportIds();
  // Bytes of memory the report-id map takes (aggregator/store/report_id_map.h).
  size_t ReportIdMemoryBytes() const;
  // For tests: the WAL sizes (pages) of the two checkpoint triggers (defaults
  // kBackgroundCheckpointPages, kInlineCheckpointPages).
  void SetCheckpointPages(int background_pages, int inline_pages);

  const std::string& path() const { return path_; }

  // `payload_digest` (a batch's unkeyed digest) keyed with a subkey of the store key
  // (kBatchDigestPurpose): what `batches.digest` and the audit entries hold. Without the
  // store key it cannot be recomputed from a guessed payload.
  std::string KeyedBatchDigest(std::string_view payload_digest) const;

  // Starts recording audit entries (see the top of this file). Reads the trail's head;
  // FailedPrecondition when the trail in the database is signed with another key than
  // `options.signer`'s (the message names both public keys), InvalidArgument without a
  // signer. Call once, before serving.
  absl::Status AttachAudit(AuditOptions options);
  bool audit_attached() const { return chain_ != nullptr; }

  // Appends one entry, durable when it returns; OK and nothing written when no trail is
  // attached. The entry is written in the group commit's transaction under way (before its
  // next batch) or in the next one, after at most one batch (see the top of this file).
  // Internal on an SQLite failure (then nothing is written; a group whose COMMIT fails is
  // tried again with the entries alone). Every entry chains on the head the database holds
  // when its transaction begins, so another process (the `backup` command) may append to
  // the same trail while the server runs.
  absl::Status AppendAudit(const std::string& event, const std::string& actor,
                           const std::string& details);

  // A signed checkpoint of the current head, also written to the checkpoint folder as
  // `<seq>.checkpoint`. FailedPrecondition when no trail is attached.
  absl::StatusOr<audit::Checkpoint> WriteCheckpoint();

  // Up to `limit` entries from `from_seq` on, in order.
  absl::StatusOr<std::vector<audit::Entry>> ReadAudit(uint64_t from_seq, uint32_t limit) const;
  uint64_t audit_last_seq() const;

  // The administrator's settings (name -> value), empty when none were ever set.
  absl::StatusOr<std::map<std::string, std::string>> LoadSettings() const;
  // Stores a setting and its audit entry (`event`, `actor`, `details`) in one transaction;
  // an empty `event` stores bookkeeping only the caller has already recorded.
  absl::Status SetSetting(const std::string& name, const std::string& value,
                          const std::string& event, const std::string& actor,
                          const std::string& details);

  // Reads settings and writes those `update` returns (each with its audit entry) in one
  // write transaction: a read-modify-write that no other write of the store interleaves.
  // `update` must not call the store, only its reader; its error is returned, nothing
  // written.
  absl::Status UpdateSettings(
      const std::function<absl::StatusOr<std::vector<SettingWrite>>(const SettingReader&)>&
          update);

  // The recorder told of every retraction and correction from now on (not owned; nullptr:
  // none). One at a time: the last set. ClearDepartureRecorder(r) removes `r` if it is the
  // one set, and returns once no call into it is under way.
  void SetDepartureRecorder(DepartureRecorder* recorder);
  void ClearDepartureRecorder(DepartureRecorder* recorder);

  // Deletes, for real, every report whose signal month is before `cutoff_month` (YYYYMM),
  // and every report without a signal month received before `cutoff_unix`, with their
  // tokens; records the purge in the trail in the same transaction (also when nothing
  // expired). Batch and retraction rows stay: they hold no report content and keep a
  // replayed old batch from bringing purged reports back. Internal on SQLite failure.
  absl::StatusOr<PurgeResult> Purge(uint32_t cutoff_month, int64_t cutoff_unix,
                                    const std::string& actor);
  // Key rotation: deletes, for real, the tokens of every report whose key epoch
  // is below `epoch` (they were not re-sent under a current epoch before the switch-over);
  // the reports stay, unlinkable. Recorded in the trail (`key_epoch_retired`) in the same
  // transaction. Returns the number of reports and tokens affected.
  absl::StatusOr<std::pair<int64_t, int64_t>> RetireKeyEpochsBefore(uint32_t epoch,
                                                                    const std::string& actor);

  // Returns the pages freed by deletions to the file system (incremental vacuum, or a
  // full VACUUM for a database made before auto_vacuum was set) and truncates the WAL.
  absl::Status ReclaimSpace();
  // PRAGMA freelist_count: pages held but unused.
  absl::StatusOr<int64_t> FreePages() const;

  // Counts for tests and the operator.
  absl::StatusOr<int64_t> CountRows(const std::string& table) const;

  // For tests: `batch_written` is called inside a group commit's transaction after each of
  // its batches is written, with the batch's place in the group (the writer lock is held:
  // it must not call the store); `audit_waiting` by AppendAudit once its entry is queued
  // (under the queue's lock: it must not call the store either). Set before the first write.
  struct TestHooks {
    std::function<void(size_t batch_in_group)> batch_written;
    std::function<void()> audit_waiting;
  };
  void SetTestHooks(TestHooks hooks) { test_hooks_ = std::move(hooks); }

 private:
  Store(std::string path, std::unique_ptr<sqlite::Database> writer,
        std::unique_ptr<crypto::KeyedHasher> hasher, std::vector<int> rule_ids);

  const std::string path_;
  // The departure recorder; set under recorder_mu_ and write_mu_ (taken in that order), so
  // either lock keeps it. Retract holds recorder_mu_ across BeforeRetraction and its
  // transaction.
  std::mutex recorder_mu_;
  DepartureRecorder* recorder_ = nullptr;
  // Inside an open write transaction: `writes`, each setting with its audit entry (appended
  // to `entries`, the chain advanced; the caller restores the chain when it rolls back).
  absl::Status WriteSettingsInTransaction(const std::vector<SettingWrite>& writes,
                                          std::vector<audit::Entry>* entries);
  // Asks the recorder (if any) about `rows` leaving, and writes what it returns, as above.
  absl::Status RecordLeaving(const std::vector<int64_t>& rows, std::vector<audit::Entry>* entries);
  mutable std::mutex write_mu_;  // guards writer_ (the single writer connection)
  const std::unique_ptr<sqlite::Database> writer_;
  const std::unique_ptr<crypto::KeyedHasher> hasher_;
  std::unique_ptr<crypto::KeyedHasher> digest_hasher_;  // kBatchDigestPurpose; set by Open
  std::unique_ptr<crypto::RowSealer> sealer_;            // report rows; set by Open
  int64_t next_row_ = 0;  // row id of the next new report; 0 = read it (guarded by write_mu_)
  std::vector<std::string> known_areas_;                 // SetKnownAreas; before serving
  const std::vector<int> rule_ids_;  // profile rule index * 3 + v1::TokenRole -> rules.id
  std::atomic<uint64_t> generation_{0};
  // CommitBatch's prepared statements, made on first use and reused; guarded by write_mu_.
  struct WriteStatements;
  std::unique_ptr<WriteStatements> write_statements_;
  // Every report id the store holds, in memory; guarded by write_mu_. SyncReportIds makes
  // it match the database; call it inside a write transaction before consulting it.
  using ReportIds = ReportIdMap;  // aggregator/store/report_id_map.h
  std::unique_ptr<ReportIds> report_ids_;
  absl::Status SyncReportIds();
  absl::Status LoadReportIdsLocked();  // into the empty map; part of SyncReportIds
  std::unique_ptr<Checkpointer> checkpointer_;

  // Group commit (CommitBatch). `commit_mu_` guards the queue and the leader flag; the
  // leader takes write_mu_ for its group's transaction.
  struct EncodedBatch;
  struct PendingCommit;
  struct GroupItems;
  absl::StatusOr<EncodedBatch> Encode(const BatchToStore& batch) const;
  // Queues `me` (a batch or an audit entry) and returns once it is committed or failed,
  // leading groups while no other caller does (store.cc explains how groups are cut).
  void WaitForGroupCommit(PendingCommit* me);
  // Commits one group in one transaction; takes the writer lock.
  void CommitGroup(GroupItems* group);
  // Moves the audit entries waiting in the queue to `audits` (under commit_mu_).
  void TakeWaitingAudits(std::vector<PendingCommit*>* audits);
  // One batch's statements and audit entry inside the group's open transaction; the entry
  // is appended to `entries` and the chain advanced (CommitGroup undoes that on failure).
  absl::StatusOr<CommitResult> WriteBatch(const BatchToStore& batch, const EncodedBatch& enc,
                                          std::vector<audit::Entry>* entries);
  // A new report's row, its values sealed to the row id it gets (the next after the last);
  // returns that id. Inside WriteBatch's transaction.
  absl::StatusOr<int64_t> InsertReport(const BatchToStore& batch, const v1::Report& r,
                                       std::string_view token_blob);
  mutable std::mutex commit_mu_;
  std::condition_variable commit_cv_;
  std::deque<PendingCommit*> commit_queue_;  // batches
  std::deque<PendingCommit*> audit_queue_;   // audit entries (AppendAudit)
  std::atomic<size_t> audits_waiting_{0};    // audit_queue_.size(), read without commit_mu_
  size_t pending_commits_ = 0;  // batches queued + in the group being committed
  size_t max_group_reports_ = kMaxCommitGroupReports;
  bool commit_leader_ = false;

  // Audit, guarded by write_mu_. `AppendInTransaction` needs the lock and an open write
  // transaction; `AfterCommit` advances the chain and writes a due checkpoint.
  absl::StatusOr<audit::Entry> AppendInTransaction(const std::string& event,
                                                   const std::string& actor,
                                                   const std::string& details);
  void AfterCommit(const std::optional<audit::Entry>& entry);
  absl::StatusOr<audit::Checkpoint> WriteCheckpointLocked();
  // The checkpoint of `chain`'s last entry, written to checkpoint_dir when set.
  absl::StatusOr<audit::Checkpoint> WriteCheckpointOf(const audit::AuditChain& chain);
  // Writes the checkpoint of `committed` when its seq is a multiple of checkpoint_every.
  void CheckpointIfDue(const audit::Entry& committed);
  int64_t NowMs() const;
  AuditOptions audit_options_;
  std::unique_ptr<audit::AuditChain> chain_;
  TestHooks test_hooks_;
};

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_STORE_STORE_H_
