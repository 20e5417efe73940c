#include "aggregator/backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "aggregator/store.h"
#include "common/files.h"
#include "common/status_macros.h"

namespace samenzicht::aggregator {
namespace {

struct Db {
  sqlite3* db = nullptr;
  ~Db() { sqlite3_close_v2(db); }
};

bool IsCorruption(int rc) {
  rc &= 0xff;
  return rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT;
}

absl::Status Error(sqlite3* db, int rc, const std::string& path, const std::string& what) {
  std::string msg = absl::StrCat(path, ": ", what, ": ", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  if (IsCorruption(rc)) return absl::DataLossError(msg);
  return absl::InternalError(msg);
}

// A URI for sqlite3_open_v2 (SQLITE_OPEN_URI) with '%', '?' and '#' escaped.
std::string FileUri(const std::string& path, const char* query) {
  std::string out = "file:";
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return absl::StrCat(out, query);
}

absl::Status Open(const std::string& path, const std::string& name, int flags, Db* out) {
  int rc = sqlite3_open_v2(name.c_str(), &out->db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) return Error(out->db, rc, path, "cannot open");
  sqlite3_busy_timeout(out->db, 10000);
  sqlite3_extended_result_codes(out->db, 1);
  return absl::OkStatus();
}

absl::Status Exec(sqlite3* db, const std::string& path, const char* sql) {
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Error(db, rc, path, sql);
  return absl::OkStatus();
}

// The first column of the first row of `sql`.
absl::StatusOr<std::string> One(sqlite3* db, const std::string& path, const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status s = Error(db, sqlite3_extended_errcode(db), path, "cannot read");
    sqlite3_finalize(st);
    return s;
  }
  rc = sqlite3_step(st);
  std::string v;
  if (rc == SQLITE_ROW) {
    const unsigned char* t = sqlite3_column_text(st, 0);
    v = t ? reinterpret_cast<const char*>(t) : "";
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error(db, rc, path, "cannot read");
  return v;
}

absl::Status QuickCheck(sqlite3* db, const std::string& path) {
  ASSIGN_OR_RETURN(std::string verdict, One(db, path, "PRAGMA quick_check"));
  if (verdict != "ok") {
    return absl::DataLossError(
        absl::StrCat(path, ": integrity check failed: ", verdict.substr(0, 200)));
  }
  return absl::OkStatus();
}

// Schema version and row counts; FailedPrecondition when it is no aggregator database this
// release can open.
absl::StatusOr<BackupInfo> Describe(sqlite3* db, const std::string& path) {
  BackupInfo info;
  info.path = path;
  ASSIGN_OR_RETURN(std::string v, One(db, path, "PRAGMA user_version"));
  info.schema_version = std::atoll(v.c_str());
  if (info.schema_version < 1 || info.schema_version > kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, ": schema version ", info.schema_version, " is not an aggregator database this "
        "release can open (versions 1 to ", kSchemaVersion, ")"));
  }
  std::vector<std::string> tables = {"rules", "batches", "reports", "retracted"};
  if (info.schema_version <= 3) tables.push_back("tokens");  // a blob column of reports since 4
  if (info.schema_version >= 5) tables.push_back("report_ids");
  if (info.schema_version >= 2) {
    tables.push_back("audit");
    tables.push_back("settings");
  }
  for (const std::string& t : tables) {
    ASSIGN_OR_RETURN(std::string n, One(db, path, absl::StrCat(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '", t, "'")));
    if (n != "1") {
      return absl::FailedPreconditionError(
          absl::StrCat(path, ": table '", t, "' is missing: not an aggregator database"));
    }
  }
  ASSIGN_OR_RETURN(std::string pages, One(db, path, "PRAGMA page_count"));
  info.pages = std::atoll(pages.c_str());
  ASSIGN_OR_RETURN(std::string reports, One(db, path, "SELECT count(*) FROM reports"));
  info.reports = std::atoll(reports.c_str());
  ASSIGN_OR_RETURN(std::string batches, One(db, path, "SELECT count(*) FROM batches"));
  info.batches = std::atoll(batches.c_str());
  if (info.schema_version >= 2) {
    ASSIGN_OR_RETURN(std::string audit, One(db, path, "SELECT count(*) FROM audit"));
    info.audit_entries = std::atoll(audit.c_str());
  }
  return info;
}

// Copies all of `src` into `dest` in one step (one read transaction on `src`).
absl::Status Copy(sqlite3* src, sqlite3* dest, const std::string& src_path,
                  const std::string& dest_path) {
  for (int attempt = 0;; ++attempt) {
    sqlite3_backup* b = sqlite3_backup_init(dest, "main", src, "main");
    if (b == nullptr) return Error(dest, sqlite3_extended_errcode(dest), dest_path, "backup_init");
    int rc = sqlite3_backup_step(b, -1);
    int frc = sqlite3_backup_finish(b);
    if (rc == SQLITE_DONE && frc == SQLITE_OK) return absl::OkStatus();
    if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && attempt < 50) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    if (rc == SQLITE_DONE) rc = frc;
    if (IsCorruption(rc)) return Error(src, rc, src_path, "cannot read the database");
    return absl::InternalError(
        absl::StrCat(src_path, " -> ", dest_path, ": backup failed: ", sqlite3_errstr(rc)));
  }
}

absl::Status SyncFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat(path, ": cannot open: ", strerror(errno)));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return absl::InternalError(absl::StrCat(path, ": fsync: ", strerror(errno)));
  return absl::OkStatus();
}

void SyncDir(const std::string& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// Creates `path` empty with mode 0600; AlreadyExists when it exists.
absl::Status CreatePrivate(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return absl::AlreadyExistsError(absl::StrCat(path, ": already exists"));
    return absl::InternalError(absl::StrCat(path, ": cannot create: ", strerror(errno)));
  }
  ::fchmod(fd, 0600);
  ::close(fd);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<BackupInfo> BackupDatabase(const std::string& data_dir, const std::string& out) {
  if (data_dir.empty() || out.empty()) {
    return absl::InvalidArgumentError("backup needs the data folder and an output file");
  }
  const std::string src_path = (std::filesystem::path(data_dir) / kDatabaseFileName).string();
  std::error_code ec;
  if (!std::filesystem::exists(src_path, ec)) {
    return absl::NotFoundError(absl::StrCat(src_path, ": no aggregator database"));
  }
  if (std::filesystem::exists(out, ec)) {
    return absl::AlreadyExistsError(
        absl::StrCat(out, ": already exists; a backup never overwrites a file"));
  }
  const std::string tmp = absl::StrCat(out, ".partial-", ::getpid());
  struct Cleanup {
    std::string path;
    bool keep = false;
    ~Cleanup() {
      if (!keep) {
        std::error_code e;
        std::filesystem::remove(path, e);
        std::filesystem::remove(path + "-journal", e);
      }
    }
  } cleanup{tmp};
  RETURN_IF_ERROR(CreatePrivate(tmp));
  {
    Db src, dest;
    // Read-only: the backup never writes to the live database (WAL readers need the -shm
    // file, which the running server keeps).
    RETURN_IF_ERROR(Open(src_path, src_path, SQLITE_OPEN_READONLY, &src));
    RETURN_IF_ERROR(Open(tmp, tmp, SQLITE_OPEN_READWRITE, &dest));
    RETURN_IF_ERROR(Copy(src.db, dest.db, src_path, tmp));
    // One self-contained file: the copy leaves WAL mode.
    RETURN_IF_ERROR(Exec(dest.db, tmp, "PRAGMA journal_mode=DELETE"));
    RETURN_IF_ERROR(QuickCheck(dest.db, tmp));
    ASSIGN_OR_RETURN(BackupInfo info, Describe(dest.db, tmp));
    (void)info;
  }
  ::chmod(tmp.c_str(), 0600);
  RETURN_IF_ERROR(SyncFile(tmp));
  if (std::filesystem::exists(out, ec)) {
    return absl::AlreadyExistsError(absl::StrCat(out, ": appeared while the backup ran"));
  }
  if (::rename(tmp.c_str(), out.c_str()) != 0) {
    return absl::InternalError(absl::StrCat(out, ": cannot rename the backup: ", strerror(errno)));
  }
  cleanup.keep = true;
  SyncDir(std::filesystem::path(out).parent_path().string());
  Db check;
  RETURN_IF_ERROR(Open(out, FileUri(out, "?immutable=1"), SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
                       &check));
  ASSIGN_OR_RETURN(BackupInfo info, Describe(check.db, out));
  return info;
}

absl::StatusOr<BackupInfo> RestoreDatabase(const std::string& backup_file,
                                           const std::string& data_dir) {
  if (backup_file.empty() || data_dir.empty()) {
    return absl::InvalidArgumentError("restore needs a backup file and a data folder");
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(backup_file, ec)) {
    return absl::NotFoundError(absl::StrCat(backup_file, ": no such backup file"));
  }
  if (std::filesystem::exists(data_dir, ec)) {
    if (!std::filesystem::is_directory(data_dir, ec)) {
      return absl::FailedPreconditionError(absl::StrCat(data_dir, ": exists and is not a folder"));
    }
    if (!std::filesystem::is_empty(data_dir, ec)) {
      return absl::FailedPreconditionError(absl::StrCat(
          data_dir, ": is not empty; restore only into a new or empty data folder (move the "
                    "old one aside first)"));
    }
  }
  // The backup is opened immutable: nothing is written beside it.
  Db src;
  RETURN_IF_ERROR(Open(backup_file, FileUri(backup_file, "?immutable=1"),
                       SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, &src));
  if (absl::Status s = QuickCheck(src.db, backup_file); !s.ok()) {
    return absl::DataLossError(absl::StrCat("the backup is not usable: ", s.message()));
  }
  ASSIGN_OR_RETURN(BackupInfo described, Describe(src.db, backup_file));
  (void)described;

  RETURN_IF_ERROR(files::MakeDirs(data_dir));
  if (::chmod(data_dir.c_str(), 0700) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(data_dir, ": cannot be made private (chmod 700): ", strerror(errno)));
  }
  const std::string dest_path = (std::filesystem::path(data_dir) / kDatabaseFileName).string();
  RETURN_IF_ERROR(CreatePrivate(dest_path));
  {
    Db dest;
    RETURN_IF_ERROR(Open(dest_path, dest_path, SQLITE_OPEN_READWRITE, &dest));
    RETURN_IF_ERROR(Copy(src.db, dest.db, backup_file, dest_path));
    RETURN_IF_ERROR(Exec(dest.db, dest_path, "PRAGMA journal_mode=WAL"));
    RETURN_IF_ERROR(QuickCheck(dest.db, dest_path));
    RETURN_IF_ERROR(Exec(dest.db, dest_path, "PRAGMA wal_checkpoint(TRUNCATE)"));
  }
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const std::string p = dest_path + suffix;
    if (std::filesystem::exists(p, ec)) ::chmod(p.c_str(), 0600);
  }
  RETURN_IF_ERROR(SyncFile(dest_path));
  SyncDir(data_dir);
  Db check;
  RETURN_IF_ERROR(Open(dest_path, dest_path, SQLITE_OPEN_READONLY, &check));
  ASSIGN_OR_RETURN(BackupInfo info, Describe(check.db, dest_path));
  return info;
}

}  // namespace samenzicht::aggregator
