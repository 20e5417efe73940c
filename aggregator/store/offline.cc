#include "aggregator/store/offline.h"

#include <cstdlib>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "aggregator/store/sealed_rows.h"
#include "aggregator/store/store.h"
#include "common/status_macros.h"
#include "crypto/encoding.h"
#include "crypto/row_seal.h"

namespace samenzicht::aggregator {
namespace {

// `sql` prepared; a statement that does not prepare (a table missing) means the file is not
// a database of this layout: FailedPrecondition.
absl::StatusOr<sqlite::Statement> PrepareOrNotOurs(sqlite::Database& db, const std::string& sql) {
  auto st = db.Prepare(sql);
  if (!st.ok()) return absl::FailedPreconditionError(st.status().message());
  return st;
}

// The first column of the first row of `sql` ("" when there is no row).
absl::StatusOr<std::string> One(sqlite::Database& db, const std::string& sql) {
  ASSIGN_OR_RETURN(sqlite::Statement st, db.Prepare(sql));
  ASSIGN_OR_RETURN(bool row, st.Step());
  std::string value;
  if (row) value = st.Text(0);
  return value;
}

}  // namespace

absl::StatusOr<std::unique_ptr<sqlite::Database>> OpenDatabaseReadOnly(
    const std::string& data_dir) {
  const std::string path = (std::filesystem::path(data_dir) / kDatabaseFileName).string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return absl::NotFoundError(absl::StrCat(path, ": no aggregator database here"));
  }
  sqlite::OpenOptions options;
  options.label = path;
  options.read_only = true;
  options.busy_timeout_ms = 10000;
  return sqlite::Database::Open(path, options);
}

absl::StatusOr<std::map<std::string, std::string>> ReadStoredSettings(sqlite::Database& db) {
  std::map<std::string, std::string> settings;
  ASSIGN_OR_RETURN(int64_t version, db.UserVersion());
  if (version < 2) return settings;
  ASSIGN_OR_RETURN(sqlite::Statement st, PrepareOrNotOurs(db, "SELECT name, value FROM settings"));
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return settings;
    settings[st.Text(0)] = st.Text(1);
  }
}

absl::StatusOr<std::vector<StoredEpochCount>> ReadEpochCounts(sqlite::Database& db) {
  ASSIGN_OR_RETURN(int64_t version, db.UserVersion());
  const char* sql =
      version >= 4
          ? "SELECT r.agency, r.key_epoch, count(*), sum(length(r.tokens) > 0) FROM reports r "
            "GROUP BY r.agency, r.key_epoch ORDER BY 1, 2"
      : version == 3
          ? "SELECT r.agency, r.key_epoch, count(*), sum(EXISTS (SELECT 1 FROM tokens t WHERE "
            "t.report = r.id)) FROM reports r GROUP BY r.agency, r.key_epoch ORDER BY 1, 2"
          : "SELECT r.agency, 0, count(*), sum(EXISTS (SELECT 1 FROM tokens t WHERE t.report = "
            "r.id)) FROM reports r GROUP BY r.agency ORDER BY 1";
  ASSIGN_OR_RETURN(sqlite::Statement st, PrepareOrNotOurs(db, sql));
  std::vector<StoredEpochCount> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return out;
    StoredEpochCount c;
    c.agency = st.Text(0);
    c.epoch = static_cast<uint32_t>(st.Int(1));
    c.reports = st.Int(2);
    c.linkable = st.Int(3);
    out.push_back(std::move(c));
  }
}

absl::StatusOr<StoredTrail> ReadAuditTrail(sqlite::Database& db) {
  absl::StatusOr<StoredTrail> t = audit::ReadStoredTrail(db);
  if (!t.ok() && absl::StrContains(t.status().message(), "no such table")) {
    return absl::FailedPreconditionError(absl::StrCat(
        db.label(), ": has no audit trail (made by an older aggregator that kept none)"));
  }
  return t;
}

absl::Status ForEachReportTokens(
    sqlite::Database& db, const crypto::SecretBytes& store_key,
    const std::function<void(const std::string& agency, std::string_view tokens)>& each) {
  ASSIGN_OR_RETURN(int64_t version, db.UserVersion());
  const bool sealed = version >= 8;  // before, the tokens were stored as they are opened here
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::RowSealer> sealer, crypto::RowSealer::New(store_key));
  ASSIGN_OR_RETURN(sqlite::Statement st,
                   db.Prepare(sealed ? "SELECT agency, tokens, id, key_epoch FROM reports"
                                     : "SELECT agency, tokens FROM reports"));
  std::string blob;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return absl::OkStatus();
    const std::string agency = st.Text(0);
    if (sealed) {
      const RowPlace place{st.Int(2), agency, 0, static_cast<uint32_t>(st.Int(3))};
      RETURN_IF_ERROR(OpenTokens(*sealer, place, st.Blob(1), &blob));
    } else {
      blob = st.Blob(1);
    }
    each(agency, blob);
  }
}

absl::StatusOr<DatabaseFileInfo> DescribeDatabase(sqlite::Database& db) {
  const std::string& path = db.label();
  DatabaseFileInfo info;
  ASSIGN_OR_RETURN(std::string v, One(db, "PRAGMA user_version"));
  info.schema_version = std::atoll(v.c_str());
  if (info.schema_version < 1 || info.schema_version > kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": schema version ",
                                                      info.schema_version,
                                                      " is not an aggregator database this "
                                                      "release can open (versions 1 to ",
                                                      kSchemaVersion, ")"));
  }
  // The tables every version must have (schema.cc).
  std::vector<std::string> tables = {"rules", "batches", "reports", "retracted"};
  if (info.schema_version <= 3) tables.push_back("tokens");  // a blob column of reports since 4
  if (info.schema_version >= 5) tables.push_back("report_ids");
  if (info.schema_version >= 2) {
    tables.push_back("audit");
    tables.push_back("settings");
  }
  for (const std::string& t : tables) {
    ASSIGN_OR_RETURN(
        std::string n,
        One(db, absl::StrCat("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '",
                             t, "'")));
    if (n != "1") {
      return absl::FailedPreconditionError(
          absl::StrCat(path, ": table '", t, "' is missing: not an aggregator database"));
    }
  }
  ASSIGN_OR_RETURN(std::string pages, One(db, "PRAGMA page_count"));
  info.pages = std::atoll(pages.c_str());
  ASSIGN_OR_RETURN(std::string reports, One(db, "SELECT count(*) FROM reports"));
  info.reports = std::atoll(reports.c_str());
  ASSIGN_OR_RETURN(std::string batches, One(db, "SELECT count(*) FROM batches"));
  info.batches = std::atoll(batches.c_str());
  if (info.schema_version >= 2) {
    ASSIGN_OR_RETURN(std::string audit, One(db, "SELECT count(*) FROM audit"));
    info.audit_entries = std::atoll(audit.c_str());
  }
  return info;
}

absl::Status WriteSettingsUnaudited(sqlite::Database& db,
                                    const std::map<std::string, std::string>& settings) {
  ASSIGN_OR_RETURN(int64_t version, db.UserVersion());
  if (version < 2 || settings.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(
      sqlite::Statement st,
      PrepareOrNotOurs(db, "INSERT OR REPLACE INTO settings(name, value) VALUES (?1, ?2)"));
  ASSIGN_OR_RETURN(sqlite::Transaction tx, sqlite::Transaction::Begin(db));
  for (const auto& [name, value] : settings) {
    st.Reset();
    st.Bind(1, name).Bind(2, value);
    RETURN_IF_ERROR(st.Run());
  }
  return tx.Commit();
}

}  // namespace samenzicht::aggregator
