#include "aggregator/rotation.h"

#include <filesystem>
#include <map>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "aggregator/settings.h"
#include "aggregator/audit_store.h"
#include "aggregator/store/store.h"
#include "common/sqlite/sqlite.h"
#include "common/status_macros.h"
#include "crypto/key_file.h"
#include "model/config.h"

namespace samenzicht::aggregator {
namespace {

std::string Month(uint32_t m) {
  if (m == 0) return "-";
  return absl::StrCat(m / 100, "-", m % 100 < 10 ? "0" : "", m % 100);
}

}  // namespace

absl::StatusOr<KeyStatus> ReadKeyStatus(const v1::AggregatorConfig& config) {
  const std::string path = (std::filesystem::path(config.data_dir()) / kDatabaseFileName).string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return absl::NotFoundError(absl::StrCat(path, ": no database"));
  sqlite::OpenOptions options;
  options.label = path;
  options.read_only = true;
  options.no_mutex = true;
  options.busy_timeout_ms = 10000;
  ASSIGN_OR_RETURN(auto db, sqlite::Database::Open(path, options));
  // A statement that does not prepare (a table missing): not a database of this layout.
  auto query = [&](const char* sql,
                   const std::function<void(const sqlite::Statement&)>& row) -> absl::Status {
    auto st = db->Prepare(sql);
    if (!st.ok()) return absl::FailedPreconditionError(st.status().message());
    while (true) {
      ASSIGN_OR_RETURN(bool more, st->Step());
      if (!more) return absl::OkStatus();
      row(*st);
    }
  };
  int64_t version = 0;
  RETURN_IF_ERROR(
      query("PRAGMA user_version", [&](const sqlite::Statement& st) { version = st.Int(0); }));
  std::map<std::string, std::string> settings;
  if (version >= 2) {
    RETURN_IF_ERROR(query("SELECT name, value FROM settings", [&](const sqlite::Statement& st) {
      settings[st.Text(0)] = st.Text(1);
    }));
  }
  KeyStatus s;
  s.key_epoch = EffectiveSettings(config, settings).key_epoch();
  s.previous_key_epoch = config.previous_key_epoch();
  s.switchover_month = config.key_switchover_month();
  const char* sql =
      version >= 4
          ? "SELECT r.agency, r.key_epoch, count(*), sum(length(r.tokens) > 0) FROM reports r "
            "GROUP BY r.agency, r.key_epoch ORDER BY 1, 2"
      : version == 3
          ? "SELECT r.agency, r.key_epoch, count(*), sum(EXISTS (SELECT 1 FROM tokens t WHERE "
            "t.report = r.id)) FROM reports r GROUP BY r.agency, r.key_epoch ORDER BY 1, 2"
          : "SELECT r.agency, 0, count(*), sum(EXISTS (SELECT 1 FROM tokens t WHERE t.report = "
            "r.id)) FROM reports r GROUP BY r.agency ORDER BY 1";
  RETURN_IF_ERROR(query(sql, [&](const sqlite::Statement& st) {
    EpochCount c;
    c.agency = st.Text(0);
    c.epoch = static_cast<uint32_t>(st.Int(1));
    c.reports = st.Int(2);
    c.linkable = st.Int(3);
    if (c.epoch < s.key_epoch) {
      s.old_epoch_reports += c.reports;
      s.old_epoch_linkable += c.linkable;
    }
    s.counts.push_back(std::move(c));
  }));
  return s;
}

std::string FormatKeyStatus(const KeyStatus& s) {
  std::ostringstream o;
  o << "key epoch in force: " << s.key_epoch << "\n";
  if (s.previous_key_epoch != 0) {
    o << "previous epoch accepted: " << s.previous_key_epoch << " until the switch-over month "
      << Month(s.switchover_month) << " begins\n";
  }
  o << "agency\tepoch\treports\tlinkable\tstate\n";
  for (const EpochCount& c : s.counts) {
    std::string state;
    if (c.epoch == s.key_epoch) {
      state = "current";
    } else if (c.epoch > s.key_epoch) {
      state = "newer than the epoch in force";
    } else if (c.linkable == 0) {
      state = "retired (unlinkable, counted as signals)";
    } else {
      state = "OLD: re-send under the new epoch, or retire after the switch-over";
    }
    o << c.agency << "\t" << c.epoch << "\t" << c.reports << "\t" << c.linkable << "\t" << state
      << "\n";
  }
  o << "reports below epoch " << s.key_epoch << ": " << s.old_epoch_reports << " (with tokens: "
    << s.old_epoch_linkable << ")\n";
  return o.str();
}

absl::StatusOr<RetireResult> RetireOldEpochsOffline(const v1::AggregatorConfig& config,
                                                    uint32_t now_month) {
  if (config.key_switchover_month() != 0 && now_month < config.key_switchover_month()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the switch-over month ", Month(config.key_switchover_month()),
        " has not begun; nodes may still re-send under the new epoch"));
  }
  ASSIGN_OR_RETURN(AuditedStore opened, OpenAuditedStore(config));
  Store* store = opened.store.get();
  ASSIGN_OR_RETURN(auto stored, store->LoadSettings());
  const uint32_t epoch = EffectiveSettings(config, stored).key_epoch();
  if (epoch <= 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("the key epoch in force is ", epoch, ": there is no older epoch to retire"));
  }
  RetireResult r;
  r.before_epoch = epoch;
  ASSIGN_OR_RETURN(auto counts, store->RetireKeyEpochsBefore(epoch, "aggregator key-retire"));
  r.reports = counts.first;
  r.tokens = counts.second;
  RETURN_IF_ERROR(store->ReclaimSpace());
  RETURN_IF_ERROR(store->WriteCheckpoint().status());
  return r;
}

}  // namespace samenzicht::aggregator
