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

uint64_t DetailCount(const std::string& details, const std::string& key) {
  const std::string needle = absl::StrCat("\"", key, "\":");
  size_t p = details.find(needle);
  if (p == std::string::npos) return 0;
  p += needle.size();
  uint64_t v = 0;
  while (p < details.size() && details[p] >= '0' && details[p] <= '9') v = v * 10 + (details[p++] - '0');
  return v;
}

std::vector<KeyholderCount> KeyholderCounts(const std::vector<Entry>& entries) {
  std::vector<KeyholderCount> out;
  for (const Entry& e : entries) {
    KeyholderCount c;
    c.time_ms = e.time_ms;
    c.node = e.actor;
    c.epoch = static_cast<uint32_t>(DetailCount(e.details, "epoch"));
    if (e.event == "evaluation") {
      c.evaluations = DetailCount(e.details, "evaluations");
    } else if (e.event == "limit_refused_repeated") {
      c.time_ms = static_cast<int64_t>(DetailCount(e.details, "first_ms"));
      c.refused_calls = DetailCount(e.details, "refused_calls");
    } else if (e.event == "limit_refused" || e.event == "permission_denied" || e.event == "receipt_refused") {
      c.refused_calls = 1;
    } else {
      continue;
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace samenzicht::audit
