#include "aggregator/admin/backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "aggregator/admin/audited_store.h"
#include "aggregator/admin/settings.h"
#include "aggregator/store/offline.h"
#include "aggregator/store/store.h"
#include "audit/aggregator_events.h"
#include "common/files.h"
#include "common/sqlite/sqlite.h"
#include "common/status_macros.h"

namespace samenzicht::aggregator {
namespace {

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

// `name` is `path`, or a "file:" URI of it (FileUri).
absl::StatusOr<std::unique_ptr<sqlite::Database>> Open(const std::string& path,
                                                       const std::string& name, bool read_only) {
  sqlite::OpenOptions options;
  options.label = path;
  options.read_only = read_only;
  options.create = false;
  options.no_mutex = true;
  options.uri = name != path;
  options.busy_timeout_ms = 10000;
  return sqlite::Database::Open(name, options);
}

absl::Status QuickCheck(sqlite::Database& db) {
  const std::string& path = db.label();
  ASSIGN_OR_RETURN(sqlite::Statement st, db.Prepare("PRAGMA quick_check"));
  ASSIGN_OR_RETURN(bool row, st.Step());
  const std::string verdict = row ? st.Text(0) : "";
  if (verdict != "ok") {
    return absl::DataLossError(
        absl::StrCat(path, ": integrity check failed: ", verdict.substr(0, 200)));
  }
  return absl::OkStatus();
}

// Schema version and row counts (DescribeDatabase); FailedPrecondition when it is no
// aggregator database this release can open.
absl::StatusOr<BackupInfo> Describe(sqlite::Database& db) {
  ASSIGN_OR_RETURN(DatabaseFileInfo d, DescribeDatabase(db));
  BackupInfo info;
  info.path = db.label();
  info.schema_version = d.schema_version;
  info.pages = d.pages;
  info.reports = d.reports;
  info.batches = d.batches;
  info.audit_entries = d.audit_entries;
  return info;
}

// Copies all of `src` into `dest` in one step (one read transaction on `src`).
absl::Status Copy(sqlite::Database& src, sqlite::Database& dest) {
  for (int attempt = 0;; ++attempt) {
    sqlite3_backup* b = sqlite3_backup_init(dest.handle(), "main", src.handle(), "main");
    if (b == nullptr) return dest.LastError("backup_init");
    int rc = sqlite3_backup_step(b, -1);
    int frc = sqlite3_backup_finish(b);
    if (rc == SQLITE_DONE && frc == SQLITE_OK) return absl::OkStatus();
    if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && attempt < 50) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    if (rc == SQLITE_DONE) rc = frc;
    if (sqlite::CodeFromSqlite(rc) == absl::StatusCode::kDataLoss) {
      return src.Error(rc, "cannot read the database");
    }
    return sqlite::StatusFromSqlite(rc, absl::StrCat(src.label(), " -> ", dest.label(),
                                                     ": backup failed: ", sqlite3_errstr(rc)));
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
    // Read-only: the backup never writes to the live database (WAL readers need the -shm
    // file, which the running server keeps).
    ASSIGN_OR_RETURN(auto src, Open(src_path, src_path, /*read_only=*/true));
    ASSIGN_OR_RETURN(auto dest, Open(tmp, tmp, /*read_only=*/false));
    RETURN_IF_ERROR(Copy(*src, *dest));
    // One self-contained file: the copy leaves WAL mode.
    RETURN_IF_ERROR(dest->Exec("PRAGMA journal_mode=DELETE"));
    RETURN_IF_ERROR(QuickCheck(*dest));
    ASSIGN_OR_RETURN(BackupInfo info, Describe(*dest));
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
  ASSIGN_OR_RETURN(auto check, Open(out, FileUri(out, "?immutable=1"), /*read_only=*/true));
  return Describe(*check);
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
      return absl::FailedPreconditionError(
          absl::StrCat(data_dir,
                       ": is not empty; restore only into a new or empty data folder (move the "
                       "old one aside first)"));
    }
  }
  // The backup is opened immutable: nothing is written beside it.
  ASSIGN_OR_RETURN(auto src,
                   Open(backup_file, FileUri(backup_file, "?immutable=1"), /*read_only=*/true));
  if (absl::Status s = QuickCheck(*src); !s.ok()) {
    return absl::DataLossError(absl::StrCat("the backup is not usable: ", s.message()));
  }
  ASSIGN_OR_RETURN(BackupInfo described, Describe(*src));

  RETURN_IF_ERROR(files::MakeDirs(data_dir));
  if (::chmod(data_dir.c_str(), 0700) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(data_dir, ": cannot be made private (chmod 700): ", strerror(errno)));
  }
  const std::string dest_path = (std::filesystem::path(data_dir) / kDatabaseFileName).string();
  RETURN_IF_ERROR(CreatePrivate(dest_path));
  // A restore that fails leaves no database behind (the folder was empty): nothing half
  // written, and no note of a restore that did not happen.
  struct RemoveUnlessDone {
    std::string path;
    bool done = false;
    ~RemoveUnlessDone() {
      if (done) return;
      std::error_code e;
      for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
        std::filesystem::remove(path + suffix, e);
      }
    }
  } partial{dest_path};
  {
    ASSIGN_OR_RETURN(auto dest, Open(dest_path, dest_path, /*read_only=*/false));
    RETURN_IF_ERROR(Copy(*src, *dest));
    // The restore is recorded in the restored trail by the first server start (it holds
    // the audit key; this command needs none): Administration::Start.
    if (described.schema_version >= 2) {
      RestoreEvent d{.request = OperatorRequest("restore", absl::OkStatus()),
                     .backup_file = backup_file};
      d.restored_unix = static_cast<int64_t>(::time(nullptr));
      RETURN_IF_ERROR(
          WriteSettingsUnaudited(*dest, {{kSettingPendingRestore, d.ToJson()},
                                         {kSettingPendingRestoreOperator, LocalOperator()}}));
    }
    RETURN_IF_ERROR(dest->Exec("PRAGMA journal_mode=WAL"));
    RETURN_IF_ERROR(QuickCheck(*dest));
    RETURN_IF_ERROR(dest->Exec("PRAGMA wal_checkpoint(TRUNCATE)"));
  }
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const std::string p = dest_path + suffix;
    if (std::filesystem::exists(p, ec)) ::chmod(p.c_str(), 0600);
  }
  RETURN_IF_ERROR(SyncFile(dest_path));
  SyncDir(data_dir);
  absl::StatusOr<BackupInfo> restored;
  {
    ASSIGN_OR_RETURN(auto check, Open(dest_path, dest_path, /*read_only=*/true));
    restored = Describe(*check);
  }
  partial.done = restored.ok();
  return restored;
}

}  // namespace samenzicht::aggregator
