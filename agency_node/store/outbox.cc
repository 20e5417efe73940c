#include "agency_node/store/outbox.h"

#include <ctime>

#include "absl/strings/str_cat.h"
#include "agency_node/store/node_db.h"
#include "common/status_macros.h"
#include "crypto/encoding.h"
#include "model/tokens.h"

namespace samenzicht::agency_node {

absl::StatusOr<std::unique_ptr<Outbox>> Outbox::Open(const std::string& state_dir) {
  ASSIGN_OR_RETURN(auto db, OpenNodeDatabase(state_dir, "node outbox"));
  return std::unique_ptr<Outbox>(new Outbox(std::move(db)));
}

Outbox::Outbox(std::unique_ptr<sqlite::Database> db) : db_(std::move(db)) {}

Outbox::~Outbox() = default;

absl::Status Outbox::Enqueue(const std::vector<BuiltBatch>& batches,
                             const std::string& source_digest) {
  ASSIGN_OR_RETURN(sqlite::Transaction tx, sqlite::Transaction::Begin(*db_));
  int64_t reports = 0;
  for (const auto& b : batches) reports += static_cast<int64_t>(b.log.size());
  if (!source_digest.empty()) {
    ASSIGN_OR_RETURN(sqlite::Statement ins,
                     db_->Prepare("INSERT OR IGNORE INTO imported_files(digest_hex, batches, "
                                  "reports, at_unix) VALUES (?, ?, ?, ?)"));
    ins.Bind(1, source_digest).Bind(2, static_cast<int64_t>(batches.size())).Bind(3, reports);
    RETURN_IF_ERROR(ins.Bind(4, static_cast<int64_t>(time(nullptr))).Run());
    if (db_->Changes() == 0) return absl::AlreadyExistsError("this file was imported before");
  }
  RETURN_IF_ERROR(Insert(batches));
  return tx.Commit();
}

absl::Status Outbox::Insert(const std::vector<BuiltBatch>& batches) {
  ASSIGN_OR_RETURN(sqlite::Statement ins,
                   db_->Prepare("INSERT INTO outbox(batch_id, signed_batch, report_count, "
                                "created_unix) VALUES (?, ?, ?, ?)"));
  for (const BuiltBatch& b : batches) {
    std::string bytes;
    if (!b.signed_batch.SerializeToString(&bytes)) {
      return absl::InternalError("cannot serialise a signed batch");
    }
    ins.Bind(1, b.batch_id).BindBlob(2, bytes).Bind(3, static_cast<int64_t>(b.log.size()));
    RETURN_IF_ERROR(ins.Bind(4, b.created_unix).Run());
  }
  return absl::OkStatus();
}

absl::Status Outbox::Replace(const std::string& batch_id, const std::vector<BuiltBatch>& batches) {
  ASSIGN_OR_RETURN(sqlite::Transaction tx, sqlite::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(sqlite::Statement del, db_->Prepare("DELETE FROM outbox WHERE batch_id = ?"));
  RETURN_IF_ERROR(del.Bind(1, batch_id).Run());
  if (db_->Changes() == 0) {
    return absl::NotFoundError(absl::StrCat("node outbox: batch ", batch_id, " is not queued"));
  }
  RETURN_IF_ERROR(Insert(batches));
  return tx.Commit();
}

absl::StatusOr<bool> Outbox::WasImported(const std::string& source_digest) {
  ASSIGN_OR_RETURN(sqlite::Statement s,
                   db_->Prepare("SELECT 1 FROM imported_files WHERE digest_hex = ?"));
  return s.Bind(1, source_digest).Step();
}

absl::StatusOr<std::vector<BuiltBatch>> Outbox::Pending(int limit) {
  ASSIGN_OR_RETURN(
      sqlite::Statement s,
      db_->Prepare("SELECT batch_id, signed_batch, created_unix FROM outbox WHERE held = 0 "
                   "ORDER BY seq LIMIT ?"));
  s.Bind(1, limit);
  std::vector<BuiltBatch> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    BuiltBatch b;
    b.batch_id = s.Text(0);
    b.created_unix = s.Int(2);
    v1::BatchPayload payload;
    if (!b.signed_batch.ParseFromString(s.Blob(1)) ||
        !payload.ParseFromString(b.signed_batch.payload())) {
      return absl::DataLossError(absl::StrCat("node outbox: batch ", b.batch_id,
                                              " does not parse; the database is damaged"));
    }
    b.digest = BatchDigest(b.signed_batch.payload());
    for (const v1::Report& r : payload.reports()) {
      b.log.push_back({r.report_id(), CategoriesSummary(r), model::TokenCount(r)});
    }
    out.push_back(std::move(b));
  }
  return out;
}

absl::StatusOr<std::pair<int64_t, int64_t>> Outbox::Size() {
  ASSIGN_OR_RETURN(sqlite::Statement s,
                   db_->Prepare("SELECT COUNT(*), COALESCE(SUM(report_count), 0) FROM outbox "
                                "WHERE held = 0"));
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return absl::InternalError("node outbox: counting pending batches returned no row");
  return std::make_pair(s.Int(0), s.Int(1));
}

absl::Status Outbox::Remove(const std::string& batch_id) {
  ASSIGN_OR_RETURN(sqlite::Statement s, db_->Prepare("DELETE FROM outbox WHERE batch_id = ?"));
  return s.Bind(1, batch_id).Run();
}

absl::Status Outbox::RecordFailedAttempt(const std::string& reason) {
  ASSIGN_OR_RETURN(sqlite::Statement s,
                   db_->Prepare("UPDATE outbox SET attempts = attempts + 1, last_error = ? "
                                "WHERE held = 0"));
  return s.Bind(1, reason.substr(0, 500)).Run();
}

absl::Status Outbox::Hold(const std::string& batch_id, const std::string& reason) {
  ASSIGN_OR_RETURN(sqlite::Statement s,
                   db_->Prepare("UPDATE outbox SET held = 1, held_reason = ?, "
                                "attempts = attempts + 1, last_error = ? WHERE batch_id = ?"));
  const std::string r = reason.substr(0, 500);
  return s.Bind(1, r).Bind(2, r).Bind(3, batch_id).Run();
}

absl::StatusOr<std::vector<Outbox::HeldBatch>> Outbox::Held() {
  ASSIGN_OR_RETURN(sqlite::Statement s,
                   db_->Prepare("SELECT batch_id, report_count, held_reason FROM outbox "
                                "WHERE held = 1 ORDER BY seq"));
  std::vector<HeldBatch> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return out;
    out.push_back({s.Text(0), s.Int(1), s.Text(2)});
  }
}

absl::StatusOr<int64_t> Outbox::Release() {
  ASSIGN_OR_RETURN(sqlite::Statement s,
                   db_->Prepare("UPDATE outbox SET held = 0, held_reason = '' WHERE held = 1"));
  RETURN_IF_ERROR(s.Run());
  return static_cast<int64_t>(db_->Changes());
}

absl::StatusOr<std::vector<std::string>> Outbox::QueuedReportIds() {
  ASSIGN_OR_RETURN(sqlite::Statement s, db_->Prepare("SELECT signed_batch FROM outbox"));
  std::vector<std::string> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return out;
    v1::SignedBatch signed_batch;
    v1::BatchPayload payload;
    if (!signed_batch.ParseFromString(s.Blob(0)) ||
        !payload.ParseFromString(signed_batch.payload())) {
      return absl::DataLossError(
          "node outbox: a queued batch does not parse; the database is damaged");
    }
    for (const v1::Report& r : payload.reports()) out.push_back(r.report_id());
  }
}

}  // namespace samenzicht::agency_node
