#include "agency_node/web/intake_store.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace samenzicht::agency_node::web {
namespace {

const std::vector<sqlite::Migration> kMigrations = {
    {1,
     "CREATE TABLE accounts(name TEXT PRIMARY KEY, password_hash TEXT NOT NULL,"
     "  role TEXT NOT NULL CHECK (role IN ('professional', 'operator')), created INTEGER NOT NULL);"
     "CREATE TABLE signals(reference TEXT PRIMARY KEY, account TEXT NOT NULL,"
     "  record_id TEXT NOT NULL UNIQUE, state TEXT NOT NULL, created INTEGER NOT NULL,"
     "  updated INTEGER NOT NULL, categories TEXT NOT NULL, identifiers BLOB);"
     "CREATE INDEX signals_by_account ON signals(account, created);"},
    // The tokens a signal was last sent with; '' (before this version): sent again once.
    {2, "ALTER TABLE signals ADD COLUMN sent_as TEXT NOT NULL DEFAULT '';"},
};

constexpr char kSignalColumns[] =
    "reference, account, record_id, state, created, updated, categories, identifiers, sent_as";

IntakeSignal ReadSignal(const sqlite::Statement& st) {
  IntakeSignal s;
  s.reference = st.Text(0);
  s.account = st.Text(1);
  s.record_id = st.Text(2);
  s.state = st.Text(3);
  s.created_unix = st.Int(4);
  s.updated_unix = st.Int(5);
  s.categories = st.Text(6);
  s.has_identifiers = !st.IsNull(7);
  if (s.has_identifiers) s.sealed_identifiers = st.Blob(7);
  s.sent_as = st.Text(8);
  return s;
}

// Every row of `st`, a SELECT of kSignalColumns.
absl::StatusOr<std::vector<IntakeSignal>> ReadSignals(sqlite::Statement& st) {
  std::vector<IntakeSignal> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back(ReadSignal(st));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<IntakeStore>> IntakeStore::Open(const std::string& state_dir) {
  if (state_dir.empty()) return absl::InvalidArgumentError("state_dir is not set in the node config");
  sqlite::OpenOptions o;
  o.label = "intake page";
  o.file_mode = 0600;
  o.pragmas = {"journal_mode=WAL", "synchronous=FULL", "secure_delete=ON"};
  ASSIGN_OR_RETURN(auto db, sqlite::Database::Open(
                                absl::StrCat(state_dir, "/", kIntakeDatabaseFileName), o));
  RETURN_IF_ERROR(sqlite::Migrate(*db, kMigrations));
  return std::unique_ptr<IntakeStore>(new IntakeStore(std::move(db)));
}

absl::Status IntakeStore::AddAccount(const Account& a) {
  ASSIGN_OR_RETURN(auto st, db_->Prepare(
      "INSERT INTO accounts(name, password_hash, role, created) VALUES (?, ?, ?, ?)"));
  absl::Status s = st.Bind(1, a.name).Bind(2, a.password_hash).Bind(3, a.role)
                       .Bind(4, a.created_unix).Run();
  if (absl::IsAlreadyExists(s)) {
    return absl::AlreadyExistsError(absl::StrCat("account ", a.name, " already exists"));
  }
  return s;
}

absl::Status IntakeStore::RemoveAccount(const std::string& name) {
  ASSIGN_OR_RETURN(auto st, db_->Prepare("DELETE FROM accounts WHERE name = ?"));
  RETURN_IF_ERROR(st.Bind(1, name).Run());
  if (db_->Changes() == 0) return absl::NotFoundError(absl::StrCat("no account ", name));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Account>> IntakeStore::ListAccounts() {
  ASSIGN_OR_RETURN(auto st, db_->Prepare(
      "SELECT name, password_hash, role, created FROM accounts ORDER BY name"));
  std::vector<Account> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back({st.Text(0), st.Text(1), st.Text(2), st.Int(3)});
  }
  return out;
}

absl::StatusOr<std::optional<Account>> IntakeStore::FindAccount(const std::string& name) {
  ASSIGN_OR_RETURN(auto st, db_->Prepare(
      "SELECT name, password_hash, role, created FROM accounts WHERE name = ?"));
  st.Bind(1, name);
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<Account>();
  return std::optional<Account>(Account{st.Text(0), st.Text(1), st.Text(2), st.Int(3)});
}

absl::Status IntakeStore::AddSignal(const IntakeSignal& s) {
  ASSIGN_OR_RETURN(auto st, db_->Prepare(absl::StrCat(
      "INSERT INTO signals(", kSignalColumns, ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")));
  st.Bind(1, s.reference).Bind(2, s.account).Bind(3, s.record_id).Bind(4, s.state)
      .Bind(5, s.created_unix).Bind(6, s.updated_unix).Bind(7, s.categories);
  if (s.sealed_identifiers.empty()) st.BindNull(8);
  else st.BindBlob(8, s.sealed_identifiers);
  st.Bind(9, s.sent_as);
  return st.Run();
}

absl::StatusOr<IntakeSignal> IntakeStore::GetSignal(const std::string& reference) {
  ASSIGN_OR_RETURN(auto st, db_->Prepare(absl::StrCat(
      "SELECT ", kSignalColumns, " FROM signals WHERE reference = ?")));
  st.Bind(1, reference);
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return absl::NotFoundError("no signal with this reference");
  return ReadSignal(st);
}

absl::StatusOr<std::vector<IntakeSignal>> IntakeStore::ListSignals(const std::string& account) {
  ASSIGN_OR_RETURN(auto st, db_->Prepare(absl::StrCat(
      "SELECT ", kSignalColumns, " FROM signals WHERE account = ? ORDER BY created DESC, rowid DESC")));
  st.Bind(1, account);
  return ReadSignals(st);
}

absl::Status IntakeStore::UpdateCategories(const std::string& reference,
                                           const std::string& categories, int64_t now) {
  ASSIGN_OR_RETURN(auto st, db_->Prepare(
      "UPDATE signals SET categories = ?, updated = ? WHERE reference = ?"));
  RETURN_IF_ERROR(st.Bind(1, categories).Bind(2, now).Bind(3, reference).Run());
  if (db_->Changes() == 0) return absl::NotFoundError("no signal with this reference");
  return absl::OkStatus();
}

absl::Status IntakeStore::MarkSentAs(const std::string& reference, const std::string& sent_as) {
  ASSIGN_OR_RETURN(auto st, db_->Prepare("UPDATE signals SET sent_as = ? WHERE reference = ?"));
  RETURN_IF_ERROR(st.Bind(1, sent_as).Bind(2, reference).Run());
  if (db_->Changes() == 0) return absl::NotFoundError("no signal with this reference");
  return absl::OkStatus();
}

absl::StatusOr<std::vector<IntakeSignal>> IntakeStore::SignalsToResend(const std::string& sent_as) {
  ASSIGN_OR_RETURN(auto st, db_->Prepare(absl::StrCat(
      "SELECT ", kSignalColumns, " FROM signals WHERE state = 'sent' AND identifiers IS NOT NULL "
      "AND sent_as != ? ORDER BY created, rowid")));
  st.Bind(1, sent_as);
  return ReadSignals(st);
}

absl::Status IntakeStore::MarkWithdrawn(const std::string& reference, int64_t now) {
  ASSIGN_OR_RETURN(auto st, db_->Prepare(
      "UPDATE signals SET state = 'withdrawn', identifiers = NULL, updated = ? WHERE reference = ?"));
  RETURN_IF_ERROR(st.Bind(1, now).Bind(2, reference).Run());
  if (db_->Changes() == 0) return absl::NotFoundError("no signal with this reference");
  return absl::OkStatus();
}

absl::StatusOr<int64_t> IntakeStore::PurgeIdentifiers(int64_t cutoff) {
  ASSIGN_OR_RETURN(auto st, db_->Prepare(
      "UPDATE signals SET identifiers = NULL WHERE identifiers IS NOT NULL AND updated < ?"));
  RETURN_IF_ERROR(st.Bind(1, cutoff).Run());
  return db_->Changes();
}

}  // namespace samenzicht::agency_node::web
