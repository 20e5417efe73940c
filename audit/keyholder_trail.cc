#include "audit/keyholder_trail.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/sqlite/sqlite.h"
#include "common/status_macros.h"

namespace samenzicht::audit {

bool IsKeyholderDataDir(const std::string& data_dir) {
  std::error_code ec;
  return std::filesystem::is_regular_file(std::filesystem::path(data_dir) / kKeyholderDatabaseFileName, ec);
}

absl::StatusOr<StoredTrail> ReadKeyholderTrail(const std::string& data_dir) {
  const std::string path = (std::filesystem::path(data_dir) / kKeyholderDatabaseFileName).string();
  if (!std::filesystem::exists(path)) return absl::NotFoundError(absl::StrCat("no trail: ", path, " does not exist"));
  sqlite::OpenOptions o;
  o.label = path;
  o.read_only = true;
  o.create = false;
  ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Database> db, sqlite::Database::Open(path, o));
  return ReadStoredTrail(*db);
}

}  // namespace samenzicht::audit
