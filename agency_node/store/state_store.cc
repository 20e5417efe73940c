#include "agency_node/store/state_store.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "agency_node/store/node_db.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "crypto/encoding.h"
#include "model/ack_notes.h"

namespace samenzicht::agency_node {

bool AckDelivered(int code) {
  return code == static_cast<int>(absl::StatusCode::kOk) ||
         code == static_cast<int>(absl::StatusCode::kAlreadyExists);
}

uint32_t AckCorrected(const v1::BatchAck& ack) {
  return std::max(ack.corrected(), model::CorrectedInAckMessage(ack.message()));
}

absl::StatusOr<std::unique_ptr<StateStore>> StateStore::Open(const std::string& state_dir) {
  if (state_dir.empty()) return absl::InvalidArgumentError("state_dir is not set");
  RETURN_IF_ERROR(files::MakeDirs(state_dir));
  if (chmod(state_dir.c_str(), 0700) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat(state_dir, ": cannot set mode 0700: ", std::strerror(errno)));
  }
  ASSIGN_OR_RETURN(auto db, OpenNodeDatabase(state_dir, "node state"));
  return std::unique_ptr<StateStore>(new StateStore(std::move(db)));
}

StateStore::StateStore(std::unique_ptr<sqlite::Database> db) : db_(std::move(db)) {}

StateStore::~StateStore() = default;

const std::string& StateStore::path() const { return db_->path(); }

absl::StatusOr<std::vector<std::string>> StateStore::AssignReportIds(
    const std::vector<std::string>& record_ids,
    const std::function<std::string(const std::string&)>& new_id) {
  ASSIGN_OR_RETURN(sqlite::Transaction tx, sqlite::Transaction::Begin(*db_));
  std::vector<std::string> out;
  out.reserve(record_ids.size());
  ASSIGN_OR_RETURN(sqlite::Statement find,
                   db_->Prepare("SELECT report_id FROM report_map WHERE record_id = ?"));
  ASSIGN_OR_RETURN(sqlite::Statement insert,
                   db_->Prepare("INSERT INTO report_map(record_id, report_id, first_seen_unix) "
                                "VALUES (?, ?, ?)"));
  const int64_t now = time(nullptr);
  for (const std::string& rid : record_ids) {
    ASSIGN_OR_RETURN(bool found, find.Bind(1, rid).Step());
    if (found) out.push_back(find.Text(0));
    find.Reset();
    if (found) continue;
    std::string report_id = new_id ? new_id(rid) : crypto::RandomId();
    RETURN_IF_ERROR(insert.Bind(1, rid).Bind(2, report_id).Bind(3, now).Run());
    out.push_back(std::move(report_id));
  }
  RETURN_IF_ERROR(tx.Commit());
  return out;
}

absl::StatusOr<std::string> StateStore::FindReportId(const std::string& record_id) {
  ASSIGN_OR_RETURN(sqlite::Statement s,
                   db_->Prepare("SELECT report_id FROM report_map WHERE record_id = ?"));
  ASSIGN_OR_RETURN(bool found, s.Bind(1, record_id).Step());
  if (!found) return absl::NotFoundError("record id was never sent by this node");
  return s.Text(0);
}

absl::Status StateStore::ReissueReportId(const std::string& record_id,
                                         const std::string& report_id) {
  ASSIGN_OR_RETURN(sqlite::Statement s,
                   db_->Prepare("UPDATE report_map SET report_id = ? WHERE record_id = ?"));
  RETURN_IF_ERROR(s.Bind(1, report_id).Bind(2, record_id).Run());
  if (db_->Changes() == 0) {
    return absl::NotFoundError("record id was never sent by this node");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> StateStore::FindRecordId(const std::string& report_id) {
  ASSIGN_OR_RETURN(sqlite::Statement s,
                   db_->Prepare("SELECT record_id FROM report_map WHERE report_id = ?"));
  ASSIGN_OR_RETURN(bool found, s.Bind(1, report_id).Step());
  if (!found) return absl::NotFoundError("unknown report id");
  return s.Text(0);
}

absl::Status StateStore::RecordSent(const SentBatch& b, const std::vector<SentReport>& reports) {
  ASSIGN_OR_RETURN(sqlite::Transaction tx, sqlite::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(sqlite::Statement ins,
                   db_->Prepare("INSERT OR IGNORE INTO sent_batches(batch_id, digest_hex, "
                                "report_count, created_unix, sent_unix) VALUES (?, ?, ?, ?, ?)"));
  ins.Bind(1, b.batch_id).Bind(2, b.digest_hex).Bind(3, b.report_count);
  RETURN_IF_ERROR(ins.Bind(4, b.created_unix).Bind(5, b.sent_unix).Run());
  ASSIGN_OR_RETURN(sqlite::Statement rep,
                   db_->Prepare("INSERT OR IGNORE INTO sent_reports(batch_id, position, "
                                "report_id, categories, token_count) VALUES (?, ?, ?, ?, ?)"));
  for (size_t i = 0; i < reports.size(); ++i) {
    rep.Bind(1, b.batch_id).Bind(2, static_cast<int64_t>(i)).Bind(3, reports[i].report_id);
    RETURN_IF_ERROR(rep.Bind(4, reports[i].categories).Bind(5, reports[i].token_count).Run());
  }
  return tx.Commit();
}

absl::Status StateStore::RecordAck(const v1::BatchAck& ack, int64_t now_unix) {
  ASSIGN_OR_RETURN(sqlite::Transaction tx, sqlite::Transaction::Begin(*db_));
  {
    // A replay (ALREADY_EXISTS) of a batch whose delivery was acknowledged before (the node
    // stopped before the batch left the outbox) keeps the first acknowledgement's counts.
    ASSIGN_OR_RETURN(sqlite::Statement prev,
                     db_->Prepare("SELECT ack_code FROM sent_batches WHERE batch_id = ?"));
    ASSIGN_OR_RETURN(bool found, prev.Bind(1, ack.batch_id()).Step());
    if (found && !prev.IsNull(0) && AckDelivered(static_cast<int>(prev.Int(0))) &&
        ack.code() == static_cast<int>(absl::StatusCode::kAlreadyExists)) {
      return absl::OkStatus();
    }
  }
  // RefusedReports (state_store.h), with the batch's report count from its row.
  ASSIGN_OR_RETURN(
      sqlite::Statement up,
      db_->Prepare("UPDATE sent_batches SET ack_code = ?, ack_message = ?, accepted = ?, "
                   "duplicates = ?, refused_reports = CASE WHEN ? THEN ? ELSE report_count END, "
                   "ack_unix = ?, corrected = ?, rekeyed = ? WHERE batch_id = ?"));
  const bool listed = ack.errors_size() > 0 || AckDelivered(ack.code());
  up.Bind(1, ack.code()).Bind(2, ack.message()).Bind(3, int64_t{ack.accepted()});
  up.Bind(4, int64_t{ack.duplicates()}).Bind(5, int64_t{listed});
  up.Bind(6, static_cast<int64_t>(ack.errors_size()));
  up.Bind(7, now_unix).Bind(8, int64_t{AckCorrected(ack)}).Bind(9, int64_t{ack.rekeyed()});
  RETURN_IF_ERROR(up.Bind(10, ack.batch_id()).Run());
  if (db_->Changes() == 0) {
    return absl::NotFoundError("acknowledgement for a batch this node did not log");
  }
  ASSIGN_OR_RETURN(sqlite::Statement err,
                   db_->Prepare("UPDATE sent_reports SET error_code = ?, error_field = ?, "
                                "error_message = ? WHERE batch_id = ? AND position = ?"));
  for (const auto& e : ack.errors()) {
    err.Bind(1, e.code()).Bind(2, e.field()).Bind(3, e.message()).Bind(4, ack.batch_id());
    RETURN_IF_ERROR(err.Bind(5, int64_t{e.index()}).Run());
  }
  return tx.Commit();
}

absl::Status StateStore::RecordRetraction(const std::string& report_id, const std::string& outcome,
                                          int64_t now_unix) {
  ASSIGN_OR_RETURN(
      sqlite::Statement s,
      db_->Prepare("INSERT INTO retractions(report_id, outcome, at_unix) VALUES (?, ?, ?)"));
  return s.Bind(1, report_id).Bind(2, outcome).Bind(3, now_unix).Run();
}

absl::StatusOr<std::set<std::string>> StateStore::RetractedReportIds() {
  ASSIGN_OR_RETURN(sqlite::Statement s,
                   db_->Prepare("SELECT report_id FROM retractions WHERE outcome IN "
                                "('retracted', 'queued')"));
  std::set<std::string> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return out;
    out.insert(s.Text(0));
  }
}

absl::StatusOr<std::vector<std::string>> StateStore::QueuedRetractions() {
  ASSIGN_OR_RETURN(
      sqlite::Statement s,
      db_->Prepare("SELECT DISTINCT r.report_id FROM retractions r WHERE r.outcome = 'queued' AND "
                   "NOT EXISTS (SELECT 1 FROM retractions d WHERE d.report_id = r.report_id AND "
                   "d.rowid > r.rowid AND d.outcome IN ('retracted', 'not_found'))"));
  std::vector<std::string> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return out;
    out.push_back(s.Text(0));
  }
}

absl::StatusOr<std::vector<SentBatch>> StateStore::ListSent() {
  ASSIGN_OR_RETURN(
      sqlite::Statement s,
      db_->Prepare(
          "SELECT batch_id, digest_hex, report_count, created_unix, sent_unix, ack_code, "
          "ack_message, accepted, duplicates, refused_reports, ack_unix, corrected, rekeyed "
          "FROM sent_batches "
          "ORDER BY sent_unix, rowid"));
  std::vector<SentBatch> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return out;
    SentBatch b;
    b.batch_id = s.Text(0);
    b.digest_hex = s.Text(1);
    b.report_count = static_cast<int>(s.Int(2));
    b.created_unix = s.Int(3);
    b.sent_unix = s.Int(4);
    if (!s.IsNull(5)) b.ack_code = static_cast<int>(s.Int(5));
    b.ack_message = s.Text(6);
    b.accepted = static_cast<int>(s.Int(7));
    b.duplicates = static_cast<int>(s.Int(8));
    b.refused_reports = static_cast<int>(s.Int(9));
    b.ack_unix = s.Int(10);
    // A batch acknowledged before the column existed: its message names the corrections.
    b.corrected = std::max(static_cast<int>(s.Int(11)),
                           static_cast<int>(model::CorrectedInAckMessage(b.ack_message)));
    b.rekeyed = static_cast<int>(s.Int(12));
    out.push_back(std::move(b));
  }
}

absl::StatusOr<std::vector<SentReport>> StateStore::ListReports(const std::string& batch_id) {
  ASSIGN_OR_RETURN(sqlite::Statement s,
                   db_->Prepare("SELECT report_id, categories, token_count, error_code, "
                                "error_field, error_message FROM sent_reports WHERE batch_id = ? "
                                "ORDER BY position"));
  s.Bind(1, batch_id);
  std::vector<SentReport> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return out;
    SentReport r{s.Text(0), s.Text(1), static_cast<int>(s.Int(2))};
    if (!s.IsNull(3)) r.error_code = static_cast<int>(s.Int(3));
    r.error_field = s.Text(4);
    r.error_message = s.Text(5);
    out.push_back(std::move(r));
  }
}

}  // namespace samenzicht::agency_node
